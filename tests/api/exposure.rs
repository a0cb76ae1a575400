//! What answers and pages could give away: no cache keeps an admin answer or a dashboard page,
//! and a client's forwarded headers do not choose the host of the URLs (postback key included)
//! a campaign page shows.

use serde_json::json;

use crate::helpers::ui::{get_page, sign_in};
use crate::helpers::*;

#[tokio::test]
async fn admin_answers_and_dashboard_pages_are_never_cached() {
    let app = spawn_app().await;
    app.create_campaign("cache", json!({})).await;
    let admin = |method: reqwest::Method, path: &str| {
        app.client
            .request(method, app.url(path))
            .bearer_auth(ADMIN_TOKEN)
    };
    let answers = [
        ("list", admin(reqwest::Method::GET, "/admin/v1/campaigns")),
        (
            "one",
            admin(reqwest::Method::GET, "/admin/v1/campaigns/cache"),
        ),
        (
            "missing",
            admin(reqwest::Method::GET, "/admin/v1/campaigns/nope"),
        ),
        (
            "bad body",
            admin(reqwest::Method::POST, "/admin/v1/campaigns")
                .header("content-type", "application/json")
                .body("{"),
        ),
        (
            "too large",
            admin(reqwest::Method::POST, "/admin/v1/campaigns")
                .header("content-type", "application/json")
                .body(vec![b' '; 70 * 1024]),
        ),
        ("no token", app.client.get(app.url("/admin/v1/conversions"))),
        (
            "unknown route",
            admin(reqwest::Method::GET, "/admin/v1/nothing-here"),
        ),
    ];
    let mut statuses = Vec::new();
    for (what, req) in answers {
        let resp = req.send().await.unwrap();
        statuses.push(resp.status().as_u16());
        assert_eq!(
            resp.headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{what}: {resp:?}"
        );
    }
    assert_eq!(statuses, [200, 200, 404, 400, 413, 401, 404]);
    let cookie = sign_in(&app).await;
    for path in ["/ui/", "/ui/campaigns/cache", "/ui/login"] {
        let resp = get_page(&app, path, &cookie).await;
        assert_eq!(resp.headers()["cache-control"], "no-store", "{path}");
    }
}

/// The campaign page's postback URLs carry the key: without PUBLIC_URL they are built from the
/// address the page was asked for, and only a trusted proxy may say what that was.
#[tokio::test]
async fn only_a_trusted_proxy_chooses_the_host_of_a_campaign_pages_urls() {
    let forged = [
        ("x-forwarded-host", "evil.example"),
        ("x-forwarded-proto", "https"),
        ("forwarded", "host=evil.example;proto=https"),
    ];
    let page = |app: &TestApp, cookie: String| {
        let mut req = app
            .client
            .get(app.url("/ui/campaigns/hosts"))
            .header("cookie", cookie);
        for h in forged {
            req = req.header(h.0, h.1);
        }
        async move { req.send().await.unwrap().text().await.unwrap() }
    };

    let app = spawn_app().await;
    app.create_campaign("hosts", json!({})).await;
    let body = page(&app, sign_in(&app).await).await;
    let own = format!("http://127.0.0.1:{}", app.port);
    assert!(!body.contains("evil.example"), "{body}");
    assert!(
        body.contains(&format!("{own}/v1/postback/keitaro?key={POSTBACK_KEY}")),
        "{body}"
    );
    assert!(body.contains(&format!("{own}/v1/tag.js")), "{body}");

    // Behind a proxy listed in TRUSTED_PROXIES, its headers say where visitors reach us.
    let proxied = spawn_app_with(&["--trusted-proxies", "127.0.0.1"]).await;
    proxied.create_campaign("hosts", json!({})).await;
    let body = page(&proxied, sign_in(&proxied).await).await;
    assert!(
        body.contains("https://evil.example/v1/postback/keitaro?key="),
        "{body}"
    );
    assert!(body.contains("https://evil.example/v1/tag.js"), "{body}");
}
