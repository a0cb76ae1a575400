//! `/admin/v1`: campaigns, clicks and conversions, behind `Authorization: Bearer <ADMIN_TOKEN>`.

pub mod campaigns;
pub mod clicks;
pub mod conversions;
pub mod imports;
pub mod meta_quality;
pub mod quality;
pub mod test_event;
pub mod tiktok_test_event;

use std::future::{ready, Ready};

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use secrecy::ExposeSecret;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::{Campaign, CampaignKey};
use crate::http::auth::{bearer_token, secret_matches};
use crate::http::auth_limit::Credential;
use crate::http::client_ip::client_ip;
use crate::http::params::{parse_urlencoded, Params};
use crate::http::ApiError;
use crate::openapi::route::{op, resource};
use crate::state::AppState;

/// Proof that the request carried the admin token. Taking it as a handler argument is what
/// protects an admin route. Wrong tokens count against the client's failed-authentication limit.
pub struct Admin;

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>() else {
            return ready(Err(ApiError::Unauthorized));
        };
        let ok = bearer_token(req).is_some_and(|token| {
            secret_matches(token, state.admin_token.expose_secret().as_bytes())
        });
        ready(if ok {
            Ok(Admin)
        } else {
            let ip = client_ip(req, &state.trusted_proxies);
            Err(state.auth_failures.failed(ip, Credential::AdminToken))
        })
    }
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/admin/v1")
            // Answers hold campaigns' settings and visitors' data: no cache may keep them.
            .wrap(
                actix_web::middleware::DefaultHeaders::new()
                    .add((actix_web::http::header::CACHE_CONTROL, "no-store")),
            )
            .service(resource([op!(campaigns::create), op!(campaigns::list)]))
            .service(resource([
                op!(campaigns::get),
                op!(campaigns::patch),
                op!(campaigns::delete),
            ]))
            .service(resource([op!(quality::report)]))
            .service(resource([op!(test_event::send)]))
            .service(resource([op!(meta_quality::get)]))
            .service(resource([op!(meta_quality::refresh)]))
            .service(resource([op!(imports::create)]))
            .service(resource([op!(imports::get)]))
            .service(resource([op!(imports::bad_lines_csv)]))
            .service(resource([op!(clicks::get), op!(clicks::erase)]))
            .service(resource([op!(conversions::retry_campaign)]))
            .service(resource([op!(conversions::list)]))
            .service(resource([op!(conversions::export_csv)]))
            .service(resource([op!(conversions::refused)]))
            .service(resource([op!(conversions::get)]))
            .service(resource([op!(conversions::retry)])),
    );
}

/// A campaign key from the path; one that cannot be a key names no campaign.
pub fn campaign_key(raw: &str) -> Result<CampaignKey, ApiError> {
    CampaignKey::parse(raw).map_err(|_| {
        ApiError::not_found(
            "campaign_not_found",
            format!("no campaign with key {raw:?}"),
        )
    })
}

/// The campaign with this key, or the same 404 as an unparseable key.
pub async fn find_campaign(state: &AppState, key: &CampaignKey) -> Result<Campaign, ApiError> {
    crate::storage::campaigns::find_by_key(&state.pool, key.as_str())
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "campaign_not_found",
                format!("no campaign with key {:?}", key.as_str()),
            )
        })
}

/// The query parameters, refusing any name not in `known`.
pub fn query(req: &HttpRequest, known: &[&str]) -> Result<Params, ApiError> {
    let pairs = parse_urlencoded(req.query_string().as_bytes())?;
    if let Some((name, _)) = pairs.iter().find(|(n, _)| !known.contains(&n.as_str())) {
        return Err(ApiError::bad_request(
            "unknown_parameter",
            format!(
                "unknown query parameter {name:?}; known: {}",
                known.join(", ")
            ),
        ));
    }
    Ok(Params::from_pairs(pairs))
}

/// Parses an admin JSON body; unknown fields are refused by name.
pub fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("invalid_body", format!("invalid JSON body: {e}")))
}
