//! Postbacks whose click has not arrived: joined when it does, or sent with their own
//! data (or failed) after the grace.

use crate::helpers::postbacks::*;
use crate::helpers::*;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// Unmatched conversions
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_unmatched_postback_is_sent_when_its_click_arrives() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let (status, body) =
        postback(&app, "keitaro", "subid=late-1&status=lead&payout=2&tid=L1").await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "unmatched");
    let id = body["conversion_id"].as_i64().expect("conversion_id");
    // The tracker retries while it waits: still one conversion.
    let (status, body) =
        postback(&app, "keitaro", "subid=late-1&status=lead&payout=2&tid=L1").await;
    assert_eq!((status, body), (200, json!({"status": "duplicate"})));

    let report = app.deliver().await;
    assert_eq!((report.resolved_unmatched, report.delivered), (0, 0));
    assert!(app.graph_requests().await.is_empty());
    let view = conversion(&app, id).await;
    assert_eq!(view["state"], "unmatched", "{view}");
    assert_eq!(view["campaign"], Value::Null);

    let first_seen = click(
        &app,
        "offer1",
        "late-1",
        json!({"fbclid": "IwAR_Late", "event_ids": {"Lead": "pix-late"}}),
    )
    .await;
    // The sweep itself, not the worker's, which runs it at most once a poll interval.
    assert_eq!(app.worker.sweep_unmatched().await.unwrap(), 1, "joined");
    assert_eq!(app.deliver().await.delivered, 1);
    let events = app.graph_events().await;
    assert_eq!(events.len(), 1);
    let event = &events[0];
    // The conversion happened before the click was first seen: Meta refuses an fbc created
    // after the event, so the fbc takes the conversion's time.
    let event_time: DateTime<Utc> =
        sqlx::query_scalar("SELECT event_time FROM conversions WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(event_time < first_seen);
    assert_eq!(
        event,
        &json!({
            "event_name": "Lead",
            "event_time": recent_time(event),
            "event_id": "pix-late",
            "action_source": "website",
            "event_source_url": LANDING_URL,
            "user_data": {
                "client_ip_address": "203.0.113.7",
                "client_user_agent": BROWSER_UA,
                "fbc": format!("fb.1.{}.IwAR_Late", event_time.timestamp() * 1000),
            },
            "custom_data": {"value": 2.0, "currency": "USD", "order_id": "L1"},
        })
    );
    let view = conversion(&app, id).await;
    assert_eq!(view["state"], "sent", "{view}");
    assert_eq!(view["campaign"], "offer1");
    assert_eq!(view["event_id"], "pix-late");
}

#[tokio::test]
async fn after_the_grace_an_unmatched_postback_goes_out_with_its_own_data_or_fails() {
    // The default grace is 15 minutes: the postbacks are moved past it rather than waited on.
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({"currency": "EUR"}))
        .await;

    let with_ua = format!(
        "subid=ghost-1&status=lead&payout=3&tid=G1&campaign=offer1&ip=198.51.100.4\
         &ua={}&em=John_Smith%40gmail.com",
        NETWORK_UA.replace(' ', "%20").replace(';', "%3B")
    );
    let mut ids = Vec::new();
    for query in [
        with_ua.as_str(),
        "subid=ghost-2&status=lead&campaign=offer1&ip=198.51.100.5",
        "subid=ghost-3&status=lead&user_agent=Mozilla%2F5.0",
    ] {
        let (status, body) = postback(&app, "keitaro", query).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (202, Some("unmatched")),
            "{query}: {body}"
        );
        ids.push(body["conversion_id"].as_i64().unwrap());
    }
    // Within the grace nothing happens.
    let report = app.deliver().await;
    assert_eq!(
        (report.resolved_unmatched, report.delivered),
        (0, 0),
        "{report:?}"
    );
    assert_eq!(app.worker.sweep_unmatched().await.unwrap(), 0);

    sqlx::query(
        "UPDATE conversions SET received_at = received_at - interval '16 minutes' \
         WHERE state = 'unmatched'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    assert_eq!(app.worker.sweep_unmatched().await.unwrap(), 3, "settled");
    assert_eq!(app.deliver().await.delivered, 1);
    let events = app.graph_events().await;
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(
        event,
        &json!({
            "event_name": "Lead",
            "event_time": recent_time(event),
            "event_id": "Lead-ghost-1",
            "action_source": "website",
            "event_source_url": LANDING_URL,
            "user_data": {
                "client_ip_address": "198.51.100.4",
                "client_user_agent": NETWORK_UA,
                "em": [EM_JOHN],
            },
            "custom_data": {"value": 3.0, "currency": "EUR", "order_id": "G1"},
        })
    );
    let sent = conversion(&app, ids[0]).await;
    assert_eq!(sent["state"], "sent", "{sent}");
    assert_eq!(sent["campaign"], "offer1");

    let no_ua = conversion(&app, ids[1]).await;
    assert_eq!(no_ua["state"], "failed", "{no_ua}");
    let reason = no_ua["last_error"].as_str().expect("a reason");
    assert!(reason.contains("client_user_agent"), "{reason}");
    assert_eq!(no_ua["payload"], Value::Null);

    let no_campaign = conversion(&app, ids[2]).await;
    assert_eq!(no_campaign["state"], "failed", "{no_campaign}");
    let reason = no_campaign["last_error"].as_str().expect("a reason");
    assert!(reason.contains("campaign"), "{reason}");
}
