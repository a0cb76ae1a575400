//! Forgets idle entries of the per-address limits (click rate, click budget, failed sign-ins),
//! so their memory follows the active clients.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::state::AppState;

pub const PERIOD: Duration = Duration::from_secs(60);

pub async fn run(state: Arc<AppState>, shutdown: watch::Receiver<bool>) {
    super::every(PERIOD, shutdown, || {
        state.prune_limits();
        std::future::ready(())
    })
    .await;
}
