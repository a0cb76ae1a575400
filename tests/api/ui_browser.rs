//! The dashboard in a real browser (Debian's headless Chromium through chromedriver): a media
//! buyer's path through it, typed and clicked as a user would.
//!
//! With CAPI_SCREENSHOTS=<dir> the tests also save the screenshots shown in the README there.

use serde_json::json;

use crate::browser::Browser;
use crate::helpers::browser_ui::sign_in;
use crate::helpers::*;

#[tokio::test]
async fn a_wrong_token_is_refused_and_the_right_one_signs_in_and_out() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;

    let landed = sign_in(&b, &app, "not-the-token").await;
    assert!(landed.ends_with("/ui/login"), "{landed}");
    let text = b.text().await;
    assert!(text.contains("That is not the admin token."), "{text}");
    assert!(!text.contains("not-the-token"), "the attempt is not echoed");

    let landed = sign_in(&b, &app, ADMIN_TOKEN).await;
    assert!(landed.ends_with("/ui/"), "{landed}");
    let text = b.text().await;
    assert!(
        text.contains("Overview") && text.contains("Outbox"),
        "{text}"
    );
    assert!(b.cookie("capi_session").await.is_some());

    b.click_to_next_page("form.signout button").await;
    assert!(b.url().await.ends_with("/ui/login"));
    assert!(b.cookie("capi_session").await.is_none(), "cookie cleared");
    b.goto(&app.url("/ui/")).await;
    assert!(b.url().await.ends_with("/ui/login"), "signed out for good");
}

#[tokio::test]
async fn a_postback_shows_on_the_overview() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_campaign("shop", json!({})).await;
    queue_lead_via(&app.client, &app.address, "shop", "clk-browser-1").await;

    sign_in(&b, &app, ADMIN_TOKEN).await;
    let clicks = b
        .eval(
            "return [...document.querySelectorAll('tr')]\
             .find(r => r.querySelector('th')?.textContent === 'Clicks registered')\
             ?.querySelector('td')?.textContent;",
        )
        .await;
    assert_eq!(clicks, json!("1"));
    let pending = b.text().await;
    assert!(pending.contains("1 pending"), "{pending}");
}
