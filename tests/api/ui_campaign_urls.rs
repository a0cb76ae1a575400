//! Where a campaign page's postback URLs and tag line point: built from the address the page was
//! opened at unless PUBLIC_URL names the bridge's public host, and the page warns when trackers
//! and landers may not reach that address.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::ui::sign_in;
use crate::helpers::*;

const WARNING: &str = r#"id="base-url-warning""#;

/// The campaign page of `key` as asked for with `Host: host` (the server's own when `None`).
async fn page_via(app: &TestApp, key: &str, host: Option<&str>) -> String {
    let cookie = sign_in(app).await;
    let mut req = app
        .client
        .get(app.url(&format!("/ui/campaigns/{key}")))
        .header("cookie", cookie);
    if let Some(host) = host {
        req = req.header("host", host);
    }
    let resp = req.send().await.expect("page request");
    assert_eq!(resp.status(), StatusCode::OK, "{host:?}");
    resp.text().await.unwrap()
}

/// The landing tag line as the page escapes it, for `base`.
fn tag_line(base: &str) -> String {
    format!("&lt;script async src=&quot;{base}/v1/tag.js&quot; data-campaign=&quot;urls&quot;&gt;")
}

#[tokio::test]
async fn without_public_url_the_page_warns_where_its_urls_point() {
    let app = spawn_app().await;
    app.create_campaign("urls", json!({})).await;
    let cases = [
        // The default: the server's own 127.0.0.1 address.
        (None, app.address.clone(), "this machine's own"),
        (
            Some("localhost:8080"),
            "http://localhost:8080".to_owned(),
            "this machine's own",
        ),
        (
            Some("192.0.2.10:8080"),
            "http://192.0.2.10:8080".to_owned(),
            "bare IP address",
        ),
        (
            Some("[2001:db8::7]:8080"),
            "http://[2001:db8::7]:8080".to_owned(),
            "bare IP address",
        ),
        // A real name is still a guess without PUBLIC_URL: said, with the same fix.
        (
            Some("capi.example.com"),
            "http://capi.example.com".to_owned(),
            "same address",
        ),
    ];
    for (host, base, why) in cases {
        let page = page_via(&app, "urls", host).await;
        assert!(page.contains(WARNING), "{host:?}: {page}");
        assert!(
            page.contains(&format!("These URLs point to <code>{base}</code>")),
            "{host:?}: {page}"
        );
        assert!(page.contains("PUBLIC_URL is not set"), "{host:?}");
        assert!(page.contains(why), "{host:?}: {why}");
        assert!(page.contains("<code>PUBLIC_URL=https://capi.example.com</code>"));
        // The URLs themselves are built from that same address.
        assert!(page.contains(&tag_line(&base)), "{host:?}: {page}");
        assert!(
            page.contains(&format!(r#"value="{base}/v1/postback/keitaro?key="#)),
            "{host:?}"
        );
    }
}

#[tokio::test]
async fn a_public_url_naming_a_host_silences_the_warning_and_a_bare_address_does_not() {
    let app = spawn_app_with(&["--public-url", "https://capi.example.com/"]).await;
    app.create_campaign("urls", json!({})).await;
    // Opened through localhost or an IP address: PUBLIC_URL decides, so no warning.
    for host in [None, Some("localhost:8080"), Some("192.0.2.10:8080")] {
        let page = page_via(&app, "urls", host).await;
        assert!(!page.contains(WARNING), "{host:?}: {page}");
        assert!(
            page.contains(&tag_line("https://capi.example.com")),
            "{host:?}"
        );
    }

    for (public_url, why) in [
        ("http://203.0.113.5:8080", "bare IP address"),
        ("http://localhost:8080", "this machine's own"),
    ] {
        let app = spawn_app_with(&["--public-url", public_url]).await;
        app.create_campaign("urls", json!({})).await;
        let page = page_via(&app, "urls", Some("capi.example.com")).await;
        assert!(page.contains(WARNING), "{public_url}: {page}");
        assert!(
            page.contains(&format!(
                "These URLs point to <code>{public_url}</code>: </strong>that is what PUBLIC_URL says."
            )),
            "{public_url}: {page}"
        );
        assert!(page.contains(why), "{public_url}");
        assert!(page.contains(&tag_line(public_url)), "{public_url}");
    }
}
