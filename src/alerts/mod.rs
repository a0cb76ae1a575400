//! Alerts (issue 22, item 11): when the health check (`health`) finds something that needs a
//! person, say so once on the configured channels, and say again when it is over.
//!
//! Every process runs the loop; each pass decides under one database lock ([`decide`] is the
//! rule, `storage::alerts` the memory), so a start is sent once however many processes run.

pub mod channels;
pub mod decide;
mod source;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::sync::watch;

pub use self::channels::{Channels, Delivery};
pub use self::source::Holding;
use crate::domain::{AlertKey, AlertKind};
use crate::storage::alerts::{self as store, SentAlert};

/// How long the list of alerts sent keeps a message.
const KEEP_SENT: chrono::Duration = chrono::Duration::days(90);

/// One message, as every channel gets it. Its text carries no secret and no personal data:
/// campaign keys, platforms, conditions, counts and times.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub kind: AlertKind,
    pub key: AlertKey,
    pub since: DateTime<Utc>,
    pub text: String,
    /// The campaign's dashboard page, when PUBLIC_URL is set.
    pub link: Option<String>,
}

/// What a pass sent.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PassReport {
    pub sent: Vec<(AlertKey, AlertKind)>,
}

pub struct Alerts {
    pool: PgPool,
    channels: Channels,
    rules: source::Rules,
    /// PUBLIC_URL without its trailing slash.
    public_url: Option<String>,
    interval: Duration,
}

impl Alerts {
    pub fn new(
        pool: PgPool,
        channels: Channels,
        rules: source::Rules,
        public_url: Option<&str>,
        interval: Duration,
    ) -> Self {
        Alerts {
            pool,
            channels,
            rules,
            public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
            interval,
        }
    }

    pub fn channels(&self) -> &Channels {
        &self.channels
    }

    /// Checks the conditions at `now`, stores what changed and sends what [`decide::decide`]
    /// says. The decision commits before anything is sent: a process that dies mid-send loses
    /// that message rather than letting another process send it twice.
    pub async fn pass(&self, now: DateTime<Utc>) -> Result<PassReport, sqlx::Error> {
        let holding = source::holding(&self.pool, &self.rules, now).await?;
        let current: HashMap<&AlertKey, &Holding> = holding.iter().map(|h| (&h.key, h)).collect();
        let mut tx = store::begin_decision(&self.pool).await?;
        let stored: HashMap<AlertKey, _> = store::load(&mut tx).await?.into_iter().collect();
        let keys: BTreeSet<&AlertKey> = stored.keys().chain(current.keys().copied()).collect();
        let mut messages = Vec::new();
        for key in keys {
            let now_holding = current.get(key).copied();
            let d = decide::decide(stored.get(key), now_holding.map(|h| h.since), now);
            if let Some(next) = &d.next {
                store::save(&mut tx, key, next).await?;
            }
            match (d.send, now_holding, stored.get(key)) {
                (Some(kind @ AlertKind::Firing), Some(h), _) => messages.push(self.message(
                    kind,
                    key,
                    h.since,
                    h.text.clone(),
                    h.page.as_deref(),
                )),
                (Some(kind @ AlertKind::Resolved), _, Some(s)) => {
                    let text = format!(
                        "Resolved: {} on {} ({}), which began {}.",
                        key.subject,
                        platform_word(&key.platform),
                        key.condition.replace('_', " "),
                        s.started_at.format("%Y-%m-%d %H:%M UTC")
                    );
                    let page = source::page_of(key);
                    messages.push(self.message(kind, key, s.started_at, text, page.as_deref()))
                }
                _ => {}
            }
        }
        tx.commit().await?;
        let mut report = PassReport::default();
        for m in &messages {
            self.deliver(m, now).await?;
            report.sent.push((m.key.clone(), m.kind));
        }
        Ok(report)
    }

    /// The dashboard's "send a test alert": one message to each configured channel, listed
    /// with the others.
    pub async fn send_test(&self) -> Result<Vec<Delivery>, sqlx::Error> {
        let key = AlertKey {
            subject: String::new(),
            platform: String::new(),
            condition: "test".to_owned(),
        };
        let message = Message {
            kind: AlertKind::Test,
            since: Utc::now(),
            text: "Test alert from capi-bridge: alerts reach this channel.".to_owned(),
            link: self.public_url.as_ref().map(|u| format!("{u}/ui/alerts")),
            key,
        };
        self.deliver(&message, Utc::now()).await
    }

    /// The newest alerts sent, newest first.
    pub async fn recent(&self, limit: i64) -> Result<Vec<SentAlert>, sqlx::Error> {
        store::recent(&self.pool, limit).await
    }

    /// `page`: the dashboard page (a path) the message links to when PUBLIC_URL is set.
    fn message(
        &self,
        kind: AlertKind,
        key: &AlertKey,
        since: DateTime<Utc>,
        text: String,
        page: Option<&str>,
    ) -> Message {
        let link = match (&self.public_url, page) {
            (Some(base), Some(page)) => Some(format!("{base}{page}")),
            _ => None,
        };
        let text = match &link {
            Some(l) => format!("{text}\n{l}"),
            None => text,
        };
        Message {
            kind,
            key: key.clone(),
            since,
            text,
            link,
        }
    }

    async fn deliver(&self, m: &Message, now: DateTime<Utc>) -> Result<Vec<Delivery>, sqlx::Error> {
        let deliveries = self.channels.send(m).await;
        for d in &deliveries {
            if let Some(error) = &d.error {
                // The error never holds the channel's URL (its secret), nor does the key.
                tracing::warn!(channel = %d.channel, kind = %m.kind, subject = %m.key.subject,
                    condition = %m.key.condition, error = %error, "alert not delivered");
            } else {
                tracing::info!(channel = %d.channel, kind = %m.kind, subject = %m.key.subject,
                    condition = %m.key.condition, "alert sent");
            }
            let sent = SentAlert {
                sent_at: now,
                key: m.key.clone(),
                kind: m.kind,
                channel: d.channel,
                delivered: d.error.is_none(),
                text: m.text.clone(),
                error: d.error.clone(),
            };
            store::record_sent(&self.pool, &sent).await?;
        }
        Ok(deliveries)
    }

    /// Checks every ALERT_INTERVAL until `stop`, when a channel is configured.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let start = tokio::time::Instant::now() + self.interval;
        let mut every = tokio::time::interval_at(start, self.interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = stop.changed() => return,
            }
            let now = Utc::now();
            if let Err(e) = self.pass(now).await {
                tracing::warn!(error = %e, "alert pass failed; trying again next interval");
            }
            if let Err(e) = store::prune_sent(&self.pool, now - KEEP_SENT).await {
                tracing::warn!(error = %e, "pruning the alerts sent failed");
            }
        }
    }
}

/// How a key's platform reads in a message.
fn platform_word(platform: &str) -> &str {
    match platform {
        "meta" => "Meta",
        "tiktok" => "TikTok",
        "" => "every platform",
        other => other,
    }
}
