//! A campaign on Meta and TikTok, through real postbacks and deliveries to both fakes: the
//! conversion is as far as its least advanced platform, the admin view and metrics say which
//! platform stands where, and a retry (of the conversion or of the campaign's failed ones)
//! requeues only the failed platform's event, keeping its event id.

use reqwest::Method;
use serde_json::{json, Value};
use wiremock::MockServer;

use crate::helpers::tiktok::{FakeTikTok, FAKE_REQUEST_ID, PARAMETER_ERROR};
use crate::helpers::*;

const TT_MESSAGE: &str = "Invalid value for event_id: not a valid string.";

/// An app whose own fake TikTok gives `answer`.
async fn app_with_tiktok(answer: FakeTikTok) -> TestApp {
    let app = spawn_app().await;
    app.tiktok.reset().await;
    answer.mount(&app.tiktok).await;
    app.create_campaign(
        "both",
        // Both platforms get every lead (send_when.rs tests the per-click default).
        json!({"tiktok": {"pixel_code": "CTT0001", "access_token": "tt-token-0123456789",
                          "send_when": "always"}, "meta_send_when": "always"}),
    )
    .await;
    app
}

/// A lead on `click` with TikTok's click id; the conversion's id.
async fn lead(app: &TestApp, click: &str) -> i64 {
    let resp = app
        .register_click(json!({"campaign": "both", "click_id": click, "ttclid": "E.C.P.tt"}))
        .await;
    assert_eq!(resp.status(), 201);
    let resp = app
        .postback("keitaro", &format!("subid={click}&status=lead&payout=5"))
        .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    sqlx::query_scalar!("SELECT id FROM conversions WHERE click_id = $1", click)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// The admin API's retry of conversion `id`.
async fn retry(app: &TestApp, id: i64) -> reqwest::Response {
    let path = format!("/admin/v1/conversions/{id}/retry");
    app.admin(Method::POST, &path, None).await
}

async fn view(app: &TestApp, id: i64) -> Value {
    app.admin_get(&format!("/admin/v1/conversions/{id}")).await
}

/// (platform, state, attempts) of each delivery.
fn platforms(view: &Value) -> Vec<(String, String, i64)> {
    view["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["platform"].as_str().unwrap().to_owned(),
                d["state"].as_str().unwrap().to_owned(),
                d["attempts"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn row(platform: &str, state: &str, attempts: i64) -> (String, String, i64) {
    (platform.to_owned(), state.to_owned(), attempts)
}

/// Event ids TikTok received, in order.
async fn tiktok_event_ids(tiktok: &MockServer) -> Vec<String> {
    received(tiktok)
        .await
        .iter()
        .flat_map(|(_, body)| body["data"].as_array().cloned().unwrap_or_default())
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect()
}

fn line_value(metrics: &str, series: &str) -> Option<i64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn tiktok_refused_meta_sent_then_the_retry_sends_only_tiktoks_event() {
    let app = app_with_tiktok(FakeTikTok::code(PARAMETER_ERROR, TT_MESSAGE)).await;
    let tiktok = &app.tiktok;
    let id = lead(&app, "both-1").await;
    assert_eq!(view(&app, id).await["state"], "pending", "nothing sent yet");

    app.deliver().await;
    let v = view(&app, id).await;
    assert_eq!(v["state"], "failed", "TikTok failed, Meta sent: {v}");
    assert_eq!(
        platforms(&v),
        vec![row("meta", "sent", 1), row("tiktok", "failed", 1)]
    );
    let tt = &v["deliveries"][1];
    assert_eq!(tt["failure_class"], "invalid");
    assert_eq!(tt["attempts_log"][0]["error_code"], PARAMETER_ERROR);
    assert_eq!(tt["attempts_log"][0]["fbtrace_id"], FAKE_REQUEST_ID);
    assert_eq!(v["ttclid_set"], true);
    let tt_event_id = tt["event_id"].as_str().unwrap().to_owned();
    assert_eq!(tiktok_event_ids(tiktok).await, vec![tt_event_id.clone()]);

    let m = app.scrape_metrics().await;
    let cases = [
        (r#"capi_bridge_conversions{state="failed"}"#, Some(1)),
        (r#"capi_bridge_conversions{state="sent"}"#, Some(0)),
        (
            r#"capi_bridge_delivery_attempts_total{platform="tiktok",outcome="invalid"}"#,
            Some(1),
        ),
        (
            r#"capi_bridge_delivery_attempts_total{platform="meta",outcome="sent"}"#,
            Some(1),
        ),
        (
            r#"capi_bridge_platform_errors_total{platform="tiktok",code="40002"}"#,
            Some(1),
        ),
        (r#"capi_bridge_meta_errors_total{code="40002"}"#, None),
        (
            r#"capi_bridge_events{platform="tiktok",state="failed"}"#,
            Some(1),
        ),
        (
            r#"capi_bridge_events{platform="meta",state="sent"}"#,
            Some(1),
        ),
    ];
    for (series, want) in cases {
        assert_eq!(line_value(&m, series), want, "{series}\n{m}");
    }
    let failed = app.admin_get("/admin/v1/conversions?state=failed").await;
    assert_eq!(failed["conversions"].as_array().unwrap().len(), 1);

    // TikTok takes it now; the retry requeues TikTok's event alone, with its id.
    tiktok.reset().await;
    FakeTikTok::ok().mount(tiktok).await;
    let meta_requests = app.graph_requests().await.len();
    let resp = retry(&app, id).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"requeued": 1}));
    let v = view(&app, id).await;
    assert_eq!(v["state"], "pending");
    assert_eq!(
        platforms(&v),
        vec![row("meta", "sent", 1), row("tiktok", "pending", 1)]
    );
    app.deliver().await;
    let v = view(&app, id).await;
    assert_eq!(v["state"], "sent", "{v}");
    assert_eq!(
        platforms(&v),
        vec![row("meta", "sent", 1), row("tiktok", "sent", 2)]
    );
    assert_eq!(tiktok_event_ids(tiktok).await, vec![tt_event_id]);
    assert_eq!(
        app.graph_requests().await.len(),
        meta_requests,
        "Meta's event is not sent again"
    );

    // Nothing failed is left: a second retry is refused.
    let resp = retry(&app, id).await;
    assert_problem(resp, 409, "not_retryable").await;
}

#[tokio::test]
async fn tiktok_down_leaves_the_conversion_pending_while_meta_is_sent() {
    let app = app_with_tiktok(FakeTikTok::http(503, 50002, "busy")).await;
    let id = lead(&app, "both-2").await;
    app.deliver().await;
    let v = view(&app, id).await;
    assert_eq!(v["state"], "pending", "{v}");
    assert_eq!(
        platforms(&v),
        vec![row("meta", "sent", 1), row("tiktok", "pending", 1)]
    );
    assert!(v["deliveries"][1]["next_attempt_at"].is_string(), "{v}");
    let pending = app.admin_get("/admin/v1/conversions?state=pending").await;
    assert_eq!(pending["conversions"][0]["id"], id);
    let sent = app.admin_get("/admin/v1/conversions?state=sent").await;
    assert_eq!(sent["conversions"], json!([]));
    let m = app.scrape_metrics().await;
    assert_eq!(
        line_value(&m, r#"capi_bridge_outbox_depth{platform="tiktok"}"#),
        Some(1)
    );
    assert_eq!(
        line_value(&m, r#"capi_bridge_outbox_depth{platform="meta"}"#),
        Some(0)
    );
    assert_eq!(
        line_value(&m, r#"capi_bridge_conversions{state="pending"}"#),
        Some(1)
    );
    // Not failed anywhere: nothing to retry.
    let resp = retry(&app, id).await;
    assert_problem(resp, 409, "not_retryable").await;
}

#[tokio::test]
async fn retrying_a_campaigns_failed_conversions_covers_every_platform() {
    let app = app_with_tiktok(FakeTikTok::code(PARAMETER_ERROR, TT_MESSAGE)).await;
    let tiktok = &app.tiktok;
    let a = lead(&app, "both-3").await;
    let b = lead(&app, "both-4").await;
    app.deliver().await;
    for id in [a, b] {
        assert_eq!(view(&app, id).await["state"], "failed");
    }
    tiktok.reset().await;
    FakeTikTok::ok().mount(tiktok).await;
    let resp = app
        .admin(Method::POST, "/admin/v1/campaigns/both/retry-failed", None)
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"requeued": 2, "still_failed": 0, "more": false})
    );
    app.deliver().await;
    for id in [a, b] {
        let v = view(&app, id).await;
        assert_eq!(v["state"], "sent", "{v}");
        assert_eq!(
            platforms(&v),
            vec![row("meta", "sent", 1), row("tiktok", "sent", 2)]
        );
    }
}

/// Meta needs the page URL of a website event, TikTok does not: the lead goes to TikTok at
/// once and Meta's event waits, failed with the reason and the id Meta's pixel got, until the
/// campaign has a landing page and the conversion is retried.
#[tokio::test]
async fn an_event_only_meta_cannot_build_waits_failed_and_a_retry_sends_it() {
    let app = app_with_tiktok(FakeTikTok::ok()).await;
    let resp = app
        .admin(
            Method::PATCH,
            "/admin/v1/campaigns/both",
            Some(json!({"landing_url": null})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let id = lead(&app, "both-5").await;
    let v = view(&app, id).await;
    assert_eq!(
        v["state"], "pending",
        "as far as its least advanced platform: {v}"
    );
    assert_eq!(
        platforms(&v),
        vec![row("meta", "failed", 0), row("tiktok", "pending", 0)]
    );
    let meta = &v["deliveries"][0];
    assert_eq!(meta["event_id"], "Lead-both-5");
    assert_eq!(meta["failure_class"], "invalid");
    assert!(
        meta["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("event_source_url")),
        "{meta}"
    );
    app.deliver().await;
    assert_eq!(tiktok_event_ids(&app.tiktok).await, vec!["Lead-both-5"]);
    assert!(
        app.graph_requests().await.is_empty(),
        "nothing went to Meta"
    );

    let resp = app
        .admin(
            Method::PATCH,
            "/admin/v1/campaigns/both",
            Some(json!({"landing_url": "https://lp.example.com/offer"})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let resp = retry(&app, id).await;
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"requeued": 1}));
    app.deliver().await;
    let v = view(&app, id).await;
    assert_eq!(v["state"], "sent", "{v}");
    assert_eq!(
        v["reason"],
        Value::Null,
        "the build error is gone with its cause: {v}"
    );
    let sent = app.graph_events().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["event_id"], "Lead-both-5");
    assert_eq!(sent[0]["event_source_url"], "https://lp.example.com/offer");
    assert_eq!(
        tiktok_event_ids(&app.tiktok).await,
        vec!["Lead-both-5"],
        "TikTok once"
    );
}
