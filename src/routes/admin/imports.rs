//! `POST /admin/v1/imports` (a CSV of offline conversions) and `GET /admin/v1/imports/{id}`.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::Admin;
use crate::http::ApiError;
use crate::ingest::import::{self, spool, ImportOptions, UploadError, BODY_LIMIT};
use crate::openapi::imports::ImportUpload;
use crate::openapi::problems::{problems, Admin as AdminProblem};
use crate::state::AppState;
use crate::storage::imports::{self, ImportRow};
use crate::upload::{
    default_action_source, importer, spool_file_part, upload_kind, UploadKind, UploadRefusal,
};

problems! {
    /// The import routes' own problems.
    ImportProblem: AdminProblem {
        EmptyFile = (400, "empty_file"),
        MissingFile = (400, "missing_file"),
        InvalidForm = (400, "invalid_form"),
        UploadFailed = (400, "upload_failed"),
        ImportNotFound = (404, "import_not_found"),
        InvalidHeader = (422, "invalid_header"),
        InvalidActionSource = (422, "invalid_action_source"),
    }
}

/// The import is recorded; its rows are processed in the background.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportStarted {
    id: i64,
}

impl From<UploadRefusal> for ApiError {
    fn from(r: UploadRefusal) -> Self {
        let detail = r.to_string();
        match r {
            UploadRefusal::MediaType(t) => ApiError::UnsupportedMediaType(t),
            UploadRefusal::NoFile => {
                ApiError::bad_request(ImportProblem::MissingFile.code(), detail)
            }
            UploadRefusal::Form(_) => {
                ApiError::bad_request(ImportProblem::InvalidForm.code(), detail)
            }
            UploadRefusal::ActionSource(_) => ApiError::Unprocessable {
                code: ImportProblem::InvalidActionSource.code(),
                detail,
            },
            UploadRefusal::Upload(UploadError::TooLarge) => {
                ApiError::PayloadTooLarge { limit: BODY_LIMIT }
            }
            UploadRefusal::Upload(UploadError::Empty) => {
                ApiError::bad_request(ImportProblem::EmptyFile.code(), detail)
            }
            UploadRefusal::Upload(UploadError::Header(_)) => ApiError::Unprocessable {
                code: ImportProblem::InvalidHeader.code(),
                detail,
            },
            UploadRefusal::Upload(UploadError::Body(_)) => {
                ApiError::bad_request(ImportProblem::UploadFailed.code(), detail)
            }
            UploadRefusal::Upload(e @ UploadError::Io(_)) => ApiError::Internal(e.into()),
        }
    }
}

/// `POST /admin/v1/imports`'s query.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Meta's action_source for rows without one and without a registered click (a multipart
    /// `action_source` part before the file wins).
    #[param(example = "phone_call")]
    pub action_source: Option<String>,
}

/// `POST /admin/v1/imports`: 202 `{"id"}` once the file is stored and the import recorded; the
/// rows are processed in the background (`GET /admin/v1/imports/{id}` shows how far).
#[utoipa::path(
    post, path = "/imports", tag = "admin", operation_id = "import_create",
    description = "Imports offline conversions from a CSV file (at most 50 MB): the body as \
                   `text/csv`, or the `file` part of a `multipart/form-data` form. The header \
                   line must name `click_id` and `status`; `payout`, `currency`, `txid`, \
                   `event_time` (ISO 8601 or Unix seconds), `campaign`, `em`, `ph`... are \
                   optional, and `action_source` (Meta's) for rows not on a website. Each row \
                   is recorded as a generic postback; a row whose conversion failed replaces \
                   it. Answers once the file is stored; the rows are processed in the \
                   background.",
    request_body(content(
        (String = "text/csv", example = "click_id,status,payout,currency\nc1,sale,12.5,EUR\n"),
        (ImportUpload = "multipart/form-data"),
    )),
    security(("admin_token" = [])),
    responses(
        (status = 202, body = ImportStarted, description = "Started",
            headers(("Location" = String, description = "The import's URL"))),
        ImportProblem,
    )
)]
pub async fn create(
    _: Admin,
    req: HttpRequest,
    query: web::Query<ImportQuery>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let kind = upload_kind(&req)?;
    let queried = default_action_source(query.action_source.as_deref())?;
    let (spooled, mut options) = match kind {
        UploadKind::Csv => (
            spool::spool(payload).await.map_err(UploadRefusal::from)?,
            ImportOptions::default(),
        ),
        UploadKind::Multipart => {
            spool_file_part(&mut Multipart::new(req.headers(), payload.into_inner())).await?
        }
    };
    // The form's field, else the query's.
    options.default_action_source = options.default_action_source.or(queried);
    let id = import::start(importer(&state), spooled, options).await?;
    tracing::info!(import_id = id, "import started");
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/admin/v1/imports/{id}")))
        .json(ImportStarted { id }))
}

/// `GET /admin/v1/imports/{id}`: state, progress, counts by outcome and the first line errors.
#[utoipa::path(
    get, path = "/imports/{id}", tag = "admin", operation_id = "import_get",
    params(("id" = String, Path, example = "1")),
    security(("admin_token" = [])),
    responses((status = 200, body = ImportRow, description = "The import"), ImportProblem)
)]
pub async fn get(
    _: Admin,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<web::Json<ImportRow>, ApiError> {
    let id = import_id(&path)?;
    let row = imports::find(&state.pool, id)
        .await?
        .ok_or_else(|| no_import(&path))?;
    Ok(web::Json(row))
}

/// `GET /admin/v1/imports/{id}/bad-lines.csv`: the import's bad lines as CSV, each with its
/// reason and, unless it is personal data, the value of the column the reason is about.
#[utoipa::path(
    get, path = "/imports/{id}/bad-lines.csv", tag = "admin", operation_id = "import_bad_lines",
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
        ImportProblem
    )
)]
pub async fn bad_lines_csv(
    _: Admin,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = import_id(&path)?;
    let csv = crate::export::import_bad_lines(&state.pool, id)
        .await?
        .ok_or_else(|| no_import(&path))?;
    Ok(csv.response(&format!("import-{id}-bad-lines")))
}

fn no_import(raw: &str) -> ApiError {
    ApiError::not_found(
        ImportProblem::ImportNotFound.code(),
        format!("no import {raw:?}"),
    )
}

/// An import id from the path; one that cannot be an id names no import.
fn import_id(raw: &str) -> Result<i64, ApiError> {
    crate::storage::row_id(raw).ok_or_else(|| no_import(raw))
}
