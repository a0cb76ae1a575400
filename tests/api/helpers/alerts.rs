//! Fake alert channels: a Slack-style webhook and Telegram's Bot API (`sendMessage` answers
//! `{"ok":true,"result":{...}}`, or Telegram's error body), and the flags that point a server
//! at them.

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A bot token as @BotFather hands them out; it travels in Telegram's URL path.
pub const TELEGRAM_TOKEN: &str = "7012345678:AAtestTELEGRAMsecretToken_0123456789";
pub const TELEGRAM_CHAT: &str = "-1001234567890";
/// A Slack incoming webhook's path is its credential.
pub const WEBHOOK_PATH: &str = "/services/T0TEST/B0TEST/webhookSECRETpath0123";

pub struct FakeChannels {
    pub webhook: MockServer,
    pub telegram: MockServer,
}

impl FakeChannels {
    /// Both answer as the real ones do when all is well.
    pub async fn start() -> Self {
        let channels = FakeChannels {
            webhook: MockServer::start().await,
            telegram: MockServer::start().await,
        };
        channels
            .webhook_answers(ResponseTemplate::new(200).set_body_string("ok"))
            .await;
        channels.telegram_answers(telegram_ok()).await;
        channels
    }

    pub fn webhook_url(&self) -> String {
        format!("{}{WEBHOOK_PATH}", self.webhook.uri())
    }

    /// The server flags for both channels.
    pub fn args(&self) -> Vec<String> {
        vec![
            "--alert-webhook-url".into(),
            self.webhook_url(),
            "--telegram-bot-token".into(),
            TELEGRAM_TOKEN.into(),
            // `=`: a group's id starts with a minus.
            format!("--telegram-chat-id={TELEGRAM_CHAT}"),
            "--telegram-api-url".into(),
            self.telegram.uri(),
        ]
    }

    /// Replaces the webhook's answer.
    pub async fn webhook_answers(&self, answer: ResponseTemplate) {
        self.webhook.reset().await;
        Mock::given(method("POST"))
            .and(path(WEBHOOK_PATH))
            .respond_with(answer)
            .mount(&self.webhook)
            .await;
    }

    /// Replaces Telegram's answer to `sendMessage` with the configured token.
    pub async fn telegram_answers(&self, answer: ResponseTemplate) {
        self.telegram.reset().await;
        Mock::given(method("POST"))
            .and(path(format!("/bot{TELEGRAM_TOKEN}/sendMessage")))
            .respond_with(answer)
            .mount(&self.telegram)
            .await;
    }

    /// The JSON bodies the webhook received, in order.
    pub async fn webhook_bodies(&self) -> Vec<Value> {
        bodies(&self.webhook).await
    }

    /// The JSON bodies `sendMessage` received, in order.
    pub async fn telegram_bodies(&self) -> Vec<Value> {
        bodies(&self.telegram).await
    }
}

async fn bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).expect("an alert is JSON"))
        .collect()
}

pub fn telegram_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "ok": true,
        "result": {"message_id": 7, "date": 1_800_000_000, "chat": {"id": -1001234567890i64, "type": "supergroup"}}
    }))
}

/// Telegram's answer to a revoked or mistyped bot token.
pub fn telegram_unauthorized() -> ResponseTemplate {
    ResponseTemplate::new(401).set_body_json(json!({
        "ok": false, "error_code": 401, "description": "Unauthorized"
    }))
}
