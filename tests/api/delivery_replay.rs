//! The delivery worker and the admin replay: failed events requeued, sent or expired ones\nrefused.

use crate::helpers::delivery::*;
use crate::helpers::*;
use chrono::Utc;
use reqwest::Method;
use serde_json::{json, Value};

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
