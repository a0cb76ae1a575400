//! A fake TikTok Events API as strict as the fake Graph API: it refuses, with TikTok's
//! parameter-error code and the reason, any request the real endpoint would not take, and
//! otherwise answers with TikTok's success body or the error it was told to give. Every
//! `TestApp` has one (`app.tiktok`); `tiktok_requests()` reads what it received.

use chrono::Utc;
use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::TestApp;

/// The pixel code and Events API token `create_campaign_with_tiktok` gives a campaign.
pub const TIKTOK_PIXEL: &str = "C4TESTPIXEL0CODE12345";
pub const TIKTOK_TOKEN: &str = "tt-events-token-0a1b2c3d4e5f6789";

pub const TRACK_PATH: &str = "/open_api/v1.3/event/track/";
/// The `request_id` every answer carries, so tests can see it kept on the attempt.
pub const FAKE_REQUEST_ID: &str = "20261201080000FAKE0TIKTOK0REQ";
/// TikTok's parameter-error code, also what the fake answers when it refuses a request.
pub const PARAMETER_ERROR: i64 = 40002;
/// How the fake's own refusals begin, to tell them from an error a test asked for.
pub const REFUSED: &str = "fake TikTok refused the request: ";

const USER_KEYS: [&str; 7] = [
    "ttclid",
    "ttp",
    "email",
    "phone",
    "external_id",
    "ip",
    "user_agent",
];
const HASHED: [&str; 3] = ["email", "phone", "external_id"];

/// What the fake answers to a request it accepts.
#[derive(Clone)]
pub struct FakeTikTok {
    status: u16,
    code: i64,
    message: String,
    retry_after: Option<u64>,
}

impl FakeTikTok {
    /// `{"code":0,"message":"OK",...}`.
    pub fn ok() -> Self {
        FakeTikTok {
            status: 200,
            code: 0,
            message: "OK".into(),
            retry_after: None,
        }
    }

    /// HTTP 200 with an error code, as TikTok answers most errors.
    pub fn code(code: i64, message: &str) -> Self {
        FakeTikTok {
            code,
            message: message.into(),
            ..FakeTikTok::ok()
        }
    }

    /// An error code under another HTTP status (5xx, 429).
    pub fn http(status: u16, code: i64, message: &str) -> Self {
        FakeTikTok {
            status,
            ..FakeTikTok::code(code, message)
        }
    }

    pub fn retry_after(self, seconds: u64) -> Self {
        FakeTikTok {
            retry_after: Some(seconds),
            ..self
        }
    }

    pub async fn mount(self, server: &MockServer) {
        // Every request reaches the fake, so a wrong method or path is refused with a
        // reason instead of wiremock's bare 404.
        Mock::given(any()).respond_with(self).mount(server).await;
    }
}

fn body(status: u16, code: i64, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "code": code,
        "message": message,
        "request_id": FAKE_REQUEST_ID,
        "data": {},
    }))
}

impl Respond for FakeTikTok {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if let Err(reason) = check(req) {
            return body(200, PARAMETER_ERROR, &format!("{REFUSED}{reason}"));
        }
        let mut answer = body(self.status, self.code, &self.message);
        if let Some(s) = self.retry_after {
            answer = answer.insert_header("Retry-After", s.to_string().as_str());
        }
        answer
    }
}

/// Everything the fake insists on, as the first broken rule.
pub fn check(req: &Request) -> Result<(), String> {
    if req.method.as_str() != "POST" {
        return Err(format!("method {} instead of POST", req.method));
    }
    if req.url.path() != TRACK_PATH {
        return Err(format!("path {} instead of {TRACK_PATH}", req.url.path()));
    }
    if req.url.query().is_some() {
        return Err("a query string (the token belongs in the Access-Token header)".into());
    }
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
    if header("access-token").is_none_or(|t| t.trim().is_empty()) {
        return Err("no Access-Token header".into());
    }
    if !header("content-type").is_some_and(|c| c.starts_with("application/json")) {
        return Err("Content-Type is not application/json".into());
    }
    let body: Value =
        serde_json::from_slice(&req.body).map_err(|e| format!("body is not JSON: {e}"))?;
    if body["event_source"] != "web" {
        return Err(format!(
            "event_source {} instead of \"web\"",
            body["event_source"]
        ));
    }
    if body["event_source_id"].as_str().is_none_or(str::is_empty) {
        return Err("event_source_id is not a non-empty string".into());
    }
    if let Some(code) = body.get("test_event_code") {
        if !code.is_string() {
            return Err("test_event_code is not a string".into());
        }
    }
    let data = body["data"].as_array().ok_or("data is not an array")?;
    if data.is_empty() || data.len() > 1000 {
        return Err(format!("data has {} events (1 to 1000)", data.len()));
    }
    let now = Utc::now().timestamp();
    for (i, event) in data.iter().enumerate() {
        check_event(event, now).map_err(|e| format!("data[{i}]: {e}"))?;
    }
    Ok(())
}

fn check_event(event: &Value, now: i64) -> Result<(), String> {
    for key in ["event", "event_id"] {
        if event[key].as_str().is_none_or(str::is_empty) {
            return Err(format!("{key} is not a non-empty string"));
        }
    }
    match event["event_time"].as_i64() {
        Some(t) if t <= now => {}
        Some(t) => return Err(format!("event_time {t} is in the future")),
        None => return Err("event_time is not an integer (Unix seconds)".into()),
    }
    if let Some(user) = event.get("user") {
        let user = user.as_object().ok_or("user is not an object")?;
        for (key, value) in user {
            if !USER_KEYS.contains(&key.as_str()) {
                return Err(format!("user.{key} is not a field TikTok knows"));
            }
            let s = value
                .as_str()
                .filter(|s| !s.is_empty())
                .ok_or(format!("user.{key} is not a non-empty string"))?;
            let hex = s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            if HASHED.contains(&key.as_str()) && !hex {
                return Err(format!("user.{key} is not 64 lowercase hex"));
            }
        }
    }
    if let Some(page) = event.get("page") {
        for (key, value) in page.as_object().ok_or("page is not an object")? {
            if !value.is_string() {
                return Err(format!("page.{key} is not a string"));
            }
        }
    }
    if let Some(props) = event.get("properties") {
        if props.get("value").is_some_and(|v| !v.is_number()) {
            return Err("properties.value is not a number".into());
        }
        if props.get("currency").is_some_and(|c| !c.is_string()) {
            return Err("properties.currency is not a string".into());
        }
    }
    Ok(())
}

/// The `tiktok` object of a campaign on [`TIKTOK_PIXEL`] with [`TIKTOK_TOKEN`] and TikTok's
/// default map.
pub fn tiktok_settings() -> Value {
    json!({"pixel_code": TIKTOK_PIXEL, "access_token": TIKTOK_TOKEN})
}

/// One request the fake TikTok received.
#[derive(Debug, Clone)]
pub struct TikTokRequest {
    /// The `Access-Token` header.
    pub access_token: String,
    pub body: Value,
}

impl TestApp {
    /// `create_campaign` (Meta on pixel 1234567890) with TikTok added by the same POST;
    /// `extra` overrides fields (`"tiktok"` replaces the whole object; `"pixel_id": null,
    /// "access_token": null` makes it TikTok only). Both platforms get every conversion
    /// (`send_when: always`): these tests are about fan-out and delivery, with clicks that
    /// carry no platform signal; `send_when.rs` tests the default.
    pub async fn create_campaign_with_tiktok(&self, key: &str, extra: Value) -> Value {
        let mut tiktok = tiktok_settings();
        tiktok["send_when"] = json!("always");
        let mut body = json!({ "tiktok": tiktok, "meta_send_when": "always" });
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            body[k] = v;
        }
        if body["pixel_id"].is_null() && extra.get("pixel_id").is_some() {
            body.as_object_mut().unwrap().remove("meta_send_when");
        }
        self.create_campaign(key, body).await
    }

    /// `create_campaign` on Meta and TikTok with the default `send_when`.
    pub async fn create_campaign_on_both(&self, key: &str) -> Value {
        self.create_campaign(key, json!({ "tiktok": tiktok_settings() }))
            .await
    }

    /// Every request the fake TikTok received, in order. Each must have passed the fake's
    /// checks (a refusal means the server built a request TikTok would not take), and its
    /// `event_source_id` must be the TikTok pixel of every event it carries (looked up in the
    /// database).
    pub async fn tiktok_requests(&self) -> Vec<TikTokRequest> {
        let received = self.tiktok.received_requests().await.unwrap_or_default();
        let mut out = Vec::with_capacity(received.len());
        for r in &received {
            if let Err(reason) = check(r) {
                panic!("the fake TikTok refused a request: {reason}");
            }
            let body: Value = serde_json::from_slice(&r.body).expect("checked JSON");
            let pixel = body["event_source_id"]
                .as_str()
                .expect("checked")
                .to_owned();
            let ids: Vec<String> = body["data"]
                .as_array()
                .expect("checked")
                .iter()
                .map(|e| e["event_id"].as_str().expect("checked").to_owned())
                .collect();
            let pixels: Vec<(String, Option<String>)> = sqlx::query_as(
                "SELECT e.event_id, c.tiktok_pixel_code FROM events e \
                 JOIN campaigns c ON c.id = e.campaign_id \
                 WHERE e.platform = 'tiktok' AND e.event_id = ANY($1)",
            )
            .bind(&ids)
            .fetch_all(&self.pool)
            .await
            .expect("pixels of the TikTok events sent");
            for (id, code) in pixels {
                assert_eq!(
                    code.as_deref(),
                    Some(pixel.as_str()),
                    "TikTok event {id} went to pixel {pixel}"
                );
            }
            let access_token = r.headers["access-token"].to_str().unwrap().to_owned();
            out.push(TikTokRequest { access_token, body });
        }
        out
    }

    /// Every event the fake TikTok received, across requests.
    pub async fn tiktok_events(&self) -> Vec<Value> {
        self.tiktok_requests()
            .await
            .iter()
            .flat_map(|r| r.body["data"].as_array().cloned().unwrap_or_default())
            .collect()
    }
}
