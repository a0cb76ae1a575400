//! TikTok's external_id digest: SHA-256 of the id as given (case kept), next to Meta's of the
//! lowercased id; made by the bridge from a raw id, or by the landing page beside an id it hashed.

use serde_json::{json, Value};

use crate::helpers::tiktok_capture::*;
use crate::helpers::*;

/// sha256("crm-8431"): Meta's digest of "CRM-8431" (trimmed, lowercased).
const META_EXT: &str = "bc27d9a320c06b36d8e822100e3980d2d039ab898098c1f06e2a4050cd426b68";

fn click(id: &str, extra: Value) -> Value {
    let mut body = json!({"campaign": "offer1", "click_id": id});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

#[tokio::test]
async fn a_raw_external_id_gets_both_digests_and_keeps_them_on_merge() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let resp = app
        .register_click_public(click("tt-x1", json!({"external_id": " CRM-8431 "})))
        .await;
    assert_eq!(resp.status(), 201);
    let token = take_update_token(&mut resp.json().await.unwrap());
    let view = app.admin_get("/admin/v1/clicks/tt-x1").await;
    assert_eq!(view["user_data_hashes"], json!({"external_id": META_EXT}));
    assert_eq!(
        view["tiktok_user_data_hashes"],
        json!({"external_id": TIKTOK_EXT})
    );

    // A later id neither replaces the stored one nor pairs its digest with it.
    let resp = app
        .register_click_with_token(click("tt-x1", json!({"external_id": "OTHER-7"})), &token)
        .await;
    assert_eq!(resp.status(), 200);
    let view = app.admin_get("/admin/v1/clicks/tt-x1").await;
    assert_eq!(view["user_data_hashes"]["external_id"], META_EXT);
    assert_eq!(view["tiktok_user_data_hashes"]["external_id"], TIKTOK_EXT);

    // A digest given is passed through: TikTok falls back to it, nothing of TikTok's is stored.
    let resp = app
        .register_click(click("tt-x2", json!({"external_id": META_EXT})))
        .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(
        column(&app, "clicks", "tt-x2", "tiktok_external_id").await,
        None
    );
}

#[tokio::test]
async fn an_external_id_hashed_in_the_browser_brings_tiktoks_digest_under_tiktok_ph_rules() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let upper = TIKTOK_EXT.to_ascii_uppercase();
    let resp = app
        .register_click_public(click(
            "tt-b1",
            json!({"external_id": META_EXT, "tiktok_external_id": upper}),
        ))
        .await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    assert!(body.get("ignored").is_none(), "{body}");
    assert_eq!(
        column(&app, "clicks", "tt-b1", "tiktok_external_id")
            .await
            .as_deref(),
        Some(TIKTOK_EXT)
    );

    // A raw id's own digest stands (the same one is welcome, another is dropped and named);
    // with no id a browser's digest describes nothing we hold: dropped and named.
    for (id, given, digest, ignored) in [
        ("tt-b2", Some("CRM-8431"), TIKTOK_EXT, false),
        ("tt-b3", Some("CRM-8431"), META_EXT, true),
        ("tt-b4", None, TIKTOK_EXT, true),
    ] {
        let extra = json!({"external_id": given, "tiktok_external_id": digest});
        let resp = app.register_click_public(click(id, extra)).await;
        assert_eq!(resp.status(), 201);
        let body: Value = resp.json().await.unwrap();
        let named = ignored.then_some(["tiktok_external_id"]);
        assert_eq!(body["ignored"], json!(named), "{id}");
    }
    assert_eq!(
        column(&app, "clicks", "tt-b3", "tiktok_external_id")
            .await
            .as_deref(),
        Some(TIKTOK_EXT)
    );
    assert_eq!(
        column(&app, "clicks", "tt-b4", "tiktok_external_id").await,
        None
    );

    // A server-side caller's digest of no id is dropped and named, and anyone's non-digest.
    for (id, body) in [
        ("tt-b5", json!({"tiktok_external_id": TIKTOK_EXT})),
        (
            "tt-b6",
            json!({"external_id": META_EXT, "tiktok_external_id": "CRM-8431"}),
        ),
    ] {
        let resp = app.register_click(click(id, body)).await;
        assert_eq!(resp.status(), 201, "{id}");
        let answer: Value = resp.json().await.unwrap();
        assert_eq!(
            answer["dropped"][0]["field"], "tiktok_external_id",
            "{answer}"
        );
    }
    assert_eq!(clicks_stored(&app).await, 6);
}

#[tokio::test]
async fn a_postbacks_external_id_gets_tiktoks_digest_shown_as_set() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let resp = app.register_click(click("tt-xp", json!({}))).await;
    assert_eq!(resp.status(), 201);
    postback_with_ttclid(&app, "tt-xp").await;
    assert_eq!(
        column(&app, "conversions", "tt-xp", "external_id")
            .await
            .as_deref(),
        Some(META_EXT)
    );
    assert_eq!(conversion_tiktok(&app, "tt-xp").await, all_tiktok_values());
    let id: i64 = sqlx::query_scalar("SELECT id FROM conversions WHERE click_id = 'tt-xp'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let view = app.admin_get(&format!("/admin/v1/conversions/{id}")).await;
    assert_eq!(view["tiktok_external_id_set"], true, "{view}");
}
