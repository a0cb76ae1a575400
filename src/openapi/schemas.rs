//! The request bodies and shared shapes of the OpenAPI document that no handler type carries:
//! the problem body, the click and test-event requests (parsed by hand), the tracker names and
//! Keitaro's `return=` text. The answers are the handlers' own types.

#![allow(dead_code)]

use std::collections::BTreeMap;

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

/// Keitaro's `return=` text, answered instead of JSON when the postback asks for it.
#[derive(ToSchema)]
#[schema(value_type = String)]
pub struct ReturnText(String);

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
