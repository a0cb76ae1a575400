//! Click capture: `POST|GET /v1/clicks` and what ends up in the `clicks` table.

use chrono::{DateTime, Utc};
use reqwest::header::{ACCEPT, CONTENT_TYPE, USER_AGENT};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

const EMAIL: &str = "John_Smith@gmail.com";
const EMAIL_HASH: &str = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";
const FBP: &str = "fb.1.1596403881668.1116446470";

/// The stored columns the merge rule is about.
#[derive(Debug, sqlx::FromRow)]
struct ClickRow {
    campaign_key: String,
    fbclid: Option<String>,
    fbc: Option<String>,
    fbp: Option<String>,
    event_source_url: Option<String>,
    client_ip_address: Option<String>,
    client_user_agent: Option<String>,
    consent: Option<bool>,
    event_ids: Value,
    em: Option<String>,
    first_seen_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

async fn stored_click(app: &TestApp, click_id: &str) -> ClickRow {
    sqlx::query_as::<_, ClickRow>(
        "SELECT c.key AS campaign_key, k.fbclid, k.fbc, k.fbp, k.event_source_url, \
            k.client_ip_address, k.client_user_agent, k.consent, k.event_ids, k.em, \
            k.first_seen_at, k.updated_at \
         FROM clicks k JOIN campaigns c ON c.id = k.campaign_id WHERE k.click_id = $1",
    )
    .bind(click_id)
    .fetch_one(&app.pool)
    .await
    .unwrap_or_else(|e| panic!("click {click_id} is not stored: {e}"))
}

async fn click_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM clicks")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn post_raw(
    app: &TestApp,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    app.client
        .post(app.url("/v1/clicks"))
        .header(USER_AGENT, BROWSER_UA)
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .expect("click request")
}

async fn get_query(app: &TestApp, query: &str) -> reqwest::Response {
    app.client
        .get(format!("{}/v1/clicks?{query}", app.address))
        .header(USER_AGENT, BROWSER_UA)
        .send()
        .await
        .expect("click request")
}

#[tokio::test]
async fn post_json_registers_the_click_and_answers_its_event_ids() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = app
        .register_click(json!({
            "campaign": "offer1", "click_id": "clk-1", "fbclid": "IwAR_AbCdEf", "fbp": FBP,
            "event_source_url": "https://lp.example/offer?x=1",
            "event_ids": {"Lead": "pixel-lead-1"}
        }))
        .await;

    assert_eq!(resp.status(), 201);
    let mut body: Value = resp.json().await.unwrap();
    take_update_token(&mut body);
    assert_eq!(
        body,
        json!({
            "click_id": "clk-1",
            "event_ids": {"Lead": "pixel-lead-1", "Purchase": "Purchase-clk-1"}
        })
    );
    let row = stored_click(&app, "clk-1").await;
    assert_eq!(row.campaign_key, "offer1");
    assert_eq!(row.fbclid.as_deref(), Some("IwAR_AbCdEf"));
    assert_eq!(row.fbp.as_deref(), Some(FBP));
    assert_eq!(row.fbc, None);
    assert_eq!(
        row.event_source_url.as_deref(),
        Some("https://lp.example/offer?x=1")
    );
    assert_eq!(row.consent, None);
    assert_eq!(row.event_ids, json!({"Lead": "pixel-lead-1"}));
    assert_eq!(row.em, None);
}

#[tokio::test]
async fn event_ids_follow_the_campaign_template_when_none_is_registered() {
    let app = spawn_app().await;
    app.create_campaign(
        "offer1",
        json!({"event_id_template": "{campaign}.{event_name}.{click_id}"}),
    )
    .await;

    let resp = app
        .register_click(json!({"campaign": "offer1", "click_id": "clk-2"}))
        .await;

    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["event_ids"],
        json!({"Lead": "offer1.Lead.clk-2", "Purchase": "offer1.Purchase.clk-2"})
    );
}

#[tokio::test]
async fn a_second_registration_merges_and_the_first_values_win() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let resp = app
        .register_click(json!({
            "campaign": "offer1", "click_id": "clk-m", "fbclid": "IwAR_first",
            "client_ip_address": "203.0.113.7", "event_ids": {"Lead": "lead-first"}
        }))
        .await;
    assert_eq!(resp.status(), 201);
    let first = stored_click(&app, "clk-m").await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    let resp = app
        .client
        .post(app.url("/v1/clicks"))
        .header(USER_AGENT, "SecondAgent/2.0")
        .header("x-postback-key", POSTBACK_KEY)
        .json(&json!({
            "campaign": "offer1", "click_id": "clk-m", "fbclid": "IwAR_second",
            "client_ip_address": "198.51.100.99", "fbp": FBP, "em": EMAIL,
            "event_ids": {"Lead": "lead-second", "Purchase": "purchase-second"}
        }))
        .send()
        .await
        .unwrap();

    assert_eq!(resp.status(), 200, "a known click is merged, not created");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "click_id": "clk-m",
            "event_ids": {"Lead": "lead-first", "Purchase": "purchase-second"}
        })
    );
    assert_eq!(click_count(&app).await, 1);
    let merged = stored_click(&app, "clk-m").await;
    assert_eq!(merged.fbclid.as_deref(), Some("IwAR_first"));
    assert_eq!(merged.client_ip_address.as_deref(), Some("203.0.113.7"));
    assert_eq!(merged.client_user_agent.as_deref(), Some(BROWSER_UA));
    assert_eq!(merged.first_seen_at, first.first_seen_at);
    assert!(merged.updated_at > first.updated_at);
    assert_eq!(merged.fbp.as_deref(), Some(FBP), "missing fbp is filled in");
    assert_eq!(
        merged.em.as_deref(),
        Some(EMAIL_HASH),
        "missing em is filled in"
    );
    assert_eq!(
        merged.event_ids,
        json!({"Lead": "lead-first", "Purchase": "purchase-second"})
    );
}

#[tokio::test]
async fn form_bodies_nest_event_ids_and_read_consent() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = post_raw(
        &app,
        "application/x-www-form-urlencoded",
        "campaign=offer1&click_id=clk-form&fbclid=IwAR_form&event_ids[Lead]=x\
         &event_ids%5BPurchase%5D=buy-1&consent=true&event_source_url=https%3A%2F%2Flp.example%2Fa%3Fb%3D1",
    )
    .await;

    assert_eq!(resp.status(), 201);
    let mut body: Value = resp.json().await.unwrap();
    take_update_token(&mut body);
    assert_eq!(
        body,
        json!({"click_id": "clk-form", "event_ids": {"Lead": "x", "Purchase": "buy-1"}})
    );
    let row = stored_click(&app, "clk-form").await;
    assert_eq!(row.fbclid.as_deref(), Some("IwAR_form"));
    assert_eq!(row.consent, Some(true));
    assert_eq!(row.event_ids, json!({"Lead": "x", "Purchase": "buy-1"}));
    assert_eq!(
        row.event_source_url.as_deref(),
        Some("https://lp.example/a?b=1")
    );
}

#[tokio::test]
async fn consent_false_in_a_form_is_stored_as_false() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = post_raw(
        &app,
        "application/x-www-form-urlencoded; charset=UTF-8",
        "campaign=offer1&click_id=clk-noconsent&consent=false",
    )
    .await;

    assert_eq!(resp.status(), 201);
    assert_eq!(
        stored_click(&app, "clk-noconsent").await.consent,
        Some(false)
    );
}

#[tokio::test]
async fn text_plain_json_from_send_beacon_is_accepted() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let body = json!({"campaign": "offer1", "click_id": "clk-beacon", "fbp": FBP}).to_string();

    let resp = post_raw(&app, "text/plain;charset=UTF-8", body).await;

    assert_eq!(resp.status(), 201);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["click_id"], "clk-beacon");
    assert_eq!(
        stored_click(&app, "clk-beacon").await.fbp.as_deref(),
        Some(FBP)
    );
}

#[tokio::test]
async fn get_answers_a_gif_pixel_and_stores_the_click() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = get_query(
        &app,
        "campaign=offer1&click_id=clk-gif&fbclid=IwAR_gif&event_ids%5BLead%5D=gif-lead",
    )
    .await;

    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()[CONTENT_TYPE], "image/gif");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let bytes = resp.bytes().await.unwrap();
    assert!(bytes.starts_with(b"GIF89a"), "{bytes:?}");
    assert_eq!(&bytes[6..10], &[1, 0, 1, 0], "1x1 pixel");
    let row = stored_click(&app, "clk-gif").await;
    assert_eq!(row.fbclid.as_deref(), Some("IwAR_gif"));
    assert_eq!(row.event_ids, json!({"Lead": "gif-lead"}));

    // Without the click's update token a browser's registration changes nothing and answers as
    // a new click's would: the answer does not tell that the click id is known.
    let again = get_query(&app, "campaign=offer1&click_id=clk-gif").await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()[CONTENT_TYPE], "image/gif");
}

#[tokio::test]
async fn get_with_accept_json_answers_json() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = app
        .client
        .get(app.url("/v1/clicks?campaign=offer1&click_id=clk-gj"))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();

    assert_eq!(resp.status(), 201);
    assert!(resp.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let mut body: Value = resp.json().await.unwrap();
    take_update_token(&mut body);
    assert_eq!(
        body,
        json!({"click_id": "clk-gj", "event_ids": {"Lead": "Lead-clk-gj", "Purchase": "Purchase-clk-gj"}})
    );
    stored_click(&app, "clk-gj").await;
}

#[tokio::test]
async fn ip_and_user_agent_default_to_the_peer_and_the_header() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = app
        .register_click(json!({"campaign": "offer1", "click_id": "clk-peer"}))
        .await;

    assert_eq!(resp.status(), 201);
    let row = stored_click(&app, "clk-peer").await;
    assert_eq!(row.client_ip_address.as_deref(), Some("127.0.0.1"));
    assert_eq!(row.client_user_agent.as_deref(), Some(BROWSER_UA));
}

#[tokio::test]
async fn explicit_ip_and_user_agent_win_over_the_connection() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = app
        .register_click(json!({
            "campaign": "offer1", "click_id": "clk-explicit",
            "client_ip_address": "2001:db8::1", "client_user_agent": "Explicit/1.0 (Android)"
        }))
        .await;

    assert_eq!(resp.status(), 201);
    let row = stored_click(&app, "clk-explicit").await;
    assert_eq!(row.client_ip_address.as_deref(), Some("2001:db8::1"));
    assert_eq!(
        row.client_user_agent.as_deref(),
        Some("Explicit/1.0 (Android)")
    );
}

#[tokio::test]
async fn raw_email_is_never_stored_only_its_hash() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = app
        .register_click(json!({
            "campaign": "offer1", "click_id": "clk-pii", "em": EMAIL,
            "client_ip_address": "203.0.113.7"
        }))
        .await;
    assert_eq!(resp.status(), 201);

    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name = 'clicks' \
           AND data_type IN ('text', 'character varying', 'jsonb', 'json')",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(columns.len() >= 20, "text columns of clicks: {columns:?}");
    for column in &columns {
        let values: Vec<Option<String>> =
            sqlx::query_scalar(&format!(r#"SELECT "{column}"::text FROM clicks"#))
                .fetch_all(&app.pool)
                .await
                .unwrap();
        for value in values.into_iter().flatten() {
            assert!(
                !value.contains(EMAIL) && !value.contains(&EMAIL.to_lowercase()),
                "column {column} holds the raw email: {value:?}"
            );
        }
    }
    let whole_row: String = sqlx::query_scalar("SELECT row_to_json(k)::text FROM clicks k")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        !whole_row.to_lowercase().contains(&EMAIL.to_lowercase()),
        "{whole_row}"
    );
    assert_eq!(
        stored_click(&app, "clk-pii").await.em.as_deref(),
        Some(EMAIL_HASH)
    );
}

#[tokio::test]
async fn admin_click_view_shows_ip_ua_and_only_the_email_hash() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let resp = app
        .register_click(json!({
            "campaign": "offer1", "click_id": "clk-view", "em": EMAIL,
            "client_ip_address": "203.0.113.7", "consent": true,
            "event_ids": {"Lead": "ev-1"}
        }))
        .await;
    assert_eq!(resp.status(), 201);

    let resp = app
        .admin(Method::GET, "/admin/v1/clicks/clk-view", None)
        .await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(
        !text.to_lowercase().contains(&EMAIL.to_lowercase()),
        "{text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["click_id"], "clk-view");
    assert_eq!(body["campaign"], "offer1");
    assert_eq!(body["client_ip_address"], "203.0.113.7");
    assert_eq!(body["client_user_agent"], BROWSER_UA);
    assert_eq!(body["consent"], true);
    assert_eq!(body["event_ids"], json!({"Lead": "ev-1"}));
    assert_eq!(body["user_data_hashes"], json!({"em": EMAIL_HASH}));

    let resp = app
        .admin(Method::GET, "/admin/v1/clicks/no-such-click", None)
        .await;
    assert_problem(resp, 404, "click_not_found").await;
}

#[tokio::test]
async fn unknown_campaign_is_404() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = app
        .register_click(json!({"campaign": "nope", "click_id": "clk-x"}))
        .await;

    assert_problem(resp, 404, "campaign_not_found").await;
    assert_eq!(click_count(&app).await, 0);
}

#[tokio::test]
async fn disabled_campaign_is_404() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let resp = app
        .admin(
            Method::PATCH,
            "/admin/v1/campaigns/offer1",
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(resp.status(), 200);

    let resp = app
        .register_click(json!({"campaign": "offer1", "click_id": "clk-off"}))
        .await;

    assert_problem(resp, 404, "campaign_not_found").await;
    let resp = get_query(&app, "campaign=offer1&click_id=clk-off").await;
    assert_problem(resp, 404, "campaign_not_found").await;
    assert_eq!(click_count(&app).await, 0);
}

#[tokio::test]
async fn missing_click_id_or_campaign_is_400() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    for (body, field) in [
        (json!({"campaign": "offer1"}), "click_id"),
        (json!({"campaign": "offer1", "click_id": "  "}), "click_id"),
        (json!({"click_id": "clk-1"}), "campaign"),
    ] {
        let resp = app.register_click(body.clone()).await;
        let detail = assert_problem(resp, 400, "missing_field").await;
        assert_eq!(detail, format!("{field} is required"), "{body}");
    }
    let resp = get_query(&app, "campaign=offer1").await;
    assert_problem(resp, 400, "missing_field").await;
    assert_eq!(click_count(&app).await, 0);
}

#[tokio::test]
async fn invalid_click_ids_are_422_and_128_characters_are_fine() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    for bad in [
        "a b".to_owned(),
        "a".repeat(129),
        "a/b".to_owned(),
        "ä".to_owned(),
    ] {
        let resp = app
            .register_click(json!({"campaign": "offer1", "click_id": bad}))
            .await;
        let detail = assert_problem(resp, 422, "invalid_field").await;
        assert!(detail.starts_with("click_id "), "{detail}");
    }
    assert_eq!(click_count(&app).await, 0);

    let longest = "b".repeat(128);
    let resp = app
        .register_click(json!({"campaign": "offer1", "click_id": longest}))
        .await;
    assert_eq!(resp.status(), 201);
}

#[tokio::test]
async fn invalid_fields_are_dropped_and_named_and_the_click_kept() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    for (i, (field, value)) in [
        ("em", json!("not-an-email")),
        ("em", json!("a@b")),
        ("fbc", json!("garbage")),
        ("fbc", json!("fb.1.notatime.IwAR")),
        ("fbp", json!("fb.1")),
        ("fbclid", json!("\u{0}")),
        ("event_source_url", json!("javascript:alert(1)")),
        ("event_source_url", json!("lp.example/offer")),
        ("referrer_url", json!("ftp://x.example")),
        ("client_ip_address", json!("300.1.1.1")),
        ("ph", json!("12")),
        ("country", json!("Atlantis")),
        ("event_ids", json!({"Lead": ""})),
    ]
    .into_iter()
    .enumerate()
    {
        // A server-side caller (with the key) once got a 422 here, and the click was lost.
        let click_id = format!("clk-bad-{i}");
        let mut body = json!({"campaign": "offer1", "click_id": click_id});
        body[field] = value.clone();
        let resp = app.register_click(body).await;
        assert_eq!(resp.status(), 201, "{field}={value}");
        let answer: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(
            answer["ignored"],
            json!([field]),
            "{field}={value}: {answer}"
        );
        assert_eq!(answer["dropped"][0]["field"], field, "{answer}");
        assert!(answer["dropped"][0]["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty()));
    }
    assert_eq!(click_count(&app).await, 13);
    let metrics = app.scrape_metrics().await;
    assert!(
        metrics.contains(r#"capi_bridge_dropped_fields_total{field="em"} 2"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn invalid_fields_in_the_query_are_dropped_too() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = app
        .client
        .get(app.url("/v1/clicks?campaign=offer1&click_id=clk-q&em=nope&fbclid=IwAR%20abc"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let answer: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(answer["dropped"][0]["field"], "em");
    assert_eq!(click_count(&app).await, 1);
    // A space in an fbclid (a redirect's mangling) is kept byte for byte, as Meta's builders do.
    assert_eq!(
        stored_click(&app, "clk-q").await.fbclid.as_deref(),
        Some("IwAR abc")
    );
    // Consent is never guessed: an unreadable answer refuses the registration.
    let resp = get_query(&app, "campaign=offer1&click_id=clk-q2&consent=maybe").await;
    let detail = assert_problem(resp, 422, "invalid_field").await;
    assert!(detail.starts_with("consent "), "{detail}");
}

#[tokio::test]
async fn unknown_json_field_is_400_naming_it() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = app
        .register_click(json!({"campaign": "offer1", "click_id": "clk-u", "colour_pref": "red"}))
        .await;

    let detail = assert_problem(resp, 400, "invalid_body").await;
    assert!(detail.contains("colour_pref"), "{detail}");
    assert_eq!(click_count(&app).await, 0);
}

#[tokio::test]
async fn invalid_json_is_400() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    for body in [
        r#"{"campaign": "offer1", "click_id": "#,
        "not json",
        "[1, 2]",
        r#"{"campaign": "offer1", "click_id": 42}"#,
        r#"{"campaign": "offer1", "click_id": "c", "consent": "yes please"}"#,
        "",
    ] {
        let resp = post_raw(&app, "application/json", body).await;
        assert_problem(resp, 400, "invalid_body").await;
    }
    assert_eq!(click_count(&app).await, 0);
}

#[tokio::test]
async fn body_over_64_kib_is_413_with_a_problem_body() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let padding = "a".repeat(64 * 1024);

    let resp = app
        .register_click(json!({"campaign": "offer1", "click_id": "clk-big", "fbclid": padding}))
        .await;
    let detail = assert_problem(resp, 413, "payload_too_large").await;
    assert!(detail.contains("64 KiB"), "{detail}");

    let form = format!("campaign=offer1&click_id=clk-big&fbclid={padding}");
    let resp = post_raw(&app, "application/x-www-form-urlencoded", form).await;
    assert_problem(resp, 413, "payload_too_large").await;
    assert_eq!(click_count(&app).await, 0);
}

#[tokio::test]
async fn malformed_percent_encoding_and_invalid_utf8_are_400() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    for (query, code) in [
        (
            "campaign=offer1&click_id=clk-p&fbclid=%zz",
            "bad_percent_encoding",
        ),
        (
            "campaign=offer1&click_id=clk-p&fbclid=%4",
            "bad_percent_encoding",
        ),
        (
            "campaign=offer1&click_id=clk-p&em=a%FF%40example.com",
            "invalid_utf8",
        ),
        ("campaign=offer1&click_id=clk-p&%FF=1", "invalid_utf8"),
    ] {
        let resp = get_query(&app, query).await;
        assert_problem(resp, 400, code).await;
        let resp = post_raw(&app, "application/x-www-form-urlencoded", query).await;
        assert_problem(resp, 400, code).await;
    }
    assert_eq!(click_count(&app).await, 0);
}

#[tokio::test]
async fn unsupported_content_type_is_415() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    for content_type in [
        "application/xml",
        "multipart/form-data; boundary=x",
        "image/png",
    ] {
        let resp = post_raw(&app, content_type, "<click/>").await;
        assert_problem(resp, 415, "unsupported_media_type").await;
    }
    assert_eq!(click_count(&app).await, 0);
}

#[tokio::test]
async fn cors_preflight_from_a_landing_page_is_allowed() {
    let app = spawn_app().await;

    let resp = app
        .client
        .request(Method::OPTIONS, app.url("/v1/clicks"))
        .header("origin", "https://lp.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();

    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "https://lp.example"
    );
    let methods = resp.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(methods.contains("POST"), "{methods}");
}

#[tokio::test]
async fn cors_headers_are_on_the_actual_response() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = app
        .client
        .post(app.url("/v1/clicks"))
        .header("origin", "https://lp.example")
        .json(&json!({"campaign": "offer1", "click_id": "clk-cors"}))
        .send()
        .await
        .unwrap();

    assert_eq!(resp.status(), 201);
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "https://lp.example"
    );
}

#[tokio::test]
async fn forwarded_for_from_a_trusted_proxy_is_the_client_address() {
    let app = spawn_app_with(&["--trusted-proxies", "127.0.0.1/32"]).await;
    app.create_campaign("offer1", json!({})).await;

    let resp = app
        .client
        .post(app.url("/v1/clicks"))
        .header("x-forwarded-for", "198.51.100.7")
        .json(&json!({"campaign": "offer1", "click_id": "clk-xff"}))
        .send()
        .await
        .unwrap();

    assert_eq!(resp.status(), 201);
    let row = stored_click(&app, "clk-xff").await;
    assert_eq!(row.client_ip_address.as_deref(), Some("198.51.100.7"));
}

#[tokio::test]
async fn forwarded_for_is_ignored_without_trusted_proxies() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = app
        .client
        .post(app.url("/v1/clicks"))
        .header("x-forwarded-for", "198.51.100.7")
        .json(&json!({"campaign": "offer1", "click_id": "clk-noxff"}))
        .send()
        .await
        .unwrap();

    assert_eq!(resp.status(), 201);
    let row = stored_click(&app, "clk-noxff").await;
    assert_eq!(row.client_ip_address.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn blank_optional_fields_are_not_given() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = get_query(
        &app,
        "campaign=offer1&click_id=clk-blank&fbclid=&fbp=&em=&consent=",
    )
    .await;

    assert_eq!(resp.status(), 201);
    let row = stored_click(&app, "clk-blank").await;
    assert_eq!(
        (row.fbclid, row.fbp, row.em, row.consent),
        (None, None, None, None)
    );
}

#[tokio::test]
async fn a_nul_character_in_the_campaign_key_is_404_not_500() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = app
        .register_click(json!({"campaign": "offer1\u{0}", "click_id": "clk-nul"}))
        .await;
    assert_problem(resp, 404, "campaign_not_found").await;

    let resp = get_query(&app, "campaign=offer%001&click_id=clk-nul").await;
    assert_problem(resp, 404, "campaign_not_found").await;
    assert_eq!(click_count(&app).await, 0);
}

/// The hashed columns accept exactly 64 lowercase hex digits, whatever writes to them: the
/// database is the last line against raw personal data being stored.
#[tokio::test]
async fn the_database_refuses_anything_but_a_sha256_hex_in_hashed_columns() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let hash = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";
    let refused = [
        "john@example.com".to_owned(),
        hash.to_uppercase(),
        hash[..63].to_owned(),
        format!("{hash}0"),
        format!("{hash}\n"),
        format!("{}g", &hash[..63]),
        String::new(),
    ];
    for (table, column) in [
        ("clicks", "em"),
        ("clicks", "country"),
        ("conversions", "ph"),
    ] {
        let insert = match table {
            "clicks" => format!(
                "INSERT INTO clicks (click_id, campaign_id, {column}) \
                 SELECT $1, id, $2 FROM campaigns WHERE key = 'offer1'"
            ),
            _ => format!(
                "INSERT INTO conversions (click_id, tracker, raw_status, status, state, {column}) \
                 VALUES ($1, 'generic', 'lead', 'lead', 'unmatched', $2)"
            ),
        };
        for (i, value) in refused.iter().enumerate() {
            let err = sqlx::query(&insert)
                .bind(format!("chk-{column}-{i}"))
                .bind(value)
                .execute(&app.pool)
                .await
                .expect_err(&format!("{table}.{column} must refuse {value:?}"));
            let constraint = err
                .as_database_error()
                .and_then(|e| e.constraint())
                .map(str::to_owned);
            assert_eq!(
                constraint.as_deref(),
                Some(format!("{table}_{column}_check").as_str()),
                "{err}"
            );
        }
        let done = sqlx::query(&insert)
            .bind(format!("chk-{column}-ok"))
            .bind(hash)
            .execute(&app.pool)
            .await
            .unwrap_or_else(|e| panic!("{table}.{column} must take a hash: {e}"));
        assert_eq!(done.rows_affected(), 1);
    }
}
