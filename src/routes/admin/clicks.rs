use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::{campaign_key, find_campaign, query, Admin};
use crate::domain::{Click, ClickId};
use crate::http::ApiError;
use crate::state::AppState;
use crate::storage::clicks::{self, Lookup};
use crate::storage::privacy;

fn not_found(click_id: &str) -> ApiError {
    ApiError::not_found("click_not_found", format!("no click with id {click_id:?}"))
}

/// What `?campaign=` and the click id name: one campaign's click, or the click id's only one.
/// A click id that several campaigns hold needs the campaign (409 `ambiguous_click`).
async fn lookup(
    state: &AppState,
    click_id: &str,
    campaign: Option<&str>,
) -> Result<Option<Click>, ApiError> {
    let Ok(id) = ClickId::parse(click_id) else {
        return Ok(None);
    };
    match clicks::lookup(&state.pool, id.as_str(), campaign).await? {
        Lookup::Found(c) => Ok(Some(*c)),
        Lookup::NotFound => Ok(None),
        Lookup::Ambiguous(keys) => Err(ApiError::Conflict {
            code: "ambiguous_click",
            detail: format!(
                "click id {click_id:?} is registered on campaigns {}: name one with ?campaign=",
                keys.join(", ")
            ),
        }),
    }
}

/// A stored click. Customer fields only ever exist as hashes, and are shown as such.
pub async fn get(
    _: Admin,
    req: HttpRequest,
    click_id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query(&req, &["campaign"])?;
    let c = lookup(&state, &click_id, q.get("campaign"))
        .await?
        .ok_or_else(|| not_found(&click_id))?;
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
    let dropped = clicks::dropped_of(&state.pool, c.id).await?;
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
/// fields of its conversions and the payloads of their events. With `?campaign=`, that
/// campaign's click and conversions (and those not joined to any campaign yet); without it,
/// everything recorded under the click id, unless several campaigns hold it (409).
#[tracing::instrument(skip_all, fields(click_id = %click_id))]
pub async fn erase(
    _: Admin,
    req: HttpRequest,
    click_id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query(&req, &["campaign"])?;
    let id = ClickId::parse(&click_id).map_err(|_| not_found(&click_id))?;
    let campaign = match q.get("campaign") {
        Some(key) => Some(find_campaign(&state, &campaign_key(key)?).await?),
        None => {
            // Refuses a click id of several campaigns; none is fine (conversions only).
            lookup(&state, id.as_str(), None).await?;
            None
        }
    };
    let erased =
        privacy::erase_click(&state.pool, id.as_str(), campaign.as_ref().map(|c| c.id)).await?;
    if erased.is_nothing() {
        return Err(not_found(&click_id));
    }
    tracing::info!(?erased, "click erased on request");
    Ok(HttpResponse::Ok().json(erased))
}
