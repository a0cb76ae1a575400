//! Fails imports whose process died (kill -9, a crash), so they show failed with how far they
//! got. Several `serve` processes may share a database (delivery is lease-based), so an import
//! counts as interrupted only once its heartbeat is `STALE_AFTER` old, never merely because this
//! process has just started.

use sqlx::PgPool;
use tokio::sync::watch;

use crate::ingest::import::{HEARTBEAT, INTERRUPTED, STALE_AFTER};
use crate::storage::imports;

pub async fn run(pool: PgPool, shutdown: watch::Receiver<bool>) {
    super::every(HEARTBEAT * 2, shutdown, || pass(&pool)).await;
}

/// One pass: marks the stale imports failed; how many.
pub async fn pass(pool: &PgPool) -> u64 {
    match imports::fail_stale(pool, STALE_AFTER, INTERRUPTED).await {
        Ok(0) => 0,
        Ok(n) => {
            tracing::warn!(imports = n, "interrupted imports marked failed");
            n
        }
        Err(e) => {
            tracing::warn!(error = %e, "checking for interrupted imports failed");
            0
        }
    }
}
