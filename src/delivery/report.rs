//! The counts of one delivery pass.

use super::outcome::Tally;

/// What one pass did; tests drive the worker pass by pass and read these.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TickReport {
    pub resolved_unmatched: usize,
    pub claimed: usize,
    pub requests: usize,
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
    pub expired: usize,
}

impl TickReport {
    pub(super) fn add(&mut self, o: &TickReport) {
        self.resolved_unmatched += o.resolved_unmatched;
        self.claimed += o.claimed;
        self.requests += o.requests;
        self.delivered += o.delivered;
        self.retrying += o.retrying;
        self.failed += o.failed;
        self.expired += o.expired;
    }

    pub(super) fn count(&mut self, tally: Tally, events: usize) {
        let counter = match tally {
            Tally::Delivered => &mut self.delivered,
            Tally::Retrying => &mut self.retrying,
            Tally::Failed => &mut self.failed,
            Tally::Expired => &mut self.expired,
        };
        *counter += events;
    }
}
