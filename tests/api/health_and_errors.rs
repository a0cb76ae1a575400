//! Health endpoints, the problem bodies of routing errors, request bodies that never end\nor come gzipped.

use crate::helpers::*;
use reqwest::header::ALLOW;
use reqwest::Method;
use serde_json::{json, Value};

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
