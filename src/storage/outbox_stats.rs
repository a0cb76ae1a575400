//! Counts for the metrics gauges, read at scrape time so every process reports the same truth.

use sqlx::PgPool;

use crate::domain::{DeliveryStatus, EventState, PlatformKind};

/// The outbox at one moment.
pub struct OutboxStats {
    pub events: Vec<(PlatformKind, EventState, i64)>,
    /// Conversions by their state as the admin API shows it (the least advanced of their
    /// events'), each counted once.
    pub conversions: Vec<(DeliveryStatus, i64)>,
    /// Events waiting to be delivered, per platform that has any.
    pub pending: Vec<Pending>,
}

impl OutboxStats {
    /// Events waiting on every platform.
    pub fn depth(&self) -> i64 {
        self.pending.iter().map(|p| p.depth).sum()
    }

    /// Age of the oldest event waiting on any platform, in seconds.
    pub fn oldest_pending_seconds(&self) -> Option<f64> {
        self.pending
            .iter()
            .filter_map(|p| p.oldest_seconds)
            .reduce(f64::max)
    }
}

pub struct Pending {
    pub platform: PlatformKind,
    pub depth: i64,
    /// Age of the oldest of them, in seconds.
    pub oldest_seconds: Option<f64>,
}

pub async fn read(pool: &PgPool) -> Result<OutboxStats, sqlx::Error> {
    let events = sqlx::query!(
        r#"SELECT platform AS "platform: PlatformKind", state AS "state: EventState",
            count(*) AS "n!"
         FROM events GROUP BY platform, state"#
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.platform, r.state, r.n))
    .collect();
    let conversions = sqlx::query!(
        r#"SELECT COALESCE(d.state, c.state) AS "state!: DeliveryStatus", count(*) AS "n!"
         FROM conversions c LEFT JOIN (
             SELECT conversion_id, least_advanced_state(state, failure_class) AS state FROM events
             GROUP BY conversion_id) d ON d.conversion_id = c.id
         GROUP BY 1"#
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.state, r.n))
    .collect();
    let pending = sqlx::query_as!(
        Pending,
        r#"SELECT platform AS "platform: PlatformKind", count(*) AS "depth!",
            EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS oldest_seconds
         FROM events WHERE state = 'pending' GROUP BY platform"#
    )
    .fetch_all(pool)
    .await?;
    Ok(OutboxStats {
        events,
        conversions,
        pending,
    })
}
