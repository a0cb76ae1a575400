use std::collections::BTreeMap;

use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{campaign_key, json_body, Admin};
use crate::domain::{AccessToken, Campaign, CampaignFields};
use crate::domain::{
    ActionSource, CampaignKey, Currency, EventIdTemplate, EventMap, HttpUrl, ParseError, PixelId,
    ValueSource,
};
use crate::http::ApiError;
use crate::startup::AppState;
use crate::storage::{campaigns, events};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignCreate {
    key: Option<String>,
    name: Option<String>,
    pixel_id: Option<String>,
    access_token: Option<String>,
    test_event_code: Option<String>,
    action_source: Option<String>,
    event_map: Option<BTreeMap<String, Option<String>>>,
    currency: Option<String>,
    value_source: Option<Value>,
    event_id_template: Option<String>,
    landing_url: Option<String>,
    require_consent: Option<bool>,
    limited_data_use: Option<bool>,
    enabled: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignPatch {
    name: Option<String>,
    pixel_id: Option<String>,
    access_token: Option<String>,
    /// `null` clears the test event code (back to production).
    #[serde(default, deserialize_with = "present")]
    test_event_code: Option<Option<String>>,
    action_source: Option<String>,
    event_map: Option<BTreeMap<String, Option<String>>>,
    currency: Option<String>,
    value_source: Option<Value>,
    event_id_template: Option<String>,
    /// `null` clears the landing URL.
    #[serde(default, deserialize_with = "present")]
    landing_url: Option<Option<String>>,
    require_consent: Option<bool>,
    limited_data_use: Option<bool>,
    enabled: Option<bool>,
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn field<T>(name: &str, r: Result<T, ParseError>) -> Result<T, ApiError> {
    r.map_err(|e| ApiError::invalid_field(name, e))
}

fn parse_name(s: &str) -> Result<String, ParseError> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > 200 || s.chars().any(char::is_control) {
        return Err(ParseError::new("must be 1-200 characters"));
    }
    Ok(s.to_owned())
}

fn parse_access_token(s: &str) -> Result<AccessToken, ParseError> {
    if s.len() < 10 || s.len() > 1024 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ParseError::new(
            "must be 10-1024 printable ASCII characters without spaces",
        ));
    }
    Ok(AccessToken::new(s.to_owned()))
}

fn parse_test_event_code(s: &str) -> Result<Option<String>, ParseError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.len() > 64 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ParseError::new(
            "must be 1-64 letters and digits, like TEST12345",
        ));
    }
    Ok(Some(s.to_owned()))
}

#[tracing::instrument(skip_all, fields(campaign))]
pub async fn create(
    _: Admin,
    body: Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let c: CampaignCreate = json_body(&body)?;
    let key = field(
        "key",
        CampaignKey::parse(c.key.as_deref().ok_or(missing("key"))?),
    )?;
    tracing::Span::current().record("campaign", key.as_str());
    let pixel_id = field(
        "pixel_id",
        PixelId::parse(c.pixel_id.as_deref().ok_or(missing("pixel_id"))?),
    )?;
    let access_token = field(
        "access_token",
        parse_access_token(c.access_token.as_deref().ok_or(missing("access_token"))?),
    )?;
    // Stored sealed (encrypted when SECRETS_KEY is set).
    let access_token = AccessToken::new(state.cipher.seal(key.as_str(), access_token.expose()));
    let fields = CampaignFields {
        name: match c.name.as_deref() {
            Some(n) => field("name", parse_name(n))?,
            None => key.as_str().to_owned(),
        },
        key,
        pixel_id,
        access_token,
        test_event_code: match c.test_event_code.as_deref() {
            Some(t) => field("test_event_code", parse_test_event_code(t))?,
            None => None,
        },
        action_source: opt(
            "action_source",
            c.action_source.as_deref(),
            ActionSource::parse,
        )?
        .unwrap_or(ActionSource::Website),
        event_map: match c.event_map {
            Some(m) => field("event_map", EventMap::parse(m))?,
            None => EventMap::default(),
        },
        currency: opt("currency", c.currency.as_deref(), Currency::parse)?.unwrap_or(Currency::USD),
        value_source: match &c.value_source {
            Some(v) => field("value_source", ValueSource::parse_json(v))?,
            None => ValueSource::Payout,
        },
        event_id_template: opt(
            "event_id_template",
            c.event_id_template.as_deref(),
            EventIdTemplate::parse,
        )?
        .unwrap_or_default(),
        landing_url: opt("landing_url", c.landing_url.as_deref(), HttpUrl::parse)?,
        require_consent: c.require_consent.unwrap_or(false),
        limited_data_use: c.limited_data_use.unwrap_or(false),
        enabled: c.enabled.unwrap_or(true),
    };
    let campaign = campaigns::insert(&state.pool, &fields).await?;
    state.campaigns.invalidate();
    tracing::info!(campaign = campaign.key.as_str(), "campaign created");
    Ok(HttpResponse::Created()
        .insert_header((
            "location",
            format!("/admin/v1/campaigns/{}", campaign.key.as_str()),
        ))
        .json(view(&campaign)))
}

fn missing(name: &str) -> ApiError {
    ApiError::missing_field(name)
}

fn opt<T>(
    name: &str,
    v: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, ParseError>,
) -> Result<Option<T>, ApiError> {
    v.map(|s| field(name, parse(s))).transpose()
}

/// Takes no query parameters: a filter it does not know is a 400, never "everything".
pub async fn list(
    _: Admin,
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    super::query(&req, &[])?;
    let all = campaigns::list(&state.pool).await?;
    let items: Vec<Value> = all.iter().map(view).collect();
    Ok(HttpResponse::Ok().json(json!({ "campaigns": items })))
}

pub async fn get(
    _: Admin,
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = campaign_key(&key)?;
    let campaign = campaigns::find_by_key(&state.pool, key.as_str())
        .await?
        .ok_or_else(|| not_found(key.as_str()))?;
    Ok(HttpResponse::Ok().json(view(&campaign)))
}

/// Changes some fields. A new access token or pixel re-queues the events that were waiting on
/// a token or permission error, in the same transaction.
#[tracing::instrument(skip_all, fields(campaign = %key))]
pub async fn patch(
    _: Admin,
    key: web::Path<String>,
    body: Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = campaign_key(&key)?;
    let key = key.as_str();
    let p: CampaignPatch = json_body(&body)?;
    let mut tx = state.pool.begin().await?;
    let current = campaigns::find_by_key_for_update(&mut tx, key)
        .await?
        .ok_or_else(|| not_found(key))?;
    let mut f = current.fields();
    if let Some(n) = p.name.as_deref() {
        f.name = field("name", parse_name(n))?;
    }
    if let Some(v) = p.pixel_id.as_deref() {
        f.pixel_id = field("pixel_id", PixelId::parse(v))?;
    }
    let mut token_changed = false;
    if let Some(v) = p.access_token.as_deref() {
        let new = field("access_token", parse_access_token(v))?;
        // An unreadable stored token counts as changed: the new one replaces it.
        let old = state.cipher.open(key, current.access_token.expose()).ok();
        token_changed = old.as_deref() != Some(new.expose());
        f.access_token = AccessToken::new(state.cipher.seal(key, new.expose()));
    }
    if let Some(v) = p.test_event_code {
        f.test_event_code = match v.as_deref() {
            Some(t) => field("test_event_code", parse_test_event_code(t))?,
            None => None,
        };
    }
    if let Some(v) = opt(
        "action_source",
        p.action_source.as_deref(),
        ActionSource::parse,
    )? {
        f.action_source = v;
    }
    if let Some(m) = p.event_map {
        f.event_map = field("event_map", EventMap::parse(m))?;
    }
    if let Some(v) = opt("currency", p.currency.as_deref(), Currency::parse)? {
        f.currency = v;
    }
    if let Some(v) = &p.value_source {
        f.value_source = field("value_source", ValueSource::parse_json(v))?;
    }
    if let Some(v) = opt(
        "event_id_template",
        p.event_id_template.as_deref(),
        EventIdTemplate::parse,
    )? {
        f.event_id_template = v;
    }
    if let Some(v) = p.landing_url {
        f.landing_url = opt("landing_url", v.as_deref(), HttpUrl::parse)?;
    }
    f.require_consent = p.require_consent.unwrap_or(f.require_consent);
    f.limited_data_use = p.limited_data_use.unwrap_or(f.limited_data_use);
    f.enabled = p.enabled.unwrap_or(f.enabled);

    let credentials_changed = token_changed || f.pixel_id != current.pixel_id;
    let updated = campaigns::update(&mut tx, current.id, &f).await?;
    let requeued = if credentials_changed {
        events::requeue_auth_failures(&mut tx, current.id).await?
    } else {
        0
    };
    tx.commit().await?;
    state.campaigns.invalidate();
    if requeued > 0 {
        tracing::info!(requeued, "credentials changed; parked events re-queued");
        state.delivery_signal.notify_one();
    }
    Ok(HttpResponse::Ok().json(view(&updated)))
}

pub async fn delete(
    _: Admin,
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = campaign_key(&key)?;
    let key = key.as_str();
    if campaigns::delete(&state.pool, key).await? {
        state.campaigns.invalidate();
        tracing::info!(campaign = %key, "campaign deleted");
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(not_found(key))
    }
}

fn not_found(key: &str) -> ApiError {
    ApiError::not_found(
        "campaign_not_found",
        format!("no campaign with key {key:?}"),
    )
}

/// The public view of a campaign: the access token is write-only.
pub fn view(c: &Campaign) -> Value {
    json!({
        "key": c.key,
        "name": c.name,
        "pixel_id": c.pixel_id,
        "access_token_set": !c.access_token.expose().is_empty(),
        "test_event_code": c.test_event_code,
        "action_source": c.action_source,
        "event_map": c.event_map,
        "currency": c.currency,
        "value_source": c.value_source.to_json(),
        "event_id_template": c.event_id_template,
        "landing_url": c.landing_url.as_ref().map(HttpUrl::as_str),
        "require_consent": c.require_consent,
        "limited_data_use": c.limited_data_use,
        "enabled": c.enabled,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    })
}
