//! Health endpoints, the problem bodies of routing errors, and "bad input is never a 500".

use reqwest::header::{ALLOW, CONTENT_TYPE};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

async fn assert_healthy(app: &TestApp) {
    let resp = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("server still answers");
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn healthz_is_200() {
    let app = spawn_app().await;

    let resp = app.client.get(app.url("/healthz")).send().await.unwrap();

    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"status": "ok"}));
}

#[tokio::test]
async fn readyz_is_200_when_the_database_answers() {
    let app = spawn_app().await;

    let resp = app.client.get(app.url("/readyz")).send().await.unwrap();

    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"status": "ready"}));
}

#[tokio::test]
async fn health_endpoints_need_no_token() {
    let app = spawn_app().await;

    for path in ["/healthz", "/readyz"] {
        let resp = app
            .client
            .get(app.url(path))
            .header("authorization", "Bearer wrong-token-wrong-token")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn an_unknown_route_is_404_route_not_found() {
    let app = spawn_app().await;

    for path in [
        "/nope",
        "/v1/click",
        "/v2/clicks",
        "/admin/v1/nope",
        "/",
        "/healthz/extra",
    ] {
        let resp = app.client.get(app.url(path)).send().await.unwrap();
        let detail = assert_problem(resp, 404, "route_not_found").await;
        assert_eq!(detail, "no such endpoint", "{path}");
    }
}

#[tokio::test]
async fn a_wrong_method_is_405_with_a_problem_body() {
    let app = spawn_app().await;

    for (method, path) in [
        (Method::PUT, "/v1/clicks"),
        (Method::DELETE, "/v1/clicks"),
        (Method::PATCH, "/v1/clicks"),
        (Method::PUT, "/v1/postback/keitaro"),
        (Method::DELETE, "/v1/postback/keitaro"),
    ] {
        let resp = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        let allow = resp
            .headers()
            .get(ALLOW)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        assert!(
            allow.contains("GET") && allow.contains("POST"),
            "{method} {path}: Allow {allow:?}"
        );
        let detail = assert_problem(resp, 405, "method_not_allowed").await;
        assert!(!detail.is_empty(), "{method} {path}");
    }
}

#[tokio::test]
async fn a_wrong_method_on_a_single_method_route_is_405() {
    let app = spawn_app().await;

    for (method, path) in [
        (Method::POST, "/healthz"),
        (Method::DELETE, "/readyz"),
        (Method::DELETE, "/admin/v1/campaigns"),
        (Method::PUT, "/admin/v1/campaigns/offer1"),
        (Method::GET, "/admin/v1/conversions/1/retry"),
    ] {
        let resp = app
            .client
            .request(method.clone(), app.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 405, "{method} {path}");
        assert_problem(resp, 405, "method_not_allowed").await;
    }
}

/// One malformed request against a public endpoint.
struct Bad {
    method: Method,
    path: String,
    content_type: Option<&'static str>,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

fn get(path: impl Into<String>) -> Bad {
    Bad {
        method: Method::GET,
        path: path.into(),
        content_type: None,
        headers: vec![],
        body: vec![],
    }
}

fn post(path: impl Into<String>, content_type: &'static str, body: impl Into<Vec<u8>>) -> Bad {
    Bad {
        method: Method::POST,
        path: path.into(),
        content_type: Some(content_type),
        headers: vec![],
        body: body.into(),
    }
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

fn truncate(s: &str) -> String {
    if s.len() > 120 {
        format!("{}...", &s[..120])
    } else {
        s.to_owned()
    }
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

/// A request whose body never finishes is answered 408 and its connection closed, instead of
/// holding a connection forever.
#[tokio::test]
async fn a_body_that_never_finishes_gets_408_and_the_connection_closes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(&["--request-timeout", "1s"]).await;
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    conn.write_all(
        b"POST /v1/postback/generic?key=x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nclick_id=a",
    )
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        conn.read_to_end(&mut answer),
    )
    .await;
    assert!(read.is_ok(), "the connection stayed open");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("request_timeout"), "{text}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // The server still serves others.
    let ok = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
}

/// Compressed request bodies are not inflated (a 48 KB gzip bomb would become 50 MB): a click
/// whose gzipped body is a valid click is refused and not stored, while the same click sent
/// plain is registered. Were the body inflated, the gzipped click would be registered.
#[tokio::test]
async fn gzip_request_bodies_are_not_inflated() {
    const CLICK: &str = r#"{"campaign":"gz","click_id":"gz-1"}"#;
    // CLICK, gzipped (Python's gzip.compress(CLICK, mtime=0)); checked below with gzip -dc.
    const GZIPPED: [u8; 51] = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xab, 0x56, 0x4a, 0x4e, 0xcc,
        0x2d, 0x48, 0xcc, 0x4c, 0xcf, 0x53, 0xb2, 0x52, 0x4a, 0xaf, 0x52, 0xd2, 0x51, 0x4a, 0xce,
        0xc9, 0x4c, 0xce, 0x8e, 0xcf, 0x4c, 0x01, 0xf3, 0x75, 0x0d, 0x95, 0x6a, 0x01, 0xe6, 0x49,
        0x20, 0xcb, 0x23, 0x00, 0x00, 0x00,
    ];
    let mut gunzip = std::process::Command::new("gzip")
        .arg("-dc")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip is installed");
    std::io::Write::write_all(gunzip.stdin.as_mut().unwrap(), &GZIPPED).unwrap();
    let inflated = gunzip.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&inflated.stdout), CLICK);

    let app = spawn_app().await;
    app.create_campaign("gz", json!({})).await;
    let send = |body: Vec<u8>, encoding: Option<&str>| {
        let mut req = app
            .client
            .post(app.url("/v1/clicks"))
            .header("content-type", "application/json")
            .header("user-agent", BROWSER_UA)
            .body(body);
        if let Some(e) = encoding {
            req = req.header("content-encoding", e);
        }
        req.send()
    };
    let stored = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM clicks")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };

    let resp = send(GZIPPED.to_vec(), Some("gzip")).await.unwrap();
    assert!(resp.status().is_client_error(), "{}", resp.status());
    assert_eq!(
        stored().await,
        0,
        "the gzipped click was inflated and stored"
    );

    let resp = send(CLICK.as_bytes().to_vec(), None).await.unwrap();
    assert_eq!(resp.status(), 201, "the same click, plain");
    assert_eq!(stored().await, 1);
}
