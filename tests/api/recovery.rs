//! When a platform accepts again, the worker itself makes the campaign's waiting retries due
//! (`recovered`, `storage::events::retry_now`): no test here makes an event due by hand. Time
//! moves by shifting every waiting event's retry time by the same amount, as the clock would.

use serde_json::json;

use crate::helpers::*;

/// Meta answers every request with a transient error.
async fn meta_down(app: &TestApp) {
    app.graph.reset().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(graph_error(
            500,
            2,
            None,
            true,
            "Service temporarily unavailable",
        ))
        .mount(&app.graph)
        .await;
}

async fn meta_up(app: &TestApp) {
    app.graph.reset().await;
    mount_graph_ok(&app.graph).await;
}

/// The clock moves on to the earliest retry still to come: every waiting event's retry time
/// comes that much closer, so the order of the retries is kept.
async fn to_the_next_retry(app: &TestApp) {
    let moved = sqlx::query(
        "UPDATE events SET next_attempt_at = next_attempt_at - (
             SELECT min(next_attempt_at) - now() FROM events
              WHERE state = 'pending' AND next_attempt_at > now())
          WHERE state = 'pending' AND next_attempt_at > now()",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    assert!(moved.rows_affected() > 0, "no retry to wait for");
}

/// The click's event: (state, attempts, due now).
async fn event_of(app: &TestApp, click_id: &str) -> (String, i32, bool) {
    sqlx::query_as(
        "SELECT e.state, e.attempts, e.next_attempt_at <= now() FROM events e \
         JOIN conversions c ON c.id = e.conversion_id WHERE c.click_id = $1",
    )
    .bind(click_id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_delivery_after_an_outage_makes_the_campaigns_waiting_retries_due_at_once() {
    let app = spawn_app_with(&["--delivery-retry-delays", "1m,1h"]).await;
    app.create_campaign("shop", json!({})).await;
    meta_down(&app).await;

    // `early` fails once; `late`, arriving during the backoff, waits for `early`'s retry, and
    // both fail again there: `early` now waits an hour, `late` a minute.
    app.click_and_lead("shop", "early", json!({})).await;
    assert_eq!(app.deliver().await.retrying, 1);
    app.click_and_lead("shop", "late", json!({})).await;
    let report = app.deliver().await;
    assert_eq!((report.requests, report.retrying), (0, 0), "{report:?}");
    to_the_next_retry(&app).await;
    let report = app.deliver().await;
    assert_eq!((report.requests, report.retrying), (1, 2), "{report:?}");
    assert_eq!(event_of(&app, "early").await, ("pending".into(), 2, false));
    assert_eq!(event_of(&app, "late").await, ("pending".into(), 1, false));

    // Meta is back. At `late`'s retry, `early` still has most of its hour to wait: `late`'s
    // delivery pulls it forward.
    meta_up(&app).await;
    to_the_next_retry(&app).await;
    let report = app.deliver().await;
    assert_eq!((report.requests, report.delivered), (1, 1), "{report:?}");
    assert_eq!(event_of(&app, "late").await.0, "sent");
    assert_eq!(event_of(&app, "early").await, ("pending".into(), 2, true));

    let report = app.deliver().await;
    assert_eq!((report.requests, report.delivered), (1, 1), "{report:?}");
    assert_eq!(event_of(&app, "early").await.0, "sent");
    let ids: Vec<_> = app
        .graph_events()
        .await
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["Lead-late", "Lead-early"]);
}

/// Only the campaign that delivered: another campaign's retries on the same platform keep
/// their time.
#[tokio::test]
async fn a_recovery_pulls_only_its_own_campaigns_retries() {
    let app = spawn_app_with(&["--delivery-retry-delays", "1m,1h"]).await;
    app.create_campaign("shop", json!({})).await;
    app.create_campaign("other", json!({"pixel_id": "2222222222"}))
        .await;
    meta_down(&app).await;
    // `other` fails twice (its retry an hour away), then `shop` once (a minute away).
    app.click_and_lead("other", "o-1", json!({})).await;
    assert_eq!(app.deliver().await.retrying, 1);
    to_the_next_retry(&app).await;
    assert_eq!(app.deliver().await.retrying, 1);
    app.click_and_lead("shop", "s-1", json!({})).await;
    assert_eq!(app.deliver().await.retrying, 1);

    meta_up(&app).await;
    to_the_next_retry(&app).await;
    let report = app.deliver().await;
    assert_eq!((report.requests, report.delivered), (1, 1), "{report:?}");
    assert_eq!(event_of(&app, "s-1").await.0, "sent");
    assert_eq!(event_of(&app, "o-1").await, ("pending".into(), 2, false));
    assert_eq!(app.deliver().await.requests, 0);
}
