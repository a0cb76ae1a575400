//! Errors produced by actix itself (an unknown method, a body over the limit, a malformed
//! request) get the same problem body as ours.

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::HttpResponse;

use crate::http::error::problem_body;

/// Rewrites a framework error into a problem; pages and our own problems pass unchanged.
pub fn problem_for_framework_errors<B>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        // Dashboard pages render their own errors.
        .is_some_and(|v| {
            v.as_bytes().starts_with(b"application/problem+json")
                || v.as_bytes().starts_with(b"text/html")
        });
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (code, detail) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "the request body is larger than 64 KiB",
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this endpoint does not take that method",
        ),
        StatusCode::NOT_FOUND => ("route_not_found", "no such endpoint"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "unsupported content type")
        }
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
            ("headers_too_large", "the request headers are too large")
        }
        s if s.is_server_error() => (
            "internal_error",
            "an internal error occurred; it has been logged",
        ),
        _ => ("bad_request", "the request is malformed"),
    };
    let (req, old) = res.into_parts();
    let mut new = HttpResponse::build(status);
    new.insert_header((
        header::CONTENT_TYPE,
        crate::http::error::PROBLEM_CONTENT_TYPE,
    ));
    for name in [header::ALLOW, header::RETRY_AFTER, header::CACHE_CONTROL] {
        if let Some(v) = old.headers().get(&name) {
            new.insert_header((name, v.clone()));
        }
    }
    let title = status.canonical_reason().unwrap_or("Error");
    let resp: HttpResponse<BoxBody> = new.body(problem_body(status, code, title, detail));
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, resp).map_body(|_, b| EitherBody::right(b)),
    ))
}
