//! `/admin/v1/campaigns`: thin handlers over [`CampaignService`].

use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use serde_json::{json, Value};

use super::{campaign_key, json_body, Admin};
use crate::campaigns::{service, CampaignError, CampaignInput};
use crate::domain::HttpUrl;
use crate::domain::{Campaign, Country, DateOrder};
use crate::http::ApiError;
use crate::state::AppState;

impl From<CampaignError> for ApiError {
    fn from(e: CampaignError) -> Self {
        match e {
            CampaignError::Missing(field) => ApiError::missing_field(field),
            CampaignError::Invalid { field, error } => ApiError::invalid_field(field, error),
            // The body shape refused it before the service existed; the code stays.
            CampaignError::KeyChange => ApiError::bad_request(
                "invalid_body",
                "invalid JSON body: unknown field `key`: a campaign's key cannot change",
            ),
            CampaignError::NotFound(_) => ApiError::not_found("campaign_not_found", e.to_string()),
            CampaignError::Exists => ApiError::Conflict {
                code: "campaign_exists",
                detail: e.to_string(),
            },
            CampaignError::NoPlatform => ApiError::Unprocessable {
                code: "no_platform",
                detail: e.to_string(),
            },
            CampaignError::Storage(db) => db.into(),
        }
    }
}

#[tracing::instrument(skip_all, fields(campaign))]
pub async fn create(
    _: Admin,
    body: Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let input: CampaignInput = json_body(&body)?;
    let campaign = service(&state).create(input).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "location",
            format!("/admin/v1/campaigns/{}", campaign.key.as_str()),
        ))
        .json(view(&campaign)))
}

/// Takes no query parameters: a filter it does not know is a 400, never "everything".
pub async fn list(
    _: Admin,
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    super::query(&req, &[])?;
    let all = service(&state).list().await?;
    let items: Vec<Value> = all.iter().map(view).collect();
    Ok(HttpResponse::Ok().json(json!({ "campaigns": items })))
}

pub async fn get(
    _: Admin,
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = campaign_key(&key)?;
    let campaign = service(&state).get(key.as_str()).await?;
    Ok(HttpResponse::Ok().json(view(&campaign)))
}

#[tracing::instrument(skip_all, fields(campaign = %key))]
pub async fn patch(
    _: Admin,
    key: web::Path<String>,
    body: Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = campaign_key(&key)?;
    let input: CampaignInput = json_body(&body)?;
    let updated = service(&state).update(key.as_str(), input).await?;
    Ok(HttpResponse::Ok().json(view(&updated)))
}

pub async fn delete(
    _: Admin,
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = campaign_key(&key)?;
    service(&state).delete(key.as_str()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The public view of a campaign: the access token is write-only.
pub fn view(c: &Campaign) -> Value {
    json!({
        "key": c.key,
        "name": c.name,
        // Meta's settings, as before platforms; absent (null/false) for a TikTok-only campaign.
        "pixel_id": c.meta.as_ref().map(|m| &m.pixel_id),
        "access_token_set": c.meta.is_some(),
        "test_event_code": c.test_event_code,
        "action_source": c.action_source,
        "event_map": c.event_map,
        "currency": c.currency,
        "value_source": c.value_source.to_json(),
        "event_id_template": c.event_id_template,
        "landing_url": c.landing_url.as_ref().map(HttpUrl::as_str),
        "late_pixel_twin": c.late_pixel_twin,
        "require_consent": c.require_consent,
        "limited_data_use": c.limited_data_use,
        "enabled": c.enabled,
        "tiktok": c.tiktok.as_ref().map(|t| json!({
            "pixel_code": t.pixel_code,
            "access_token_set": true,
            "test_event_code": t.test_event_code,
            "event_map": t.event_map,
            "send_when": t.send_when,
        })),
        // As set (null: the default) and, in `send_when`, the rule each platform follows.
        "meta_send_when": c.meta.as_ref().and_then(|m| m.send_when),
        "send_when": c.destinations().iter()
            .map(|d| (d.platform.as_str(), c.send_when(d.platform)))
            .collect::<std::collections::BTreeMap<_, _>>(),
        "default_country": c.default_country.as_ref().map(Country::as_str),
        "date_order": c.date_order.map(DateOrder::as_str),
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    })
}
