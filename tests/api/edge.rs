//! What an outsider controls at the edge: metric labels, X-Forwarded-For, response headers.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

async fn scrape(app: &TestApp) -> String {
    let resp = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap()
}

/// Any token is a valid HTTP method: garbage methods and paths must not each mint a new series.
#[tokio::test]
async fn garbage_methods_and_paths_share_bounded_metric_labels() {
    let app = spawn_app().await;
    let baseline = scrape(&app).await.len();

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

    let text = scrape(&app).await;
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
