//! An import's page, row by row: the file it came from, its bad lines (and their CSV), and the
//! conversions its rows became, by event time.

use actix_web::{web, HttpResponse};
use maud::{html, Markup};

use super::days::{when, zone_label};
use super::UiError;
use crate::state::AppState;
use crate::storage::import_lines;
use crate::storage::imports::ImportRow;

/// Conversions of an import listed on its page.
const IMPORTED_SHOWN: i64 = 100;

/// What an import without a file name says (a text/csv body sent to the API names none).
pub const NO_FILE_NAME: &str = "(no file name: uploaded through the API)";

/// An import's file name, or why it has none.
pub fn file_name(name: Option<&str>) -> Markup {
    html! {
        @match name {
            Some(name) => { span.file-name { (name) } }
            None => { span.file-name.muted { (NO_FILE_NAME) } }
        }
    }
}

/// Where an import's bad-lines CSV is served.
pub fn bad_lines_url(id: i64) -> String {
    format!("/ui/imports/{id}/bad-lines.csv")
}

/// The bad lines the page shows (the first ones), with a link to all of them as CSV.
pub fn bad_lines(i: &ImportRow) -> Markup {
    html! {
        section.card {
            h2 { "Bad lines" }
            @if i.errors.is_empty() {
                p.muted { "No bad lines." }
            } @else {
                p.export {
                    a #bad-lines-csv href=(bad_lines_url(i.id)) download { "Download the bad lines as CSV" }
                    " with each reason and, for columns that are not personal data, the bad value"
                    @if i.bad_lines_cut { " (the first " (crate::ingest::import::BAD_LINES_KEPT) " were kept)" }
                    "."
                }
                table #import-errors {
                    thead { tr { th.num { "Line" } th { "Column" } th { "Value" } th { "Error" } } }
                    tbody {
                        @for e in &i.errors {
                            tr {
                                td.num { (e.line) }
                                td { @if let Some(f) = &e.field { code { (f) } } }
                                td { @if let Some(v) = &e.value { code.raw { (v) } } }
                                td { (e.error) }
                            }
                        }
                    }
                }
                @if i.errors.len() as i64 == crate::storage::imports::ERRORS_SHOWN {
                    p.muted { "The first " (i.errors.len()) " are shown; the CSV has all that were kept." }
                }
            }
        }
    }
}

/// The import's conversions by event time, each linking to its page.
pub async fn imported(state: &AppState, i: &ImportRow) -> Result<Markup, sqlx::Error> {
    let rows = import_lines::imported(&state.pool, i.id, IMPORTED_SHOWN).await?;
    let f = &i.fates;
    let total = f.sent + f.pending + f.failed + f.expired + f.unmatched + f.skipped;
    Ok(html! {
        section.card {
            h2 { "Conversions by event time" }
            @if rows.is_empty() {
                p.muted { "No conversions recorded by this import." }
            } @else {
                @if total > rows.len() as i64 {
                    p.muted { "The first " (rows.len()) " of " (total) " by event time." }
                }
                table #import-conversions {
                    thead { tr {
                        th { (zone_label("Event time", state.ui.zone)) } th { "Click id" } th { "Txid" } th { "Status" }
                        th { "Event" } th { "State" } th { "Details" }
                    } }
                    tbody {
                        @for c in &rows {
                            tr {
                                td { (when(&c.event_time, state.ui.zone)) }
                                td { code { (c.click_id) } }
                                td { code { (c.txid) } }
                                td { (c.status) }
                                td { (c.event_name.as_deref().unwrap_or("—")) }
                                td { span class={ "state state-" (c.state.as_str()) } { (c.state.as_str()) } }
                                td { a href={ "/ui/conversions/" (c.id) } { "Details" } }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// `GET /ui/imports/{id}/bad-lines.csv`: the same file as the admin API's.
pub async fn bad_lines_csv(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let missing = || UiError::NotFound(format!("There is no import {:?}.", *path));
    let id = crate::storage::row_id(&path).ok_or_else(missing)?;
    let csv = crate::export::import_bad_lines(&state.pool, id)
        .await?
        .ok_or_else(missing)?;
    Ok(csv.response(&format!("import-{id}-bad-lines")))
}
