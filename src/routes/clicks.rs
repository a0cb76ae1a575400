//! Click capture: landing pages register the click id, Meta cookies, the visitor's address and
//! the pixel's eventIDs, so a later postback can be joined to them.

use std::collections::BTreeMap;

use actix_web::http::header::{self, ContentType};
use actix_web::http::StatusCode;
use actix_web::web;
// Named apart: utoipa would document a `Bytes` argument as an octet-stream body.
use actix_web::web::Bytes as Body;
use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::click_budget;
use super::click_fields::parse_click;
use crate::domain::DropReport;
use crate::domain::{ClickId, EventIds, EventMap, ParseError};
use crate::http::auth_limit::Credential;
use crate::http::client_ip::client_ip;
use crate::http::params::{media_type, parse_urlencoded};
use crate::http::ApiError;
use crate::ingest::event_id::base_event_id;
use crate::openapi::problems::{problems, Public};
use crate::openapi::schemas::ClickRequest as ClickRequestDoc;
use crate::state::AppState;
use crate::storage::clicks::{Registrant, Written};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClickRequest {
    /// The postback key: marks a server-side caller, who may set the visitor's address and
    /// User-Agent (a browser cannot know its public address).
    pub(super) key: Option<String>,
    pub(super) campaign: Option<String>,
    pub(super) click_id: Option<String>,
    pub(super) fbclid: Option<String>,
    pub(super) fbc: Option<String>,
    pub(super) fbp: Option<String>,
    pub(super) event_source_url: Option<String>,
    pub(super) referrer_url: Option<String>,
    pub(super) client_ip_address: Option<String>,
    pub(super) client_user_agent: Option<String>,
    pub(super) external_id: Option<String>,
    pub(super) consent: Option<bool>,
    pub(super) event_ids: Option<BTreeMap<String, String>>,
    /// TikTok's click id (`?ttclid=` on the landing URL) and its `_ttp` cookie.
    pub(super) ttclid: Option<String>,
    pub(super) ttp: Option<String>,
    /// TikTok event name -> the `event_id` the page gave `ttq.track`.
    pub(super) tiktok_event_ids: Option<BTreeMap<String, String>>,
    pub(super) em: Option<String>,
    pub(super) ph: Option<String>,
    #[serde(rename = "fn")]
    pub(super) fn_: Option<String>,
    pub(super) ln: Option<String>,
    pub(super) ge: Option<String>,
    pub(super) db: Option<String>,
    pub(super) ct: Option<String>,
    pub(super) st: Option<String>,
    pub(super) zp: Option<String>,
    pub(super) country: Option<String>,
    /// TikTok's phone digest (SHA-256 of E.164 with the '+'), for a `ph` hashed in the browser.
    pub(super) tiktok_ph: Option<String>,
    /// TikTok's external_id digest (SHA-256 of the id as given), for an `external_id` hashed in
    /// the browser.
    pub(super) tiktok_external_id: Option<String>,
    /// Event name -> unix ms when the landing tag fired the pixel for it on this click.
    pub(super) pixel_fired_at: Option<BTreeMap<String, Value>>,
    /// The click's update token: becomes the click's own when this registration creates it,
    /// and must be presented by a browser to change it later.
    pub(super) update_token: Option<String>,
}

problems! {
    /// What a click registration may be answered instead.
    ClickProblem: Public {
        MissingField = (400, "missing_field"),
        InvalidBody = (400, "invalid_body"),
        InvalidParameters = (400, "invalid_parameters"),
        CampaignNotFound = (404, "campaign_not_found"),
        RateLimited = (429, "rate_limited"),
    }
}

/// A registered click (201 when new or when nothing changed, 200 when merged into a known one).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClickRegistered {
    click_id: String,
    /// Meta event name -> the event id the Meta pixel should use (empty without Meta).
    #[schema(value_type = BTreeMap<String, String>)]
    event_ids: Map<String, Value>,
    /// TikTok event name -> the `event_id` the TikTok pixel should use (campaigns with TikTok).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    tiktok_event_ids: Option<Map<String, Value>>,
    /// The click's update token for later registrations: the one offered, else a new one.
    /// Absent only when a caller with the postback key merged into a known click.
    #[serde(skip_serializing_if = "Option::is_none")]
    update_token: Option<String>,
    /// Fields not used: a browser's overrides (`client_ip_address`, `client_user_agent`) and
    /// every dropped field. Absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ignored: Vec<&'static str>,
    /// Each field dropped or cleaned, and why. Absent when none.
    #[serde(skip_serializing_if = "DropReport::is_empty")]
    #[schema(value_type = Vec<crate::domain::Dropped>)]
    dropped: DropReport,
}

/// `POST /v1/clicks`: JSON, a form, or JSON sent as `text/plain` by `navigator.sendBeacon`.
#[utoipa::path(
    post, path = "/v1/clicks", tag = "public", operation_id = "register_click_post",
    description = "Registers a landing page visit (its click id, Meta's cookies, TikTok's \
                   `ttclid` and `_ttp`). Public: landing pages call it from the browser (CORS \
                   open). A browser changes a registered click only with its `update_token`; \
                   without it the answer is the same as for a new click (201), and only \
                   `consent: false` is stored.",
    request_body(content(
        (ClickRequestDoc = "application/json"),
        (ClickRequestDoc = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 201, description = "A new click, or a registration that changed nothing \
            (a browser's without the click's update token)", body = ClickRegistered),
        (status = 200, description = "A known click, updated (with its update token or the \
            postback key)", body = ClickRegistered),
        ClickProblem,
    )
)]
#[tracing::instrument(skip_all, fields(campaign, click_id))]
pub async fn register_post(
    req: HttpRequest,
    body: Body,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let request = match media_type(&req).as_str() {
        "application/json" | "text/plain" | "" => from_json(&body)?,
        "application/x-www-form-urlencoded" => from_pairs(parse_urlencoded(&body)?)?,
        other => return Err(ApiError::UnsupportedMediaType(other.to_owned())),
    };
    let (status, answer) = register(&req, &state, request).await?;
    Ok(HttpResponse::build(status).json(answer))
}

/// `GET /v1/clicks?...`: the same fields as query parameters, for an `<img>` tag. Answers a 1x1
/// GIF, or the JSON answer when the client asks for JSON.
#[utoipa::path(
    get, path = "/v1/clicks", tag = "public", operation_id = "register_click_get",
    description = "The same as POST, as query parameters, for an `<img>` tag: answers a 1x1 GIF \
                   unless `Accept` asks for JSON.",
    params(
        ("campaign" = String, Query, example = "st-offer"),
        ("click_id" = String, Query, example = "st-click-2"),
    ),
    responses(
        (status = 201, description = "A new click, or a registration that changed nothing",
            content((ClickRegistered = "application/json"), (Vec<u8> = "image/gif"))),
        (status = 200, description = "A known click, updated", content(
            (ClickRegistered = "application/json"), (Vec<u8> = "image/gif"))),
        ClickProblem,
    )
)]
#[tracing::instrument(skip_all, fields(campaign, click_id))]
pub async fn register_get(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let request = from_pairs(parse_urlencoded(req.query_string().as_bytes())?)?;
    let (status, answer) = register(&req, &state, request).await?;
    let wants_json = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    if wants_json {
        return Ok(HttpResponse::build(status).json(answer));
    }
    Ok(HttpResponse::build(status)
        .insert_header(ContentType(mime_gif()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(PIXEL_GIF))
}

fn mime_gif() -> actix_web::mime::Mime {
    "image/gif".parse().expect("static mime")
}

/// A transparent 1x1 GIF.
const PIXEL_GIF: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x01, 0x44, 0x00, 0x3b,
];

fn from_json(body: &[u8]) -> Result<ClickRequest, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        let msg = e.to_string();
        // serde's "at line 1 column 42" locates the error in a body the client has; keep it.
        ApiError::bad_request("invalid_body", format!("invalid click body: {msg}"))
    })
}

/// Query or form pairs into the JSON shape: `event_ids[Lead]=x`, `tiktok_event_ids[SubmitForm]=x`
/// and `pixel_fired_at[Lead]=ms` nest, `consent` is a boolean.
fn from_pairs(pairs: Vec<(String, String)>) -> Result<ClickRequest, ApiError> {
    let mut object = Map::new();
    let mut event_ids = Map::new();
    let mut tiktok_event_ids = Map::new();
    let mut pixel_fired_at = Map::new();
    for (name, value) in pairs {
        let nested = |prefix: &str| {
            name.strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(']'))
                .map(str::to_owned)
        };
        if let Some(event) = nested("event_ids[") {
            event_ids.entry(event).or_insert(Value::String(value));
            continue;
        }
        if let Some(event) = nested("tiktok_event_ids[") {
            tiktok_event_ids
                .entry(event)
                .or_insert(Value::String(value));
            continue;
        }
        if let Some(event) = nested("pixel_fired_at[") {
            pixel_fired_at.entry(event).or_insert(Value::String(value));
            continue;
        }
        let value = if name == "consent" {
            match value.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Value::Bool(true),
                "false" | "0" | "no" | "off" => Value::Bool(false),
                "" => continue,
                _ => {
                    return Err(ApiError::invalid_field(
                        "consent",
                        ParseError::new("must be true or false"),
                    ))
                }
            }
        } else {
            Value::String(value)
        };
        object.entry(name).or_insert(value);
    }
    if !event_ids.is_empty() {
        object.insert("event_ids".into(), Value::Object(event_ids));
    }
    if !tiktok_event_ids.is_empty() {
        object.insert("tiktok_event_ids".into(), Value::Object(tiktok_event_ids));
    }
    if !pixel_fired_at.is_empty() {
        object.insert("pixel_fired_at".into(), Value::Object(pixel_fired_at));
    }
    serde_json::from_value(Value::Object(object))
        .map_err(|e| ApiError::bad_request("invalid_parameters", format!("invalid click: {e}")))
}

async fn register(
    req: &HttpRequest,
    state: &AppState,
    r: ClickRequest,
) -> Result<(StatusCode, ClickRegistered), ApiError> {
    let peer = client_ip(req, &state.trusted_proxies);
    state.click_rate_limit.check(peer)?;
    let presented = req
        .headers()
        .get("x-postback-key")
        .map(|v| v.as_bytes())
        .or(r.key.as_deref().map(str::as_bytes));
    let server_side = match presented {
        None => false,
        Some(k) if state.postback_key_used(k).is_some() => true,
        Some(_) => return Err(state.auth_failures.failed(peer, Credential::ClickKey)),
    };
    let campaign_key = required(r.campaign.as_deref(), "campaign")?;
    let click_id = ClickId::parse(required(r.click_id.as_deref(), "click_id")?)
        .map_err(|e| ApiError::invalid_field("click_id", e))?;
    let span = tracing::Span::current();
    span.record("campaign", campaign_key);
    span.record("click_id", click_id.as_str());

    let campaign = (state.campaigns.enabled(campaign_key).await?)
        .ok_or_else(|| ApiError::no_enabled_campaign(campaign_key))?;

    state.click_sources.observe(peer);

    let (click, intake, update_token) = parse_click(req, peer, server_side, &campaign, click_id, r);
    let click_id = click.click_id.clone();
    let registrant = click.registrant;
    let reservation = click_budget::admit(state, peer, server_side, &click).await?;
    let written = state.click_writer.submit(click).await;
    click_budget::settle(state, reservation, &written);
    let stored = written?;

    // The ids each pixel should use, for the events its platform's map sends: a campaign
    // without Meta has none of Meta's, and TikTok's are answered only when it has TikTok.
    let pixel_ids = |map: &EventMap, registered: &EventIds| -> Map<String, Value> {
        map.event_names()
            .into_iter()
            .map(|name| {
                let id = base_event_id(
                    registered,
                    &campaign.event_id_template,
                    name.as_str(),
                    click_id.as_str(),
                    "",
                    campaign.key.as_str(),
                );
                (name.as_str().to_owned(), Value::String(id))
            })
            .collect()
    };
    let event_ids = match campaign.meta {
        Some(_) => pixel_ids(&campaign.event_map, &stored.event_ids),
        None => Map::new(),
    };
    let tiktok_event_ids = campaign
        .tiktok
        .as_ref()
        .map(|t| pixel_ids(&t.event_map, &stored.tiktok_event_ids));
    state.metrics.click_stored(stored.written);
    // A public answer must not tell whether the click id was known: an ignored registration
    // answers as a new click would (its own event ids, the token it offered or was given).
    let status = match stored.written {
        Written::Merged => StatusCode::OK,
        Written::Inserted | Written::Ignored => StatusCode::CREATED,
    };
    state.metrics.dropped(&intake.dropped);
    let answer = ClickRegistered {
        click_id: click_id.as_str().to_owned(),
        event_ids,
        tiktok_event_ids,
        // A key holder's merge keeps the click's own token, which only its hash records.
        update_token: (!(registrant == Registrant::Key && stored.written == Written::Merged))
            .then(|| update_token.as_str().to_owned()),
        // Present only when something was dropped, so a clean registration's answer is
        // unchanged.
        ignored: intake.ignored,
        dropped: intake.dropped,
    };
    Ok((status, answer))
}

fn required<'a>(v: Option<&'a str>, name: &str) -> Result<&'a str, ApiError> {
    v.map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing_field(name))
}
