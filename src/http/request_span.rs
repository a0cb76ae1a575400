//! The root span of every request. tracing-actix-web's default span records the full target,
//! query string included, and postbacks carry the postback key and customer data in the query:
//! this one records the path and the matched route only.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        let path = request.path();
        // Postback keys could in principle be sent as a path segment by a confused integrator;
        // the route pattern is always safe, the raw path only when short.
        let path = if path.len() <= 200 {
            path
        } else {
            &path[..200]
        };
        tracing::info_span!(
            "http_request",
            request_id = %request_id,
            // A method is any token, up to the header limit: log only the standard ones.
            http.method = crate::metrics::method_label(request.method()),
            http.route = %request.match_pattern().unwrap_or_default(),
            http.path = %path.escape_debug(),
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = match outcome {
            Ok(resp) => resp.status().as_u16(),
            Err(e) => e.as_response_error().status_code().as_u16(),
        };
        DefaultRootSpanBuilder::on_request_end(span.clone(), outcome);
        span.in_scope(|| {
            if status >= 500 {
                tracing::warn!(status, "request finished");
            } else {
                tracing::debug!(status, "request finished");
            }
        });
    }
}
