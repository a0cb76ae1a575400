//! The campaign request bodies of the OpenAPI document: a campaign as created and as changed,
//! with its TikTok settings (`crate::campaigns::CampaignInput` parses both).

#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::ToSchema;

/// TikTok's settings as sent: `pixel_code` and `access_token` are required to add TikTok;
/// afterwards only the fields that change. `null` for `test_event_code` clears it.
#[derive(ToSchema)]
#[schema(example = json!({"pixel_code": "C4ABCDEF0123456789", "access_token": "tt-example-0123456789",
    "event_map": {"lead": "Lead", "sale": "Purchase", "rebill": "Purchase", "rejected": null}}))]
pub struct TikTokFields {
    pixel_code: Option<String>,
    access_token: Option<String>,
    test_event_code: Option<String>,
    /// Default: lead -> `Lead`, sale and rebill -> `Purchase`, rejected -> not sent.
    event_map: Option<BTreeMap<String, Option<String>>>,
    /// `always` or `platform_click` (only conversions whose click carries TikTok's own signal,
    /// `ttclid` or `_ttp`); `null`: the default (`platform_click` when the campaign is on Meta
    /// too, else `always`).
    send_when: Option<String>,
}

/// A new campaign: `key`, and Meta's `pixel_id` and `access_token` or `tiktok` (or both).
#[derive(ToSchema)]
#[schema(example = json!({"key": "st-offer-2", "pixel_id": "1234567890",
    "access_token": "EAAexample0123456789", "landing_url": "https://lp.example.com/"}))]
pub struct CampaignFields {
    key: Option<String>,
    name: Option<String>,
    pixel_id: Option<String>,
    access_token: Option<String>,
    test_event_code: Option<String>,
    /// `website`, `app`, `system_generated`, ...
    action_source: Option<String>,
    /// Tracker status -> Meta event name (`null` drops that status).
    event_map: Option<BTreeMap<String, Option<String>>>,
    currency: Option<String>,
    /// `"payout"`, `"none"` or `{"fixed": <amount>}`.
    value_source: Option<Value>,
    event_id_template: Option<String>,
    landing_url: Option<String>,
    /// `send` (default) or `skip`: what to do with an event that would reach Meta more than 48
    /// hours after the pixel fired its twin (Meta would count it twice).
    late_pixel_twin: Option<String>,
    require_consent: Option<bool>,
    limited_data_use: Option<bool>,
    enabled: Option<bool>,
    /// Adds or changes TikTok; `null` removes it and cancels its unsent events.
    tiktok: Option<TikTokFields>,
    /// ISO 3166-1 alpha-2 (`gb`, `us`): the visitors' country, for national phone numbers.
    default_country: Option<String>,
    /// `mdy` or `dmy`: how slashed dates of birth are read (default: by `default_country`).
    date_order: Option<String>,
    /// `always` or `platform_click` (only conversions whose click, or postback, carries Meta's
    /// own signal: `fbclid`, `_fbc` or `_fbp`); `null`: the default (`platform_click` when the
    /// campaign is on TikTok too, else `always`). Refused without Meta.
    meta_send_when: Option<String>,
}

/// A change to a campaign: only the fields that change (`null` clears `test_event_code`,
/// `landing_url`, `default_country` and `date_order`, and sets `meta_send_when` and
/// `tiktok.send_when` back to the default); the key cannot change.
#[derive(ToSchema)]
#[schema(example = json!({"name": "Summer offer", "currency": "EUR"}))]
pub struct CampaignPatch {
    name: Option<String>,
    pixel_id: Option<String>,
    access_token: Option<String>,
    test_event_code: Option<String>,
    action_source: Option<String>,
    event_map: Option<BTreeMap<String, Option<String>>>,
    currency: Option<String>,
    value_source: Option<Value>,
    event_id_template: Option<String>,
    landing_url: Option<String>,
    /// `send` (default) or `skip`: what to do with an event that would reach Meta more than 48
    /// hours after the pixel fired its twin (Meta would count it twice).
    late_pixel_twin: Option<String>,
    require_consent: Option<bool>,
    limited_data_use: Option<bool>,
    enabled: Option<bool>,
    /// Adds or changes TikTok; `null` removes it and cancels its unsent events.
    tiktok: Option<TikTokFields>,
    /// ISO 3166-1 alpha-2 (`gb`, `us`): the visitors' country, for national phone numbers.
    default_country: Option<String>,
    /// `mdy` or `dmy`: how slashed dates of birth are read (default: by `default_country`).
    date_order: Option<String>,
    /// `always` or `platform_click` (only conversions whose click, or postback, carries Meta's
    /// own signal: `fbclid`, `_fbc` or `_fbp`); `null`: the default (`platform_click` when the
    /// campaign is on TikTok too, else `always`). Refused without Meta.
    meta_send_when: Option<String>,
}
