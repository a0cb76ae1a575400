//! The delivery worker against a fake Graph API: retries, Meta's error classes, batching,
//! bisection of invalid batches, expiry, several processes on one outbox, admin replays.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use capi_bridge::delivery::TickReport;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::outbox::{counts, event_states, make_due_now};
use crate::helpers::*;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A conversion the postback turned into a queued event.
#[derive(Debug, Clone)]
struct Queued {
    conversion_id: i64,
    event_id: String,
}

/// Registers click `click_id` on `campaign`, then a Keitaro lead postback for it.
async fn queue_lead_at(
    client: &reqwest::Client,
    base: &str,
    campaign: &str,
    click_id: &str,
) -> Queued {
    accepted(queue_lead_via(client, base, campaign, click_id).await)
}

fn accepted(body: Value) -> Queued {
    assert_eq!(body["status"], "accepted", "{body}");
    Queued {
        conversion_id: body["conversion_id"].as_i64().expect("conversion_id"),
        event_id: body["events"][0]["event_id"]
            .as_str()
            .expect("event_id")
            .to_owned(),
    }
}

async fn queue_lead(app: &TestApp, campaign: &str, click_id: &str) -> Queued {
    queue_lead_at(&app.client, &app.address, campaign, click_id).await
}

/// `n` clicks `{prefix}00000`... and their lead postbacks, 16 at a time; sorted by conversion.
async fn queue_leads(apps: &[&TestApp], campaign: &str, prefix: &str, n: usize) -> Vec<Queued> {
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
async fn queue_lead_at_time(
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
    accepted(resp.json().await.unwrap())
}

/// GET /admin/v1/conversions/{id}
async fn conversion(app: &TestApp, id: i64) -> Value {
    app.admin_get(&format!("/admin/v1/conversions/{id}")).await
}

fn time(v: &Value) -> DateTime<Utc> {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v} is not a time: {e}"))
}

fn outcomes(view: &Value) -> Vec<String> {
    view["attempts_log"]
        .as_array()
        .expect("attempts_log")
        .iter()
        .map(|a| a["outcome"].as_str().unwrap().to_owned())
        .collect()
}

/// Replaces every answer of the fake Graph API (and forgets what it received).
async fn graph_answers(graph: &MockServer, answer: impl Respond + 'static) {
    graph.reset().await;
    Mock::given(method("POST"))
        .respond_with(answer)
        .mount(graph)
        .await;
}

/// The event ids of one request body.
fn ids_in(request: &Value) -> Vec<String> {
    request["data"]
        .as_array()
        .expect("data is an array")
        .iter()
        .map(|e| e["event_id"].as_str().expect("event_id").to_owned())
        .collect()
}

fn event_ids(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect()
}

fn report(
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

/// Meta's error for requests whose `data` holds one of `bad`, Meta's success otherwise.
struct RejectEvents {
    bad: HashSet<String>,
    error: ResponseTemplate,
}

impl Respond for RejectEvents {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).expect("JSON body");
        if ids_in(&body).iter().any(|id| self.bad.contains(id)) {
            self.error.clone()
        } else {
            GraphOk.respond(req)
        }
    }
}

/// Meta's success, after a delay.
struct SlowOk(Duration);

impl Respond for SlowOk {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        GraphOk.respond(req).set_delay(self.0)
    }
}

// ---------------------------------------------------------------------------------------------
// 1-3: transient failures are retried
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn http_500_without_meta_body_is_retried_after_the_delay_and_recorded_sent_once() {
    let app = spawn_app_with(&["--delivery-retry-delays", "1s"]).await;
    app.graph.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .mount(&app.graph)
        .await;
    mount_graph_ok(&app.graph).await;
    app.create_campaign("retry500", json!({})).await;
    let q = queue_lead(&app, "retry500", "clk-500").await;

    let before = Utc::now();
    assert_eq!(app.deliver().await, report(1, 1, 0, 1, 0, 0));
    let after = Utc::now();
    let view = conversion(&app, q.conversion_id).await;
    assert_eq!(view["state"], "pending", "{view}");
    assert_eq!(view["attempts"], 1);
    assert_eq!(
        view["last_error"],
        "HTTP 500 without a Graph API error body"
    );
    let next = time(&view["next_attempt_at"]);
    assert!(next > Utc::now(), "next_attempt_at {next} is in the future");
    // 1 s plus at most 20 % jitter.
    assert!(
        next >= before + chrono::Duration::seconds(1),
        "{next} vs {before}"
    );
    assert!(
        next <= after + chrono::Duration::milliseconds(1200),
        "{next} vs {after}"
    );
    let log = &view["attempts_log"];
    assert_eq!(log.as_array().unwrap().len(), 1, "{log}");
    assert_eq!(log[0]["outcome"], "transient_error");
    assert_eq!(log[0]["http_status"], 500);
    assert_eq!(log[0]["error_code"], Value::Null);

    // Not due yet: nothing goes out.
    assert_eq!(app.deliver().await.claimed, 0);
    assert_eq!(app.graph_requests().await.len(), 1);

    // Passes until the retry goes (it must not go before it is due), 30 s at most.
    let retried = loop {
        let r = app.deliver().await;
        if r.claimed > 0 {
            assert!(Utc::now() >= next, "retried before {next}");
            break r;
        }
        assert!(
            Utc::now() < next + chrono::Duration::seconds(30),
            "not retried 30 s after {next}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(retried, report(1, 1, 1, 0, 0, 0));

    let requests = app.graph_requests().await;
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(
            ids_in(r),
            vec![q.event_id.clone()],
            "the retry carries the same event_id"
        );
        assert_eq!(r["access_token"], ACCESS_TOKEN);
        assert!(
            r.get("appsecret_proof").is_none(),
            "no app secret configured: {r}"
        );
        assert!(
            r.get("test_event_code").is_none(),
            "no test code configured: {r}"
        );
    }
    assert_eq!(
        requests[0]["data"], requests[1]["data"],
        "the payload is the same on retry"
    );

    let view = conversion(&app, q.conversion_id).await;
    assert_eq!(view["state"], "sent", "{view}");
    assert_eq!(view["attempts"], 2);
    assert_eq!(view["last_error"], Value::Null);
    assert_eq!(view["next_attempt_at"], Value::Null);
    assert!(view["sent_at"].is_string());
    assert_eq!(outcomes(&view), ["transient_error", "sent"]);
    assert_eq!(view["attempts_log"][1]["http_status"], 200);
    assert_eq!(view["attempts_log"][1]["fbtrace_id"], "AbFakeTrace");

    // Sent is final.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(app.deliver().await.claimed, 0);
    assert_eq!(app.graph_requests().await.len(), 2);
}

#[tokio::test]
async fn meta_code_2_with_http_500_and_not_transient_is_retried() {
    let app = spawn_app().await;
    graph_answers(
        &app.graph,
        graph_error(500, 2, None, false, "Service temporarily unavailable"),
    )
    .await;
    app.create_campaign("code2", json!({})).await;
    let q = queue_lead(&app, "code2", "clk-code2").await;

    let before = Utc::now();
    assert_eq!(app.deliver().await, report(1, 1, 0, 1, 0, 0));
    let after = Utc::now();
    let view = conversion(&app, q.conversion_id).await;
    assert_eq!(view["state"], "pending", "{view}");
    assert_eq!(view["attempts"], 1);
    assert_eq!(view["last_error"], "Service temporarily unavailable");
    // The default schedule starts at 10 s (+ up to 20 % jitter).
    let next = time(&view["next_attempt_at"]);
    assert!(next >= before + chrono::Duration::seconds(10), "{next}");
    assert!(next <= after + chrono::Duration::seconds(12), "{next}");
    let a = &view["attempts_log"][0];
    assert_eq!(
        (
            &a["outcome"],
            &a["http_status"],
            &a["error_code"],
            &a["fbtrace_id"]
        ),
        (
            &json!("transient_error"),
            &json!(500),
            &json!(2),
            &json!("AbErrTrace")
        )
    );
    let failed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE failure_class IS NOT NULL")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(failed, 0);

    // Meta recovers; the event goes again when due.
    graph_answers(&app.graph, GraphOk).await;
    make_due_now(&app).await;
    assert_eq!(app.deliver().await, report(1, 1, 1, 0, 0, 0));
    assert_eq!(event_ids(&app.graph_events().await), [q.event_id.as_str()]);
    let view = conversion(&app, q.conversion_id).await;
    assert_eq!(
        (&view["state"], &view["attempts"]),
        (&json!("sent"), &json!(2))
    );
    assert_eq!(outcomes(&view), ["transient_error", "sent"]);
}

#[tokio::test]
async fn rate_limit_429_with_retry_after_waits_at_least_that_long() {
    let app = spawn_app_with(&["--delivery-retry-delays", "1s"]).await;
    graph_answers(
        &app.graph,
        graph_error(429, 17, Some(2446079), false, "User request limit reached")
            .insert_header("Retry-After", "120"),
    )
    .await;
    app.create_campaign("ratelimited", json!({})).await;
    let q = queue_lead(&app, "ratelimited", "clk-429").await;

    let before = Utc::now();
    assert_eq!(app.deliver().await, report(1, 1, 0, 1, 0, 0));
    let after = Utc::now();
    let view = conversion(&app, q.conversion_id).await;
    assert_eq!(view["state"], "pending", "{view}");
    assert_eq!(view["attempts"], 1);
    let next = time(&view["next_attempt_at"]);
    assert!(
        next >= before + chrono::Duration::seconds(120),
        "Retry-After 120 honoured: {next} vs {before}"
    );
    assert!(
        next <= after + chrono::Duration::seconds(121),
        "{next} vs {after}"
    );
    let a = &view["attempts_log"][0];
    assert_eq!(
        (
            &a["outcome"],
            &a["http_status"],
            &a["error_code"],
            &a["error_subcode"]
        ),
        (
            &json!("transient_error"),
            &json!(429),
            &json!(17),
            &json!(2446079)
        )
    );

    // The schedule's own 1 s (+ jitter) is over, Retry-After is not: nothing is sent.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.deliver().await.claimed, 0);
    assert_eq!(app.graph_requests().await.len(), 1);
}

#[tokio::test]
async fn a_timeout_or_an_unreadable_200_is_retried_not_counted_as_delivered() {
    // The harness sets --delivery-timeout 2s; this answer would come after a minute.
    let app = spawn_app().await;
    app.graph.reset().await;
    Mock::given(method("POST"))
        .respond_with(SlowOk(Duration::from_secs(60)))
        .up_to_n_times(1)
        .mount(&app.graph)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>upstream proxy</html>"))
        .up_to_n_times(1)
        .mount(&app.graph)
        .await;
    mount_graph_ok(&app.graph).await;
    app.create_campaign("flaky", json!({})).await;
    let q = queue_lead(&app, "flaky", "clk-flaky").await;

    // Only the client's own timeout can end this pass before Meta's answer (60 s); 30 s is
    // a generous bound for a 2 s timeout on a busy machine.
    let pass = tokio::time::timeout(Duration::from_secs(30), app.deliver())
        .await
        .expect("the request to Meta was not timed out");
    assert_eq!(pass, report(1, 1, 0, 1, 0, 0));
    let view = conversion(&app, q.conversion_id).await;
    assert_eq!(view["state"], "pending", "{view}");
    assert!(
        view["last_error"].as_str().unwrap().starts_with("timeout"),
        "{view}"
    );
    assert_eq!(view["attempts_log"][0]["http_status"], Value::Null);

    make_due_now(&app).await;
    assert_eq!(app.deliver().await, report(1, 1, 0, 1, 0, 0));
    let view = conversion(&app, q.conversion_id).await;
    assert_eq!(
        (&view["state"], &view["attempts"]),
        (&json!("pending"), &json!(2)),
        "{view}"
    );
    assert_eq!(
        view["last_error"],
        "HTTP 200 without a Graph API error body"
    );

    make_due_now(&app).await;
    assert_eq!(app.deliver().await, report(1, 1, 1, 0, 0, 0));
    assert_eq!(
        event_ids(&app.graph_events().await),
        vec![q.event_id.clone(); 3]
    );
    let view = conversion(&app, q.conversion_id).await;
    assert_eq!(
        outcomes(&view),
        ["transient_error", "transient_error", "sent"]
    );
}

/// Each campaign's status is read for the whole pass: a new event of a campaign with events
/// parked on a token error is parked without a request, one of a campaign backing off waits for
/// that campaign's next retry, and a third campaign's event is sent.
#[tokio::test]
async fn new_events_follow_their_own_campaigns_parked_or_backing_off_status() {
    let app = spawn_app().await;
    graph_answers(&app.graph, GraphOk).await;
    for key in ["parked", "backoff", "fine"] {
        app.create_campaign(key, json!({})).await;
    }
    let old_parked = queue_lead(&app, "parked", "clk-p1").await;
    let old_backoff = queue_lead(&app, "backoff", "clk-b1").await;
    // The state earlier passes would have left: a token error, and a transient error.
    let retry_at: DateTime<Utc> = sqlx::query_scalar(
        "WITH p AS (UPDATE events SET state = 'failed', failure_class = 'auth' \
            WHERE conversion_id = $1), \
         b AS (UPDATE events SET attempts = 1, \
            next_attempt_at = date_trunc('second', now()) + interval '1 hour' \
            WHERE conversion_id = $2 RETURNING next_attempt_at) \
         SELECT next_attempt_at FROM b",
    )
    .bind(old_parked.conversion_id)
    .bind(old_backoff.conversion_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();

    let new_parked = queue_lead(&app, "parked", "clk-p2").await;
    let new_backoff = queue_lead(&app, "backoff", "clk-b2").await;
    let fine = queue_lead(&app, "fine", "clk-f1").await;
    assert_eq!(app.deliver().await, report(3, 1, 1, 0, 1, 0));

    let sent = app.graph_requests().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["data"][0]["event_id"], json!(fine.event_id));

    let parked = conversion(&app, new_parked.conversion_id).await;
    assert_eq!(parked["state"], "failed", "{parked}");
    assert_eq!(
        parked["last_error"],
        "not sent: Meta refused this campaign's access token or pixel; \
         waiting for a new access_token or pixel_id"
    );
    let waiting = conversion(&app, new_backoff.conversion_id).await;
    assert_eq!(waiting["state"], "pending", "{waiting}");
    assert_eq!(waiting["attempts"], 0);
    let next: DateTime<Utc> = serde_json::from_value(waiting["next_attempt_at"].clone()).unwrap();
    assert_eq!(next, retry_at, "held until the campaign's next retry");
}

// ---------------------------------------------------------------------------------------------
// 4: token errors park the events until the token changes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn token_error_parks_the_event_until_patch_gives_a_new_token() {
    let app = spawn_app().await;
    let expired_token_msg = "Error validating access token: Session has expired on Tuesday, \
                             24-Nov-26 10:00:00 PST. The current time is Thursday, 26-Nov-26.";
    // Meta has answered 190 with HTTP 500: the code decides, not the status.
    graph_answers(
        &app.graph,
        ResponseTemplate::new(500).set_body_json(json!({"error": {
            "message": expired_token_msg, "type": "OAuthException", "code": 190,
            "error_subcode": 463, "fbtrace_id": "AbTokenTrace"}})),
    )
    .await;
    app.create_campaign("tok", json!({})).await;
    let q = queue_lead(&app, "tok", "clk-tok").await;

    assert_eq!(app.deliver().await, report(1, 1, 0, 0, 1, 0));
    let view = conversion(&app, q.conversion_id).await;
    assert_eq!(view["state"], "failed", "{view}");
    assert_eq!(view["attempts"], 1);
    assert_eq!(view["last_error"], expired_token_msg);
    assert_eq!(view["next_attempt_at"], Value::Null);
    let a = &view["attempts_log"][0];
    assert_eq!(
        (
            &a["outcome"],
            &a["http_status"],
            &a["error_code"],
            &a["error_subcode"],
            &a["message"],
            &a["fbtrace_id"]
        ),
        (
            &json!("auth_error"),
            &json!(500),
            &json!(190),
            &json!(463),
            &json!(expired_token_msg),
            &json!("AbTokenTrace")
        )
    );
    let class: Option<String> = sqlx::query_scalar("SELECT failure_class FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(class.as_deref(), Some("auth"));

    // Parked: further passes send nothing, even when the retry time has come.
    sqlx::query("UPDATE events SET next_attempt_at = now() - interval '1 minute'")
        .execute(&app.pool)
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(app.deliver().await.claimed, 0);
    }
    assert_eq!(app.graph_requests().await.len(), 1);

    // A change that is not the token or the pixel leaves it parked.
    let resp = app
        .admin(
            Method::PATCH,
            "/admin/v1/campaigns/tok",
            Some(json!({"name": "Renamed"})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(conversion(&app, q.conversion_id).await["state"], "failed");
    assert_eq!(app.deliver().await.claimed, 0);

    // A new token re-queues it; the next pass uses the new token.
    graph_answers(&app.graph, GraphOk).await;
    let new_token = "EAAnew-token-after-refresh-42";
    let resp = app
        .admin(
            Method::PATCH,
            "/admin/v1/campaigns/tok",
            Some(json!({"access_token": new_token})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body.get("access_token").is_none(),
        "the token is write-only: {body}"
    );
    let view = conversion(&app, q.conversion_id).await;
    assert_eq!(view["state"], "pending", "{view}");

    assert_eq!(app.deliver().await, report(1, 1, 1, 0, 0, 0));
    let requests = app.graph_requests().await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["access_token"], new_token);
    assert_eq!(ids_in(&requests[0]), [q.event_id.as_str()]);
    let view = conversion(&app, q.conversion_id).await;
    assert_eq!(
        (&view["state"], &view["attempts"], &view["last_error"]),
        (&json!("sent"), &json!(2), &Value::Null)
    );
    assert_eq!(outcomes(&view), ["auth_error", "sent"]);
}

// ---------------------------------------------------------------------------------------------
// 5: one invalid event does not hold back the batch
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn one_invalid_event_in_fifty_is_isolated_and_the_other_49_are_sent() {
    let app = spawn_app().await;
    app.create_campaign("bisect", json!({})).await;
    let queued = queue_leads(&[&app], "bisect", "bis", 50).await;
    let bad = queued[17].clone();
    let message = format!("Invalid event {}", bad.event_id);
    graph_answers(
        &app.graph,
        RejectEvents {
            bad: HashSet::from([bad.event_id.clone()]),
            error: graph_error(400, 100, None, false, &message),
        },
    )
    .await;

    let r = app.deliver().await;
    assert_eq!(
        (r.claimed, r.delivered, r.failed, r.retrying, r.expired),
        (50, 49, 1, 0, 0),
        "{r:?}"
    );
    let requests = app.graph_requests().await;
    assert_eq!(r.requests, requests.len());
    assert_eq!(
        ids_in(&requests[0]).len(),
        50,
        "the first request carries the whole batch"
    );
    // Bisection: at most two requests per halving of 50.
    assert!(requests.len() <= 13, "{} requests", requests.len());

    let mut accepted: Vec<String> = Vec::new();
    for r in &requests {
        let ids = ids_in(r);
        if !ids.contains(&bad.event_id) {
            accepted.extend(ids);
        }
    }
    let good: HashSet<String> = queued
        .iter()
        .filter(|q| q.event_id != bad.event_id)
        .map(|q| q.event_id.clone())
        .collect();
    assert_eq!(accepted.len(), 49, "each good event accepted exactly once");
    assert_eq!(accepted.iter().cloned().collect::<HashSet<_>>(), good);
    // The last request that carried the bad event carried it alone.
    let alone = requests
        .iter()
        .filter(|r| ids_in(r) == [bad.event_id.clone()])
        .count();
    assert_eq!(alone, 1);

    assert_eq!(
        event_states(&app, None).await,
        counts(&[("sent", 49), ("failed", 1)])
    );
    let view = conversion(&app, bad.conversion_id).await;
    assert_eq!(view["state"], "failed", "{view}");
    assert_eq!(view["last_error"], message);
    assert_eq!(view["attempts"], 1);
    let a = &view["attempts_log"][0];
    assert_eq!(
        (
            &a["outcome"],
            &a["http_status"],
            &a["error_code"],
            &a["message"]
        ),
        (&json!("invalid"), &json!(400), &json!(100), &json!(message))
    );
    let class: String =
        sqlx::query_scalar("SELECT failure_class FROM events WHERE state = 'failed'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(class, "invalid");
    let good_view = conversion(&app, queued[0].conversion_id).await;
    assert_eq!(
        (&good_view["state"], &good_view["attempts"]),
        (&json!("sent"), &json!(1))
    );

    // Nothing is left to do: the invalid event waits for a manual retry.
    make_due_now(&app).await;
    assert_eq!(app.deliver().await.claimed, 0);
    assert_eq!(app.graph_requests().await.len(), requests.len());
}

// ---------------------------------------------------------------------------------------------
// 6: events older than Meta accepts
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_event_eight_days_old_expires_without_being_sent() {
    let app = spawn_app().await;
    app.create_campaign("old", json!({})).await;
    let now = Utc::now();
    let old = queue_lead_at_time(&app, "old", "clk-8d", now - chrono::Duration::days(8)).await;
    let six_days = queue_lead_at_time(&app, "old", "clk-6d", now - chrono::Duration::days(6)).await;
    let fresh = queue_lead(&app, "old", "clk-now").await;

    let r = app.deliver().await;
    // (`expired` in the report is checked by `the_tick_report_counts_events_expired_before_sending`.)
    assert_eq!(
        (r.claimed, r.requests, r.delivered, r.retrying, r.failed),
        (3, 1, 2, 0, 0),
        "{r:?}"
    );
    let events = app.graph_events().await;
    let mut sent = event_ids(&events);
    sent.sort();
    let mut expected = vec![six_days.event_id.clone(), fresh.event_id.clone()];
    expected.sort();
    assert_eq!(sent, expected, "the old event never reaches Meta");
    let six = events
        .iter()
        .find(|e| e["event_id"] == six_days.event_id.as_str())
        .unwrap();
    assert_eq!(
        six["event_time"],
        (now - chrono::Duration::days(6)).timestamp()
    );

    let view = conversion(&app, old.conversion_id).await;
    assert_eq!(view["state"], "expired", "{view}");
    assert_eq!(view["attempts"], 0);
    assert_eq!(
        view["last_error"],
        "event_time is older than Meta accepts (7 days); never sent"
    );
    assert_eq!(view["attempts_log"], json!([]));
    assert_eq!(view["sent_at"], Value::Null);

    make_due_now(&app).await;
    assert_eq!(app.deliver().await.claimed, 0);
    assert_eq!(app.graph_requests().await.len(), 1);
}

#[tokio::test]
async fn the_tick_report_counts_events_expired_before_sending() {
    let app = spawn_app().await;
    app.create_campaign("oldcount", json!({})).await;
    let old = queue_lead_at_time(
        &app,
        "oldcount",
        "clk-old",
        Utc::now() - chrono::Duration::days(8),
    )
    .await;
    assert_eq!(app.deliver().await, report(1, 0, 0, 0, 0, 1));
    assert_eq!(
        conversion(&app, old.conversion_id).await["state"],
        "expired"
    );
}

/// Meta fails the whole request when one event is too old for it (clock skew, an event at the
/// 7-day edge): only that event is expired, the others must still be delivered.
#[tokio::test]
async fn metas_too_old_answer_expires_only_the_offending_event_of_a_batch() {
    let app = spawn_app().await;
    app.create_campaign("edge", json!({})).await;
    let edge_time = Utc::now() - chrono::Duration::days(7) + chrono::Duration::minutes(2);
    let edge = queue_lead_at_time(&app, "edge", "clk-edge", edge_time).await;
    let others = queue_leads(&[&app], "edge", "ok", 3).await;
    graph_answers(
        &app.graph,
        RejectEvents {
            bad: HashSet::from([edge.event_id.clone()]),
            error: graph_error(
                400,
                100,
                Some(2_804_003),
                false,
                "The timestamp for this event is too far in the past.",
            ),
        },
    )
    .await;

    app.deliver().await;
    assert_eq!(
        event_states(&app, None).await,
        counts(&[("sent", 3), ("expired", 1)])
    );
    assert_eq!(
        conversion(&app, edge.conversion_id).await["state"],
        "expired"
    );
    let accepted: HashSet<String> = app
        .graph_requests()
        .await
        .iter()
        .map(ids_in)
        .filter(|ids| !ids.contains(&edge.event_id))
        .flatten()
        .collect();
    assert_eq!(
        accepted,
        others.iter().map(|q| q.event_id.clone()).collect()
    );
}

// ---------------------------------------------------------------------------------------------
// 7: Meta's 1,000-event limit
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn fifteen_hundred_events_for_one_pixel_go_in_two_requests_in_one_pass() {
    // 1500 new clicks from one address in seconds: more than a browser's budget.
    let app = spawn_app_with(&["--click-address-new-limit", "off"]).await;
    app.create_campaign("bulk", json!({})).await;
    let started = Instant::now();
    let queued = queue_leads(&[&app], "bulk", "bulk", 1500).await;
    eprintln!("queued 1500 events in {:?}", started.elapsed());

    let r = app.deliver().await;
    assert_eq!(r, report(1500, 2, 1500, 0, 0, 0));
    let requests = app.graph_requests().await;
    let mut sizes: Vec<usize> = requests.iter().map(|r| ids_in(r).len()).collect();
    sizes.sort();
    assert_eq!(sizes, [500, 1000]);
    for r in &requests {
        assert_eq!(r["access_token"], ACCESS_TOKEN);
    }
    let received: Vec<String> = requests.iter().flat_map(ids_in).collect();
    let unique: HashSet<&String> = received.iter().collect();
    assert_eq!(unique.len(), 1500, "no event twice");
    let expected: HashSet<String> = queued.iter().map(|q| q.event_id.clone()).collect();
    assert_eq!(received.into_iter().collect::<HashSet<_>>(), expected);
    assert_eq!(event_states(&app, None).await, counts(&[("sent", 1500)]));
}

// ---------------------------------------------------------------------------------------------
// 8: several processes on one outbox
// ---------------------------------------------------------------------------------------------

/// Two real `capi-bridge serve` processes (the compiled binary) on one database, each with its
/// own fake Graph API, so what each process sent is counted apart: both must have delivered
/// events, every event must reach "Meta" exactly once, at its campaign's pixel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_database_never_send_an_event_twice() {
    const PER_CAMPAIGN: usize = 100;
    let campaigns = [
        ("mpa", "1111111111"),
        ("mpb", "2222222222"),
        ("mpc", "3333333333"),
    ];
    let database_url = fresh_database().await;
    // Meta takes a while to answer, so one process's requests are in flight while the other
    // polls: the lease, not luck, must keep the second away from those events. Small batches
    // (25, two requests at a time) leave work for both.
    let slow = Duration::from_millis(150);
    let fakes = [MockServer::start().await, MockServer::start().await];
    for fake in &fakes {
        graph_answers(fake, SlowOk(slow)).await;
    }
    let settings = [("DELIVERY_BATCH_MAX", "25"), ("DELIVERY_CONCURRENCY", "2")];
    let mut one = spawn_serve(&database_url, &fakes[0].uri(), &settings).await;
    for (key, pixel) in campaigns {
        one.create_campaign(key, pixel).await;
    }
    let mut two = spawn_serve(&database_url, &fakes[1].uri(), &settings).await;
    let pool = sqlx::PgPool::connect(&database_url).await.unwrap();

    // Postbacks spread over both processes and the three campaigns, 16 at a time.
    let started = Instant::now();
    let mut expected: HashMap<String, &str> = HashMap::new();
    let work: Vec<(String, &str, &str)> = (0..PER_CAMPAIGN)
        .flat_map(|i| campaigns.map(|(key, pixel)| (format!("{key}{i:04}"), key, pixel)))
        .collect();
    for (c, chunk) in work.chunks(16).enumerate() {
        let mut set = tokio::task::JoinSet::new();
        for (i, (click_id, key, _)) in chunk.iter().enumerate() {
            let process = if (c * 16 + i) % 2 == 0 { &one } else { &two };
            let (client, base) = (process.client.clone(), process.base.clone());
            let (key, click_id) = (key.to_string(), click_id.clone());
            set.spawn(async move { queue_lead_at(&client, &base, &key, &click_id).await });
        }
        while let Some(done) = set.join_next().await {
            let q = done.expect("queueing task");
            let pixel = chunk
                .iter()
                .find(|(click_id, _, _)| q.event_id.ends_with(click_id.as_str()))
                .map(|(_, _, pixel)| *pixel)
                .expect("the event id names its click");
            assert!(expected.insert(q.event_id, pixel).is_none());
        }
    }
    let total = campaigns.len() * PER_CAMPAIGN;
    assert_eq!(expected.len(), total);

    wait_for("every event sent", Duration::from_secs(60), || async {
        let sent: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE state = 'sent'")
            .fetch_one(&pool)
            .await
            .unwrap();
        if sent == total as i64 {
            Ok(())
        } else {
            Err(format!("{sent} of {total} sent"))
        }
    })
    .await;
    eprintln!(
        "{total} postbacks queued and delivered by two processes in {:?}",
        started.elapsed()
    );
    // Both stop gracefully: nothing they sent can still be on its way to a fake.
    for process in [&mut one, &mut two] {
        let (status, _) = process.terminate().await;
        assert!(status.success(), "{status}: {}", process.logs());
    }

    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut per_process = Vec::new();
    for fake in &fakes {
        let mut events = 0;
        for (path, body) in received(fake).await {
            for event in body["data"].as_array().expect("data") {
                let id = event["event_id"].as_str().expect("event_id").to_owned();
                let pixel = expected
                    .get(&id)
                    .unwrap_or_else(|| panic!("an event nobody queued: {id}"));
                assert_eq!(path, format!("/v26.0/{pixel}/events"), "event {id}");
                *seen.entry(id).or_default() += 1;
                events += 1;
            }
        }
        per_process.push(events);
    }
    eprintln!(
        "process one sent {}, process two sent {}",
        per_process[0], per_process[1]
    );
    assert!(
        per_process.iter().all(|n| *n > 0),
        "both processes must have claimed and sent events: {per_process:?}"
    );
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "received more than once: {twice:?}");
    assert_eq!(
        seen.keys().collect::<HashSet<_>>(),
        expected.keys().collect::<HashSet<_>>(),
        "every event reached Meta"
    );
    let attempts: Vec<(i32, i64)> =
        sqlx::query_as("SELECT attempts, count(*) FROM events GROUP BY attempts")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(attempts, [(1, total as i64)]);
    let logged: i64 = sqlx::query_scalar("SELECT count(*) FROM delivery_attempts")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(logged, total as i64);
    let leased: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE lease_owner IS NOT NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(leased, 0);
}

// ---------------------------------------------------------------------------------------------
// 9: admin replay
// ---------------------------------------------------------------------------------------------

async fn post_retry(app: &TestApp, path: &str) -> (u16, Value) {
    let resp = app.admin(Method::POST, path, None).await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn admin_retry_requeues_failed_events_and_refuses_sent_or_expired_ones() {
    let app = spawn_app().await;
    app.create_campaign("replay", json!({})).await;
    app.create_campaign("other", json!({})).await;
    graph_answers(
        &app.graph,
        graph_error(400, 100, None, false, "Invalid parameter value"),
    )
    .await;

    // One failed event, replayed on its own.
    let a = queue_lead(&app, "replay", "clk-a").await;
    assert_eq!(app.deliver().await, report(1, 1, 0, 0, 1, 0));
    assert_eq!(conversion(&app, a.conversion_id).await["state"], "failed");
    assert_eq!(
        post_retry(
            &app,
            &format!("/admin/v1/conversions/{}/retry", a.conversion_id)
        )
        .await,
        (200, json!({"requeued": 1}))
    );
    let view = conversion(&app, a.conversion_id).await;
    assert_eq!(view["state"], "pending", "{view}");
    graph_answers(&app.graph, GraphOk).await;
    assert_eq!(app.deliver().await, report(1, 1, 1, 0, 0, 0));
    assert_eq!(event_ids(&app.graph_events().await), [a.event_id.as_str()]);
    let view = conversion(&app, a.conversion_id).await;
    assert_eq!(
        (&view["state"], &view["attempts"]),
        (&json!("sent"), &json!(2))
    );
    assert_eq!(outcomes(&view), ["invalid", "sent"]);

    // Sent: 409, nothing re-sent.
    let (status, body) = post_retry(
        &app,
        &format!("/admin/v1/conversions/{}/retry", a.conversion_id),
    )
    .await;
    assert_eq!(
        (status, &body["code"]),
        (409, &json!("not_retryable")),
        "{body}"
    );
    assert_eq!(conversion(&app, a.conversion_id).await["state"], "sent");

    // Expired: 409, stays expired.
    let old = queue_lead_at_time(
        &app,
        "replay",
        "clk-old",
        Utc::now() - chrono::Duration::days(8),
    )
    .await;
    assert_eq!(app.deliver().await.requests, 0);
    assert_eq!(
        conversion(&app, old.conversion_id).await["state"],
        "expired"
    );
    let (status, body) = post_retry(
        &app,
        &format!("/admin/v1/conversions/{}/retry", old.conversion_id),
    )
    .await;
    assert_eq!(
        (status, &body["code"]),
        (409, &json!("not_retryable")),
        "{body}"
    );
    assert_eq!(
        conversion(&app, old.conversion_id).await["state"],
        "expired"
    );

    // A campaign's failed events all go back; another campaign's stay failed.
    graph_answers(
        &app.graph,
        graph_error(400, 100, None, false, "Invalid parameter value"),
    )
    .await;
    let failing = queue_leads(&[&app], "replay", "fail", 3).await;
    let elsewhere = queue_lead(&app, "other", "clk-other").await;
    let r = app.deliver().await;
    assert_eq!((r.claimed, r.failed, r.delivered), (4, 4, 0), "{r:?}");
    assert_eq!(
        post_retry(&app, "/admin/v1/campaigns/replay/retry-failed").await,
        (
            200,
            json!({"requeued": 3, "still_failed": 0, "more": false})
        )
    );
    assert_eq!(
        conversion(&app, elsewhere.conversion_id).await["state"],
        "failed"
    );
    assert_eq!(
        conversion(&app, old.conversion_id).await["state"],
        "expired"
    );
    graph_answers(&app.graph, GraphOk).await;
    assert_eq!(app.deliver().await, report(3, 1, 3, 0, 0, 0));
    let mut sent = event_ids(&app.graph_events().await);
    sent.sort();
    let mut expected: Vec<String> = failing.iter().map(|q| q.event_id.clone()).collect();
    expected.sort();
    assert_eq!(sent, expected);
    for q in &failing {
        assert_eq!(conversion(&app, q.conversion_id).await["state"], "sent");
    }
    assert_eq!(
        conversion(&app, elsewhere.conversion_id).await["state"],
        "failed"
    );
    // Nothing failed is left in the campaign.
    assert_eq!(
        post_retry(&app, "/admin/v1/campaigns/replay/retry-failed").await,
        (
            200,
            json!({"requeued": 0, "still_failed": 0, "more": false})
        )
    );
    let (status, _) = post_retry(&app, "/admin/v1/campaigns/nope/retry-failed").await;
    assert_eq!(status, 404);
}

// ---------------------------------------------------------------------------------------------
// 10-11: request fields
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn requests_carry_appsecret_proof_when_an_app_secret_is_set() {
    let secret = "meta-app-secret-0f1e2d3c";
    let app = spawn_app_with(&["--meta-app-secret", secret]).await;
    app.create_campaign("proof", json!({})).await;
    let q = queue_lead(&app, "proof", "clk-proof").await;
    assert_eq!(app.deliver().await.delivered, 1);

    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(ACCESS_TOKEN.as_bytes());
    let expected = hex::encode(mac.finalize().into_bytes());
    let requests = app.graph_requests().await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["appsecret_proof"], expected);
    assert_eq!(requests[0]["access_token"], ACCESS_TOKEN);
    assert_eq!(ids_in(&requests[0]), [q.event_id]);
}

/// Each campaign's events go to its own pixel's path, in the configured API version
/// (`graph_requests` checks every request's path against its events' campaign).
#[tokio::test]
async fn campaigns_on_different_pixels_go_to_their_own_pixel() {
    let app = spawn_app_with(&["--meta-api-version", "v25.0"]).await;
    app.create_campaign("pixa", json!({"pixel_id": "1111111111"}))
        .await;
    app.create_campaign("pixb", json!({"pixel_id": "2222222222"}))
        .await;
    let a = queue_leads(&[&app], "pixa", "pa", 3).await;
    let b = queue_leads(&[&app], "pixb", "pb", 2).await;

    assert_eq!(app.deliver().await, report(5, 2, 5, 0, 0, 0));
    assert_eq!(app.graph_requests().await.len(), 2);
    let mut by_path: HashMap<String, HashSet<String>> = HashMap::new();
    for r in app.graph.received_requests().await.unwrap() {
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        by_path
            .entry(r.url.path().to_owned())
            .or_default()
            .extend(ids_in(&body));
    }
    let ids = |qs: &[Queued]| {
        qs.iter()
            .map(|q| q.event_id.clone())
            .collect::<HashSet<_>>()
    };
    assert_eq!(
        by_path,
        HashMap::from([
            ("/v25.0/1111111111/events".to_owned(), ids(&a)),
            ("/v25.0/2222222222/events".to_owned(), ids(&b)),
        ])
    );
}

#[tokio::test]
async fn campaigns_on_one_pixel_with_different_test_codes_go_in_separate_requests() {
    let app = spawn_app().await;
    app.create_campaign("testa", json!({"test_event_code": "TESTA111"}))
        .await;
    app.create_campaign("testb", json!({"test_event_code": "TESTB222"}))
        .await;
    app.create_campaign("prod", json!({})).await;
    let a = queue_leads(&[&app], "testa", "ta", 2).await;
    let b = queue_leads(&[&app], "testb", "tb", 2).await;
    let p = queue_leads(&[&app], "prod", "pr", 2).await;

    assert_eq!(app.deliver().await, report(6, 3, 6, 0, 0, 0));
    let mut by_code: HashMap<String, HashSet<String>> = HashMap::new();
    for r in app.graph_requests().await {
        let code = match r.get("test_event_code") {
            None => "(none)".to_owned(),
            Some(c) => c.as_str().expect("a string code").to_owned(),
        };
        let previous = by_code.insert(code.clone(), ids_in(&r).into_iter().collect());
        assert!(previous.is_none(), "two requests for {code}");
    }
    let ids = |qs: &[Queued]| {
        qs.iter()
            .map(|q| q.event_id.clone())
            .collect::<HashSet<_>>()
    };
    assert_eq!(
        by_code,
        HashMap::from([
            ("TESTA111".to_owned(), ids(&a)),
            ("TESTB222".to_owned(), ids(&b)),
            ("(none)".to_owned(), ids(&p)),
        ])
    );
}
