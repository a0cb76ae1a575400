//! `POST {base}/open_api/v1.3/event/track/` with the `Access-Token` header.

use std::time::Duration;

use serde_json::{json, Value};

use crate::domain::AccessToken;
use crate::platforms::http;

const TRACK_PATH: &str = "/open_api/v1.3/event/track/";

#[derive(Clone)]
pub struct TikTokClient {
    http: reqwest::Client,
    base_url: String,
}

/// One request: a pixel's events, as the event builder made them.
pub struct Batch<'a> {
    pub pixel_code: &'a str,
    pub access_token: &'a AccessToken,
    pub test_event_code: Option<&'a str>,
    pub events: &'a [&'a Value],
}

/// What came back, unread: `answer` decides what it means.
pub use crate::platforms::http::Reply;

impl TikTokClient {
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = http::client(timeout)?;
        Ok(TikTokClient {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    pub fn url(&self) -> String {
        format!("{}{TRACK_PATH}", self.base_url)
    }

    /// The token travels only in the `Access-Token` header: never in the URL or the body, so
    /// it stays out of access logs and out of any request body a test or proxy records.
    pub async fn send(&self, batch: &Batch<'_>) -> Reply {
        let request = self
            .http
            .post(self.url())
            .header("Access-Token", batch.access_token.expose())
            .json(&body(batch));
        http::exchange(request).await
    }
}

/// The request body: `event_source` is always "web" (these are website conversions).
pub fn body(batch: &Batch<'_>) -> Value {
    let mut body = json!({
        "event_source": "web",
        "event_source_id": batch.pixel_code,
        "data": batch.events,
    });
    if let Some(code) = batch.test_event_code {
        body["test_event_code"] = json!(code);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_carries_the_pixel_events_and_test_code_but_no_token() {
        let token = AccessToken::new("secret-token-123".into());
        let event = json!({"event": "CompletePayment", "event_id": "e1"});
        let events = [&event];
        let mut batch = Batch {
            pixel_code: "C4ABCDEF",
            access_token: &token,
            test_event_code: None,
            events: &events,
        };
        let b = body(&batch);
        assert_eq!(
            b,
            json!({"event_source": "web", "event_source_id": "C4ABCDEF", "data": [event.clone()]})
        );
        batch.test_event_code = Some("TEST123");
        let b = body(&batch);
        assert_eq!(b["test_event_code"], "TEST123");
        assert!(!b.to_string().contains("secret-token-123"));
        let client = TikTokClient::new("http://fake/", Duration::from_secs(1)).unwrap();
        assert_eq!(client.url(), "http://fake/open_api/v1.3/event/track/");
    }
}
