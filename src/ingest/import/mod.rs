//! Offline conversion imports: a CSV upload is spooled to an unnamed temporary file (so memory
//! stays flat however large the file), then a background task reads it line by line and records
//! the rows in batches through [`crate::ingest::record_batch_with`], exactly as postbacks: the
//! same dedup key makes a second import of the same file all `duplicate`, except rows whose
//! conversion failed for good, which a re-upload replaces (a corrected file must be sendable).

pub mod row;
pub mod sendable;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};
use tokio::sync::Notify;

use super::{conversion_of, record_batch_with, BatchOptions, Outcome};
use crate::domain::ActionSource;
use crate::storage::campaign_cache::CampaignCache;
use crate::storage::imports::{self, ImportCounts, LineDropped, LineError};
use crate::trackers::Postback;
use row::Header;
pub mod spool;
pub mod upload;
pub use spool::{Spooled, Spooler, UploadError, BODY_LIMIT};

/// Rows per transaction (and per progress update).
pub const BATCH_ROWS: usize = 500;
/// Dropped fields kept per import; the counts cover the rest.
pub const ERRORS_KEPT: usize = 100;
/// Bad lines kept per import (for its bad-lines CSV); the file says when there were more.
pub const BAD_LINES_KEPT: usize = 10_000;
/// The longest file name kept, in characters.
pub const FILE_NAME_MAX: usize = 200;
/// Why an import that was running when the process stopped is failed at the next start.
pub const INTERRUPTED: &str = "interrupted by a restart (the process stopped while importing); \
     upload the same file again to finish it: rows already imported count as duplicate";

/// What an import task needs.
#[derive(Clone)]
pub struct Importer {
    pub pool: PgPool,
    pub campaigns: Arc<CampaignCache>,
    /// Wakes the delivery worker after a batch that queued events.
    pub delivery_signal: Arc<Notify>,
    /// Counts the fields rows had dropped, like postbacks'.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// What the uploader chose for the whole file.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Meta's action source for rows that name none and whose click is not registered (a CRM
    /// export, a call centre): `website` events need a user agent and a page those rows lack.
    pub default_action_source: Option<ActionSource>,
    /// The uploaded file's name as [`file_name`] keeps it; `None`: the upload named none.
    pub file_name: Option<String>,
}

/// An uploaded file's name as kept: without the client's folders (some browsers and tools send
/// a full path), control characters or surrounding blanks, at most [`FILE_NAME_MAX`]
/// characters; `None` when nothing is left.
pub fn file_name(raw: &str) -> Option<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let name: String = base
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(FILE_NAME_MAX)
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Records the import as running and starts its task; answers its id once the row is committed.
pub async fn start(
    importer: Importer,
    spooled: Spooled,
    options: ImportOptions,
) -> Result<i64, sqlx::Error> {
    let id = imports::create(
        &importer.pool,
        spooled.rows_total,
        options.default_action_source,
        options.file_name.as_deref(),
    )
    .await?;
    tokio::spawn(async move {
        let beat = tokio::spawn(heartbeat(importer.pool.clone(), id));
        let reader = BufReader::with_capacity(64 * 1024, spooled.file);
        let processed = importer.process(id, reader, options).await;
        beat.abort();
        let failure = match processed {
            Ok(()) => None,
            Err(e) => {
                tracing::error!(import_id = id, error = %e, "import failed");
                Some(format!("stopped by an error: {e}"))
            }
        };
        if let Err(e) = imports::finish(&importer.pool, id, failure.as_deref()).await {
            // Left running: the next start marks it failed as interrupted.
            tracing::error!(import_id = id, error = %e, "import state could not be saved");
        }
        tracing::info!(import_id = id, "import finished");
    });
    Ok(id)
}

/// How often a running import's task says it is alive, and how long without a sign of life
/// makes it dead (a crash or kill -9 of its process).
pub const HEARTBEAT: Duration = Duration::from_secs(5);
pub const STALE_AFTER: Duration = Duration::from_secs(30);

async fn heartbeat(pool: PgPool, id: i64) {
    let mut every = tokio::time::interval(HEARTBEAT);
    loop {
        every.tick().await;
        if let Err(e) = imports::heartbeat(&pool, id).await {
            tracing::warn!(import_id = id, error = %e, "import heartbeat failed");
        }
    }
}

/// Fails imports whose process died, now and every few seconds. Several `serve` processes may
/// share a database (delivery is lease-based), so an import counts as interrupted only once its
/// heartbeat is [`STALE_AFTER`] old, never merely because this process has just started.
pub async fn sweep_interrupted(pool: PgPool) {
    let mut every = tokio::time::interval(HEARTBEAT * 2);
    loop {
        every.tick().await;
        match imports::fail_stale(&pool, STALE_AFTER, INTERRUPTED).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(imports = n, "interrupted imports marked failed"),
            Err(e) => tracing::warn!(error = %e, "checking for interrupted imports failed"),
        }
    }
}

/// One batch of lines: each a postback to record or the reason it is invalid.
#[derive(Default)]
struct Batch {
    rows: Vec<(i64, Postback)>,
    invalid: Vec<LineError>,
    /// The header's unread columns (first batch only).
    columns: Vec<LineDropped>,
}

impl Importer {
    async fn process(
        &self,
        id: i64,
        mut reader: impl AsyncBufRead + Unpin,
        options: ImportOptions,
    ) -> anyhow::Result<()> {
        // Every row becomes a conversion of this import; a row whose twin failed replaces it.
        let opts = BatchOptions {
            import_id: Some(id),
            default_action_source: options.default_action_source,
            replace_failed: true,
        };
        let mut line = Vec::new();
        read_line(&mut reader, &mut line).await?;
        // Checked while spooling already; read again so this task needs nothing else.
        let header = Header::parse(&line).map_err(anyhow::Error::msg)?;
        let (mut line_no, mut kept) = (1i64, (0usize, 0usize));
        // A column left unread (Payout beside Revenue) is said once, as the header line's.
        let mut batch = Batch {
            columns: header
                .ignored
                .iter()
                .map(|c| LineDropped {
                    line: 1,
                    field: c.name.clone(),
                    reason: c.reason.clone(),
                    value: None,
                })
                .collect(),
            ..Batch::default()
        };
        loop {
            line.clear();
            let (read, too_long) = read_line(&mut reader, &mut line).await?;
            if read == 0 {
                break;
            }
            line_no += 1;
            if row::is_blank(&line) {
                continue;
            }
            let parsed = if too_long {
                Err(format!("is longer than {} bytes", row::MAX_LINE).into())
            } else {
                match row::params(&header, &line) {
                    Ok(params) => {
                        let region = self.campaigns.region_of(params.0.get("campaign")).await?;
                        row::postback(params, &region, opts.default_action_source, Utc::now())
                    }
                    Err(e) => Err(e.into()),
                }
            };
            match parsed {
                Ok(p) => batch.rows.push((line_no, p)),
                Err(refused) => batch
                    .invalid
                    .push(bad_line(line_no, &header, &line, refused)),
            }
            if batch.rows.len() + batch.invalid.len() >= BATCH_ROWS {
                self.record(opts, std::mem::take(&mut batch), &mut kept)
                    .await?;
            }
        }
        self.record(opts, batch, &mut kept).await
    }

    /// Records one batch in one transaction, then its progress in one UPDATE.
    /// `kept`: the bad lines and the dropped fields kept so far (capped at [`BAD_LINES_KEPT`]
    /// and [`ERRORS_KEPT`]).
    async fn record(
        &self,
        opts: BatchOptions,
        batch: Batch,
        kept: &mut (usize, usize),
    ) -> anyhow::Result<()> {
        let id = opts.import_id.expect("an import's batches name it");
        let (kept, dropped_kept) = (&mut kept.0, &mut kept.1);
        let lines = (batch.rows.len() + batch.invalid.len()) as i64;
        if lines == 0 && batch.columns.is_empty() {
            return Ok(());
        }
        let now = Utc::now();
        let mut dropped = batch.columns;
        dropped.extend(batch.rows.iter().flat_map(|(line, p)| {
            p.dropped.iter().map(|d| LineDropped {
                line: *line,
                field: d.field.clone(),
                reason: d.reason.clone(),
                value: raw_payout(p, &d.field),
            })
        }));
        for (_, p) in &batch.rows {
            self.metrics.dropped(&p.dropped);
        }
        let (line_nos, items): (Vec<i64>, Vec<_>) =
            batch.rows.into_iter().map(|(l, p)| (l, (p, now))).unzip();
        let outcomes = self.record_with_retry(&items, opts).await?;
        let mut counts = ImportCounts {
            invalid: batch.invalid.len() as i64,
            ..ImportCounts::default()
        };
        let mut errors = batch.invalid;
        for ((line, outcome), (postback, _)) in line_nos.into_iter().zip(outcomes).zip(&items) {
            match outcome {
                Outcome::Accepted { .. } => counts.accepted += 1,
                Outcome::Duplicate => counts.duplicate += 1,
                Outcome::Skipped { .. } | Outcome::Suppressed { .. } => counts.skipped += 1,
                Outcome::Unmatched { .. } => {
                    counts.unmatched += 1;
                    // Said now, not when the grace period ends and the row fails.
                    if let Some(error) = self.unsendable(postback, now, opts).await? {
                        errors.push(LineError {
                            line,
                            error,
                            field: None,
                            value: None,
                        });
                    }
                }
                // Recorded (a corrected re-import replaces it) but it can never be sent: the user
                // must hear why, so it counts and reads as an invalid row.
                Outcome::Failed { reason, .. } => {
                    counts.invalid += 1;
                    errors.push(LineError {
                        line,
                        error: format!("recorded but cannot be sent: {reason}"),
                        field: None,
                        value: None,
                    });
                }
            }
        }
        if counts.accepted > 0 {
            self.delivery_signal.notify_one();
        }
        errors.sort_by_key(|e| e.line);
        let room = BAD_LINES_KEPT.saturating_sub(*kept);
        let cut = errors.len() > room;
        errors.truncate(room);
        *kept += errors.len();
        dropped.truncate(ERRORS_KEPT.saturating_sub(*dropped_kept));
        *dropped_kept += dropped.len();
        let progress = imports::Progress {
            rows: lines,
            counts: &counts,
            bad_lines: &errors,
            cut,
            dropped: &dropped,
        };
        imports::add_progress(&self.pool, id, &progress).await?;
        Ok(())
    }

    /// Why a row recorded without its click will fail when its grace period ends, if it will.
    async fn unsendable(
        &self,
        postback: &Postback,
        now: chrono::DateTime<Utc>,
        opts: BatchOptions,
    ) -> Result<Option<String>, sqlx::Error> {
        let mut conv = conversion_of(postback, now);
        conv.action_source = conv.action_source.or(opts.default_action_source);
        let campaign = match &postback.campaign {
            Some(key) => match self.campaigns.get(key.as_str()).await? {
                Some(c) => Some(c),
                // Recorded as a postback naming it would be, but said by name: a row of an
                // unknown campaign joins no click, whoever registered its click id.
                None => return Ok(Some(sendable::unknown_campaign(key.as_str()))),
            },
            None => None,
        };
        Ok(sendable::unsendable(campaign.as_deref(), &conv))
    }

    /// A batch is one transaction: after a transient error nothing of it was committed, so it
    /// is tried again a few times before the import fails.
    async fn record_with_retry(
        &self,
        items: &[(Postback, chrono::DateTime<Utc>)],
        opts: BatchOptions,
    ) -> Result<Vec<Outcome>, sqlx::Error> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let mut attempt = 0;
        loop {
            match record_batch_with(&self.pool, &self.campaigns, items, opts).await {
                Err(e) if attempt < 3 && crate::storage::is_transient_db_error(&e) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_secs(attempt)).await;
                }
                other => return other,
            }
        }
    }
}

/// A refused line, with the value of the column its reason is about unless that column is
/// personal data (the same rule as the kept parameters of a postback).
fn bad_line(line_no: i64, header: &Header, line: &[u8], refused: row::Refused) -> LineError {
    let value = refused.field.and_then(|f| {
        let raw = row::raw_value(header, line, f)?;
        crate::trackers::kept_value(f, &raw)
    });
    LineError {
        line: line_no,
        error: refused.reason,
        field: refused.field.map(str::to_owned),
        value,
    }
}

/// The payout column's value as the file has it, when `field` is the dropped payout: the
/// import page shows it beside why it could not be read.
fn raw_payout(p: &Postback, field: &str) -> Option<String> {
    let raw = p.params.get(field)?.as_str()?;
    (p.payout.is_none() && crate::trackers::is_payout_name(field)).then(|| raw.to_owned())
}

/// Reads one line (with its `\n`) into `out`, keeping at most [`row::MAX_LINE`] bytes of it.
/// Returns the bytes read and whether the line was longer.
async fn read_line(
    reader: &mut (impl AsyncBufRead + Unpin),
    out: &mut Vec<u8>,
) -> std::io::Result<(usize, bool)> {
    let (mut read, mut too_long) = (0, false);
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok((read, too_long));
        }
        let (take, end) = match buf.iter().position(|&b| b == b'\n') {
            Some(p) => (p + 1, true),
            None => (buf.len(), false),
        };
        if out.len() + take <= row::MAX_LINE + 2 {
            out.extend_from_slice(&buf[..take]);
        } else {
            too_long = true;
        }
        read += take;
        reader.consume(take);
        if end {
            return Ok((read, too_long));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_file_name_is_kept_without_folders_or_control_characters() {
        let long = "a".repeat(300);
        let cases = [
            ("sales.csv", Some("sales.csv")),
            ("C:\\Users\\me\\Desktop\\nov.csv", Some("nov.csv")),
            ("../../etc/passwd", Some("passwd")),
            ("  x\u{1b}[31m.csv ", Some("x[31m.csv")),
            ("dir/", None),
            ("", None),
        ];
        for (raw, want) in cases {
            assert_eq!(super::file_name(raw).as_deref(), want, "{raw:?}");
        }
        assert_eq!(super::file_name(&long).map(|n| n.len()), Some(200));
    }

    #[test]
    fn a_bad_line_keeps_the_value_of_its_column_unless_it_is_personal_data() {
        let header = super::Header::parse(b"click_id,status,em,ph,campaign").unwrap();
        let line = b"c1,=1+1,a@b.example,+16505551212,Shop!";
        for (field, want) in [
            ("status", Some("=1+1")),
            ("campaign", Some("Shop!")),
            ("em", None),
            ("ph", None),
        ] {
            let refused = super::row::Refused {
                reason: "bad".into(),
                field: Some(field),
            };
            let bad = super::bad_line(5, &header, line, refused);
            assert_eq!((bad.line, bad.field.as_deref()), (5, Some(field)));
            assert_eq!(bad.value.as_deref(), want, "{field}");
        }
    }
}
