//! The one error type of the HTTP boundary. Known cases become 4xx problem bodies with a stable
//! `code`; an unreachable database becomes 503 with `Retry-After`; anything else is an opaque 500
//! whose cause chain is logged, never sent.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::domain::ParseError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String },
    #[error("missing or invalid credentials")]
    Unauthorized,
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    #[error("{detail}")]
    NotFound { code: &'static str, detail: String },
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported content type {0:?}")]
    UnsupportedMediaType(String),
    #[error("the request took too long")]
    RequestTimeout,
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// Too many wrong credentials from this address (`http::auth_limit`); a right one passes.
    #[error(
        "too many attempts with a missing or wrong credential from this address; retry after \
         {retry_after_secs} s (a valid credential is never refused)"
    )]
    TooManyFailures { retry_after_secs: u64 },
    #[error("database unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("server busy")]
    Overloaded,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
    /// An upstream (Meta) refused or did not answer a call made on the client's behalf;
    /// `upstream` is what it said, added to the problem body as `meta` (`tiktok` for TikTok).
    #[error("{detail}")]
    Upstream {
        timed_out: bool,
        code: &'static str,
        detail: String,
        upstream: Option<serde_json::Value>,
    },
}

impl ApiError {
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    /// A field that is present but not acceptable.
    pub fn invalid_field(field: &str, err: ParseError) -> Self {
        ApiError::Unprocessable {
            code: "invalid_field",
            detail: format!("{field} {err}"),
        }
    }

    pub fn missing_field(field: &str) -> Self {
        ApiError::BadRequest {
            code: "missing_field",
            detail: format!("{field} is required"),
        }
    }

    pub fn not_found(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::NotFound {
            code,
            detail: detail.into(),
        }
    }

    /// A public route naming a campaign that is unknown, disabled or cannot exist: one answer.
    pub fn no_enabled_campaign(key: &str) -> Self {
        ApiError::not_found(
            "campaign_not_found",
            format!("no enabled campaign with key {key:?}"),
        )
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Unprocessable { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::NotFound { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Upstream { code, .. } => code,
            ApiError::Unauthorized => "unauthorized",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::TooManyRequests { .. } => "rate_limited",
            ApiError::TooManyFailures { .. } => "too_many_failed_attempts",
            ApiError::RequestTimeout => "request_timeout",
            ApiError::Unavailable(_) => "database_unavailable",
            ApiError::Overloaded => "overloaded",
            ApiError::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        self.status_code().canonical_reason().unwrap_or("Error")
    }
}

pub use crate::storage::is_transient_db_error;
use crate::storage::Taken;

impl From<crate::storage::group_commit::WriteError> for ApiError {
    fn from(e: crate::storage::group_commit::WriteError) -> Self {
        use crate::storage::group_commit::WriteError;
        match e {
            WriteError::Overloaded => ApiError::Overloaded,
            WriteError::Unavailable(m) => ApiError::Unavailable(anyhow::anyhow!(m)),
            e @ WriteError::Failed(_) => ApiError::Internal(e.into()),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if is_transient_db_error(&e) {
            return ApiError::Unavailable(e.into());
        }
        if let sqlx::Error::Database(db) = &e {
            // Class 22, data exception: a value Postgres cannot hold (a NUL character, an
            // out-of-range number) reached it; the request is at fault, not the server.
            if db.code().is_some_and(|c| c.starts_with("22")) {
                return ApiError::bad_request(
                    "invalid_value",
                    "a value in the request cannot be stored (for example a NUL character)",
                );
            }
        }
        if let Some(taken) = crate::storage::taken(&e) {
            let (code, detail) = match taken {
                Taken::CampaignKey => {
                    ("campaign_exists", "a campaign with this key already exists")
                }
                Taken::Conversion => (
                    "duplicate_conversion",
                    "this conversion is already recorded",
                ),
                Taken::Other => ("conflict", "the request conflicts with stored data"),
            };
            return ApiError::Conflict {
                code,
                detail: detail.into(),
            };
        }
        ApiError::Internal(e.into())
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast::<sqlx::Error>() {
            Ok(db) => db.into(),
            Err(e) => ApiError::Internal(e),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } | ApiError::TooManyFailures { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unavailable(_) | ApiError::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Upstream {
                timed_out: true, ..
            } => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Upstream { .. } => StatusCode::BAD_GATEWAY,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let detail = match self {
            ApiError::Internal(e) => {
                tracing::error!(error.cause_chain = ?e, "request failed");
                "an internal error occurred; it has been logged".to_owned()
            }
            ApiError::Unavailable(e) => {
                tracing::warn!(error.cause_chain = %e, "database unavailable");
                "the database is unavailable; retry shortly".to_owned()
            }
            ApiError::Overloaded => "the server is at capacity; retry shortly".to_owned(),
            other => other.to_string(),
        };
        let mut resp = HttpResponse::build(status);
        resp.insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE));
        // Also set by a middleware, but a middleware's own error (the deadline's 408) skips it.
        resp.insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
        match self {
            ApiError::Unavailable(_) | ApiError::Overloaded => {
                resp.insert_header((header::RETRY_AFTER, "1"));
            }
            ApiError::TooManyRequests { retry_after_secs }
            | ApiError::TooManyFailures { retry_after_secs } => {
                resp.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            ApiError::Unauthorized => {
                resp.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            // The body may be half read: this connection cannot carry another request.
            ApiError::RequestTimeout => {
                resp.insert_header((header::CONNECTION, "close"));
            }
            _ => {}
        }
        let mut body = problem(status, self.code(), self.title(), &detail);
        if let ApiError::Upstream {
            upstream: Some(said),
            ..
        } = self
        {
            // Named for the platform that said it: `tiktok_*` codes are TikTok's.
            let member = if self.code().starts_with("tiktok") {
                "tiktok"
            } else {
                "meta"
            };
            body[member] = said.clone();
        }
        resp.body(body.to_string())
    }
}

/// The charset is spelled out: clients that guess it (Python's requests does) misread non-ASCII
/// details otherwise.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json; charset=utf-8";

/// An RFC 9457 problem; `request_id` is there when built while serving a request.
pub fn problem_body(status: StatusCode, code: &str, title: &str, detail: &str) -> String {
    problem(status, code, title, detail).to_string()
}

/// [`problem_body`] as a value, for an answer that adds members.
fn problem(status: StatusCode, code: &str, title: &str, detail: &str) -> serde_json::Value {
    let mut body = json!({
        "type": format!("https://capi-bridge.dev/problems/{code}"),
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
        "code": code,
    });
    if let Some(id) = crate::http::request_id::current() {
        body["request_id"] = id.into();
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    fn body(e: &ApiError) -> serde_json::Value {
        let bytes = e.error_response().into_body().try_into_bytes().unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn internal_errors_are_opaque() {
        let e = ApiError::Internal(anyhow::anyhow!("relation \"secret_table\" does not exist"));
        assert_eq!(e.status_code(), 500);
        let b = body(&e);
        assert!(!b.to_string().contains("secret_table"));
        assert_eq!(b["code"], "internal_error");
    }

    #[test]
    fn pool_timeout_is_503_with_retry_after() {
        let e = ApiError::from(sqlx::Error::PoolTimedOut);
        let resp = e.error_response();
        assert_eq!(resp.status(), 503);
        assert_eq!(resp.headers().get("retry-after").unwrap(), "1");
        assert_eq!(body(&e)["code"], "database_unavailable");
    }

    #[test]
    fn problem_bodies_have_every_member() {
        let b = body(&ApiError::missing_field("subid"));
        assert_eq!(b["status"], 400);
        assert_eq!(b["code"], "missing_field");
        assert_eq!(b["detail"], "subid is required");
        assert_eq!(b["title"], "Bad Request");
        assert!(b["type"].as_str().unwrap().ends_with("/missing_field"));
    }

    #[test]
    fn what_the_platform_said_is_named_for_it() {
        let said = json!({"message": "Invalid OAuth access token", "code": 190});
        let upstream = |code| ApiError::Upstream {
            timed_out: false,
            code,
            detail: "refused".into(),
            upstream: Some(said.clone()),
        };
        let meta = body(&upstream("meta_rejected"));
        assert_eq!((&meta["meta"], &meta["tiktok"]), (&said, &json!(null)));
        assert_eq!(meta["code"], "meta_rejected");
        let tiktok = body(&upstream("tiktok_rejected"));
        assert_eq!((&tiktok["tiktok"], &tiktok["meta"]), (&said, &json!(null)));
    }
}
