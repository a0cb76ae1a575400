//! `POST /admin/v1/campaigns/{key}/test-event`: one synthetic event sent to Meta now, with the
//! campaign's `test_event_code`. The one handler that calls Meta itself: the point is Meta's
//! verdict, in the answer, while the user watches Events Manager. Nothing is stored.

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::{campaign_key, find_campaign, json_body, Admin};
use crate::campaigns::test_event::{run, visitor, TestEventError};
use crate::domain::{EventName, ParseError, PlatformKind};
use crate::http::ApiError;
use crate::platforms::meta::graph::SendResult;
use crate::startup::AppState;

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

impl From<TestEventError> for ApiError {
    fn from(e: TestEventError) -> Self {
        let code = match &e {
            TestEventError::NoMetaPixel(_) => "no_meta_pixel",
            TestEventError::NoTestEventCode(_) => "no_test_event_code",
            TestEventError::Incomplete(_) => "test_event_incomplete",
            TestEventError::TokenUnreadable(_) => "access_token_unreadable",
            TestEventError::Internal(_) => return ApiError::Internal(e.into()),
        };
        ApiError::Unprocessable {
            code,
            detail: e.to_string(),
        }
    }
}
