//! The HTTP surface: public click capture and postbacks, health, and the admin API.

pub mod admin;
mod click_budget;
mod click_fields;
pub mod clicks;
pub mod health;
pub mod metrics;
mod openapi;
pub mod postback;
pub mod tag;

use actix_cors::Cors;
use actix_web::{web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::http::ApiError;
use crate::openapi::route::{op, resource, resource_with};
pub use openapi::registered;

/// The routes on the server's own `ServiceConfig`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    api(&mut ServiceConfig::new(cfg));
}

/// Every route, registered once: the server's routing and the OpenAPI document (the routes that
/// are documented operations) both come from here.
pub fn api(cfg: &mut ServiceConfig) {
    cfg.map(undocumented)
        .service(resource_with(
            [op!(clicks::register_post), op!(clicks::register_get)],
            |r| r.wrap(open_cors(&["GET", "POST"]).allow_any_header()),
        ))
        // Link checkers and CDNs probe assets with HEAD: routed, not an operation of its own
        // (schemathesis cannot read a HEAD answer the HTTP layer refuses before routing).
        .service(resource_with([op!(tag::script)], |r| {
            r.route(web::head().to(tag::script))
        }))
        .service(resource_with([op!(tag::config)], |r| {
            r.wrap(open_cors(&["GET"]))
        }))
        .service(resource([
            op!(postback::receive),
            op!(postback::receive_post),
        ]))
        .configure(admin::configure);
}

/// Routes outside the document: health, metrics and the document itself.
fn undocumented(cfg: &mut web::ServiceConfig) -> &mut web::ServiceConfig {
    cfg.service(web::resource("/healthz").get(health::healthz))
        .service(web::resource("/readyz").get(health::readyz))
        .service(web::resource("/metrics").get(metrics::guarded))
        .service(web::resource("/openapi.json").get(openapi::serve))
}

/// Landing pages live on other domains: their routes answer any origin.
fn open_cors(methods: &[&'static str]) -> Cors {
    Cors::default()
        .allow_any_origin()
        .allowed_methods(methods.iter().copied())
        .max_age(86_400)
}

pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("route_not_found", "no such endpoint"))
}
