//! What public click registrations may store: new click ids and bytes per address (not
//! requests), one click bounded whatever its registrations send, and a campaign's budget that
//! sheds the heaviest addresses first, so an attack never locks real visitors out.

use capi_bridge::storage::click_size::CLICK_MAX_BYTES;
use chrono::Utc;
use reqwest::header::RETRY_AFTER;
use serde_json::{json, Map, Value};

use crate::helpers::*;

const BEHIND_PROXY: [&str; 2] = ["--trusted-proxies", "127.0.0.1/32"];

fn with_proxy<'a>(args: &[&'a str]) -> Vec<&'a str> {
    args.iter().copied().chain(BEHIND_PROXY).collect()
}

/// The update token the landing tag would make for `click_id` (any 32-128 of `A-Z a-z 0-9 _ -`
/// will do; the tag sends it with every registration of the click).
fn token_of(click_id: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(click_id.as_bytes()))
}

/// What the landing tag sends first on a visit from a Meta ad.
fn first_visit(click_id: &str) -> Value {
    let fbclid = "IwAR2xq8dJ3kLm9pQrStUvWxYz0123456789abcdefGHIJKLmnopQRSTuvwxyz_aem_AbCdEfGhIjKl";
    json!({
        "campaign": "offer1", "click_id": click_id, "fbclid": fbclid,
        "fbc": format!("fb.1.1733165018542.{fbclid}"), "fbp": "fb.1.1733165018542.1116446470",
        "event_source_url": format!(
            "https://lp.example.com/offer?subid={click_id}&fbclid={fbclid}&utm_source=fb"
        ),
        "referrer_url": "https://l.facebook.com/",
        "event_ids": {"Lead": format!("Lead-{click_id}"), "Purchase": format!("Purchase-{click_id}")},
        "update_token": token_of(click_id),
    })
}

/// What it sends later in the same visit: the pixel firing, the consent answer.
fn later_in_the_visit(click_id: &str) -> [Value; 2] {
    [
        json!({"campaign": "offer1", "click_id": click_id,
            "event_ids": {"Lead": format!("Lead-{click_id}")},
            "pixel_fired_at": {"Lead": Utc::now().timestamp_millis()},
            "update_token": token_of(click_id)}),
        json!({"campaign": "offer1", "click_id": click_id, "consent": true,
            "update_token": token_of(click_id)}),
    ]
}

async fn scalar<T>(app: &TestApp, sql: &str) -> T
where
    T: Send + Unpin + for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    sqlx::query_scalar(sql)
        .fetch_one(&app.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Bytes the clicks registered from `ip` take in the table.
async fn stored_by(app: &TestApp, ip: &str) -> i64 {
    scalar(
        app,
        &format!(
            "SELECT COALESCE(sum(pg_column_size(k.*)), 0)::bigint FROM clicks k \
             WHERE client_ip_address = '{ip}'"
        ),
    )
    .await
}

/// `n` random letters and digits: what PostgreSQL cannot compress (an attacker sends no
/// repetitions).
fn noise(n: usize) -> String {
    use rand::{distributions::Alphanumeric, Rng};
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

fn retry_after(resp: &reqwest::Response) -> u64 {
    resp.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After is seconds")
}

/// Many visitors behind one carrier address, each registered several times by the tag: at the
/// defaults every registration is stored.
#[tokio::test]
async fn a_carrier_nat_address_registers_every_visitor_at_the_defaults() {
    let app = spawn_app_with(&BEHIND_PROXY).await;
    app.create_campaign("offer1", json!({})).await;
    for n in 0..150 {
        let id = format!("nat-{n}");
        let resp = app
            .register_click_from("198.51.100.77", first_visit(&id))
            .await;
        assert_eq!(resp.status(), 201, "{id}");
        for body in later_in_the_visit(&id) {
            let resp = app.register_click_from("198.51.100.77", body).await;
            assert_eq!(resp.status(), 200, "{id} again");
        }
    }
    assert_eq!(
        scalar::<i64>(&app, "SELECT count(*) FROM clicks").await,
        150
    );
}

#[tokio::test]
async fn new_click_ids_are_limited_per_address_and_re_registrations_are_not() {
    let app = spawn_app_with(&with_proxy(&["--click-address-new-limit", "3/h"])).await;
    app.create_campaign("offer1", json!({})).await;
    let a = "198.51.100.1";
    for n in 1..=3 {
        let resp = app
            .register_click_from(a, first_visit(&format!("n-{n}")))
            .await;
        assert_eq!(resp.status(), 201, "n-{n}");
    }
    let resp = app.register_click_from(a, first_visit("n-4")).await;
    // 3 an hour: the next one in 20 minutes.
    let wait = retry_after(&resp);
    assert!((1..=1200).contains(&wait), "Retry-After {wait}");
    assert_problem(resp, 429, "rate_limited").await;

    // The tag's later registrations of the clicks it made are no new clicks.
    for n in 1..=3 {
        for body in later_in_the_visit(&format!("n-{n}")) {
            let resp = app.register_click_from(a, body).await;
            assert_eq!(resp.status(), 200, "n-{n} again");
        }
    }
    // And a visitor can always withdraw consent.
    let withdraw = json!({"campaign": "offer1", "click_id": "n-2", "consent": false,
        "update_token": token_of("n-2")});
    assert_eq!(app.register_click_from(a, withdraw).await.status(), 200);
    // Without the click's token a registration of a known click is refused like an unknown
    // one's: the refusal does not tell that the click id exists.
    for id in ["n-1", "n-5"] {
        let probe = json!({"campaign": "offer1", "click_id": id, "consent": false});
        assert_problem(app.register_click_from(a, probe).await, 429, "rate_limited").await;
    }
    let consent: Option<bool> =
        scalar(&app, "SELECT consent FROM clicks WHERE click_id = 'n-2'").await;
    assert_eq!(consent, Some(false));
    let fired: i64 = scalar(
        &app,
        "SELECT count(*) FROM clicks WHERE pixel_fired_at ? 'Lead' AND consent IS NOT NULL",
    )
    .await;
    assert_eq!(fired, 3);

    // Another address, another budget; an IPv6 /64 is one address.
    let resp = app
        .register_click_from("198.51.100.2", first_visit("b-1"))
        .await;
    assert_eq!(resp.status(), 201);
    for n in 1..=3 {
        let ip = format!("2001:db8:5:6::{n}");
        let resp = app
            .register_click_from(&ip, first_visit(&format!("v6-{n}")))
            .await;
        assert_eq!(resp.status(), 201);
    }
    let resp = app
        .register_click_from("2001:db8:5:6:ffff::1", first_visit("v6-4"))
        .await;
    assert_problem(resp, 429, "rate_limited").await;

    // A server-side caller with the key is not a browser: not limited.
    let resp = app
        .client
        .post(app.url("/v1/clicks"))
        .header("x-postback-key", POSTBACK_KEY)
        .header("x-forwarded-for", a)
        .json(&first_visit("server-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);

    let refused: i64 = scalar(
        &app,
        "SELECT count(*) FROM clicks WHERE click_id IN ('n-4', 'v6-4')",
    )
    .await;
    assert_eq!(refused, 0, "a refused click stores nothing");
    let metrics = app.scrape_metrics().await;
    assert!(
        metrics.contains(r#"capi_bridge_clicks_refused_total{budget="address_new_clicks"} 4"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn the_bytes_one_address_stores_are_limited() {
    let app = spawn_app_with(&with_proxy(&[
        "--click-address-bytes-limit",
        "20KB/h",
        "--click-address-new-limit",
        "off",
    ]))
    .await;
    app.create_campaign("offer1", json!({})).await;
    let a = "198.51.100.3";
    let big = |n: usize| {
        json!({"campaign": "offer1", "click_id": format!("big-{n}"), "fbclid": noise(1000),
            "event_source_url": format!("https://lp.example/{}", noise(2000)),
            "referrer_url": format!("https://ref.example/{}", noise(2000)),
            "update_token": token_of(&format!("big-{n}"))})
    };
    let mut statuses = Vec::new();
    for n in 0..20 {
        statuses.push(app.register_click_from(a, big(n)).await.status().as_u16());
    }
    let stored = statuses.iter().filter(|&&s| s == 201).count();
    assert!(stored >= 2, "{statuses:?}");
    assert!(
        statuses[stored..].iter().all(|&s| s == 429),
        "refused from the first refusal on: {statuses:?}"
    );
    let bytes = stored_by(&app, a).await;
    assert!(bytes <= 20_000, "{bytes} bytes stored from one address");
    // Past its budget, the address may still answer consent on its clicks (it stores nothing
    // new), but not add more than is left to them.
    let consent = json!({"campaign": "offer1", "click_id": "big-0", "consent": false,
        "update_token": token_of("big-0")});
    assert_eq!(app.register_click_from(a, consent).await.status(), 200);
    let more = json!({"campaign": "offer1", "click_id": "big-0", "update_token": token_of("big-0"),
        "fbc": format!("fb.1.1733165018542.{}", "c".repeat(1000)), "ttclid": "T".repeat(512),
        "fbp": format!("fb.1.1733165018542.{}", "p".repeat(1000)), "ttp": "P".repeat(512),
        "event_ids": ids_of(&names("m", 20))});
    assert_problem(app.register_click_from(a, more).await, 429, "rate_limited").await;
    // Others are not affected.
    assert_eq!(
        app.register_click_from("198.51.100.4", big(99))
            .await
            .status(),
        201
    );
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{prefix}{i:02}{}", "E".repeat(50 - prefix.len() - 2)))
        .collect()
}

fn ids_of(names: &[String]) -> Map<String, Value> {
    names
        .iter()
        .map(|n| (n.clone(), json!(noise(100))))
        .collect()
}

/// Every field at its cap, and registered again and again with new event names and an oversize
/// one: the click stays within the documented maximum.
#[tokio::test]
async fn one_click_stores_at_most_the_documented_maximum() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let url = |n: usize| format!("https://lp.example/{}", noise(n - 19));
    let cookie = |n: usize| format!("fb.1.1596403881668.{}", noise(n - 19));
    let now = Utc::now().timestamp_millis();
    let register = |body: Value| {
        let mut body = body;
        body["campaign"] = json!("offer1");
        body["click_id"] = json!("m".repeat(128));
        body["update_token"] = json!(token_of(&"m".repeat(128)));
        app.client
            .post(app.url("/v1/clicks"))
            .header("user-agent", noise(1024))
            .json(&body)
            .send()
    };
    let first = names("a", 20);
    let fired: Map<String, Value> = first.iter().map(|n| (n.clone(), json!(now))).collect();
    let resp = register(json!({
        "fbclid": noise(1000), "fbc": cookie(1100), "fbp": cookie(1100),
        "ttclid": noise(512), "ttp": noise(512),
        "event_source_url": url(2048), "referrer_url": url(2048),
        "event_ids": ids_of(&first), "tiktok_event_ids": ids_of(&first), "pixel_fired_at": fired,
        "em": "john@example.com", "ph": "+14155550123", "fn": "john", "ln": "doe", "ge": "m",
        "db": "19900101", "ct": "paris", "st": "ca", "zp": "94105", "country": "us",
        "external_id": noise(100),
    }))
    .await
    .unwrap();
    assert_eq!(resp.status(), 201);
    for round in ["b", "c", "d", "e"] {
        let more = names(round, 20);
        let fired: Map<String, Value> = more.iter().map(|n| (n.clone(), json!(now))).collect();
        let resp = register(json!({
            "event_ids": ids_of(&more), "tiktok_event_ids": ids_of(&more), "pixel_fired_at": fired,
        }))
        .await
        .unwrap();
        assert_eq!(resp.status(), 200, "round {round}");
    }
    // A name that is not one is dropped, and its reason (which quotes it) cut.
    let bad_name = format!("{}/", "N".repeat(20_000));
    let resp = register(json!({"event_ids": {bad_name: "x"}}))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let where_ = format!("WHERE click_id = '{}'", "m".repeat(128));
    for map in ["event_ids", "tiktok_event_ids", "pixel_fired_at"] {
        let n: i64 = scalar(
            &app,
            &format!("SELECT count(*) FROM clicks, jsonb_object_keys({map}) {where_}"),
        )
        .await;
        assert_eq!(n, 20, "{map} grew past its cap");
    }
    let reason: i32 = scalar(
        &app,
        &format!("SELECT max(length(d->>'reason')) FROM clicks, jsonb_array_elements(dropped) d {where_}"),
    )
    .await;
    assert!(reason <= 160, "a stored reason of {reason} characters");
    let size: i32 = scalar(
        &app,
        &format!("SELECT pg_column_size(k.*) FROM clicks k {where_}"),
    )
    .await;
    assert!(
        (size as usize) < CLICK_MAX_BYTES,
        "one click takes {size} bytes, over the documented {CLICK_MAX_BYTES}"
    );
}

/// Ten addresses sending large clicks as fast as they may exhaust the campaign's budget; a
/// visitor with no history still registers, and so does the next one.
#[tokio::test]
async fn ten_attacking_addresses_cannot_lock_a_real_visitor_out() {
    let app = spawn_app_with(&with_proxy(&[
        "--click-campaign-bytes-limit",
        "60KB/h",
        "--click-address-bytes-limit",
        "30KB/h",
    ]))
    .await;
    app.create_campaign("offer1", json!({})).await;
    app.create_campaign("offer2", json!({})).await;
    let attack = |n: usize, round: usize| {
        json!({"campaign": "offer1", "click_id": format!("x-{n}-{round}"),
            "event_source_url": format!("https://lp.example/{}", noise(1500)),
            "referrer_url": format!("https://ref.example/{}", noise(1000))})
    };
    let attackers: Vec<String> = (1..=10).map(|n| format!("198.51.100.{n}")).collect();
    let mut refused = 0;
    for round in 0..20 {
        for (n, ip) in attackers.iter().enumerate() {
            let resp = app.register_click_from(ip, attack(n, round)).await;
            match resp.status().as_u16() {
                201 => {}
                429 => refused += 1,
                other => panic!("attack click: {other}"),
            }
        }
    }
    assert!(
        refused > 100,
        "the campaign's budget was not reached: {refused} refused"
    );
    let metrics = app.scrape_metrics().await;
    assert!(
        metrics.contains(r#"capi_bridge_clicks_refused_total{budget="campaign_bytes"}"#),
        "{metrics}"
    );
    let mut attack_bytes = 0;
    for ip in &attackers {
        attack_bytes += stored_by(&app, ip).await;
    }
    assert!(
        attack_bytes <= 120_000,
        "{attack_bytes} bytes from the attack"
    );

    // While the attack goes on, real visitors register, and so do their later registrations.
    for (visitor, ip) in [("real-1", "203.0.113.5"), ("real-2", "203.0.113.6")] {
        for (n, attacker) in attackers.iter().enumerate() {
            let resp = app.register_click_from(attacker, attack(n, 99)).await;
            assert_eq!(resp.status(), 429, "the attack is still refused");
        }
        let resp = app.register_click_from(ip, first_visit(visitor)).await;
        assert_eq!(resp.status(), 201, "{visitor}");
        for body in later_in_the_visit(visitor) {
            assert_eq!(app.register_click_from(ip, body).await.status(), 200);
        }
    }
    // Another campaign never noticed.
    let mut other = attack(1, 0);
    other["campaign"] = json!("offer2");
    other["click_id"] = json!("o-1");
    assert_eq!(
        app.register_click_from(&attackers[1], other).await.status(),
        201
    );
}
