//! Helpers of the two-platform delivery tests: leads, what each platform received and\nthe outbox rows of each.

use crate::helpers::*;
use capi_bridge::delivery::TickReport;
use serde_json::Value;
use std::collections::HashMap;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Respond};

pub const TTCLID: &str = "E.C.P.CqgBx9Z3eWc-Ab_1";
pub const TTP: &str = "2Nf3kJ8qL0xYzAbCdEfGhIjKlMn";

/// Registers `click` (a JSON click body without campaign and click id) and sends a generic lead
/// postback for it; returns the postback's `events` answer.
pub async fn lead(app: &TestApp, campaign: &str, click_id: &str, click: Value) -> Value {
    let answer = app.click_and_lead(campaign, click_id, click).await;
    assert_eq!(answer["status"], "accepted", "{answer}");
    answer["events"].clone()
}

/// `(platform, event id)` of each event a postback answered with.
pub fn answered(events: &Value) -> Vec<(String, String)> {
    events
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["platform"].as_str().unwrap().to_owned(),
                e["event_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

pub fn ids(events: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = events
        .iter()
        .map(|e| e["event_id"].as_str().expect("event_id").to_owned())
        .collect();
    ids.sort();
    ids
}

pub fn sorted(ids: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// One outbox row, as the tests look at it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub state: String,
    pub failure_class: Option<String>,
    pub attempts: i32,
}

/// The outbox by (platform, event id).
pub async fn outbox(app: &TestApp) -> HashMap<(String, String), Row> {
    let rows: Vec<(String, String, String, Option<String>, i32)> = sqlx::query_as(
        "SELECT platform, event_id, state, failure_class, attempts FROM events ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(p, id, state, failure_class, attempts)| {
            let row = Row {
                state,
                failure_class,
                attempts,
            };
            ((p, id), row)
        })
        .collect()
}

/// Replaces every answer of a fake (and forgets what it received).
pub async fn answers(server: &MockServer, answer: impl Respond + 'static) {
    server.reset().await;
    Mock::given(any()).respond_with(answer).mount(server).await;
}

pub fn report(claimed: usize, requests: usize, delivered: usize, retrying: usize) -> TickReport {
    TickReport {
        claimed,
        requests,
        delivered,
        retrying,
        ..TickReport::default()
    }
}

/// The last attempt at TikTok for an event: (outcome, HTTP status, code, trace id).
pub async fn last_tiktok_attempt(
    app: &TestApp,
    event_id: &str,
) -> (String, Option<i32>, Option<i32>, Option<String>) {
    sqlx::query_as(
        "SELECT a.outcome, a.http_status, a.error_code, a.fbtrace_id FROM delivery_attempts a \
         JOIN events e ON e.id = a.event_row_id \
         WHERE e.platform = 'tiktok' AND e.event_id = $1 ORDER BY a.id DESC LIMIT 1",
    )
    .bind(event_id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}
