//! The synthetic TikTok event of `POST /admin/v1/campaigns/{key}/test-event` with
//! `"platform": "tiktok"`, and TikTok's answer to it read for the user.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::client::Reply;
use super::event::{tiktok_event, TikTokEventInput};
use crate::domain::{Campaign, EventName};
use crate::platforms::address::visitor_ip;
use crate::platforms::http::{self, TIMEOUT};
use crate::platforms::meta::test_event::TestVisitor;

/// One event named `event_name`, timed `now`, with a fresh `test-` event id, on the campaign's
/// landing page, from the visitor who asked (their address only when public).
pub fn synthetic_event(
    campaign: &Campaign,
    event_name: &EventName,
    now: DateTime<Utc>,
    visitor: &TestVisitor,
) -> Value {
    let event_id = format!("test-{}", uuid::Uuid::new_v4());
    tiktok_event(&TikTokEventInput {
        event: event_name.as_str(),
        event_time: now.timestamp(),
        event_id: &event_id,
        ip: visitor_ip(visitor.ip.as_deref(), None),
        user_agent: Some(&visitor.user_agent),
        page_url: campaign.landing_url.as_ref().map(|u| u.as_str()),
        ..Default::default()
    })
}

/// TikTok's answer body.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Said {
    pub code: i64,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub request_id: Option<String>,
}

/// What TikTok made of the test event.
#[derive(Debug, Clone, PartialEq)]
pub enum TestVerdict {
    Accepted(Said),
    Refused {
        http_status: u16,
        said: Said,
    },
    /// No answer TikTok wrote (or none in time).
    Unreachable {
        timed_out: bool,
        message: String,
    },
}

pub fn verdict(reply: &Reply) -> TestVerdict {
    match reply {
        Reply::Http { status, body, .. } => match serde_json::from_slice::<Said>(body) {
            Ok(said) if said.code == 0 && (200..300).contains(status) => {
                TestVerdict::Accepted(said)
            }
            Ok(said) => TestVerdict::Refused {
                http_status: *status,
                said: Said {
                    message: http::kept(&said.message),
                    ..said
                },
            },
            Err(_) => TestVerdict::Unreachable {
                timed_out: false,
                message: format!("HTTP {status} without a TikTok answer body"),
            },
        },
        Reply::Transport { message, .. } => TestVerdict::Unreachable {
            timed_out: message.starts_with(TIMEOUT),
            message: message.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, body: &str) -> Reply {
        Reply::Http {
            status,
            body: body.as_bytes().to_vec(),
            retry_after: None,
        }
    }

    #[test]
    fn reads_tiktoks_answers() {
        let ok = verdict(&http(
            200,
            r#"{"code":0,"message":"OK","request_id":"r1","data":{}}"#,
        ));
        assert!(matches!(ok, TestVerdict::Accepted(Said { code: 0, .. })));
        let refused = verdict(&http(
            200,
            r#"{"code":40105,"message":"Access token is incorrect"}"#,
        ));
        let TestVerdict::Refused { said, .. } = refused else {
            panic!("{refused:?}")
        };
        assert_eq!(said.code, 40105);
        let page = verdict(&http(502, "<html>bad gateway</html>"));
        assert!(matches!(
            page,
            TestVerdict::Unreachable {
                timed_out: false,
                ..
            }
        ));
        let slow = verdict(&Reply::Transport {
            http_status: None,
            message: format!("{TIMEOUT}: operation timed out"),
            retry_after: None,
        });
        assert!(matches!(
            slow,
            TestVerdict::Unreachable {
                timed_out: true,
                ..
            }
        ));
    }
}
