//! Click capture: `POST|GET /v1/clicks` and what ends up in the `clicks` table: JSON, form,\nbeacon and pixel requests, merged registrations, the address and browser, hashed email.

use crate::helpers::clicks::*;
use crate::helpers::*;
use reqwest::header::{ACCEPT, CONTENT_TYPE, USER_AGENT};
use reqwest::Method;
use serde_json::{json, Value};

const EMAIL: &str = "John_Smith@gmail.com";
const EMAIL_HASH: &str = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";
const FBP: &str = "fb.1.1596403881668.1116446470";

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
    // The first registration was an hour ago, so the merge's `updated_at` must move on.
    sqlx::query(
        "UPDATE clicks SET first_seen_at = first_seen_at - interval '1 hour', \
         updated_at = updated_at - interval '1 hour' WHERE click_id = 'clk-m'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let first = stored_click(&app, "clk-m").await;

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
