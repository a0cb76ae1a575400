//! The server's own settings the service depends on (read, never changed: they belong to
//! whoever runs PostgreSQL).

use sqlx::PgPool;

/// Whether autovacuum runs: it needs both `autovacuum` and `track_counts`.
pub async fn autovacuum_runs(pool: &PgPool) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT current_setting('autovacuum')::bool
              AND current_setting('track_counts')::bool AS "runs!""#
    )
    .fetch_one(pool)
    .await
}
