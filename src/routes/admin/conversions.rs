use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::{campaign_key, find_campaign, query, Admin};
use crate::domain::{DeliveryStatus, PlatformKind};
use crate::export;
use crate::http::params::Params;
use crate::http::ApiError;
use crate::ingest::retry::{self, retry_conversion, Retried};
use crate::state::AppState;
use crate::storage::{conversion_filter, conversions, events, import_lines, refused};

/// `GET /admin/v1/conversions?campaign=&state=&tracker=&click_id=&txid=&platform=&since=&until=&limit=&before=`: newest
/// first. An unknown parameter is a 400: a misspelt filter must not silently return everything.
pub async fn list(
    _: Admin,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query(&req, &[FILTERS, &["limit", "before"]].concat())?;
    let (limit, before) = page(&q)?;
    let filter = conversions::ListFilter {
        before,
        limit,
        ..list_filter(&q)?
    };
    let page = conversions::page(&state.pool, &filter).await?;
    Ok(HttpResponse::Ok()
        .json(json!({ "conversions": page.items, "next_before": page.next_before })))
}

/// The list's filters (the CSV export takes the same).
const FILTERS: &[&str] = &[
    "campaign", "state", "tracker", "click_id", "txid", "platform", "since", "until",
];

/// The filters of [`FILTERS`] as the storage query takes them (first page, default size).
fn list_filter(q: &Params) -> Result<conversions::ListFilter<'_>, ApiError> {
    let wanted_state = match q.get("state") {
        None => None,
        Some(s) => Some(DeliveryStatus::parse(s).ok_or_else(|| {
            let all: Vec<_> = DeliveryStatus::ALL.iter().map(|s| s.as_str()).collect();
            ApiError::bad_request(
                "invalid_state",
                format!("state must be one of {}", all.join(", ")),
            )
        })?),
    };
    let platform = match q.get("platform") {
        None => None,
        Some(p) => Some(PlatformKind::parse(p).ok_or_else(|| {
            let all: Vec<_> = PlatformKind::ALL.iter().map(|p| p.as_str()).collect();
            ApiError::bad_request(
                "invalid_platform",
                format!("platform must be one of {}", all.join(", ")),
            )
        })?),
    };
    Ok(conversions::ListFilter {
        campaign: q.get("campaign"),
        state: wanted_state,
        tracker: q.get("tracker"),
        click_id: q.get("click_id"),
        txid: q.get("txid"),
        platform,
        since: time(q, "since")?,
        until: time(q, "until")?,
        before: None,
        limit: 50,
    })
}

/// `GET /admin/v1/conversions.csv?campaign=&state=&tracker=&click_id=&txid=&platform=&since=&until=`: the
/// conversions the list's filters match, newest first, as a CSV download (at most
/// [`export::EXPORT_CAP`] rows).
pub async fn export_csv(
    _: Admin,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query(&req, FILTERS)?;
    let filter = list_filter(&q)?;
    let csv = export::conversions(&state.pool, &filter, export::EXPORT_CAP).await?;
    Ok(csv.response("conversions"))
}

/// `GET /admin/v1/refused-postbacks?limit=&before=`: postbacks that carried the key but were
/// refused (an unfilled status macro, a missing click id...), newest first.
pub async fn refused(
    _: Admin,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query(&req, &["limit", "before"])?;
    let (limit, before) = page(&q)?;
    let items = refused::list(&state.pool, before, limit).await?;
    let next_before = (items.len() as i64 == limit)
        .then(|| items.last().map(|c| c.id))
        .flatten();
    Ok(HttpResponse::Ok().json(json!({ "refused_postbacks": items, "next_before": next_before })))
}

/// `limit` (1-1000, default 50) and `before` (an id).
fn page(q: &Params) -> Result<(i64, Option<i64>), ApiError> {
    let number = |name: &str, max: i64| -> Result<Option<i64>, ApiError> {
        q.get(name)
            .map(|v| {
                v.parse::<i64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad_request(
                            "invalid_parameter",
                            format!("{name} must be 1-{max}"),
                        )
                    })
            })
            .transpose()
    };
    Ok((
        number("limit", 1000)?.unwrap_or(50),
        number("before", i64::MAX)?,
    ))
}

/// An RFC 3339 time (`2026-11-30T12:00:00Z`) or a date (`2026-11-30`, midnight UTC).
fn time(q: &Params, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(v) = q.get(name) else {
        return Ok(None);
    };
    let parsed = conversion_filter::instant(v);
    parsed.map(Some).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_parameter",
            format!("{name} must be an RFC 3339 time or a date like 2026-11-30"),
        )
    })
}

fn parse_id(raw: &str) -> Result<i64, ApiError> {
    crate::storage::row_id(raw)
        .ok_or_else(|| ApiError::not_found("conversion_not_found", "no such conversion"))
}

/// One conversion with every delivery attempt, and each platform's delivery with its own.
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
    let deliveries = conversions::deliveries(&state.pool, id).await?;
    let mut body = serde_json::to_value(&conv).map_err(|e| ApiError::Internal(e.into()))?;
    body["attempts_log"] = json!(attempts);
    body["deliveries"] = json!(deliveries);
    body["import"] = match import_lines::import_of_conversion(&state.pool, id).await? {
        Some(i) => json!({ "id": i.id, "file_name": i.file_name }),
        None => json!(null),
    };
    Ok(HttpResponse::Ok().json(body))
}

/// Retries a failed conversion: its event is built again from the click and campaign as they
/// are now (a landing URL added since counts), keeping its event id. Expired events stay expired.
pub async fn retry(
    _: Admin,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    let retried = retry_conversion(&state.pool, &state.campaigns, id).await?;
    let detail = retried.refusal().unwrap_or_default();
    match retried {
        Retried::Queued => {
            state.delivery_signal.notify_one();
            Ok(HttpResponse::Ok().json(json!({ "requeued": 1 })))
        }
        Retried::StillFailed(_) => Err(ApiError::Conflict {
            code: "still_failing",
            detail,
        }),
        Retried::NotFailed(_) => Err(ApiError::Conflict {
            code: "not_retryable",
            detail,
        }),
        Retried::NotFound => Err(ApiError::not_found("conversion_not_found", detail)),
    }
}

/// Retries every failed conversion of a campaign (up to [`retry::RETRY_BATCH`]; `more` says to call
/// again).
pub async fn retry_campaign(
    _: Admin,
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = campaign_key(&key)?;
    let campaign = find_campaign(&state, &key).await?;
    let done = retry::retry_campaign(
        &state.pool,
        &state.campaigns,
        &state.delivery_signal,
        campaign.id,
    )
    .await?;
    Ok(HttpResponse::Ok().json(done))
}
