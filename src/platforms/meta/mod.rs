//! Meta's Conversions API: the server event (with its fbc), the Graph API client and what Meta's
//! answers mean.

pub mod answer;
pub mod dataset_quality;
pub mod event;
pub mod fbc;
pub mod graph;
pub mod test_event;

use serde_json::Value;

use super::{Destination, Limits, Platform, Sending};
use crate::domain::{ActionSource, PlatformKind};
use graph::{Batch, GraphClient};

/// Meta takes up to 1,000 events per request.
const MAX_EVENTS: usize = 1000;

/// Meta's age limit for the payload's `action_source` (7 days, 62 for physical_store).
fn max_age(payload: &Value) -> chrono::Duration {
    let source = payload.get("action_source").and_then(Value::as_str);
    let source = source
        .and_then(|s| ActionSource::parse(s).ok())
        .unwrap_or(ActionSource::Website);
    chrono::Duration::days(source.max_age_days())
}

/// What Meta takes (also for the delivery plan's tests, without a client).
pub const LIMITS: Limits = Limits {
    max_events: MAX_EVENTS,
    max_age,
};

pub struct Meta {
    graph: GraphClient,
}

impl Meta {
    pub fn new(graph: GraphClient) -> Self {
        Meta { graph }
    }
}

impl Platform for Meta {
    fn kind(&self) -> PlatformKind {
        PlatformKind::Meta
    }

    fn limits(&self) -> Limits {
        LIMITS
    }

    fn send<'a>(&'a self, to: Destination<'a>, events: &'a [&'a Value]) -> Sending<'a> {
        Box::pin(async move {
            let batch = Batch {
                pixel_id: to.pixel_id,
                access_token: to.access_token,
                test_event_code: to.test_event_code,
                events: events.to_vec(),
            };
            answer::read(&self.graph.send(&batch).await)
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_age_limit_follows_the_action_source() {
        let cases = [
            (json!({"action_source": "website"}), 7),
            (json!({"action_source": "physical_store"}), 62),
            (json!({"action_source": "system_generated"}), 7),
            (json!({"action_source": "not one"}), 7),
            (json!({}), 7),
        ];
        for (payload, days) in cases {
            assert_eq!(max_age(&payload), chrono::Duration::days(days), "{payload}");
        }
    }
}
