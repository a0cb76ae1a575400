//! `POST /admin/v1/campaigns/{key}/test-event`: one synthetic event sent to Meta now, with the
//! campaign's `test_event_code`. The one handler that calls Meta itself: the point is Meta's
//! verdict, in the answer, while the user watches Events Manager. Nothing is stored.

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use super::{campaign_key, find_campaign, json_body, Admin};
use crate::domain::{AccessToken, Campaign, EventName, ParseError, PlatformKind};
use crate::http::client_ip::client_ip;
use crate::http::ApiError;
use crate::platforms::meta::graph::{Batch, SendResult};
use crate::platforms::meta::test_event::{synthetic_event, TestVisitor};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestEventBody {
    event_name: Option<String>,
    /// `meta` (the default) or `tiktok`.
    platform: Option<String>,
}

#[tracing::instrument(skip_all, fields(campaign = %key))]
pub async fn send(
    _: Admin,
    key: web::Path<String>,
    req: HttpRequest,
    body: Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = campaign_key(&key)?;
    let body: TestEventBody = if body.iter().all(u8::is_ascii_whitespace) {
        TestEventBody::default()
    } else {
        json_body(&body)?
    };
    let event_name = EventName::parse(body.event_name.as_deref().unwrap_or("Lead"))
        .map_err(|e| ApiError::invalid_field("event_name", e))?;
    let campaign = find_campaign(&state, &key).await?;
    match body.platform.as_deref().map(PlatformKind::parse) {
        None | Some(Some(PlatformKind::Meta)) => {}
        Some(Some(PlatformKind::TikTok)) => {
            let visitor = visitor(&req, &state);
            return super::tiktok_test_event::send(&state, &campaign, &event_name, visitor).await;
        }
        Some(None) => {
            return Err(ApiError::invalid_field(
                "platform",
                ParseError::new("platform must be \"meta\" or \"tiktok\""),
            ))
        }
    }
    let sent = run(&state, &campaign, &event_name, visitor(&req, &state)).await?;
    verdict(sent.result, &sent.event, &sent.test_event_code)
}

/// The synthetic event as sent, with Meta's answer.
pub struct TestEventSent {
    pub result: SendResult,
    pub event: serde_json::Value,
    pub test_event_code: String,
}

/// The visitor the synthetic event claims: whoever asked for the test.
pub fn visitor(req: &HttpRequest, state: &AppState) -> TestVisitor {
    TestVisitor {
        ip: client_ip(req, &state.trusted_proxies).map(|ip| ip.to_string()),
        user_agent: req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .filter(|ua| !ua.trim().is_empty())
            .unwrap_or(concat!(
                "capi-bridge/",
                env!("CARGO_PKG_VERSION"),
                " test event"
            ))
            .to_owned(),
    }
}

/// Builds the campaign's synthetic event and sends it to Meta with its `test_event_code`: the
/// admin API and the dashboard's test-event button both call this.
pub async fn run(
    state: &AppState,
    campaign: &Campaign,
    event_name: &EventName,
    visitor: TestVisitor,
) -> Result<TestEventSent, ApiError> {
    let key = campaign.key.as_str();
    let Some(meta) = &campaign.meta else {
        return Err(ApiError::Unprocessable {
            code: "no_meta_pixel",
            detail: format!(
                "campaign {key:?} does not advertise on Meta: set its pixel_id and access_token \
                 first"
            ),
        });
    };
    let Some(test_event_code) = campaign.test_event_code.as_deref() else {
        return Err(ApiError::Unprocessable {
            code: "no_test_event_code",
            detail: format!(
                "campaign {key:?} has no test_event_code: copy the code from Events Manager > Test \
                 events and set it with PATCH /admin/v1/campaigns/{key}"
            ),
        });
    };
    let event = synthetic_event(campaign, event_name, Utc::now(), visitor).map_err(|e| {
        ApiError::Unprocessable {
            code: "test_event_incomplete",
            detail: format!("the test event cannot be built: {e}"),
        }
    })?;
    let token = state
        .cipher
        .open_token(key, PlatformKind::Meta, meta.access_token.expose())
        .map(AccessToken::new)
        // A token error like delivery's: the user sets the token again (or the right key).
        .map_err(|e| ApiError::Unprocessable {
            code: "access_token_unreadable",
            detail: e.to_string(),
        })?;
    let event = serde_json::to_value(&event).map_err(|e| ApiError::Internal(e.into()))?;
    let result = state
        .graph
        .send(&Batch {
            pixel_id: meta.pixel_id.as_str(),
            access_token: &token,
            test_event_code: Some(test_event_code),
            events: vec![&event],
        })
        .await;
    Ok(TestEventSent {
        result,
        event,
        test_event_code: test_event_code.to_owned(),
    })
}

/// Meta's answer as ours: its acceptance as 200, its refusal as 502 with its own words.
fn verdict(
    result: SendResult,
    event: &serde_json::Value,
    test_event_code: &str,
) -> Result<HttpResponse, ApiError> {
    let timed_out = result.timed_out();
    match result {
        SendResult::Accepted {
            events_received,
            fbtrace_id,
        } => Ok(HttpResponse::Ok().json(json!({
            "events_received": events_received,
            "fbtrace_id": fbtrace_id,
            "test_event_code": test_event_code,
            "event": event,
        }))),
        SendResult::MetaError {
            http_status, error, ..
        } => Err(ApiError::Upstream {
            timed_out: false,
            code: "meta_refused",
            detail: format!("Meta refused the test event: {}", error.readable()),
            upstream: Some(json!({
                "http_status": http_status,
                "code": error.code,
                "error_subcode": error.error_subcode,
                "message": error.message,
                "error_user_title": error.error_user_title,
                "error_user_msg": error.error_user_msg,
                "fbtrace_id": error.fbtrace_id,
            })),
        }),
        SendResult::Transport {
            http_status,
            message,
            ..
        } => Err(ApiError::Upstream {
            timed_out,
            code: if timed_out {
                "meta_timeout"
            } else {
                "meta_unreachable"
            },
            detail: format!("Meta did not answer the test event: {message}"),
            upstream: http_status.map(|s| json!({ "http_status": s })),
        }),
    }
}
