//! Issue 22, item 5 in Chromium, with the dashboard's CSP in force (no inline script): Disable
//! goes through its confirmation page, and the test event's answer comes back to its card with
//! the chosen event.

use serde_json::json;

use crate::browser::Browser;
use crate::helpers::browser_ui::sign_in;
use crate::helpers::*;

/// The console's errors (a CSP violation is one), but the browser's own favicon request.
async fn errors(b: &Browser) -> Vec<String> {
    b.console_errors()
        .await
        .into_iter()
        .filter(|e| !e.contains("/favicon.ico"))
        .collect()
}

#[tokio::test]
async fn disable_asks_on_its_own_page_and_the_test_event_answers_in_place() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_campaign("live", json!({"test_event_code": "TEST77"}))
        .await;
    sign_in(&b, &app, ADMIN_TOKEN).await;
    b.goto(&app.url("/ui/campaigns/live")).await;

    b.click_to_next_page("#disable").await;
    assert!(b.url().await.ends_with("/ui/campaigns/live/disable"));
    let ask = b.text().await;
    for words in [
        "What stops",
        "answer 404",
        "What goes on",
        "Conversions of clicks already registered still go out",
    ] {
        assert!(ask.contains(words), "{words} in {ask}");
    }
    assert_eq!(
        app.admin_get("/admin/v1/campaigns/live").await["enabled"],
        true
    );
    b.click_to_next_page("#confirm button[type=submit]").await;
    assert!(b.url().await.ends_with("/ui/campaigns/live?done=disabled"));
    assert!(b.text().await.contains("The campaign is now disabled."));
    assert_eq!(
        app.admin_get("/admin/v1/campaigns/live").await["enabled"],
        false
    );

    // The test event: the answer page opens at the card, the chosen event still chosen.
    b.click("#event_name option[value=Purchase]").await;
    b.click_to_next_page("#test-event button[type=submit]")
        .await;
    let at = b
        .eval(
            "const v = document.getElementById('test-event-verdict').getBoundingClientRect();\
             return [location.hash, scrollY > 0, v.top >= 0 && v.bottom <= innerHeight,\
                     document.getElementById('event_name').value];",
        )
        .await;
    assert_eq!(at, json!(["#test-event", true, true, "Purchase"]));
    assert!(b.text().await.contains("Meta accepted the test event."));
    assert_eq!(
        received(&app.graph).await[0].1["data"][0]["event_name"],
        "Purchase"
    );
    assert_eq!(errors(&b).await, Vec::<String>::new(), "console errors");
}
