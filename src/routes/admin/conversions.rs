use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::{campaign_key, Admin};
use crate::domain::CampaignKey;
use crate::http::params::{parse_urlencoded, Params};
use crate::http::ApiError;
use crate::startup::AppState;
use crate::storage::{campaigns, conversions, events};

const STATES: [&str; 7] = [
    "pending",
    "sent",
    "failed",
    "expired",
    "skipped",
    "suppressed",
    "unmatched",
];

/// `GET /admin/v1/conversions?campaign=&state=&limit=&before=`: newest first.
pub async fn list(
    _: Admin,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = Params::from_pairs(parse_urlencoded(req.query_string().as_bytes())?);
    let wanted_state = q.get("state");
    if let Some(s) = wanted_state {
        if !STATES.contains(&s) {
            return Err(ApiError::bad_request(
                "invalid_state",
                format!("state must be one of {}", STATES.join(", ")),
            ));
        }
    }
    let number = |name: &str, default: i64, max: i64| -> Result<Option<i64>, ApiError> {
        match q.get(name) {
            None => Ok(Some(default).filter(|d| *d > 0)),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .map(Some)
                .ok_or_else(|| {
                    ApiError::bad_request("invalid_parameter", format!("{name} must be 1-{max}"))
                }),
        }
    };
    let limit = number("limit", 50, 1000)?.unwrap_or(50);
    let before = number("before", 0, i64::MAX)?;
    // A filter that cannot be a campaign key matches nothing.
    let campaign = q.get("campaign");
    if campaign.is_some_and(|c| CampaignKey::parse(c).is_err()) {
        return Ok(HttpResponse::Ok().json(json!({ "conversions": [], "next_before": null })));
    }
    let items = conversions::list(&state.pool, campaign, wanted_state, before, limit).await?;
    let next_before = (items.len() as i64 == limit)
        .then(|| items.last().map(|c| c.id))
        .flatten();
    Ok(HttpResponse::Ok().json(json!({ "conversions": items, "next_before": next_before })))
}

fn parse_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::not_found("conversion_not_found", "no such conversion"))
}

/// One conversion with every delivery attempt.
pub async fn get(
    _: Admin,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    let conv = conversions::view(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found("conversion_not_found", "no such conversion"))?;
    let attempts = events::attempts_for_conversion(&state.pool, id).await?;
    let mut body = serde_json::to_value(&conv).map_err(|e| ApiError::Internal(e.into()))?;
    body["attempts_log"] = json!(attempts);
    Ok(HttpResponse::Ok().json(body))
}

/// Re-queues a failed conversion's event. Expired events stay expired: Meta refuses them.
pub async fn retry(
    _: Admin,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    let conv = conversions::view(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found("conversion_not_found", "no such conversion"))?;
    if conv.state != "failed" || conv.payload.is_none() {
        return Err(ApiError::Conflict {
            code: "not_retryable",
            detail: format!(
                "only failed events can be retried; this conversion is {}",
                conv.state
            ),
        });
    }
    let requeued = events::requeue_failed(&state.pool, Some(id), None).await?;
    state.delivery_signal.notify_one();
    Ok(HttpResponse::Ok().json(json!({ "requeued": requeued })))
}

/// Re-queues every failed event of a campaign.
pub async fn retry_campaign(
    _: Admin,
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = campaign_key(&key)?;
    let campaign = campaigns::find_by_key(&state.pool, key.as_str())
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "campaign_not_found",
                format!("no campaign with key {:?}", key.as_str()),
            )
        })?;
    let requeued = events::requeue_failed(&state.pool, None, Some(campaign.id)).await?;
    state.delivery_signal.notify_one();
    Ok(HttpResponse::Ok().json(json!({ "requeued": requeued })))
}
