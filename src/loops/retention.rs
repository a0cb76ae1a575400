//! Deletes what is past its retention: clicks, events and conversions (`CLICK_RETENTION`,
//! `EVENT_RETENTION`) and Meta's quality figures (`META_QUALITY_RETENTION`).

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;

use crate::storage::{meta_quality, privacy};

pub const PERIOD: Duration = Duration::from_secs(600);
/// Rows per statement, so a large backlog never holds one long transaction.
const BATCH: i64 = 1000;

pub struct Retention {
    pub pool: PgPool,
    pub clicks: Duration,
    pub events: Duration,
    pub meta_quality: Duration,
}

impl Retention {
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        super::every(PERIOD, shutdown, || self.pass()).await;
    }

    /// One pass: each table past its retention, errors logged (the next pass tries again).
    pub async fn pass(&self) {
        match privacy::apply_retention(&self.pool, self.clicks, self.events, BATCH).await {
            Ok(r) if r != privacy::RetentionReport::default() => {
                tracing::info!(?r, "retention applied")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention pass failed"),
        }
        if let Err(e) = meta_quality::apply_retention(&self.pool, self.meta_quality, BATCH).await {
            tracing::warn!(error = %e, "Meta quality retention failed");
        }
    }
}
