//! One documented operation per route. The handlers stay free of documentation attributes (the
//! admin ones are being reshaped over a campaign service); `tests/api/openapi.rs` checks that
//! every route is here and schemathesis checks the answers against it.

#![allow(dead_code)]

use std::collections::BTreeMap;

use utoipa::openapi::{ContentBuilder, RefOr, Response, ResponseBuilder};
use utoipa::IntoResponses;

use super::schemas::*;

/// A problem response listing the `code`s it can carry.
fn problem(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
                .build(),
        )
        .into()
}

pub(super) fn problems(list: &[(u16, &str)]) -> BTreeMap<String, RefOr<Response>> {
    list.iter()
        .map(|(status, codes)| (status.to_string(), problem(codes)))
        .collect()
}

/// What any route may answer: a body over 64 KiB, a wrong method, a request that never
/// finishes, an unreachable database or a full write queue.
pub(super) const COMMON: &[(u16, &str)] = &[
    (405, "`method_not_allowed`"),
    (
        408,
        "`request_timeout`: the request was not received within REQUEST_TIMEOUT",
    ),
    (413, "`payload_too_large`"),
    (
        503,
        "`database_unavailable`, `overloaded`: retry after `Retry-After` seconds",
    ),
];

/// What the HTTP layer answers, before any route, to a request it cannot parse (schemathesis
/// sends header values with bytes HTTP forbids).
const MALFORMED: &str =
    "a malformed request (e.g. a header value with forbidden bytes), refused before routing";

/// The admin routes' answer past AUTH_FAILURE_LIMIT.
pub(super) const ADMIN_THROTTLED: (u16, &str) = (
    429,
    "`too_many_failed_attempts`: too many wrong admin tokens from this address; retry after \
     `Retry-After` seconds (a valid token is never refused)",
);

/// Errors of the admin API's routes.
pub struct AdminErrors;

impl IntoResponses for AdminErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut all = problems(&[
            (
                400,
                "`invalid_parameters`, `invalid_parameter`, `invalid_state`, `invalid_json`, \
                 `invalid_body`, `missing_field`, `invalid_value`",
            ),
            (401, "`unauthorized`: missing or wrong admin token"),
            ADMIN_THROTTLED,
            (
                404,
                "`campaign_not_found`, `click_not_found`, `conversion_not_found`, \
                 `route_not_found`",
            ),
            (
                409,
                "`campaign_exists`, `not_retryable`, `still_failing`, `ambiguous_click`, \
                 `conflict`",
            ),
            (415, "`unsupported_media_type`"),
            (
                422,
                "`invalid_field`, `no_test_event_code`, `test_event_incomplete`, \
                 `access_token_unreadable`, `no_meta_pixel`, `no_tiktok_pixel`",
            ),
        ]);
        all.extend(problems(COMMON));
        all
    }
}

/// Errors of the public click and postback routes.
pub struct PublicErrors;

impl IntoResponses for PublicErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut all = problems(&[
            (
                400,
                "`missing_field`, `missing_click_id`, `invalid_json`, `invalid_body`, \
                 `invalid_parameters`, `invalid_value`, `bad_request`",
            ),
            (401, "`unauthorized`: missing or wrong postback key"),
            (
                403,
                "`ip_not_allowed`: the address is not in POSTBACK_ALLOWED_IPS",
            ),
            (
                404,
                "`unknown_tracker`, `campaign_not_found`, `route_not_found`",
            ),
            (409, "`conflict`"),
            (415, "`unsupported_media_type`"),
            (422, "`invalid_field`, `unfilled_status`"),
            (
                429,
                "`rate_limited`: retry after `Retry-After` seconds; `too_many_failed_attempts`: \
                 too many wrong postback keys from this address (a valid key is never refused)",
            ),
        ]);
        all.extend(problems(COMMON));
        all
    }
}

#[utoipa::path(
    post, path = "/v1/clicks", tag = "public",
    description = "Registers a landing page visit (its click id, Meta's cookies, TikTok's \
                   `ttclid` and `_ttp`). Public: landing pages call it from the browser (CORS \
                   open). A browser changes a registered click only with its `update_token`; \
                   without it the answer is the same as for a new click (201), and only \
                   `consent: false` is stored.",
    request_body(content(
        (ClickRequest = "application/json"),
        (ClickRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 201, description = "A new click, or a registration that changed nothing \
            (a browser's without the click's update token)", body = ClickRegistered),
        (status = 200, description = "A known click, updated (with its update token or the \
            postback key)", body = ClickRegistered),
        PublicErrors,
    )
)]
fn register_click_post() {}

#[utoipa::path(
    get, path = "/v1/clicks", tag = "public",
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
        PublicErrors,
    )
)]
fn register_click_get() {}

/// Errors of the tag's configuration: an unknown campaign, and what any route may answer.
pub struct TagConfigErrors;

impl IntoResponses for TagConfigErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut all = problems(&[
            (400, MALFORMED),
            (
                404,
                "`campaign_not_found`: no enabled campaign has that key",
            ),
        ]);
        all.extend(problems(COMMON));
        all
    }
}

#[utoipa::path(
    get, path = "/v1/tag.js", tag = "public",
    description = "The landing tag (docs/landing.md): `<script async src=\".../v1/tag.js\" \
                   data-campaign=\"KEY\">`. Cached for an hour (`Cache-Control: public, \
                   max-age=3600`), then revalidated with its strong `ETag`. Gzipped for a \
                   client that accepts gzip (`Vary: Accept-Encoding`; an `ETag` per encoding).",
    params(("If-None-Match" = Option<String>, Header,
        description = "An ETag of an earlier answer: 304 when it is still current")),
    responses(
        (status = 200, description = "The script", content_type = "text/javascript",
            body = String, headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Not modified",
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 400, description = MALFORMED),
    )
)]
fn tag_script() {}

#[utoipa::path(
    get, path = "/v1/campaigns/{key}/tag-config", tag = "public",
    description = "What the landing tag needs to give each pixel (Meta's, TikTok's) the \
                   server's event ids. Public (CORS open), cached for 5 minutes, nothing secret \
                   in it.",
    params(("key" = String, Path, example = "st-offer")),
    responses(
        (status = 200, body = TagConfig, description = "The campaign's tag settings",
            headers(("Cache-Control" = String))),
        TagConfigErrors,
    )
)]
fn tag_config() {}

#[utoipa::path(
    get, path = "/v1/postback/{tracker}", tag = "public",
    description = "A conversion from a tracker. Parameters are the tracker's own (Keitaro: \
                   `subid`, `status`, `payout`, ...); the postback key as `key` or \
                   `X-Postback-Key`.",
    params(
        ("tracker" = TrackerName, Path, example = "keitaro"),
        ("subid" = Option<String>, Query, example = "st-click-1",
            description = "Keitaro's click id; other trackers name it their way"),
        ("status" = Option<String>, Query, example = "lead"),
        ("payout" = Option<String>, Query, example = "12.5"),
    ),
    security(("postback_key" = []), ("postback_key_header" = [])),
    responses(
        (status = 200, description = "Recorded (or ignored)", content(
            (PostbackAnswer = "application/json"), (ReturnText = "text/plain"))),
        (status = 202, description = "Recorded, the click is not known yet", content(
            (PostbackAnswer = "application/json"), (ReturnText = "text/plain"))),
        PublicErrors,
    )
)]
fn postback_get() {}

#[utoipa::path(
    post, path = "/v1/postback/{tracker}", tag = "public",
    description = "The same as GET, with the parameters in a form or JSON body.",
    params(("tracker" = TrackerName, Path, example = "keitaro")),
    request_body(content(
        (BTreeMap<String, String> = "application/x-www-form-urlencoded",
            example = json!({"subid": "st-click-1", "status": "sale", "payout": "12.5"})),
        (BTreeMap<String, String> = "application/json",
            example = json!({"subid": "st-click-1", "status": "sale", "payout": "12.5"})),
    )),
    security(("postback_key" = []), ("postback_key_header" = [])),
    responses(
        (status = 200, description = "Recorded (or ignored)", content(
            (PostbackAnswer = "application/json"), (ReturnText = "text/plain"))),
        (status = 202, description = "Recorded, the click is not known yet", content(
            (PostbackAnswer = "application/json"), (ReturnText = "text/plain"))),
        PublicErrors,
    )
)]
fn postback_post() {}

#[utoipa::path(
    post, path = "/admin/v1/campaigns", tag = "admin",
    request_body(content = CampaignFields, content_type = "application/json"),
    security(("admin_token" = [])),
    responses((status = 201, body = Campaign, description = "Created"), AdminErrors)
)]
fn campaign_create() {}

#[utoipa::path(
    get, path = "/admin/v1/campaigns", tag = "admin",
    security(("admin_token" = [])),
    responses((status = 200, body = CampaignList, description = "Every campaign"), AdminErrors)
)]
fn campaign_list() {}

#[utoipa::path(
    get, path = "/admin/v1/campaigns/{key}", tag = "admin",
    params(("key" = String, Path, example = "st-offer")),
    security(("admin_token" = [])),
    responses((status = 200, body = Campaign, description = "The campaign"), AdminErrors)
)]
fn campaign_get() {}

#[utoipa::path(
    patch, path = "/admin/v1/campaigns/{key}", tag = "admin",
    params(("key" = String, Path, example = "st-offer")),
    request_body(content = CampaignPatch, content_type = "application/json"),
    security(("admin_token" = [])),
    responses((status = 200, body = Campaign, description = "Updated"), AdminErrors)
)]
fn campaign_patch() {}

#[utoipa::path(
    delete, path = "/admin/v1/campaigns/{key}", tag = "admin",
    params(("key" = String, Path, example = "st-doomed")),
    security(("admin_token" = [])),
    responses((status = 204, description = "Deleted"), AdminErrors)
)]
fn campaign_delete() {}

#[utoipa::path(
    post, path = "/admin/v1/campaigns/{key}/retry-failed", tag = "admin",
    description = "Re-queues up to 1000 failed conversions of the campaign.",
    params(("key" = String, Path, example = "st-offer")),
    security(("admin_token" = [])),
    responses((status = 200, body = CampaignRequeued, description = "Re-queued"), AdminErrors)
)]
fn campaign_retry_failed() {}

#[utoipa::path(
    get, path = "/admin/v1/campaigns/{key}/quality", tag = "admin",
    description = "The match-quality report: per event name, the events sent, the share carrying \
                   each key Meta matches on, where their event ids came from, median delays and \
                   the top failure reasons, over the events created in the last `days`.",
    params(
        ("key" = String, Path, example = "st-offer"),
        ("days" = Option<u32>, Query, minimum = 1, maximum = 90, example = 7,
            description = "The window (default 7)"),
    ),
    security(("admin_token" = [])),
    responses((status = 200, body = QualityReport, description = "The report"), AdminErrors)
)]
fn campaign_quality() {}

#[utoipa::path(
    post, path = "/admin/v1/campaigns/{key}/test-event", tag = "admin",
    description = "Sends one synthetic event to Meta now with the campaign's `test_event_code` \
                   and answers with Meta's verdict. Not a conversion, not stored. With \
                   `\"platform\": \"tiktok\"` it goes to TikTok with the campaign's TikTok \
                   `test_event_code` and the 200 body is TikTok's `code`, `message` and \
                   `request_id` with `platform`, `test_event_code` and `event`; 422 \
                   `no_tiktok_pixel` when the campaign has no TikTok pixel.",
    params(("key" = String, Path, example = "st-offer")),
    request_body(content = TestEventRequest, content_type = "application/json"),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = TestEventAccepted, description = "Meta accepted it"),
        (status = 502, body = Problem, content_type = "application/problem+json",
            description = "`meta_refused` (the `meta` member holds Meta's `code`, \
                           `error_subcode`, `message`, `fbtrace_id`), `meta_unreachable`; \
                           `tiktok_refused` (the `tiktok` member holds TikTok's `code`, \
                           `message`, `request_id`), `tiktok_unreachable`"),
        (status = 504, body = Problem, content_type = "application/problem+json",
            description = "`meta_timeout`, `tiktok_timeout`: no answer within DELIVERY_TIMEOUT"),
        AdminErrors,
    )
)]
fn campaign_test_event() {}

#[utoipa::path(
    get, path = "/admin/v1/clicks/{click_id}", tag = "admin",
    description = "A click id may be on several campaigns: `campaign` names which; without it \
                   a click id of several campaigns is a 409 `ambiguous_click`.",
    params(
        ("click_id" = String, Path, example = "st-click-1"),
        ("campaign" = Option<String>, Query, example = "st-offer"),
    ),
    security(("admin_token" = [])),
    responses((status = 200, body = StoredClick, description = "The click"), AdminErrors)
)]
fn click_get() {}

#[utoipa::path(
    delete, path = "/admin/v1/clicks/{click_id}", tag = "admin",
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
    responses((status = 200, body = Erased, description = "What was erased"), AdminErrors)
)]
fn click_erase() {}

#[utoipa::path(
    get, path = "/admin/v1/conversions", tag = "admin",
    description = "Newest first; an unknown parameter is a 400.",
    params(
        ("campaign" = Option<String>, Query),
        ("state" = Option<String>, Query),
        ("tracker" = Option<String>, Query, description = "keitaro, binom, bemob, voluum, redtrack, clickflare or generic"),
        ("click_id" = Option<String>, Query),
        ("txid" = Option<String>, Query, description = "The transaction id, exactly"),
        ("platform" = Option<String>, Query,
         description = "meta or tiktok: conversions with an event for that platform; another word is a 400 `invalid_platform`"),
        ("since" = Option<String>, Query, description = "RFC 3339 time or YYYY-MM-DD"),
        ("until" = Option<String>, Query, description = "RFC 3339 time or YYYY-MM-DD"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000),
        ("before" = Option<i64>, Query, minimum = 1),
    ),
    security(("admin_token" = [])),
    responses((status = 200, body = ConversionPage, description = "A page"), AdminErrors)
)]
fn conversion_list() {}

#[utoipa::path(
    get, path = "/admin/v1/conversions.csv", tag = "admin",
    description = "The conversions the list's filters match, newest first, as a CSV download \
                   (at most 100,000 rows; `X-Export-Truncated: true` and a last line say when \
                   it was cut). Text cells starting with `=`, `+`, `-`, `@`, a tab or a carriage \
                   return get a leading `'`; numbers stay numbers. An unknown parameter is a 400.",
    params(
        ("campaign" = Option<String>, Query),
        ("state" = Option<String>, Query),
        ("tracker" = Option<String>, Query, description = "keitaro, binom, bemob, voluum, redtrack, clickflare or generic"),
        ("click_id" = Option<String>, Query),
        ("txid" = Option<String>, Query, description = "The transaction id, exactly"),
        ("platform" = Option<String>, Query,
         description = "meta or tiktok: conversions with an event for that platform; another word is a 400 `invalid_platform`"),
        ("since" = Option<String>, Query, description = "RFC 3339 time or YYYY-MM-DD"),
        ("until" = Option<String>, Query, description = "RFC 3339 time or YYYY-MM-DD"),
    ),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The CSV file (`Content-Disposition: attachment`)",
         content_type = "text/csv", body = String,
         example = "id,received_at,event_time,campaign,tracker,click_id,txid,status,event_name,state,value,currency,test_platforms,last_error_platform,last_error\n7,2026-11-30T12:00:00Z,2026-11-30T12:00:00Z,shop,keitaro,clk-1,'=1+1,sale,Purchase,sent,-12.5,USD,,,\n"),
        AdminErrors
    )
)]
fn conversion_csv() {}

#[utoipa::path(
    get, path = "/admin/v1/refused-postbacks", tag = "admin",
    params(
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000),
        ("before" = Option<i64>, Query, minimum = 1),
    ),
    security(("admin_token" = [])),
    responses((status = 200, body = RefusedPage, description = "A page"), AdminErrors)
)]
fn refused_list() {}

#[utoipa::path(
    get, path = "/admin/v1/conversions/{id}", tag = "admin",
    params(("id" = String, Path, example = "1")),
    security(("admin_token" = [])),
    responses((status = 200, body = ConversionDetail, description = "The conversion"), AdminErrors)
)]
fn conversion_get() {}

#[utoipa::path(
    post, path = "/admin/v1/conversions/{id}/retry", tag = "admin",
    params(("id" = String, Path, example = "1")),
    security(("admin_token" = [])),
    responses((status = 200, body = Requeued, description = "Re-queued"), AdminErrors)
)]
fn conversion_retry() {}
