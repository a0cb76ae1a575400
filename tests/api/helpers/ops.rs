//! Helpers of the operations tests: clicks and postbacks with personal data, and what\nthe database keeps of them.

use crate::helpers::*;
use serde_json::{json, Value};

pub const NETWORK_UA: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Mobile";

/// Status and JSON body of an answer.
pub async fn answer(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"));
    (status, body)
}

/// The exposition has exactly this line.
#[track_caller]
pub fn assert_line(text: &str, line: &str) {
    assert!(
        text.lines().any(|l| l == line),
        "no line {line:?} in:\n{text}"
    );
}

pub async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// A click on `offer1`, from a browser, with an email and an IP of its own.
pub fn click_body(click_id: &str) -> Value {
    json!({
        "campaign": "offer1",
        "click_id": click_id,
        "client_ip_address": "203.0.113.7",
        "em": "John_Smith@gmail.com",
    })
}

pub async fn click(app: &TestApp, click_id: &str) {
    let resp = app.register_click(click_body(click_id)).await;
    assert_eq!(resp.status(), 201, "register click {click_id}");
}

/// A keitaro postback that must be accepted with one event.
pub async fn accepted(app: &TestApp, query: &str) -> i64 {
    let (status, body) = answer(app.postback("keitaro", query).await).await;
    assert_eq!(status, 200, "{query}: {body}");
    assert_eq!(body["status"], "accepted", "{query}: {body}");
    body["conversion_id"].as_i64().expect("conversion_id")
}

/// A keitaro postback carrying the network's own IP, User-Agent and email.
pub fn with_pii(subid: &str, status: &str) -> String {
    format!(
        "subid={subid}&status={status}&tid=T-{subid}-{status}&ip=198.51.100.44&ua={}&em=John_Smith%40gmail.com&fbclid=IwAR_Network",
        urlencode(NETWORK_UA)
    )
}

/// Personal fields of the conversions of `click_id`: (ip, user_agent, em, fbclid) per row.
pub type Pii = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

pub async fn conversion_pii(app: &TestApp, click_id: &str) -> Vec<Pii> {
    sqlx::query_as(
        "SELECT ip, user_agent, em, fbclid FROM conversions WHERE click_id = $1 ORDER BY id",
    )
    .bind(click_id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// (event_name, state, payload present) of the events of `click_id`'s conversions.
pub async fn event_rows(app: &TestApp, click_id: &str) -> Vec<(String, String, bool)> {
    sqlx::query_as(
        "SELECT e.event_name, e.state, e.payload IS NOT NULL FROM events e \
         JOIN conversions c ON c.id = e.conversion_id WHERE c.click_id = $1 ORDER BY e.id",
    )
    .bind(click_id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}
