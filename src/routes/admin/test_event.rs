//! `POST /admin/v1/campaigns/{key}/test-event`: one synthetic event sent to Meta now, with the
//! campaign's `test_event_code`. The one handler that calls Meta itself: the point is Meta's
//! verdict, in the answer, while the user watches Events Manager. Nothing is stored.

use actix_web::web;
// Named apart: utoipa would document a `Bytes` argument as an octet-stream body.
use actix_web::web::Bytes as Body;
use actix_web::HttpRequest;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::tiktok_test_event::TikTokTestEventAccepted;
use super::{campaign_key, find_campaign, json_body, Admin};
use crate::campaigns::test_event::{run, visitor, TestEventError};
use crate::domain::{EventName, ParseError, PlatformKind};
use crate::http::ApiError;
use crate::openapi::problems::{problems, Admin as AdminProblem};
use crate::openapi::schemas::TestEventRequest;
use crate::platforms::meta::graph::SendResult;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestEventBody {
    event_name: Option<String>,
    /// `meta` (the default) or `tiktok`.
    platform: Option<String>,
}

problems! {
    /// Why no test event went out, or what the platform said instead of accepting it.
    TestEventProblem: AdminProblem {
        CampaignNotFound = (404, "campaign_not_found"),
        InvalidField = (422, "invalid_field"),
        NoMetaPixel = (422, "no_meta_pixel"),
        NoTiktokPixel = (422, "no_tiktok_pixel"),
        NoTestEventCode = (422, "no_test_event_code"),
        TestEventIncomplete = (422, "test_event_incomplete"),
        AccessTokenUnreadable = (422, "access_token_unreadable"),
        MetaRefused = (502, "meta_refused"),
        MetaUnreachable = (502, "meta_unreachable"),
        TiktokRefused = (502, "tiktok_refused"),
        TiktokUnreachable = (502, "tiktok_unreachable"),
        MetaTimeout = (504, "meta_timeout"),
        TiktokTimeout = (504, "tiktok_timeout"),
    }
}

/// Meta accepted the test event.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetaTestEventAccepted {
    #[schema(required = true)]
    events_received: Option<u64>,
    #[schema(required = true)]
    fbtrace_id: Option<String>,
    test_event_code: String,
    /// The event as sent.
    event: Value,
}

/// The platform accepted the test event.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum TestEventAccepted {
    Meta(MetaTestEventAccepted),
    TikTok(TikTokTestEventAccepted),
}

#[utoipa::path(
    post, path = "/campaigns/{key}/test-event", tag = "admin",
    operation_id = "campaign_test_event",
    description = "Sends one synthetic event to Meta now with the campaign's `test_event_code` \
                   and answers with Meta's verdict. Not a conversion, not stored. With \
                   `\"platform\": \"tiktok\"` it goes to TikTok with the campaign's TikTok \
                   `test_event_code`. A refusal's problem holds the platform's words: `meta` \
                   (`code`, `error_subcode`, `message`, `fbtrace_id`) or `tiktok` (`code`, \
                   `message`, `request_id`).",
    params(("key" = String, Path, example = "st-offer")),
    request_body(content = TestEventRequest, content_type = "application/json"),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = TestEventAccepted, description = "The platform accepted it"),
        TestEventProblem,
    )
)]
#[tracing::instrument(skip_all, fields(campaign = %key))]
pub async fn send(
    _: Admin,
    key: web::Path<String>,
    req: HttpRequest,
    body: Body,
    state: web::Data<AppState>,
) -> Result<web::Json<TestEventAccepted>, ApiError> {
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
            let accepted =
                super::tiktok_test_event::send(&state, &campaign, &event_name, visitor).await?;
            return Ok(web::Json(TestEventAccepted::TikTok(accepted)));
        }
        Some(None) => {
            return Err(ApiError::invalid_field(
                "platform",
                ParseError::new("platform must be \"meta\" or \"tiktok\""),
            ))
        }
    }
    let sent = run(&state, &campaign, &event_name, visitor(&req, &state)).await?;
    verdict(sent.result, sent.event, sent.test_event_code).map(web::Json)
}

/// Meta's answer as ours: its acceptance as 200, its refusal as 502 with its own words.
fn verdict(
    result: SendResult,
    event: Value,
    test_event_code: String,
) -> Result<TestEventAccepted, ApiError> {
    let timed_out = result.timed_out();
    match result {
        SendResult::Accepted {
            events_received,
            fbtrace_id,
        } => Ok(TestEventAccepted::Meta(MetaTestEventAccepted {
            events_received,
            fbtrace_id,
            test_event_code,
            event,
        })),
        SendResult::MetaError {
            http_status, error, ..
        } => Err(ApiError::Upstream {
            timed_out: false,
            code: TestEventProblem::MetaRefused.code(),
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
                TestEventProblem::MetaTimeout.code()
            } else {
                TestEventProblem::MetaUnreachable.code()
            },
            detail: format!("Meta did not answer the test event: {message}"),
            upstream: http_status.map(|s| json!({ "http_status": s })),
        }),
    }
}

impl From<TestEventError> for ApiError {
    fn from(e: TestEventError) -> Self {
        let code = match &e {
            TestEventError::NoMetaPixel(_) => TestEventProblem::NoMetaPixel.code(),
            TestEventError::NoTestEventCode(_) => TestEventProblem::NoTestEventCode.code(),
            TestEventError::Incomplete(_) => TestEventProblem::TestEventIncomplete.code(),
            TestEventError::TokenUnreadable(_) => TestEventProblem::AccessTokenUnreadable.code(),
            TestEventError::Internal(_) => return ApiError::Internal(e.into()),
        };
        ApiError::Unprocessable {
            code,
            detail: e.to_string(),
        }
    }
}
