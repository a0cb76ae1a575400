//! Waiting for what a background process does (a separate `capi-bridge serve`, a browser),
//! where a test cannot drive it pass by pass.

/// Polls `check` every 50 ms until it gives `Some`, for at most `timeout`; panics with
/// `what` and the last state otherwise.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: std::time::Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match check().await {
            Ok(v) => return v,
            Err(state) => assert!(
                std::time::Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {what}: {state}"
            ),
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
