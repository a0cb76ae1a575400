//! The campaign admin API, `/admin/v1/campaigns`: list, read, patch and delete, and the\nadmin bearer token on every route.

use crate::helpers::admin_campaigns::*;
use crate::helpers::*;
use reqwest::header::WWW_AUTHENTICATE;
use reqwest::Method;
use serde_json::{json, Value};

/// [`defaults_for`] a campaign made by `create_campaign`, which sets the landing page.
fn helper_defaults_for(key: &str, name: &str) -> Value {
    let mut v = defaults_for(key, name);
    v["landing_url"] = json!(LANDING_URL);
    v
}

#[tokio::test]
async fn list_returns_every_campaign_by_key() {
    let app = spawn_app().await;
    let empty = app.admin_get("/admin/v1/campaigns").await;
    assert_eq!(empty, json!({"campaigns": []}));

    app.create_campaign("b-offer", json!({})).await;
    app.create_campaign("a-offer", json!({"currency": "EUR"}))
        .await;

    let list = app.admin_get("/admin/v1/campaigns").await;
    let items = list["campaigns"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let mut a_offer = helper_defaults_for("a-offer", "Campaign a-offer");
    a_offer["currency"] = json!("EUR");
    assert_eq!(without_timestamps(items[0].clone()), a_offer);
    assert_eq!(
        without_timestamps(items[1].clone()),
        helper_defaults_for("b-offer", "Campaign b-offer")
    );
}

#[tokio::test]
async fn get_returns_the_campaign_and_unknown_is_404() {
    let app = spawn_app().await;
    let created = app
        .create_campaign("offer1", json!({"test_event_code": "TEST42"}))
        .await;

    let got = app.admin_get("/admin/v1/campaigns/offer1").await;
    assert_eq!(got, created);
    assert_eq!(got["test_event_code"], "TEST42");

    let resp = app
        .admin(Method::GET, "/admin/v1/campaigns/nope", None)
        .await;
    let detail = assert_problem(resp, 404, "campaign_not_found").await;
    assert!(detail.contains("nope"), "{detail}");
}

#[tokio::test]
async fn patch_changes_fields_and_null_clears_the_test_event_code() {
    let app = spawn_app().await;
    let created = app
        .create_campaign("offer1", json!({"test_event_code": "TEST123"}))
        .await;
    // Created an hour ago, so the patch's `updated_at` must differ from it.
    sqlx::query(
        "UPDATE campaigns SET updated_at = updated_at - interval '1 hour' WHERE key = 'offer1'",
    )
    .execute(&app.pool)
    .await
    .unwrap();

    let resp = app
        .admin(
            Method::PATCH,
            "/admin/v1/campaigns/offer1",
            Some(json!({
                "name": "Renamed", "pixel_id": "555", "currency": "gbp",
                "action_source": "app", "value_source": "none", "require_consent": true,
                "event_map": {"Approved": "Purchase"},
                "event_id_template": "x-{click_id}-{event_name}"
            })),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let patched: Value = resp.json().await.unwrap();
    let mut expected = helper_defaults_for("offer1", "Renamed");
    expected["pixel_id"] = json!("555");
    expected["currency"] = json!("GBP");
    expected["action_source"] = json!("app");
    expected["value_source"] = json!("none");
    expected["require_consent"] = json!(true);
    expected["event_map"] = json!({"approved": "Purchase"});
    expected["event_id_template"] = json!("x-{click_id}-{event_name}");
    expected["test_event_code"] = json!("TEST123");
    assert_eq!(
        without_timestamps(patched.clone()),
        expected,
        "absent fields are unchanged"
    );
    assert_eq!(patched["created_at"], created["created_at"]);
    assert_ne!(patched["updated_at"], created["updated_at"]);

    let resp = app
        .admin(
            Method::PATCH,
            "/admin/v1/campaigns/offer1",
            Some(json!({"test_event_code": null})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let cleared: Value = resp.json().await.unwrap();
    expected["test_event_code"] = Value::Null;
    assert_eq!(without_timestamps(cleared), expected);

    let got = app.admin_get("/admin/v1/campaigns/offer1").await;
    assert_eq!(without_timestamps(got), expected);
    let stored: Option<String> =
        sqlx::query_scalar("SELECT test_event_code FROM campaigns WHERE key = 'offer1'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, None);

    // The landing page: changed, refused when not an http(s) URL, cleared with null.
    for (value, status) in [
        (json!("https://lp.example.com/v2"), 200),
        (json!("lp.example.com/v2"), 422),
        (json!("javascript:alert(1)"), 422),
        (Value::Null, 200),
    ] {
        let resp = app
            .admin(
                Method::PATCH,
                "/admin/v1/campaigns/offer1",
                Some(json!({ "landing_url": value })),
            )
            .await;
        assert_eq!(resp.status(), status, "{value}");
        if status == 200 {
            expected["landing_url"] = value.clone();
        }
        let got = app.admin_get("/admin/v1/campaigns/offer1").await;
        assert_eq!(without_timestamps(got), expected, "{value}");
    }
}

#[tokio::test]
async fn patch_can_disable_and_re_enable() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    for enabled in [false, true] {
        let resp = app
            .admin(
                Method::PATCH,
                "/admin/v1/campaigns/offer1",
                Some(json!({"enabled": enabled})),
            )
            .await;
        assert_eq!(resp.status(), 200);
        let stored: bool = sqlx::query_scalar("SELECT enabled FROM campaigns WHERE key = 'offer1'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(stored, enabled);
    }
}

#[tokio::test]
async fn patch_of_an_invalid_field_is_422_and_changes_nothing() {
    let app = spawn_app().await;
    let created = app.create_campaign("offer1", json!({})).await;

    for (field, value) in [
        ("currency", json!("XYZ")),
        ("pixel_id", json!("abc")),
        ("event_id_template", json!("{event_name}")),
        ("value_source", json!("everything")),
        ("action_source", json!("tv")),
    ] {
        let mut body = json!({"name": "Should not stick"});
        body[field] = value;
        let resp = app
            .admin(Method::PATCH, "/admin/v1/campaigns/offer1", Some(body))
            .await;
        let detail = assert_problem(resp, 422, "invalid_field").await;
        assert!(detail.starts_with(&format!("{field} ")), "{detail}");
    }
    assert_eq!(app.admin_get("/admin/v1/campaigns/offer1").await, created);
}

#[tokio::test]
async fn patch_with_an_unknown_field_is_400_naming_it() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    for field in ["key", "colour"] {
        let mut body = json!({});
        body[field] = json!("x");
        let resp = app
            .admin(Method::PATCH, "/admin/v1/campaigns/offer1", Some(body))
            .await;
        let detail = assert_problem(resp, 400, "invalid_body").await;
        assert!(detail.contains(field), "{detail}");
    }
}

#[tokio::test]
async fn patch_of_an_unknown_campaign_is_404() {
    let app = spawn_app().await;

    let resp = app
        .admin(
            Method::PATCH,
            "/admin/v1/campaigns/nope",
            Some(json!({"name": "x"})),
        )
        .await;

    assert_problem(resp, 404, "campaign_not_found").await;
    assert_eq!(campaign_count(&app).await, 0);
}

#[tokio::test]
async fn delete_is_204_then_404_and_takes_the_clicks_along() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    app.create_campaign("offer2", json!({})).await;
    for (campaign, click) in [("offer1", "c1"), ("offer2", "c2")] {
        let resp = app
            .register_click(json!({"campaign": campaign, "click_id": click}))
            .await;
        assert_eq!(resp.status(), 201);
        // A conversion and its outbox event each, one of them parked as failed.
        let resp = app
            .postback("keitaro", &format!("subid={click}&status=lead"))
            .await;
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    }
    let parked = sqlx::query(
        "UPDATE events SET state = 'failed', failure_class = 'auth' WHERE event_id LIKE '%c1'",
    )
    .execute(&app.pool)
    .await
    .unwrap()
    .rows_affected();
    assert_eq!(parked, 1);

    let resp = app
        .admin(Method::DELETE, "/admin/v1/campaigns/offer1", None)
        .await;
    assert_eq!(resp.status(), 204);
    assert!(resp.bytes().await.unwrap().is_empty());

    let resp = app
        .admin(Method::GET, "/admin/v1/campaigns/offer1", None)
        .await;
    assert_problem(resp, 404, "campaign_not_found").await;
    let resp = app
        .admin(Method::DELETE, "/admin/v1/campaigns/offer1", None)
        .await;
    assert_problem(resp, 404, "campaign_not_found").await;

    let clicks: Vec<String> = sqlx::query_scalar("SELECT click_id FROM clicks ORDER BY click_id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(clicks, ["c2"]);
    assert_eq!(campaign_count(&app).await, 1);
    for table in ["conversions", "events"] {
        let left: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT c.key FROM {table} t JOIN campaigns c ON c.id = t.campaign_id"
        ))
        .fetch_all(&app.pool)
        .await
        .unwrap();
        assert_eq!(left, ["offer2"], "{table}");
    }
}

#[tokio::test]
async fn every_admin_route_requires_the_bearer_token() {
    // Sixty wrong tokens from one address: the failure limit (auth_failures.rs) is off here.
    let app = spawn_app_with(&["--auth-failure-limit", "off"]).await;
    app.create_campaign("offer1", json!({})).await;
    let create = json!({"key": "offer9", "pixel_id": "1", "access_token": ACCESS_TOKEN});
    let routes: Vec<(Method, &str, Option<Value>)> = vec![
        (Method::GET, "/admin/v1/campaigns", None),
        (Method::POST, "/admin/v1/campaigns", Some(create)),
        (Method::GET, "/admin/v1/campaigns/offer1", None),
        (
            Method::PATCH,
            "/admin/v1/campaigns/offer1",
            Some(json!({"enabled": false})),
        ),
        (Method::DELETE, "/admin/v1/campaigns/offer1", None),
        (Method::GET, "/admin/v1/clicks/x", None),
        (Method::GET, "/admin/v1/conversions", None),
        (Method::GET, "/admin/v1/conversions/1", None),
        (Method::POST, "/admin/v1/conversions/1/retry", None),
        (
            Method::POST,
            "/admin/v1/campaigns/offer1/retry-failed",
            None,
        ),
    ];
    let wrong = format!("{ADMIN_TOKEN}x");
    let auths: [Option<String>; 6] = [
        None,
        Some(format!("Bearer {wrong}")),
        Some("Bearer ".to_owned()),
        Some("Bearer".to_owned()),
        Some(format!("Basic {ADMIN_TOKEN}")),
        Some(ADMIN_TOKEN.to_owned()),
    ];

    for (method, path, body) in &routes {
        for auth in &auths {
            let mut req = app.client.request(method.clone(), app.url(path));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req.send().await.unwrap();
            assert_eq!(
                resp.headers()
                    .get(WWW_AUTHENTICATE)
                    .map(|v| v.to_str().unwrap()),
                Some("Bearer"),
                "{method} {path} {auth:?}"
            );
            let detail = assert_problem(resp, 401, "unauthorized").await;
            assert!(!detail.contains(ADMIN_TOKEN), "{detail}");
        }
    }

    let campaign: (String, bool) =
        sqlx::query_as("SELECT key, enabled FROM campaigns ORDER BY key")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(campaign, ("offer1".to_owned(), true), "nothing was changed");
    assert_eq!(
        campaign_count(&app).await,
        1,
        "nothing was created or deleted"
    );
}

#[tokio::test]
async fn the_right_token_is_accepted_case_insensitively_in_the_scheme() {
    let app = spawn_app().await;

    let resp = app
        .client
        .get(app.url("/admin/v1/campaigns"))
        .header("authorization", format!("bearer {ADMIN_TOKEN}"))
        .send()
        .await
        .unwrap();

    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_nul_character_in_the_campaign_path_is_404_not_500() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = app
        .admin(Method::GET, "/admin/v1/campaigns/offer%001", None)
        .await;
    assert_problem(resp, 404, "campaign_not_found").await;
    let resp = app
        .admin(
            Method::PATCH,
            "/admin/v1/campaigns/offer%001",
            Some(json!({"name": "x"})),
        )
        .await;
    assert_problem(resp, 404, "campaign_not_found").await;
    let resp = app
        .admin(Method::DELETE, "/admin/v1/campaigns/offer%001", None)
        .await;
    assert_problem(resp, 404, "campaign_not_found").await;
    let resp = app
        .admin(
            Method::POST,
            "/admin/v1/campaigns/offer%001/retry-failed",
            None,
        )
        .await;
    assert_problem(resp, 404, "campaign_not_found").await;
    let resp = app.admin(Method::GET, "/admin/v1/clicks/c%001", None).await;
    assert_problem(resp, 404, "click_not_found").await;
    let resp = app
        .admin(
            Method::GET,
            "/admin/v1/conversions?campaign=offer%001",
            None,
        )
        .await;
    assert_eq!(
        resp.status(),
        200,
        "an unknown campaign filter lists nothing"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"conversions": [], "next_before": null}));
    assert_eq!(campaign_count(&app).await, 1);
}

#[tokio::test]
async fn a_nul_character_in_an_event_map_word_is_422_not_500() {
    let app = spawn_app().await;

    let resp = post_campaign(
        &app,
        json!({
            "key": "offer1", "pixel_id": "1234567890", "access_token": ACCESS_TOKEN,
            "event_map": {"lea\u{0}d": "Lead"}
        }),
    )
    .await;

    let detail = assert_problem(resp, 422, "invalid_field").await;
    assert!(detail.starts_with("event_map "), "{detail}");
    assert_eq!(campaign_count(&app).await, 0);
}
