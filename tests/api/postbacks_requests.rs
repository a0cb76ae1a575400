//! The postback request itself: the key (query or header), GET or POST with a form or\nJSON body, missing parameters, unknown trackers, Keitaro's plain-text answers.

use crate::helpers::postbacks::*;
use crate::helpers::*;
use serde_json::json;

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
