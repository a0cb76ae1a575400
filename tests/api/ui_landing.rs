//! Issue 22, item 14 over HTTP: the landing-page guide behind the sign-in, the campaign page's
//! snippet as docs/landing.md gives it, and no TikTok rows for a Meta-only conversion.

use serde_json::json;

use crate::browser::lead_form_block;
use crate::helpers::ui::{get_page, sign_in};
use crate::helpers::*;

#[tokio::test]
async fn the_landing_guide_needs_a_session_and_shows_raw_html_as_text() {
    let app = spawn_app().await;
    let resp = get_page(&app, "/ui/guide/landing", "").await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/ui/login");

    let cookie = sign_in(&app).await;
    let resp = get_page(&app, "/ui/guide/landing", &cookie).await;
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.unwrap();
    assert!(page.contains("<h1>The landing tag</h1>"), "{page}");
    assert!(page.contains("<h2>Lead form</h2>"), "{page}");
    // The install line is an example to copy, not markup of the page.
    assert!(page.contains("&lt;script async src="), "{page}");
    assert!(!page.contains("<script async"), "{page}");
}

#[tokio::test]
async fn the_campaign_page_shows_the_guides_lead_form_snippet() {
    let app = spawn_app().await;
    app.create_campaign("snip", json!({})).await;
    let cookie = sign_in(&app).await;
    let page = get_page(&app, "/ui/campaigns/snip", &cookie)
        .await
        .text()
        .await
        .unwrap();
    let snippet = lead_form_block();
    let snippet = snippet.trim_end();
    let escaped = snippet
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    assert!(
        page.contains(&format!(
            r#"<textarea id="lead-form-snippet" readonly rows="8">{escaped}</textarea>"#
        )),
        "{page}"
    );
    assert!(page.contains(r#"href="/ui/guide/landing""#), "{page}");
    assert!(
        page.contains(r#"<dd class="pixel-id" id="meta-pixel">1234567890</dd>"#),
        "{page}"
    );
}

#[tokio::test]
async fn a_meta_only_conversion_has_no_tiktok_rows() {
    let app = spawn_app().await;
    app.create_campaign("metaonly", json!({})).await;
    let answer = app.click_and_lead("metaonly", "c-1", json!({})).await;
    let id = answer["conversion_id"].as_i64().unwrap();
    let cookie = sign_in(&app).await;
    let page = get_page(&app, &format!("/ui/conversions/{id}"), &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("<h2>Meta delivery</h2>"), "{page}");
    for row in [
        "<dt>ttclid</dt>",
        "TikTok phone digest",
        "TikTok external_id digest",
        "TikTok",
    ] {
        assert!(!page.contains(row), "{row} in {page}");
    }
}
