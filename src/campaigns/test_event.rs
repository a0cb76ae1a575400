//! The campaign's test event: one synthetic event sent to Meta now with the campaign's
//! `test_event_code`, for the admin API and the dashboard's button alike. Nothing is stored.

use actix_web::HttpRequest;
use chrono::Utc;

use crate::domain::{AccessToken, Campaign, EventName, PlatformKind};
use crate::http::client_ip::client_ip;
use crate::platforms::meta::graph::{Batch, SendResult};
use crate::platforms::meta::test_event::{synthetic_event, TestVisitor};
use crate::state::AppState;

/// Why no test event went out; each is the user's to fix, except `Internal`.
#[derive(Debug, thiserror::Error)]
pub enum TestEventError {
    #[error("campaign {0:?} does not advertise on Meta: set its pixel_id and access_token first")]
    NoMetaPixel(String),
    #[error(
        "campaign {0:?} has no test_event_code: copy the code from Events Manager > Test events \
         and set it with PATCH /admin/v1/campaigns/{0}"
    )]
    NoTestEventCode(String),
    #[error("the test event cannot be built: {0}")]
    Incomplete(String),
    /// A token error like delivery's: the user sets the token again (or the right key).
    #[error("{0}")]
    TokenUnreadable(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
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
) -> Result<TestEventSent, TestEventError> {
    let key = campaign.key.as_str();
    let Some(meta) = &campaign.meta else {
        return Err(TestEventError::NoMetaPixel(key.to_owned()));
    };
    let Some(test_event_code) = campaign.test_event_code.as_deref() else {
        return Err(TestEventError::NoTestEventCode(key.to_owned()));
    };
    let event = synthetic_event(campaign, event_name, Utc::now(), visitor)
        .map_err(|e| TestEventError::Incomplete(e.to_string()))?;
    let token = state
        .cipher
        .open_token(key, PlatformKind::Meta, meta.access_token.expose())
        .map(AccessToken::new)
        .map_err(|e| TestEventError::TokenUnreadable(e.to_string()))?;
    let event = serde_json::to_value(&event).map_err(|e| TestEventError::Internal(e.into()))?;
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
