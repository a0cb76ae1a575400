#[tokio::main]
async fn main() -> std::process::ExitCode {
    capi_bridge::cli::run().await
}
