//! CSV exports of what the lists show (admin API and dashboard): the same filters, a bounded
//! number of rows, and cells a spreadsheet cannot run as formulas.

use std::borrow::Cow;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION};
use actix_web::HttpResponse;
use chrono::{SecondsFormat, Utc};
use sqlx::PgPool;

use crate::ingest::import::BAD_LINES_KEPT;
use crate::storage::conversion_view::{self, ConversionView, ListFilter};
use crate::storage::import_lines;
use crate::storage::imports::LineError;

/// Writing to memory cannot fail (no I/O; `flexible` allows a short last line).
const IN_MEMORY: &str = "a CSV writer into memory does not fail";

/// A writer into memory whose rows may differ in length (the last line's notice).
fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new())
}

/// Rows an export holds at most: more would hold a request and its memory for too long.
pub const EXPORT_CAP: usize = 100_000;

/// Rows read per query while exporting (keyset pages of the list's own query).
const BATCH: i64 = 1000;

/// The columns of the conversions export, in order.
pub const CONVERSION_COLUMNS: [&str; 15] = [
    "id",
    "received_at",
    "event_time",
    "campaign",
    "tracker",
    "click_id",
    "txid",
    "status",
    "event_name",
    "state",
    "value",
    "currency",
    "test_platforms",
    "last_error_platform",
    "last_error",
];

/// One cell: numbers are written as numbers (a refund's `-5` stays a number), text is escaped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Text(&'a str),
    Int(i64),
    Number(f64),
}

impl Cell<'_> {
    fn render(&self) -> Cow<'_, str> {
        match self {
            Cell::Text(s) => safe_text(s),
            Cell::Int(n) => Cow::Owned(n.to_string()),
            Cell::Number(v) => Cow::Owned(v.to_string()),
        }
    }
}

/// A text cell that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, a tab or a
/// carriage return first) gets a leading `'`, so it shows as the text it is (OWASP's advice).
pub fn safe_text(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// A finished export: the CSV bytes, and whether the cap cut it.
pub struct CsvExport {
    pub body: Vec<u8>,
    pub rows: usize,
    pub truncated: bool,
}

impl CsvExport {
    /// The download: `attachment` named `<stem>-<UTC time>.csv`, never cached;
    /// `X-Export-Truncated` says whether the cap cut it (the file's last line says so too).
    pub fn response(self, stem: &str) -> HttpResponse {
        let name = format!("{stem}-{}.csv", Utc::now().format("%Y%m%d-%H%M%S"));
        HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ))
            .insert_header((CACHE_CONTROL, "no-store"))
            .insert_header(("x-export-truncated", self.truncated.to_string()))
            .body(self.body)
    }
}

/// Writes one conversion as the list shows it (no personal data, no digests).
fn write_conversion<W: std::io::Write>(
    w: &mut csv::Writer<W>,
    c: &ConversionView,
) -> csv::Result<()> {
    let received = c.received_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let event_time = c.event_time.to_rfc3339_opts(SecondsFormat::Secs, true);
    let tests: Vec<&str> = c.test_platforms.iter().map(|p| p.as_str()).collect();
    let tests = tests.join(" ");
    let cells = [
        Cell::Int(c.id),
        Cell::Text(&received),
        Cell::Text(&event_time),
        Cell::Text(c.campaign.as_deref().unwrap_or("")),
        Cell::Text(&c.tracker),
        Cell::Text(&c.click_id),
        Cell::Text(&c.txid),
        Cell::Text(&c.status),
        Cell::Text(c.event_name.as_deref().unwrap_or("")),
        Cell::Text(c.state.as_str()),
        c.value.map_or(Cell::Text(""), Cell::Number),
        Cell::Text(c.currency.as_deref().unwrap_or("")),
        Cell::Text(&tests),
        Cell::Text(c.last_error_platform.map_or("", |p| p.as_str())),
        Cell::Text(c.last_error.as_deref().unwrap_or("")),
    ];
    write_cells(w, &cells)
}

fn write_cells<W: std::io::Write>(w: &mut csv::Writer<W>, cells: &[Cell]) -> csv::Result<()> {
    w.write_record(cells.iter().map(|c| c.render().into_owned()))
}

/// The conversions `filter` matches (its `before` and `limit` aside), newest first, as CSV: at
/// most `cap` rows, read through the list's own query; a cut file ends with a line saying so.
pub async fn conversions(
    pool: &PgPool,
    filter: &ListFilter<'_>,
    cap: usize,
) -> Result<CsvExport, sqlx::Error> {
    let mut w = writer();
    w.write_record(CONVERSION_COLUMNS).expect(IN_MEMORY);
    let (mut before, mut rows, mut truncated) = (None, 0usize, false);
    'pages: loop {
        let batch = ListFilter {
            before,
            limit: BATCH,
            ..*filter
        };
        let page = conversion_view::page(pool, &batch).await?;
        for c in &page.items {
            if rows == cap {
                truncated = true;
                break 'pages;
            }
            write_conversion(&mut w, c).expect(IN_MEMORY);
            rows += 1;
        }
        match page.next_before {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    if truncated {
        w.write_record([format!(
            "truncated: only the newest {cap} rows; narrow the dates for the rest"
        )])
        .expect(IN_MEMORY);
    }
    let body = w.into_inner().expect(IN_MEMORY);
    Ok(CsvExport {
        body,
        rows,
        truncated,
    })
}

/// An import's bad-lines file, all its kept bad lines; `None`: no such import.
pub async fn import_bad_lines(pool: &PgPool, id: i64) -> Result<Option<CsvExport>, sqlx::Error> {
    let Some(cut) = import_lines::bad_lines_cut(pool, id).await? else {
        return Ok(None);
    };
    let kept = i64::try_from(BAD_LINES_KEPT).unwrap_or(i64::MAX);
    let lines = import_lines::bad_lines(pool, id, kept).await?;
    Ok(Some(bad_lines(&lines, cut)))
}

/// The columns of an import's bad-lines file, in order.
pub const BAD_LINE_COLUMNS: [&str; 4] = ["line", "field", "value", "reason"];

/// An import's bad lines as CSV: each line's number, the column its reason is about and that
/// column's value (empty for personal data), and the reason. `cut`: the importer kept only
/// these first ones, and the file's last line says so.
pub fn bad_lines(lines: &[LineError], cut: bool) -> CsvExport {
    let mut w = writer();
    w.write_record(BAD_LINE_COLUMNS).expect(IN_MEMORY);
    for l in lines {
        let cells = [
            Cell::Int(l.line),
            Cell::Text(l.field.as_deref().unwrap_or("")),
            Cell::Text(l.value.as_deref().unwrap_or("")),
            Cell::Text(&l.error),
        ];
        write_cells(&mut w, &cells).expect(IN_MEMORY);
    }
    if cut {
        w.write_record([format!(
            "first {} bad lines only: the import kept no more; fix these and upload the \
             corrected rows to see the rest",
            lines.len()
        )])
        .expect(IN_MEMORY);
    }
    CsvExport {
        body: w.into_inner().expect(IN_MEMORY),
        rows: lines.len(),
        truncated: cut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_a_spreadsheet_would_run_is_escaped_numbers_are_not() {
        let cases: [(Cell, &str); 12] = [
            (
                Cell::Text("=HYPERLINK(\"http://x\")"),
                "'=HYPERLINK(\"http://x\")",
            ),
            (Cell::Text("+1"), "'+1"),
            (Cell::Text("-1"), "'-1"),
            (Cell::Text("@SUM(A1)"), "'@SUM(A1)"),
            (Cell::Text("\tx"), "'\tx"),
            (Cell::Text("\rx"), "'\rx"),
            (Cell::Text("tx-1=2"), "tx-1=2"),
            (Cell::Text(""), ""),
            (Cell::Number(-12.5), "-12.5"),
            (Cell::Number(-5.0), "-5"),
            (Cell::Number(40.0), "40"),
            (Cell::Int(7), "7"),
        ];
        for (cell, want) in cases {
            assert_eq!(cell.render(), want, "{cell:?}");
        }
    }
}
