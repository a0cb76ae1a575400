//! The HTTP plumbing every platform client shares: the client's settings, `Retry-After`, and
//! how a failed request is described (never with a token: tokens travel in bodies or headers).

use std::time::Duration;

/// How a transport failure's message starts when the platform did not answer in time.
pub const TIMEOUT: &str = "timeout";

/// A client for one platform: `timeout` per request, connections kept a minute.
pub fn client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .pool_idle_timeout(Duration::from_secs(60))
        .user_agent(concat!("capi-bridge/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// The answer's `Retry-After` in seconds (a day at most).
pub fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(86_400)))
}

/// A request that got no answer: timeout, connection failure, or another transport error.
/// reqwest's Display names the URL, which holds no secret.
pub fn transport_message(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        TIMEOUT
    } else if e.is_connect() {
        "connection failed"
    } else {
        "transport error"
    };
    format!("{kind}: {e}")
}
