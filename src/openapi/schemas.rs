//! The shapes of request and response bodies, for the OpenAPI document only: the handlers build
//! their answers with `serde_json`, and schemathesis in CI checks the two agree.

#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::ToSchema;

pub use super::campaigns::*;

/// An RFC 9457 problem (`application/problem+json`).
#[derive(ToSchema)]
pub struct Problem {
    /// `https://capi-bridge.dev/problems/<code>`.
    r#type: String,
    title: String,
    status: u16,
    detail: String,
    /// Stable, machine-readable: the response descriptions list them.
    code: String,
    /// The request's id, also in the `X-Request-Id` header and in every log line of the request.
    request_id: Option<String>,
}

/// `POST /v1/clicks` (JSON, `text/plain` JSON from `sendBeacon`, or a form) and the query of
/// `GET /v1/clicks`. Customer fields are hashed before they are stored.
#[derive(ToSchema)]
pub struct ClickRequest {
    /// The postback key: a server-side caller, who may set the visitor's address and User-Agent.
    key: Option<String>,
    #[schema(example = "st-offer")]
    campaign: String,
    #[schema(example = "st-click-3")]
    click_id: String,
    fbclid: Option<String>,
    fbc: Option<String>,
    fbp: Option<String>,
    event_source_url: Option<String>,
    referrer_url: Option<String>,
    client_ip_address: Option<String>,
    client_user_agent: Option<String>,
    external_id: Option<String>,
    consent: Option<bool>,
    /// Event name -> event id chosen by the browser pixel, for deduplication.
    event_ids: Option<BTreeMap<String, String>>,
    /// Event name -> when the pixel fired it on this click (unix ms), to tell server events
    /// that reach Meta past its 48-hour dedup window.
    pixel_fired_at: Option<BTreeMap<String, i64>>,
    /// TikTok's click id from the landing URL (`?ttclid=`), as given.
    ttclid: Option<String>,
    /// TikTok's `_ttp` cookie, as given.
    ttp: Option<String>,
    /// TikTok event name -> event id the TikTok pixel got (`ttq.track(..., {event_id})`).
    tiktok_event_ids: Option<BTreeMap<String, String>>,
    em: Option<String>,
    ph: Option<String>,
    #[schema(rename = "fn")]
    fn_: Option<String>,
    ln: Option<String>,
    ge: Option<String>,
    db: Option<String>,
    ct: Option<String>,
    st: Option<String>,
    zp: Option<String>,
    country: Option<String>,
    /// TikTok's phone digest, SHA-256 of E.164 with the `+` (64 hex), sent by a page that hashed
    /// `ph` itself; kept only with that hashed `ph` (a raw `ph` gets the server's own).
    tiktok_ph: Option<String>,
    /// TikTok's digest of `external_id` as given (case kept), under the rules of `tiktok_ph`.
    tiktok_external_id: Option<String>,
    /// The click's update token, 32-128 of `A-Z a-z 0-9 _ -`: the first registration's becomes
    /// the click's own (one is made when none is offered); a browser must present it to change
    /// the click later.
    #[schema(example = "3f9c2a7d8e1b4c6f0a5d9e2b7c4f1a8d")]
    update_token: Option<String>,
}

/// The trackers whose postback dialects the server speaks.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum TrackerName {
    Keitaro,
    Binom,
    Bemob,
    Voluum,
    Redtrack,
    Clickflare,
    Generic,
}

/// A registered click (201 when new or when nothing changed, 200 when merged into a known one).
#[derive(ToSchema)]
pub struct ClickRegistered {
    click_id: String,
    /// The click's update token for later registrations: the one offered, else a new one.
    /// Absent only when a caller with the postback key merged into a known click.
    update_token: Option<String>,
    /// Meta event name -> the event id the Meta pixel should use (empty without Meta).
    event_ids: BTreeMap<String, String>,
    /// TikTok event name -> the `event_id` the TikTok pixel should use (campaigns with TikTok).
    tiktok_event_ids: Option<BTreeMap<String, String>>,
    /// Fields not used: a browser's overrides (`client_ip_address`, `client_user_agent`) and
    /// every dropped field. Absent when none.
    ignored: Option<Vec<String>>,
    /// Each field dropped or cleaned, and why. Absent when none.
    dropped: Option<Vec<crate::domain::Dropped>>,
}

/// `GET /v1/campaigns/{key}/tag-config`.
#[derive(ToSchema)]
pub struct TagConfig {
    campaign: String,
    /// Rendered by the tag as the server renders it (`{txid}` empty).
    event_id_template: String,
    /// The Meta event names the campaign's event map sends (empty without Meta).
    events: Vec<String>,
    /// The campaign's `require_consent`: the tag waits for `capiBridge.consent(true)`.
    consent_required: bool,
    /// `null` when the campaign does not send to TikTok.
    tiktok: Option<TagConfigTikTok>,
    /// The calling code of the campaign's `default_country` (`"44"`), for national phone
    /// numbers; `null` without one. The country itself is not sent.
    calling_code: Option<String>,
    /// `mdy` or `dmy`: how slashed dates of birth read; `null` when only unambiguous ones do.
    date_order: Option<String>,
}

/// The TikTok part of the tag's settings.
#[derive(ToSchema)]
pub struct TagConfigTikTok {
    /// The TikTok event names the campaign's TikTok map sends.
    events: Vec<String>,
    /// Meta event -> the TikTok event the same status sends: `capiBridge.track(meta)` also
    /// fires `ttq.track` with it.
    from_meta: BTreeMap<String, String>,
}

/// What a postback did: `accepted`, `duplicate`, `unmatched`, `ignored`, ...
#[derive(ToSchema)]
pub struct PostbackAnswer {
    status: String,
    conversion_id: Option<i64>,
    /// Each field dropped or cleaned, and why; the conversion was recorded without it. Absent
    /// when none.
    dropped: Option<Vec<crate::domain::Dropped>>,
    /// The campaign's platforms whose `send_when` kept the conversion from them (no event),
    /// each with the reason: `[{"platform": "tiktok", "reason": "no TikTok click signal ..."}]`.
    /// Absent when none.
    skipped: Option<Vec<SkippedPlatform>>,
}

/// A platform a conversion was not sent to by the campaign's `send_when`.
#[derive(ToSchema)]
pub struct SkippedPlatform {
    /// `meta` or `tiktok`.
    platform: String,
    #[schema(
        example = "no TikTok click signal (ttclid/ttp) on the click: send_when platform_click"
    )]
    reason: String,
}

/// Keitaro's `return=` text, answered instead of JSON when the postback asks for it.
#[derive(ToSchema)]
#[schema(value_type = String)]
pub struct ReturnText(String);

/// A stored click; customer fields only as hashes.
#[derive(ToSchema)]
pub struct StoredClick {
    click_id: String,
    campaign: String,
    first_seen_at: String,
    updated_at: String,
    fbclid: Option<String>,
    fbc: Option<String>,
    fbp: Option<String>,
    event_source_url: Option<String>,
    referrer_url: Option<String>,
    client_ip_address: Option<String>,
    client_user_agent: Option<String>,
    consent: Option<bool>,
    event_ids: Value,
    user_data_hashes: BTreeMap<String, String>,
    /// TikTok's click id and `_ttp` cookie, as given.
    ttclid: Option<String>,
    ttp: Option<String>,
    /// TikTok event name -> the event id the TikTok pixel got.
    tiktok_event_ids: BTreeMap<String, String>,
    /// TikTok's own digests (`ph`: E.164 with the '+'; `external_id`: as given); else Meta's.
    tiktok_user_data_hashes: BTreeMap<String, String>,
}

/// What an erasure removed.
#[derive(ToSchema)]
pub struct Erased {
    clicks_deleted: u64,
    conversions_scrubbed: u64,
    events_erased: u64,
    /// Events that had not reached Meta yet and now never will.
    events_cancelled: u64,
}

/// A conversion and its event (one row of `GET /admin/v1/conversions`).
#[derive(ToSchema)]
pub struct Conversion {
    id: i64,
    /// The postback named no campaign and several campaigns held its click id: it joined the
    /// most recently registered click, which may be the wrong one.
    click_ambiguous: bool,
    /// One of the conversion states (`GET /admin/v1/conversions?state=`).
    state: Option<String>,
    /// The postback's fields that were dropped or cleaned, and why (`[]` when none).
    dropped: Vec<crate::domain::Dropped>,
    /// The campaign's platforms whose `send_when` kept the conversion from them (no event),
    /// each with the reason: `[{"platform": "tiktok", "reason": "no TikTok click signal ..."}]`.
    /// `[]` when none.
    skipped: Vec<SkippedPlatform>,
    /// Why it is not (yet) sent: the last error of its least advanced event that has one,
    /// whichever platform's, else the conversion's own failure reason.
    #[schema(example = "Invalid pixel code")]
    last_error: Option<String>,
    /// The platform (`meta`, `tiktok`) whose event `last_error` is; `null` when the reason is
    /// the conversion's own (no event could be built, no campaign...).
    #[schema(example = "tiktok")]
    last_error_platform: Option<String>,
    /// The platforms whose event went to their Test Events (its latest attempt carried a test
    /// event code), Meta's first: `["meta"]`. `[]` in production.
    #[schema(example = json!(["meta"]))]
    test_platforms: Vec<String>,
}

/// A conversion with its delivery attempts. `state` is the least advanced of its events'
/// (pending < failed < expired < sent); the other top-level event fields describe its Meta
/// event when there is one, else its first; `deliveries` has each platform's.
#[derive(ToSchema)]
pub struct ConversionDetail {
    id: i64,
    /// The postback named no campaign and several campaigns held its click id: it joined the
    /// most recently registered click, which may be the wrong one.
    click_ambiguous: bool,
    state: Option<String>,
    /// The postback's fields that were dropped or cleaned, and why (`[]` when none).
    dropped: Vec<crate::domain::Dropped>,
    /// The campaign's platforms whose `send_when` kept the conversion from them (no event),
    /// each with the reason: `[{"platform": "tiktok", "reason": "no TikTok click signal ..."}]`.
    /// `[]` when none.
    skipped: Vec<SkippedPlatform>,
    /// TikTok's click id is known for it (on the conversion or its click); never shown raw.
    ttclid_set: bool,
    /// A TikTok phone digest (and, below, external_id digest) is stored for it.
    tiktok_ph_set: bool,
    tiktok_external_id_set: bool,
    /// A Purchase whose postback carried no payout under `value_source: "payout"`: Meta and
    /// TikTok received value 0 (see docs/trackers.md).
    no_payout: bool,
    /// As in the list: the platforms whose event went to their Test Events.
    #[schema(example = json!(["meta"]))]
    test_platforms: Vec<String>,
    /// The import that recorded it (`{"id": 7, "file_name": "nov.csv"}`; `file_name` null when
    /// the upload named none); `null` for a postback's.
    #[schema(value_type = Option<Object>)]
    import: Option<serde_json::Value>,
    /// Every attempt of every platform, oldest first.
    attempts_log: Vec<Attempt>,
    deliveries: Vec<Delivery>,
}

/// One platform's event of a conversion.
#[derive(ToSchema)]
pub struct Delivery {
    #[schema(example = "tiktok")]
    platform: String,
    /// `pending`, `sent`, `failed` or `expired`.
    state: String,
    /// The platform's event name (`Purchase`, `CompletePayment`...).
    event_name: String,
    /// The id its pixel got, for deduplication.
    event_id: String,
    /// Why a failed event failed: `auth`, `invalid`, `erased`, `late_pixel_twin`...
    failure_class: Option<String>,
    last_error: Option<String>,
    attempts: i32,
    /// When it is tried next (pending events only).
    next_attempt_at: Option<String>,
    sent_at: Option<String>,
    /// The event as sent (or to be sent) in the platform's format; `null` once erased.
    payload: Option<Value>,
    /// The test event code its latest attempt carried: the event went to the platform's Test
    /// Events, not to optimisation. `null`: production, or not attempted yet.
    #[schema(example = "TEST123")]
    test_event_code: Option<String>,
    attempts_log: Vec<Attempt>,
}

/// One request that carried the event, and the platform's answer.
#[derive(ToSchema)]
pub struct Attempt {
    platform: String,
    attempted_at: String,
    /// `sent`, `transient_error`, `auth_error`, `invalid` or `expired`.
    outcome: String,
    http_status: Option<i32>,
    /// The platform's error code (Meta's `error.code`, TikTok's body `code`).
    error_code: Option<i32>,
    error_subcode: Option<i32>,
    message: Option<String>,
    /// The platform's trace id: Meta's fbtrace_id, TikTok's request_id.
    fbtrace_id: Option<String>,
    /// The test event code the request carried (the campaign's at send time); `null`:
    /// production.
    #[schema(example = "TEST123")]
    test_event_code: Option<String>,
}

#[derive(ToSchema)]
pub struct ConversionPage {
    conversions: Vec<Conversion>,
    /// Pass as `before` for the next page; `null` on the last.
    next_before: Option<i64>,
}

/// A postback that was refused, kept (without the key and personal data) for inspection.
#[derive(ToSchema)]
pub struct RefusedPostback {
    id: i64,
}

#[derive(ToSchema)]
pub struct RefusedPage {
    refused_postbacks: Vec<RefusedPostback>,
    next_before: Option<i64>,
}

#[derive(ToSchema)]
pub struct Requeued {
    requeued: i64,
}

#[derive(ToSchema)]
pub struct CampaignRequeued {
    requeued: i64,
    still_failed: i64,
    /// More failed conversions remain: call again.
    more: bool,
}

/// `GET /admin/v1/campaigns/{key}/quality`: every count present, zeros included.
#[derive(ToSchema)]
pub struct QualityReport {
    campaign: String,
    /// The window, in days (1-90).
    days: u32,
    /// Events created at or after this time are counted.
    since: String,
    /// Meta's events: one per event name, every event the campaign maps to, and any other it
    /// has events of.
    events: Vec<EventQuality>,
    /// Each platform the campaign maps events to or has events on, Meta's first; `keys` are that
    /// platform's (TikTok: `ttclid`, `ttp`, `email`, `phone`, `external_id`, `ip`,
    /// `user_agent`).
    platforms: Vec<PlatformQuality>,
    /// Field name -> how many postbacks, import rows and clicks in the window had it dropped
    /// (see "Dropped fields" in docs/api.md).
    dropped_fields: std::collections::BTreeMap<String, i64>,
}

#[derive(ToSchema)]
pub struct PlatformQuality {
    #[schema(example = "tiktok")]
    platform: String,
    events: Vec<EventQuality>,
}

#[derive(ToSchema)]
pub struct EventQuality {
    event_name: String,
    sent: i64,
    pending: i64,
    failed: i64,
    expired: i64,
    /// Each of the 15 `user_data` keys Meta matches on (`fbc`, `fbp`, `em`, `ph`,
    /// `external_id`, `client_ip_address`, `client_user_agent`, `fn`, `ln`, `ct`, `st`, `zp`,
    /// `country`, `db`, `ge`): how many sent events carried it.
    keys: BTreeMap<String, Share>,
    event_ids: EventIdSources,
    median_seconds: Medians,
    late_pixel_twins: LateTwins,
    /// Failed and expired events by last error, the 5 most frequent.
    top_failure_reasons: Vec<FailureReason>,
}

/// A count of sent events and its share of `sent` (0 when nothing was sent).
#[derive(ToSchema)]
pub struct Share {
    count: i64,
    share: f64,
}

/// Where the sent events' `event_id` came from.
#[derive(ToSchema)]
pub struct EventIdSources {
    /// "Event id registered": the page registered an eventID for the pixel on the click
    /// (counted even when the pixel never fired).
    pixel: Share,
    /// "Pixel fired with this id": of those, the clicks whose page reported the pixel firing
    /// the event (`pixel_fired_at`); Meta only, `null` for TikTok.
    pixel_fired: Option<Share>,
    /// The campaign's `event_id_template`.
    template: Share,
    /// The postback's click was never registered.
    no_click: Share,
}

/// Events more than 48 hours after the pixel fired their twin (past Meta's dedup window).
#[derive(ToSchema)]
pub struct LateTwins {
    /// Sent anyway (`late_pixel_twin: send`): Meta may count these twice.
    sent: Share,
    /// Not sent (`late_pixel_twin: skip`).
    skipped: i64,
}

/// `null` when no sent event had both times.
#[derive(ToSchema)]
pub struct Medians {
    click_to_conversion: Option<f64>,
    conversion_to_accepted: Option<f64>,
}

#[derive(ToSchema)]
pub struct FailureReason {
    /// `failed` or `expired`.
    state: String,
    reason: String,
    count: i64,
}

/// `POST /admin/v1/campaigns/{key}/test-event`; the body is optional.
#[derive(ToSchema)]
#[schema(example = json!({"event_name": "Lead"}))]
pub struct TestEventRequest {
    /// The event name (default `Lead`).
    event_name: Option<String>,
    /// `meta` (default) or `tiktok`.
    #[schema(pattern = "^(meta|tiktok)$")]
    platform: Option<String>,
}

/// Meta accepted the test event.
#[derive(ToSchema)]
pub struct TestEventAccepted {
    events_received: Option<u64>,
    fbtrace_id: Option<String>,
    test_event_code: String,
    /// The event as sent.
    event: Value,
}

#[derive(ToSchema)]
pub struct Status {
    status: String,
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    use crate::trackers::Tracker;

    #[test]
    fn tracker_names_are_the_trackers() {
        let schema = serde_json::to_value(super::TrackerName::schema()).unwrap();
        let names: Vec<&str> = schema["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let trackers: Vec<&str> = Tracker::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(names, trackers);
    }
}
