//! An import upload as it arrives over HTTP, for the admin API and the dashboard alike: its kind
//! (a CSV body or a multipart form), the refusals before any row is read, and the file spooled.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::HttpRequest;
use futures_util::TryStreamExt;

use crate::domain::ActionSource;
use crate::http::params::media_type;
use crate::ingest::import::{
    self, spool, ImportOptions, Importer, Spooled, UploadError, BODY_LIMIT,
};
use crate::state::AppState;

/// Room for a multipart form's boundaries and small fields around the file.
const FORM_OVERHEAD: usize = 64 * 1024;

/// A request that carries an import upload (a POST of a CSV or a form), which gets
/// IMPORT_UPLOAD_TIMEOUT instead of REQUEST_TIMEOUT whichever route takes it.
pub fn is_upload(req: &HttpRequest) -> bool {
    req.method() == actix_web::http::Method::POST && upload_kind(req).is_ok()
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
