//! `GET /admin/v1/campaigns/{key}/meta-quality?days=30`: Meta's own verdict on the campaign's
//! pixel (latest per event, history, last fetch); `POST .../meta-quality/refresh`: fetch it at
//! the next round, at most once a minute per pixel.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{campaign_key, find_campaign, Admin};
use crate::domain::meta_quality::FetchOutcome;
use crate::domain::Campaign;
use crate::http::ApiError;
use crate::meta_quality::view::{events, MetaEventQuality};
use crate::openapi::problems::{problems, Admin as AdminProblem};
use crate::quality::report_for;
use crate::state::AppState;
use crate::storage::meta_quality as store;

pub const MAX_DAYS: u32 = 90;
pub const DEFAULT_DAYS: u32 = 30;

problems! {
    /// The Meta quality routes' own problems.
    MetaQualityProblem: AdminProblem {
        CampaignNotFound = (404, "campaign_not_found"),
        NoMetaPixel = (422, "no_meta_pixel"),
        /// The pixel's figures were asked for less than a minute ago.
        RateLimited = (429, "rate_limited"),
    }
}

/// Meta's figures on the campaign's pixel.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetaQuality {
    campaign: String,
    pixel_id: String,
    days: u32,
    /// The last fetch of the pixel's figures from Meta, successful or not; `null` before any.
    #[schema(required = true)]
    last_fetch: Option<MetaQualityFetch>,
    events: Vec<MetaEventQuality>,
    /// Every snapshot of the window, oldest first.
    history: Vec<MetaQualityPoint>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetaQualityFetch {
    fetched_at: DateTime<Utc>,
    /// `scored`, `no_score_yet`, `token_invalid`, `missing_rights`, `graph_error`,
    /// `unreachable` or `no_readable_token`.
    #[schema(value_type = String)]
    outcome: FetchOutcome,
    /// What it means and what to do (null when `scored`).
    #[schema(required = true)]
    message: Option<String>,
    /// Meta's error code, when Meta answered with one.
    #[schema(required = true)]
    graph_code: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetaQualityPoint {
    event_name: String,
    fetched_at: DateTime<Utc>,
    #[schema(required = true)]
    emq: Option<f64>,
    #[schema(required = true)]
    event_coverage_percent: Option<f64>,
    #[schema(required = true)]
    acr_percent: Option<f64>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetaQualityRefresh {
    pixel_id: String,
    detail: &'static str,
}

#[utoipa::path(
    get, path = "/campaigns/{key}/meta-quality", tag = "admin",
    operation_id = "campaign_meta_quality",
    description = "Meta's own verdict on the campaign's Meta pixel, from its Dataset Quality \\
                   API: per event name the latest Event Match Quality, match keys (named as \\
                   we send them), event coverage, dedup-key feedback, freshness and additional \\
                   conversions reported; every snapshot of the last `days`; and how the last \\
                   fetch went, with what to do. A campaign without a Meta pixel is a 422 \\
                   `no_meta_pixel`.",
    params(
        ("key" = String, Path, example = "st-offer"),
        ("days" = Option<i32>, Query, minimum = 1, maximum = 90, example = 30,
            description = "The history's window (default 30)"),
    ),
    security(("admin_token" = [])),
    responses((status = 200, body = MetaQuality, description = "Meta's figures"), MetaQualityProblem)
)]
pub async fn get(
    _: Admin,
    key: web::Path<String>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<web::Json<MetaQuality>, ApiError> {
    let key = campaign_key(&key)?;
    let days = super::quality::days_param(&req, DEFAULT_DAYS, MAX_DAYS)?;
    let campaign = find_campaign(&state, &key).await?;
    let pixel = meta_pixel(&campaign)?;
    let last = store::last_fetch(&state.pool, pixel).await?;
    let snapshots = store::snapshots(&state.pool, pixel, days as i32).await?;
    // Ours over Meta's own window (its coverage and ACR are 7-day figures).
    let ours = report_for(&state.pool, &campaign, 7).await?;
    Ok(web::Json(MetaQuality {
        campaign: campaign.key.as_str().to_owned(),
        pixel_id: pixel.to_owned(),
        days,
        last_fetch: last.map(|f| MetaQualityFetch {
            fetched_at: f.fetched_at,
            outcome: f.outcome,
            message: f.message,
            graph_code: f.graph_code,
        }),
        events: events(&snapshots, &ours),
        history: snapshots
            .iter()
            .map(|s| MetaQualityPoint {
                event_name: s.event_name.clone(),
                fetched_at: s.fetched_at,
                emq: s.emq,
                event_coverage_percent: s.event_coverage_percent,
                acr_percent: s.acr_percent,
            })
            .collect(),
    }))
}

#[utoipa::path(
    post, path = "/campaigns/{key}/meta-quality/refresh", tag = "admin",
    operation_id = "campaign_meta_quality_refresh",
    description = "Fetches the pixel's figures from Meta at the next round (within seconds), \\
                   at most once a minute per pixel, whichever campaign asks.",
    params(("key" = String, Path, example = "st-offer")),
    security(("admin_token" = [])),
    responses(
        (status = 202, body = MetaQualityRefresh, description = "Asked"),
        MetaQualityProblem,
    )
)]
pub async fn refresh(
    _: Admin,
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = campaign_key(&key)?;
    let campaign = find_campaign(&state, &key).await?;
    let pixel = meta_pixel(&campaign)?;
    match store::request_refresh(&state.pool, pixel).await? {
        None => Ok(HttpResponse::Accepted().json(MetaQualityRefresh {
            pixel_id: pixel.to_owned(),
            detail: "Meta's figures for this pixel are fetched within a few seconds",
        })),
        Some(wait) => Err(ApiError::TooManyRequests {
            retry_after_secs: wait.as_secs().max(1),
        }),
    }
}

fn meta_pixel(campaign: &Campaign) -> Result<&str, ApiError> {
    match &campaign.meta {
        Some(meta) => Ok(meta.pixel_id.as_str()),
        None => Err(ApiError::Unprocessable {
            code: MetaQualityProblem::NoMetaPixel.code(),
            detail: format!(
                "campaign {:?} does not advertise on Meta: Meta's quality figures are per Meta \\
                 pixel",
                campaign.key.as_str()
            ),
        }),
    }
}
