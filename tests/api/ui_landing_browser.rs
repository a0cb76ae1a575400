//! Issue 22, item 14 in a real browser: a Meta-only conversion's page has no TikTok rows, the
//! campaign page's pixel id stays on one line, its landing card shows the lead-form snippet and
//! links to the landing-page guide, which the dashboard serves itself.

use serde_json::json;

use crate::browser::Browser;
use crate::helpers::browser_ui::{shot, sign_in};
use crate::helpers::*;

/// A Meta pixel id as long as Meta's are (16 digits).
const PIXEL: &str = "1234567890123456";

#[tokio::test]
async fn a_meta_only_campaign_shows_meta_only_and_its_landing_help() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_campaign("metaonly", json!({"pixel_id": PIXEL}))
        .await;
    let answer = app.click_and_lead("metaonly", "c-meta", json!({})).await;
    let id = answer["conversion_id"].as_i64().expect("a conversion id");
    sign_in(&b, &app, ADMIN_TOKEN).await;

    b.goto(&app.url(&format!("/ui/conversions/{id}"))).await;
    let text = b.text().await;
    assert!(text.contains("Meta delivery"), "{text}");
    for tiktok in ["TikTok", "ttclid"] {
        assert!(
            !text.contains(tiktok),
            "{tiktok} on a Meta-only page: {text}"
        );
    }

    b.goto(&app.url("/ui/campaigns/metaonly")).await;
    let pixel = b
        .eval(
            "const e = document.getElementById('meta-pixel'); \
             const r = document.createRange(); r.selectNodeContents(e); \
             const lines = new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; \
             return [e.textContent, getComputedStyle(e).whiteSpace, lines];",
        )
        .await;
    assert_eq!(
        pixel,
        json!([PIXEL, "nowrap", 1]),
        "the pixel id on one line"
    );
    b.eval("document.getElementById('lead-form-snippet').scrollIntoView(); return null;")
        .await;
    shot(&b, "landing-card").await;
    let snippet = b
        .eval("return document.getElementById('lead-form-snippet').value;")
        .await;
    let snippet = snippet.as_str().unwrap();
    assert!(
        snippet.contains("capiBridge.identify({em: v('email')")
            && snippet.contains("capiBridge.track('Lead'"),
        "{snippet}"
    );

    b.click_to_next_page("#landing-guide").await;
    assert!(b.url().await.ends_with("/ui/guide/landing"));
    shot(&b, "landing-guide").await;
    let headings = b
        .eval("return [...document.querySelectorAll('#guide h1, #guide h2')].map(h => h.textContent);")
        .await;
    let headings: Vec<String> = serde_json::from_value(headings).unwrap();
    for h in ["The landing tag", "Lead form", "What identify() sends"] {
        assert!(headings.iter().any(|x| x == h), "{h} in {headings:?}");
    }
    // The markdown's HTML examples are shown as text, never run.
    assert_eq!(
        b.eval("return document.querySelectorAll('#guide script').length;")
            .await,
        json!(0)
    );
    // The browser's own favicon request is the dashboard's only 404.
    let errors: Vec<String> = b
        .console_errors()
        .await
        .into_iter()
        .filter(|e| !e.contains("/favicon.ico"))
        .collect();
    assert_eq!(errors, Vec::<String>::new(), "console errors");
}
