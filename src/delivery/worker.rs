//! The delivery worker: claim due events with a lease, commit, call the platform, record the
//! outcome. No transaction or row lock is held while a platform is called. A pass claims only
//! what can be sent at once (see [`super::inflight`]) and starts one task per request; the
//! sender ([`super::sender`]) runs passes without waiting for those tasks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::Notify;
use uuid::Uuid;

use super::inflight::{self, Caps};
use super::outcome::{self, Step, Tally};
use super::plan::{self, NoTarget, Park, Plan, Request, Target};
use super::report::TickReport;
use super::running::Running;
pub use super::{WorkerDeps, WorkerSettings};
use crate::domain::AccessToken;
use crate::domain::{AttemptRecord, PlatformKind};
use crate::ingest;
use crate::platforms::{Answer, Destination, Verdict};
use crate::storage::campaigns;
use crate::storage::events::{self, ClaimedEvent, Transition};

#[derive(Clone)]
pub struct DeliveryWorker {
    inner: Arc<Inner>,
}

struct Inner {
    deps: WorkerDeps,
    settings: WorkerSettings,
    /// This process's name on the leases it takes.
    owner: Uuid,
    last_sweep: Mutex<Option<Instant>>,
}

impl DeliveryWorker {
    pub fn new(deps: WorkerDeps, settings: WorkerSettings) -> Self {
        let inner = Inner {
            deps,
            settings,
            owner: Uuid::new_v4(),
            last_sweep: Mutex::new(None),
        };
        DeliveryWorker {
            inner: Arc::new(inner),
        }
    }

    /// Requests in flight at once, per platform and per target.
    pub(super) fn caps(&self) -> Caps {
        Caps {
            per_platform: self.inner.settings.concurrency,
            per_target: self.inner.settings.target_concurrency,
        }
    }

    pub(super) fn settings(&self) -> &WorkerSettings {
        &self.inner.settings
    }

    pub(super) fn signal(&self) -> &Notify {
        &self.inner.deps.signal
    }

    /// Gives back this worker's leases so another process can take the events at once.
    pub async fn release(&self) {
        match events::release_leases(&self.inner.deps.pool, self.inner.owner).await {
            Ok(n) if n > 0 => tracing::info!(released = n, "delivery leases released"),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not release leases; they expire by themselves")
            }
        }
    }

    /// Delivers what is due now and waits for every request (tests drive delivery with it;
    /// the service runs [`super::sender::run`], which never waits for a slow request). A pass
    /// takes at most DELIVERY_CONCURRENCY requests a platform: passes follow while it left
    /// due events behind.
    #[tracing::instrument(skip_all, fields(owner = %self.inner.owner))]
    pub async fn tick(&self) -> Result<TickReport, sqlx::Error> {
        let mut report = TickReport::default();
        let mut running = Running::new(self.caps());
        loop {
            let more = self.pass(&mut running, &mut report).await?;
            while running.next(&mut report).await {}
            if !more {
                return Ok(report);
            }
        }
    }

    /// Joins late clicks (at most once per poll interval), claims what can be sent at once
    /// beside the requests `running`, settles what is not sent and starts a task per request.
    /// True when it left due events behind (more than one claim takes, or targets at their
    /// cap).
    pub(super) async fn pass(
        &self,
        running: &mut Running,
        report: &mut TickReport,
    ) -> Result<bool, sqlx::Error> {
        if self.sweep_is_due() {
            report.resolved_unmatched += self.sweep_unmatched().await?;
        }
        let room = running.room();
        if room.is_empty() {
            return Ok(false);
        }
        let s = &self.inner.settings;
        let limit = s.batch_max * s.concurrency;
        let pool = &self.inner.deps.pool;
        let (busy, full) = room.excluded();
        let due = events::due(pool, limit as i64, &busy, &full).await?;
        let size = |p| self.inner.request_size(p);
        let ids = inflight::pick(&due, &room, &size);
        let claimed = events::claim(pool, self.inner.owner, &ids, self.lease()).await?;
        report.claimed += claimed.len();
        if !claimed.is_empty() {
            let plan = self.plan(claimed).await?;
            self.settle_unsent(&plan, report).await?;
            self.start(plan.send, running).await?;
        }
        Ok(due.len() >= limit || ids.len() < due.len())
    }

    /// Starts each request, oldest events first, if its platform and targets have a free
    /// slot; gives back the events of the others, so they wait unleased for their turn.
    async fn start(
        &self,
        mut requests: Vec<Request>,
        running: &mut Running,
    ) -> Result<(), sqlx::Error> {
        requests.sort_by_key(|r| r.events.first().map(|e| e.id));
        let mut back = Vec::new();
        for request in requests {
            let mut targets: Vec<_> = request
                .events
                .iter()
                .map(|e| (e.campaign_id, e.platform))
                .collect();
            targets.sort_unstable();
            targets.dedup();
            let ids: Vec<i64> = request.events.iter().map(|e| e.id).collect();
            let inner = Arc::clone(&self.inner);
            let platform = request.platform;
            if !running.start(
                platform,
                targets,
                async move { inner.deliver(request).await },
            ) {
                back.extend(ids);
            }
        }
        if !back.is_empty() {
            let n = events::release(&self.inner.deps.pool, self.inner.owner, &back).await?;
            tracing::debug!(
                events = n,
                "claimed events given back: their target is busy"
            );
        }
        Ok(())
    }

    /// Joins unmatched conversions whose click has arrived, and settles those past the grace.
    pub async fn sweep_unmatched(&self) -> Result<usize, sqlx::Error> {
        *self.inner.last_sweep.lock().expect("sweep clock") = Some(Instant::now());
        ingest::resolve_unmatched(
            &self.inner.deps.pool,
            &self.inner.deps.campaigns,
            self.inner.settings.unmatched_grace,
            500,
        )
        .await
    }

    fn sweep_is_due(&self) -> bool {
        let last = *self.inner.last_sweep.lock().expect("sweep clock");
        last.is_none_or(|t| t.elapsed() >= self.inner.settings.poll_interval)
    }

    fn lease(&self) -> Duration {
        self.inner.lease()
    }

    /// Reads the claimed events' campaigns and their status (one statement each for all of
    /// them) and plans the pass.
    async fn plan(&self, claimed: Vec<ClaimedEvent>) -> Result<Plan, sqlx::Error> {
        let deps = &self.inner.deps;
        let mut ids: Vec<i64> = claimed.iter().map(|e| e.campaign_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut targets = HashMap::new();
        // A campaign deleted meanwhile took its events with it: no target. A platform removed
        // from a campaign is `Removed`: its events still in flight are cancelled like the rest.
        for c in campaigns::find_many(&deps.pool, &ids).await? {
            for d in c.destinations() {
                let stored = d.access_token.expose();
                let token = deps.cipher.open_token(c.key.as_str(), d.platform, stored);
                let target = token
                    .map_err(|e| NoTarget::Unreadable(e.to_string()))
                    .map(|t| Target {
                        pixel_id: d.pixel.to_owned(),
                        access_token: AccessToken::new(t),
                        test_event_code: d.test_event_code.map(str::to_owned),
                        late_pixel_twin: c.late_pixel_twin,
                    });
                targets.insert((c.id, d.platform), target);
            }
            for platform in PlatformKind::ALL {
                targets
                    .entry((c.id, *platform))
                    .or_insert(Err(NoTarget::Removed));
            }
        }
        let mut keys: Vec<_> = claimed
            .iter()
            .map(|e| (e.campaign_id, e.platform))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let status = events::campaign_status(&deps.pool, &keys).await?;
        let batch_max = self.inner.settings.batch_max;
        let limits = |kind| deps.platforms.limits(kind);
        Ok(plan::plan(
            claimed,
            &targets,
            &status,
            &limits,
            batch_max,
            Utc::now(),
        ))
    }

    /// Records the events of the plan that are not sent in this pass.
    async fn settle_unsent(&self, plan: &Plan, report: &mut TickReport) -> Result<(), sqlx::Error> {
        for (expiry, evs) in &plan.expire {
            let (platform, events) = (expiry.platform.as_str(), evs.len());
            tracing::warn!(
                platform,
                events,
                "events older than the platform accepts; marked expired"
            );
        }
        if !plan.skip_late_twin.is_empty() {
            let events = plan.skip_late_twin.len();
            tracing::info!(
                events,
                "events past their pixel twin's 48 h dedup window skipped (late_pixel_twin = skip)"
            );
        }
        for (why, evs) in &plan.park {
            if let Park::Unreadable(e) = why {
                tracing::error!(campaign_id = evs[0].campaign_id, error = %e, "cannot decrypt the campaign's access token");
            }
        }
        for u in plan.unsent() {
            let ids: Vec<i64> = u.events.iter().map(|e| e.id).collect();
            let next = vec![u.next_attempt; ids.len()];
            let n = self.inner.record(&ids, &next, &u.transition, None).await?;
            if let Some(t) = u.tally {
                report.count(t, n as usize);
            }
        }
        Ok(())
    }
}

impl Inner {
    fn lease(&self) -> Duration {
        self.settings.request_timeout + Duration::from_secs(30)
    }

    /// Most events in one request to `platform`.
    fn request_size(&self, platform: PlatformKind) -> usize {
        let max = self.deps.platforms.limits(platform).max_events;
        self.settings.batch_max.min(max).max(1)
    }

    /// Sends a request; when Meta refuses it for one event's sake, sends the halves on their
    /// own (see [`Step::Split`]).
    async fn deliver(&self, request: Request) -> Result<TickReport, sqlx::Error> {
        let mut report = TickReport::default();
        let (platform, target) = (request.platform, &request.target);
        let mut stack = vec![request.events];
        let mut first = true;
        while let Some(chunk) = stack.pop() {
            let ids: Vec<i64> = chunk.iter().map(|e| e.id).collect();
            if !first {
                events::extend_lease(&self.deps.pool, self.owner, &ids, self.lease()).await?;
            }
            first = false;
            let answer = self.send(platform, target, &chunk).await;
            report.requests += 1;
            let attempts: Vec<i32> = chunk.iter().map(|e| e.attempts).collect();
            let step = outcome::settle(
                &answer,
                &attempts,
                &self.deps.policy,
                Utc::now(),
                rand::random,
            );
            let settled = match step {
                Step::Split => {
                    let mut left = chunk;
                    let right = left.split_off(left.len() / 2);
                    stack.push(right);
                    stack.push(left);
                    continue;
                }
                Step::Settle(s) => s,
            };
            match answer.verdict {
                Verdict::Auth => {
                    tracing::warn!(platform = platform.as_str(), pixel_id = %target.pixel_id, conversions = ?conversion_ids(&chunk), "token or permission refused; events parked until the campaign's token or pixel for this platform changes")
                }
                Verdict::Invalid => {
                    tracing::warn!(platform = platform.as_str(), conversions = ?conversion_ids(&chunk), "the platform refused the event as invalid")
                }
                _ => {}
            }
            report.count(settled.tally, ids.len());
            let (next, t) = (&settled.next_attempts, &settled.transition);
            let code = target.test_event_code.as_deref();
            self.record(&ids, next, t, Some((&answer.attempt, code)))
                .await?;
            if settled.tally == Tally::Delivered {
                self.recovered(&chunk).await?;
            }
        }
        Ok(report)
    }

    /// One request to the platform, counted in the metrics and logged.
    async fn send(&self, kind: PlatformKind, target: &Target, chunk: &[ClaimedEvent]) -> Answer {
        let platform = self.deps.platforms.get(kind);
        let events: Vec<&serde_json::Value> = chunk.iter().map(|e| &e.payload).collect();
        let to = Destination {
            pixel_id: &target.pixel_id,
            access_token: &target.access_token,
            test_event_code: target.test_event_code.as_deref(),
        };
        let started = Instant::now();
        let answer = platform.send(to, &events).await;
        let attempt = &answer.attempt;
        let elapsed = started.elapsed();
        let (outcome, code) = (attempt.outcome.as_str(), attempt.error_code);
        let metrics = &self.deps.metrics;
        metrics.delivery_attempt(kind, outcome, chunk.len(), elapsed.as_secs_f64(), code);
        tracing::info!(
            platform = kind.as_str(),
            pixel_id = %target.pixel_id,
            events = chunk.len(),
            outcome,
            error_code = code,
            trace_id = attempt.fbtrace_id.as_deref().unwrap_or(""),
            conversion_ids = ?conversion_ids(chunk),
            elapsed_ms = elapsed.as_millis() as u64,
            "delivery attempt"
        );
        answer
    }

    async fn record(
        &self,
        ids: &[i64],
        next_attempts: &[Option<chrono::DateTime<Utc>>],
        t: &Transition,
        attempt: Option<(&AttemptRecord, Option<&str>)>,
    ) -> Result<u64, sqlx::Error> {
        events::record(&self.deps.pool, self.owner, ids, next_attempts, t, attempt).await
    }

    /// The platform accepts again: events of these campaigns on it still waiting out a retry
    /// delay go now, in full batches, instead of one small request per retry time.
    async fn recovered(&self, chunk: &[ClaimedEvent]) -> Result<(), sqlx::Error> {
        let mut keys: Vec<_> = chunk.iter().map(|e| (e.campaign_id, e.platform)).collect();
        keys.sort_unstable();
        keys.dedup();
        let pulled = events::retry_now(&self.deps.pool, &keys).await?;
        if pulled > 0 {
            tracing::info!(
                events = pulled,
                "the platform accepts again; retrying waiting events now"
            );
            self.deps.signal.notify_one();
        }
        Ok(())
    }
}

fn conversion_ids(chunk: &[ClaimedEvent]) -> Vec<i64> {
    chunk.iter().take(20).map(|e| e.conversion_id).collect()
}
