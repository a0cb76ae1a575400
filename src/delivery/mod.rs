//! Delivery: the worker that claims and sends (`worker`), the sender that runs it without
//! waiting for slow requests (`sender`), the requests in flight and what a claim may take
//! (`inflight`), what it sends (`plan`), what a platform's answer does (`outcome`) and the retry
//! schedule; the platforms themselves are in `crate::platforms`.

pub mod inflight;
pub mod outcome;
pub mod plan;
mod report;
pub mod retry;
mod running;
pub mod sender;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::Notify;

use crate::metrics::Metrics;
use crate::platforms::Platforms;
use crate::secrets::TokenCipher;
use crate::storage::campaign_cache::CampaignCache;

pub use report::TickReport;
pub use retry::RetryPolicy;
pub use worker::DeliveryWorker;

/// How the worker batches, paces and times out (from the configuration).
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub batch_max: usize,
    /// Requests in flight at once per platform.
    pub concurrency: usize,
    /// Requests in flight at once per campaign and platform.
    pub target_concurrency: usize,
    pub poll_interval: Duration,
    pub request_timeout: Duration,
    pub unmatched_grace: Duration,
    pub batch_window: Duration,
}

/// What the worker works with, shared with the rest of the process.
pub struct WorkerDeps {
    pub pool: PgPool,
    pub platforms: Platforms,
    pub policy: RetryPolicy,
    pub campaigns: Arc<CampaignCache>,
    pub metrics: Arc<Metrics>,
    pub cipher: TokenCipher,
    /// Notified when an event is committed.
    pub signal: Arc<Notify>,
}
