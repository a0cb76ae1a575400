//! The delivery worker: claim due events with a lease, commit, call Meta, record the outcome.
//! No transaction or row lock is held while Meta is called.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::Rng;
use sqlx::PgPool;
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::graph::{Batch, GraphClient, SendResult};
use super::retry::{classify, RetryPolicy, Verdict};
use crate::domain::AccessToken;
use crate::ingest;
use crate::metrics::Metrics;
use crate::secrets::TokenCipher;
use crate::storage::campaign_cache::CampaignCache;
use crate::storage::campaigns;
use crate::storage::events::{self, AttemptRecord, ClaimedEvent, Transition};

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub batch_max: usize,
    pub concurrency: usize,
    pub poll_interval: Duration,
    pub request_timeout: Duration,
    pub unmatched_grace: Duration,
    pub batch_window: Duration,
}

#[derive(Clone)]
pub struct DeliveryWorker {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    graph: GraphClient,
    policy: RetryPolicy,
    settings: WorkerSettings,
    owner: Uuid,
    campaigns: Arc<CampaignCache>,
    metrics: Arc<Metrics>,
    cipher: TokenCipher,
    signal: Arc<Notify>,
    last_sweep: Mutex<Option<Instant>>,
}

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
    fn add(&mut self, o: &TickReport) {
        self.resolved_unmatched += o.resolved_unmatched;
        self.claimed += o.claimed;
        self.requests += o.requests;
        self.delivered += o.delivered;
        self.retrying += o.retrying;
        self.failed += o.failed;
        self.expired += o.expired;
    }
}

/// Events going to one pixel with one token in one request.
struct Job {
    pixel_id: String,
    access_token: AccessToken,
    test_event_code: Option<String>,
    events: Vec<ClaimedEvent>,
}

/// What the worker works with, shared with the rest of the process.
pub struct WorkerDeps {
    pub pool: PgPool,
    pub graph: GraphClient,
    pub policy: RetryPolicy,
    pub campaigns: Arc<CampaignCache>,
    pub metrics: Arc<Metrics>,
    pub cipher: TokenCipher,
    /// Notified when an event is committed.
    pub signal: Arc<Notify>,
}

impl DeliveryWorker {
    pub fn new(deps: WorkerDeps, settings: WorkerSettings) -> Self {
        let WorkerDeps {
            pool,
            graph,
            policy,
            campaigns,
            metrics,
            cipher,
            signal,
        } = deps;
        DeliveryWorker {
            inner: Arc::new(Inner {
                pool,
                graph,
                policy,
                settings,
                owner: Uuid::new_v4(),
                campaigns,
                metrics,
                cipher,
                signal,
                last_sweep: Mutex::new(None),
            }),
        }
    }

    fn claim_limit(&self) -> usize {
        self.inner.settings.batch_max * self.inner.settings.concurrency
    }

    /// Runs until `shutdown` turns true, then gives back its leases.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let s = &self.inner.settings;
        tracing::info!(owner = %self.inner.owner, batch_max = s.batch_max, concurrency = s.concurrency, "delivery worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let claimed = match self.tick().await {
                Ok(report) => report.claimed,
                Err(e) => {
                    tracing::warn!(error = %e, "delivery pass failed; retrying after the poll interval");
                    0
                }
            };
            // A full claim means more is due: go again at once.
            if claimed >= self.claim_limit() {
                continue;
            }
            tokio::select! {
                _ = self.inner.signal.notified() => {
                    // Under load events keep arriving: a short wait fills the next request
                    // (up to DELIVERY_BATCH_MAX) instead of sending one request per commit.
                    tokio::time::sleep(s.batch_window).await;
                }
                _ = tokio::time::sleep(s.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
        self.release().await;
    }

    /// Gives back this worker's leases so another process can take the events at once.
    pub async fn release(&self) {
        match events::release_leases(&self.inner.pool, self.inner.owner).await {
            Ok(n) if n > 0 => tracing::info!(released = n, "delivery leases released"),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not release leases; they expire by themselves")
            }
        }
    }

    /// One pass: join late clicks (at most once per poll interval), then deliver what is due.
    #[tracing::instrument(skip_all, fields(owner = %self.inner.owner))]
    pub async fn tick(&self) -> Result<TickReport, sqlx::Error> {
        let mut report = TickReport::default();
        if self.sweep_is_due() {
            report.resolved_unmatched = self.sweep_unmatched().await?;
        }
        let claimed = events::claim(
            &self.inner.pool,
            self.inner.owner,
            self.claim_limit() as i64,
            self.lease(),
        )
        .await?;
        report.claimed = claimed.len();
        if claimed.is_empty() {
            return Ok(report);
        }

        let now = Utc::now();
        let (expired, live): (Vec<_>, Vec<_>) =
            claimed.into_iter().partition(|e| is_too_old(e, now));
        if !expired.is_empty() {
            report.expired += self.expire(&expired).await?;
        }

        let jobs = self.group(live, &mut report).await?;
        let permits = Arc::new(Semaphore::new(self.inner.settings.concurrency));
        let mut set = JoinSet::new();
        for job in jobs {
            let inner = Arc::clone(&self.inner);
            let permits = Arc::clone(&permits);
            set.spawn(async move {
                let _permit = permits.acquire_owned().await;
                inner.deliver(job).await
            });
        }
        while let Some(done) = set.join_next().await {
            match done {
                Ok(Ok(r)) => report.add(&r),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "recording a delivery failed; the lease will expire and the events go again")
                }
                Err(e) => tracing::error!(error = %e, "delivery task panicked"),
            }
        }
        Ok(report)
    }

    /// Joins unmatched conversions whose click has arrived, and settles those past the grace.
    pub async fn sweep_unmatched(&self) -> Result<usize, sqlx::Error> {
        *self.inner.last_sweep.lock().expect("sweep clock") = Some(Instant::now());
        ingest::resolve_unmatched(
            &self.inner.pool,
            &self.inner.campaigns,
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

    async fn expire(&self, expired: &[ClaimedEvent]) -> Result<usize, sqlx::Error> {
        tracing::warn!(
            events = expired.len(),
            "events older than Meta accepts; marked expired"
        );
        let why = "event_time is older than Meta accepts (7 days); never sent";
        self.settle_unsent(expired, "expired", None, None, why.into())
            .await
    }

    /// New events of a campaign that is backing off wait for its next retry, unsent.
    async fn postpone(
        &self,
        evs: &[ClaimedEvent],
        until: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let why = "waiting: Meta failed recently for this campaign; sent with its next retry";
        self.settle_unsent(evs, "pending", None, Some(until), why.into())
            .await?;
        Ok(())
    }

    async fn park(&self, evs: &[ClaimedEvent], why: String) -> Result<usize, sqlx::Error> {
        self.settle_unsent(evs, "failed", Some("auth"), None, why)
            .await
    }

    /// Records the fate of claimed events that are not sent in this pass.
    async fn settle_unsent(
        &self,
        evs: &[ClaimedEvent],
        state: &'static str,
        failure_class: Option<&'static str>,
        next_attempt: Option<DateTime<Utc>>,
        why: String,
    ) -> Result<usize, sqlx::Error> {
        if evs.is_empty() {
            return Ok(0);
        }
        let ids: Vec<i64> = evs.iter().map(|e| e.id).collect();
        let transition = Transition {
            state,
            failure_class,
            last_error: Some(why),
            attempted: false,
        };
        let n = events::record(
            &self.inner.pool,
            self.inner.owner,
            &ids,
            &vec![next_attempt; ids.len()],
            &transition,
            &AttemptRecord::default(),
        )
        .await?;
        Ok(n as usize)
    }

    /// Groups events by pixel, token and test event code, in requests of at most `batch_max`.
    /// Events of a campaign whose token Meta refused are parked with the others instead of
    /// being sent: they would be refused the same way (see `has_auth_failures`).
    async fn group(
        &self,
        live: Vec<ClaimedEvent>,
        report: &mut TickReport,
    ) -> Result<Vec<Job>, sqlx::Error> {
        let mut by_campaign: HashMap<i64, Vec<ClaimedEvent>> = HashMap::new();
        for e in live {
            by_campaign.entry(e.campaign_id).or_default().push(e);
        }
        let mut by_target: HashMap<(String, String, Option<String>), Job> = HashMap::new();
        for (campaign_id, evs) in by_campaign {
            // A campaign deleted meanwhile took its events with it.
            let Some(c) = campaigns::find_by_id(&self.inner.pool, campaign_id).await? else {
                continue;
            };
            if events::has_auth_failures(&self.inner.pool, campaign_id).await? {
                let why = "not sent: Meta refused this campaign's access token or pixel; \
                           waiting for a new access_token or pixel_id";
                report.failed += self.park(&evs, why.to_owned()).await?;
                continue;
            }
            let mut evs = evs;
            if let Some(until) = events::backoff_until(&self.inner.pool, campaign_id).await? {
                let (fresh, retries): (Vec<_>, Vec<_>) =
                    evs.into_iter().partition(|e| e.attempts == 0);
                self.postpone(&fresh, until).await?;
                evs = retries;
                if evs.is_empty() {
                    continue;
                }
            }
            let token = match self
                .inner
                .cipher
                .open(c.key.as_str(), c.access_token.expose())
            {
                Ok(t) => AccessToken::new(t),
                Err(e) => {
                    tracing::error!(campaign_id, error = %e, "cannot decrypt the campaign's access token");
                    report.failed += self.park(&evs, format!("not sent: {e}")).await?;
                    continue;
                }
            };
            let key = (
                c.pixel_id.as_str().to_owned(),
                token.expose().to_owned(),
                c.test_event_code.clone(),
            );
            by_target
                .entry(key)
                .or_insert_with(|| Job {
                    pixel_id: c.pixel_id.as_str().to_owned(),
                    access_token: token.clone(),
                    test_event_code: c.test_event_code.clone(),
                    events: Vec::new(),
                })
                .events
                .extend(evs);
        }
        let max = self.inner.settings.batch_max;
        let mut jobs = Vec::new();
        for (_, mut job) in by_target {
            job.events.sort_by_key(|e| e.id);
            while job.events.len() > max {
                let rest = job.events.split_off(max);
                jobs.push(Job {
                    events: std::mem::replace(&mut job.events, rest),
                    ..job.clone_target()
                });
            }
            jobs.push(job);
        }
        Ok(jobs)
    }
}

impl Job {
    fn clone_target(&self) -> Job {
        Job {
            pixel_id: self.pixel_id.clone(),
            access_token: self.access_token.clone(),
            test_event_code: self.test_event_code.clone(),
            events: Vec::new(),
        }
    }
}

fn is_too_old(e: &ClaimedEvent, now: DateTime<Utc>) -> bool {
    let days = match e.payload.0.get("action_source").and_then(|v| v.as_str()) {
        Some("physical_store") => 62,
        _ => 7,
    };
    e.event_time < now - chrono::Duration::days(days)
}

impl Inner {
    fn lease(&self) -> Duration {
        self.settings.request_timeout + Duration::from_secs(30)
    }

    /// Sends a job; on an invalid-payload answer splits it in halves until the offending
    /// events are alone, so one bad event does not hold back the others.
    async fn deliver(&self, job: Job) -> Result<TickReport, sqlx::Error> {
        let mut report = TickReport::default();
        let mut stack = vec![job.events];
        let mut first = true;
        while let Some(chunk) = stack.pop() {
            let ids: Vec<i64> = chunk.iter().map(|e| e.id).collect();
            if !first {
                events::extend_lease(&self.pool, self.owner, &ids, self.lease()).await?;
            }
            first = false;
            let batch = Batch {
                pixel_id: &job.pixel_id,
                access_token: &job.access_token,
                test_event_code: job.test_event_code.as_deref(),
                events: chunk.iter().map(|e| &e.payload.0).collect(),
            };
            let started = Instant::now();
            let result = self.graph.send(&batch).await;
            report.requests += 1;
            let verdict = classify(&result);
            let attempt = attempt_record(&result, &verdict);
            self.metrics.delivery_attempt(
                attempt.outcome,
                chunk.len(),
                started.elapsed().as_secs_f64(),
                attempt.error_code,
            );
            tracing::info!(
                pixel_id = %job.pixel_id,
                events = chunk.len(),
                outcome = attempt.outcome,
                meta_code = attempt.error_code,
                fbtrace_id = attempt.fbtrace_id.as_deref().unwrap_or(""),
                conversion_ids = ?conversion_ids(&chunk),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "delivery attempt"
            );
            // One invalid or too-old event makes Meta refuse the whole request: halve the batch
            // until the offending events are alone, so the others still go out.
            if matches!(verdict, Verdict::Invalid | Verdict::Expired) && chunk.len() > 1 {
                let mut left = chunk;
                let right = left.split_off(left.len() / 2);
                stack.push(right);
                stack.push(left);
                continue;
            }
            let none = vec![None; ids.len()];
            let (transition, next) = match &verdict {
                Verdict::Delivered => {
                    report.delivered += ids.len();
                    (transition("sent", None, None), none)
                }
                Verdict::Retry { retry_after } => {
                    report.retrying += ids.len();
                    let mut rng = rand::thread_rng();
                    let next = chunk
                        .iter()
                        .map(|e| {
                            let d = self.policy.delay(
                                e.attempts as u32 + 1,
                                *retry_after,
                                rng.gen::<f64>(),
                            );
                            Some(Utc::now() + chrono::Duration::from_std(d).unwrap_or_default())
                        })
                        .collect();
                    (transition("pending", None, attempt.message.clone()), next)
                }
                Verdict::Auth => {
                    report.failed += ids.len();
                    tracing::warn!(pixel_id = %job.pixel_id, conversions = ?conversion_ids(&chunk), "token or permission refused by Meta; events parked until the campaign's access_token or pixel_id changes");
                    (
                        transition("failed", Some("auth"), attempt.message.clone()),
                        none,
                    )
                }
                Verdict::Invalid => {
                    report.failed += ids.len();
                    tracing::warn!(conversions = ?conversion_ids(&chunk), "Meta refused the event as invalid");
                    (
                        transition("failed", Some("invalid"), attempt.message.clone()),
                        none,
                    )
                }
                Verdict::Expired => {
                    report.expired += ids.len();
                    (transition("expired", None, attempt.message.clone()), none)
                }
            };
            events::record(&self.pool, self.owner, &ids, &next, &transition, &attempt).await?;
            if verdict == Verdict::Delivered {
                self.recovered(&chunk).await?;
            }
        }
        Ok(report)
    }

    /// Meta accepts again: events of these campaigns still waiting out a retry delay go now,
    /// in full batches, instead of one small request per retry time.
    async fn recovered(&self, chunk: &[ClaimedEvent]) -> Result<(), sqlx::Error> {
        let mut campaigns: Vec<i64> = chunk.iter().map(|e| e.campaign_id).collect();
        campaigns.sort_unstable();
        campaigns.dedup();
        let mut pulled = 0;
        for campaign_id in campaigns {
            pulled += events::retry_now(&self.pool, campaign_id).await?;
        }
        if pulled > 0 {
            tracing::info!(
                events = pulled,
                "Meta accepts again; retrying waiting events now"
            );
            self.signal.notify_one();
        }
        Ok(())
    }
}

fn conversion_ids(chunk: &[ClaimedEvent]) -> Vec<i64> {
    chunk.iter().take(20).map(|e| e.conversion_id).collect()
}

fn transition(
    state: &'static str,
    failure_class: Option<&'static str>,
    last_error: Option<String>,
) -> Transition {
    Transition {
        state,
        failure_class,
        last_error,
        attempted: true,
    }
}

fn attempt_record(result: &SendResult, verdict: &Verdict) -> AttemptRecord {
    let outcome = match verdict {
        Verdict::Delivered => "sent",
        Verdict::Retry { .. } => "transient_error",
        Verdict::Auth => "auth_error",
        Verdict::Invalid => "invalid",
        Verdict::Expired => "expired",
    };
    match result {
        SendResult::Accepted { fbtrace_id, .. } => AttemptRecord {
            outcome,
            http_status: Some(200),
            fbtrace_id: fbtrace_id.clone(),
            ..AttemptRecord::default()
        },
        SendResult::MetaError {
            http_status, error, ..
        } => AttemptRecord {
            outcome,
            http_status: Some(*http_status as i32),
            error_code: error.code.map(|c| c as i32),
            error_subcode: error.error_subcode.map(|c| c as i32),
            message: Some(error.readable()),
            fbtrace_id: error.fbtrace_id.clone(),
        },
        SendResult::Transport {
            http_status,
            message,
            ..
        } => AttemptRecord {
            outcome,
            http_status: http_status.map(i32::from),
            message: Some(message.clone()),
            ..AttemptRecord::default()
        },
    }
}
