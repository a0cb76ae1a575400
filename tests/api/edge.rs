//! What an outsider controls at the edge: metric labels, X-Forwarded-For, response headers.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

/// Any token is a valid HTTP method: garbage methods and paths must not each mint a new series.
#[tokio::test]
async fn garbage_methods_and_paths_share_bounded_metric_labels() {
    let app = spawn_app().await;
    let baseline = app.scrape_metrics().await.len();

    for n in 0..60 {
        let method = Method::from_bytes(format!("X{n}{}", "Q".repeat(2000)).as_bytes()).unwrap();
        for path in [format!("/junk/{n}"), "/v1/clicks".to_owned()] {
            let resp = app
                .client
                .request(method.clone(), app.url(&path))
                .send()
                .await
                .unwrap();
            assert!(resp.status().is_client_error(), "{}", resp.status());
        }
    }

    let text = app.scrape_metrics().await;
    assert!(!text.contains("QQQQ"), "a raw method is a label");
    assert!(!text.contains("junk"), "a raw path is a label");
    assert!(
        text.contains(r#"route="unmatched",method="other",status="404"} 60"#),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/v1/clicks",method="other""#),
        "{text}"
    );
    assert!(
        text.len() < baseline + 2_000,
        "/metrics grew from {baseline} to {} bytes",
        text.len()
    );
}

async fn postback_via(app: &TestApp, forwarded_for: &str) -> u16 {
    app.client
        .get(app.url(&format!(
            "/v1/postback/keitaro?key={POSTBACK_KEY}&subid=xff-1&status=lead&campaign=offer1"
        )))
        .header("x-forwarded-for", forwarded_for)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The proxy is on the allow list; a client behind it must not pass as the proxy by putting an
/// unparsable entry in X-Forwarded-For.
#[tokio::test]
async fn an_unparsable_forwarded_entry_never_makes_the_proxy_the_client() {
    let app = spawn_app_with(&[
        "--trusted-proxies",
        "127.0.0.1/32",
        "--postback-allowed-ips",
        "127.0.0.1/32",
    ])
    .await;
    app.create_campaign("offer1", json!({})).await;

    for xff in [
        "198.51.100.9",
        "junk, 198.51.100.9",
        "198.51.100.9, junk",
        "198.51.100.9, , 127.0.0.1",
        "::ffff:198.51.100.9",
    ] {
        assert_eq!(postback_via(&app, xff).await, 403, "{xff}");
    }
    // Traffic from the proxy itself, or an all-internal chain, is allowed.
    assert_eq!(postback_via(&app, "::ffff:127.0.0.1").await, 202);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM conversions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

/// `::ffff:a.b.c.d` is the IPv4 address a.b.c.d for every CIDR list.
#[tokio::test]
async fn ipv4_mapped_forwarded_addresses_match_ipv4_lists() {
    let app = spawn_app_with(&[
        "--trusted-proxies",
        "127.0.0.1/32,10.0.0.0/8",
        "--postback-allowed-ips",
        "198.51.100.0/24",
    ])
    .await;
    app.create_campaign("offer1", json!({})).await;

    assert_eq!(postback_via(&app, "::ffff:198.51.100.9").await, 202);
    // A mapped internal hop is one of the trusted proxies, skipped like its IPv4 form.
    assert_eq!(
        postback_via(&app, "198.51.100.9, ::ffff:10.0.0.5").await,
        200
    );
}

/// Every answer, success or error, tells browsers not to sniff its content type.
#[tokio::test]
async fn every_response_carries_nosniff() {
    let app = spawn_app_with(&["--request-timeout", "1s"]).await;
    app.create_campaign("offer1", json!({})).await;
    let c = &app.client;
    let responses = vec![
        c.get(app.url("/healthz")).send().await.unwrap(),
        c.get(app.url("/nope")).send().await.unwrap(),
        c.put(app.url("/v1/clicks")).send().await.unwrap(),
        c.get(app.url("/metrics")).send().await.unwrap(),
        c.post(app.url("/v1/clicks"))
            .header("content-type", "application/json")
            .body("{")
            .send()
            .await
            .unwrap(),
        c.post(app.url("/v1/clicks"))
            .header("content-type", "application/json")
            .body("x".repeat(70_000))
            .send()
            .await
            .unwrap(),
        app.register_click(json!({"campaign": "offer1", "click_id": "ns-1"}))
            .await,
        app.postback("keitaro", "subid=ns-1&status=lead&return=OK")
            .await,
        c.request(Method::OPTIONS, app.url("/v1/clicks"))
            .header("origin", "https://lp.example")
            .header("access-control-request-method", "PUT")
            .send()
            .await
            .unwrap(),
    ];
    for resp in responses {
        assert_eq!(
            resp.headers()
                .get("x-content-type-options")
                .map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{} {}",
            resp.status(),
            resp.url()
        );
    }

    // The 408 is raised by middleware, after the handler gave up waiting for the body.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    conn.write_all(b"POST /v1/clicks HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        .await
        .unwrap();
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 408"), "{text}");
    assert!(text.contains("x-content-type-options: nosniff"), "{text}");
}

/// Keitaro's `return` is echoed as the answer: only short plain text, and refused before
/// anything is recorded.
#[tokio::test]
async fn keitaro_return_is_short_printable_text_only() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let longest = "R".repeat(64);

    for (i, bad) in [
        "R".repeat(65),
        "%3Cb%3E%0Ax%3C%2Fb%3E".to_owned(),
        "OK%0D%0ASet-Cookie:x".to_owned(),
        "%C3%A9t%C3%A9".to_owned(),
    ]
    .into_iter()
    .enumerate()
    {
        // Never echoed: the default JSON answer applies, and the conversion is recorded.
        let resp = app
            .postback(
                "keitaro",
                &format!("subid=r-{i}&status=lead&campaign=offer1&return={bad}"),
            )
            .await;
        assert_eq!(resp.status(), 202, "{bad}");
        assert!(resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["status"], "unmatched", "{body}");
        assert_eq!(body["dropped"][0]["field"], "return", "{body}");
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM conversions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 4, "every postback is recorded");

    let resp = app
        .postback(
            "keitaro",
            &format!("subid=r-9&status=lead&campaign=offer1&return={longest}"),
        )
        .await;
    assert_eq!(resp.status(), 202);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(resp.text().await.unwrap(), longest);
}

/// Templates that could render ids longer than 400 characters, or hold control characters,
/// are refused when the campaign is saved.
#[tokio::test]
async fn event_id_templates_with_controls_or_overlong_ids_are_422() {
    let app = spawn_app().await;
    for template in [
        "{click_id}\n{event_name}",
        "{click_id}\t",
        "{click_id}{txid}{txid}{txid}",
    ] {
        let resp = app
            .admin(
                Method::POST,
                "/admin/v1/campaigns",
                Some(json!({
                    "key": "offer1", "pixel_id": "1234567890",
                    "access_token": ACCESS_TOKEN, "event_id_template": template
                })),
            )
            .await;
        let detail = assert_problem(resp, 422, "invalid_field").await;
        assert!(detail.starts_with("event_id_template "), "{detail}");
    }
    app.create_campaign(
        "offer1",
        json!({"event_id_template": "{campaign}-{event_name}-{click_id}-{txid}"}),
    )
    .await;
}
