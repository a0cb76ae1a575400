//! `POST {graph}/{version}/{pixel}/events`, and Meta's answers read into types.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::domain::AccessToken;
use crate::platforms::http::{self, Reply};

/// Names this service on every request (`partner_agent`), so Meta's quality figures can be
/// limited to the events it sent (`agent_name` in dataset_quality.rs).
pub const PARTNER_AGENT: &str = "capi-bridge";

#[derive(Clone)]
pub struct GraphClient {
    graph: Endpoint,
}

/// Where and how any Graph API request goes: one client (the platforms' rules), the versioned
/// base URL, and the app secret that signs each token.
#[derive(Clone)]
pub(super) struct Endpoint {
    pub(super) http: reqwest::Client,
    base_url: String,
    version: String,
    app_secret: Option<String>,
}

impl Endpoint {
    pub(super) fn new(
        base_url: &str,
        version: &str,
        app_secret: Option<String>,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        Ok(Endpoint {
            http: http::client(timeout)?,
            base_url: base_url.trim_end_matches('/').to_owned(),
            version: version.to_owned(),
            app_secret,
        })
    }

    /// `{base}/{version}/{path}`.
    pub(super) fn url(&self, path: &str) -> String {
        format!("{}/{}/{path}", self.base_url, self.version)
    }

    /// `appsecret_proof` for `token`, when an app secret is set: an HMAC that proves the app
    /// without revealing the token.
    pub(super) fn proof(&self, token: &str) -> Option<String> {
        self.app_secret
            .as_deref()
            .map(|secret| appsecret_proof(secret, token))
    }
}

/// Meta's error object (`{"error": {...}}`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct GraphError {
    #[serde(default)]
    pub message: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    pub code: Option<i64>,
    pub error_subcode: Option<i64>,
    #[serde(default)]
    pub is_transient: bool,
    pub error_user_title: Option<String>,
    pub error_user_msg: Option<String>,
    pub fbtrace_id: Option<String>,
}

impl GraphError {
    /// Meta's texts within what is kept of an answer (see [`http::MAX_KEPT_CHARS`]).
    fn bounded(self) -> Self {
        let cut = |s: Option<String>| s.as_deref().map(http::kept);
        GraphError {
            message: http::kept(&self.message),
            kind: cut(self.kind),
            error_user_title: cut(self.error_user_title),
            error_user_msg: cut(self.error_user_msg),
            fbtrace_id: cut(self.fbtrace_id),
            ..self
        }
    }

    /// The most useful text for a media buyer reading why an event failed.
    pub fn readable(&self) -> String {
        match (&self.error_user_title, &self.error_user_msg) {
            (Some(t), Some(m)) => format!("{t}: {m}"),
            (None, Some(m)) => m.clone(),
            _ => self.message.clone(),
        }
    }
}

/// What came back from one request.
#[derive(Debug, Clone, PartialEq)]
pub enum SendResult {
    Accepted {
        events_received: Option<u64>,
        fbtrace_id: Option<String>,
    },
    MetaError {
        http_status: u16,
        error: GraphError,
        retry_after: Option<Duration>,
    },
    /// No answer Meta wrote: connection failure, timeout, or an unreadable error page.
    Transport {
        http_status: Option<u16>,
        message: String,
        retry_after: Option<Duration>,
    },
}

impl SendResult {
    /// No answer within the client's timeout.
    pub fn timed_out(&self) -> bool {
        matches!(self, SendResult::Transport { message, .. } if message.starts_with(http::TIMEOUT))
    }
}

#[derive(Deserialize)]
struct Success {
    events_received: Option<u64>,
    fbtrace_id: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct ErrorEnvelope {
    pub(super) error: GraphError,
}

pub struct Batch<'a> {
    pub pixel_id: &'a str,
    pub access_token: &'a AccessToken,
    pub test_event_code: Option<&'a str>,
    pub events: Vec<&'a Value>,
}

impl GraphClient {
    pub fn new(
        base_url: &str,
        version: &str,
        app_secret: Option<String>,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        Ok(GraphClient {
            graph: Endpoint::new(base_url, version, app_secret, timeout)?,
        })
    }

    /// The token travels in the body, never the URL, so it stays out of proxies' access logs.
    pub async fn send(&self, batch: &Batch<'_>) -> SendResult {
        let url = self.graph.url(&format!("{}/events", batch.pixel_id));
        let mut body = json!({
            "data": batch.events,
            "access_token": batch.access_token.expose(),
            "partner_agent": PARTNER_AGENT,
        });
        if let Some(code) = batch.test_event_code {
            body["test_event_code"] = json!(code);
        }
        if let Some(proof) = self.graph.proof(batch.access_token.expose()) {
            body["appsecret_proof"] = json!(proof);
        }
        match http::exchange(self.graph.http.post(&url).json(&body)).await {
            Reply::Http {
                status,
                body,
                retry_after,
            } => interpret(status, &body, retry_after),
            Reply::Transport {
                http_status,
                message,
                retry_after,
            } => SendResult::Transport {
                http_status,
                message,
                retry_after,
            },
        }
    }
}

/// Reads Meta's answer. A 2xx is success only with a success body; an error is Meta's only if
/// its body is Meta's error object.
pub fn interpret(status: u16, body: &[u8], retry_after: Option<Duration>) -> SendResult {
    if (200..300).contains(&status) {
        if let Ok(ok) = serde_json::from_slice::<Success>(body) {
            return SendResult::Accepted {
                events_received: ok.events_received,
                fbtrace_id: ok.fbtrace_id,
            };
        }
    }
    match serde_json::from_slice::<ErrorEnvelope>(body) {
        Ok(env) => SendResult::MetaError {
            http_status: status,
            error: env.error.bounded(),
            retry_after,
        },
        Err(_) => SendResult::Transport {
            http_status: Some(status),
            message: format!("HTTP {status} without a Graph API error body"),
            retry_after,
        },
    }
}

pub fn appsecret_proof(secret: &str, token: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appsecret_proof_is_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            appsecret_proof("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn reads_success_and_errors() {
        let ok = interpret(200, br#"{"events_received":2,"fbtrace_id":"Ab"}"#, None);
        assert_eq!(
            ok,
            SendResult::Accepted {
                events_received: Some(2),
                fbtrace_id: Some("Ab".into())
            }
        );
        let err = interpret(
            400,
            br#"{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,
                "error_subcode":2804003,"is_transient":false,"error_user_msg":"too old",
                "fbtrace_id":"X"}}"#,
            None,
        );
        let SendResult::MetaError { error, .. } = err else {
            panic!("{err:?}")
        };
        assert_eq!(
            (error.code, error.error_subcode),
            (Some(100), Some(2804003))
        );
        assert_eq!(error.readable(), "too old");
        let html = interpret(502, b"<html>Bad gateway</html>", None);
        assert!(matches!(
            html,
            SendResult::Transport {
                http_status: Some(502),
                ..
            }
        ));
        let odd = interpret(200, b"not json", None);
        assert!(matches!(odd, SendResult::Transport { .. }));
    }
}
