//! `GET /admin/v1/campaigns/{key}/meta-quality?days=30`: Meta's own verdict on the campaign's
//! pixel (latest per event, history, last fetch); `POST .../meta-quality/refresh`: fetch it at
//! the next round, at most once a minute per pixel.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{campaign_key, find_campaign, Admin};
use crate::domain::meta_quality::match_key_name;
use crate::domain::Campaign;
use crate::http::ApiError;
use crate::meta_quality::advice::{advise, Figures};
use crate::platforms::meta::dataset_quality::event;
use crate::quality::QualityReport;
use crate::state::AppState;
use crate::storage::meta_quality::{self as store, Snapshot};

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
    let ours = super::quality::report_for(&state, &campaign, 7).await?;
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

/// Each event's latest snapshot, with Meta's match keys named as ours and the advice joined
/// from Meta's figures and `ours`.
pub fn latest(snapshots: &[Snapshot], ours: &QualityReport) -> Vec<Value> {
    let mut newest: Vec<&Snapshot> = Vec::new();
    for s in snapshots.iter().rev() {
        if !newest.iter().any(|n| n.event_name == s.event_name) {
            newest.push(s);
        }
    }
    newest.sort_by(|a, b| a.event_name.cmp(&b.event_name));
    newest
        .into_iter()
        .map(|s| {
            let parsed = event(&s.raw.0);
            let keys = parsed.as_ref().map(|e| &e.match_keys[..]).unwrap_or(&[]);
            let diagnostics = parsed.as_ref().map(|e| &e.diagnostics[..]).unwrap_or(&[]);
            let meta_key = |name: &str| {
                keys.iter()
                    .find(|(id, _)| match_key_name(id) == name)
                    .and_then(|(_, pct)| *pct)
            };
            let our = ours.events.iter().find(|e| e.event_name == s.event_name);
            let our_key = |name: &str| our.and_then(|e| e.keys.get(name)).map(|k| k.share);
            let figures = Figures {
                meta_fbc_percent: meta_key("fbc"),
                meta_em_percent: meta_key("em"),
                browser_dedupe_percent: s.dedupe_browser_percent,
                event_coverage_percent: s.event_coverage_percent,
                acr_percent: s.acr_percent,
                our_fbc_share: our_key("fbc"),
                our_em_share: our_key("em"),
            };
            json!({
                "event_name": s.event_name,
                "fetched_at": s.fetched_at,
                "emq": s.emq,
                "event_coverage_percent": s.event_coverage_percent,
                "acr_percent": s.acr_percent,
                "dedupe_key_feedback": {
                    "event_id_browser_percent": s.dedupe_browser_percent,
                    "event_id_server_percent": s.dedupe_server_percent,
                },
                "upload_frequency": s.upload_frequency,
                "match_keys": keys.iter().map(|(id, pct)| json!({
                    "key": match_key_name(id),
                    "meta_identifier": id,
                    "coverage_percent": pct,
                })).collect::<Vec<_>>(),
                "diagnostics": diagnostics.iter().map(|(name, solution)| json!({
                    "name": name,
                    "solution": solution,
                })).collect::<Vec<_>>(),
                "advice": advise(&figures),
                "raw": s.raw.0,
            })
        })
        .collect()
}
