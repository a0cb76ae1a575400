//! Offline conversion imports: one row per uploaded file, its progress and bad lines.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use crate::domain::ActionSource;

/// Rows per outcome, as stored and as the API shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportCounts {
    pub accepted: i64,
    pub duplicate: i64,
    pub skipped: i64,
    pub unmatched: i64,
    pub invalid: i64,
}

/// What became of an import's conversions since, read from them (and their events): it
/// follows deliveries, retries and the unmatched sweep, where [`ImportCounts`] stay as answered
/// at upload.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportFates {
    /// Every platform's event accepted.
    pub sent: i64,
    /// An event waiting for its first attempt or a retry.
    pub pending: i64,
    /// Could not be built, or a platform refused it for good (a retry or re-upload can fix it).
    pub failed: i64,
    /// Older than the platform accepts.
    pub expired: i64,
    /// Still waiting for its click.
    pub unmatched: i64,
    /// Recorded, never sent (the status maps to no event, or consent is missing).
    pub skipped: i64,
}

/// A bad line: a row refused, or recorded but unsendable (`import_bad_lines`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = ImportLineError)]
pub struct LineError {
    /// Line number in the file (the header is line 1).
    pub line: i64,
    pub error: String,
    /// The column the reason is about, when it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// That column's value as the file has it; never for a column of personal data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Bad lines the import page and API show; the CSV has all that are kept.
pub const ERRORS_SHOWN: i64 = 100;

/// A field one recorded row had dropped, and why (line 1: a column of the header, dropped from
/// every row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = ImportLineDropped)]
pub struct LineDropped {
    /// Line number in the file (the header is line 1).
    pub line: i64,
    pub field: String,
    pub reason: String,
    /// The value as the file has it, for a payout only (an amount, never personal data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// An import as the admin API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Import)]
pub struct ImportRow {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    /// The uploaded file's name; `None`: the upload named none (a text/csv body to the API).
    #[schema(required = true)]
    pub file_name: Option<String>,
    #[schema(required = true)]
    pub finished_at: Option<DateTime<Utc>>,
    /// `running`, `done` or `failed`.
    pub state: String,
    #[schema(required = true)]
    pub failure_reason: Option<String>,
    pub rows_total: i64,
    pub rows_done: i64,
    /// Meta's action source for the rows without a registered click, as the uploader chose.
    #[schema(value_type = Option<String>, required = true)]
    pub default_action_source: Option<ActionSource>,
    pub counts: ImportCounts,
    /// The import's conversions as they stand now (see [`ImportFates`]).
    pub fates: ImportFates,
    /// The first [`ERRORS_SHOWN`] bad lines.
    pub errors: Vec<LineError>,
    /// The importer kept only the first bad lines: the CSV of them says so.
    pub bad_lines_cut: bool,
    /// Fields dropped from rows that were recorded (the first ones, like `errors`).
    pub dropped: Vec<LineDropped>,
}

struct Raw {
    id: i64,
    created_at: DateTime<Utc>,
    file_name: Option<String>,
    finished_at: Option<DateTime<Utc>>,
    state: String,
    failure_reason: Option<String>,
    rows_total: i64,
    rows_done: i64,
    default_action_source: Option<String>,
    accepted: i64,
    duplicate: i64,
    skipped: i64,
    unmatched: i64,
    invalid: i64,
    bad_lines_cut: bool,
    dropped: serde_json::Value,
}

impl From<Raw> for ImportRow {
    fn from(r: Raw) -> Self {
        ImportRow {
            id: r.id,
            created_at: r.created_at,
            file_name: r.file_name,
            finished_at: r.finished_at,
            state: r.state,
            failure_reason: r.failure_reason,
            rows_total: r.rows_total,
            rows_done: r.rows_done,
            default_action_source: r
                .default_action_source
                .and_then(|s| ActionSource::parse(&s).ok()),
            counts: ImportCounts {
                accepted: r.accepted,
                duplicate: r.duplicate,
                skipped: r.skipped,
                unmatched: r.unmatched,
                invalid: r.invalid,
            },
            fates: ImportFates::default(),
            errors: Vec::new(),
            bad_lines_cut: r.bad_lines_cut,
            dropped: serde_json::from_value(r.dropped).unwrap_or_default(),
        }
    }
}

/// A new, running import of `rows_total` data lines.
pub async fn create(
    pool: &PgPool,
    rows_total: i64,
    default_action_source: Option<ActionSource>,
    file_name: Option<&str>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO imports (rows_total, default_action_source, file_name) VALUES ($1, $2, $3)
         RETURNING id",
        rows_total,
        default_action_source.map(ActionSource::as_str),
        file_name
    )
    .fetch_one(pool)
    .await
}

/// One batch's progress: its rows and counts, its bad lines and dropped fields (both already
/// capped by the caller; `cut`: the cap left some bad lines out).
pub struct Progress<'a> {
    pub rows: i64,
    pub counts: &'a ImportCounts,
    pub bad_lines: &'a [LineError],
    pub cut: bool,
    pub dropped: &'a [LineDropped],
}

/// Adds one batch's progress, in one transaction.
pub async fn add_progress(pool: &PgPool, id: i64, p: &Progress<'_>) -> Result<(), sqlx::Error> {
    let c = p.counts;
    let dropped = serde_json::to_value(p.dropped).unwrap_or_else(|_| serde_json::json!([]));
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "UPDATE imports SET rows_done = rows_done + $2, accepted = accepted + $3,
                duplicate = duplicate + $4, skipped = skipped + $5, unmatched = unmatched + $6,
                invalid = invalid + $7, bad_lines_cut = bad_lines_cut OR $8,
                dropped = dropped || $9::jsonb, heartbeat_at = now()
         WHERE id = $1",
        id,
        p.rows,
        c.accepted,
        c.duplicate,
        c.skipped,
        c.unmatched,
        c.invalid,
        p.cut,
        dropped
    )
    .execute(&mut *tx)
    .await?;
    super::import_lines::add_bad_lines(&mut tx, id, p.bad_lines).await?;
    tx.commit().await
}

/// Ends a running import: `done`, or `failed` with a reason.
pub async fn finish(pool: &PgPool, id: i64, failure: Option<&str>) -> Result<(), sqlx::Error> {
    let state = if failure.is_some() { "failed" } else { "done" };
    sqlx::query!(
        "UPDATE imports SET state = $2, failure_reason = $3, finished_at = now()
         WHERE id = $1 AND state = 'running'",
        id,
        state,
        failure
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The import's task is alive.
pub async fn heartbeat(pool: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE imports SET heartbeat_at = now() WHERE id = $1 AND state = 'running'",
        id
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Marks failed the running imports whose task has not been heard of for `stale` (it died with
/// its process); returns how many. The database's clock judges, so servers' clocks may differ.
pub async fn fail_stale(
    pool: &PgPool,
    stale: std::time::Duration,
    reason: &str,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE imports SET state = 'failed', failure_reason = $1, finished_at = now()
         WHERE state = 'running' AND heartbeat_at < now() - make_interval(secs => $2)",
        reason,
        stale.as_secs_f64()
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

pub async fn find(pool: &PgPool, id: i64) -> Result<Option<ImportRow>, sqlx::Error> {
    let raw = sqlx::query_as!(
        Raw,
        "SELECT id, created_at, file_name, finished_at, state, failure_reason, rows_total,
                rows_done, default_action_source, accepted, duplicate, skipped, unmatched,
                invalid, bad_lines_cut, dropped
         FROM imports WHERE id = $1",
        id
    )
    .fetch_optional(pool)
    .await?;
    let Some(mut row) = raw.map(ImportRow::from) else {
        return Ok(None);
    };
    row.fates = fates(pool, id).await?;
    row.errors = super::import_lines::bad_lines(pool, id, ERRORS_SHOWN).await?;
    Ok(Some(row))
}

/// The fates of an import's conversions: each counted once, by the least advanced state of its
/// events (as every conversion list counts), or its own state when it has no event.
pub async fn fates(pool: &PgPool, id: i64) -> Result<ImportFates, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT COALESCE((SELECT least_advanced_state(e.state, e.failure_class)
                            FROM events e WHERE e.conversion_id = c.id), c.state) AS "fate!",
                  count(*) AS "n!"
           FROM conversions c WHERE c.import_id = $1 GROUP BY 1"#,
        id
    )
    .fetch_all(pool)
    .await?;
    let mut f = ImportFates::default();
    for r in rows {
        let slot = match r.fate.as_str() {
            "sent" => &mut f.sent,
            "failed" => &mut f.failed,
            "expired" => &mut f.expired,
            "unmatched" => &mut f.unmatched,
            "skipped" | "suppressed" => &mut f.skipped,
            // `pending`, and `queued` (its event not yet visible) alike.
            _ => &mut f.pending,
        };
        *slot += r.n;
    }
    Ok(f)
}

/// The latest imports, newest first, without their errors.
pub async fn recent(pool: &PgPool, limit: i64) -> Result<Vec<ImportRow>, sqlx::Error> {
    let raws = sqlx::query_as!(
        Raw,
        r#"SELECT id, created_at, file_name, finished_at, state, failure_reason, rows_total,
                rows_done, default_action_source, accepted, duplicate, skipped, unmatched,
                invalid, bad_lines_cut, '[]'::jsonb AS "dropped!"
         FROM imports ORDER BY id DESC LIMIT $1"#,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(raws.into_iter().map(ImportRow::from).collect())
}
