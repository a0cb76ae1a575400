//! `POST /admin/v1/campaigns/{key}/test-event` with `"platform": "tiktok"`: one synthetic event
//! sent to TikTok now with the campaign's TikTok `test_event_code`, answered with TikTok's
//! `code`, `message` and `request_id`. Nothing is stored.

use actix_web::HttpResponse;
use chrono::Utc;
use serde_json::json;

use crate::domain::{AccessToken, Campaign, EventName, PlatformKind};
use crate::http::ApiError;
use crate::platforms::meta::test_event::TestVisitor;
use crate::platforms::tiktok::client::Batch;
use crate::platforms::tiktok::test_event::{synthetic_event, verdict, TestVerdict};
use crate::state::AppState;

pub async fn send(
    state: &AppState,
    campaign: &Campaign,
    event_name: &EventName,
    visitor: TestVisitor,
) -> Result<HttpResponse, ApiError> {
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
        TestVerdict::Accepted(said) => Ok(HttpResponse::Ok().json(json!({
            "platform": "tiktok",
            "code": said.code,
            "message": said.message,
            "request_id": said.request_id,
            "test_event_code": code,
            "event": event,
        }))),
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
