use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

use super::Admin;
use crate::domain::ClickId;
use crate::http::ApiError;
use crate::startup::AppState;
use crate::storage::{clicks, privacy};

/// A stored click. Customer fields only ever exist as hashes, and are shown as such.
pub async fn get(
    _: Admin,
    click_id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let found = match ClickId::parse(&click_id) {
        Ok(id) => clicks::find(&state.pool, id.as_str()).await?,
        Err(_) => None,
    };
    let c = found.ok_or_else(|| {
        ApiError::not_found(
            "click_not_found",
            format!("no click with id {:?}", click_id.as_str()),
        )
    })?;
    let hashes: Map<String, Value> = c
        .customer
        .iter()
        .map(|(f, h)| (f.name().to_owned(), Value::String(h.as_str().to_owned())))
        .collect();
    let tiktok_hashes: Map<String, Value> = [
        ("ph", c.customer.tiktok_ph()),
        ("external_id", c.customer.tiktok_external_id()),
    ]
    .into_iter()
    .filter_map(|(k, h)| Some((k.to_owned(), Value::String(h?.as_str().to_owned()))))
    .collect();
    let dropped = clicks::dropped_of(&state.pool, &c.click_id).await?;
    Ok(HttpResponse::Ok().json(json!({
        "click_id": c.click_id,
        "campaign": c.campaign_key,
        "first_seen_at": c.first_seen_at,
        "updated_at": c.updated_at,
        "fbclid": c.fbclid,
        "fbc": c.fbc,
        "fbp": c.fbp,
        "event_source_url": c.event_source_url,
        "referrer_url": c.referrer_url,
        "client_ip_address": c.client_ip_address,
        "client_user_agent": c.client_user_agent,
        "consent": c.consent,
        "event_ids": c.event_ids.as_map(),
        "pixel_fired_at": c.pixel_fired_at.as_map(),
        "user_data_hashes": hashes,
        "ttclid": c.ttclid,
        "ttp": c.ttp,
        "tiktok_event_ids": c.tiktok_event_ids.as_map(),
        // TikTok's own digests: the phone in E.164 with '+', the external_id as given (case
        // kept); its email digest is Meta's.
        "tiktok_user_data_hashes": tiktok_hashes,
        // What the latest registration that dropped something dropped, and why.
        "dropped": dropped,
    })))
}

/// Erases a click's personal data (a visitor's deletion request): the click, the personal
/// fields of its conversions and the payloads of their events.
#[tracing::instrument(skip_all, fields(click_id = %click_id))]
pub async fn erase(
    _: Admin,
    click_id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || {
        ApiError::not_found(
            "click_not_found",
            format!("no click with id {:?}", click_id.as_str()),
        )
    };
    let id = ClickId::parse(&click_id).map_err(|_| not_found())?;
    let erased = privacy::erase_click(&state.pool, id.as_str()).await?;
    if erased.is_nothing() {
        return Err(not_found());
    }
    tracing::info!(?erased, "click erased on request");
    Ok(HttpResponse::Ok().json(erased))
}
