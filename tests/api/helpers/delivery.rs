//! Helpers of the delivery worker tests: queueing leads, reading a conversion's\nattempts, and the fake Graph API's answers (errors for chosen events, slow successes).

use crate::helpers::*;
use capi_bridge::delivery::TickReport;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Registers click `click_id` on `campaign`, then a Keitaro lead postback for it.
pub async fn queue_lead_at(
    client: &reqwest::Client,
    base: &str,
    campaign: &str,
    click_id: &str,
) -> Queued {
    Queued::from_answer(queue_lead_via(client, base, campaign, click_id).await)
}

/// `n` clicks `{prefix}00000`... and their lead postbacks, 16 at a time; sorted by conversion.
pub async fn queue_leads(apps: &[&TestApp], campaign: &str, prefix: &str, n: usize) -> Vec<Queued> {
    let ids: Vec<String> = (0..n).map(|i| format!("{prefix}{i:05}")).collect();
    let mut out = Vec::with_capacity(n);
    for (c, chunk) in ids.chunks(16).enumerate() {
        let mut set = tokio::task::JoinSet::new();
        for (i, click_id) in chunk.iter().enumerate() {
            // Spread the postbacks over the processes given.
            let app = apps[(c * 16 + i) % apps.len()];
            let (client, base) = (app.client.clone(), app.address.clone());
            let (campaign, click_id) = (campaign.to_owned(), click_id.clone());
            set.spawn(async move { queue_lead_at(&client, &base, &campaign, &click_id).await });
        }
        while let Some(done) = set.join_next().await {
            out.push(done.expect("queueing task"));
        }
    }
    out.sort_by_key(|q| q.conversion_id);
    out
}

/// A lead postback through the generic dialect with its own `event_time`.
pub async fn queue_lead_at_time(
    app: &TestApp,
    campaign: &str,
    click_id: &str,
    at: DateTime<Utc>,
) -> Queued {
    let resp = app
        .register_click(json!({"campaign": campaign, "click_id": click_id}))
        .await;
    assert_eq!(resp.status(), 201);
    let resp = app
        .postback(
            "generic",
            &format!(
                "click_id={click_id}&status=lead&event_time={}",
                at.timestamp()
            ),
        )
        .await;
    assert_eq!(resp.status(), 200);
    Queued::from_answer(resp.json().await.unwrap())
}

/// GET /admin/v1/conversions/{id}
pub async fn conversion(app: &TestApp, id: i64) -> Value {
    app.admin_get(&format!("/admin/v1/conversions/{id}")).await
}

pub fn time(v: &Value) -> DateTime<Utc> {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v} is not a time: {e}"))
}

pub fn outcomes(view: &Value) -> Vec<String> {
    view["attempts_log"]
        .as_array()
        .expect("attempts_log")
        .iter()
        .map(|a| a["outcome"].as_str().unwrap().to_owned())
        .collect()
}

/// Replaces every answer of the fake Graph API (and forgets what it received).
pub async fn graph_answers(graph: &MockServer, answer: impl Respond + 'static) {
    graph.reset().await;
    Mock::given(method("POST"))
        .respond_with(answer)
        .mount(graph)
        .await;
}

/// The event ids of one request body.
pub fn ids_in(request: &Value) -> Vec<String> {
    request["data"]
        .as_array()
        .expect("data is an array")
        .iter()
        .map(|e| e["event_id"].as_str().expect("event_id").to_owned())
        .collect()
}

pub fn event_ids(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect()
}

pub fn report(
    claimed: usize,
    requests: usize,
    delivered: usize,
    retrying: usize,
    failed: usize,
    expired: usize,
) -> TickReport {
    TickReport {
        resolved_unmatched: 0,
        claimed,
        requests,
        delivered,
        retrying,
        failed,
        expired,
    }
}

/// Meta's success, after a delay.
pub struct SlowOk(pub Duration);

impl Respond for SlowOk {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        GraphOk.respond(req).set_delay(self.0)
    }
}
