//! Where alerts go: a generic webhook (Slack-style: JSON with `text`) and Telegram's Bot API.
//! Both use the platforms' client rules (no redirects, answers read within a bound, timeouts);
//! both URLs hold a credential, so no failure names them.

use std::time::Duration;

use futures_util::future::OptionFuture;
use serde_json::json;

use super::Message;
use crate::domain::AlertChannel;
use crate::platforms::http::{self, Reply};

/// Most characters of an answer kept in a failure's description.
const ANSWER_CHARS: usize = 300;

/// The channels this process sends to (either, both, or none).
#[derive(Clone)]
pub struct Channels {
    client: reqwest::Client,
    webhook: Option<String>,
    telegram: Option<Telegram>,
}

#[derive(Clone)]
struct Telegram {
    api: String,
    token: String,
    chat_id: String,
}

/// What one channel made of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub channel: AlertChannel,
    /// Why it was not delivered.
    pub error: Option<String>,
}

impl Channels {
    pub fn new(
        webhook: Option<String>,
        telegram: Option<(&str, &str)>,
        telegram_api: &str,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        Ok(Channels {
            client: http::client(timeout)?,
            webhook,
            telegram: telegram.map(|(token, chat_id)| Telegram {
                api: telegram_api.trim_end_matches('/').to_owned(),
                token: token.to_owned(),
                chat_id: chat_id.to_owned(),
            }),
        })
    }

    /// The configured channels, in the order messages go out.
    pub fn configured(&self) -> Vec<AlertChannel> {
        let mut out = Vec::new();
        if self.webhook.is_some() {
            out.push(AlertChannel::Webhook);
        }
        if self.telegram.is_some() {
            out.push(AlertChannel::Telegram);
        }
        out
    }

    /// The webhook's host (its path is its secret), for the dashboard.
    pub fn webhook_host(&self) -> Option<String> {
        let url = reqwest::Url::parse(self.webhook.as_deref()?).ok()?;
        url.host_str().map(str::to_owned)
    }

    /// Sends `message` to every channel at once: a slow or failing one holds up no other.
    pub async fn send(&self, message: &Message) -> Vec<Delivery> {
        let webhook =
            OptionFuture::from(self.webhook.as_ref().map(|u| self.to_webhook(u, message)));
        let telegram =
            OptionFuture::from(self.telegram.as_ref().map(|t| self.to_telegram(t, message)));
        let (w, t) = tokio::join!(webhook, telegram);
        [(AlertChannel::Webhook, w), (AlertChannel::Telegram, t)]
            .into_iter()
            .filter_map(|(channel, sent)| {
                sent.map(|r| Delivery {
                    channel,
                    error: r.err(),
                })
            })
            .collect()
    }

    async fn to_webhook(&self, url: &str, message: &Message) -> Result<(), String> {
        let body = json!({
            "text": message.text,
            "campaign": message.key.subject,
            "platform": message.key.platform,
            "condition": message.key.condition,
            "state": message.kind,
            "since": message.since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "link": message.link,
        });
        match http::exchange_secret_url(self.client.post(url).json(&body)).await {
            Reply::Http { status, .. } if (200..300).contains(&status) => Ok(()),
            Reply::Http { status, body, .. } => Err(format!(
                "the webhook answered HTTP {status}: {}",
                answer_text(&body)
            )),
            Reply::Transport { message, .. } => Err(format!("the webhook: {message}")),
        }
    }

    async fn to_telegram(&self, t: &Telegram, message: &Message) -> Result<(), String> {
        // The token is part of the path; exchange_secret_url never repeats the URL.
        let url = format!("{}/bot{}/sendMessage", t.api, t.token);
        let body = json!({
            "chat_id": t.chat_id,
            "text": message.text,
            "disable_web_page_preview": true,
        });
        let answer = match http::exchange_secret_url(self.client.post(url).json(&body)).await {
            Reply::Http { status, body, .. } => (status, body),
            Reply::Transport { message, .. } => return Err(format!("Telegram: {message}")),
        };
        let (status, body) = answer;
        let read: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
        match read {
            Some(v) if v["ok"] == true && (200..300).contains(&status) => Ok(()),
            Some(v) if v["ok"] == false => Err(format!(
                "Telegram refused it ({}): {}",
                v["error_code"].as_i64().unwrap_or(i64::from(status)),
                short(v["description"].as_str().unwrap_or("no description"))
            )),
            _ => Err(format!(
                "Telegram answered HTTP {status} without its JSON: {}",
                answer_text(&body)
            )),
        }
    }
}

fn answer_text(body: &[u8]) -> String {
    match String::from_utf8_lossy(body).trim() {
        "" => "(empty)".to_owned(),
        text => short(text),
    }
}

fn short(text: &str) -> String {
    match text.char_indices().nth(ANSWER_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}
