//! The delivery worker against a fake Graph API: token errors park events until the token\nchanges, bisection isolates an invalid event, events too old for Meta expire.

use crate::helpers::delivery::*;
use crate::helpers::outbox::{counts, event_states, make_due_now};
use crate::helpers::*;
use chrono::Utc;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashSet;
use wiremock::{Request, Respond, ResponseTemplate};

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
