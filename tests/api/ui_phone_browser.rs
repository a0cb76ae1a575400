//! Issue 22, item 10 in Chromium: the dashboard on a 390 px phone (emulated through CDP, as
//! `--window-size` stops at 500 px). Lists are cards led by their state, filters fold behind a
//! button, the attempts' messages wrap, the overview leads with failures.
//!
//! `CAPI_SCREENSHOTS=docs/screenshots cargo test --test api dashboard_screenshots -- --ignored`
//! redraws the README's dashboard screenshots, each page at 1280 and at 390 px.

use serde_json::{json, Value};

use crate::browser::Browser;
use crate::helpers::browser_ui::sign_in;
use crate::helpers::imports::{finished, mixed_file, post_csv, started};
use crate::helpers::leads::parked_lead;
use crate::helpers::meta::refuses_the_token;
use crate::helpers::*;

/// A working day's data: leads sent on one campaign, a second whose token Meta refuses (its
/// events failed), and an import with bad lines. The ids of a failed conversion and the import.
async fn seed(app: &TestApp) -> (i64, i64) {
    crate::helpers::imports::seed(app).await;
    app.create_campaign("keto-fb-us", json!({"name": "Keto US"}))
        .await;
    for i in 1..=6 {
        app.click_and_lead("keto-fb-us", &format!("fb-clk-{i:04}"), json!({}))
            .await;
    }
    app.deliver().await;
    let import = started(post_csv(app, mixed_file()).await).await;
    finished(app, import).await;
    app.deliver().await;
    app.create_campaign("nutra-fb-de", json!({})).await;
    refuses_the_token(app).await;
    let failed = parked_lead(app, "nutra-fb-de", "de-clk-0001").await;
    parked_lead(app, "nutra-fb-de", "de-clk-0002").await;
    (failed, import)
}

/// Whether the element `css` is shown (a closed `details` keeps a box for its content, hidden).
async fn shown(b: &Browser, css: &str) -> Value {
    b.eval(&format!(
        "return document.querySelector('{css}').checkVisibility();"
    ))
    .await
}

#[tokio::test]
async fn on_a_phone_lists_are_cards_led_by_their_state_and_the_overview_by_failures() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let (failed, _) = seed(&app).await;
    sign_in(&b, &app, ADMIN_TOKEN).await;
    b.viewport(390, 844).await;

    b.goto(&app.url("/ui/conversions")).await;
    assert_eq!(b.eval("return innerWidth;").await, json!(390));
    // Every row's state lies within the viewport, first in its card.
    let rows = b
        .eval(
            "return [...document.querySelectorAll('#conversions tbody tr')].map(r => {\
               const s = r.querySelector('.c-state').getBoundingClientRect();\
               const tops = [...r.cells].map(c => c.getBoundingClientRect().top);\
               return [r.querySelector('.c-state').innerText, s.left >= 0 && s.right <= innerWidth,\
                       s.top <= Math.min(...tops)];\
             });",
        )
        .await;
    let rows = rows.as_array().unwrap();
    assert!(rows.len() >= 10, "{rows:?}");
    for row in rows {
        assert_eq!(row[1], json!(true), "the state within 390 px: {row}");
        assert_eq!(row[2], json!(true), "the state first: {row}");
    }
    assert_eq!(
        b.eval("return document.documentElement.scrollWidth;").await,
        json!(390),
        "nothing scrolls sideways"
    );
    // The filters fold behind their button.
    assert_eq!(shown(&b, "#f-campaign").await, json!(false));
    b.click("#filters summary").await;
    assert_eq!(shown(&b, "#f-campaign").await, json!(true));

    // Each labelled cell is as tall as its label, empty or not: no line runs into the next.
    b.goto(&app.url("/ui/campaigns")).await;
    let short = b
        .eval(
            "return [...document.querySelectorAll('#campaigns td[data-label]')].filter(td => {\
               const label = parseFloat(getComputedStyle(td, '::before').height);\
               return !(label > 0 && td.getBoundingClientRect().height + 0.5 >= label);\
             }).map(td => td.dataset.label);",
        )
        .await;
    assert_eq!(short, json!([]), "cells shorter than their labels");

    // A platform's message on the attempts card wraps within the screen.
    b.goto(&app.url(&format!("/ui/conversions/{failed}"))).await;
    let message = b
        .eval(
            "const m = document.querySelector('#attempts-meta td.message');\
             const r = m.getBoundingClientRect();\
             return [m.innerText, r.left >= 0 && r.right <= innerWidth, r.width > 250];",
        )
        .await;
    assert!(
        message[0]
            .as_str()
            .unwrap()
            .contains("access token has expired"),
        "{message}"
    );
    assert_eq!(message[1], json!(true), "{message}");
    assert_eq!(message[2], json!(true), "a readable width: {message}");

    // The overview's first screen is its failures.
    b.goto(&app.url("/ui/")).await;
    let first = b
        .eval(
            "const f = document.querySelector('main section');\
             return [f.id, f.getBoundingClientRect().top < innerHeight, f.innerText];",
        )
        .await;
    assert_eq!(first[0], json!("failures"), "{first}");
    assert_eq!(first[1], json!(true));
    assert!(
        first[2].as_str().unwrap().contains("failed events"),
        "{first}"
    );

    // On a wide screen the same list is a table, its filters open without a click.
    b.viewport(1280, 900).await;
    b.goto(&app.url("/ui/conversions")).await;
    assert_eq!(shown(&b, "#f-campaign").await, json!(true));
    assert_eq!(shown(&b, "#filters summary").await, json!(false));
    assert_eq!(shown(&b, "#conversions thead").await, json!(true));
}

/// Saves `path` at 1280 and 390 px as `name.png` and `name-390.png`, each as tall as the page
/// (up to 2,400 px).
async fn shoot(b: &Browser, dir: &std::path::Path, url: &str, name: &str) {
    for (width, suffix) in [(1280, ""), (390, "-390")] {
        b.viewport(width, 900).await;
        b.goto(url).await;
        let height = b
            .eval("return Math.min(document.documentElement.scrollHeight, 2400);")
            .await;
        b.viewport(width, height.as_u64().unwrap() as u32).await;
        b.screenshot(&dir.join(format!("{name}{suffix}.png"))).await;
    }
}

#[tokio::test]
#[ignore = "draws the README's screenshots: run with CAPI_SCREENSHOTS=docs/screenshots"]
async fn dashboard_screenshots() {
    let dir = std::env::var("CAPI_SCREENSHOTS").expect("CAPI_SCREENSHOTS=<directory>");
    let dir = std::path::Path::new(&dir);
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let (failed, import) = seed(&app).await;
    sign_in(&b, &app, ADMIN_TOKEN).await;
    for (path, name) in [
        ("/ui/".to_owned(), "overview"),
        ("/ui/campaigns".to_owned(), "campaigns"),
        ("/ui/campaigns/keto-fb-us".to_owned(), "campaign"),
        ("/ui/conversions".to_owned(), "conversions"),
        (format!("/ui/conversions/{failed}"), "conversion"),
        (format!("/ui/imports/{import}"), "import"),
    ] {
        shoot(&b, dir, &app.url(&path), name).await;
    }
}
