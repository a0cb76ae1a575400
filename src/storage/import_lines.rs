//! An import's lines as the dashboard and API read them back: its bad lines (kept up to the
//! importer's cap), and the conversions its rows became, by event time.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};

use super::imports::LineError;
use crate::domain::DeliveryStatus;

/// Stores a batch's bad lines (a line already stored keeps its first reason).
pub(super) async fn add_bad_lines(
    tx: &mut Transaction<'_, Postgres>,
    import_id: i64,
    lines: &[LineError],
) -> Result<(), sqlx::Error> {
    if lines.is_empty() {
        return Ok(());
    }
    let line: Vec<i64> = lines.iter().map(|l| l.line).collect();
    let reason: Vec<String> = lines.iter().map(|l| l.error.clone()).collect();
    let field: Vec<Option<String>> = lines.iter().map(|l| l.field.clone()).collect();
    let value: Vec<Option<String>> = lines.iter().map(|l| l.value.clone()).collect();
    sqlx::query!(
        "INSERT INTO import_bad_lines (import_id, line, reason, field, value)
         SELECT $1, * FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::text[])
         ON CONFLICT DO NOTHING",
        import_id,
        &line,
        &reason,
        &field as &[Option<String>],
        &value as &[Option<String>],
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The import's first `limit` bad lines, by line.
pub async fn bad_lines(
    pool: &PgPool,
    import_id: i64,
    limit: i64,
) -> Result<Vec<LineError>, sqlx::Error> {
    sqlx::query_as!(
        LineError,
        r#"SELECT line, reason AS error, field, value FROM import_bad_lines
           WHERE import_id = $1 ORDER BY line LIMIT $2"#,
        import_id,
        limit
    )
    .fetch_all(pool)
    .await
}

/// The import a conversion was recorded by, as its page links to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRef {
    pub id: i64,
    pub file_name: Option<String>,
}

pub async fn import_of_conversion(
    pool: &PgPool,
    conversion_id: i64,
) -> Result<Option<ImportRef>, sqlx::Error> {
    sqlx::query_as!(
        ImportRef,
        "SELECT i.id, i.file_name FROM conversions c JOIN imports i ON i.id = c.import_id
         WHERE c.id = $1",
        conversion_id
    )
    .fetch_optional(pool)
    .await
}

/// One conversion an import recorded, as its page lists them.
#[derive(Debug, Clone)]
pub struct Imported {
    pub id: i64,
    pub event_time: DateTime<Utc>,
    pub click_id: String,
    pub txid: String,
    pub status: String,
    pub event_name: Option<String>,
    /// The least advanced of its events' states, as every conversion list shows it.
    pub state: DeliveryStatus,
}

/// The import's conversions by event time (oldest first, as the file back-fills them): the
/// first `limit` of them.
pub async fn imported(
    pool: &PgPool,
    import_id: i64,
    limit: i64,
) -> Result<Vec<Imported>, sqlx::Error> {
    sqlx::query_as!(
        Imported,
        r#"SELECT c.id, c.event_time, c.click_id, c.txid, c.status, c.event_name,
                  COALESCE((SELECT least_advanced_state(e.state, e.failure_class)
                            FROM events e WHERE e.conversion_id = c.id), c.state)
                      AS "state!: DeliveryStatus"
           FROM conversions c WHERE c.import_id = $1
           ORDER BY c.event_time, c.id LIMIT $2"#,
        import_id,
        limit
    )
    .fetch_all(pool)
    .await
}

/// Whether the importer kept only the first bad lines of the import; `None`: no such import.
pub async fn bad_lines_cut(pool: &PgPool, import_id: i64) -> Result<Option<bool>, sqlx::Error> {
    sqlx::query_scalar!("SELECT bad_lines_cut FROM imports WHERE id = $1", import_id)
        .fetch_optional(pool)
        .await
}
