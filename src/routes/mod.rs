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
use actix_web::{web, HttpResponse};

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

pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("route_not_found", "no such endpoint"))
}
