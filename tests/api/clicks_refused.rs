//! Click capture: what `/v1/clicks` refuses or drops (unknown or disabled campaigns, bad\nclick ids and fields, bodies too large, malformed or of another type), and how it says so.

use crate::helpers::clicks::*;
use crate::helpers::*;
use reqwest::Method;
use serde_json::json;

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
