//! The conversion list (admin API and dashboard) says why a row is not sent, naming the platform
//! whose event failed: a conversion on Meta and TikTok is `failed` when TikTok refused its event
//! although Meta took it.

use serde_json::json;

use crate::helpers::tiktok::{FakeTikTok, PARAMETER_ERROR};
use crate::helpers::ui::sign_in;
use crate::helpers::ui::text_of;
use crate::helpers::*;

const TT_MESSAGE: &str = "Invalid value for event_id: not a valid string.";

#[tokio::test]
async fn a_failed_row_names_the_platform_that_failed_and_its_reason() {
    let app = spawn_app_with(&["--unmatched-grace", "0s"]).await;
    app.tiktok.reset().await;
    FakeTikTok::code(PARAMETER_ERROR, TT_MESSAGE)
        .mount(&app.tiktok)
        .await;
    app.create_campaign_with_tiktok("both", json!({})).await;
    let resp = app
        .register_click(json!({"campaign": "both", "click_id": "tt-fails"}))
        .await;
    assert_eq!(resp.status(), 201);
    for query in [
        "subid=tt-fails&status=lead",
        // Never matched and naming no campaign: the conversion's own reason, no platform's.
        "subid=no-campaign&status=lead",
    ] {
        let resp = app.postback("keitaro", query).await;
        assert!(resp.status().is_success(), "{query}: {}", resp.status());
    }
    app.deliver().await;

    let list = app.admin_get("/admin/v1/conversions?state=failed").await;
    let rows = list["conversions"].as_array().unwrap();
    let row = |click_id: &str| {
        rows.iter()
            .find(|r| r["click_id"] == click_id)
            .unwrap_or_else(|| panic!("{click_id} not listed as failed: {list}"))
            .clone()
    };
    let tiktok = row("tt-fails");
    assert_eq!(tiktok["last_error"], TT_MESSAGE, "{tiktok}");
    assert_eq!(tiktok["last_error_platform"], "tiktok", "{tiktok}");
    // The row's other event fields stay its Meta event's, which was sent.
    assert!(tiktok["sent_at"].is_string(), "{tiktok}");
    let own = row("no-campaign");
    assert!(
        own["last_error"].as_str().unwrap().contains("campaign"),
        "{own}"
    );
    assert_eq!(own["last_error_platform"], serde_json::Value::Null, "{own}");

    let cookie = sign_in(&app).await;
    let (status, page) = text_of(&app, "/ui/conversions?state=failed", &cookie).await;
    assert_eq!(status, 200);
    let row_of = |click_id: &str| {
        let at = page
            .find(&format!("<code>{click_id}</code>"))
            .unwrap_or_else(|| panic!("{click_id} not on the page: {page}"));
        let end = at + page[at..].find("</tr>").unwrap();
        page[at..end].to_owned()
    };
    let html = row_of("tt-fails");
    assert!(
        html.contains("<strong>TikTok</strong>: Invalid value for event_id"),
        "{html}"
    );
    let html = row_of("no-campaign");
    assert!(html.contains("campaign"), "{html}");
    assert!(!html.contains("<strong>"), "{html}");
}
