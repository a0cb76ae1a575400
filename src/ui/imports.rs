//! Import: upload a CSV of offline conversions and watch it progress. The upload goes through
//! the same spooling and import service as `POST /admin/v1/imports`.
//!
//! CSRF: the form is multipart, so the token travels as its first part, before the file (browsers
//! send parts in document order). It is checked before a byte of the file is stored; a form whose
//! first part is not `csrf` is refused. The token never goes in the URL, where logs and the
//! Referer header would carry it.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::TryStreamExt;
use maud::{html, Markup};

use super::import_rows;
use super::session::Session;
use super::{html_response, layout, page, refreshing_page, see_other, UiError};
use crate::domain::ActionSource;
use crate::http::ApiError;
use crate::ingest::import;
use crate::state::AppState;
use crate::storage::imports::{self, ImportRow};
use crate::upload::{importer, spool_file_part, upload_kind, UploadKind, UploadRefusal};

type State = web::Data<AppState>;

pub(super) async fn list(state: State, session: Session) -> Result<HttpResponse, UiError> {
    let recent = imports::recent(&state.pool, 50).await?;
    let body = html! {
        (upload_form(&session.csrf_token))
        section.card {
            h2 { "Recent imports" }
            @if recent.is_empty() {
                p.muted { "No imports yet." }
            } @else {
                table.list #imports {
                    thead { tr {
                        th { "Started" } th { "File" } th { "State" } th.num { "Rows" }
                        th.num { "Accepted" } th.num { "Duplicate" } th.num { "Skipped" }
                        th.num { "Unmatched" } th.num { "Invalid" }
                    } }
                    tbody {
                        @for i in &recent {
                            tr {
                                td.c-time data-label="Started" { a href={ "/ui/imports/" (i.id) } { (started(i, state.ui.zone)) } }
                                td data-label="File" { (import_rows::file_name(i.file_name.as_deref())) }
                                td.c-state data-label="State" { (i.state) }
                                td.num data-label="Rows" { (i.rows_done) " / " (i.rows_total) }
                                td.num data-label="Accepted" { (i.counts.accepted) }
                                td.num data-label="Duplicate" { (i.counts.duplicate) }
                                td.num data-label="Skipped" { (i.counts.skipped) }
                                td.num data-label="Unmatched" { (i.counts.unmatched) }
                                td.num data-label="Invalid" { (i.counts.invalid) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&session, "Import", body))
}

fn started(i: &ImportRow, zone: chrono_tz::Tz) -> String {
    let at = i.created_at.with_timezone(&zone);
    format!("{} {}", at.format("%Y-%m-%d %H:%M:%S"), zone.name())
}

fn upload_form(csrf: &str) -> Markup {
    html! {
        form.card method="post" action="/ui/imports" enctype="multipart/form-data" {
            // First, so the server checks it before it reads the file.
            input type="hidden" name="csrf" value=(csrf);
            // Before the file: the server reads the parts in order.
            label for="action_source" { "Action source for rows without a registered click" }
            select #action_source name="action_source" {
                option value="" selected { "the campaign's" }
                @for a in ActionSource::ALL {
                    option value=(a.as_str()) { (a.as_str()) }
                }
            }
            p.muted {
                "Meta needs a user agent and a page URL for " code { "website" } " events; "
                "a CRM export or a call centre's sales are " code { "phone_call" } ", "
                code { "physical_store" } " or " code { "system_generated" } ". A row's own "
                code { "action_source" } " column wins."
            }
            label for="file" { "CSV file of offline conversions" }
            input #file type="file" name="file" accept=".csv,text/csv" required;
            p.muted {
                "Header line: " code { "click_id,status" } " required; " code { "payout" } ", "
                code { "currency" } ", " code { "txid" } ", " code { "event_time" }
                " (ISO 8601 or Unix seconds), " code { "campaign" } ", " code { "em" } ", "
                code { "ph" } "… optional; Keitaro's " code { "Subid" } ", " code { "Tid" } " and "
                code { "Revenue" } " are read as " code { "click_id" } ", " code { "txid" } " and "
                code { "payout" } " (Revenue wins over a Payout column). Up to " (import::BODY_LIMIT_MB) " MB. Rows follow the postback rules: "
                "importing a file twice adds nothing, except that a row whose conversion "
                "failed replaces it."
            }
            button type="submit" { "Import" }
        }
    }
}

/// POST /ui/imports: 303 to the import's page once the file is stored.
pub(super) async fn upload(
    req: HttpRequest,
    payload: web::Payload,
    state: State,
    session: Session,
) -> Result<HttpResponse, UiError> {
    let refused = |r: UploadRefusal| refusal_page(&session, r);
    let mut form = match upload_kind(&req) {
        Ok(UploadKind::Multipart) => Multipart::new(req.headers(), payload.into_inner()),
        // The guard lets only forms with a token through: a CSV body has none.
        Ok(UploadKind::Csv) => return Err(UiError::Csrf),
        Err(r) => return Ok(refused(r)),
    };
    // The first part is the token the guard checked.
    if form.try_next().await.is_err() {
        return Err(UiError::Csrf);
    }
    let (spooled, options) = match spool_file_part(&mut form).await {
        Ok(s) => s,
        Err(r) => return Ok(refused(r)),
    };
    let id = import::start(importer(&state), spooled, options).await?;
    tracing::info!(import_id = id, "import started from the dashboard");
    Ok(see_other(&format!("/ui/imports/{id}")))
}

/// A refused upload: the reason, the status the API gives, and the form again.
fn refusal_page(session: &Session, r: UploadRefusal) -> HttpResponse {
    let reason = r.to_string();
    let status = actix_web::ResponseError::status_code(&ApiError::from(r));
    let status = if status.is_client_error() {
        status
    } else {
        StatusCode::BAD_REQUEST
    };
    let body = html! {
        p.error role="alert" { "The file was not imported: " (reason) "." }
        (upload_form(&session.csrf_token))
    };
    html_response(
        &mut HttpResponse::build(status),
        layout("Import refused", Some(&session.csrf_token), body),
    )
}

pub(super) async fn show(
    path: web::Path<String>,
    state: State,
    session: Session,
) -> Result<HttpResponse, UiError> {
    let missing = || UiError::NotFound(format!("There is no import {:?}.", *path));
    let id = crate::storage::row_id(&path).ok_or_else(missing)?;
    let i = imports::find(&state.pool, id).await?.ok_or_else(missing)?;
    let percent = percent(&i);
    let imported = import_rows::imported(&state, &i).await?;
    let c = &i.counts;
    let body = html! {
        section.card {
            p.big { (i.state) }
            p #import-file { "File: " (import_rows::file_name(i.file_name.as_deref())) }
            p.muted { "Started " (started(&i, state.ui.zone)) }
            label for="import-progress" { "Progress" }
            progress #import-progress value=(i.rows_done) max=(i.rows_total.max(1)) {
                (percent) "%"
            }
            p #import-percent { (percent) "% · " (i.rows_done) " of " (i.rows_total) " rows" }
            p #import-action-source {
                "Rows without a registered click: "
                @match i.default_action_source {
                    Some(source) => { "sent as " code { (source.as_str()) } }
                    None => { "sent as the campaign's action source" }
                }
            }
            @if let Some(reason) = &i.failure_reason {
                p.error role="alert" { (reason) }
            }
        }
        section.card {
            h2 { "Rows by outcome" }
            table #import-counts {
                tbody {
                    tr { th scope="row" { "accepted (event queued)" } td.num { (c.accepted) } }
                    tr { th scope="row" { "duplicate (recorded before)" } td.num { (c.duplicate) } }
                    tr { th scope="row" { "skipped (status sends no event)" } td.num { (c.skipped) } }
                    tr { th scope="row" { "unmatched (click not registered)" } td.num { (c.unmatched) } }
                    tr { th scope="row" { "invalid" } td.num { (c.invalid) } }
                }
            }
        }
        section.card {
            h2 { "What became of them" }
            p.muted { "The import's conversions now, as delivery, retries and late clicks settle them." }
            @let f = &i.fates;
            table #import-fates {
                tbody {
                    tr { th scope="row" { "sent" } td.num { (f.sent) } }
                    tr { th scope="row" { "pending (queued or retrying)" } td.num { (f.pending) } }
                    tr { th scope="row" { "failed (retry, or upload the corrected rows)" } td.num { (f.failed) } }
                    tr { th scope="row" { "expired (too old for the platform)" } td.num { (f.expired) } }
                    tr { th scope="row" { "unmatched (waiting for the click)" } td.num { (f.unmatched) } }
                    tr { th scope="row" { "skipped (never sent)" } td.num { (f.skipped) } }
                }
            }
        }
        (import_rows::bad_lines(&i))
        @if !i.dropped.is_empty() {
            section.card {
                h2 { "Fields dropped from recorded rows" }
                p.muted { "These rows were recorded without the field named (line 1: a column of the header, not read from any row): fix the file's column for the next import." }
                table #import-dropped {
                    thead { tr { th.num { "Line" } th { "Field" } th { "In the file" } th { "Why" } } }
                    tbody {
                        @for d in &i.dropped {
                            tr {
                                td.num { (d.line) }
                                td { code { (d.field) } }
                                // Only a payout's value is kept: the others may be personal data.
                                td { @if let Some(v) = &d.value { code.raw { (v) } } }
                                td { (d.reason) }
                            }
                        }
                    }
                }
            }
        }
        (imported)
        p { a href="/ui/imports" { "All imports" } }
    };
    let title = format!("Import {}", i.id);
    Ok(if i.state == "running" {
        refreshing_page(&session, &title, body)
    } else {
        page(&session, &title, body)
    })
}

/// How far the import got; a finished one is 100%.
fn percent(i: &ImportRow) -> i64 {
    if i.state == "done" {
        100
    } else if i.rows_total == 0 {
        0
    } else {
        (i.rows_done * 100 / i.rows_total).min(100)
    }
}
