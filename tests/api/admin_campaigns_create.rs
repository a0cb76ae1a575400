//! The campaign admin API, `/admin/v1/campaigns`: creation, its defaults and validation,\nand the access token never answered.

use crate::helpers::admin_campaigns::*;
use crate::helpers::*;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::Method;
use serde_json::{json, Value};

const NEW_ACCESS_TOKEN: &str = "EAAnew-access-token-1122334455";

async fn post_campaign_raw(app: &TestApp, body: &str) -> reqwest::Response {
    app.client
        .post(app.url("/admin/v1/campaigns"))
        .bearer_auth(ADMIN_TOKEN)
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn create_answers_201_with_the_documented_defaults() {
    let app = spawn_app().await;

    let resp = post_campaign(
        &app,
        json!({"key": "offer1", "pixel_id": "1234567890", "access_token": ACCESS_TOKEN}),
    )
    .await;

    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()[LOCATION], "/admin/v1/campaigns/offer1");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(without_timestamps(body), defaults_for("offer1", "offer1"));

    let stored: (
        String,
        String,
        String,
        Value,
        String,
        String,
        bool,
        bool,
        bool,
    ) = sqlx::query_as(
        "SELECT access_token, action_source, currency, event_map, value_source, \
            event_id_template, require_consent, limited_data_use, enabled \
         FROM campaigns WHERE key = 'offer1'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    // Sealed under the test server's SECRETS_KEY.
    assert!(
        stored.0.starts_with("enc:v2:") && !stored.0.contains(ACCESS_TOKEN),
        "{}",
        stored.0
    );
    assert_eq!(
        stored,
        (
            stored.0.clone(),
            "website".to_owned(),
            "USD".to_owned(),
            json!({"lead": "Lead", "sale": "Purchase", "rebill": "Purchase", "rejected": null}),
            "payout".to_owned(),
            "{event_name}-{click_id}".to_owned(),
            false,
            false,
            true
        )
    );
}

#[tokio::test]
async fn create_takes_every_field() {
    let app = spawn_app().await;

    let resp = post_campaign(
        &app,
        json!({
            "key": "full_1", "name": "  Full campaign ", "pixel_id": "42",
            "access_token": ACCESS_TOKEN, "test_event_code": "TEST123",
            "action_source": "physical_store", "event_map": {"Approved": "Purchase", "trash": null},
            "currency": "eur", "value_source": 19.5,
            "event_id_template": "{campaign}-{event_name}-{click_id}-{txid}",
            "landing_url": "https://lp.example.com/full?utm_source=fb",
            "late_pixel_twin": "skip",
            "require_consent": true, "limited_data_use": true, "enabled": false,
            "tiktok": null
        }),
    )
    .await;

    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        without_timestamps(body),
        json!({
            "key": "full_1", "name": "Full campaign", "pixel_id": "42", "access_token_set": true,
            "test_event_code": "TEST123", "action_source": "physical_store",
            "event_map": {"approved": "Purchase", "trash": null}, "currency": "EUR",
            "value_source": 19.5, "event_id_template": "{campaign}-{event_name}-{click_id}-{txid}",
            "landing_url": "https://lp.example.com/full?utm_source=fb",
            "late_pixel_twin": "skip",
            "require_consent": true, "limited_data_use": true, "enabled": false,
            "tiktok": null, "default_country": null, "date_order": null,
            "meta_send_when": null, "send_when": {"meta": "always"}
        })
    );
}

#[tokio::test]
async fn the_access_token_never_appears_in_a_response() {
    // Stored as given (SECRETS_KEY=none), so the test can see the PATCH replace it.
    let app = spawn_app_with(&["--secrets-key", "none"]).await;
    let check = |what: &str, text: &str| {
        assert!(
            !text.contains(ACCESS_TOKEN),
            "{what} leaks the token: {text}"
        );
        assert!(
            !text.contains(NEW_ACCESS_TOKEN),
            "{what} leaks the new token: {text}"
        );
        assert!(
            !text.contains("\"access_token\""),
            "{what} has an access_token member: {text}"
        );
    };

    let resp = post_campaign(
        &app,
        json!({"key": "offer1", "pixel_id": "1234567890", "access_token": ACCESS_TOKEN}),
    )
    .await;
    assert_eq!(resp.status(), 201);
    check("create", &resp.text().await.unwrap());

    let resp = app
        .admin(Method::GET, "/admin/v1/campaigns/offer1", None)
        .await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    check("get", &text);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["access_token_set"],
        true
    );

    let resp = app.admin(Method::GET, "/admin/v1/campaigns", None).await;
    assert_eq!(resp.status(), 200);
    check("list", &resp.text().await.unwrap());

    let resp = app
        .admin(
            Method::PATCH,
            "/admin/v1/campaigns/offer1",
            Some(json!({"access_token": NEW_ACCESS_TOKEN})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    check("patch", &text);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["access_token_set"],
        true
    );

    let stored: String =
        sqlx::query_scalar("SELECT access_token FROM campaigns WHERE key = 'offer1'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, NEW_ACCESS_TOKEN, "the PATCH did replace the token");

    // An invalid token is refused without echoing it.
    let resp = app
        .admin(
            Method::PATCH,
            "/admin/v1/campaigns/offer1",
            Some(json!({"access_token": "EAA bad token with spaces"})),
        )
        .await;
    let detail = assert_problem(resp, 422, "invalid_field").await;
    assert!(detail.starts_with("access_token "), "{detail}");
    assert!(!detail.contains("EAA bad"), "{detail}");
}

#[tokio::test]
async fn a_duplicate_key_is_409_campaign_exists() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = post_campaign(
        &app,
        json!({"key": "offer1", "pixel_id": "999", "access_token": NEW_ACCESS_TOKEN}),
    )
    .await;

    assert_problem(resp, 409, "campaign_exists").await;
    assert_eq!(campaign_count(&app).await, 1);
    let pixel: String = sqlx::query_scalar("SELECT pixel_id FROM campaigns WHERE key = 'offer1'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(pixel, "1234567890", "the first campaign is untouched");
}

#[tokio::test]
async fn invalid_fields_are_422_naming_the_field() {
    let app = spawn_app().await;

    for (field, value) in [
        ("key", json!("Offer 1")),
        ("key", json!("")),
        ("key", json!("a".repeat(65))),
        ("pixel_id", json!("12ab")),
        ("pixel_id", json!("")),
        ("access_token", json!("short")),
        ("currency", json!("XYZ")),
        ("currency", json!("US")),
        ("action_source", json!("web")),
        ("event_id_template", json!("{event_name}")),
        ("event_id_template", json!("{nope}-{click_id}")),
        ("event_id_template", json!("{click_id")),
        ("value_source", json!("all")),
        ("value_source", json!(-1)),
        ("value_source", json!(true)),
        ("event_map", json!({"lead": "Bad/Name"})),
        ("test_event_code", json!("TEST 1")),
        ("name", json!("   ")),
    ] {
        let mut body =
            json!({"key": "offer1", "pixel_id": "1234567890", "access_token": ACCESS_TOKEN});
        body[field] = value.clone();
        let resp = post_campaign(&app, body).await;
        let detail = assert_problem(resp, 422, "invalid_field").await;
        assert!(
            detail.starts_with(&format!("{field} ")),
            "{field}={value}: {detail}"
        );
    }
    assert_eq!(campaign_count(&app).await, 0);
}

#[tokio::test]
async fn missing_required_fields_are_400() {
    let app = spawn_app().await;

    for (missing, body) in [
        (
            "key",
            json!({"pixel_id": "1234567890", "access_token": ACCESS_TOKEN}),
        ),
        (
            "pixel_id",
            json!({"key": "offer1", "access_token": ACCESS_TOKEN}),
        ),
        (
            "access_token",
            json!({"key": "offer1", "pixel_id": "1234567890"}),
        ),
    ] {
        let resp = post_campaign(&app, body).await;
        let detail = assert_problem(resp, 400, "missing_field").await;
        assert_eq!(detail, format!("{missing} is required"));
    }
    assert_eq!(campaign_count(&app).await, 0);
}

#[tokio::test]
async fn an_unknown_field_is_400_naming_it() {
    let app = spawn_app().await;

    let resp = post_campaign(
        &app,
        json!({
            "key": "offer1", "pixel_id": "1234567890", "access_token": ACCESS_TOKEN,
            "colour": "red"
        }),
    )
    .await;

    let detail = assert_problem(resp, 400, "invalid_body").await;
    assert!(detail.contains("colour"), "{detail}");
    assert_eq!(campaign_count(&app).await, 0);
}

#[tokio::test]
async fn malformed_json_bodies_are_400() {
    let app = spawn_app().await;

    for body in [
        "",
        "{",
        "[]",
        "null",
        r#"{"key": 1}"#,
        r#"{"enabled": "yes"}"#,
    ] {
        let resp = post_campaign_raw(&app, body).await;
        assert_problem(resp, 400, "invalid_body").await;
    }
    assert_eq!(campaign_count(&app).await, 0);
}
