use chrono::{DateTime, Utc};
use serde_json::{json, Value};

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
// Helpers
// ---------------------------------------------------------------------------------------------

const EM_JOHN: &str = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";
const PH_US: &str = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176";
const FN_MARY: &str = "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec";
const LP_URL: &str = "https://lp.example.com/offer?utm_source=fb";
const REFERRER: &str = "https://l.facebook.com/";
const NETWORK_UA: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Mobile";

/// Registers `click_id` on `campaign` from 203.0.113.7 (plus `extra` fields); returns the click's
/// first-seen time as stored.
async fn click(app: &TestApp, campaign: &str, click_id: &str, extra: Value) -> DateTime<Utc> {
    let mut body = json!({
        "campaign": campaign,
        "click_id": click_id,
        "client_ip_address": "203.0.113.7",
    });
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        body[k] = v;
    }
    let resp = app.register_click(body).await;
    assert_eq!(resp.status(), 201, "register click {click_id}");
    first_seen(app, click_id).await
}

async fn first_seen(app: &TestApp, click_id: &str) -> DateTime<Utc> {
    sqlx::query_scalar("SELECT first_seen_at FROM clicks WHERE click_id = $1")
        .bind(click_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Status and JSON body of an answer.
async fn answer(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"));
    (status, body)
}

async fn postback(app: &TestApp, tracker: &str, query: &str) -> (u16, Value) {
    answer(app.postback(tracker, query).await).await
}

/// A postback the service must accept with one event; returns its conversion id.
async fn accepted(
    app: &TestApp,
    tracker: &str,
    query: &str,
    event_name: &str,
    event_id: &str,
) -> i64 {
    let (status, body) = postback(app, tracker, query).await;
    assert_eq!(status, 200, "{tracker}?{query}: {body}");
    assert_eq!(body["status"], "accepted", "{tracker}?{query}: {body}");
    assert_eq!(
        body["events"],
        json!([{"platform": "meta", "event_name": event_name, "event_id": event_id}]),
        "{tracker}?{query}"
    );
    body["conversion_id"].as_i64().expect("conversion_id")
}

/// Runs one delivery pass and returns the only event Meta received.
async fn deliver_one(app: &TestApp) -> Value {
    let report = app.deliver().await;
    assert_eq!(report.delivered, 1, "{report:?}");
    let events = app.graph_events().await;
    assert_eq!(events.len(), 1, "{events:#?}");
    events.into_iter().next().unwrap()
}

/// The event's `event_time`, checked to be the arrival time of a postback just sent.
/// The creation ms of an fbc built from a click first seen at `first_seen` for an event at
/// `event_time` (unix seconds): the click's time, never after the event's second.
fn fbc_ms(first_seen: DateTime<Utc>, event_time: i64) -> i64 {
    first_seen.timestamp_millis().min(event_time * 1000)
}

fn recent_time(event: &Value) -> i64 {
    let t = event["event_time"]
        .as_i64()
        .expect("event_time is unix seconds");
    assert!(
        (Utc::now().timestamp() - t).abs() < 60,
        "event_time {t} is not now"
    );
    t
}

async fn conversion(app: &TestApp, id: i64) -> Value {
    app.admin_get(&format!("/admin/v1/conversions/{id}")).await
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn post_body(
    app: &TestApp,
    tracker: &str,
    content_type: &str,
    body: String,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/v1/postback/{tracker}?key={POSTBACK_KEY}")))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("postback request")
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

// ---------------------------------------------------------------------------------------------
// Idempotency, statuses, event ids
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_same_click_status_and_txid_again_is_a_duplicate_and_not_sent_again() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "dup-1", json!({})).await;

    accepted(
        &app,
        "keitaro",
        "subid=dup-1&status=sale&payout=10&tid=T1",
        "Purchase",
        "Purchase-dup-1",
    )
    .await;
    // The network retries before delivery...
    let (status, body) =
        postback(&app, "keitaro", "subid=dup-1&status=sale&payout=10&tid=T1").await;
    assert_eq!((status, body), (200, json!({"status": "duplicate"})));
    assert_eq!(app.deliver().await.delivered, 1);
    // ...and after it, with another word for the same status.
    let (status, body) = postback(
        &app,
        "keitaro",
        "subid=dup-1&status=approved&payout=10&tid=T1",
    )
    .await;
    assert_eq!((status, body), (200, json!({"status": "duplicate"})));
    let report = app.deliver().await;
    assert_eq!((report.claimed, report.delivered), (0, 0));
    assert_eq!(app.graph_events().await.len(), 1);
    assert_eq!(count(&app, "conversions").await, 1);
}

#[tokio::test]
async fn a_bare_postback_repeated_is_a_duplicate() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "dup-2", json!({})).await;
    accepted(&app, "bemob", "cid=dup-2", "Purchase", "Purchase-dup-2").await;
    let (status, body) = postback(&app, "bemob", "cid=dup-2").await;
    assert_eq!((status, body), (200, json!({"status": "duplicate"})));
    assert_eq!(app.deliver().await.delivered, 1);
}

#[tokio::test]
async fn lead_then_sale_on_one_click_sends_a_lead_and_a_purchase() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(
        &app,
        "offer1",
        "ls-1",
        json!({"event_ids": {"Lead": "pix-lead", "Purchase": "pix-buy"}}),
    )
    .await;

    accepted(
        &app,
        "keitaro",
        "subid=ls-1&status=lead&tid=A1",
        "Lead",
        "pix-lead",
    )
    .await;
    accepted(
        &app,
        "keitaro",
        "subid=ls-1&status=sale&payout=50&tid=A1",
        "Purchase",
        "pix-buy",
    )
    .await;
    let report = app.deliver().await;
    assert_eq!(report.delivered, 2);
    let events = app.graph_events().await;
    let lead = events
        .iter()
        .find(|e| e["event_name"] == "Lead")
        .expect("Lead sent");
    assert_eq!(lead["event_id"], "pix-lead");
    assert_eq!(lead["custom_data"], json!({"order_id": "A1"}));
    let purchase = events
        .iter()
        .find(|e| e["event_name"] == "Purchase")
        .expect("Purchase sent");
    assert_eq!(purchase["event_id"], "pix-buy");
    assert_eq!(
        purchase["custom_data"],
        json!({"value": 50.0, "currency": "USD", "order_id": "A1"})
    );
}

#[tokio::test]
async fn a_rebill_with_a_new_txid_is_a_new_purchase_with_a_suffixed_event_id() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(
        &app,
        "offer1",
        "rb-1",
        json!({"event_ids": {"Purchase": "pix-buy-1"}}),
    )
    .await;
    click(&app, "offer1", "rb-2", json!({})).await;

    accepted(
        &app,
        "keitaro",
        "subid=rb-1&status=sale&payout=20&tid=T1",
        "Purchase",
        "pix-buy-1",
    )
    .await;
    accepted(
        &app,
        "keitaro",
        "subid=rb-1&status=sale&payout=20&tid=T2",
        "Purchase",
        "pix-buy-1-T2",
    )
    .await;
    accepted(
        &app,
        "keitaro",
        "subid=rb-1&status=rebill&payout=20&tid=T3",
        "Purchase",
        "pix-buy-1-T3",
    )
    .await;
    // Template ids get the same suffix.
    accepted(
        &app,
        "binom",
        "cnv_id=rb-2&payout=9&txid=X1",
        "Purchase",
        "Purchase-rb-2",
    )
    .await;
    accepted(
        &app,
        "binom",
        "cnv_id=rb-2&payout=9&txid=X2",
        "Purchase",
        "Purchase-rb-2-X2",
    )
    .await;

    let report = app.deliver().await;
    assert_eq!(report.delivered, 5);
    let events = app.graph_events().await;
    let mut sent: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["event_id"].as_str().unwrap().to_owned(),
                e["custom_data"]["order_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    sent.sort();
    let expected: Vec<(String, String)> = [
        ("Purchase-rb-2", "X1"),
        ("Purchase-rb-2-X2", "X2"),
        ("pix-buy-1", "T1"),
        ("pix-buy-1-T2", "T2"),
        ("pix-buy-1-T3", "T3"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(sent, expected);
    assert!(events.iter().all(|e| e["event_name"] == "Purchase"));
}

#[tokio::test]
async fn two_unmatched_sales_joined_by_one_sweep_get_distinct_event_ids() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    for tid in ["T1", "T2"] {
        let (status, body) = postback(
            &app,
            "keitaro",
            &format!("subid=early-1&payout=20&tid={tid}"),
        )
        .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (202, Some("unmatched")),
            "{body}"
        );
    }
    click(&app, "offer1", "early-1", json!({})).await;
    let report = app.deliver().await;
    assert_eq!(
        (report.resolved_unmatched, report.delivered),
        (2, 2),
        "{report:?}"
    );
    let mut ids: Vec<_> = app
        .graph_events()
        .await
        .iter()
        .map(|e| {
            (
                e["custom_data"]["order_id"].as_str().unwrap().to_owned(),
                e["event_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            ("T1".to_owned(), "Purchase-early-1".to_owned()),
            ("T2".to_owned(), "Purchase-early-1-T2".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_rebill_that_arrives_before_the_sweep_joins_an_earlier_unmatched_sale_gets_a_distinct_event_id(
) {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    // The first sale arrives before the click is registered.
    let (status, body) =
        postback(&app, "keitaro", "subid=race-1&status=sale&payout=20&tid=T1").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (202, Some("unmatched")),
        "{body}"
    );
    click(&app, "offer1", "race-1", json!({})).await;
    // The rebill arrives after the click, before any delivery pass joined the first sale.
    let (status, body) =
        postback(&app, "keitaro", "subid=race-1&status=sale&payout=20&tid=T2").await;
    assert_eq!(status, 200, "{body}");
    // The rebill finds the click, and joins the earlier unmatched sale first, in arrival order.
    assert_eq!(
        body["events"],
        json!([{"platform": "meta", "event_name": "Purchase", "event_id": "Purchase-race-1-T2"}])
    );
    let report = app.deliver().await;
    assert_eq!(
        (report.resolved_unmatched, report.delivered),
        (0, 2),
        "{report:?}"
    );

    let events = app.graph_events().await;
    let mut ids: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e["custom_data"]["order_id"].as_str().unwrap().to_owned(),
                e["event_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    ids.sort();
    // Two different sales must never share an event id, or Meta drops one as a duplicate.
    assert_ne!(ids[0].1, ids[1].1, "both sales sent as {ids:?}");
    assert_eq!(
        ids,
        [
            ("T1".to_owned(), "Purchase-race-1".to_owned()),
            ("T2".to_owned(), "Purchase-race-1-T2".to_owned())
        ]
    );
}

#[tokio::test]
async fn rejected_and_unmapped_statuses_are_recorded_as_skipped_and_never_sent() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "rj-1", json!({})).await;

    accepted(
        &app,
        "keitaro",
        "subid=rj-1&status=lead",
        "Lead",
        "Lead-rj-1",
    )
    .await;
    for (tracker, query) in [
        ("keitaro", "subid=rj-1&status=rejected&tid=R1"),
        ("bemob", "cid=rj-1&status=declined&txid=R2"),
        ("binom", "cnv_id=rj-1&cnv_status=trash&txid=R3"),
        ("voluum", "cid=rj-1&et=chargeback&txid=R4"),
        ("generic", "click_id=rj-1&event=upsell_2"),
    ] {
        let (status, body) = postback(&app, tracker, query).await;
        assert_eq!(status, 200, "{tracker}?{query}: {body}");
        assert_eq!(body["status"], "skipped", "{tracker}?{query}: {body}");
        let id = body["conversion_id"].as_i64().expect("conversion_id");
        let view = conversion(&app, id).await;
        assert_eq!(view["state"], "skipped", "{view}");
        assert_eq!(view["event_name"], Value::Null);
        assert_eq!(view["payload"], Value::Null);
        assert_eq!(view["reason"], body["reason"], "{view}");
    }
    // Why: the answer and the admin view say it, with the postback as received (no key).
    let (_, body) = postback(&app, "generic", "click_id=rj-1&event=upsell_3&txid=U3").await;
    assert_eq!(
        body["reason"], "status \"upsell_3\" is not in the event map",
        "{body}"
    );
    let view = conversion(&app, body["conversion_id"].as_i64().unwrap()).await;
    assert_eq!(
        view["params"],
        json!({"click_id": "rj-1", "event": "upsell_3", "txid": "U3"})
    );
    let (_, body) = postback(&app, "keitaro", "subid=rj-1&status=Declined&tid=R9").await;
    assert_eq!(
        body["reason"],
        "status \"Declined\" (read as \"rejected\") maps to no event (null in the event map)",
        "{body}"
    );
    let report = app.deliver().await;
    assert_eq!(report.delivered, 1);
    let events = app.graph_events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event_name"], "Lead");
}

#[tokio::test]
async fn a_campaign_event_map_can_name_the_networks_words() {
    let app = spawn_app().await;
    app.create_campaign(
        "offer1",
        json!({"event_map": {"lead": "CompleteRegistration", "qualified": "Purchase", "sale": null}}),
    )
    .await;
    click(&app, "offer1", "em-1", json!({})).await;
    accepted(
        &app,
        "keitaro",
        "subid=em-1&status=lead",
        "CompleteRegistration",
        "CompleteRegistration-em-1",
    )
    .await;
    accepted(
        &app,
        "keitaro",
        "subid=em-1&status=Qualified&payout=100",
        "Purchase",
        "Purchase-em-1",
    )
    .await;
    let (status, body) = postback(&app, "keitaro", "subid=em-1&status=sale").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("skipped")));
    assert_eq!(app.deliver().await.delivered, 2);
}

// ---------------------------------------------------------------------------------------------
// Consent, LDU, test events
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_consent_campaign_suppresses_clicks_without_consent_and_sends_those_with_it() {
    let app = spawn_app().await;
    app.create_campaign("gdpr", json!({"require_consent": true}))
        .await;
    click(&app, "gdpr", "cs-none", json!({})).await;
    click(&app, "gdpr", "cs-no", json!({"consent": false})).await;
    click(&app, "gdpr", "cs-yes", json!({"consent": true})).await;

    let mut suppressed = Vec::new();
    for id in ["cs-none", "cs-no"] {
        let (status, body) =
            postback(&app, "keitaro", &format!("subid={id}&status=lead&payout=1")).await;
        assert_eq!(status, 200, "{id}: {body}");
        assert_eq!(body["status"], "suppressed", "{id}: {body}");
        suppressed.push(body["conversion_id"].as_i64().expect("conversion_id"));
    }
    accepted(
        &app,
        "keitaro",
        "subid=cs-yes&status=lead&payout=1",
        "Lead",
        "Lead-cs-yes",
    )
    .await;

    let event = deliver_one(&app).await;
    assert_eq!(
        event,
        json!({
            "event_name": "Lead",
            "event_time": recent_time(&event),
            "event_id": "Lead-cs-yes",
            "action_source": "website",
            "event_source_url": LANDING_URL,
            "user_data": {"client_ip_address": "203.0.113.7", "client_user_agent": BROWSER_UA},
            "custom_data": {"value": 1.0, "currency": "USD"},
        })
    );
    for id in suppressed {
        let view = conversion(&app, id).await;
        assert_eq!(view["state"], "suppressed", "{view}");
        assert_eq!(view["payload"], Value::Null);
        assert_eq!(view["attempts"], 0);
    }
    assert_eq!(app.deliver().await.delivered, 0);
    assert_eq!(app.graph_events().await.len(), 1);
}

#[tokio::test]
async fn a_limited_data_use_campaign_sends_ldu() {
    let app = spawn_app().await;
    app.create_campaign(
        "ldu",
        json!({"limited_data_use": true, "action_source": "website"}),
    )
    .await;
    click(&app, "ldu", "ldu-1", json!({})).await;
    accepted(
        &app,
        "keitaro",
        "subid=ldu-1&status=lead",
        "Lead",
        "Lead-ldu-1",
    )
    .await;
    let event = deliver_one(&app).await;
    assert_eq!(
        event,
        json!({
            "event_name": "Lead",
            "event_time": recent_time(&event),
            "event_id": "Lead-ldu-1",
            "action_source": "website",
            "event_source_url": LANDING_URL,
            "user_data": {"client_ip_address": "203.0.113.7", "client_user_agent": BROWSER_UA},
            "data_processing_options": ["LDU"],
            "data_processing_options_country": 0,
            "data_processing_options_state": 0,
        })
    );
}

#[tokio::test]
async fn the_campaigns_action_source_is_sent() {
    let app = spawn_app().await;
    app.create_campaign("crm", json!({"action_source": "system_generated"}))
        .await;
    click(&app, "crm", "as-1", json!({})).await;
    accepted(
        &app,
        "keitaro",
        "subid=as-1&status=lead",
        "Lead",
        "Lead-as-1",
    )
    .await;
    let event = deliver_one(&app).await;
    assert_eq!(event["action_source"], "system_generated");
}

#[tokio::test]
async fn the_test_event_code_goes_on_the_request_and_only_for_its_campaign() {
    let app = spawn_app().await;
    app.create_campaign("testing", json!({"test_event_code": "TEST123"}))
        .await;
    app.create_campaign("live", json!({})).await;
    click(&app, "testing", "te-1", json!({})).await;
    click(&app, "live", "te-2", json!({})).await;
    accepted(
        &app,
        "keitaro",
        "subid=te-1&status=lead",
        "Lead",
        "Lead-te-1",
    )
    .await;
    accepted(
        &app,
        "keitaro",
        "subid=te-2&status=lead",
        "Lead",
        "Lead-te-2",
    )
    .await;
    assert_eq!(app.deliver().await.delivered, 2);

    let requests = app.graph_requests().await;
    assert_eq!(requests.len(), 2, "{requests:#?}");
    let testing = requests
        .iter()
        .find(|r| r["data"][0]["event_id"] == "Lead-te-1")
        .expect("request for the test campaign");
    assert_eq!(testing["test_event_code"], "TEST123");
    assert_eq!(testing["access_token"], ACCESS_TOKEN);
    assert_eq!(testing["data"].as_array().unwrap().len(), 1);
    assert!(
        testing["data"][0].get("test_event_code").is_none(),
        "the code is on the request"
    );
    let live = requests
        .iter()
        .find(|r| r["data"][0]["event_id"] == "Lead-te-2")
        .expect("request for the live campaign");
    assert!(live.get("test_event_code").is_none(), "{live}");
}

// ---------------------------------------------------------------------------------------------
// fbc
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn fbc_is_built_from_the_fbclid_with_the_clicks_first_seen_time_and_case() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let first_seen = click(
        &app,
        "offer1",
        "fbc-1",
        json!({"fbclid": "IwAR2xYz_MiXeD-CaSe"}),
    )
    .await;
    // The conversion comes later: its time must not leak into fbc.
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    accepted(
        &app,
        "keitaro",
        "subid=fbc-1&status=lead",
        "Lead",
        "Lead-fbc-1",
    )
    .await;
    let event = deliver_one(&app).await;
    assert_eq!(
        event["user_data"]["fbc"],
        format!(
            "fb.1.{}.IwAR2xYz_MiXeD-CaSe",
            fbc_ms(first_seen, recent_time(&event))
        )
    );
}

#[tokio::test]
async fn a_postback_fbclid_builds_fbc_with_the_clicks_first_seen_time() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let first_seen = click(&app, "offer1", "fbc-2", json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    accepted(
        &app,
        "keitaro",
        "subid=fbc-2&status=lead&fbclid=IwAR_FromNetWork",
        "Lead",
        "Lead-fbc-2",
    )
    .await;
    let event = deliver_one(&app).await;
    assert_eq!(
        event["user_data"]["fbc"],
        format!(
            "fb.1.{}.IwAR_FromNetWork",
            fbc_ms(first_seen, recent_time(&event))
        )
    );
}

#[tokio::test]
async fn a_stored_fbc_cookie_wins_verbatim() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(
        &app,
        "offer1",
        "fbc-3",
        json!({"fbc": "fb.2.1554763741205.AbCdEf_GhIjKl", "fbclid": "IwAR_Other"}),
    )
    .await;
    accepted(
        &app,
        "keitaro",
        "subid=fbc-3&status=lead&fbclid=IwAR_Third",
        "Lead",
        "Lead-fbc-3",
    )
    .await;
    let event = deliver_one(&app).await;
    assert_eq!(
        event["user_data"]["fbc"],
        "fb.2.1554763741205.AbCdEf_GhIjKl"
    );
}

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
    // The worker sweeps unmatched conversions at most once per poll interval (1 s by default):
    // passes until the sweep has joined it, 30 s at most.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let report = loop {
        let report = app.deliver().await;
        if report.resolved_unmatched > 0 {
            break report;
        }
        assert!(std::time::Instant::now() < deadline, "never joined");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(
        (report.resolved_unmatched, report.delivered),
        (1, 1),
        "{report:?}"
    );
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
    let grace = std::time::Duration::from_secs(2);
    let app = spawn_app_with(&["--unmatched-grace", "2s"]).await;
    app.create_campaign("offer1", json!({"currency": "EUR"}))
        .await;
    let first_postback = std::time::Instant::now();

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
    // Within the grace nothing happens (judged only if the pass started within it).
    let within = first_postback.elapsed() < grace;
    let report = app.deliver().await;
    if within {
        assert_eq!(
            (report.resolved_unmatched, report.delivered),
            (0, 0),
            "{report:?}"
        );
    }

    // Passes until all three are settled, however long the machine takes; none before the
    // grace is over.
    let (mut resolved, mut delivered) = (report.resolved_unmatched, report.delivered);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while resolved < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "only {resolved} of 3 settled after 30 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let report = app.deliver().await;
        if report.resolved_unmatched > 0 {
            assert!(
                first_postback.elapsed() >= grace,
                "settled within the grace: {report:?}"
            );
        }
        resolved += report.resolved_unmatched;
        delivered += report.delivered;
    }
    assert_eq!((resolved, delivered), (3, 1));
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

// ---------------------------------------------------------------------------------------------
// The request: key, methods, bodies, answers
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_key_may_come_in_the_x_postback_key_header() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "hk-1", json!({})).await;
    let resp = app
        .client
        .get(app.url("/v1/postback/keitaro?subid=hk-1&status=lead"))
        .header("X-Postback-Key", POSTBACK_KEY)
        .send()
        .await
        .unwrap();
    let (status, body) = answer(resp).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "accepted");
    assert_eq!(
        body["events"],
        json!([{"platform": "meta", "event_name": "Lead", "event_id": "Lead-hk-1"}])
    );
    assert_eq!(app.deliver().await.delivered, 1);
}

#[tokio::test]
async fn a_missing_or_wrong_key_is_401_and_records_nothing() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "nk-1", json!({})).await;
    let requests = [
        app.client
            .get(app.url("/v1/postback/keitaro?subid=nk-1&status=lead")),
        app.client
            .get(app.url("/v1/postback/keitaro?subid=nk-1&status=lead&key=wrong-key-0123456789")),
        app.client
            .get(app.url("/v1/postback/keitaro?subid=nk-1&status=lead"))
            .header("X-Postback-Key", "wrong-key-0123456789"),
        app.client
            .post(app.url("/v1/postback/keitaro"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("subid=nk-1&status=lead"),
    ];
    for req in requests {
        let (status, body) = answer(req.send().await.unwrap()).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["code"], "unauthorized");
    }
    assert_eq!(count(&app, "conversions").await, 0);
    assert_eq!(app.deliver().await.claimed, 0);
}

#[tokio::test]
async fn post_takes_a_form_body() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "pf-1", json!({})).await;
    let resp = post_body(
        &app,
        "keitaro",
        "application/x-www-form-urlencoded",
        "subid=pf-1&status=sale&payout=4.5&currency=eur&tid=F1&em=John_Smith%40gmail.com".into(),
    )
    .await;
    let (status, body) = answer(resp).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["events"],
        json!([{"platform": "meta", "event_name": "Purchase", "event_id": "Purchase-pf-1"}])
    );
    let event = deliver_one(&app).await;
    assert_eq!(
        event,
        json!({
            "event_name": "Purchase",
            "event_time": recent_time(&event),
            "event_id": "Purchase-pf-1",
            "action_source": "website",
            "event_source_url": LANDING_URL,
            "user_data": {
                "client_ip_address": "203.0.113.7",
                "client_user_agent": BROWSER_UA,
                "em": [EM_JOHN],
            },
            "custom_data": {"value": 4.5, "currency": "EUR", "order_id": "F1"},
        })
    );
}

#[tokio::test]
async fn post_takes_a_json_body() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "pj-1", json!({})).await;
    let resp = post_body(
        &app,
        "bemob",
        "application/json",
        json!({"cid": "pj-1", "status": "approved", "payout": 7.25, "txid": "J1", "ph": "+1 (650) 555-1212"})
            .to_string(),
    )
    .await;
    let (status, body) = answer(resp).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["events"],
        json!([{"platform": "meta", "event_name": "Purchase", "event_id": "Purchase-pj-1"}])
    );
    let event = deliver_one(&app).await;
    assert_eq!(
        event,
        json!({
            "event_name": "Purchase",
            "event_time": recent_time(&event),
            "event_id": "Purchase-pj-1",
            "action_source": "website",
            "event_source_url": LANDING_URL,
            "user_data": {
                "client_ip_address": "203.0.113.7",
                "client_user_agent": BROWSER_UA,
                "ph": [PH_US],
            },
            "custom_data": {"value": 7.25, "currency": "USD", "order_id": "J1"},
        })
    );
}

#[tokio::test]
async fn post_with_the_key_in_a_header_and_a_json_body() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "pj-2", json!({})).await;
    let resp = app
        .client
        .post(app.url("/v1/postback/generic"))
        .header("X-Postback-Key", POSTBACK_KEY)
        .json(&json!({"click_id": "pj-2", "event": "lead", "value": 3}))
        .send()
        .await
        .unwrap();
    let (status, body) = answer(resp).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["events"],
        json!([{"platform": "meta", "event_name": "Lead", "event_id": "Lead-pj-2"}])
    );
    let event = deliver_one(&app).await;
    assert_eq!(
        event["custom_data"],
        json!({"value": 3.0, "currency": "USD"})
    );
}

#[tokio::test]
async fn a_missing_click_id_is_400_naming_the_dialects_parameter() {
    let app = spawn_app().await;
    for (tracker, query, name) in [
        ("keitaro", "status=lead&payout=1", "subid"),
        ("keitaro", "subid={subid}&status=lead", "subid"),
        ("binom", "cnv_status=approve", "cnv_id"),
        ("bemob", "cid=REPLACE&payout=1", "cid"),
        ("voluum", "et=lead", "cid"),
        ("redtrack", "type=lead", "clickid"),
        ("clickflare", "payout=1", "cid"),
        ("generic", "event=lead", "click_id"),
    ] {
        let (status, body) = postback(&app, tracker, query).await;
        assert_eq!(status, 400, "{tracker}?{query}: {body}");
        assert_eq!(
            body["code"], "missing_click_id",
            "{tracker}?{query}: {body}"
        );
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.starts_with(name), "{tracker}: {detail}");
    }
    assert_eq!(count(&app, "conversions").await, 0);
}

#[tokio::test]
async fn an_unknown_tracker_is_404() {
    let app = spawn_app().await;
    let (status, body) = postback(&app, "tune", "subid=bad-1").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["code"], "unknown_tracker");
}

#[tokio::test]
async fn keitaro_return_answers_with_that_plain_text() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "ret-1", json!({})).await;
    for (query, status) in [
        ("subid=ret-1&status=lead&return=OK", 200),
        // A duplicate and an ignored status answer the same text.
        ("subid=ret-1&status=lead&return=OK", 200),
        ("subid=ret-1&status=ping&ignore_status=ping&return=OK", 200),
        // So does an unmatched one.
        ("subid=ret-unknown&status=lead&return=OK", 202),
    ] {
        let resp = app.postback("keitaro", query).await;
        assert_eq!(resp.status(), status, "{query}");
        let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.starts_with("text/plain"), "{query}: {ct}");
        assert_eq!(resp.text().await.unwrap(), "OK", "{query}");
    }
    assert_eq!(count(&app, "conversions").await, 2);
    assert_eq!(app.deliver().await.delivered, 1);
}

#[tokio::test]
async fn keitaro_ignore_status_accepts_and_records_nothing() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "ig-1", json!({})).await;
    for query in [
        "subid=ig-1&status=ping&ignore_status=test,ping",
        "subid=ig-1&status=TEST&ignore_status=test,ping&payout=3",
    ] {
        let (status, body) = postback(&app, "keitaro", query).await;
        assert_eq!(
            (status, body),
            (200, json!({"status": "ignored"})),
            "{query}"
        );
    }
    assert_eq!(count(&app, "conversions").await, 0);
    let report = app.deliver().await;
    assert_eq!(report.claimed, 0);
    assert!(app.graph_requests().await.is_empty());
    // A word not in the list still counts.
    accepted(
        &app,
        "keitaro",
        "subid=ig-1&status=lead&ignore_status=test,ping",
        "Lead",
        "Lead-ig-1",
    )
    .await;
}

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

/// Many postbacks at once share group-commit batches: repeats, rebills and unknown clicks in
/// one batch must come out as if they had arrived one by one.
#[tokio::test]
async fn concurrent_postbacks_in_shared_batches_keep_dedup_and_distinct_event_ids() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    for i in 0..20 {
        click(&app, "offer1", &format!("cc-{i}"), json!({})).await;
    }
    let mut queries = Vec::new();
    for i in 0..20 {
        // Each click: a lead sent three times, a sale, a rebill with its own txid.
        for _ in 0..3 {
            queries.push(format!("subid=cc-{i}&status=lead"));
        }
        queries.push(format!("subid=cc-{i}&status=sale&tid=S{i}"));
        queries.push(format!("subid=cc-{i}&status=sale&tid=R{i}"));
    }
    // And postbacks for clicks nobody registered.
    for i in 0..10 {
        queries.push(format!("subid=ghost-{i}&status=lead"));
    }
    let answers = futures_join(&app, &queries).await;
    let count_of = |s: &str| answers.iter().filter(|a| a["status"] == s).count();
    assert_eq!(count_of("accepted"), 60, "{answers:?}");
    assert_eq!(count_of("duplicate"), 40);
    assert_eq!(count_of("unmatched"), 10);

    let report = app.deliver().await;
    assert_eq!(report.delivered, 60);
    let events = app.graph_events().await;
    let mut ids: Vec<&str> = events
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 60, "every conversion has its own event id");
    for i in 0..20 {
        let mut purchases: Vec<(String, String)> = events
            .iter()
            .filter(|e| e["event_name"] == "Purchase")
            .map(|e| {
                (
                    e["custom_data"]["order_id"].as_str().unwrap().to_owned(),
                    e["event_id"].as_str().unwrap().to_owned(),
                )
            })
            .filter(|(order, _)| *order == format!("S{i}") || *order == format!("R{i}"))
            .collect();
        purchases.sort();
        // The two sales raced: whichever was recorded first has the plain id, the other the
        // id suffixed with its own transaction id.
        let base = format!("Purchase-cc-{i}");
        let (r, s) = (&purchases[0], &purchases[1]);
        let expected = [
            [
                (r.0.clone(), base.clone()),
                (s.0.clone(), format!("{base}-S{i}")),
            ],
            [
                (r.0.clone(), format!("{base}-R{i}")),
                (s.0.clone(), base.clone()),
            ],
        ];
        assert!(
            expected.contains(&[r.clone(), s.clone()]),
            "cc-{i}: {purchases:?}"
        );
    }
    assert_eq!(count(&app, "conversions").await, 70);
}

async fn futures_join(app: &TestApp, queries: &[String]) -> Vec<Value> {
    let mut tasks = Vec::new();
    for q in queries {
        let (client, url) = (
            app.client.clone(),
            format!("{}/v1/postback/keitaro?key={POSTBACK_KEY}&{q}", app.address),
        );
        tasks.push(tokio::spawn(async move {
            let resp = client.get(url).send().await.unwrap();
            assert!(resp.status().is_success(), "{}", resp.status());
            resp.json::<Value>().await.unwrap()
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}
