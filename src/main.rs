// glibc's allocator spent about a sixth of the server's CPU under click load (requests are
// allocated on the HTTP threads and freed on the writer's, which its arenas handle poorly).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    capi_bridge::cli::run().await
}
