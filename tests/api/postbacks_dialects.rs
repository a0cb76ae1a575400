//! Tracker postbacks, dialect by dialect: the exact event Meta receives for each\ntracker's parameters and status words.

use crate::helpers::postbacks::*;
use crate::helpers::*;
use chrono::Utc;
use serde_json::json;

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
        json!([{"platform": "meta", "event_name": "Lead", "event_id": "pixel-lead-1"}])
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
            "event_source_url": LANDING_URL,
            "user_data": {
                "client_ip_address": "203.0.113.7",
                "client_user_agent": BROWSER_UA,
                "fbc": format!("fb.1.{}.IwAR_AbCdEf", fbc_ms(first_seen, event_time)),
                "fbp": "fb.1.1596403881668.1116446470",
                "em": ["62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"],
            },
            "custom_data": {"value": 12.5, "currency": "EUR", "order_id": "T1"},
        })
    );
    assert!((chrono::Utc::now().timestamp() - event_time).abs() < 60);
}

// ---------------------------------------------------------------------------------------------
// Dialects: the exact event Meta receives
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn keitaro_sale_without_status_is_a_purchase_with_revenue_and_the_campaign_currency() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({"currency": "EUR"}))
        .await;
    click(
        &app,
        "offer1",
        "kt-1",
        json!({"event_source_url": LP_URL, "referrer_url": REFERRER}),
    )
    .await;

    let id = accepted(
        &app,
        "keitaro",
        "subid=kt-1&revenue=30&tid=T9&ph=%2B1+(650)+555-1212&fn=Mary",
        "Purchase",
        "Purchase-kt-1",
    )
    .await;
    let event = deliver_one(&app).await;
    assert_eq!(
        event,
        json!({
            "event_name": "Purchase",
            "event_time": recent_time(&event),
            "event_id": "Purchase-kt-1",
            "action_source": "website",
            "event_source_url": LP_URL,
            "referrer_url": REFERRER,
            "user_data": {
                "client_ip_address": "203.0.113.7",
                "client_user_agent": BROWSER_UA,
                "ph": [PH_US],
                "fn": [FN_MARY],
            },
            "custom_data": {"value": 30.0, "currency": "EUR", "order_id": "T9"},
        })
    );
    let view = conversion(&app, id).await;
    assert_eq!(
        (view["raw_status"].as_str(), view["status"].as_str()),
        (Some("sale"), Some("sale"))
    );
    assert_eq!(view["tracker"], "keitaro");
}

#[tokio::test]
async fn keitaro_status_lists_map_the_networks_own_words() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "kt-2", json!({})).await;
    accepted(
        &app,
        "keitaro",
        "subid=kt-2&status=Hold1&lead_status=hold1,hold2&sale_status=ok1",
        "Lead",
        "Lead-kt-2",
    )
    .await;
    accepted(
        &app,
        "keitaro",
        "subid=kt-2&status=ok1&lead_status=hold1,hold2&sale_status=ok1&payout=5",
        "Purchase",
        "Purchase-kt-2",
    )
    .await;
    let (status, body) = postback(
        &app,
        "keitaro",
        "subid=kt-2&status=trash2&rejected_status=trash2",
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("skipped")),
        "{body}"
    );
    let report = app.deliver().await;
    assert_eq!(report.delivered, 2);
    let names: Vec<_> = app
        .graph_events()
        .await
        .iter()
        .map(|e| e["event_name"].clone())
        .collect();
    assert_eq!(names, [json!("Lead"), json!("Purchase")]);
}

#[tokio::test]
async fn binom_approve_is_a_purchase_with_cnv_currency_and_txid() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let first_seen = click(&app, "offer1", "bn-1", json!({"fbclid": "IwAR_Binom"})).await;

    let id = accepted(
        &app,
        "binom",
        "cnv_id=bn-1&payout=5.5&cnv_status=approve&cnv_currency=gbp&txid=BX1",
        "Purchase",
        "Purchase-bn-1",
    )
    .await;
    let event = deliver_one(&app).await;
    assert_eq!(
        event,
        json!({
            "event_name": "Purchase",
            "event_time": recent_time(&event),
            "event_id": "Purchase-bn-1",
            "action_source": "website",
            "event_source_url": LANDING_URL,
            "user_data": {
                "client_ip_address": "203.0.113.7",
                "client_user_agent": BROWSER_UA,
                "fbc": format!("fb.1.{}.IwAR_Binom", fbc_ms(first_seen, recent_time(&event))),
            },
            "custom_data": {"value": 5.5, "currency": "GBP", "order_id": "BX1"},
        })
    );
    let view = conversion(&app, id).await;
    assert_eq!(view["raw_status"], "approve");
    assert_eq!(view["status"], "sale");
    assert_eq!(view["tracker"], "binom");
}

#[tokio::test]
async fn binom_also_takes_clickid() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "bn-2", json!({})).await;
    accepted(
        &app,
        "binom",
        "clickid=bn-2&cnv_status=hold",
        "Lead",
        "Lead-bn-2",
    )
    .await;
    let event = deliver_one(&app).await;
    assert_eq!(
        event,
        json!({
            "event_name": "Lead",
            "event_time": recent_time(&event),
            "event_id": "Lead-bn-2",
            "action_source": "website",
            "event_source_url": LANDING_URL,
            "user_data": {"client_ip_address": "203.0.113.7", "client_user_agent": BROWSER_UA},
        })
    );
}

#[tokio::test]
async fn bemob_approved_is_a_purchase() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let cid = "AbCdEfGhIjKlMnOpQrStUv";
    click(
        &app,
        "offer1",
        cid,
        json!({"fbp": "fb.1.1596403881668.1116446470"}),
    )
    .await;

    let id = accepted(
        &app,
        "bemob",
        &format!("cid={cid}&payout=2&txid=BM1&status=Approved"),
        "Purchase",
        &format!("Purchase-{cid}"),
    )
    .await;
    let event = deliver_one(&app).await;
    assert_eq!(
        event,
        json!({
            "event_name": "Purchase",
            "event_time": recent_time(&event),
            "event_id": format!("Purchase-{cid}"),
            "action_source": "website",
            "event_source_url": LANDING_URL,
            "user_data": {
                "client_ip_address": "203.0.113.7",
                "client_user_agent": BROWSER_UA,
                "fbp": "fb.1.1596403881668.1116446470",
            },
            "custom_data": {"value": 2.0, "currency": "USD", "order_id": "BM1"},
        })
    );
    let view = conversion(&app, id).await;
    assert_eq!(view["raw_status"], "Approved");
    assert_eq!(view["status"], "sale");
}

#[tokio::test]
async fn voluum_et_lead_is_a_lead_with_its_currency() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "vl-1", json!({"event_source_url": LP_URL})).await;

    accepted(
        &app,
        "voluum",
        "cid=vl-1&payout=1.25&txid=V1&currency=eur&et=lead",
        "Lead",
        "Lead-vl-1",
    )
    .await;
    let event = deliver_one(&app).await;
    assert_eq!(
        event,
        json!({
            "event_name": "Lead",
            "event_time": recent_time(&event),
            "event_id": "Lead-vl-1",
            "action_source": "website",
            "event_source_url": LP_URL,
            "user_data": {"client_ip_address": "203.0.113.7", "client_user_agent": BROWSER_UA},
            "custom_data": {"value": 1.25, "currency": "EUR", "order_id": "V1"},
        })
    );
}

#[tokio::test]
async fn redtrack_type_and_sum() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "rt-1", json!({"external_id": "User-42"})).await;

    accepted(
        &app,
        "redtrack",
        "clickid=rt-1&type=Lead&sum=3.5",
        "Lead",
        "Lead-rt-1",
    )
    .await;
    let event = deliver_one(&app).await;
    // Meta's normalisation (trim, lowercase), then SHA-256, computed apart from the code under
    // test: `printf %s user-42 | sha256sum`.
    let external_id = "6d894aa3ee802549d7f340e7c1cf0d1c1cb14cd84f768d92ffaa6785337c4997";
    assert_eq!(
        event,
        json!({
            "event_name": "Lead",
            "event_time": recent_time(&event),
            "event_id": "Lead-rt-1",
            "action_source": "website",
            "event_source_url": LANDING_URL,
            "user_data": {
                "client_ip_address": "203.0.113.7",
                "client_user_agent": BROWSER_UA,
                "external_id": [external_id],
            },
            "custom_data": {"value": 3.5, "currency": "USD"},
        })
    );
}

#[tokio::test]
async fn clickflare_cid_and_click_id() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "cf-1", json!({})).await;
    click(&app, "offer1", "cf-2", json!({})).await;

    accepted(
        &app,
        "clickflare",
        "cid=cf-1&payout=4&txid=CF1",
        "Purchase",
        "Purchase-cf-1",
    )
    .await;
    accepted(
        &app,
        "clickflare",
        "click_id=cf-2&payout=6&txid=CF2",
        "Purchase",
        "Purchase-cf-2",
    )
    .await;
    let report = app.deliver().await;
    assert_eq!(report.delivered, 2);
    let events = app.graph_events().await;
    assert_eq!(events.len(), 2);
    let cf1 = events
        .iter()
        .find(|e| e["event_id"] == "Purchase-cf-1")
        .expect("cf-1 sent");
    assert_eq!(
        cf1,
        &json!({
            "event_name": "Purchase",
            "event_time": recent_time(cf1),
            "event_id": "Purchase-cf-1",
            "action_source": "website",
            "event_source_url": LANDING_URL,
            "user_data": {"client_ip_address": "203.0.113.7", "client_user_agent": BROWSER_UA},
            "custom_data": {"value": 4.0, "currency": "USD", "order_id": "CF1"},
        })
    );
    let cf2 = events
        .iter()
        .find(|e| e["event_id"] == "Purchase-cf-2")
        .expect("cf-2 sent");
    assert_eq!(
        cf2["custom_data"],
        json!({"value": 6.0, "currency": "USD", "order_id": "CF2"})
    );
}

#[tokio::test]
async fn generic_event_value_currency_and_event_time() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "gn-1", json!({"referrer_url": REFERRER})).await;
    let when = Utc::now().timestamp() - 3600;

    accepted(
        &app,
        "generic",
        &format!("click_id=gn-1&event=lead&value=9&currency=eur&txid=G1&event_time={when}&em=John_Smith%40gmail.com"),
        "Lead",
        "Lead-gn-1",
    )
    .await;
    let event = deliver_one(&app).await;
    assert_eq!(
        event,
        json!({
            "event_name": "Lead",
            "event_time": when,
            "event_id": "Lead-gn-1",
            "action_source": "website",
            "event_source_url": LANDING_URL,
            "referrer_url": REFERRER,
            "user_data": {
                "client_ip_address": "203.0.113.7",
                "client_user_agent": BROWSER_UA,
                "em": [EM_JOHN],
            },
            "custom_data": {"value": 9.0, "currency": "EUR", "order_id": "G1"},
        })
    );
}

#[tokio::test]
async fn generic_status_and_payout_names() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "gn-2", json!({})).await;
    accepted(
        &app,
        "generic",
        "click_id=gn-2&status=sale&payout=11",
        "Purchase",
        "Purchase-gn-2",
    )
    .await;
    let event = deliver_one(&app).await;
    assert_eq!(
        event["custom_data"],
        json!({"value": 11.0, "currency": "USD"})
    );
    recent_time(&event);
}
