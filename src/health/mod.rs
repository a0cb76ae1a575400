//! The health of each campaign and platform: one judgement the dashboard's banners, the
//! campaigns list and the alerts share. [`problems`] reads the facts (`crate::storage::health`)
//! and [`assess`] judges them, purely, by the [`HealthRules`].

mod assess;
mod problem;

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::PgPool;

pub use self::assess::assess;
pub use self::problem::{CampaignRef, Condition, Fix, Problem, Rate};
use crate::storage::health::{self as facts, Windows};

/// When a campaign counts as in trouble. `Default` is the documented defaults (the alert
/// settings `ALERT_FAILURE_RATE`, `ALERT_OUTBOX_AGE` and `ALERT_SILENCE` override them).
#[derive(Debug, Clone, PartialEq)]
pub struct HealthRules {
    /// Share of attempted events not delivered (0.2 = 20 %) above which a platform fails.
    pub failure_rate: f64,
    /// Fewer attempted events than this in the window say nothing about a rate.
    pub min_events: i64,
    /// How far back attempts count for the failure rate.
    pub failure_window: Duration,
    /// A pending event older than this is stuck.
    pub outbox_age: Duration,
    /// A campaign with clicks but no postback for this long is silent; `None`: never.
    pub silence: Option<Duration>,
    /// How far back refused postbacks count.
    pub postback_window: Duration,
    /// How many refused (or unmatched) postbacks make a pile worth a banner.
    pub postback_pileup: i64,
    /// An unmatched postback waits this long for its click before it counts.
    pub unmatched_grace: Duration,
    /// How far back unmatched postbacks count.
    pub unmatched_window: Duration,
}

impl Default for HealthRules {
    fn default() -> Self {
        HealthRules {
            failure_rate: 0.20,
            min_events: 10,
            failure_window: Duration::from_secs(3600),
            outbox_age: Duration::from_secs(30 * 60),
            silence: None,
            postback_window: Duration::from_secs(3600),
            postback_pileup: 3,
            unmatched_grace: Duration::from_secs(15 * 60),
            unmatched_window: Duration::from_secs(24 * 3600),
        }
    }
}

impl HealthRules {
    /// The moments the facts are read from.
    pub fn windows(&self, now: DateTime<Utc>) -> Windows {
        let back = |d: Duration| now - TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX);
        Windows {
            failures_since: back(self.failure_window),
            refused_since: back(self.postback_window),
            unmatched_before: back(self.unmatched_grace),
            unmatched_since: back(self.unmatched_window),
            silence_since: self.silence.map(back),
        }
    }
}

/// Every campaign's problems (and those of postbacks no campaign can be named for), the most
/// urgent first.
pub async fn problems(
    pool: &PgPool,
    rules: &HealthRules,
    now: DateTime<Utc>,
) -> Result<Vec<Problem>, sqlx::Error> {
    let facts = facts::read(pool, rules.windows(now), None).await?;
    Ok(assess(&facts, rules, now))
}

/// One campaign's problems (by its row id).
pub async fn campaign_problems(
    pool: &PgPool,
    rules: &HealthRules,
    now: DateTime<Utc>,
    campaign_id: i64,
) -> Result<Vec<Problem>, sqlx::Error> {
    let facts = facts::read(pool, rules.windows(now), Some(campaign_id)).await?;
    Ok(assess(&facts, rules, now))
}

#[cfg(test)]
mod assess_tests;
