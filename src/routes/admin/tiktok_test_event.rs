//! `POST /admin/v1/campaigns/{key}/test-event` with `"platform": "tiktok"`: one synthetic event
//! sent to TikTok now with the campaign's TikTok `test_event_code`, answered with TikTok's
//! `code`, `message` and `request_id`. Nothing is stored.

use chrono::Utc;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::domain::{AccessToken, Campaign, EventName, PlatformKind};
use crate::http::ApiError;
use crate::platforms::meta::test_event::TestVisitor;
use crate::platforms::tiktok::client::Batch;
use crate::platforms::tiktok::test_event::{synthetic_event, verdict, TestVerdict};
use crate::state::AppState;

/// TikTok accepted the test event: its own words, with the event as sent.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TikTokTestEventAccepted {
    /// `tiktok`.
    platform: PlatformKind,
    /// TikTok's answer code (0: accepted).
    code: i64,
    message: String,
    #[schema(required = true)]
    request_id: Option<String>,
    test_event_code: String,
    /// The event as sent, in TikTok's format.
    event: Value,
}

pub async fn send(
    state: &AppState,
    campaign: &Campaign,
    event_name: &EventName,
    visitor: TestVisitor,
) -> Result<TikTokTestEventAccepted, ApiError> {
    let key = campaign.key.as_str();
    let Some(tiktok) = &campaign.tiktok else {
        return Err(ApiError::Unprocessable {
            code: "no_tiktok_pixel",
            detail: format!(
                "campaign {key:?} does not advertise on TikTok: set its tiktok pixel_code and \
                 access_token first"
            ),
        });
    };
    let Some(code) = tiktok.test_event_code.as_deref() else {
        return Err(ApiError::Unprocessable {
            code: "no_test_event_code",
            detail: format!(
                "campaign {key:?} has no TikTok test_event_code: copy the code from TikTok \
                 Events Manager > Test events and set it with PATCH /admin/v1/campaigns/{key}"
            ),
        });
    };
    let token = state
        .cipher
        .open_token(key, PlatformKind::TikTok, tiktok.access_token.expose())
        .map(AccessToken::new)
        .map_err(|e| ApiError::Unprocessable {
            code: "access_token_unreadable",
            detail: e.to_string(),
        })?;
    let event = synthetic_event(campaign, event_name, Utc::now(), &visitor);
    let reply = state
        .tiktok
        .send(&Batch {
            pixel_code: tiktok.pixel_code.as_str(),
            access_token: &token,
            test_event_code: Some(code),
            events: &[&event],
        })
        .await;
    match verdict(&reply) {
        TestVerdict::Accepted(said) => Ok(TikTokTestEventAccepted {
            platform: PlatformKind::TikTok,
            code: said.code,
            message: said.message,
            request_id: said.request_id,
            test_event_code: code.to_owned(),
            event: serde_json::to_value(&event).map_err(|e| ApiError::Internal(e.into()))?,
        }),
        TestVerdict::Refused { http_status, said } => Err(ApiError::Upstream {
            timed_out: false,
            code: "tiktok_refused",
            detail: format!(
                "TikTok refused the test event: {} (code {})",
                said.message, said.code
            ),
            upstream: Some(json!({
                "http_status": http_status,
                "code": said.code,
                "message": said.message,
                "request_id": said.request_id,
            })),
        }),
        TestVerdict::Unreachable { timed_out, message } => Err(ApiError::Upstream {
            timed_out,
            code: if timed_out {
                "tiktok_timeout"
            } else {
                "tiktok_unreachable"
            },
            detail: format!("TikTok did not answer the test event: {message}"),
            upstream: None,
        }),
    }
}
