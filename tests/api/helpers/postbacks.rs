//! Helpers of the postback tests: clicks with known data, postbacks and their\nanswers, the one event a delivery pass sent, hashes of known values.

use crate::helpers::*;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

pub const EM_JOHN: &str = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";
pub const PH_US: &str = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176";
pub const FN_MARY: &str = "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec";
pub const LP_URL: &str = "https://lp.example.com/offer?utm_source=fb";
pub const REFERRER: &str = "https://l.facebook.com/";
pub const NETWORK_UA: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Mobile";

/// Registers `click_id` on `campaign` from 203.0.113.7 (plus `extra` fields); returns the click's
/// first-seen time as stored.
pub async fn click(app: &TestApp, campaign: &str, click_id: &str, extra: Value) -> DateTime<Utc> {
    let mut body = json!({
        "campaign": campaign,
        "click_id": click_id,
        "client_ip_address": "203.0.113.7",
    });
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        body[k] = v;
    }
    let resp = app.register_click(body).await;
    assert_eq!(resp.status(), 201, "register click {click_id}");
    first_seen(app, click_id).await
}

pub async fn first_seen(app: &TestApp, click_id: &str) -> DateTime<Utc> {
    sqlx::query_scalar("SELECT first_seen_at FROM clicks WHERE click_id = $1")
        .bind(click_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Status and JSON body of an answer.
pub async fn answer(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"));
    (status, body)
}

pub async fn postback(app: &TestApp, tracker: &str, query: &str) -> (u16, Value) {
    answer(app.postback(tracker, query).await).await
}

/// A postback the service must accept with one event; returns its conversion id.
pub async fn accepted(
    app: &TestApp,
    tracker: &str,
    query: &str,
    event_name: &str,
    event_id: &str,
) -> i64 {
    let (status, body) = postback(app, tracker, query).await;
    assert_eq!(status, 200, "{tracker}?{query}: {body}");
    assert_eq!(body["status"], "accepted", "{tracker}?{query}: {body}");
    assert_eq!(
        body["events"],
        json!([{"platform": "meta", "event_name": event_name, "event_id": event_id}]),
        "{tracker}?{query}"
    );
    body["conversion_id"].as_i64().expect("conversion_id")
}

/// Runs one delivery pass and returns the only event Meta received.
pub async fn deliver_one(app: &TestApp) -> Value {
    let report = app.deliver().await;
    assert_eq!(report.delivered, 1, "{report:?}");
    let events = app.graph_events().await;
    assert_eq!(events.len(), 1, "{events:#?}");
    events.into_iter().next().unwrap()
}

/// The event's `event_time`, checked to be the arrival time of a postback just sent.
/// The creation ms of an fbc built from a click first seen at `first_seen` for an event at
/// `event_time` (unix seconds): the click's time, never after the event's second.
pub fn fbc_ms(first_seen: DateTime<Utc>, event_time: i64) -> i64 {
    first_seen.timestamp_millis().min(event_time * 1000)
}

pub fn recent_time(event: &Value) -> i64 {
    let t = event["event_time"]
        .as_i64()
        .expect("event_time is unix seconds");
    assert!(
        (Utc::now().timestamp() - t).abs() < 60,
        "event_time {t} is not now"
    );
    t
}

pub async fn conversion(app: &TestApp, id: i64) -> Value {
    app.admin_get(&format!("/admin/v1/conversions/{id}")).await
}

pub async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&app.pool)
        .await
        .unwrap()
}
