//! `/admin/v1`: campaigns, clicks and conversions, behind `Authorization: Bearer <ADMIN_TOKEN>`.

pub mod campaigns;
pub mod clicks;
pub mod conversions;

use std::future::{ready, Ready};

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};

use crate::http::auth::{bearer_token, secret_matches};
use crate::http::ApiError;
use crate::startup::AppState;

/// Proof that the request carried the admin token. Taking it as a handler argument is what
/// protects an admin route.
pub struct Admin;

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ok = req
            .app_data::<web::Data<AppState>>()
            .zip(bearer_token(req))
            .is_some_and(|(state, token)| secret_matches(token, state.admin_token.as_bytes()));
        ready(if ok {
            Ok(Admin)
        } else {
            Err(ApiError::Unauthorized)
        })
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin/v1")
            .route("/campaigns", web::post().to(campaigns::create))
            .route("/campaigns", web::get().to(campaigns::list))
            .route("/campaigns/{key}", web::get().to(campaigns::get))
            .route("/campaigns/{key}", web::patch().to(campaigns::patch))
            .route("/campaigns/{key}", web::delete().to(campaigns::delete))
            .route(
                "/campaigns/{key}/retry-failed",
                web::post().to(conversions::retry_campaign),
            )
            .route("/clicks/{click_id}", web::get().to(clicks::get))
            .route("/conversions", web::get().to(conversions::list))
            .route("/conversions/{id}", web::get().to(conversions::get))
            .route(
                "/conversions/{id}/retry",
                web::post().to(conversions::retry),
            ),
    );
}

/// Parses an admin JSON body; unknown fields are refused by name.
pub fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("invalid_body", format!("invalid JSON body: {e}")))
}
