//! The requests a sender has started and not yet seen finish, each holding its slots in
//! [`InFlight`] until its task ends, however it ends.

use std::collections::HashMap;
use std::future::Future;

use tokio::task::{Id, JoinError, JoinSet};

use super::inflight::{Caps, InFlight, Room};
use super::report::TickReport;
use crate::domain::PlatformKind;
use crate::storage::events::CampaignPlatform;

type Done = Result<TickReport, sqlx::Error>;

pub(super) struct Running {
    in_flight: InFlight,
    tasks: JoinSet<Done>,
    slots: HashMap<Id, (PlatformKind, Vec<CampaignPlatform>)>,
}

impl Running {
    pub fn new(caps: Caps) -> Self {
        Running {
            in_flight: InFlight::new(caps),
            tasks: JoinSet::new(),
            slots: HashMap::new(),
        }
    }

    pub fn room(&self) -> Room {
        self.in_flight.room()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Runs `request` if `platform` and each of `targets` has a free slot; false if not (the
    /// request is dropped unstarted).
    pub fn start(
        &mut self,
        platform: PlatformKind,
        targets: Vec<CampaignPlatform>,
        request: impl Future<Output = Done> + Send + 'static,
    ) -> bool {
        if !self.in_flight.admit(platform, &targets) {
            return false;
        }
        let id = self.tasks.spawn(request).id();
        self.slots.insert(id, (platform, targets));
        true
    }

    /// Waits for the next request to finish and adds what it did to `report`; false when
    /// none is running.
    pub async fn next(&mut self, report: &mut TickReport) -> bool {
        match self.tasks.join_next_with_id().await {
            Some(done) => {
                self.finished(done, report);
                true
            }
            None => false,
        }
    }

    /// Takes in the requests that have finished, without waiting.
    pub fn reap(&mut self, report: &mut TickReport) {
        while let Some(done) = self.tasks.try_join_next_with_id() {
            self.finished(done, report);
        }
    }

    fn finished(&mut self, done: Result<(Id, Done), JoinError>, report: &mut TickReport) {
        let id = match &done {
            Ok((id, _)) => *id,
            Err(e) => e.id(),
        };
        if let Some((platform, targets)) = self.slots.remove(&id) {
            self.in_flight.finish(platform, &targets);
        }
        match done {
            Ok((_, Ok(r))) => report.add(&r),
            Ok((_, Err(e))) => {
                tracing::warn!(error = %e, "recording a delivery failed; the lease will expire and the events go again")
            }
            Err(e) => tracing::error!(error = %e, "delivery task panicked"),
        }
    }
}
