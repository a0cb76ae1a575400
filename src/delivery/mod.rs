//! Delivery: the worker that drains the outbox (`worker`), what it sends (`plan`), what a
//! platform's answer does (`outcome`) and the retry schedule; the platforms themselves are in
//! `crate::platforms`.

pub mod outcome;
pub mod plan;
mod report;
pub mod retry;
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
    pub concurrency: usize,
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
