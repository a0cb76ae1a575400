//! The dashboard's campaign forms with TikTok: a TikTok-only campaign, TikTok added to\nand removed from a Meta campaign, bad TikTok fields.

use crate::helpers::campaign_forms::{create_fields, edit_fields, tiktok_fields, with};
use crate::helpers::ui::{csrf_of, get_page, post_form, session};
use crate::helpers::ui_campaigns::*;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const TIKTOK_CODE: &str = "C4TIKTOK0123456789";
const TIKTOK_TOKEN: &str = "TTform-tiktok-token-0123456789";

/// The TikTok token as stored (sealed): equal before and after means kept.
async fn stored_tiktok_token(app: &TestApp, key: &str) -> Option<String> {
    let row: (Option<String>,) =
        sqlx::query_as("SELECT tiktok_access_token FROM campaigns WHERE key = $1")
            .bind(key)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    row.0
}

/// `(platform, state, failure_class)` of each event of `key`'s campaign.
async fn events_of(app: &TestApp, key: &str) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as(
        "SELECT e.platform, e.state, e.failure_class FROM events e \
         JOIN campaigns c ON c.id = e.campaign_id WHERE c.key = $1 ORDER BY e.platform",
    )
    .bind(key)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

async fn page_text(app: &TestApp, path: &str, cookie: &str) -> String {
    let resp = get_page(app, path, cookie).await;
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    resp.text().await.unwrap()
}

#[tokio::test]
async fn a_tiktok_only_campaign_is_created_and_edited_through_the_form() {
    let app = spawn_app().await;
    let (cookie, csrf) = session(&app).await;
    let form = page_text(&app, "/ui/campaigns/new", &cookie).await;
    assert!(form.contains(r#"<legend>TikTok</legend>"#), "{form}");
    assert!(
        form.contains(r#"id="tiktok_event_1" type="text" name="tiktok_event_1" value="Purchase""#),
        "TikTok's default map: {form}"
    );
    assert!(!form.contains("tiktok_remove"), "nothing to remove yet");

    let mut fields = create_fields(&csrf, "ttonly", "");
    fields = with(fields, "pixel_id", "");
    fields.extend(tiktok_fields(TIKTOK_CODE, TIKTOK_TOKEN, ""));
    let resp = post_form(&app, "/ui/campaigns", &cookie, &fields).await;
    assert_see_other(&resp, "/ui/campaigns/ttonly");
    let c = app.admin_get("/admin/v1/campaigns/ttonly").await;
    assert_eq!(c["pixel_id"], Value::Null, "no Meta");
    assert_eq!(c["access_token_set"], false);
    assert_eq!(
        c["tiktok"],
        json!({
            "pixel_code": TIKTOK_CODE,
            "access_token_set": true,
            "test_event_code": null,
            "event_map": {"lead": "Lead", "sale": "Purchase", "rebill": "Purchase", "rejected": null},
            "send_when": null,
        })
    );
    assert_eq!(c["currency"], "EUR", "campaign-wide fields apply");

    // The page names TikTok, never its token, and has no Meta test button.
    let page = page_text(&app, "/ui/campaigns/ttonly", &cookie).await;
    assert!(page.contains("<dd>TikTok</dd>"), "sends to: {page}");
    assert!(
        page.contains(&format!(
            r#"<dd class="pixel-id" id="tiktok-pixel">{TIKTOK_CODE}</dd>"#
        )),
        "{page}"
    );
    assert!(
        page.contains(r#"<dd class="pixel-id" id="meta-pixel">—</dd>"#),
        "{page}"
    );
    assert!(page.contains(r#"id="no-meta-test""#), "{page}");
    assert!(!page.contains("/ui/campaigns/ttonly/test-event"));
    assert!(!page.contains(TIKTOK_TOKEN));
    // The button's route answers the same if called anyway, and sends nothing.
    let resp = post_form(
        &app,
        "/ui/campaigns/ttonly/test-event",
        &cookie,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = resp.text().await.unwrap();
    assert!(page.contains("does not send to Meta"), "{page}");
    assert!(received(&app.graph).await.is_empty());
    let list = page_text(&app, "/ui/campaigns", &cookie).await;
    assert!(
        list.contains(&format!(
            r#"<td class="pixel-id" data-label="Meta pixel">—</td><td class="pixel-id" data-label="TikTok pixel">{TIKTOK_CODE}</td>"#
        )),
        "{list}"
    );
    assert!(list.contains("Meta not set, TikTok set"), "{list}");

    // Editing: both tokens write-only, Meta empty stays absent, the TikTok token is kept.
    let form = page_text(&app, "/ui/campaigns/ttonly/edit", &cookie).await;
    assert!(
        form.contains(&format!(r#"value="{TIKTOK_CODE}""#)),
        "{form}"
    );
    assert!(form.contains("tiktok_remove"), "{form}");
    assert!(!form.contains(TIKTOK_TOKEN));
    let sealed = stored_tiktok_token(&app, "ttonly").await;
    let mut fields = with(edit_fields(&csrf, ""), "pixel_id", "");
    fields.extend(tiktok_fields(TIKTOK_CODE, "", "TEST31337"));
    fields = with(fields, "tiktok_event_0", "SubmitForm");
    let resp = post_form(&app, "/ui/campaigns/ttonly/edit", &cookie, &fields).await;
    assert_see_other(&resp, "/ui/campaigns/ttonly?done=saved");
    let c = app.admin_get("/admin/v1/campaigns/ttonly").await;
    assert_eq!(c["pixel_id"], Value::Null, "still no Meta");
    assert_eq!(c["tiktok"]["test_event_code"], "TEST31337");
    assert_eq!(c["tiktok"]["event_map"]["lead"], "SubmitForm");
    assert_eq!(stored_tiktok_token(&app, "ttonly").await, sealed, "kept");
    let page = page_text(&app, "/ui/campaigns/ttonly", &cookie).await;
    assert!(
        page.contains("TikTok test mode") && page.contains("TEST31337"),
        "{page}"
    );
    assert!(!page.contains("Meta's Test Events"), "{page}");
    let list = page_text(&app, "/ui/campaigns", &cookie).await;
    assert!(list.contains("TikTok test_event_code set"), "{list}");
    assert!(!list.contains("Meta test_event_code set"), "{list}");
}

#[tokio::test]
async fn tiktok_is_added_to_a_meta_campaign_and_removed_with_its_pending_events() {
    let app = spawn_app().await;
    app.create_campaign("both", json!({})).await;
    let (cookie, _) = session(&app).await;
    let form = page_text(&app, "/ui/campaigns/both/edit", &cookie).await;
    assert!(
        form.contains(r#"id="tiktok_access_token" type="password""#),
        "{form}"
    );
    assert!(!form.contains("tiktok_remove"), "{form}");
    let csrf = csrf_of(&form);

    // (Meta's test event code lets the test event show which Meta token is stored.)
    let mut fields = with(edit_fields(&csrf, ""), "test_event_code", "TEST777");
    fields.extend(tiktok_fields(TIKTOK_CODE, TIKTOK_TOKEN, ""));
    fields = with(fields, "tiktok_status_4", "ftd");
    fields = with(fields, "tiktok_event_4", "Purchase");
    // The form's send_when choices: both platforms get every lead (the click below has no
    // platform signal).
    fields = with(fields, "meta_send_when", "always");
    fields = with(fields, "tiktok_send_when", "always");
    let resp = post_form(&app, "/ui/campaigns/both/edit", &cookie, &fields).await;
    assert_see_other(&resp, "/ui/campaigns/both?done=saved&parked=0");
    let c = app.admin_get("/admin/v1/campaigns/both").await;
    assert_eq!(
        c["send_when"],
        json!({"meta": "always", "tiktok": "always"}),
        "{c}"
    );
    let form = page_text(&app, "/ui/campaigns/both/edit", &cookie).await;
    assert!(
        form.contains(r#"<option value="always" selected>always</option>"#),
        "the form shows the stored choice: {form}"
    );
    assert_eq!(c["pixel_id"], "1234567890");
    assert_eq!(c["tiktok"]["pixel_code"], TIKTOK_CODE);
    assert_eq!(c["tiktok"]["access_token_set"], true);
    assert_eq!(c["tiktok"]["event_map"]["ftd"], "Purchase");
    assert_eq!(token_sent_to_meta(&app, "both").await, ACCESS_TOKEN);
    let page = page_text(&app, "/ui/campaigns/both", &cookie).await;
    assert!(page.contains("<dd>Meta and TikTok</dd>"), "{page}");
    assert!(
        page.contains(r#"<dd id="tiktok-events">Lead, Purchase</dd>"#),
        "{page}"
    );
    assert!(page.contains("Sent to Meta only"), "{page}");
    assert!(page.contains(r#"action="/ui/campaigns/both/test-event#test-event""#));

    // A lead waits for both platforms; removing TikTok cancels only TikTok's event.
    let resp = app
        .register_click(json!({"campaign": "both", "click_id": "clk-both-1"}))
        .await;
    assert_eq!(resp.status(), 201);
    let resp = app
        .postback("keitaro", "subid=clk-both-1&status=lead")
        .await;
    assert_eq!(resp.status(), 200);
    let pending = |p: &str| (p.to_owned(), "pending".to_owned(), None);
    assert_eq!(
        events_of(&app, "both").await,
        vec![pending("meta"), pending("tiktok")]
    );
    let form = page_text(&app, "/ui/campaigns/both/edit", &cookie).await;
    assert!(form.contains(r#"name="tiktok_remove""#), "{form}");
    assert!(form.contains("cancels the TikTok events"), "{form}");
    assert!(!form.contains(TIKTOK_TOKEN));
    let mut fields = with(edit_fields(&csrf, ""), "pixel_id", "1234567890");
    fields.extend(tiktok_fields(TIKTOK_CODE, "", ""));
    fields.push(("tiktok_remove", "on"));
    let resp = post_form(&app, "/ui/campaigns/both/edit", &cookie, &fields).await;
    assert_see_other(&resp, "/ui/campaigns/both?done=tiktok_removed");
    let c = app.admin_get("/admin/v1/campaigns/both").await;
    assert_eq!(c["tiktok"], Value::Null);
    assert_eq!(c["pixel_id"], "1234567890");
    assert_eq!(
        events_of(&app, "both").await,
        vec![
            pending("meta"),
            (
                "tiktok".to_owned(),
                "failed".to_owned(),
                Some("platform_removed".to_owned())
            )
        ]
    );
    let page = page_text(&app, "/ui/campaigns/both?done=tiktok_removed", &cookie).await;
    assert!(
        page.contains("TikTok is removed from this campaign") && page.contains("were cancelled"),
        "{page}"
    );
    assert!(page.contains("<dd>Meta</dd>"), "{page}");

    // The last platform cannot go: Meta's pixel cannot be emptied.
    let mut fields = with(edit_fields(&csrf, ""), "pixel_id", "");
    fields.extend(tiktok_fields("", "", ""));
    let resp = post_form(&app, "/ui/campaigns/both/edit", &cookie, &fields).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = resp.text().await.unwrap();
    assert!(page.contains(r#"id="pixel_id-error""#), "{page}");
    assert_eq!(
        app.admin_get("/admin/v1/campaigns/both").await["pixel_id"],
        "1234567890"
    );
}

#[tokio::test]
async fn a_bad_tiktok_field_is_shown_next_to_it_without_either_token() {
    let app = spawn_app().await;
    let (cookie, csrf) = session(&app).await;
    let meta_token = "EAAsecret-token-0123456789";
    let mut fields = create_fields(&csrf, "badtt", meta_token);
    fields.extend(tiktok_fields("C4 BAD/CODE", TIKTOK_TOKEN, "TEST1"));
    let resp = post_form(&app, "/ui/campaigns", &cookie, &fields).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = resp.text().await.unwrap();
    let at = page
        .find(r#"id="tiktok_pixel_code-error""#)
        .expect("the error next to the pixel code");
    assert!(page[at..].contains("TikTok pixel code: must be"), "{page}");
    assert!(
        page.contains(r#"value="C4 BAD/CODE""#) && page.contains(r#"value="TEST1""#),
        "the typed values are kept: {page}"
    );
    assert!(!page.contains(TIKTOK_TOKEN) && !page.contains(meta_token));

    for (extra, id, message) in [
        (
            tiktok_fields(TIKTOK_CODE, "", ""),
            "tiktok_access_token-error",
            "TikTok access token is required",
        ),
        (
            tiktok_fields("", TIKTOK_TOKEN, ""),
            "tiktok_pixel_code-error",
            "TikTok pixel code is required",
        ),
        (
            with(
                tiktok_fields(TIKTOK_CODE, TIKTOK_TOKEN, ""),
                "tiktok_event_0",
                "Bad<Event>",
            ),
            "tiktok_event_map-error",
            "TikTok event map: ",
        ),
        (
            tiktok_fields(TIKTOK_CODE, TIKTOK_TOKEN, "TEST-1"),
            "tiktok_test_event_code-error",
            "TikTok test event code: ",
        ),
    ] {
        let mut fields = with(create_fields(&csrf, "badtt", ""), "pixel_id", "");
        fields.extend(extra);
        let resp = post_form(&app, "/ui/campaigns", &cookie, &fields).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{id}");
        let page = resp.text().await.unwrap();
        assert!(page.contains(&format!(r#"id="{id}""#)), "{id}: {page}");
        assert!(page.contains(message), "{id}: {page}");
        assert!(!page.contains(TIKTOK_TOKEN), "{id}");
    }
    // Neither platform: Meta's pixel is what is missing.
    let fields = with(create_fields(&csrf, "badtt", ""), "pixel_id", "");
    let resp = post_form(&app, "/ui/campaigns", &cookie, &fields).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("Meta pixel id is required"));
    assert_eq!(
        app.admin_get("/admin/v1/campaigns").await["campaigns"],
        json!([]),
        "nothing was created"
    );

    // On a campaign with TikTok, an emptied pixel code is refused (removing is the box's job).
    app.create_campaign(
        "hastt",
        json!({"tiktok": {"pixel_code": TIKTOK_CODE, "access_token": TIKTOK_TOKEN}}),
    )
    .await;
    let mut fields = edit_fields(&csrf, "");
    fields.extend(tiktok_fields("", "", ""));
    let resp = post_form(&app, "/ui/campaigns/hastt/edit", &cookie, &fields).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = resp.text().await.unwrap();
    assert!(page.contains(r#"id="tiktok_pixel_code-error""#), "{page}");
    assert!(page.contains("Remove TikTok"), "{page}");
    let c = app.admin_get("/admin/v1/campaigns/hastt").await;
    assert_eq!(c["tiktok"]["pixel_code"], TIKTOK_CODE);
}

/// The TikTok fieldset in headless Chromium: a TikTok-only campaign typed in, its settings on
/// the campaign page and in the admin API.
#[tokio::test]
async fn a_browser_creates_a_tiktok_only_campaign() {
    let Some(b) = crate::browser::Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    crate::helpers::browser_ui::sign_in(&b, &app, ADMIN_TOKEN).await;
    b.goto(&app.url("/ui/campaigns/new")).await;
    b.type_into("input[name=key]", "ttbrowsed").await;
    b.type_into("input[name=tiktok_pixel_code]", TIKTOK_CODE)
        .await;
    b.type_into("input[name=tiktok_access_token]", TIKTOK_TOKEN)
        .await;
    b.type_into("input[name=tiktok_test_event_code]", "TEST4242")
        .await;
    b.click_to_next_page(r#"form[action="/ui/campaigns"] button[type=submit]"#)
        .await;
    assert!(
        b.url().await.ends_with("/ui/campaigns/ttbrowsed"),
        "{}",
        b.text().await
    );
    let shown = b
        .eval("return document.querySelector('#tiktok-pixel').textContent")
        .await;
    assert_eq!(shown, json!(TIKTOK_CODE));
    let text = b.text().await;
    assert!(text.contains("TikTok test mode"), "{text}");
    assert!(text.contains("Lead, Purchase"), "{text}");
    assert!(!text.contains(TIKTOK_TOKEN));
    let buttons = b
        .eval("return document.querySelectorAll('form[action$=\"/test-event\"]').length")
        .await;
    assert_eq!(buttons, json!(0), "no Meta test button");
    let c = app.admin_get("/admin/v1/campaigns/ttbrowsed").await;
    assert_eq!(c["pixel_id"], Value::Null);
    assert_eq!(c["tiktok"]["pixel_code"], TIKTOK_CODE);
    assert_eq!(c["tiktok"]["test_event_code"], "TEST4242");
    assert_eq!(c["tiktok"]["event_map"]["sale"], "Purchase");
}
