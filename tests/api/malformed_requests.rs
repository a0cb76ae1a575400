//! Bad input is never a 500: malformed requests to the public and admin endpoints are\nanswered 4xx (or the field dropped) and the server keeps answering.

use crate::helpers::errors::*;
use crate::helpers::*;
use reqwest::header::CONTENT_TYPE;
use reqwest::Method;
use serde_json::json;

async fn assert_healthy(app: &TestApp) {
    let resp = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("server still answers");
    assert_eq!(resp.status(), 200);
}

/// From a server-side caller (with the postback key): these fields are dropped from a public
/// call (tests/api/click_intake.rs) but refused from a caller trusted to set them.
fn keyed(mut bad: Bad) -> Bad {
    bad.headers
        .push(("x-postback-key", POSTBACK_KEY.to_owned()));
    bad
}

fn malformed_requests() -> Vec<Bad> {
    const JSON: &str = "application/json";
    const FORM: &str = "application/x-www-form-urlencoded";
    let key = POSTBACK_KEY;
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let many_event_ids: String = (0..40).map(|i| format!("&event_ids[E{i}]=x{i}")).collect();
    let many_params: String = (0..300).map(|i| format!("&p{i}=1")).collect();
    let mut list = vec![
        // Click capture, JSON and friends.
        post("/v1/clicks", JSON, "{"),
        post("/v1/clicks", JSON, "not json"),
        post("/v1/clicks", JSON, ""),
        post("/v1/clicks", JSON, "null"),
        post("/v1/clicks", JSON, "[]"),
        post("/v1/clicks", JSON, deep.clone()),
        post(
            "/v1/clicks",
            JSON,
            b"{\"campaign\": \"offer1\", \"click_id\": \"\xff\xfe\"}".to_vec(),
        ),
        post(
            "/v1/clicks",
            JSON,
            r#"{"campaign": "offer1", "click_id": "c1", "nope": 1}"#,
        ),
        post(
            "/v1/clicks",
            JSON,
            r#"{"campaign": "offer1", "click_id": "c1", "consent": "x"}"#,
        ),
        post(
            "/v1/clicks",
            JSON,
            r#"{"campaign": "offer1", "click_id": "c1", "event_ids": []}"#,
        ),
        post(
            "/v1/clicks",
            JSON,
            r#"{"campaign": "offer1", "click_id": "c1", "event_ids": {"": "x"}}"#,
        ),
        post(
            "/v1/clicks",
            JSON,
            r#"{"campaign": "offer1", "click_id": "c1", "event_ids": {"Lead": 5}}"#,
        ),
        post(
            "/v1/clicks",
            JSON,
            r#"{"campaign": "offer1", "click_id": "c1", "em": "@@"}"#,
        ),
        post(
            "/v1/clicks",
            JSON,
            r#"{"campaign": "offer1", "click_id": "c1", "db": "1990-13-45"}"#,
        ),
        post(
            "/v1/clicks",
            JSON,
            r#"{"campaign": "offer1", "click_id": "c1", "ge": "x"}"#,
        ),
        keyed(post(
            "/v1/clicks",
            JSON,
            r#"{"campaign": "offer1", "click_id": "c1", "client_user_agent": "a\u0001b"}"#,
        )),
        post(
            "/v1/clicks",
            JSON,
            r#"{"campaign": "offer1", "click_id": "c1", "fbclid": "a\u0000b"}"#,
        ),
        post(
            "/v1/clicks",
            JSON,
            r#"{"campaign": "offer1", "click_id": "c\u0000"}"#,
        ),
        post(
            "/v1/clicks",
            JSON,
            r#"{"campaign": "offer1", "click_id": "c1", "event_source_url": "https://x/\u0000"}"#,
        ),
        post(
            "/v1/clicks",
            JSON,
            r#"{"campaign": "offer1", "click_id": "c1", "ph": "1e400"}"#,
        ),
        post(
            "/v1/clicks",
            JSON,
            r#"{"campaign": "offer1", "click_id": "c1", "campaign": "offer1"}"#,
        ),
        post(
            "/v1/clicks",
            JSON,
            format!(
                r#"{{"campaign": "offer1", "click_id": "c1", "fbclid": "{}"}}"#,
                "x".repeat(70_000)
            ),
        ),
        post("/v1/clicks", "text/plain", "campaign=offer1&click_id=c1"),
        post("/v1/clicks", "application/xml", "<click/>"),
        post("/v1/clicks", "multipart/form-data; boundary=zz", "--zz--"),
        post(
            "/v1/clicks",
            "application/json; charset=latin1",
            b"{\"campaign\": \"\xe9\"}".to_vec(),
        ),
        // Forms.
        post("/v1/clicks", FORM, "campaign=offer1&click_id=c1&fbclid=%zz"),
        post("/v1/clicks", FORM, "campaign=offer1&click_id=c1&fbclid=%"),
        post("/v1/clicks", FORM, "campaign=offer1&click_id=c1&em=%FF"),
        post(
            "/v1/clicks",
            FORM,
            b"campaign=offer1&click_id=c1&em=\xff".to_vec(),
        ),
        post(
            "/v1/clicks",
            FORM,
            "campaign=offer1&click_id=c1&consent=perhaps",
        ),
        post(
            "/v1/clicks",
            FORM,
            "campaign=offer1&click_id=c1&event_ids=flat",
        ),
        post(
            "/v1/clicks",
            FORM,
            "campaign=offer1&click_id=c1&event_ids[]=x",
        ),
        post(
            "/v1/clicks",
            FORM,
            "campaign=offer1&click_id=c1&utm_source=fb",
        ),
        keyed(post(
            "/v1/clicks",
            FORM,
            format!("campaign=offer1&click_id=c1{many_event_ids}"),
        )),
        post(
            "/v1/clicks",
            FORM,
            format!("campaign=offer1&click_id=c1{many_params}"),
        ),
        post(
            "/v1/clicks",
            FORM,
            format!("campaign=offer1&click_id={}", "x".repeat(129)),
        ),
        // Pixel GETs.
        get("/v1/clicks"),
        get("/v1/clicks?%zz"),
        get("/v1/clicks?campaign=offer1&click_id=c1&fbclid=%zz"),
        get("/v1/clicks?campaign=offer1&click_id=c1&fbclid=%FF%FE"),
        get("/v1/clicks?campaign=offer1&click_id=c%201"),
        keyed(get("/v1/clicks?campaign=offer1&click_id=c1&fbc=fb.1")),
        keyed(get(
            "/v1/clicks?campaign=offer1&click_id=c1&client_ip_address=localhost",
        )),
        get("/v1/clicks?campaign=offer1&click_id=c1&event_source_url=data:text/html,x"),
        keyed(get(format!(
            "/v1/clicks?campaign=offer1&click_id=c1{many_event_ids}"
        ))),
        get(format!(
            "/v1/clicks?campaign=offer1&click_id=c1{many_params}"
        )),
        get("/v1/clicks?campaign=nope&click_id=c1"),
        get("/v1/clicks?campaign=offer1&click_id=c1&zp=---"),
        // Postbacks.
        get("/v1/postback/nope"),
        get("/v1/postback/%FF"),
        get("/v1/postback/%00"),
        get("/v1/postback/keitaro?subid=c1"),
        get("/v1/postback/keitaro?key=wrong-key-wrong-key&subid=c1"),
        get(format!("/v1/postback/keitaro?key={key}")),
        get(format!("/v1/postback/keitaro?key={key}&subid=%zz")),
        get(format!("/v1/postback/keitaro?key={key}&subid=c%201")),
        get(format!(
            "/v1/postback/keitaro?key={key}&subid=c1&payout=lots"
        )),
        get(format!(
            "/v1/postback/keitaro?key={key}&subid=c1&payout=1e400"
        )),
        get(format!(
            "/v1/postback/keitaro?key={key}&subid=c1&currency=XYZ"
        )),
        get(format!(
            "/v1/postback/keitaro?key={key}&subid=c1&tid={}",
            "t".repeat(200)
        )),
        get(format!(
            "/v1/postback/keitaro?key={key}&subid=c1&status={}",
            "s".repeat(65)
        )),
        get(format!(
            "/v1/postback/keitaro?key={key}&subid=c1&campaign=Not%20A%20Key"
        )),
        get(format!(
            "/v1/postback/keitaro?key={key}&subid=c1&ip=999.1.1.1"
        )),
        get(format!("/v1/postback/keitaro?key={key}&subid=c1&em=nope")),
        get(format!(
            "/v1/postback/generic?key={key}&click_id=c1&event_time=soon"
        )),
        get(format!(
            "/v1/postback/generic?key={key}&click_id=c1&event_time=99999999999999999"
        )),
        post(format!("/v1/postback/keitaro?key={key}"), JSON, "{"),
        post(format!("/v1/postback/keitaro?key={key}"), JSON, "[1]"),
        post(
            format!("/v1/postback/keitaro?key={key}"),
            JSON,
            r#"{"subid": {"a": 1}}"#,
        ),
        post(format!("/v1/postback/keitaro?key={key}"), FORM, "subid=%zz"),
        post(
            format!("/v1/postback/keitaro?key={key}"),
            "application/xml",
            "<x/>",
        ),
        post(
            format!("/v1/postback/keitaro?key={key}"),
            FORM,
            "x".repeat(70_000),
        ),
        // Routing.
        get("/nope"),
        get("/v1/clicks/extra"),
        Bad {
            method: Method::PUT,
            ..get("/v1/clicks")
        },
        Bad {
            method: Method::DELETE,
            ..get("/v1/postback/keitaro")
        },
    ];
    // Headers that are present but make no sense.
    let mut with_headers = get("/v1/clicks?campaign=offer1&click_id=hdr1");
    with_headers.headers = vec![
        ("x-forwarded-for", "not-an-ip, , ::::".to_owned()),
        ("accept", "application/json".to_owned()),
    ];
    let mut bad_length = post("/v1/clicks", JSON, "{}");
    bad_length.headers = vec![("content-type", "application/json; charset=é".to_owned())];
    let mut admin_garbage = get("/admin/v1/campaigns");
    admin_garbage.headers = vec![("authorization", "Bearer éé".to_owned())];
    let mut preflight = Bad {
        method: Method::OPTIONS,
        ..get("/v1/clicks")
    };
    preflight.headers = vec![
        ("origin", "https://lp.example".to_owned()),
        ("access-control-request-method", "PUT".to_owned()),
    ];
    list.extend([bad_length, admin_garbage, preflight]);
    list.push(with_headers);
    list
}

fn truncate(s: &str) -> String {
    if s.len() > 120 {
        format!("{}...", &s[..120])
    } else {
        s.to_owned()
    }
}

#[tokio::test]
async fn malformed_requests_to_public_endpoints_are_4xx_or_drop_the_field_and_the_server_keeps_answering(
) {
    // Behind a trusted proxy, so that X-Forwarded-For is actually parsed.
    let app = spawn_app_with(&["--trusted-proxies", "127.0.0.1/32"]).await;
    app.create_campaign("offer1", json!({})).await;
    let requests = malformed_requests();
    assert!(requests.len() > 70);

    let mut failures = Vec::new();
    let mut hdr_click_status = None;
    let mut dropped = 0;
    for bad in &requests {
        let mut req = app.client.request(bad.method.clone(), app.url(&bad.path));
        // JSON answers from the click route too, so a dropped field can be seen.
        req = req.header("accept", "application/json");
        if let Some(ct) = bad.content_type {
            req = req.header(CONTENT_TYPE, ct);
        }
        for (name, value) in &bad.headers {
            req = req.header(*name, value.as_str());
        }
        if !bad.body.is_empty() {
            req = req.body(bad.body.clone());
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{} {}: no answer: {e}", bad.method, bad.path));
                continue;
            }
        };
        let status = resp.status();
        if bad.path.contains("click_id=hdr1") {
            // Garbage in X-Forwarded-For is not an error: the client is unknown (checked below).
            hdr_click_status = Some(status.as_u16());
            continue;
        }
        if status.is_success() {
            // Only what identifies a conversion refuses it: a bad match key or value is
            // dropped, named in `dropped`, and the rest recorded.
            let body: serde_json::Value = resp.json().await.unwrap_or_default();
            if body["dropped"].as_array().is_some_and(|d| !d.is_empty()) {
                dropped += 1;
                continue;
            }
            failures.push(format!(
                "{} {}: {status} {body}",
                bad.method,
                truncate(&bad.path)
            ));
        } else if !status.is_client_error() {
            let body = resp.text().await.unwrap_or_default();
            let shown: String = body.chars().take(200).collect();
            failures.push(format!(
                "{} {}: {status} {shown}",
                bad.method,
                truncate(&bad.path)
            ));
        }
    }
    assert!(failures.is_empty(), "not a 4xx:\n{}", failures.join("\n"));
    assert!(dropped >= 20, "{dropped} answers dropped a field");
    assert_eq!(hdr_click_status, Some(201));
    assert_healthy(&app).await;
    let resp = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let clicks: Vec<String> = sqlx::query_scalar("SELECT click_id FROM clicks ORDER BY 1")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        clicks,
        ["c1", "hdr1"],
        "the registrations that only dropped a field were stored"
    );
    let ip: Option<String> =
        sqlx::query_scalar("SELECT client_ip_address FROM clicks WHERE click_id = 'hdr1'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        ip, None,
        "an unparsable chain is an unknown client, not the proxy"
    );
}

#[tokio::test]
async fn malformed_admin_requests_are_4xx() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    for (method, path, status, code) in [
        (
            Method::GET,
            "/admin/v1/conversions?state=bogus",
            400,
            "invalid_state",
        ),
        (
            Method::GET,
            "/admin/v1/conversions?limit=0",
            400,
            "invalid_parameter",
        ),
        (
            Method::GET,
            "/admin/v1/conversions?limit=abc",
            400,
            "invalid_parameter",
        ),
        (
            Method::GET,
            "/admin/v1/conversions?before=-5",
            400,
            "invalid_parameter",
        ),
        (
            Method::GET,
            "/admin/v1/conversions?campaign=%zz",
            400,
            "bad_percent_encoding",
        ),
        (
            Method::GET,
            "/admin/v1/conversions/abc",
            404,
            "conversion_not_found",
        ),
        (
            Method::GET,
            "/admin/v1/conversions/-1",
            404,
            "conversion_not_found",
        ),
        (
            Method::GET,
            "/admin/v1/conversions/99999999999999999999",
            404,
            "conversion_not_found",
        ),
        (
            Method::POST,
            "/admin/v1/conversions/42/retry",
            404,
            "conversion_not_found",
        ),
        (
            Method::POST,
            "/admin/v1/campaigns/nope/retry-failed",
            404,
            "campaign_not_found",
        ),
        (Method::GET, "/admin/v1/clicks/%FF", 404, "click_not_found"),
        (
            Method::GET,
            "/admin/v1/campaigns/%FF",
            404,
            "campaign_not_found",
        ),
    ] {
        let resp = app.admin(method.clone(), path, None).await;
        assert_eq!(resp.status(), status, "{method} {path}");
        assert_problem(resp, status, code).await;
    }
    let resp = app
        .client
        .patch(app.url("/admin/v1/campaigns/offer1"))
        .bearer_auth(ADMIN_TOKEN)
        .header(CONTENT_TYPE, "application/json")
        .body("x".repeat(70_000))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 413, "payload_too_large").await;
    assert_healthy(&app).await;
}

#[tokio::test]
async fn a_nul_character_in_a_postback_status_is_not_a_500() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = app.postback("keitaro", "subid=c1&status=sa%00le").await;

    assert!(resp.status().is_client_error(), "{}", resp.status());
    assert_healthy(&app).await;
}
