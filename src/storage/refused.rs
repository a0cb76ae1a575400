//! Postbacks that carried the key but were refused: nothing else records them, and a user
//! fixing a tracker's postback URL needs to see what arrived.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefusedPostback {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    pub tracker: String,
    pub code: String,
    pub detail: String,
    /// The parameters without the key and personal data.
    pub params: serde_json::Value,
}

pub async fn insert(
    pool: &PgPool,
    tracker: &str,
    code: &str,
    detail: &str,
    params: &serde_json::Value,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO refused_postbacks (tracker, code, detail, params) \
         VALUES ($1, $2, $3, $4) RETURNING id",
        tracker,
        code,
        detail,
        params
    )
    .fetch_one(pool)
    .await
}

/// Newest first; `before` pages backwards through ids.
pub async fn list(
    pool: &PgPool,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<RefusedPostback>, sqlx::Error> {
    sqlx::query_as!(
        RefusedPostback,
        "SELECT id, received_at, tracker, code, detail, params FROM refused_postbacks \
         WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
        before,
        limit
    )
    .fetch_all(pool)
    .await
}

/// Retention: refused postbacks older than `cutoff` go, `limit` at a time.
pub async fn delete_older_than(
    pool: &PgPool,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "DELETE FROM refused_postbacks WHERE id IN \
         (SELECT id FROM refused_postbacks WHERE received_at < $1 LIMIT $2)",
        cutoff,
        limit
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
