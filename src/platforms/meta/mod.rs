//! Meta's Conversions API: the Graph API client and what Meta's answers mean. (The event builder
//! still lives in `crate::capi`.)

pub mod answer;
pub mod graph;

use serde_json::Value;

use super::{Destination, Limits, Platform, Sending};
use crate::domain::PlatformKind;
use graph::{Batch, GraphClient};

/// Meta takes up to 1,000 events per request.
const MAX_EVENTS: usize = 1000;

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
        Limits {
            max_events: MAX_EVENTS,
        }
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
