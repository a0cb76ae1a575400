//! TikTok's identifiers on postbacks' conversions; erasure and retention clear them\nlike the rest of the personal data.

use crate::helpers::tiktok_capture::*;
use crate::helpers::*;
use capi_bridge::storage::privacy::apply_retention;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn a_postbacks_ttclid_and_phone_digests_are_stored_on_the_conversion() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    assert_eq!(
        app.register_click(json!({"campaign": "offer1", "click_id": "tt-pb"}))
            .await
            .status(),
        201
    );
    let body = postback_with_ttclid(&app, "tt-pb").await;
    assert_eq!(body["status"], "accepted", "{body}");

    assert_eq!(
        column(&app, "conversions", "tt-pb", "ttclid")
            .await
            .as_deref(),
        Some(TTCLID)
    );
    assert_eq!(
        column(&app, "conversions", "tt-pb", "ph").await.as_deref(),
        Some(META_PH)
    );
    assert_eq!(
        column(&app, "conversions", "tt-pb", "tiktok_ph")
            .await
            .as_deref(),
        Some(TIKTOK_PH)
    );
    // An identifier, not a visible parameter: like fbclid, absent from the kept params.
    let params: Value = serde_json::from_str(
        &column(&app, "conversions", "tt-pb", "params")
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(params["sub_id_3"], "kept", "{params}");
    assert!(params.get("ttclid").is_none(), "{params}");
    assert!(params.get("ph").is_none(), "{params}");

    // A ttclid with a control character is cleaned and kept, and the cleaning reported.
    let resp = app
        .postback("keitaro", "subid=tt-pb&status=sale&tid=T2&ttclid=a%01b")
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["dropped"][0]["field"], "ttclid", "{body}");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM conversions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 2);
}

#[tokio::test]
async fn erasure_clears_tiktoks_identifiers_and_digests() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let click = json!({
        "campaign": "offer1", "click_id": "tt-er", "ttclid": TTCLID, "ttp": TTP,
        "tiktok_event_ids": {"SubmitForm": "tt-ev-1"}, "ph": "+16505551212"
    });
    assert_eq!(app.register_click(click).await.status(), 201);
    postback_with_ttclid(&app, "tt-er").await;
    assert_eq!(conversion_tiktok(&app, "tt-er").await, all_tiktok_values());

    let resp = app
        .admin(Method::DELETE, "/admin/v1/clicks/tt-er", None)
        .await;
    assert_eq!(resp.status(), 200);
    let erased: Value = resp.json().await.unwrap();
    assert_eq!(erased["clicks_deleted"], 1);
    assert_eq!(erased["conversions_scrubbed"], 1);
    assert_eq!(clicks_stored(&app).await, 0);
    assert_eq!(conversion_tiktok(&app, "tt-er").await, (None, None, None));
}

#[tokio::test]
async fn retention_clears_tiktoks_identifiers_and_digests_of_old_conversions() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    for id in ["tt-old", "tt-new"] {
        assert_eq!(
            app.register_click(json!({"campaign": "offer1", "click_id": id}))
                .await
                .status(),
            201
        );
    }
    // Only a ttclid and TikTok's digests: these alone make a conversion hold personal data.
    for id in ["tt-old", "tt-new"] {
        postback_with_ttclid(&app, id).await;
    }
    sqlx::query("UPDATE conversions SET ph = NULL, external_id = NULL")
        .execute(&app.pool)
        .await
        .unwrap();
    app.deliver().await;
    sqlx::query(
        "UPDATE conversions SET received_at = now() - interval '31 days' \
         WHERE click_id = 'tt-old'",
    )
    .execute(&app.pool)
    .await
    .unwrap();

    let thirty_days = Duration::from_secs(30 * 86400);
    let report = apply_retention(&app.pool, thirty_days, thirty_days, 10)
        .await
        .unwrap();
    assert_eq!(report.conversions_scrubbed, 1, "{report:?}");
    assert_eq!(conversion_tiktok(&app, "tt-old").await, (None, None, None));
    assert_eq!(conversion_tiktok(&app, "tt-new").await, all_tiktok_values());
}
