//! Fetching Meta's verdict on each pixel (Dataset Quality API) on a schedule and on request, in
//! a loop of its own: its own HTTP client and task, so a slow or failing Meta here never holds
//! up delivery, and a failure is stored as the fetch's outcome, never on events.

pub mod advice;
pub mod view;

pub use view::latest;

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;

use crate::config::meta_quality::MetaQualityConfig;
use crate::domain::meta_quality::{outcome_of_error, EventQuality, FetchOutcome};
use crate::domain::{AccessToken, PlatformKind};
use crate::platforms::meta::dataset_quality::{said, DatasetQualityClient, QualityReply};
use crate::secrets::TokenCipher;
use crate::storage::{campaigns, meta_quality as store};

/// How long a process holds a claimed pixel: every token on it may be tried, each within the
/// client's timeout; a process that died gives the pixel back after this.
const LEASE: Duration = Duration::from_secs(300);

/// Pixels fetched per round by one process; the rest wait for the next round.
const PIXELS_PER_ROUND: i64 = 50;

#[derive(Clone)]
pub struct QualityFetcher {
    pool: PgPool,
    client: DatasetQualityClient,
    cipher: TokenCipher,
    interval: Option<Duration>,
    poll: Duration,
}

/// What one round did, per pixel.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RoundReport {
    pub fetched: Vec<(String, FetchOutcome)>,
}

impl QualityFetcher {
    pub fn new(
        pool: PgPool,
        client: DatasetQualityClient,
        cipher: TokenCipher,
        config: &MetaQualityConfig,
    ) -> Self {
        QualityFetcher {
            pool,
            client,
            cipher,
            interval: config.meta_quality_interval.0,
            poll: config.meta_quality_poll,
        }
    }

    /// Polls for due pixels until `shutdown` turns true; a fetch in progress is dropped then
    /// (its pixel's lease runs out, and the schedule has already moved on).
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut every = tokio::time::interval(self.poll);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
            tokio::select! {
                done = self.round() => match done {
                    Ok(r) if !r.fetched.is_empty() => {
                        tracing::info!(fetched = ?r.fetched, "Meta quality fetched")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "Meta quality round failed"),
                },
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Claims the pixels due now and fetches each.
    pub async fn round(&self) -> Result<RoundReport, sqlx::Error> {
        let pixels = store::claim_due(&self.pool, self.interval, LEASE, PIXELS_PER_ROUND).await?;
        let mut report = RoundReport::default();
        for pixel in pixels {
            let outcome = self.fetch_pixel(&pixel).await;
            store::release(&self.pool, &pixel).await?;
            report.fetched.push((pixel, outcome?));
        }
        Ok(report)
    }

    /// One call per pixel with the token of its most recently updated enabled campaign; the
    /// next campaign's token only when Meta refuses the token itself.
    async fn fetch_pixel(&self, pixel: &str) -> Result<FetchOutcome, sqlx::Error> {
        let mut kept: Option<Attempt> = None;
        for id in store::campaigns_on_pixel(&self.pool, pixel).await? {
            let Some(campaign) = campaigns::find_by_id(&self.pool, id).await? else {
                continue;
            };
            let Some(meta) = &campaign.meta else { continue };
            let (key, stored) = (campaign.key.as_str(), meta.access_token.expose());
            let Ok(token) = self.cipher.open_token(key, PlatformKind::Meta, stored) else {
                continue;
            };
            let attempt = Attempt::of(id, self.client.fetch(pixel, &AccessToken::new(token)).await);
            if !attempt.outcome.tries_next_token() {
                kept = Some(attempt);
                break;
            }
            // When every token fails, the one to fix is the first: the pixel's usual token.
            kept.get_or_insert(attempt);
        }
        let attempt = kept.unwrap_or(Attempt {
            campaign_id: None,
            outcome: FetchOutcome::NoReadableToken,
            detail: None,
            graph_code: None,
            events: Vec::new(),
        });
        let message = (attempt.outcome != FetchOutcome::Scored)
            .then(|| attempt.outcome.advice(attempt.detail.as_deref()));
        store::record_fetch(
            &self.pool,
            &store::NewFetch {
                pixel_id: pixel,
                outcome: attempt.outcome,
                message,
                graph_code: attempt.graph_code,
                campaign_id: attempt.campaign_id,
                events: &attempt.events,
            },
        )
        .await?;
        Ok(attempt.outcome)
    }
}

/// One token's try.
struct Attempt {
    campaign_id: Option<i64>,
    outcome: FetchOutcome,
    /// Meta's words or the transport failure.
    detail: Option<String>,
    graph_code: Option<i64>,
    events: Vec<EventQuality>,
}

impl Attempt {
    fn of(campaign_id: i64, reply: QualityReply) -> Self {
        let attempt = |outcome, detail, graph_code, events| Attempt {
            campaign_id: Some(campaign_id),
            outcome,
            detail,
            graph_code,
            events,
        };
        match reply {
            QualityReply::Answer(events) => {
                let outcome = if events.iter().any(|e| e.emq.is_some()) {
                    FetchOutcome::Scored
                } else {
                    FetchOutcome::NoScoreYet
                };
                attempt(outcome, None, None, events)
            }
            QualityReply::MetaError { error, .. } => attempt(
                outcome_of_error(error.code, error.error_subcode),
                Some(said(&error)),
                error.code,
                Vec::new(),
            ),
            QualityReply::Transport { message } => {
                attempt(FetchOutcome::Unreachable, Some(message), None, Vec::new())
            }
        }
    }
}
