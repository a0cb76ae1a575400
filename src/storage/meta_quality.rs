//! Meta's quality figures per pixel: the shared schedule (`meta_quality_pixels`), each fetch's
//! outcome and its per-event snapshots.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::PgPool;

use crate::domain::meta_quality::{EventQuality, FetchOutcome};

/// The on-demand limit: one accepted refresh per pixel per this long.
pub const REFRESH_EVERY: Duration = Duration::from_secs(60);

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Takes the pixels due now (scheduled, when `interval` is set, or asked for), at most `limit`,
/// for `lease`; the same statement moves each one's next fetch `interval` ahead, so no other
/// process takes it this round. Pixels of enabled campaigns only; new ones join first.
pub async fn claim_due(
    pool: &PgPool,
    interval: Option<Duration>,
    lease: Duration,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query!(
        "INSERT INTO meta_quality_pixels (pixel_id) \
         SELECT DISTINCT pixel_id FROM campaigns WHERE enabled AND pixel_id IS NOT NULL \
         ON CONFLICT (pixel_id) DO NOTHING"
    )
    .execute(pool)
    .await?;
    let interval = interval.map(secs);
    let rows = sqlx::query_scalar!(
        "UPDATE meta_quality_pixels p SET claimed_until = now() + make_interval(secs => $2), \
            refresh_requested = false, \
            next_fetch_at = CASE WHEN $1::float8 IS NULL THEN p.next_fetch_at \
                            ELSE now() + make_interval(secs => $1::float8) END \
         WHERE p.pixel_id IN (SELECT q.pixel_id FROM meta_quality_pixels q \
            WHERE (q.refresh_requested OR ($1::float8 IS NOT NULL AND q.next_fetch_at <= now())) \
              AND (q.claimed_until IS NULL OR q.claimed_until < now()) \
              AND EXISTS (SELECT 1 FROM campaigns c WHERE c.pixel_id = q.pixel_id AND c.enabled) \
            ORDER BY q.next_fetch_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
         RETURNING p.pixel_id",
        interval,
        secs(lease),
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

/// The pixel is free for the next round (its schedule already moved at claim time).
pub async fn release(pool: &PgPool, pixel_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE meta_quality_pixels SET claimed_until = NULL WHERE pixel_id = $1",
        pixel_id
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The enabled campaigns on a pixel, most recently updated first: whose token to try, in order.
pub async fn campaigns_on_pixel(pool: &PgPool, pixel_id: &str) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT id FROM campaigns WHERE pixel_id = $1 AND enabled ORDER BY updated_at DESC, id DESC",
        pixel_id
    )
    .fetch_all(pool)
    .await
}

/// Asks for a fetch of `pixel_id` at the next round, unless one was accepted within
/// [`REFRESH_EVERY`]: then how long until the next is.
pub async fn request_refresh(
    pool: &PgPool,
    pixel_id: &str,
) -> Result<Option<Duration>, sqlx::Error> {
    let accepted = sqlx::query_scalar!(
        "INSERT INTO meta_quality_pixels AS p (pixel_id, refresh_requested, refresh_requested_at) \
         VALUES ($1, true, now()) \
         ON CONFLICT (pixel_id) DO UPDATE SET refresh_requested = true, refresh_requested_at = now() \
         WHERE p.refresh_requested_at IS NULL \
            OR p.refresh_requested_at <= now() - make_interval(secs => $2) \
         RETURNING p.pixel_id",
        pixel_id,
        secs(REFRESH_EVERY)
    )
    .fetch_optional(pool)
    .await?;
    if accepted.is_some() {
        return Ok(None);
    }
    let wait = sqlx::query_scalar!(
        r#"SELECT GREATEST(1, CEIL(EXTRACT(EPOCH FROM refresh_requested_at
                + make_interval(secs => $2) - now())))::bigint AS "wait!"
           FROM meta_quality_pixels WHERE pixel_id = $1"#,
        pixel_id,
        secs(REFRESH_EVERY)
    )
    .fetch_one(pool)
    .await?;
    Ok(Some(Duration::from_secs(wait.max(1) as u64)))
}

/// A fetch as it ended.
pub struct NewFetch<'a> {
    pub pixel_id: &'a str,
    pub outcome: FetchOutcome,
    pub message: Option<String>,
    pub graph_code: Option<i64>,
    pub campaign_id: Option<i64>,
    pub events: &'a [EventQuality],
}

/// Stores the fetch and one snapshot per event name, in one transaction.
pub async fn record_fetch(pool: &PgPool, f: &NewFetch<'_>) -> Result<i64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        "INSERT INTO meta_quality_fetches (pixel_id, outcome, message, graph_code, campaign_id) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id, fetched_at",
        f.pixel_id,
        f.outcome.as_str(),
        f.message,
        f.graph_code,
        f.campaign_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let (id, fetched_at) = (row.id, row.fetched_at);
    for e in f.events {
        sqlx::query!(
            "INSERT INTO meta_quality_snapshots (fetch_id, pixel_id, event_name, fetched_at, emq, \
                event_coverage_percent, acr_percent, dedupe_browser_percent, \
                dedupe_server_percent, upload_frequency, raw) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (pixel_id, event_name, fetched_at) DO NOTHING",
            id,
            f.pixel_id,
            e.event_name,
            fetched_at,
            e.emq,
            e.event_coverage,
            e.acr,
            e.dedupe_browser,
            e.dedupe_server,
            e.upload_frequency,
            Json(&e.raw) as _
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// A stored fetch's outcome.
#[derive(Debug, Clone)]
pub struct StoredFetch {
    pub fetched_at: DateTime<Utc>,
    pub outcome: FetchOutcome,
    pub message: Option<String>,
    pub graph_code: Option<i64>,
}

/// The pixel's latest fetch, if any.
pub async fn last_fetch(pool: &PgPool, pixel_id: &str) -> Result<Option<StoredFetch>, sqlx::Error> {
    sqlx::query_as!(
        StoredFetch,
        r#"SELECT fetched_at, outcome AS "outcome: FetchOutcome", message, graph_code
           FROM meta_quality_fetches WHERE pixel_id = $1 ORDER BY fetched_at DESC, id DESC LIMIT 1"#,
        pixel_id
    )
    .fetch_optional(pool)
    .await
}

/// One event's figures at one fetch.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub event_name: String,
    pub fetched_at: DateTime<Utc>,
    pub emq: Option<f64>,
    pub event_coverage_percent: Option<f64>,
    pub acr_percent: Option<f64>,
    pub dedupe_browser_percent: Option<f64>,
    pub dedupe_server_percent: Option<f64>,
    pub upload_frequency: Option<String>,
    pub raw: Json<serde_json::Value>,
}

/// The pixel's snapshots of the last `days` days, oldest first.
pub async fn snapshots(
    pool: &PgPool,
    pixel_id: &str,
    days: i32,
) -> Result<Vec<Snapshot>, sqlx::Error> {
    sqlx::query_as!(
        Snapshot,
        r#"SELECT event_name, fetched_at, emq, event_coverage_percent, acr_percent,
              dedupe_browser_percent, dedupe_server_percent, upload_frequency,
              raw AS "raw: Json<serde_json::Value>"
           FROM meta_quality_snapshots
           WHERE pixel_id = $1 AND fetched_at > now() - make_interval(days => $2)
           ORDER BY fetched_at, event_name"#,
        pixel_id,
        days
    )
    .fetch_all(pool)
    .await
}

/// Deletes fetches (and their snapshots) older than `retention`, `batch` at a time.
pub async fn apply_retention(
    pool: &PgPool,
    retention: Duration,
    batch: i64,
) -> Result<u64, sqlx::Error> {
    let mut deleted = 0;
    loop {
        let n = sqlx::query!(
            "DELETE FROM meta_quality_fetches WHERE id IN (SELECT id FROM meta_quality_fetches \
             WHERE fetched_at < now() - make_interval(secs => $1) LIMIT $2)",
            secs(retention),
            batch
        )
        .execute(pool)
        .await?
        .rows_affected();
        deleted += n;
        if n < batch as u64 {
            return Ok(deleted);
        }
    }
}
