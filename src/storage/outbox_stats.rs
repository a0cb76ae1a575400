//! Counts for the metrics gauges, read at scrape time so every process reports the same truth.

use sqlx::PgPool;

use crate::domain::{DeliveryStatus, EventState};

/// The outbox at one moment.
pub struct OutboxStats {
    pub events: Vec<(EventState, i64)>,
    /// Conversions by their state as the admin API shows it.
    pub conversions: Vec<(DeliveryStatus, i64)>,
    /// Events waiting to be delivered.
    pub depth: i64,
    /// Age of the oldest of them, in seconds.
    pub oldest_pending_seconds: Option<f64>,
}

pub async fn read(pool: &PgPool) -> Result<OutboxStats, sqlx::Error> {
    let events = sqlx::query!(
        r#"SELECT state AS "state: EventState", count(*) AS "n!" FROM events GROUP BY state"#
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.state, r.n))
    .collect();
    let conversions = sqlx::query!(
        r#"SELECT COALESCE(e.state, c.state) AS "state!: DeliveryStatus", count(*) AS "n!"
         FROM conversions c LEFT JOIN events e ON e.conversion_id = c.id GROUP BY 1"#
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.state, r.n))
    .collect();
    let pending = sqlx::query!(
        r#"SELECT count(*) AS "depth!",
            EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS oldest
         FROM events WHERE state = 'pending'"#
    )
    .fetch_one(pool)
    .await?;
    Ok(OutboxStats {
        events,
        conversions,
        depth: pending.depth,
        oldest_pending_seconds: pending.oldest,
    })
}
