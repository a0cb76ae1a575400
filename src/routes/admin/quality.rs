//! `GET /admin/v1/campaigns/{key}/quality?days=7`: how well the campaign's events match and
//! deduplicate (see `crate::quality`).

use actix_web::{web, HttpRequest, HttpResponse};

use super::{campaign_key, find_campaign, query, Admin};
use crate::http::ApiError;
use crate::quality::{report_for, DEFAULT_DAYS, MAX_DAYS};
use crate::startup::AppState;

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
