//! What a postback became (the answer's `status`), decided from the stored decision.

use serde::Serialize;

use super::count_skips;
use super::decide::Decision;
use crate::domain::{ConversionState, PlatformKind, PlatformSkip};

/// What happened to a postback.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// An event is queued for Meta.
    Accepted {
        conversion_id: i64,
        events: Vec<QueuedEvent>,
        /// Platforms of the campaign whose `send_when` kept the conversion from them.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        skipped: Vec<PlatformSkip>,
    },
    /// The same click, status and transaction id were reported before.
    Duplicate,
    /// The status maps to no Meta event (e.g. rejected): recorded, never sent.
    Skipped {
        conversion_id: i64,
        reason: String,
        /// Set when the platforms' `send_when` skipped it: each platform and why.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        skipped: Vec<PlatformSkip>,
    },
    /// The campaign requires consent the click did not give: recorded, never sent.
    Suppressed { conversion_id: i64 },
    /// The click is not registered (yet): recorded, joined when it arrives.
    Unmatched { conversion_id: i64 },
    /// Recorded, but it cannot become a valid event (reason stored with it).
    Failed { conversion_id: i64, reason: String },
}

impl Outcome {
    pub(super) fn from_decision(conversion_id: i64, d: Decision) -> Outcome {
        count_skips(&d.skipped);
        match d.state {
            ConversionState::Queued if !d.events.is_empty() => Outcome::Accepted {
                conversion_id,
                events: d
                    .events
                    .into_iter()
                    .map(|e| QueuedEvent {
                        platform: e.platform,
                        event_name: e.event_name,
                        event_id: e.event_id,
                    })
                    .collect(),
                skipped: d.skipped,
            },
            ConversionState::Skipped => Outcome::Skipped {
                conversion_id,
                reason: d.failure_reason.unwrap_or_default(),
                skipped: d.skipped,
            },
            ConversionState::Suppressed => Outcome::Suppressed { conversion_id },
            _ => Outcome::Failed {
                conversion_id,
                reason: d.failure_reason.unwrap_or_default(),
            },
        }
    }

    /// The conversion recorded, none for a duplicate.
    pub fn conversion_id(&self) -> Option<i64> {
        match self {
            Outcome::Accepted { conversion_id, .. }
            | Outcome::Skipped { conversion_id, .. }
            | Outcome::Suppressed { conversion_id }
            | Outcome::Unmatched { conversion_id }
            | Outcome::Failed { conversion_id, .. } => Some(*conversion_id),
            Outcome::Duplicate => None,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Accepted { .. } => "accepted",
            Outcome::Duplicate => "duplicate",
            // The conversion's state: the postback's answer and the stored row say the same.
            Outcome::Skipped { .. } => ConversionState::Skipped.as_str(),
            Outcome::Suppressed { .. } => ConversionState::Suppressed.as_str(),
            Outcome::Unmatched { .. } => ConversionState::Unmatched.as_str(),
            Outcome::Failed { .. } => ConversionState::Failed.as_str(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QueuedEvent {
    pub platform: PlatformKind,
    pub event_name: String,
    pub event_id: String,
}
