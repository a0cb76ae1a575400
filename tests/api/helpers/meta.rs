//! The fake Graph API: Meta's answers (success, error bodies) that tests set up again and again,
//! and what it received.

use serde_json::{json, Value};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::TestApp;

/// Meta refuses every request from now on: the access token has expired (code 190, 463).
pub async fn refuses_the_token(app: &TestApp) {
    app.graph.reset().await;
    Mock::given(method("POST"))
        .respond_with(graph_error(
            400,
            190,
            Some(463),
            false,
            "The access token has expired.",
        ))
        .mount(&app.graph)
        .await;
}

/// Answers like Meta: `events_received` = the number of events in the request.
pub struct GraphOk;

impl Respond for GraphOk {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let n = serde_json::from_slice::<Value>(&req.body)
            .ok()
            .and_then(|b| b["data"].as_array().map(Vec::len))
            .unwrap_or(0);
        ResponseTemplate::new(200).set_body_json(
            json!({"events_received": n, "messages": [], "fbtrace_id": "AbFakeTrace"}),
        )
    }
}

/// Meta's error body.
pub fn graph_error(
    status: u16,
    code: i64,
    subcode: Option<i64>,
    transient: bool,
    user_msg: &str,
) -> ResponseTemplate {
    let mut error = json!({
        "message": "Invalid parameter",
        "type": "OAuthException",
        "code": code,
        "is_transient": transient,
        "error_user_msg": user_msg,
        "fbtrace_id": "AbErrTrace",
    });
    if let Some(s) = subcode {
        error["error_subcode"] = json!(s);
    }
    ResponseTemplate::new(status).set_body_json(json!({ "error": error }))
}

pub async fn mount_graph_ok(graph: &MockServer) {
    Mock::given(method("POST"))
        .and(path_regex(r"^/v[0-9]+\.[0-9]+/[0-9]+/events$"))
        .respond_with(GraphOk)
        .mount(graph)
        .await;
}

/// Every request the fake received, as (path, body).
pub async fn received(graph: &MockServer) -> Vec<(String, Value)> {
    graph
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            (
                r.url.path().to_owned(),
                serde_json::from_slice(&r.body).expect("graph request is JSON"),
            )
        })
        .collect()
}

impl TestApp {
    /// Every request body the fake Graph API received, in order. The fake answers any path, so
    /// this checks each request's path: `/{configured version}/{pixel}/events`, where the
    /// pixel is the pixel of the campaign of every event the request carries (looked up in the
    /// database; events whose campaign was deleted since cannot be checked).
    pub async fn graph_requests(&self) -> Vec<Value> {
        let received = self.graph.received_requests().await.unwrap_or_default();
        let mut bodies = Vec::with_capacity(received.len());
        for r in &received {
            assert_eq!(r.method.as_str(), "POST", "{} {}", r.method, r.url);
            let body: Value = serde_json::from_slice(&r.body).expect("graph request is JSON");
            let path = r.url.path();
            let ids: Vec<String> = body["data"]
                .as_array()
                .map(|d| {
                    d.iter()
                        .filter_map(|e| e["event_id"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let parts: Vec<&str> = path.split('/').collect();
            assert!(
                parts.len() == 4 && parts[0].is_empty() && parts[3] == "events",
                "a request went to {path}"
            );
            assert_eq!(
                parts[1], self.api_version,
                "a request went to {path}: not the configured API version"
            );
            let pixel = parts[2];
            let by_event: Vec<(String, Vec<String>)> = sqlx::query_as(
                "SELECT e.event_id, array_agg(DISTINCT c.pixel_id) FROM events e \
                 JOIN campaigns c ON c.id = e.campaign_id WHERE e.event_id = ANY($1) \
                 GROUP BY e.event_id",
            )
            .bind(&ids)
            .fetch_all(&self.pool)
            .await
            .expect("pixels of the events sent");
            for (id, pixels) in by_event {
                assert!(
                    pixels.iter().any(|p| p == pixel),
                    "event {id} of pixel {pixels:?} went to {path}"
                );
            }
            bodies.push(body);
        }
        bodies
    }

    /// Every event the fake Graph API received, across requests.
    pub async fn graph_events(&self) -> Vec<Value> {
        self.graph_requests()
            .await
            .iter()
            .flat_map(|r| r["data"].as_array().cloned().unwrap_or_default())
            .collect()
    }
}
