//! The conditions that hold now, from the health check: the one place that turns its problems
//! into alert keys.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::AlertKey;

/// The health check's thresholds (ALERT_FAILURE_RATE, ALERT_OUTBOX_AGE, ALERT_SILENCE).
pub type Rules = ();

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

pub async fn holding(
    _pool: &PgPool,
    _rules: &Rules,
    _now: DateTime<Utc>,
) -> Result<Vec<Holding>, sqlx::Error> {
    Ok(Vec::new())
}
