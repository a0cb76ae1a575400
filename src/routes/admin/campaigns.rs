//! `/admin/v1/campaigns`: thin handlers over [`CampaignService`].

use std::collections::BTreeMap;

use actix_web::web;
use actix_web::HttpResponse;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

// Named apart: utoipa would document a `Bytes` argument as an octet-stream body.
use actix_web::web::Bytes as Body;

use super::{campaign_key, json_body, Admin};
use crate::campaigns::{service, CampaignError, CampaignInput};
use crate::domain::{
    ActionSource, Campaign, CampaignKey, EventIdTemplate, EventMap, LatePixelTwin, SendWhen,
};
use crate::http::ApiError;
use crate::openapi::campaigns::{CampaignFields, CampaignPatch};
use crate::openapi::problems::{problems, Admin as AdminProblem};
use crate::state::AppState;

problems! {
    /// The campaign routes' own problems.
    CampaignProblem: AdminProblem {
        MissingField = (400, "missing_field"),
        InvalidValue = (400, "invalid_value"),
        CampaignNotFound = (404, "campaign_not_found"),
        CampaignExists = (409, "campaign_exists"),
        Conflict = (409, "conflict"),
        InvalidField = (422, "invalid_field"),
        NoPlatform = (422, "no_platform"),
    }
}

/// A campaign's TikTok settings as shown: the access token is never shown.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TikTokSettings {
    pixel_code: String,
    access_token_set: bool,
    #[schema(required = true)]
    test_event_code: Option<String>,
    /// Tracker status -> TikTok event name (`null`: not sent to TikTok).
    #[schema(value_type = BTreeMap<String, Option<String>>)]
    event_map: EventMap,
    /// `always` or `platform_click` (only conversions whose click carries TikTok's own signal,
    /// `ttclid` or `_ttp`); `null`: the default (`platform_click` when the campaign is on Meta
    /// too, else `always`).
    #[schema(value_type = Option<String>, required = true)]
    send_when: Option<SendWhen>,
}

/// A campaign as the admin API shows it; the access tokens are never shown. `pixel_id`,
/// `access_token_set`, `test_event_code`, `action_source` and `event_map` are its Meta
/// settings (`pixel_id` null for a TikTok-only campaign).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Campaign)]
pub struct CampaignView {
    #[schema(value_type = String)]
    key: CampaignKey,
    name: String,
    #[schema(required = true)]
    pixel_id: Option<String>,
    access_token_set: bool,
    #[schema(required = true)]
    test_event_code: Option<String>,
    #[schema(value_type = String)]
    action_source: ActionSource,
    #[schema(value_type = BTreeMap<String, Option<String>>)]
    event_map: EventMap,
    currency: String,
    /// `"payout"`, `"none"` or the fixed amount (a number).
    value_source: Value,
    #[schema(value_type = String)]
    event_id_template: EventIdTemplate,
    #[schema(required = true)]
    landing_url: Option<String>,
    /// `send` or `skip`: events that would reach Meta more than 48 hours after their pixel twin.
    #[schema(value_type = String)]
    late_pixel_twin: LatePixelTwin,
    require_consent: bool,
    limited_data_use: bool,
    enabled: bool,
    /// `null` when the campaign does not advertise on TikTok.
    #[schema(required = true)]
    tiktok: Option<TikTokSettings>,
    /// `always` or `platform_click` (only conversions whose click, or postback, carries Meta's
    /// own signal: `fbclid`, `_fbc` or `_fbp`); `null`: the default (`platform_click` when the
    /// campaign is on TikTok too, else `always`). Meta's settings, absent (null) without Meta.
    #[schema(value_type = Option<String>, required = true)]
    meta_send_when: Option<SendWhen>,
    /// The rule each platform of the campaign follows, its own or the default:
    /// `{"meta": "platform_click", "tiktok": "platform_click"}`.
    #[schema(value_type = BTreeMap<String, String>)]
    send_when: BTreeMap<&'static str, SendWhen>,
    /// ISO 3166-1 alpha-2 (`gb`): national phone numbers get its calling code. Never sent as
    /// the visitor's `country`.
    #[schema(required = true)]
    default_country: Option<String>,
    /// `mdy` or `dmy`: how `01/02/1990` is read; `null`: `mdy` when `default_country` is `us`,
    /// `dmy` for another country, only dates that read one way without a country.
    #[schema(required = true)]
    date_order: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// Every campaign.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignList {
    campaigns: Vec<CampaignView>,
}

impl From<CampaignError> for ApiError {
    fn from(e: CampaignError) -> Self {
        match e {
            CampaignError::Missing(field) => ApiError::missing_field(field),
            CampaignError::Invalid { field, error } => ApiError::invalid_field(field, error),
            // The body shape refused it before the service existed; the code stays.
            CampaignError::KeyChange => ApiError::bad_request(
                AdminProblem::InvalidBody.code(),
                "invalid JSON body: unknown field `key`: a campaign's key cannot change",
            ),
            CampaignError::NotFound(_) => {
                ApiError::not_found(CampaignProblem::CampaignNotFound.code(), e.to_string())
            }
            CampaignError::Exists => ApiError::Conflict {
                code: CampaignProblem::CampaignExists.code(),
                detail: e.to_string(),
            },
            CampaignError::NoPlatform => ApiError::Unprocessable {
                code: CampaignProblem::NoPlatform.code(),
                detail: e.to_string(),
            },
            CampaignError::Storage(db) => db.into(),
        }
    }
}

#[utoipa::path(
    post, path = "/campaigns", tag = "admin", operation_id = "campaign_create",
    request_body(content = CampaignFields, content_type = "application/json"),
    security(("admin_token" = [])),
    responses(
        (status = 201, body = CampaignView, description = "Created",
            headers(("Location" = String, description = "The campaign's URL"))),
        CampaignProblem,
    )
)]
#[tracing::instrument(skip_all, fields(campaign))]
pub async fn create(
    _: Admin,
    body: Body,
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
#[utoipa::path(
    get, path = "/campaigns", tag = "admin", operation_id = "campaign_list",
    security(("admin_token" = [])),
    responses((status = 200, body = CampaignList, description = "Every campaign"), CampaignProblem)
)]
pub async fn list(
    _: Admin,
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
) -> Result<web::Json<CampaignList>, ApiError> {
    super::query(&req, &[])?;
    let all = service(&state).list().await?;
    Ok(web::Json(CampaignList {
        campaigns: all.iter().map(view).collect(),
    }))
}

#[utoipa::path(
    get, path = "/campaigns/{key}", tag = "admin", operation_id = "campaign_get",
    params(("key" = String, Path, example = "st-offer")),
    security(("admin_token" = [])),
    responses((status = 200, body = CampaignView, description = "The campaign"), CampaignProblem)
)]
pub async fn get(
    _: Admin,
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<web::Json<CampaignView>, ApiError> {
    let key = campaign_key(&key)?;
    let campaign = service(&state).get(key.as_str()).await?;
    Ok(web::Json(view(&campaign)))
}

#[utoipa::path(
    patch, path = "/campaigns/{key}", tag = "admin", operation_id = "campaign_patch",
    params(("key" = String, Path, example = "st-offer")),
    request_body(content = CampaignPatch, content_type = "application/json"),
    security(("admin_token" = [])),
    responses((status = 200, body = CampaignView, description = "Updated"), CampaignProblem)
)]
#[tracing::instrument(skip_all, fields(campaign = %key))]
pub async fn patch(
    _: Admin,
    key: web::Path<String>,
    body: Body,
    state: web::Data<AppState>,
) -> Result<web::Json<CampaignView>, ApiError> {
    let key = campaign_key(&key)?;
    let input: CampaignInput = json_body(&body)?;
    let updated = service(&state).update(key.as_str(), input).await?;
    Ok(web::Json(view(&updated)))
}

#[utoipa::path(
    delete, path = "/campaigns/{key}", tag = "admin", operation_id = "campaign_delete",
    params(("key" = String, Path, example = "st-doomed")),
    security(("admin_token" = [])),
    responses((status = 204, description = "Deleted"), CampaignProblem)
)]
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
pub fn view(c: &Campaign) -> CampaignView {
    CampaignView {
        key: c.key.clone(),
        name: c.name.clone(),
        // Meta's settings, as before platforms; absent (null/false) for a TikTok-only campaign.
        pixel_id: c.meta.as_ref().map(|m| m.pixel_id.as_str().to_owned()),
        access_token_set: c.meta.is_some(),
        test_event_code: c.test_event_code.clone(),
        action_source: c.action_source,
        event_map: c.event_map.clone(),
        currency: c.currency.as_str().to_owned(),
        value_source: c.value_source.to_json(),
        event_id_template: c.event_id_template.clone(),
        landing_url: c.landing_url.as_ref().map(|u| u.as_str().to_owned()),
        late_pixel_twin: c.late_pixel_twin,
        require_consent: c.require_consent,
        limited_data_use: c.limited_data_use,
        enabled: c.enabled,
        tiktok: c.tiktok.as_ref().map(|t| TikTokSettings {
            pixel_code: t.pixel_code.as_str().to_owned(),
            access_token_set: true,
            test_event_code: t.test_event_code.clone(),
            event_map: t.event_map.clone(),
            send_when: t.send_when,
        }),
        // As set (null: the default) and, in `send_when`, the rule each platform follows.
        meta_send_when: c.meta.as_ref().and_then(|m| m.send_when),
        send_when: c
            .destinations()
            .iter()
            .map(|d| (d.platform.as_str(), c.send_when(d.platform)))
            .collect(),
        default_country: c.default_country.as_ref().map(|c| c.as_str().to_owned()),
        date_order: c.date_order.map(|d| d.as_str().to_owned()),
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}
