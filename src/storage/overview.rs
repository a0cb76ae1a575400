//! Counts for the dashboard's overview, over a window ending now.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::{EventState, PlatformKind};

/// Raw counts since a moment; `crate::ui::overview` shapes them (zeros, order, labels).
pub struct WindowCounts {
    pub clicks: i64,
    /// Postbacks by the conversion's own state (`queued` = an event was made).
    pub postbacks: Vec<(String, i64)>,
    pub events: Vec<(EventState, i64)>,
    /// Each platform's error codes on delivery attempts (`None`: an error without a code).
    pub errors: Vec<(PlatformKind, Option<i32>, i64)>,
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
    let errors = sqlx::query!(
        r#"SELECT e.platform AS "platform: PlatformKind", a.error_code, count(*) AS "n!"
         FROM delivery_attempts a JOIN events e ON e.id = a.event_row_id
         WHERE a.attempted_at >= $1 AND a.outcome IN ('transient_error', 'auth_error', 'invalid')
         GROUP BY 1, 2"#,
        since
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.platform, r.error_code, r.n))
    .collect();
    Ok(WindowCounts {
        clicks,
        postbacks,
        events,
        errors,
    })
}

/// Events created per hour since `since`, by the hour's start in `zone` (an IANA name: an
/// hour of a zone half an hour off UTC starts at :30 UTC); hours without events absent.
pub async fn events_per_hour(
    pool: &PgPool,
    since: DateTime<Utc>,
    zone: &str,
) -> Result<Vec<(DateTime<Utc>, i64)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT date_trunc('hour', created_at, $2) AS "hour!", count(*) AS "n!"
         FROM events WHERE created_at >= $1 GROUP BY 1"#,
        since,
        zone
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.hour, r.n))
    .collect())
}
