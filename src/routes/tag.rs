//! The landing tag: `GET /v1/tag.js` (the script, embedded in the binary) and the small public
//! per-campaign configuration it loads, so one `<script>` line replaces a hand-edited snippet.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::domain::{Campaign, CampaignKey, DateOrder, EventMap};
use crate::http::ApiError;
use crate::startup::AppState;

/// The script landers load; its tests are the browser tests in `tests/api/tag_browser.rs`.
/// One function holds the hashing (sha256.js) and the tag, so neither adds a page global.
pub const TAG_JS: &str = concat!(
    "/*! capi-bridge landing tag: Meta and TikTok cookies, click registration, ",
    "pixel event ids. */\n",
    "(function () {\n'use strict';\n",
    include_str!("../tag/sha256.js"),
    include_str!("../tag/tag.js"),
    "})();\n",
);

/// Strong validator over the exact bytes served: a new release changes it, a restart does not.
static TAG_ETAG: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(TAG_JS.as_bytes());
    format!("\"{}\"", &hex::encode(digest)[..32])
});

/// Browsers revalidate after an hour (a cheap 304), so an upgraded bridge reaches landers soon.
const TAG_CACHE: &str = "public, max-age=3600";
/// The campaign's settings change rarely and a stale copy only delays a template change.
const CONFIG_CACHE: &str = "public, max-age=300";

/// `GET /v1/tag.js`
pub async fn script(req: HttpRequest) -> HttpResponse {
    let etag = TAG_ETAG.as_str();
    let fresh = if_none_match(&req, etag);
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, TAG_CACHE))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if fresh {
        res.finish()
    } else {
        res.content_type("text/javascript; charset=utf-8")
            .body(TAG_JS)
    }
}

/// True when the client's `If-None-Match` lists `etag` (weak comparison, as RFC 9110 asks of
/// `If-None-Match`) or is `*`.
fn if_none_match(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// `GET /v1/campaigns/{key}/tag-config`: what the tag needs to give the pixel the server's
/// eventIDs. Public and cacheable: the template and event names are on every lander anyway.
pub async fn config(
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = key.into_inner();
    let campaign = if CampaignKey::parse(&key).is_ok() {
        state.campaigns.get(&key).await?
    } else {
        None
    };
    let campaign = campaign.filter(|c| c.enabled).ok_or_else(|| {
        ApiError::not_found(
            "campaign_not_found",
            format!("no enabled campaign with key {key:?}"),
        )
    })?;
    // A campaign without Meta has no Meta events for the tag to hand `fbq`.
    let events: Vec<&str> = match campaign.meta {
        Some(_) => names(&campaign.event_map),
        None => Vec::new(),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, CONFIG_CACHE))
        .json(json!({
            "campaign": campaign.key,
            "event_id_template": campaign.event_id_template.as_str(),
            "events": events,
            "consent_required": campaign.require_consent,
            "tiktok": tiktok_config(&campaign),
            // For the tag's phone and date normalisation: the digits national numbers get
            // (`"44"`), and how slashed dates read; the country itself is not sent.
            "calling_code": campaign
                .default_country
                .and_then(|c| c.calling_code())
                .map(|code| code.to_string()),
            "date_order": campaign.region().date_order.map(DateOrder::as_str),
        })))
}

fn names(map: &EventMap) -> Vec<&str> {
    map.event_names().into_iter().map(|n| n.as_str()).collect()
}

/// TikTok's part: the events its map sends (each gets an id on the click), and for each Meta
/// event the TikTok event the same status sends, so `track('Lead')` fires both pixels. When one
/// Meta event's statuses send different TikTok events, the one named alike wins, else the
/// first status word's. `null` without TikTok.
fn tiktok_config(campaign: &Campaign) -> Value {
    let Some(tiktok) = &campaign.tiktok else {
        return Value::Null;
    };
    let mut from_meta: BTreeMap<&str, &str> = BTreeMap::new();
    if campaign.meta.is_some() {
        for (word, meta) in campaign.event_map.sending() {
            let Some(Some(tt)) = tiktok.event_map.get(word) else {
                continue;
            };
            let chosen = from_meta.entry(meta.as_str()).or_insert(tt.as_str());
            if tt.as_str() == meta.as_str() {
                *chosen = tt.as_str();
            }
        }
    }
    json!({ "events": names(&tiktok.event_map), "from_meta": from_meta })
}
