//! TikTok's Events API (web events): the event builder, the HTTP client and what TikTok's
//! answers mean (`docs/reference/tiktok-events.md`).

pub mod answer;
pub mod client;
pub mod event;
pub mod test_event;

use serde_json::Value;

use super::{Destination, Limits, Platform, Sending};
use crate::domain::PlatformKind;
use client::{Batch, TikTokClient};

/// TikTok takes up to 1,000 events per request (Hightouch's TikTok guide; one bad event fails
/// the whole request, which the worker's splitting handles).
const MAX_EVENTS: usize = 1000;

/// No TikTok source states an age limit for `event_time`; 7 days, as Meta's web
/// events and as long as a `ttclid` is valid.
const MAX_AGE_DAYS: i64 = 7;

fn max_age(_payload: &Value) -> chrono::Duration {
    chrono::Duration::days(MAX_AGE_DAYS)
}

/// What TikTok takes (also for the delivery plan's tests, without a client).
pub const LIMITS: Limits = Limits {
    max_events: MAX_EVENTS,
    max_age,
};

pub struct TikTok {
    client: TikTokClient,
}

impl TikTok {
    pub fn new(client: TikTokClient) -> Self {
        TikTok { client }
    }
}

impl Platform for TikTok {
    fn kind(&self) -> PlatformKind {
        PlatformKind::TikTok
    }

    fn limits(&self) -> Limits {
        LIMITS
    }

    fn send<'a>(&'a self, to: Destination<'a>, events: &'a [&'a Value]) -> Sending<'a> {
        Box::pin(async move {
            let batch = Batch {
                pixel_code: to.pixel_id,
                access_token: to.access_token,
                test_event_code: to.test_event_code,
                events,
            };
            answer::read(&self.client.send(&batch).await)
        })
    }
}
