//! `GET /admin/v1/campaigns/{key}/quality?days=7`: how well the campaign's events match and
//! deduplicate (see `crate::quality`).

use actix_web::{web, HttpRequest};

use super::{campaign_key, find_campaign, query, Admin};
use crate::http::ApiError;
use crate::openapi::problems::{problems, Admin as AdminProblem};
use crate::quality::{report_for, QualityReport, DEFAULT_DAYS, MAX_DAYS};
use crate::state::AppState;

problems! {
    /// The quality reports' own problems.
    QualityProblem: AdminProblem {
        CampaignNotFound = (404, "campaign_not_found"),
    }
}

#[utoipa::path(
    get, path = "/campaigns/{key}/quality", tag = "admin", operation_id = "campaign_quality",
    description = "The match-quality report: per event name, the events sent, the share carrying \
                   each key Meta matches on, where their event ids came from, median delays and \
                   the top failure reasons, over the events created in the last `days`.",
    params(
        ("key" = String, Path, example = "st-offer"),
        ("days" = Option<u32>, Query, minimum = 1, maximum = 90, example = 7,
            description = "The window (default 7)"),
    ),
    security(("admin_token" = [])),
    responses((status = 200, body = QualityReport, description = "The report"), QualityProblem)
)]
pub async fn report(
    _: Admin,
    key: web::Path<String>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<web::Json<QualityReport>, ApiError> {
    let key = campaign_key(&key)?;
    let days = days_param(&req, DEFAULT_DAYS, MAX_DAYS)?;
    let campaign = find_campaign(&state, &key).await?;
    Ok(web::Json(report_for(&state.pool, &campaign, days).await?))
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
                    AdminProblem::InvalidParameter.code(),
                    format!("days must be a whole number of days, 1-{max}"),
                )
            }),
    }
}
