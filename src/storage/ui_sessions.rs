//! Dashboard sessions: a row per signed-in browser, keyed by the SHA-256 of the cookie's id.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// A live session, as a page needs it.
pub struct SessionRow {
    pub csrf_token: String,
    /// HMAC of the ADMIN_TOKEN that signed the session in, keyed by the session's id.
    pub token_fingerprint: String,
    pub expires_at: DateTime<Utc>,
}

/// Stores a new session and drops expired ones (sign-ins are rare, so this keeps the table small
/// without a sweeper).
pub async fn create(
    pool: &PgPool,
    id_hash: &str,
    csrf_token: &str,
    token_fingerprint: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM ui_sessions WHERE expires_at < now()")
        .execute(pool)
        .await?;
    sqlx::query!(
        "INSERT INTO ui_sessions (id_hash, csrf_token, token_fingerprint, expires_at) \
         VALUES ($1, $2, $3, $4)",
        id_hash,
        csrf_token,
        token_fingerprint,
        expires_at
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The session, unless it is unknown, signed out or expired.
pub async fn find(pool: &PgPool, id_hash: &str) -> Result<Option<SessionRow>, sqlx::Error> {
    sqlx::query_as!(
        SessionRow,
        "SELECT csrf_token, token_fingerprint, expires_at FROM ui_sessions \
         WHERE id_hash = $1 AND expires_at > now()",
        id_hash
    )
    .fetch_optional(pool)
    .await
}

pub async fn delete(pool: &PgPool, id_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM ui_sessions WHERE id_hash = $1", id_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// Signs out every browser ("sign out everywhere").
pub async fn delete_all(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM ui_sessions")
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
