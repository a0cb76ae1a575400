//! Operations: Prometheus metrics, the click rate limit, the postback IP allow list, the
//! retention job and the erasure of one click on request.

use std::time::Duration;

use capi_bridge::storage::privacy::{apply_retention, RetentionReport};
use reqwest::header::RETRY_AFTER;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

const EM_JOHN: &str = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";
const NETWORK_UA: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Mobile";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Status and JSON body of an answer.
async fn answer(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"));
    (status, body)
}

/// A problem body with `status` and `code` (checked by the shared helper); returns the
/// response headers.
async fn assert_problem(
    resp: reqwest::Response,
    status: u16,
    code: &str,
) -> reqwest::header::HeaderMap {
    let headers = resp.headers().clone();
    crate::helpers::assert_problem(resp, status, code).await;
    headers
}

/// The exposition has exactly this line.
#[track_caller]
fn assert_line(text: &str, line: &str) {
    assert!(
        text.lines().any(|l| l == line),
        "no line {line:?} in:\n{text}"
    );
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn exec(app: &TestApp, sql: &str) -> u64 {
    sqlx::query(sql)
        .execute(&app.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .rows_affected()
}

/// A click on `offer1`, from a browser, with an email and an IP of its own.
fn click_body(click_id: &str) -> Value {
    json!({
        "campaign": "offer1",
        "click_id": click_id,
        "client_ip_address": "203.0.113.7",
        "em": "John_Smith@gmail.com",
    })
}

async fn click(app: &TestApp, click_id: &str) {
    let resp = app.register_click(click_body(click_id)).await;
    assert_eq!(resp.status(), 201, "register click {click_id}");
}

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

/// A keitaro postback that must be accepted with one event.
async fn accepted(app: &TestApp, query: &str) -> i64 {
    let (status, body) = answer(app.postback("keitaro", query).await).await;
    assert_eq!(status, 200, "{query}: {body}");
    assert_eq!(body["status"], "accepted", "{query}: {body}");
    body["conversion_id"].as_i64().expect("conversion_id")
}

/// A keitaro postback carrying the network's own IP, User-Agent and email.
fn with_pii(subid: &str, status: &str) -> String {
    format!(
        "subid={subid}&status={status}&tid=T-{subid}-{status}&ip=198.51.100.44&ua={}&em=John_Smith%40gmail.com&fbclid=IwAR_Network",
        urlencode(NETWORK_UA)
    )
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
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

/// Personal fields of the conversions of `click_id`: (ip, user_agent, em, fbclid) per row.
type Pii = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

async fn conversion_pii(app: &TestApp, click_id: &str) -> Vec<Pii> {
    sqlx::query_as(
        "SELECT ip, user_agent, em, fbclid FROM conversions WHERE click_id = $1 ORDER BY id",
    )
    .bind(click_id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// What `with_pii` puts on a conversion.
fn network_pii() -> Pii {
    (
        Some("198.51.100.44".to_owned()),
        Some(NETWORK_UA.to_owned()),
        Some(EM_JOHN.to_owned()),
        Some("IwAR_Network".to_owned()),
    )
}

/// (event_name, state, payload present) of the events of `click_id`'s conversions.
async fn event_rows(app: &TestApp, click_id: &str) -> Vec<(String, String, bool)> {
    sqlx::query_as(
        "SELECT e.event_name, e.state, e.payload IS NOT NULL FROM events e \
         JOIN conversions c ON c.id = e.conversion_id WHERE c.click_id = $1 ORDER BY e.id",
    )
    .bind(click_id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn metrics_need_the_metrics_token_not_the_admin_token() {
    let app = spawn_app().await;

    let resp = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_problem(resp, 401, "unauthorized").await;
    for wrong in ["not-the-metrics-token-at-all", ADMIN_TOKEN, POSTBACK_KEY] {
        let resp = app
            .client
            .get(app.url("/metrics"))
            .bearer_auth(wrong)
            .send()
            .await
            .unwrap();
        assert_problem(resp, 401, "unauthorized").await;
    }

    let text = app.scrape_metrics().await;
    assert!(text.ends_with("# EOF\n"), "OpenMetrics ends with # EOF");
    assert_line(
        &text,
        r#"capi_bridge_http_requests_total{route="/metrics",method="GET",status="401"} 4"#,
    );
}

/// Without METRICS_TOKEN or METRICS_ADDR nothing grants /metrics, and the answer says how to
/// turn it on.
#[tokio::test]
async fn metrics_are_off_without_a_token_or_a_listener() {
    let app = spawn_app_with(&[NO_METRICS_TOKEN]).await;
    for token in [None, Some(ADMIN_TOKEN), Some(METRICS_TOKEN)] {
        let mut req = app.client.get(app.url("/metrics"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let detail =
            crate::helpers::assert_problem(req.send().await.unwrap(), 403, "metrics_not_enabled")
                .await;
        assert!(
            detail.contains("METRICS_TOKEN") && detail.contains("METRICS_ADDR"),
            "{detail}"
        );
    }
}

/// METRICS_ADDR serves /metrics without authentication and nothing else; the main port then
/// refuses it (no METRICS_TOKEN), even with the admin token.
#[tokio::test]
async fn metrics_addr_serves_metrics_openly_and_only_metrics() {
    let app = spawn_app_with(&[NO_METRICS_TOKEN, "--metrics-addr", "127.0.0.1:0"]).await;
    let port = app.metrics_port.expect("a metrics listener");
    assert_ne!(port, app.port);
    let metrics_url = |path: &str| format!("http://127.0.0.1:{port}{path}");

    let resp = app
        .client
        .get(metrics_url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().ends_with("# EOF\n"));
    for path in ["/healthz", "/admin/v1/campaigns", "/v1/clicks"] {
        let resp = app.client.get(metrics_url(path)).send().await.unwrap();
        assert_problem(resp, 404, "route_not_found").await;
    }

    let resp = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    let detail = crate::helpers::assert_problem(resp, 403, "metrics_not_enabled").await;
    assert!(detail.contains("METRICS_ADDR"), "{detail}");
}

#[tokio::test]
async fn metrics_count_a_click_a_postback_and_a_delivery() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "m-1").await;
    accepted(&app, "subid=m-1&status=lead&payout=5").await;

    let before = app.scrape_metrics().await;
    assert_line(
        &before,
        r#"capi_bridge_events{platform="meta",state="pending"} 1"#,
    );
    assert_line(&before, r#"capi_bridge_outbox_depth{platform="meta"} 1"#);
    assert_line(&before, r#"capi_bridge_outbox_depth{platform="tiktok"} 0"#);
    assert_line(
        &before,
        r#"capi_bridge_delivery_request_seconds_count{platform="meta"} 0"#,
    );

    let report = app.deliver().await;
    assert_eq!(report.delivered, 1, "{report:?}");

    let text = app.scrape_metrics().await;
    assert_line(
        &text,
        r#"capi_bridge_http_requests_total{route="/v1/clicks",method="POST",status="201"} 1"#,
    );
    assert_line(
        &text,
        r#"capi_bridge_http_requests_total{route="/v1/postback/{tracker}",method="GET",status="200"} 1"#,
    );
    assert_line(
        &text,
        r#"capi_bridge_http_requests_total{route="/admin/v1/campaigns",method="POST",status="201"} 1"#,
    );
    assert_line(
        &text,
        r#"capi_bridge_http_requests_total{route="/metrics",method="GET",status="200"} 1"#,
    );
    assert_line(&text, r#"capi_bridge_clicks_stored_total{result="new"} 1"#);
    assert!(
        !text.contains(r#"result="merged""#),
        "no merged click:\n{text}"
    );
    assert_line(
        &text,
        r#"capi_bridge_postbacks_total{tracker="keitaro",outcome="accepted"} 1"#,
    );
    assert_line(
        &text,
        r#"capi_bridge_events{platform="meta",state="sent"} 1"#,
    );
    assert_line(
        &text,
        r#"capi_bridge_events{platform="meta",state="pending"} 0"#,
    );
    assert_line(
        &text,
        r#"capi_bridge_events{platform="meta",state="failed"} 0"#,
    );
    assert_line(
        &text,
        r#"capi_bridge_events{platform="tiktok",state="sent"} 0"#,
    );
    assert_line(&text, r#"capi_bridge_conversions{state="sent"} 1"#);
    assert!(
        !text.contains(r#"state="queued""#),
        "a state the API does not use"
    );
    assert_line(&text, r#"capi_bridge_outbox_depth{platform="meta"} 0"#);
    assert_line(
        &text,
        r#"capi_bridge_delivery_attempts_total{platform="meta",outcome="sent"} 1"#,
    );
    assert_line(
        &text,
        r#"capi_bridge_delivery_request_seconds_count{platform="meta"} 1"#,
    );
    assert_line(
        &text,
        r#"capi_bridge_delivery_request_seconds_bucket{le="+Inf",platform="meta"} 1"#,
    );
    assert!(
        !text.contains("capi_bridge_meta_errors_total{"),
        "no Meta error:\n{text}"
    );
}

#[tokio::test]
async fn metrics_label_unknown_routes_unmatched_never_with_the_raw_path() {
    let app = spawn_app().await;

    let resp = app.client.get(app.url("/nope/123")).send().await.unwrap();
    assert_problem(resp, 404, "route_not_found").await;
    let resp = app
        .client
        .get(app.url("/nope/456?x=1"))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 404, "route_not_found").await;
    let resp = app.admin(Method::GET, "/admin/v1/nope/789", None).await;
    assert_problem(resp, 404, "route_not_found").await;
    // A route with a parameter is labelled with its pattern, not the id in the path.
    let resp = app
        .admin(Method::GET, "/admin/v1/clicks/secret-click-77", None)
        .await;
    assert_problem(resp, 404, "click_not_found").await;

    let text = app.scrape_metrics().await;
    assert_line(
        &text,
        r#"capi_bridge_http_requests_total{route="unmatched",method="GET",status="404"} 3"#,
    );
    assert_line(
        &text,
        r#"capi_bridge_http_requests_total{route="/admin/v1/clicks/{click_id}",method="GET",status="404"} 1"#,
    );
    assert!(!text.contains("nope"), "raw path in a label:\n{text}");
    assert!(
        !text.contains("secret-click-77"),
        "raw id in a label:\n{text}"
    );
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
    let headers = assert_problem(resp, 429, "rate_limited").await;
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
#[tokio::test]
async fn a_click_after_waiting_retry_after_is_accepted() {
    let app = spawn_app_with(&["--click-rate-limit", "3/m"]).await;
    app.create_campaign("offer1", json!({})).await;
    for id in ["ra-1", "ra-2", "ra-3"] {
        click(&app, id).await;
    }
    let resp = app.register_click(click_body("ra-4")).await;
    let headers = assert_problem(resp, 429, "rate_limited").await;
    let retry_after: u64 = headers[RETRY_AFTER].to_str().unwrap().parse().unwrap();

    tokio::time::sleep(Duration::from_secs(retry_after)).await;

    let resp = app.register_click(click_body("ra-4")).await;
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

// ---------------------------------------------------------------------------------------------
// Retention
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn retention_deletes_old_clicks_and_erases_old_payloads_and_personal_data_in_batches() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    for id in ["r-1", "r-2", "r-3", "r-4", "r-5"] {
        click(&app, id).await;
    }
    for id in ["r-1", "r-2", "r-3", "r-5"] {
        accepted(&app, &with_pii(id, "lead")).await;
    }
    let report = app.deliver().await;
    assert_eq!(report.delivered, 4, "{report:?}");
    // r-4's event is still waiting for Meta when it grows old.
    accepted(&app, &with_pii("r-4", "lead")).await;

    exec(
        &app,
        "UPDATE clicks SET first_seen_at = now() - interval '31 days' \
         WHERE click_id IN ('r-1', 'r-2', 'r-3')",
    )
    .await;
    exec(
        &app,
        "UPDATE clicks SET first_seen_at = now() - interval '29 days' WHERE click_id = 'r-4'",
    )
    .await;
    exec(
        &app,
        "UPDATE events SET created_at = now() - interval '31 days' WHERE conversion_id IN \
         (SELECT id FROM conversions WHERE click_id IN ('r-1', 'r-2', 'r-3', 'r-4'))",
    )
    .await;
    exec(
        &app,
        "UPDATE events SET created_at = now() - interval '29 days' WHERE conversion_id IN \
         (SELECT id FROM conversions WHERE click_id = 'r-5')",
    )
    .await;
    exec(
        &app,
        "UPDATE conversions SET received_at = now() - interval '31 days' \
         WHERE click_id IN ('r-1', 'r-2', 'r-3', 'r-4')",
    )
    .await;
    exec(
        &app,
        "UPDATE conversions SET received_at = now() - interval '29 days' WHERE click_id = 'r-5'",
    )
    .await;

    // Refused postbacks: three past the retention, one within it.
    exec(
        &app,
        "INSERT INTO refused_postbacks (received_at, tracker, code, detail, params) \
         SELECT now() - make_interval(days => d), 'keitaro', 'unfilled_status', 'x', '{}' \
         FROM unnest(ARRAY[31, 32, 40, 29]) AS d",
    )
    .await;

    let thirty_days = Duration::from_secs(30 * 86400);
    let report = apply_retention(&app.pool, thirty_days, thirty_days, 2)
        .await
        .unwrap();
    assert_eq!(
        report,
        RetentionReport {
            clicks_deleted: 3,
            payloads_erased: 3,
            conversions_scrubbed: 3,
            refused_postbacks_deleted: 3,
        }
    );

    let clicks: Vec<String> = sqlx::query_scalar("SELECT click_id FROM clicks ORDER BY click_id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(clicks, ["r-4", "r-5"]);
    for id in ["r-1", "r-2", "r-3"] {
        assert_eq!(
            event_rows(&app, id).await,
            [("Lead".to_owned(), "sent".to_owned(), false)],
            "{id}"
        );
        assert_eq!(
            conversion_pii(&app, id).await,
            [(None, None, None, None)],
            "{id}"
        );
    }
    // Recent: untouched.
    assert_eq!(
        event_rows(&app, "r-5").await,
        [("Lead".to_owned(), "sent".to_owned(), true)]
    );
    assert_eq!(conversion_pii(&app, "r-5").await, [network_pii()]);
    // Old but still waiting for Meta: untouched, and still delivered.
    assert_eq!(
        event_rows(&app, "r-4").await,
        [("Lead".to_owned(), "pending".to_owned(), true)]
    );
    assert_eq!(conversion_pii(&app, "r-4").await, [network_pii()]);
    // Nothing else left to do.
    let again = apply_retention(&app.pool, thirty_days, thirty_days, 2)
        .await
        .unwrap();
    assert_eq!(again, RetentionReport::default());

    let report = app.deliver().await;
    assert_eq!(report.delivered, 1, "{report:?}");
    let events = app.graph_events().await;
    assert_eq!(events.len(), 5);
    let last = &events[4];
    assert_eq!(last["event_id"], "Lead-r-4");
    assert_eq!(last["user_data"]["client_ip_address"], "203.0.113.7");
    assert_eq!(last["user_data"]["client_user_agent"], BROWSER_UA);
    assert_eq!(last["user_data"]["em"], json!([EM_JOHN]));

    // Once sent, the old event and its conversion are erased by the next pass.
    let report = apply_retention(&app.pool, thirty_days, thirty_days, 2)
        .await
        .unwrap();
    assert_eq!(
        report,
        RetentionReport {
            clicks_deleted: 0,
            payloads_erased: 1,
            conversions_scrubbed: 1,
            refused_postbacks_deleted: 0,
        }
    );
    assert_eq!(
        event_rows(&app, "r-4").await,
        [("Lead".to_owned(), "sent".to_owned(), false)]
    );
    assert_eq!(
        conversion_pii(&app, "r-4").await,
        [(None, None, None, None)]
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM clicks WHERE click_id = 'r-4'").await,
        1
    );
}

/// An event parked on a token error and erased by retention cannot be sent any more: a new
/// token must not put it back in the outbox, where it would wait forever.
#[tokio::test]
async fn a_new_token_does_not_requeue_an_event_whose_payload_retention_erased() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "au-1").await;
    app.graph.reset().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(graph_error(400, 190, Some(463), false, "token expired"))
        .mount(&app.graph)
        .await;
    accepted(&app, &with_pii("au-1", "lead")).await;
    let report = app.deliver().await;
    assert_eq!(report.failed, 1, "{report:?}");
    assert_eq!(
        event_rows(&app, "au-1").await,
        [("Lead".to_owned(), "failed".to_owned(), true)]
    );

    // Nobody fixed the token for a month.
    exec(
        &app,
        "UPDATE events SET created_at = now() - interval '31 days', \
            event_time = now() - interval '31 days'",
    )
    .await;
    exec(
        &app,
        "UPDATE conversions SET received_at = now() - interval '31 days', \
            event_time = now() - interval '31 days'",
    )
    .await;
    let thirty_days = Duration::from_secs(30 * 86400);
    let report = apply_retention(&app.pool, thirty_days, thirty_days, 2)
        .await
        .unwrap();
    assert_eq!(
        report,
        RetentionReport {
            clicks_deleted: 0,
            payloads_erased: 1,
            conversions_scrubbed: 1,
            refused_postbacks_deleted: 0,
        }
    );

    app.graph.reset().await;
    mount_graph_ok(&app.graph).await;
    let resp = app
        .admin(
            Method::PATCH,
            "/admin/v1/campaigns/offer1",
            Some(json!({"access_token": "EAAnew-token-after-refresh-42"})),
        )
        .await;
    assert_eq!(resp.status(), 200);

    let report = app.deliver().await;
    assert_eq!(report.claimed, 0, "{report:?}");
    assert!(app.graph_requests().await.is_empty());
    let rows = event_rows(&app, "au-1").await;
    assert_ne!(
        rows[0].1, "pending",
        "a payload-less event is back in the outbox"
    );
    let text = app.scrape_metrics().await;
    assert_line(&text, r#"capi_bridge_outbox_depth{platform="meta"} 0"#);
    assert_line(
        &text,
        r#"capi_bridge_events{platform="meta",state="pending"} 0"#,
    );
}

// ---------------------------------------------------------------------------------------------
// Erasure of one click
// ---------------------------------------------------------------------------------------------

/// A click with em, IP and User-Agent; a lead delivered to Meta; a sale still waiting.
async fn erasable(app: &TestApp, click_id: &str) {
    app.create_campaign("offer1", json!({})).await;
    let resp = app
        .register_click(json!({
            "campaign": "offer1", "click_id": click_id, "fbclid": "IwAR_Erase",
            "client_ip_address": "203.0.113.7", "em": "John_Smith@gmail.com",
        }))
        .await;
    assert_eq!(resp.status(), 201);
    accepted(app, &with_pii(click_id, "lead")).await;
    let report = app.deliver().await;
    assert_eq!(report.delivered, 1, "{report:?}");
    accepted(app, &with_pii(click_id, "sale")).await;
}

#[tokio::test]
async fn erasing_a_click_deletes_it_scrubs_its_conversions_and_cancels_its_unsent_events() {
    let app = spawn_app().await;
    erasable(&app, "er-1").await;
    // Another visitor's data is not touched.
    let resp = app
        .register_click(
            json!({"campaign": "offer1", "click_id": "er-other", "em": "mary@example.com"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    accepted(&app, &with_pii("er-other", "sale")).await;

    let resp = app
        .admin(Method::DELETE, "/admin/v1/clicks/er-1", None)
        .await;
    let (status, body) = answer(resp).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "clicks_deleted": 1,
            "conversions_scrubbed": 2,
            "events_erased": 2,
            "events_cancelled": 1,
        })
    );

    assert_eq!(
        count(&app, "SELECT count(*) FROM clicks WHERE click_id = 'er-1'").await,
        0
    );
    assert_eq!(
        conversion_pii(&app, "er-1").await,
        [(None, None, None, None), (None, None, None, None)]
    );
    assert_eq!(
        event_rows(&app, "er-1").await,
        [
            ("Lead".to_owned(), "sent".to_owned(), false),
            ("Purchase".to_owned(), "failed".to_owned(), false),
        ]
    );
    let (class, error): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT e.failure_class, e.last_error FROM events e JOIN conversions c \
         ON c.id = e.conversion_id WHERE c.click_id = 'er-1' AND e.state = 'failed'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(class.as_deref(), Some("erased"));
    assert!(error.is_some());

    // Only the other visitor's sale goes to Meta.
    let report = app.deliver().await;
    assert_eq!(report.claimed, 1, "{report:?}");
    assert_eq!(report.delivered, 1, "{report:?}");
    let events = app.graph_events().await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["event_id"], "Purchase-er-other");
    let report = app.deliver().await;
    assert_eq!(report.claimed, 0, "{report:?}");
    assert_eq!(app.graph_requests().await.len(), 2);
    assert_eq!(
        event_rows(&app, "er-other").await,
        [("Purchase".to_owned(), "sent".to_owned(), true)]
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM clicks WHERE click_id = 'er-other'"
        )
        .await,
        1
    );

    let resp = app.admin(Method::GET, "/admin/v1/clicks/er-1", None).await;
    assert_problem(resp, 404, "click_not_found").await;
}

#[tokio::test]
async fn erasing_an_unknown_click_is_404() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = app
        .admin(Method::DELETE, "/admin/v1/clicks/never-seen", None)
        .await;
    assert_problem(resp, 404, "click_not_found").await;
    let resp = app
        .admin(
            Method::DELETE,
            "/admin/v1/clicks/not%20a%20click%20id",
            None,
        )
        .await;
    assert_problem(resp, 404, "click_not_found").await;
}

#[tokio::test]
async fn erasing_a_click_needs_the_admin_token() {
    let app = spawn_app().await;
    erasable(&app, "er-1").await;

    let resp = app
        .client
        .delete(app.url("/admin/v1/clicks/er-1"))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 401, "unauthorized").await;
    let resp = app
        .client
        .delete(app.url("/admin/v1/clicks/er-1"))
        .bearer_auth(POSTBACK_KEY)
        .send()
        .await
        .unwrap();
    assert_problem(resp, 401, "unauthorized").await;

    assert_eq!(
        count(&app, "SELECT count(*) FROM clicks WHERE click_id = 'er-1'").await,
        1
    );
    assert_eq!(
        event_rows(&app, "er-1").await,
        [
            ("Lead".to_owned(), "sent".to_owned(), true),
            ("Purchase".to_owned(), "pending".to_owned(), true),
        ]
    );
    let report = app.deliver().await;
    assert_eq!(report.delivered, 1, "{report:?}");
}

#[tokio::test]
async fn erasing_a_click_twice_is_404_the_second_time() {
    let app = spawn_app().await;
    erasable(&app, "er-1").await;

    let resp = app
        .admin(Method::DELETE, "/admin/v1/clicks/er-1", None)
        .await;
    assert_eq!(resp.status(), 200);

    let resp = app
        .admin(Method::DELETE, "/admin/v1/clicks/er-1", None)
        .await;
    assert_problem(resp, 404, "click_not_found").await;
}
