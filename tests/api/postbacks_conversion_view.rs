//! The admin API's view of a conversion from a postback: pending, then sent with the\nexact payload.

use crate::helpers::postbacks::*;
use crate::helpers::*;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// Admin: conversion list and view
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn admin_shows_a_conversion_pending_then_sent_with_the_exact_payload() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({"currency": "EUR"}))
        .await;
    app.create_campaign("offer2", json!({})).await;
    click(&app, "offer1", "ad-1", json!({"event_source_url": LP_URL})).await;
    click(&app, "offer2", "ad-2", json!({})).await;

    let id = accepted(
        &app,
        "binom",
        "cnv_id=ad-1&cnv_status=Approve&payout=12.5&txid=AD1",
        "Purchase",
        "Purchase-ad-1",
    )
    .await;
    let other = accepted(
        &app,
        "keitaro",
        "subid=ad-2&status=lead",
        "Lead",
        "Lead-ad-2",
    )
    .await;
    let rejected = {
        let (_, body) = postback(&app, "keitaro", "subid=ad-2&status=rejected").await;
        body["conversion_id"].as_i64().unwrap()
    };

    let view = conversion(&app, id).await;
    assert_eq!(view["id"], id);
    assert_eq!(view["click_id"], "ad-1");
    assert_eq!(view["campaign"], "offer1");
    assert_eq!(view["tracker"], "binom");
    assert_eq!(view["raw_status"], "Approve");
    assert_eq!(view["status"], "sale");
    assert_eq!(view["txid"], "AD1");
    assert_eq!(view["event_name"], "Purchase");
    assert_eq!(view["event_id"], "Purchase-ad-1");
    assert_eq!(view["value"], 12.5);
    assert_eq!(view["currency"], "EUR");
    assert_eq!(view["state"], "pending");
    assert_eq!(view["attempts"], 0);
    assert_eq!(view["last_error"], Value::Null);
    assert_eq!(view["sent_at"], Value::Null);
    assert_eq!(view["attempts_log"], json!([]));
    let pending_payload = view["payload"].clone();
    assert_eq!(pending_payload["event_id"], "Purchase-ad-1");

    let pending = app.admin_get("/admin/v1/conversions?state=pending").await;
    let pending_ids: Vec<_> = pending["conversions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(pending_ids, [json!(other), json!(id)], "newest first");

    assert_eq!(app.deliver().await.delivered, 2);

    let view = conversion(&app, id).await;
    assert_eq!(view["state"], "sent", "{view}");
    assert_eq!(view["attempts"], 1);
    assert_eq!(view["last_error"], Value::Null);
    assert!(view["sent_at"].is_string(), "{view}");
    let log = view["attempts_log"].as_array().unwrap();
    assert_eq!(log.len(), 1, "{view}");
    assert_eq!(log[0]["outcome"], "sent");
    assert_eq!(log[0]["http_status"], 200);
    assert_eq!(log[0]["fbtrace_id"], "AbFakeTrace");
    // The payload is exactly what Meta received, and never carries the token.
    let sent = app
        .graph_events()
        .await
        .into_iter()
        .find(|e| e["event_id"] == "Purchase-ad-1")
        .expect("sent");
    assert_eq!(view["payload"], sent);
    assert_eq!(view["payload"], pending_payload);
    let text = view.to_string();
    assert!(
        !text.contains(ACCESS_TOKEN) && !text.contains("access_token"),
        "{text}"
    );

    // Filters.
    let list = app
        .admin_get("/admin/v1/conversions?campaign=offer1&state=sent")
        .await;
    let items = list["conversions"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["id"], id);
    assert_eq!(items[0]["payload"], sent);
    let list = app.admin_get("/admin/v1/conversions?state=pending").await;
    assert_eq!(list["conversions"], json!([]));
    let list = app.admin_get("/admin/v1/conversions?state=skipped").await;
    let items = list["conversions"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["id"], rejected);
    assert_eq!(items[0]["campaign"], "offer2");
    let list = app.admin_get("/admin/v1/conversions?campaign=offer2").await;
    let ids: Vec<_> = list["conversions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(ids, [json!(rejected), json!(other)]);
    let list = app.admin_get("/admin/v1/conversions?limit=1").await;
    let items = list["conversions"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], rejected);
    assert_eq!(list["next_before"], rejected);
    let list = app.admin_get("/admin/v1/conversions").await;
    assert_eq!(list["conversions"].as_array().unwrap().len(), 3);

    let resp = app
        .admin(
            reqwest::Method::GET,
            "/admin/v1/conversions?state=lost",
            None,
        )
        .await;
    assert_eq!(resp.status(), 400);
    let resp = app
        .admin(reqwest::Method::GET, "/admin/v1/conversions/999999", None)
        .await;
    assert_eq!(resp.status(), 404);
    let resp = app
        .client
        .get(app.url(&format!("/admin/v1/conversions/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}
