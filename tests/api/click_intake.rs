//! What a visitor's browser may put in a click: overrides, oversize values and malformed Meta
//! cookies are dropped (and named in `ignored`) from a public call, refused with a 422 from a
//! server-side caller; the per-/64 rate limit (the disk budgets: click_budget.rs).

use serde_json::{json, Value};

use crate::helpers::*;

const FBP: &str = "fb.1.1596403881668.1116446470";

async fn stored(app: &TestApp, click_id: &str, column: &str) -> Option<String> {
    sqlx::query_scalar(&format!(
        "SELECT {column}::text FROM clicks WHERE click_id = $1"
    ))
    .bind(click_id)
    .fetch_one(&app.pool)
    .await
    .unwrap_or_else(|e| panic!("click {click_id}: {e}"))
}

async fn created(resp: reqwest::Response) -> Value {
    assert_eq!(resp.status(), 201);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn a_browser_cannot_choose_the_address_or_user_agent_meta_sees() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let body = created(
        app.register_click_public(json!({
            "campaign": "offer1", "click_id": "pub-1",
            "client_ip_address": "203.0.113.7", "client_user_agent": "Forged/1.0"
        }))
        .await,
    )
    .await;

    assert_eq!(
        body["ignored"],
        json!(["client_ip_address", "client_user_agent"])
    );
    assert_eq!(
        stored(&app, "pub-1", "client_ip_address").await.as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        stored(&app, "pub-1", "client_user_agent").await.as_deref(),
        Some(BROWSER_UA)
    );
    // A clean registration's answer has no `ignored`.
    let body = created(
        app.register_click_public(json!({"campaign": "offer1", "click_id": "pub-2"}))
            .await,
    )
    .await;
    assert!(body.get("ignored").is_none(), "{body}");
}

#[tokio::test]
async fn a_server_side_caller_may_set_only_public_addresses() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    for ip in [
        "10.0.0.1",
        "192.168.1.20",
        "127.0.0.1",
        "::1",
        "fe80::1",
        "fd00::5",
        "100.64.0.1",
        "169.254.169.254",
        "198.18.0.1",
        "::ffff:192.168.0.1",
        "0.0.0.0",
    ] {
        let resp = app
            .register_click(json!({
                "campaign": "offer1", "click_id": "srv-bad", "client_ip_address": ip
            }))
            .await;
        // Dropped and reported; the click is kept, without the tracker server's own address.
        assert!(resp.status().is_success(), "{ip}: {}", resp.status());
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(
            body["dropped"][0]["field"], "client_ip_address",
            "{ip}: {body}"
        );
        assert!(body["dropped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("not a public address"));
        assert_eq!(
            stored(&app, "srv-bad", "client_ip_address").await,
            None,
            "{ip}"
        );
    }
    // The key may also come in the body, as the postback route takes it in the query.
    let resp = app
        .register_click_public(json!({
            "campaign": "offer1", "click_id": "srv-1", "key": POSTBACK_KEY,
            "client_ip_address": "203.0.113.7", "client_user_agent": "Server/1.0"
        }))
        .await;
    let body = created(resp).await;
    assert!(body.get("ignored").is_none(), "{body}");
    assert_eq!(
        stored(&app, "srv-1", "client_ip_address").await.as_deref(),
        Some("203.0.113.7")
    );
    assert_eq!(
        stored(&app, "srv-1", "client_user_agent").await.as_deref(),
        Some("Server/1.0")
    );
    // A wrong key is refused, not quietly treated as a browser.
    let resp = app
        .register_click_public(json!({
            "campaign": "offer1", "click_id": "srv-2", "key": "wrong-key-0123456789"
        }))
        .await;
    assert_problem(resp, 401, "unauthorized").await;
}

#[tokio::test]
async fn oversize_fields_from_a_browser_are_dropped_and_the_click_kept() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let long_url = format!("https://lp.example/{}", "a".repeat(2048));
    let many_ids: serde_json::Map<String, Value> = (0..21)
        .map(|i| (format!("E{i}"), json!(format!("id-{i}"))))
        .collect();
    let oversize = json!({
        "campaign": "offer1", "click_id": "big-1", "fbp": FBP,
        "event_source_url": long_url, "referrer_url": "https://ref.example/",
        "fbclid": "F".repeat(1001), "event_ids": many_ids,
        "fbc": format!("fb.1.1596403881668.{}", "c".repeat(1100)),
    });

    let body = created(app.register_click_public(oversize.clone()).await).await;

    assert_eq!(
        body["ignored"],
        json!(["event_ids", "fbclid", "fbc", "event_source_url"])
    );
    // Each with its reason, under the caps of docs/api.md.
    assert_eq!(body["dropped"][1]["field"], "fbclid");
    assert_eq!(body["dropped"][1]["reason"], "is longer than 1000 bytes");
    // Meta's server-side builders keep long fbclids: a 600-character one is kept with its fbc.
    let long = "F".repeat(600);
    let body = created(
        app.register_click_public(
            json!({"campaign": "offer1", "click_id": "big-0", "fbclid": long}),
        )
        .await,
    )
    .await;
    assert!(body.get("dropped").is_none(), "{body}");
    assert_eq!(stored(&app, "big-0", "fbclid").await, Some(long));
    for column in ["event_source_url", "fbclid", "fbc"] {
        assert_eq!(stored(&app, "big-1", column).await, None, "{column}");
    }
    assert_eq!(
        stored(&app, "big-1", "event_ids").await.as_deref(),
        Some("{}")
    );
    assert_eq!(stored(&app, "big-1", "fbp").await.as_deref(), Some(FBP));
    // One long event id is enough to drop them.
    let body = created(
        app.register_click_public(json!({
            "campaign": "offer1", "click_id": "big-2", "event_ids": {"Lead": "x".repeat(101)}
        }))
        .await,
    )
    .await;
    assert_eq!(body["ignored"], json!(["event_ids"]));
    // A user agent header over 1024 characters is not stored.
    let resp = app
        .client
        .post(app.url("/v1/clicks"))
        .header("user-agent", "U".repeat(1025))
        .json(&json!({"campaign": "offer1", "click_id": "big-3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(stored(&app, "big-3", "client_user_agent").await, None);

    // A server-side caller gets the same: the click kept, the fields dropped and reported.
    let mut keyed = oversize;
    keyed["click_id"] = json!("big-4");
    let body = created(app.register_click(keyed).await).await;
    assert_eq!(body["dropped"][0]["field"], "event_ids", "{body}");
    assert_eq!(stored(&app, "big-4", "fbp").await.as_deref(), Some(FBP));
}

#[tokio::test]
async fn malformed_meta_cookies_from_a_browser_are_dropped_and_the_appendix_kept() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let appended = "fb.1.1733165018542.IwAR0AbCdEf.AQ";

    for (n, bad) in [
        "fb.1.123.IwAR",
        "fb.10.1596403881668.IwAR",
        "fb.1.1596403881668",
        "fb.1.1596403881668.a.b.c",
    ]
    .iter()
    .enumerate()
    {
        let id = format!("ck-{n}");
        let body = created(
            app.register_click_public(json!({
                "campaign": "offer1", "click_id": id, "fbc": bad, "fbp": bad
            }))
            .await,
        )
        .await;
        assert_eq!(body["ignored"], json!(["fbc", "fbp"]), "{bad}");
        assert_eq!(stored(&app, &id, "fbc").await, None, "{bad}");
    }

    let body = created(
        app.register_click_public(json!({
            "campaign": "offer1", "click_id": "ck-ok", "fbc": appended, "fbp": FBP
        }))
        .await,
    )
    .await;
    assert!(body.get("ignored").is_none(), "{body}");
    assert_eq!(
        stored(&app, "ck-ok", "fbc").await.as_deref(),
        Some(appended)
    );

    // From a server-side caller too: dropped and reported, the click kept.
    let body = created(
        app.register_click(
            json!({"campaign": "offer1", "click_id": "ck-k", "fbc": "fb.1.123.IwAR"}),
        )
        .await,
    )
    .await;
    assert_eq!(body["ignored"], json!(["fbc"]));
    assert_eq!(body["dropped"][0]["field"], "fbc");
    assert_eq!(stored(&app, "ck-k", "fbc").await, None);
}

async fn click_from(app: &TestApp, forwarded_for: &str, click_id: &str, campaign: &str) -> u16 {
    app.client
        .post(app.url("/v1/clicks"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"campaign": campaign, "click_id": click_id}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// An IPv6 visitor picks any address in its /64: the /64 is one budget.
#[tokio::test]
async fn ipv6_visitors_share_their_64s_rate_limit() {
    let app = spawn_app_with(&[
        "--click-rate-limit",
        "2/m",
        "--trusted-proxies",
        "127.0.0.1/32",
    ])
    .await;
    app.create_campaign("offer1", json!({})).await;

    assert_eq!(
        click_from(&app, "2001:db8:1:2::1", "v6-1", "offer1").await,
        201
    );
    assert_eq!(
        click_from(&app, "2001:db8:1:2::2", "v6-2", "offer1").await,
        201
    );
    assert_eq!(
        click_from(&app, "2001:db8:1:2:abcd::3", "v6-3", "offer1").await,
        429
    );
    assert_eq!(
        click_from(&app, "2001:db8:1:3::1", "v6-4", "offer1").await,
        201
    );
}

/// The most one public registration can store: every field at its cap, plus values over the
/// caps (but within what the schema takes) that must not get in.
#[tokio::test]
async fn one_public_click_stores_at_most_about_ten_kilobytes() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let url = |n: usize| format!("https://lp.example/{}", "u".repeat(n - 19));
    let ids = |n: usize, len: usize| -> serde_json::Map<String, Value> {
        (0..n)
            .map(|i| (format!("{i:02}{}", "E".repeat(48)), json!("i".repeat(len))))
            .collect()
    };
    let cookie = |n: usize| format!("fb.1.1596403881668.{}", "c".repeat(n - 19));
    let send = |click_id: &str, ua: String, body: Value| {
        let mut body = body;
        body["campaign"] = json!("offer1");
        body["click_id"] = json!(click_id);
        app.client
            .post(app.url("/v1/clicks"))
            .header("user-agent", ua)
            .json(&body)
            .send()
    };
    let at_caps = json!({
        "fbclid": "F".repeat(300), "fbc": cookie(400), "fbp": cookie(400),
        "event_source_url": url(2048), "referrer_url": url(2048),
        "event_ids": ids(20, 100), "em": "john@example.com", "external_id": "x".repeat(100),
    });
    let over_caps = json!({
        "fbclid": "F".repeat(512), "fbc": cookie(1024), "fbp": cookie(1024),
        "event_source_url": url(2048), "referrer_url": url(2048),
        "event_ids": ids(32, 256),
    });
    let resp = send("max-1", "A".repeat(512), at_caps).await.unwrap();
    assert_eq!(resp.status(), 201);
    let resp = send("max-2", "A".repeat(1024), over_caps).await.unwrap();
    assert_eq!(resp.status(), 201);

    let sizes: Vec<(String, i32)> = sqlx::query_as(
        "SELECT click_id, length(row_to_json(k)::text) FROM clicks k ORDER BY click_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    for (click_id, size) in sizes {
        assert!(size < 10_500, "{click_id} stores {size} bytes");
    }
}
