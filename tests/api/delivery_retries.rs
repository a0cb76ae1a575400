//! The delivery worker against a fake Graph API: transient failures (5xx, 429 with\nRetry-After, timeouts, unreadable answers) are retried, each campaign backing off on its own.

use crate::helpers::delivery::*;
use crate::helpers::outbox::{counts, event_states, make_due_now};
use crate::helpers::*;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, ResponseTemplate};

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

    // Its retry time comes (the test moves it to now instead of waiting): one pass sends it.
    make_due_now(&app).await;
    let retried = app.deliver().await;
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

    // Sent is final: no event is left to retry, whatever time it is.
    assert_eq!(event_states(&app, None).await, counts(&[("sent", 1)]));
    make_due_now(&app).await;
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
    // No delay of its own: only Retry-After can hold the retry back.
    let app = spawn_app_with(&["--delivery-retry-delays", "0s"]).await;
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

    // The schedule's own delay (none) is over, Retry-After is not: nothing is sent.
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
