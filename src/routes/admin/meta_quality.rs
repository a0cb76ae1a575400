//! `GET /admin/v1/campaigns/{key}/meta-quality?days=30`: Meta's own verdict on the campaign's
//! pixel (latest per event, history, last fetch); `POST .../meta-quality/refresh`: fetch it at
//! the next round, at most once a minute per pixel.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::{campaign_key, find_campaign, Admin};
use crate::domain::Campaign;
use crate::http::ApiError;
use crate::meta_quality::latest;
use crate::quality::report_for;
use crate::startup::AppState;
use crate::storage::meta_quality as store;

pub const MAX_DAYS: u32 = 90;
pub const DEFAULT_DAYS: u32 = 30;

pub async fn get(
    _: Admin,
    key: web::Path<String>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = campaign_key(&key)?;
    let days = super::quality::days_param(&req, DEFAULT_DAYS, MAX_DAYS)?;
    let campaign = find_campaign(&state, &key).await?;
    let pixel = meta_pixel(&campaign)?;
    let last = store::last_fetch(&state.pool, pixel).await?;
    let snapshots = store::snapshots(&state.pool, pixel, days as i32).await?;
    // Ours over Meta's own window (its coverage and ACR are 7-day figures).
    let ours = report_for(&state, &campaign, 7).await?;
    Ok(HttpResponse::Ok().json(json!({
        "campaign": campaign.key.as_str(),
        "pixel_id": pixel,
        "days": days,
        "last_fetch": last.map(|f| json!({
            "fetched_at": f.fetched_at,
            "outcome": f.outcome,
            "message": f.message,
            "graph_code": f.graph_code,
        })),
        "events": latest(&snapshots, &ours),
        "history": snapshots.iter().map(|s| json!({
            "event_name": s.event_name,
            "fetched_at": s.fetched_at,
            "emq": s.emq,
            "event_coverage_percent": s.event_coverage_percent,
            "acr_percent": s.acr_percent,
        })).collect::<Vec<_>>(),
    })))
}

pub async fn refresh(
    _: Admin,
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = campaign_key(&key)?;
    let campaign = find_campaign(&state, &key).await?;
    let pixel = meta_pixel(&campaign)?;
    match store::request_refresh(&state.pool, pixel).await? {
        None => Ok(HttpResponse::Accepted().json(json!({
            "pixel_id": pixel,
            "detail": "Meta's figures for this pixel are fetched within a few seconds",
        }))),
        Some(wait) => Err(ApiError::TooManyRequests {
            retry_after_secs: wait.as_secs().max(1),
        }),
    }
}

fn meta_pixel(campaign: &Campaign) -> Result<&str, ApiError> {
    match &campaign.meta {
        Some(meta) => Ok(meta.pixel_id.as_str()),
        None => Err(ApiError::Unprocessable {
            code: "no_meta_pixel",
            detail: format!(
                "campaign {:?} does not advertise on Meta: Meta's quality figures are per Meta \
                 pixel",
                campaign.key.as_str()
            ),
        }),
    }
}
