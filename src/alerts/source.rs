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
}

pub async fn holding(
    _pool: &PgPool,
    _rules: &Rules,
    _now: DateTime<Utc>,
) -> Result<Vec<Holding>, sqlx::Error> {
    Ok(Vec::new())
}
