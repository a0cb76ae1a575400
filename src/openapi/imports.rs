//! The import routes' documentation: their answers and problems.

#![allow(dead_code)]

use std::collections::BTreeMap;

use utoipa::openapi::{RefOr, Response};
use utoipa::{IntoResponses, ToSchema};

use super::paths::{problems, ADMIN_THROTTLED, COMMON};

#[derive(ToSchema)]
pub struct ImportStarted {
    id: i64,
}

/// The multipart form: the file in the part named `file`; an `action_source` part before it
/// sets the default for rows without a registered click.
#[derive(ToSchema)]
pub struct ImportUpload {
    #[schema(example = "phone_call")]
    action_source: Option<String>,
    #[schema(format = Binary, content_media_type = "text/csv")]
    file: String,
}

#[derive(ToSchema)]
pub struct ImportCounts {
    accepted: i64,
    duplicate: i64,
    /// Rows whose status maps to no event (or whose click lacks required consent).
    skipped: i64,
    unmatched: i64,
    invalid: i64,
}

/// The import's conversions as they stand now (they follow delivery, retries, late clicks).
#[derive(ToSchema)]
pub struct ImportFates {
    sent: i64,
    pending: i64,
    failed: i64,
    expired: i64,
    unmatched: i64,
    skipped: i64,
}

#[derive(ToSchema)]
pub struct ImportLineError {
    /// The line in the file; the header is line 1.
    line: i64,
    error: String,
    /// The column the error is about, when it is one.
    field: Option<String>,
    /// That column's value as the file has it; absent for personal data (`em`, `ph`, `ip`...).
    value: Option<String>,
}

#[derive(ToSchema)]
pub struct Import {
    id: i64,
    created_at: String,
    /// The uploaded file's name, without folders; `null` when the upload named none (a
    /// `text/csv` body).
    file_name: Option<String>,
    finished_at: Option<String>,
    #[schema(pattern = "^(running|done|failed)$")]
    state: String,
    failure_reason: Option<String>,
    rows_total: i64,
    rows_done: i64,
    /// The action source chosen for rows without a registered click (`null`: none chosen).
    default_action_source: Option<String>,
    /// The answers at upload; they never change.
    counts: ImportCounts,
    fates: ImportFates,
    /// The first 100 bad lines, by line, with rows recorded as unmatched that cannot be sent
    /// (all of them kept: `GET /admin/v1/imports/{id}/bad-lines.csv`).
    errors: Vec<ImportLineError>,
    /// The importer kept only the first 10,000 bad lines.
    bad_lines_cut: bool,
    /// The first 100 fields dropped from rows that were recorded.
    dropped: Vec<ImportLineDropped>,
}

#[derive(ToSchema)]
pub struct ImportLineDropped {
    /// The line in the file; the header is line 1 (a column not read from any row).
    line: i64,
    field: String,
    reason: String,
    /// A dropped payout's text as the file has it; absent for every other field (their values
    /// may be personal data).
    value: Option<String>,
}

pub struct ImportErrors;

impl IntoResponses for ImportErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut all = problems(&[
            (
                400,
                "`empty_file`, `missing_file`, `invalid_form`, `upload_failed`",
            ),
            (401, "`unauthorized`: missing or wrong admin token"),
            ADMIN_THROTTLED,
            (404, "`import_not_found`"),
            (
                415,
                "`unsupported_media_type`: send text/csv or multipart/form-data",
            ),
            (
                422,
                "`invalid_header`: the header line lacks click_id or status; \
                 `invalid_action_source`: the default action_source is not one of Meta's",
            ),
        ]);
        all.extend(problems(COMMON));
        all.insert(
            "408".into(),
            problems(&[(
                408,
                "`request_timeout`: the upload did not finish within IMPORT_UPLOAD_TIMEOUT",
            )])
            .remove("408")
            .expect("just built"),
        );
        all.insert(
            "413".into(),
            problems(&[(413, "`payload_too_large`: the file is over 50 MB")])
                .remove("413")
                .expect("just built"),
        );
        all
    }
}

#[utoipa::path(
    post, path = "/admin/v1/imports", tag = "admin",
    description = "Imports offline conversions from a CSV file (at most 50 MB): the body as \
                   `text/csv`, or the `file` part of a `multipart/form-data` form. The header \
                   line must name `click_id` and `status`; `payout`, `currency`, `txid`, \
                   `event_time` (ISO 8601 or Unix seconds), `campaign`, `em`, `ph`... are \
                   optional, and `action_source` (Meta's) for rows not on a website. Each row \
                   is recorded as a generic postback; a row whose conversion failed replaces \
                   it. Answers once the file is stored; the rows are processed in the \
                   background.",
    params((
        "action_source" = Option<String>, Query, example = "phone_call",
        description = "Meta's action_source for rows without one and without a registered \
                       click (a multipart `action_source` part before the file wins)"
    )),
    request_body(content(
        (String = "text/csv", example = "click_id,status,payout,currency\nc1,sale,12.5,EUR\n"),
        (ImportUpload = "multipart/form-data"),
    )),
    security(("admin_token" = [])),
    responses((status = 202, body = ImportStarted, description = "Started"), ImportErrors)
)]
fn import_create() {}

#[utoipa::path(
    get, path = "/admin/v1/imports/{id}", tag = "admin",
    params(("id" = String, Path, example = "1")),
    security(("admin_token" = [])),
    responses((status = 200, body = Import, description = "The import"), ImportErrors)
)]
fn import_get() {}

#[utoipa::path(
    get, path = "/admin/v1/imports/{id}/bad-lines.csv", tag = "admin",
    description = "The import's bad lines as a CSV download: `line`, `field` (the column the \
                   reason is about), `value` (its value, empty for personal data such as `em` \
                   or `ph`) and `reason`. Up to 10,000 are kept per import; when there were \
                   more, `X-Export-Truncated: true` and a last line `first 10000 bad lines \
                   only...` say so. Text cells starting with `=`, `+`, `-`, `@`, a tab or a \
                   carriage return get a leading `'`, as in the conversions export.",
    params(("id" = String, Path, example = "1")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The CSV file (`Content-Disposition: attachment`)",
         content_type = "text/csv", body = String,
         example = "line,field,value,reason\n3,status,'=1+1,status is ignored\n5,ph,,ph is not a phone number\n"),
        ImportErrors
    )
)]
fn import_bad_lines() {}
