//! `POST /admin/v1/campaigns/{key}/test-event` with `"platform": "tiktok"`: one synthetic event
//! to TikTok's Test Events now, answered with TikTok's code, message and request id; nothing
//! stored.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::tiktok::{tiktok_settings, FakeTikTok, FAKE_REQUEST_ID, TIKTOK_TOKEN};
use crate::helpers::{assert_problem, received, spawn_app, TestApp, LANDING_URL};

async fn tiktok_test(app: &TestApp, key: &str) -> reqwest::Response {
    let path = format!("/admin/v1/campaigns/{key}/test-event");
    app.admin(Method::POST, &path, Some(json!({"platform": "tiktok"})))
        .await
}

async fn with_code(app: &TestApp, key: &str) {
    let mut tiktok = tiktok_settings();
    tiktok["test_event_code"] = json!("TTTEST77");
    app.create_campaign(key, json!({ "tiktok": tiktok })).await;
}

#[tokio::test]
async fn a_tiktok_test_event_reaches_tiktok_with_its_code_and_answers_tiktoks_words() {
    let app = spawn_app().await;
    with_code(&app, "tt").await;

    let resp = tiktok_test(&app, "tt").await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], 0, "{body}");
    assert_eq!(body["message"], "OK");
    assert_eq!(body["request_id"], FAKE_REQUEST_ID);
    assert_eq!(body["test_event_code"], "TTTEST77");

    let sent = app.tiktok_requests().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].access_token, TIKTOK_TOKEN);
    assert_eq!(sent[0].body["test_event_code"], "TTTEST77");
    let event = &sent[0].body["data"][0];
    assert_eq!(event["event"], "Lead");
    assert_eq!(event["page"]["url"], LANDING_URL);
    assert!(event["event_id"].as_str().unwrap().starts_with("test-"));
    assert!(!sent[0].body.to_string().contains(TIKTOK_TOKEN));
    // Meta got nothing, and nothing was stored.
    assert!(received(&app.graph).await.is_empty());
    let rows: (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM conversions), (SELECT count(*) FROM events)")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(rows, (0, 0));
    // Meta stays the default.
    let path = "/admin/v1/campaigns/tt/test-event";
    let resp = app
        .admin(Method::POST, path, Some(json!({"platform": "meta"})))
        .await;
    assert_problem(resp, 422, "no_test_event_code").await;
}

#[tokio::test]
async fn tiktok_test_event_refusals_name_the_problem() {
    let app = spawn_app().await;
    app.create_campaign_on_both("nocode").await;
    app.create_campaign("metaonly", json!({})).await;
    with_code(&app, "tt").await;

    assert_problem(tiktok_test(&app, "nocode").await, 422, "no_test_event_code").await;
    assert_problem(tiktok_test(&app, "metaonly").await, 422, "no_tiktok_pixel").await;
    let path = "/admin/v1/campaigns/tt/test-event";
    let resp = app
        .admin(Method::POST, path, Some(json!({"platform": "snap"})))
        .await;
    assert_problem(resp, 422, "invalid_field").await;

    app.tiktok.reset().await;
    FakeTikTok::code(40105, "Access token is incorrect or has been revoked.")
        .mount(&app.tiktok)
        .await;
    let resp = tiktok_test(&app, "tt").await;
    assert_eq!(resp.status(), 502);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "tiktok_refused");
    assert_eq!(body["tiktok"]["code"], 40105, "{body}");
    assert_eq!(body["tiktok"]["request_id"], FAKE_REQUEST_ID);
    assert!(body["detail"].as_str().unwrap().contains("revoked"));

    app.tiktok.reset().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"))
        .mount(&app.tiktok)
        .await;
    assert_problem(tiktok_test(&app, "tt").await, 502, "tiktok_unreachable").await;

    app.tiktok.reset().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&app.tiktok)
        .await;
    assert_problem(tiktok_test(&app, "tt").await, 504, "tiktok_timeout").await;
}
