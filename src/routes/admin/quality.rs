//! `GET /admin/v1/campaigns/{key}/quality?days=7`: how well the campaign's events match and
//! deduplicate (see `crate::quality`).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, Utc};

use super::{campaign_key, find_campaign, query, Admin};
use crate::domain::{Campaign, PlatformKind, PIXEL_DEDUP_WINDOW};
use crate::http::ApiError;
use crate::quality::{shape, PlatformRows, QualityReport};
use crate::state::AppState;
use crate::storage::quality;

/// Longest window: events older than this are rarely still stored with their payloads.
pub const MAX_DAYS: u32 = 90;
pub const DEFAULT_DAYS: u32 = 7;

pub async fn report(
    _: Admin,
    key: web::Path<String>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = campaign_key(&key)?;
    let days = days_param(&req, DEFAULT_DAYS, MAX_DAYS)?;
    let campaign = find_campaign(&state, &key).await?;
    Ok(HttpResponse::Ok().json(report_for(&state, &campaign, days).await?))
}

/// The query's only parameter, `days`: a whole number 1-`max`, `default` when absent.
pub fn days_param(req: &HttpRequest, default: u32, max: u32) -> Result<u32, ApiError> {
    let q = query(req, &["days"])?;
    match q.get("days") {
        None => Ok(default),
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=max).contains(d))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_parameter",
                    format!("days must be a whole number of days, 1-{max}"),
                )
            }),
    }
}

/// The campaign's report over the last `days`, for the admin API and the dashboard alike.
pub async fn report_for(
    state: &AppState,
    campaign: &Campaign,
    days: u32,
) -> Result<QualityReport, sqlx::Error> {
    let since = Utc::now() - Duration::days(i64::from(days));
    let window = PIXEL_DEDUP_WINDOW.to_std().expect("a positive window");
    let mut per_platform = Vec::new();
    for &platform in PlatformKind::ALL {
        let rows = quality::rows(&state.pool, campaign.id, platform, since, window).await?;
        per_platform.push(PlatformRows {
            platform,
            mapped_events: mapped_events(campaign, platform),
            rows,
        });
    }
    let mut report = shape(campaign.key.as_str(), days, since, per_platform);
    report.dropped_fields = quality::dropped_counts(&state.pool, campaign.id, since)
        .await?
        .into_iter()
        .collect();
    Ok(report)
}

/// The event names the campaign's map for `platform` sends (none: it does not use it).
fn mapped_events(campaign: &Campaign, platform: PlatformKind) -> Vec<&str> {
    campaign
        .platforms()
        .into_iter()
        .find(|(p, _)| *p == platform)
        .map(|(_, map)| map.event_names().into_iter().map(|n| n.as_str()).collect())
        .unwrap_or_default()
}
