//! `POST /admin/v1/imports` (a CSV of offline conversions) and `GET /admin/v1/imports/{id}`.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::Admin;
use crate::http::ApiError;
use crate::ingest::import::upload::{
    default_action_source, importer, spool_file_part, upload_kind, UploadKind, UploadRefusal,
};
use crate::ingest::import::{self, spool, ImportOptions, UploadError, BODY_LIMIT};
use crate::startup::AppState;
use crate::storage::imports;

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
    raw.parse().map_err(|_| no_import(raw))
}
