// glibc's allocator spent about a sixth of the server's CPU under click load (requests are
// allocated on the HTTP threads and freed on the writer's, which its arenas handle poorly).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    return_memory_promptly();
    capi_bridge::cli::run().await
}

/// mimalloc hands freed pages back to the system a second after they fall free; under load
/// that kept tens of megabytes resident that were no longer used. The service promises a small,
/// steady footprint (the bench checks <= 100 MB under load), so memory goes back at once; the
/// other half of this, arenas committed only as used, is compiled in (.cargo/config.toml).
fn return_memory_promptly() {
    // The option's number in mimalloc v3's `mi_option_e` (mimalloc.h); the C API keeps these
    // fixed, leaving retired options in place as `deprecated_*` entries.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 14;
    // SAFETY: mi_option_set only stores a value that the allocator reads on later decisions;
    // it is safe to call at any time, from any thread.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
}
