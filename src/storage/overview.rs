//! Counts for the dashboard's overview, over a window ending now.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::EventState;

/// Raw counts since a moment; `crate::ui::overview` shapes them (zeros, order, labels).
pub struct WindowCounts {
    pub clicks: i64,
    /// Postbacks by the conversion's own state (`queued` = an event was made).
    pub postbacks: Vec<(String, i64)>,
    pub events: Vec<(EventState, i64)>,
    /// Meta's error codes on delivery attempts (`None`: an error without a code).
    pub meta_errors: Vec<(Option<i32>, i64)>,
}

pub async fn window(pool: &PgPool, since: DateTime<Utc>) -> Result<WindowCounts, sqlx::Error> {
    let clicks = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM clicks WHERE first_seen_at >= $1"#,
        since
    )
    .fetch_one(pool)
    .await?;
    let postbacks = sqlx::query!(
        r#"SELECT state, count(*) AS "n!" FROM conversions WHERE received_at >= $1 GROUP BY state"#,
        since
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.state, r.n))
    .collect();
    let events = sqlx::query!(
        r#"SELECT state AS "state: EventState", count(*) AS "n!"
         FROM events WHERE created_at >= $1 GROUP BY state"#,
        since
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.state, r.n))
    .collect();
    let meta_errors = sqlx::query!(
        r#"SELECT error_code, count(*) AS "n!" FROM delivery_attempts
         WHERE attempted_at >= $1 AND outcome IN ('transient_error', 'auth_error', 'invalid')
         GROUP BY error_code"#,
        since
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.error_code, r.n))
    .collect();
    Ok(WindowCounts {
        clicks,
        postbacks,
        events,
        meta_errors,
    })
}

/// Events created per hour since `since`, by the hour's start (hours without events absent).
pub async fn events_per_hour(
    pool: &PgPool,
    since: DateTime<Utc>,
) -> Result<Vec<(DateTime<Utc>, i64)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT date_trunc('hour', created_at) AS "hour!", count(*) AS "n!"
         FROM events WHERE created_at >= $1 GROUP BY 1"#,
        since
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.hour, r.n))
    .collect())
}
