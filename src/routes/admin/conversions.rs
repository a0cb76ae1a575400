use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{campaign_key, find_campaign, query, Admin};
use crate::domain::{DeliveryStatus, PlatformKind};
use crate::export;
use crate::http::params::Params;
use crate::http::ApiError;
use crate::ingest::retry::{self, retry_conversion, CampaignRetry, Retried};
use crate::openapi::problems::{problems, Admin as AdminProblem};
use crate::state::AppState;
use crate::storage::conversions::{ConversionView, Delivery};
use crate::storage::events::AttemptView;
use crate::storage::refused::RefusedPostback;
use crate::storage::{conversion_filter, conversions, events, import_lines, refused};

problems! {
    /// The conversion routes' own problems.
    ConversionProblem: AdminProblem {
        InvalidState = (400, "invalid_state"),
        InvalidPlatform = (400, "invalid_platform"),
        ConversionNotFound = (404, "conversion_not_found"),
        CampaignNotFound = (404, "campaign_not_found"),
        NotRetryable = (409, "not_retryable"),
        StillFailing = (409, "still_failing"),
    }
}

/// A page of conversions, newest first.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversionPage {
    conversions: Vec<ConversionView>,
    /// Pass as `before` for the next page; `null` on the last.
    #[schema(required = true)]
    next_before: Option<i64>,
}

/// A page of refused postbacks, newest first.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefusedPage {
    refused_postbacks: Vec<RefusedPostback>,
    #[schema(required = true)]
    next_before: Option<i64>,
}

/// A conversion with every delivery attempt, and each platform's delivery with its own.
#[derive(Serialize, ToSchema)]
pub struct ConversionDetail {
    #[serde(flatten)]
    conversion: ConversionView,
    /// Every attempt of every platform, oldest first.
    attempts_log: Vec<AttemptView>,
    deliveries: Vec<Delivery>,
    /// The import that recorded it; `null` for a postback's.
    #[schema(required = true)]
    import: Option<ConversionImport>,
}

/// The import a conversion came from.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversionImport {
    id: i64,
    /// `null` when the upload named no file.
    #[schema(required = true)]
    file_name: Option<String>,
}

/// The filters of the list and the export, as the document shows them (`list_filter` reads
/// them from the query).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct ConversionFilters {
    campaign: Option<String>,
    /// `pending`, `sent`, `failed`, ... (another word is a 400 `invalid_state`).
    state: Option<String>,
    /// keitaro, binom, bemob, voluum, redtrack, clickflare or generic
    tracker: Option<String>,
    click_id: Option<String>,
    /// The transaction id, exactly
    txid: Option<String>,
    /// meta or tiktok: conversions with an event for that platform; another word is a 400
    /// `invalid_platform`
    platform: Option<String>,
    /// RFC 3339 time or YYYY-MM-DD
    since: Option<String>,
    /// RFC 3339 time or YYYY-MM-DD
    until: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Requeued {
    requeued: i64,
}

/// `GET /admin/v1/conversions?campaign=&state=&tracker=&click_id=&txid=&platform=&since=&until=&limit=&before=`: newest
/// first. An unknown parameter is a 400: a misspelt filter must not silently return everything.
#[utoipa::path(
    get, path = "/conversions", tag = "admin", operation_id = "conversion_list",
    description = "Newest first; an unknown parameter is a 400.",
    params(
        ConversionFilters,
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000),
        ("before" = Option<i64>, Query, minimum = 1),
    ),
    security(("admin_token" = [])),
    responses((status = 200, body = ConversionPage, description = "A page"), ConversionProblem)
)]
pub async fn list(
    _: Admin,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<web::Json<ConversionPage>, ApiError> {
    let q = query(&req, &[FILTERS, &["limit", "before"]].concat())?;
    let (limit, before) = page(&q)?;
    let filter = conversions::ListFilter {
        before,
        limit,
        ..list_filter(&q)?
    };
    let page = conversions::page(&state.pool, &filter).await?;
    Ok(web::Json(ConversionPage {
        conversions: page.items,
        next_before: page.next_before,
    }))
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
#[utoipa::path(
    get, path = "/conversions.csv", tag = "admin", operation_id = "conversion_csv",
    description = "The conversions the list's filters match, newest first, as a CSV download \
                   (at most 100,000 rows; `X-Export-Truncated: true` and a last line say when \
                   it was cut). Text cells starting with `=`, `+`, `-`, `@`, a tab or a carriage \
                   return get a leading `'`; numbers stay numbers. An unknown parameter is a 400.",
    params(
        ConversionFilters,
    ),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The CSV file (`Content-Disposition: attachment`)",
         content_type = "text/csv", body = String,
         example = "id,received_at,event_time,campaign,tracker,click_id,txid,status,event_name,state,value,currency,test_platforms,last_error_platform,last_error\n7,2026-11-30T12:00:00Z,2026-11-30T12:00:00Z,shop,keitaro,clk-1,'=1+1,sale,Purchase,sent,-12.5,USD,,,\n"),
        ConversionProblem
    )
)]
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
#[utoipa::path(
    get, path = "/refused-postbacks", tag = "admin", operation_id = "refused_list",
    params(
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000),
        ("before" = Option<i64>, Query, minimum = 1),
    ),
    security(("admin_token" = [])),
    responses((status = 200, body = RefusedPage, description = "A page"), ConversionProblem)
)]
pub async fn refused(
    _: Admin,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<web::Json<RefusedPage>, ApiError> {
    let q = query(&req, &["limit", "before"])?;
    let (limit, before) = page(&q)?;
    let items = refused::list(&state.pool, before, limit).await?;
    let next_before = (items.len() as i64 == limit)
        .then(|| items.last().map(|c| c.id))
        .flatten();
    Ok(web::Json(RefusedPage {
        refused_postbacks: items,
        next_before,
    }))
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
    crate::storage::row_id(raw).ok_or_else(|| no_conversion("no such conversion".into()))
}

fn no_conversion(detail: String) -> ApiError {
    ApiError::not_found(ConversionProblem::ConversionNotFound.code(), detail)
}

/// One conversion with every delivery attempt, and each platform's delivery with its own.
#[utoipa::path(
    get, path = "/conversions/{id}", tag = "admin", operation_id = "conversion_get",
    description = "`state` is the least advanced of its events' (pending < failed < expired < \
                   sent); the other top-level event fields describe its Meta event when there is \
                   one, else its first; `deliveries` has each platform's.",
    params(("id" = String, Path, example = "1")),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = ConversionDetail, description = "The conversion"),
        ConversionProblem,
    )
)]
pub async fn get(
    _: Admin,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<web::Json<ConversionDetail>, ApiError> {
    let id = parse_id(&id)?;
    let conv = conversions::view(&state.pool, id)
        .await?
        .ok_or_else(|| no_conversion("no such conversion".into()))?;
    let attempts_log = events::attempts_for_conversion(&state.pool, id).await?;
    let deliveries = conversions::deliveries(&state.pool, id).await?;
    let import = import_lines::import_of_conversion(&state.pool, id)
        .await?
        .map(|i| ConversionImport {
            id: i.id,
            file_name: i.file_name,
        });
    Ok(web::Json(ConversionDetail {
        conversion: conv,
        attempts_log,
        deliveries,
        import,
    }))
}

/// Retries a failed conversion: its event is built again from the click and campaign as they
/// are now (a landing URL added since counts), keeping its event id. Expired events stay expired.
#[utoipa::path(
    post, path = "/conversions/{id}/retry", tag = "admin", operation_id = "conversion_retry",
    params(("id" = String, Path, example = "1")),
    security(("admin_token" = [])),
    responses((status = 200, body = Requeued, description = "Re-queued"), ConversionProblem)
)]
pub async fn retry(
    _: Admin,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<web::Json<Requeued>, ApiError> {
    let id = parse_id(&id)?;
    let retried = retry_conversion(&state.pool, &state.campaigns, id).await?;
    let detail = retried.refusal().unwrap_or_default();
    match retried {
        Retried::Queued => {
            state.delivery_signal.notify_one();
            Ok(web::Json(Requeued { requeued: 1 }))
        }
        Retried::StillFailed(_) => Err(ApiError::Conflict {
            code: ConversionProblem::StillFailing.code(),
            detail,
        }),
        Retried::NotFailed(_) => Err(ApiError::Conflict {
            code: ConversionProblem::NotRetryable.code(),
            detail,
        }),
        Retried::NotFound => Err(no_conversion(detail)),
    }
}

/// Retries every failed conversion of a campaign (up to [`retry::RETRY_BATCH`]; `more` says to call
/// again).
#[utoipa::path(
    post, path = "/campaigns/{key}/retry-failed", tag = "admin",
    operation_id = "campaign_retry_failed",
    description = "Re-queues up to 1000 failed conversions of the campaign.",
    params(("key" = String, Path, example = "st-offer")),
    security(("admin_token" = [])),
    responses((status = 200, body = CampaignRetry, description = "Re-queued"), ConversionProblem)
)]
pub async fn retry_campaign(
    _: Admin,
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<web::Json<CampaignRetry>, ApiError> {
    let key = campaign_key(&key)?;
    let campaign = find_campaign(&state, &key).await?;
    let done = retry::retry_campaign(
        &state.pool,
        &state.campaigns,
        &state.delivery_signal,
        campaign.id,
    )
    .await?;
    Ok(web::Json(done))
}
