//! Operations: Prometheus metrics, behind the metrics token or on their own listener.

use crate::helpers::ops::*;
use crate::helpers::*;
use reqwest::Method;
use serde_json::json;

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
        let detail = assert_problem(req.send().await.unwrap(), 403, "metrics_not_enabled").await;
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
    let detail = assert_problem(resp, 403, "metrics_not_enabled").await;
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
