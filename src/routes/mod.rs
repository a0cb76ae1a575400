//! The HTTP surface: public click capture and postbacks, health, and the admin API.

pub mod admin;
mod click_budget;
mod click_fields;
pub mod clicks;
pub mod health;
pub mod metrics;
pub mod postback;
pub mod tag;

use actix_cors::Cors;
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};

use crate::http::error::problem_body;
use crate::http::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").get(health::healthz))
        .service(web::resource("/readyz").get(health::readyz))
        .service(web::resource("/metrics").get(metrics::guarded))
        .service(web::resource("/openapi.json").get(crate::openapi::serve))
        .service(
            web::resource("/v1/clicks")
                // Landing pages live on other domains.
                .wrap(
                    Cors::default()
                        .allow_any_origin()
                        .allowed_methods(["GET", "POST"])
                        .allow_any_header()
                        .max_age(86_400),
                )
                .route(web::post().to(clicks::register_post))
                .route(web::get().to(clicks::register_get)),
        )
        .service(
            web::resource("/v1/tag.js")
                .get(tag::script)
                // Link checkers and CDNs probe assets with HEAD.
                .route(web::head().to(tag::script)),
        )
        .service(
            web::resource("/v1/campaigns/{key}/tag-config")
                .wrap(
                    Cors::default()
                        .allow_any_origin()
                        .allowed_methods(["GET"])
                        .max_age(86_400),
                )
                .get(tag::config),
        )
        .service(
            web::resource("/v1/postback/{tracker}")
                .route(web::get().to(postback::receive))
                .route(web::post().to(postback::receive)),
        )
        .configure(admin::configure);
}

/// Counts every request by its route pattern (never the raw path: ids would explode the
/// label set), method and status.
pub async fn count_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let route = req
        .match_pattern()
        .unwrap_or_else(|| crate::metrics::UNMATCHED_ROUTE.to_owned());
    let method = crate::metrics::method_label(req.method());
    let metrics = req
        .app_data::<web::Data<crate::state::AppState>>()
        .map(|s| std::sync::Arc::clone(&s.metrics));
    let res = next.call(req).await;
    if let Some(m) = metrics {
        let status = match &res {
            Ok(r) => r.status().as_u16(),
            Err(e) => e.as_response_error().status_code().as_u16(),
        };
        m.http_request(&route, method, status);
    }
    res
}

/// Bounds a whole request, body included: actix's own timeout covers only the request head,
/// and a client that sends a head and then a body that never ends would hold its connection
/// (and a file descriptor) forever.
pub async fn deadline(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // An import upload may be 50 MB: it has its own, longer limit.
    let upload = req.method() == actix_web::http::Method::POST
        && crate::routes::admin::imports::is_upload_path(req.path());
    let limit = req
        .app_data::<web::Data<crate::state::AppState>>()
        .map(|s| {
            if upload {
                s.import_upload_timeout
            } else {
                s.request_timeout
            }
        })
        .unwrap_or(std::time::Duration::from_secs(15));
    match tokio::time::timeout(limit, next.call(req)).await {
        Ok(res) => res,
        Err(_) => Err(ApiError::RequestTimeout.into()),
    }
}

pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("route_not_found", "no such endpoint"))
}

/// Errors produced by actix itself (an unknown method, a body over the limit, a malformed
/// request) get the same problem body as ours.
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
    let too_large;
    let (code, detail) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            too_large = format!(
                "the request body is larger than {} KiB",
                crate::http::BODY_LIMIT / 1024
            );
            ("payload_too_large", too_large.as_str())
        }
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
