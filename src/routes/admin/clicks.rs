//! `/admin/v1/clicks/{click_id}`: a stored click, and the erasure of a visitor's data.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{campaign_key, find_campaign, query, Admin};
use crate::domain::{Click, ClickId, DropReport};
use crate::http::ApiError;
use crate::openapi::problems::{problems, Admin as AdminProblem};
use crate::state::AppState;
use crate::storage::clicks::{self, Lookup};
use crate::storage::privacy::{self, Erasure};

problems! {
    /// The click routes' own problems.
    ClickProblem: AdminProblem {
        ClickNotFound = (404, "click_not_found"),
        CampaignNotFound = (404, "campaign_not_found"),
        AmbiguousClick = (409, "ambiguous_click"),
    }
}

fn not_found(click_id: &str) -> ApiError {
    ApiError::not_found(
        ClickProblem::ClickNotFound.code(),
        format!("no click with id {click_id:?}"),
    )
}

/// A stored click; customer fields only as hashes.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoredClick {
    click_id: String,
    campaign: String,
    first_seen_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    #[schema(required = true)]
    fbclid: Option<String>,
    #[schema(required = true)]
    fbc: Option<String>,
    #[schema(required = true)]
    fbp: Option<String>,
    #[schema(required = true)]
    event_source_url: Option<String>,
    #[schema(required = true)]
    referrer_url: Option<String>,
    #[schema(required = true)]
    client_ip_address: Option<String>,
    #[schema(required = true)]
    client_user_agent: Option<String>,
    #[schema(required = true)]
    consent: Option<bool>,
    /// Meta event name -> the event id the Meta pixel got.
    event_ids: BTreeMap<String, String>,
    /// Meta event name -> when the page reported the pixel firing it with that id.
    pixel_fired_at: BTreeMap<String, DateTime<Utc>>,
    user_data_hashes: BTreeMap<String, String>,
    /// TikTok's click id and `_ttp` cookie, as given.
    #[schema(required = true)]
    ttclid: Option<String>,
    #[schema(required = true)]
    ttp: Option<String>,
    /// TikTok event name -> the event id the TikTok pixel got.
    tiktok_event_ids: BTreeMap<String, String>,
    /// TikTok's own digests (`ph`: E.164 with the '+'; `external_id`: as given, case kept); its
    /// email digest is Meta's.
    tiktok_user_data_hashes: BTreeMap<String, String>,
    /// What the latest registration that dropped something dropped, and why.
    #[schema(value_type = Vec<crate::domain::Dropped>)]
    dropped: DropReport,
}

/// What an erasure removed.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Erased {
    clicks_deleted: u64,
    conversions_scrubbed: u64,
    events_erased: u64,
    /// Events that had not reached Meta yet and now never will.
    events_cancelled: u64,
}

impl From<Erasure> for Erased {
    fn from(e: Erasure) -> Self {
        Erased {
            clicks_deleted: e.clicks_deleted,
            conversions_scrubbed: e.conversions_scrubbed,
            events_erased: e.events_erased,
            events_cancelled: e.events_cancelled,
        }
    }
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
            code: ClickProblem::AmbiguousClick.code(),
            detail: format!(
                "click id {click_id:?} is registered on campaigns {}: name one with ?campaign=",
                keys.join(", ")
            ),
        }),
    }
}

/// A stored click. Customer fields only ever exist as hashes, and are shown as such.
#[utoipa::path(
    get, path = "/clicks/{click_id}", tag = "admin", operation_id = "click_get",
    description = "A click id may be on several campaigns: `campaign` names which; without it \
                   a click id of several campaigns is a 409 `ambiguous_click`.",
    params(
        ("click_id" = String, Path, example = "st-click-1"),
        ("campaign" = Option<String>, Query, example = "st-offer"),
    ),
    security(("admin_token" = [])),
    responses((status = 200, body = StoredClick, description = "The click"), ClickProblem)
)]
pub async fn get(
    _: Admin,
    req: HttpRequest,
    click_id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<web::Json<StoredClick>, ApiError> {
    let q = query(&req, &["campaign"])?;
    let c = lookup(&state, &click_id, q.get("campaign"))
        .await?
        .ok_or_else(|| not_found(&click_id))?;
    let user_data_hashes = c
        .customer
        .iter()
        .map(|(f, h)| (f.name().to_owned(), h.as_str().to_owned()))
        .collect();
    let tiktok_user_data_hashes = [
        ("ph", c.customer.tiktok_ph()),
        ("external_id", c.customer.tiktok_external_id()),
    ]
    .into_iter()
    .filter_map(|(k, h)| Some((k.to_owned(), h?.as_str().to_owned())))
    .collect();
    let dropped = clicks::dropped_of(&state.pool, c.id).await?;
    Ok(web::Json(StoredClick {
        event_ids: c.event_ids.as_map().clone(),
        pixel_fired_at: c.pixel_fired_at.as_map().clone(),
        tiktok_event_ids: c.tiktok_event_ids.as_map().clone(),
        click_id: c.click_id,
        campaign: c.campaign_key,
        first_seen_at: c.first_seen_at,
        updated_at: c.updated_at,
        fbclid: c.fbclid,
        fbc: c.fbc,
        fbp: c.fbp,
        event_source_url: c.event_source_url,
        referrer_url: c.referrer_url,
        client_ip_address: c.client_ip_address,
        client_user_agent: c.client_user_agent,
        consent: c.consent,
        user_data_hashes,
        ttclid: c.ttclid,
        ttp: c.ttp,
        tiktok_user_data_hashes,
        dropped,
    }))
}

/// Erases a click's personal data (a visitor's deletion request): the click, the personal
/// fields of its conversions and the payloads of their events. With `?campaign=`, that
/// campaign's click and conversions (and those not joined to any campaign yet); without it,
/// everything recorded under the click id, unless several campaigns hold it (409).
#[utoipa::path(
    delete, path = "/clicks/{click_id}", tag = "admin", operation_id = "click_erase",
    description = "Erases a visitor's personal data: the click, its conversions' personal \
                   fields and their events' payloads. With `campaign`, that campaign's click \
                   and conversions (and conversions not joined to a campaign yet); without, \
                   everything under the click id, unless several campaigns hold it (409 \
                   `ambiguous_click`).",
    params(
        ("click_id" = String, Path, example = "st-click-doomed"),
        ("campaign" = Option<String>, Query, example = "st-offer"),
    ),
    security(("admin_token" = [])),
    responses((status = 200, body = Erased, description = "What was erased"), ClickProblem)
)]
#[tracing::instrument(skip_all, fields(click_id = %click_id))]
pub async fn erase(
    _: Admin,
    req: HttpRequest,
    click_id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<web::Json<Erased>, ApiError> {
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
    Ok(web::Json(erased.into()))
}
