//! Click capture: CORS for landing pages, forwarded addresses from trusted proxies, blank\nfields, and the database's own guard on hashed columns.

use crate::helpers::clicks::*;
use crate::helpers::*;
use reqwest::Method;
use serde_json::json;

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
    // The schema alone is under test: a migrated database, no server.
    let (_database, pool) = migrated_database().await;
    sqlx::query(
        "INSERT INTO campaigns (key, name, pixel_id, access_token, event_map) \
         VALUES ('offer1', 'Campaign offer1', '1234567890', 'EAAtest', '{}')",
    )
    .execute(&pool)
    .await
    .expect("a campaign row");
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
                .execute(&pool)
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
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("{table}.{column} must take a hash: {e}"));
        assert_eq!(done.rows_affected(), 1);
    }
}
