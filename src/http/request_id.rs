//! The request id a user can quote: the one in the root span (so in every log line of the
//! request), in the `X-Request-Id` response header and in problem bodies.
//!
//! A client's own `X-Request-Id` is not honoured: ids are UUIDv7 generated here, so one cannot
//! be forged to mix a request's log lines with another's.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use tracing_actix_web::RequestId;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request being served, when called while serving one.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Runs the rest of the request with its id in scope and stamps it on the response. Sits inside
/// `TracingLogger`, which assigns the id.
pub async fn stamp(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .extensions()
        .get::<RequestId>()
        .map(ToString::to_string)
        .unwrap_or_default();
    match CURRENT.scope(id.clone(), next.call(req)).await {
        Ok(mut res) => {
            if let Ok(value) = HeaderValue::from_str(&id) {
                res.headers_mut().insert(HEADER, value);
            }
            Ok(res)
        }
        // An inner middleware's error (the deadline's 408) is turned into a response later, by
        // the server, outside this scope: it takes the id along.
        Err(e) => Err(Stamped { inner: e, id }.into()),
    }
}

/// An error whose response is built with its request's id in scope.
#[derive(Debug)]
struct Stamped {
    inner: actix_web::Error,
    id: String,
}

impl std::fmt::Display for Stamped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl ResponseError for Stamped {
    fn status_code(&self) -> StatusCode {
        self.inner.as_response_error().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = CURRENT.sync_scope(self.id.clone(), || self.inner.error_response());
        if let Ok(value) = HeaderValue::from_str(&self.id) {
            res.headers_mut().insert(HEADER, value);
        }
        res
    }
}
