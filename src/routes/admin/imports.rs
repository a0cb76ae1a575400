//! `POST /admin/v1/imports` (a CSV of offline conversions) and `GET /admin/v1/imports/{id}`.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::TryStreamExt;
use serde_json::json;

use super::Admin;
use crate::domain::ActionSource;
use crate::http::params::media_type;
use crate::http::ApiError;
use crate::ingest::import::{
    self, spool, ImportOptions, Importer, Spooled, UploadError, BODY_LIMIT,
};
use crate::state::AppState;
use crate::storage::imports;

/// Room for a multipart form's boundaries and small fields around the file.
const FORM_OVERHEAD: usize = 64 * 1024;

/// The upload routes, which get IMPORT_UPLOAD_TIMEOUT instead of REQUEST_TIMEOUT.
pub fn is_upload_path(path: &str) -> bool {
    matches!(path, "/admin/v1/imports" | "/ui/imports")
}

/// The import service for a request's state.
pub fn importer(state: &AppState) -> Importer {
    Importer {
        pool: state.pool.clone(),
        campaigns: state.campaigns.clone(),
        delivery_signal: state.delivery_signal.clone(),
        metrics: state.metrics.clone(),
    }
}

/// How the file arrives.
pub enum UploadKind {
    Csv,
    Multipart,
}

/// The body's kind, refusing other media types and a declared length over the limit before
/// reading anything.
pub fn upload_kind(req: &HttpRequest) -> Result<UploadKind, UploadRefusal> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let kind = match media_type(req).as_str() {
        "text/csv" | "application/csv" | "text/plain" => UploadKind::Csv,
        "multipart/form-data" => UploadKind::Multipart,
        other => return Err(UploadRefusal::MediaType(other.to_owned())),
    };
    let limit = match kind {
        UploadKind::Csv => BODY_LIMIT,
        UploadKind::Multipart => BODY_LIMIT + FORM_OVERHEAD,
    };
    if declared.is_some_and(|n| n > limit) {
        return Err(UploadRefusal::Upload(UploadError::TooLarge));
    }
    Ok(kind)
}

/// Why an upload is refused, for the API's problem or the dashboard's page.
#[derive(Debug, thiserror::Error)]
pub enum UploadRefusal {
    #[error("send the file as text/csv or as multipart/form-data, not {0:?}")]
    MediaType(String),
    #[error("the form has no file part (name it \"file\")")]
    NoFile,
    #[error("the form is malformed: {0}")]
    Form(String),
    #[error("action_source {0}")]
    ActionSource(String),
    #[error(transparent)]
    Upload(#[from] UploadError),
}

impl From<UploadRefusal> for ApiError {
    fn from(r: UploadRefusal) -> Self {
        let detail = r.to_string();
        match r {
            UploadRefusal::MediaType(t) => ApiError::UnsupportedMediaType(t),
            UploadRefusal::NoFile => ApiError::bad_request("missing_file", detail),
            UploadRefusal::Form(_) => ApiError::bad_request("invalid_form", detail),
            UploadRefusal::ActionSource(_) => ApiError::Unprocessable {
                code: "invalid_action_source",
                detail,
            },
            UploadRefusal::Upload(UploadError::TooLarge) => {
                ApiError::PayloadTooLarge { limit: BODY_LIMIT }
            }
            UploadRefusal::Upload(UploadError::Empty) => {
                ApiError::bad_request("empty_file", detail)
            }
            UploadRefusal::Upload(UploadError::Header(_)) => ApiError::Unprocessable {
                code: "invalid_header",
                detail,
            },
            UploadRefusal::Upload(UploadError::Body(_)) => {
                ApiError::bad_request("upload_failed", detail)
            }
            UploadRefusal::Upload(e @ UploadError::Io(_)) => ApiError::Internal(e.into()),
        }
    }
}

/// The import's default action source, from a form field or the query (`None`: absent or
/// empty, the campaign's applies). The whole upload is refused for a bad one, before any row is
/// read: it is the uploader's choice for every row, answered at once, not a row's field.
pub fn default_action_source(value: Option<&str>) -> Result<Option<ActionSource>, UploadRefusal> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => ActionSource::parse(v)
            .map(Some)
            .map_err(|e| UploadRefusal::ActionSource(e.0)),
    }
}

/// Spools the next file part of a form (a part with a file name, or named `file`), reading an
/// `action_source` part sent before it.
pub async fn spool_file_part(
    form: &mut Multipart,
) -> Result<(Spooled, ImportOptions), UploadRefusal> {
    let mut options = ImportOptions::default();
    while let Some(mut field) = form
        .try_next()
        .await
        .map_err(|e| UploadRefusal::Form(e.to_string()))?
    {
        let is_file = field.name() == Some("file")
            || field
                .content_disposition()
                .is_some_and(|d| d.get_filename().is_some());
        if is_file {
            options.file_name = field
                .content_disposition()
                .and_then(|d| d.get_filename())
                .and_then(import::file_name);
            return Ok((spool::spool(field).await?, options));
        }
        if field.name() == Some("action_source") {
            let mut value = Vec::new();
            while let Some(chunk) = field
                .try_next()
                .await
                .map_err(|e| UploadRefusal::Form(e.to_string()))?
            {
                value.extend_from_slice(&chunk);
                if value.len() > 64 {
                    return Err(UploadRefusal::ActionSource("is too long".into()));
                }
            }
            let value = String::from_utf8_lossy(&value);
            options.default_action_source = default_action_source(Some(&value))?;
        }
    }
    Err(UploadRefusal::NoFile)
}

/// `POST /admin/v1/imports`'s query.
#[derive(Debug, serde::Deserialize)]
pub struct ImportQuery {
    /// Meta's action source for rows without one and without a registered click.
    pub action_source: Option<String>,
}

/// `POST /admin/v1/imports`: 202 `{"id"}` once the file is stored and the import recorded; the
/// rows are processed in the background (`GET /admin/v1/imports/{id}` shows how far).
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
        .json(json!({ "id": id })))
}

/// `GET /admin/v1/imports/{id}`: state, progress, counts by outcome and the first line errors.
pub async fn get(
    _: Admin,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = import_id(&path)?;
    let row = imports::find(&state.pool, id)
        .await?
        .ok_or_else(|| no_import(&path))?;
    Ok(HttpResponse::Ok().json(row))
}

/// `GET /admin/v1/imports/{id}/bad-lines.csv`: the import's bad lines as CSV, each with its
/// reason and, unless it is personal data, the value of the column the reason is about.
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
    ApiError::not_found("import_not_found", format!("no import {raw:?}"))
}

/// An import id from the path; one that cannot be an id names no import.
fn import_id(raw: &str) -> Result<i64, ApiError> {
    crate::storage::row_id(raw).ok_or_else(|| no_import(raw))
}
