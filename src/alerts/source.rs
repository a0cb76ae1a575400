//! The conditions that hold now, from the health check: the one place that turns its problems
//! into alert keys.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::AlertKey;
use crate::health::{self, Problem};

/// The health check's thresholds (ALERT_FAILURE_RATE, ALERT_OUTBOX_AGE, ALERT_SILENCE).
pub type Rules = health::HealthRules;

/// A condition that holds now.
#[derive(Debug, Clone, PartialEq)]
pub struct Holding {
    pub key: AlertKey,
    pub since: DateTime<Utc>,
    /// The health check's sentence: what is wrong and the fix.
    pub text: String,
    /// The dashboard page it links to: the campaign's, or else where the fix is.
    pub page: Option<String>,
}

/// The campaign page of a key whose subject is a campaign (for its "resolved" message).
pub fn page_of(key: &AlertKey) -> Option<String> {
    (!key.subject.contains(':') && key.subject != "bridge")
        .then(|| format!("/ui/campaigns/{}", key.subject))
}

/// The problems that hold at `now`, one per key (the most urgent, as the health check ranks).
pub async fn holding(
    pool: &PgPool,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<Vec<Holding>, sqlx::Error> {
    let problems = health::problems(pool, rules, now).await?;
    let mut seen = HashSet::new();
    Ok(problems
        .iter()
        .map(holding_of)
        .filter(|h| seen.insert(h.key.clone()))
        .collect())
}

/// "Meta refused the token (190) for keto-fb-us: edit the campaign's access token".
fn holding_of(p: &Problem) -> Holding {
    let fix = p.fix();
    Holding {
        key: AlertKey {
            subject: p.subject(),
            platform: p.platform.map_or("", |k| k.as_str()).to_owned(),
            condition: p.condition.as_str().to_owned(),
        },
        since: p.since,
        text: format!("{}: {}.", p.sentence(), fix.text),
        page: Some(
            p.campaign
                .as_ref()
                .map_or(fix.link, |c| format!("/ui/campaigns/{}", c.key)),
        ),
    }
}
