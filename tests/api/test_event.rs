//! `POST /admin/v1/campaigns/{key}/test-event`: one synthetic event sent to Meta at once, with
//! the campaign's test_event_code, answered with Meta's verdict; nothing is stored.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{assert_problem, received, spawn_app, TestApp, ACCESS_TOKEN, LANDING_URL};

async fn test_event(app: &TestApp, key: &str, body: Option<Value>) -> reqwest::Response {
    app.admin(
        Method::POST,
        &format!("/admin/v1/campaigns/{key}/test-event"),
        body,
    )
    .await
}

async fn stored_rows(app: &TestApp) -> (i64, i64) {
    sqlx::query_as("SELECT (SELECT count(*) FROM conversions), (SELECT count(*) FROM events)")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn test_event_reaches_meta_with_the_code_and_answers_its_verdict() {
    let app = spawn_app().await;
    app.create_campaign("tested", json!({"test_event_code": "TEST4242"}))
        .await;

    let resp = test_event(&app, "tested", None).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["events_received"], 1, "{body}");
    assert_eq!(body["fbtrace_id"], "AbFakeTrace", "{body}");
    assert_eq!(body["test_event_code"], "TEST4242");

    let resp = test_event(&app, "tested", Some(json!({"event_name": "Purchase"}))).await;
    assert_eq!(resp.status(), 200);

    let sent = received(&app.graph).await;
    assert_eq!(sent.len(), 2);
    let (path, request) = &sent[0];
    assert_eq!(path, "/v26.0/1234567890/events");
    assert_eq!(request["test_event_code"], "TEST4242");
    assert_eq!(request["access_token"], ACCESS_TOKEN);
    let event = &request["data"][0];
    assert_eq!(event["event_name"], "Lead");
    assert_eq!(event["action_source"], "website");
    assert_eq!(event["event_source_url"], LANDING_URL);
    // The test's requests come from 127.0.0.1: never sent to Meta.
    assert_eq!(event["user_data"].get("client_ip_address"), None, "{event}");
    assert!(
        event["user_data"]["client_user_agent"].is_string(),
        "{event}"
    );
    let age = chrono::Utc::now().timestamp() - event["event_time"].as_i64().unwrap();
    assert!((0..60).contains(&age), "event_time {age}s ago");
    assert_eq!(body["event"], *event, "the answer shows what was sent");
    let purchase = &sent[1].1["data"][0];
    assert_eq!(purchase["event_name"], "Purchase");
    assert_eq!(purchase["custom_data"]["currency"], "USD", "{purchase}");
    assert_ne!(purchase["event_id"], event["event_id"]);

    assert_eq!(stored_rows(&app).await, (0, 0), "not a conversion");
}

#[tokio::test]
async fn test_event_refusals_name_the_problem() {
    let app = spawn_app().await;
    app.create_campaign("nocode", json!({})).await;
    app.create_campaign("coded", json!({"test_event_code": "TEST1"}))
        .await;

    let detail = assert_problem(
        test_event(&app, "nocode", None).await,
        422,
        "no_test_event_code",
    )
    .await;
    assert!(detail.contains("test_event_code"), "{detail}");
    assert_problem(
        test_event(&app, "absent", None).await,
        404,
        "campaign_not_found",
    )
    .await;
    let detail = assert_problem(
        test_event(&app, "coded", Some(json!({"event_name": "Lead!\n"}))).await,
        422,
        "invalid_field",
    )
    .await;
    assert!(detail.starts_with("event_name"), "{detail}");
    assert_problem(
        test_event(&app, "coded", Some(json!({"event": "Lead"}))).await,
        400,
        "invalid_body",
    )
    .await;
    // Without a landing_url a website event has no page URL, which Meta requires.
    app.admin(
        Method::PATCH,
        "/admin/v1/campaigns/coded",
        Some(json!({"landing_url": null})),
    )
    .await;
    let detail = assert_problem(
        test_event(&app, "coded", None).await,
        422,
        "test_event_incomplete",
    )
    .await;
    assert!(detail.contains("event_source_url"), "{detail}");
    assert!(
        received(&app.graph).await.is_empty(),
        "nothing reached Meta"
    );
}

#[tokio::test]
async fn metas_error_is_a_502_with_its_code_subcode_and_message() {
    let app = spawn_app().await;
    app.create_campaign("refused", json!({"test_event_code": "TEST1"}))
        .await;
    crate::helpers::meta::refuses_the_token(&app).await;

    let resp = test_event(&app, "refused", None).await;
    assert_eq!(resp.status(), 502);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "meta_refused", "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("The access token has expired."),
        "{body}"
    );
    assert_eq!(body["meta"]["code"], 190);
    assert_eq!(body["meta"]["error_subcode"], 463);
    assert_eq!(body["meta"]["message"], "Invalid parameter");
    assert_eq!(body["meta"]["fbtrace_id"], "AbErrTrace");
    assert_eq!(body["meta"]["http_status"], 400);
    assert_eq!(stored_rows(&app).await, (0, 0));
}

#[tokio::test]
async fn meta_silent_or_unreadable_is_a_504_or_502() {
    let app = spawn_app().await; // --delivery-timeout 2s
    app.create_campaign("slow", json!({"test_event_code": "TEST1"}))
        .await;
    app.graph.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .up_to_n_times(1)
        .mount(&app.graph)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("<html>down</html>"))
        .mount(&app.graph)
        .await;

    let detail = assert_problem(test_event(&app, "slow", None).await, 504, "meta_timeout").await;
    assert!(detail.contains("timeout"), "{detail}");
    let resp = test_event(&app, "slow", None).await;
    assert_eq!(resp.status(), 502);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "meta_unreachable", "{body}");
    assert_eq!(body["meta"]["http_status"], 503, "{body}");
}
