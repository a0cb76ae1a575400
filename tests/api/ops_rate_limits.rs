//! Operations: the click rate limit per address, and the postback IP allow list, also
//! behind a trusted proxy.

use crate::helpers::ops::*;
use crate::helpers::*;
use reqwest::header::RETRY_AFTER;
use serde_json::json;
use std::time::Duration;

/// POST /v1/clicks as if forwarded by a proxy for `forwarded_for`.
async fn click_via(app: &TestApp, forwarded_for: &str, click_id: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/clicks"))
        .header("user-agent", BROWSER_UA)
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"campaign": "offer1", "click_id": click_id}))
        .send()
        .await
        .unwrap()
}

/// GET /v1/postback/keitaro with the right key, as if forwarded by a proxy for `forwarded_for`.
async fn postback_via(app: &TestApp, forwarded_for: &str, query: &str) -> reqwest::Response {
    app.client
        .get(format!(
            "{}/v1/postback/keitaro?key={POSTBACK_KEY}&{query}",
            app.address
        ))
        .header("x-forwarded-for", forwarded_for)
        .send()
        .await
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Click rate limit
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_fourth_click_in_a_minute_from_one_address_is_429_and_stores_nothing() {
    let app = spawn_app_with(&["--click-rate-limit", "3/m"]).await;
    app.create_campaign("offer1", json!({})).await;
    for id in ["rl-1", "rl-2", "rl-3"] {
        click(&app, id).await;
    }

    // The address in the body is the visitor's, not the caller's: it does not buy a new budget.
    let resp = app
        .register_click(json!({
            "campaign": "offer1", "click_id": "rl-4", "client_ip_address": "198.51.100.99"
        }))
        .await;
    let (headers, _) = assert_problem_headers(resp, 429, "rate_limited").await;
    let retry_after: u64 = headers
        .get(RETRY_AFTER)
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After is seconds");
    // 3 per minute: one comes back every 20 s.
    assert!((1..=20).contains(&retry_after), "Retry-After {retry_after}");

    // The GET form shares the budget; a merge of a known click too.
    let resp = app
        .client
        .get(app.url("/v1/clicks?campaign=offer1&click_id=rl-5"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_problem(resp, 429, "rate_limited").await;
    let resp = app.register_click(click_body("rl-1")).await;
    assert_problem(resp, 429, "rate_limited").await;

    assert_eq!(count(&app, "SELECT count(*) FROM clicks").await, 3);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM clicks WHERE click_id IN ('rl-4', 'rl-5')"
        )
        .await,
        0
    );
    let text = app.scrape_metrics().await;
    assert_line(&text, r#"capi_bridge_clicks_stored_total{result="new"} 3"#);
    assert_line(
        &text,
        r#"capi_bridge_http_requests_total{route="/v1/clicks",method="POST",status="429"} 2"#,
    );
    assert_line(
        &text,
        r#"capi_bridge_http_requests_total{route="/v1/clicks",method="GET",status="429"} 1"#,
    );
}

/// The server says how long to wait; a client that waits exactly that long must get through.
/// One click a second keeps that wait at one second (Retry-After is whole seconds).
#[tokio::test]
async fn a_click_after_waiting_retry_after_is_accepted() {
    let app = spawn_app_with(&["--click-rate-limit", "1/s"]).await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "ra-1").await;
    let resp = app.register_click(click_body("ra-2")).await;
    let (headers, _) = assert_problem_headers(resp, 429, "rate_limited").await;
    let retry_after: u64 = headers[RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert_eq!(retry_after, 1);

    tokio::time::sleep(Duration::from_secs(retry_after)).await;

    let resp = app.register_click(click_body("ra-2")).await;
    assert_eq!(
        resp.status(),
        201,
        "refused after waiting Retry-After: {retry_after}s"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_address_has_its_own_budget() {
    let app = spawn_app_with(&[
        "--click-rate-limit",
        "3/m",
        "--trusted-proxies",
        "127.0.0.1/32",
    ])
    .await;
    app.create_campaign("offer1", json!({})).await;

    for n in 1..=3 {
        let resp = click_via(&app, "198.51.100.1", &format!("a-{n}")).await;
        assert_eq!(resp.status(), 201, "a-{n}");
    }
    let resp = click_via(&app, "198.51.100.1", "a-4").await;
    assert_problem(resp, 429, "rate_limited").await;
    // A client cannot escape by prepending its own X-Forwarded-For: the proxy appends the real one.
    let resp = click_via(&app, "192.0.2.200, 198.51.100.1", "a-5").await;
    assert_problem(resp, 429, "rate_limited").await;

    for n in 1..=3 {
        let resp = click_via(&app, "198.51.100.2", &format!("b-{n}")).await;
        assert_eq!(resp.status(), 201, "b-{n}");
    }
    let resp = click_via(&app, "198.51.100.2", "b-4").await;
    assert_problem(resp, 429, "rate_limited").await;

    // The proxy itself (no X-Forwarded-For) is one more client with its own budget.
    for n in 1..=3 {
        click(&app, &format!("p-{n}")).await;
    }
    let resp = app.register_click(click_body("p-4")).await;
    assert_problem(resp, 429, "rate_limited").await;

    assert_eq!(count(&app, "SELECT count(*) FROM clicks").await, 9);
    let stored: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT click_id, client_ip_address FROM clicks ORDER BY click_id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let expected: Vec<(String, Option<String>)> = [
        ("a-1", "198.51.100.1"),
        ("a-2", "198.51.100.1"),
        ("a-3", "198.51.100.1"),
        ("b-1", "198.51.100.2"),
        ("b-2", "198.51.100.2"),
        ("b-3", "198.51.100.2"),
        ("p-1", "203.0.113.7"),
        ("p-2", "203.0.113.7"),
        ("p-3", "203.0.113.7"),
    ]
    .iter()
    .map(|(c, ip)| (c.to_string(), Some(ip.to_string())))
    .collect();
    assert_eq!(stored, expected);
}

#[tokio::test]
async fn postbacks_are_not_rate_limited() {
    let app = spawn_app_with(&["--click-rate-limit", "3/m"]).await;
    app.create_campaign("offer1", json!({})).await;
    for id in ["k-1", "k-2", "k-3"] {
        click(&app, id).await;
    }
    let resp = app.register_click(click_body("k-4")).await;
    assert_problem(resp, 429, "rate_limited").await;

    for id in ["k-1", "k-2", "k-3"] {
        accepted(&app, &format!("subid={id}&status=lead")).await;
        accepted(&app, &format!("subid={id}&status=sale&payout=10")).await;
    }
    let (status, body) = answer(app.postback("keitaro", "subid=k-1&status=lead").await).await;
    assert_eq!((status, &body["status"]), (200, &json!("duplicate")));

    assert_eq!(count(&app, "SELECT count(*) FROM conversions").await, 6);
    assert_eq!(count(&app, "SELECT count(*) FROM events").await, 6);
}

// ---------------------------------------------------------------------------------------------
// POSTBACK_ALLOWED_IPS
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_postback_from_outside_the_allow_list_is_403_and_records_nothing_even_with_the_key() {
    let app = spawn_app_with(&["--postback-allowed-ips", "10.0.0.0/8"]).await;
    app.create_campaign("offer1", json!({})).await;
    // Clicks are not restricted by the postback allow list.
    click(&app, "ip-1").await;

    let resp = app.postback("keitaro", "subid=ip-1&status=lead").await;
    assert_problem(resp, 403, "ip_not_allowed").await;
    let resp = app
        .client
        .post(app.url("/v1/postback/keitaro"))
        .header("x-postback-key", POSTBACK_KEY)
        .form(&[("subid", "ip-1"), ("status", "sale")])
        .send()
        .await
        .unwrap();
    assert_problem(resp, 403, "ip_not_allowed").await;
    // An unknown click with a campaign hint would be recorded as unmatched: it is not.
    let resp = app
        .postback("keitaro", "subid=ip-unknown&status=lead&campaign=offer1")
        .await;
    assert_problem(resp, 403, "ip_not_allowed").await;
    // X-Forwarded-For is not believed from an untrusted peer.
    let resp = postback_via(&app, "10.1.2.3", "subid=ip-1&status=lead").await;
    assert_problem(resp, 403, "ip_not_allowed").await;

    assert_eq!(count(&app, "SELECT count(*) FROM conversions").await, 0);
    assert_eq!(count(&app, "SELECT count(*) FROM events").await, 0);
    let report = app.deliver().await;
    assert_eq!(report.claimed, 0, "{report:?}");
    assert!(app.graph_requests().await.is_empty());
    let text = app.scrape_metrics().await;
    assert!(
        !text.contains("capi_bridge_postbacks_total{"),
        "no postback counted:\n{text}"
    );
}

#[tokio::test]
async fn a_postback_from_an_allowed_address_is_accepted() {
    let app = spawn_app_with(&["--postback-allowed-ips", "127.0.0.1/32"]).await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "ip-1").await;

    accepted(&app, "subid=ip-1&status=lead").await;
    // The allow list does not replace the key.
    let resp = app
        .client
        .get(app.url("/v1/postback/keitaro?key=wrong-key-0123456789&subid=ip-1&status=sale"))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 401, "unauthorized").await;

    assert_eq!(count(&app, "SELECT count(*) FROM conversions").await, 1);
    let report = app.deliver().await;
    assert_eq!(report.delivered, 1, "{report:?}");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_allow_list_checks_the_forwarded_address() {
    let app = spawn_app_with(&[
        "--trusted-proxies",
        "127.0.0.1/32",
        "--postback-allowed-ips",
        "198.51.100.0/24",
    ])
    .await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "fw-1").await;

    let resp = postback_via(&app, "203.0.113.9", "subid=fw-1&status=lead").await;
    assert_problem(resp, 403, "ip_not_allowed").await;
    // The proxy itself is not an allowed sender.
    let resp = app.postback("keitaro", "subid=fw-1&status=lead").await;
    assert_problem(resp, 403, "ip_not_allowed").await;
    // A forged allowed address in front of the real one does not help.
    let resp = postback_via(&app, "198.51.100.7, 203.0.113.9", "subid=fw-1&status=lead").await;
    assert_problem(resp, 403, "ip_not_allowed").await;
    assert_eq!(count(&app, "SELECT count(*) FROM conversions").await, 0);

    let (status, body) =
        answer(postback_via(&app, "198.51.100.7", "subid=fw-1&status=lead").await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "accepted", "{body}");
    assert_eq!(count(&app, "SELECT count(*) FROM conversions").await, 1);
    let report = app.deliver().await;
    assert_eq!(report.delivered, 1, "{report:?}");
}
