//! The dashboard's campaign forms: create and edit write through the admin API's rules,\nkeep the token unless a new one is given, show bad input again, and need the CSRF token.

use crate::helpers::campaign_forms::create_fields;
use crate::helpers::ui::{csrf_of, get_page, post_form, session};
use crate::helpers::ui_campaigns::*;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn a_campaign_created_through_the_form_is_the_one_the_api_reads() {
    let app = spawn_app().await;
    let (cookie, csrf) = session(&app).await;
    let token = "EAAform-token-0123456789";
    let resp = post_form(
        &app,
        "/ui/campaigns",
        &cookie,
        &create_fields(&csrf, "formed", token),
    )
    .await;
    assert_see_other(&resp, "/ui/campaigns/formed");

    let c = app.admin_get("/admin/v1/campaigns/formed").await;
    assert_eq!(c["name"], "formed");
    assert_eq!(c["pixel_id"], "1234567890");
    assert_eq!(c["access_token_set"], true);
    assert_eq!(
        c["event_map"],
        json!({"lead": "Lead", "sale": "Purchase", "rebill": "Purchase", "rejected": null, "ftd": "Purchase"})
    );
    assert_eq!(c["currency"], "EUR");
    assert_eq!(c["value_source"], 12.5);
    assert_eq!(c["landing_url"], "https://lp.example.com/form");
    assert_eq!(c["test_event_code"], Value::Null);
    assert_eq!(c["late_pixel_twin"], "skip");
    assert_eq!(c["limited_data_use"], true);
    assert_eq!(c["require_consent"], false);
    assert_eq!(c["enabled"], true);

    // The list links to it; the page's heading names it.
    let list = get_page(&app, "/ui/campaigns", &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains(r#"href="/ui/campaigns/formed""#), "{list}");
    assert!(list.contains(r#"href="/ui/campaigns/new""#));
    let page = get_page(&app, "/ui/campaigns/formed", &cookie).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains("<h1>Campaign formed</h1>"), "{page}");
    assert!(!page.contains(token), "the access token is write-only");

    // The same key again: refused with a clear message, nothing changed.
    let resp = post_form(
        &app,
        "/ui/campaigns",
        &cookie,
        &create_fields(&csrf, "formed", token),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("a campaign with this key already exists"),
        "{page}"
    );
    assert!(!page.contains(token));
}

#[tokio::test]
async fn editing_keeps_the_token_when_left_empty_and_replaces_it_when_given() {
    let app = spawn_app().await;
    app.create_campaign("edited", json!({})).await;
    let (cookie, _) = session(&app).await;
    let form = get_page(&app, "/ui/campaigns/edited/edit", &cookie).await;
    assert_eq!(form.status(), StatusCode::OK);
    let form = form.text().await.unwrap();
    assert!(form.contains("Currently <strong>set</strong>"), "{form}");
    assert!(!form.contains(ACCESS_TOKEN));
    assert!(
        form.contains(r#"value="Campaign edited""#),
        "the current name"
    );
    let csrf = csrf_of(&form);

    let mut fields = create_fields(&csrf, "", "");
    fields.retain(|(k, _)| *k != "key");
    fields.retain(|(k, _)| *k != "name");
    fields.push(("name", "Renamed"));
    fields.retain(|(k, _)| *k != "test_event_code");
    fields.push(("test_event_code", "TEST777"));
    let resp = post_form(&app, "/ui/campaigns/edited/edit", &cookie, &fields).await;
    assert_see_other(&resp, "/ui/campaigns/edited?done=saved");
    let c = app.admin_get("/admin/v1/campaigns/edited").await;
    assert_eq!(c["name"], "Renamed");
    assert_eq!(c["test_event_code"], "TEST777");
    assert_eq!(c["currency"], "EUR");
    assert_eq!(
        token_sent_to_meta(&app, "edited").await,
        ACCESS_TOKEN,
        "kept"
    );

    let new_token = "EAAreplaced-token-555555";
    fields.retain(|(k, _)| *k != "access_token");
    fields.push(("access_token", new_token));
    let resp = post_form(&app, "/ui/campaigns/edited/edit", &cookie, &fields).await;
    assert_see_other(&resp, "/ui/campaigns/edited?done=saved&parked=0");
    assert_eq!(
        token_sent_to_meta(&app, "edited").await,
        new_token,
        "replaced"
    );
}

#[tokio::test]
async fn invalid_input_is_shown_again_with_its_message_and_without_the_token() {
    let app = spawn_app().await;
    let (cookie, csrf) = session(&app).await;
    let token = "EAAsecret-token-0123456789";
    let mut fields = create_fields(&csrf, "badpixel", token);
    fields.retain(|(k, _)| *k != "pixel_id");
    fields.push(("pixel_id", "pixel-abc"));
    let resp = post_form(&app, "/ui/campaigns", &cookie, &fields).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains(r#"id="pixel_id-error""#),
        "next to its field: {page}"
    );
    assert!(page.contains("Meta pixel id: must be"), "{page}");
    assert!(
        page.contains(r#"value="pixel-abc""#),
        "the typed value is kept"
    );
    assert!(
        page.contains(r#"value="badpixel""#),
        "the typed key is kept"
    );
    assert!(!page.contains(token), "never the token");

    for (field, value, id) in [
        ("currency", "EURO", "currency-error"),
        ("value_fixed", "lots", "value_source-error"),
        ("event_0", "Bad<Event>", "event_map-error"),
        ("landing_url", "ftp://x", "landing_url-error"),
    ] {
        let mut fields = create_fields(&csrf, "badfield", token);
        fields.retain(|(k, _)| *k != field);
        fields.push((field, value));
        let resp = post_form(&app, "/ui/campaigns", &cookie, &fields).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let page = resp.text().await.unwrap();
        assert!(page.contains(&format!(r#"id="{id}""#)), "{field}: {page}");
        assert!(!page.contains(token));
    }
    // No token on create: required.
    let resp = post_form(
        &app,
        "/ui/campaigns",
        &cookie,
        &create_fields(&csrf, "notoken", ""),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = resp.text().await.unwrap();
    assert!(page.contains("Meta access token is required"), "{page}");

    let list = app.admin_get("/admin/v1/campaigns").await;
    assert_eq!(list["campaigns"], json!([]), "nothing was created");
}

/// The create form in headless Chromium, by the HTML contract the dashboard's browser tests use:
/// typing only the key, pixel and token (the rest left at its defaults) creates the campaign.
#[tokio::test]
async fn a_browser_creates_a_campaign_with_the_forms_defaults() {
    let Some(b) = crate::browser::Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    crate::helpers::browser_ui::sign_in(&b, &app, ADMIN_TOKEN).await;
    b.goto(&app.url("/ui/campaigns/new")).await;
    b.type_into("input[name=key]", "browsed").await;
    b.type_into("input[name=pixel_id]", "1234567890").await;
    b.type_into("input[name=access_token]", "EAAbrowser-token-0123456789")
        .await;
    b.click_to_next_page(r#"form[action="/ui/campaigns"] button[type=submit]"#)
        .await;
    assert!(b.url().await.ends_with("/ui/campaigns/browsed"));
    let h1 = b
        .eval("return document.querySelector('h1').textContent")
        .await;
    assert_eq!(h1, "Campaign browsed");
    let c = app.admin_get("/admin/v1/campaigns/browsed").await;
    assert_eq!(c["event_map"]["lead"], "Lead");
    assert_eq!(c["currency"], "USD");
    assert_eq!(c["value_source"], "payout");
    assert_eq!(c["enabled"], true);
    let url = b
        .eval("return document.querySelector('#postback-keitaro').value")
        .await;
    let url = url.as_str().unwrap();
    assert!(
        url.ends_with(&format!("/v1/postback/keitaro?key={POSTBACK_KEY}&subid={{subid}}&status={{status}}&revenue={{revenue}}&tid={{tid}}&currency={{currency}}&ip={{ip}}&ua={{user_agent}}&campaign=browsed")),
        "{url}"
    );
    let tag = b
        .eval("return document.querySelector('#landing-tag').value")
        .await;
    assert!(
        tag.as_str()
            .unwrap()
            .ends_with(r#"/v1/tag.js" data-campaign="browsed"></script>"#),
        "{tag}"
    );
    b.find(r#"form[action*="/test-event"]"#).await;

    // The tracker fires the page's URL with its macros filled; the buyer sees the postback on
    // the overview and in conversions.
    let resp = app
        .register_click(json!({
            "campaign": "browsed",
            "click_id": "clk-browsed-1",
            "event_source_url": "https://lander.example.com/offer",
        }))
        .await;
    assert_eq!(resp.status(), 201);
    let fired = url
        .replace("{subid}", "clk-browsed-1")
        .replace("{status}", "lead")
        .replace("{revenue}", "12.50")
        .replace("{tid}", "T-1")
        .replace("{currency}", "EUR")
        .replace("{ip}", "93.184.216.34")
        .replace("{user_agent}", "Mozilla%2F5.0%20(iPhone)");
    let resp = app.client.get(&fired).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{fired}");
    b.goto(&app.url("/ui/")).await;
    let made = b
        .eval(
            "return [...document.querySelectorAll('tr')]\
             .find(r => r.querySelector('th')?.textContent === 'made an event')\
             ?.querySelector('td')?.textContent;",
        )
        .await;
    assert_eq!(made, json!("1"), "the overview counts the postback");
    b.goto(&app.url("/ui/conversions")).await;
    let rows = b
        .eval("return document.querySelector('#conversions tbody').innerText")
        .await;
    assert!(rows.as_str().unwrap().contains("clk-browsed-1"), "{rows}");
    b.click_to_next_page("#conversions a[href^='/ui/conversions/']")
        .await;
    let detail = b.text().await;
    assert!(
        detail.contains("clk-browsed-1") && detail.contains("Lead") && detail.contains("12.5"),
        "{detail}"
    );
    assert!(!detail.contains(POSTBACK_KEY), "the key is not shown");
}
