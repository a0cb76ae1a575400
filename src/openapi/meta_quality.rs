//! The Meta quality routes' documentation (`routes::admin::meta_quality`).

#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::openapi::{RefOr, Response};
use utoipa::{IntoResponses, ToSchema};

use super::paths::{problems, AdminErrors};

/// The last fetch of the pixel's figures from Meta, successful or not.
#[derive(ToSchema)]
pub struct MetaQualityFetch {
    fetched_at: String,
    #[schema(
        pattern = "^(scored|no_score_yet|token_invalid|missing_rights|graph_error|unreachable|no_readable_token)$"
    )]
    outcome: String,
    /// What it means and what to do (absent when `scored`).
    message: Option<String>,
    /// Meta's error code, when Meta answered with one.
    graph_code: Option<i64>,
}

#[derive(ToSchema)]
pub struct MetaMatchKey {
    /// The `user_data` key we send (`em`, `client_ip_address`...), or Meta's name when unknown.
    #[schema(example = "em")]
    key: String,
    #[schema(example = "email")]
    meta_identifier: String,
    coverage_percent: Option<f64>,
}

#[derive(ToSchema)]
pub struct MetaDiagnostic {
    name: String,
    solution: Option<String>,
}

#[derive(ToSchema)]
pub struct MetaDedupeFeedback {
    /// Share of the pixel's browser events carrying an `event_id`.
    event_id_browser_percent: Option<f64>,
    event_id_server_percent: Option<f64>,
}

/// A rule that fired, with the figures it read.
#[derive(ToSchema)]
pub struct MetaAdvice {
    #[schema(
        pattern = "^(fbclid_dropped|pixel_without_event_id|pixel_already_sees_them|email_missing)$"
    )]
    rule: String,
    advice: String,
    #[schema(example = "Meta's fbc coverage 20%, our events with fbc 10%")]
    because: String,
}

/// One event name's latest figures from Meta.
#[derive(ToSchema)]
pub struct MetaEventQuality {
    event_name: String,
    fetched_at: String,
    /// Event Match Quality, 0-10 (null: no score yet).
    emq: Option<f64>,
    event_coverage_percent: Option<f64>,
    /// Additional conversions reported thanks to the Conversions API, last 7 days.
    acr_percent: Option<f64>,
    dedupe_key_feedback: MetaDedupeFeedback,
    #[schema(example = "real_time")]
    upload_frequency: Option<String>,
    match_keys: Vec<MetaMatchKey>,
    diagnostics: Vec<MetaDiagnostic>,
    /// What to do, from Meta's figures and ours (the campaign's last 7 days).
    advice: Vec<MetaAdvice>,
    /// Meta's element as received.
    raw: Value,
}

#[derive(ToSchema)]
pub struct MetaQualityPoint {
    event_name: String,
    fetched_at: String,
    emq: Option<f64>,
    event_coverage_percent: Option<f64>,
    acr_percent: Option<f64>,
}

#[derive(ToSchema)]
pub struct MetaQuality {
    campaign: String,
    pixel_id: String,
    days: i32,
    last_fetch: Option<MetaQualityFetch>,
    events: Vec<MetaEventQuality>,
    /// Every snapshot of the window, oldest first.
    history: Vec<MetaQualityPoint>,
}

#[derive(ToSchema)]
pub struct MetaQualityRefresh {
    pixel_id: String,
    detail: String,
}

/// The admin errors, and the refresh limit.
pub struct RefreshErrors;

impl IntoResponses for RefreshErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut all = AdminErrors::responses();
        all.extend(problems(&[(
            429,
            "`rate_limited`: the pixel's figures were asked for less than a minute ago; retry \
             after `Retry-After` seconds. `too_many_failed_attempts`: too many wrong admin tokens",
        )]));
        all
    }
}

#[utoipa::path(
    get, path = "/admin/v1/campaigns/{key}/meta-quality", tag = "admin",
    description = "Meta's own verdict on the campaign's Meta pixel, from its Dataset Quality \
                   API: per event name the latest Event Match Quality, match keys (named as \
                   we send them), event coverage, dedup-key feedback, freshness and additional \
                   conversions reported; every snapshot of the last `days`; and how the last \
                   fetch went, with what to do. A campaign without a Meta pixel is a 422 \
                   `no_meta_pixel`.",
    params(
        ("key" = String, Path, example = "st-offer"),
        ("days" = Option<i32>, Query, minimum = 1, maximum = 90, example = 30,
            description = "The history's window (default 30)"),
    ),
    security(("admin_token" = [])),
    responses((status = 200, body = MetaQuality, description = "Meta's figures"), AdminErrors)
)]
fn campaign_meta_quality() {}

#[utoipa::path(
    post, path = "/admin/v1/campaigns/{key}/meta-quality/refresh", tag = "admin",
    description = "Fetches the pixel's figures from Meta at the next round (within seconds), \
                   at most once a minute per pixel, whichever campaign asks.",
    params(("key" = String, Path, example = "st-offer")),
    security(("admin_token" = [])),
    responses((status = 202, body = MetaQualityRefresh, description = "Asked"), RefreshErrors)
)]
fn campaign_meta_quality_refresh() {}
