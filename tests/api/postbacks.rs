use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn keitaro_lead_reaches_meta_with_the_registered_event_id_and_fbc_from_click_time() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let resp = app
        .register_click(json!({
            "campaign": "offer1", "click_id": "clk1", "fbclid": "IwAR_AbCdEf",
            "fbp": "fb.1.1596403881668.1116446470", "client_ip_address": "203.0.113.7",
            "em": "John_Smith@gmail.com", "event_ids": {"Lead": "pixel-lead-1"}
        }))
        .await;
    assert_eq!(resp.status(), 201);
    let first_seen: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT first_seen_at FROM clicks WHERE click_id = 'clk1'")
            .fetch_one(&app.pool)
            .await
            .unwrap();

    let resp = app
        .postback(
            "keitaro",
            "subid=clk1&status=lead&payout=12.50&currency=eur&tid=T1",
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "accepted");
    assert_eq!(
        body["events"],
        json!([{"event_name": "Lead", "event_id": "pixel-lead-1"}])
    );

    assert!(
        app.graph_requests().await.is_empty(),
        "nothing is sent inside the request"
    );
    let report = app.deliver().await;
    assert_eq!(report.delivered, 1);

    let requests = app.graph_requests().await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["access_token"], ACCESS_TOKEN);
    let event = &requests[0]["data"][0];
    let event_time = event["event_time"].as_i64().unwrap();
    assert_eq!(
        event,
        &json!({
            "event_name": "Lead",
            "event_time": event_time,
            "event_id": "pixel-lead-1",
            "action_source": "website",
            "user_data": {
                "client_ip_address": "203.0.113.7",
                "client_user_agent": BROWSER_UA,
                "fbc": format!("fb.1.{}.IwAR_AbCdEf", first_seen.timestamp_millis()),
                "fbp": "fb.1.1596403881668.1116446470",
                "em": ["62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"],
            },
            "custom_data": {"value": 12.5, "currency": "EUR", "order_id": "T1"},
        })
    );
    assert!((chrono::Utc::now().timestamp() - event_time).abs() < 60);
}
