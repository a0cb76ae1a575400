//! The words of alerts (issue 22, item 11): a key's state, what a message says, where it went.
//! Stored as `TEXT` under the CHECK constraints of migration 25.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::state::words;

/// Whether an alert key's condition holds (`alerts.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Firing,
    Cleared,
}

/// What a message announces (`alerts_sent.kind`, and the webhook's `state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A condition started.
    Firing,
    /// A condition whose start was sent has ended.
    Resolved,
    /// The dashboard's "send a test alert".
    Test,
}

/// Where a message goes (`alerts_sent.channel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum AlertChannel {
    Webhook,
    Telegram,
}

/// What an alert is about: a subject (a campaign key today, a pixel later), its platform (`""`
/// for a condition of no one platform) and the condition's word.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlertKey {
    pub subject: String,
    pub platform: String,
    pub condition: String,
}

/// What the database remembers of one key (a row of `alerts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRecord {
    pub state: AlertState,
    /// When the current (or last) episode began.
    pub started_at: DateTime<Utc>,
    /// When this episode's start was sent; `None` while the hourly limit holds it back.
    pub start_sent_at: Option<DateTime<Utc>>,
    /// The last start sent for the key, any episode.
    pub last_fired_at: Option<DateTime<Utc>>,
    pub cleared_at: Option<DateTime<Utc>>,
}

words!(AlertState {
    Firing => "firing",
    Cleared => "cleared",
});
words!(AlertKind {
    Firing => "firing",
    Resolved => "resolved",
    Test => "test",
});
words!(AlertChannel {
    Webhook => "webhook",
    Telegram => "telegram",
});
