//! The dashboard's campaign pages: forms that write through the admin API's rules, the campaign
//! page's postback URLs, tag and test-event verdict, and the buttons, over HTTP against the real
//! server and database.

use reqwest::header::LOCATION;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::helpers::ui::{get_page, sign_in, FORM};

/// The CSRF token of a signed-in page (its first form's hidden field).
pub fn csrf_of(page: &str) -> String {
    let start = page.find(r#"name="csrf" value=""#).expect("a csrf field") + 19;
    page[start..start + 64].to_owned()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn body_of(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub async fn post_form(
    app: &TestApp,
    path: &str,
    cookie: &str,
    fields: &[(&str, &str)],
) -> Response {
    app.client
        .post(app.url(path))
        .header("cookie", cookie)
        .header("content-type", FORM)
        .body(body_of(fields))
        .send()
        .await
        .expect("form post")
}

/// Signs in and reads the CSRF token from the new-campaign form, as a browser would.
pub async fn session(app: &TestApp) -> (String, String) {
    let cookie = sign_in(app).await;
    let resp = get_page(app, "/ui/campaigns/new", &cookie).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let page = resp.text().await.unwrap();
    (cookie, csrf_of(&page))
}

/// A full create form for `key`, as the browser submits it with the defaults left alone.
pub fn create_fields<'a>(csrf: &'a str, key: &'a str, token: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("key", key),
        ("name", ""),
        ("pixel_id", "1234567890"),
        ("access_token", token),
        ("status_0", "lead"),
        ("event_0", "Lead"),
        ("status_1", "sale"),
        ("event_1", "Purchase"),
        ("status_2", "rebill"),
        ("event_2", "Purchase"),
        ("status_3", "rejected"),
        ("event_3", ""),
        ("status_4", "ftd"),
        ("event_4", "Purchase"),
        ("status_5", ""),
        ("event_5", ""),
        ("action_source", "website"),
        ("currency", "EUR"),
        ("value_source", "fixed"),
        ("value_fixed", "12.5"),
        ("event_id_template", "{event_name}-{click_id}"),
        ("landing_url", "https://lp.example.com/form"),
        ("test_event_code", ""),
        ("late_pixel_twin", "skip"),
        ("limited_data_use", "on"),
        ("enabled", "on"),
    ]
}

fn assert_see_other(resp: &Response, to: &str) {
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], to);
}

/// The access token Meta receives for `key`'s test event: the stored token, decrypted.
async fn token_sent_to_meta(app: &TestApp, key: &str) -> String {
    app.graph.reset().await;
    mount_graph_ok(&app.graph).await;
    let resp = app
        .admin(
            reqwest::Method::POST,
            &format!("/admin/v1/campaigns/{key}/test-event"),
            None,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let sent = received(&app.graph).await;
    sent.last().unwrap().1["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

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

#[tokio::test]
async fn forms_without_the_right_csrf_token_change_nothing() {
    let app = spawn_app().await;
    app.create_campaign("guarded", json!({})).await;
    let (cookie, csrf) = session(&app).await;
    let wrong = "0".repeat(64);
    for token in ["", wrong.as_str()] {
        let resp = post_form(
            &app,
            "/ui/campaigns",
            &cookie,
            &create_fields(token, "sneaky", "EAAsneaky-token-01234"),
        )
        .await;
        assert_eq!(
            resp.status(),
            StatusCode::FORBIDDEN,
            "create with {token:?}"
        );
        let mut edit = create_fields(token, "", "EAAsneaky-token-01234");
        edit.retain(|(k, _)| *k != "key");
        let resp = post_form(&app, "/ui/campaigns/guarded/edit", &cookie, &edit).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "edit with {token:?}");
        for action in ["enabled", "retry-failed", "test-event"] {
            let resp = post_form(
                &app,
                &format!("/ui/campaigns/guarded/{action}"),
                &cookie,
                &[("csrf", token), ("enabled", "false")],
            )
            .await;
            assert_eq!(
                resp.status(),
                StatusCode::FORBIDDEN,
                "{action} with {token:?}"
            );
        }
    }
    // The right token from another site's page is refused too.
    let resp = app
        .client
        .post(app.url("/ui/campaigns/guarded/enabled"))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .header("content-type", FORM)
        .body(body_of(&[("csrf", &csrf), ("enabled", "false")]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    let c = app.admin_get("/admin/v1/campaigns/guarded").await;
    assert_eq!(c["enabled"], true);
    assert_eq!(c["name"], "Campaign guarded");
    assert_eq!(
        app.admin_get("/admin/v1/campaigns").await["campaigns"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(received(&app.graph).await.is_empty(), "no test event sent");
}

#[tokio::test]
async fn the_campaign_page_has_each_trackers_postback_url_and_the_landing_tag() {
    let app = spawn_app().await;
    app.create_campaign("urls", json!({"test_event_code": "TEST4242"}))
        .await;
    let cookie = sign_in(&app).await;
    let page = get_page(&app, "/ui/campaigns/urls", &cookie)
        .await
        .text()
        .await
        .unwrap();
    // No PUBLIC_URL: the address the page was asked for.
    let keitaro = format!(
        "{}/v1/postback/keitaro?key={POSTBACK_KEY}&amp;subid={{subid}}&amp;status={{status}}&amp;revenue={{revenue}}&amp;tid={{tid}}&amp;currency={{currency}}&amp;ip={{ip}}&amp;ua={{user_agent}}&amp;campaign=urls",
        app.address
    );
    assert!(
        page.contains(&format!(
            r#"<input id="postback-keitaro" type="text" readonly value="{keitaro}">"#
        )),
        "{page}"
    );
    assert!(page.contains(r#"<button type="button" data-copy="postback-keitaro">Copy</button>"#));
    for tracker in capi_bridge::trackers::Tracker::ALL.map(|t| t.as_str()) {
        assert!(
            page.contains(&format!(r#"id="postback-{tracker}""#))
                && page.contains(&format!("/v1/postback/{tracker}?key={POSTBACK_KEY}&amp;")),
            "{tracker}"
        );
    }
    assert!(page.contains(&format!(
        r#"<textarea id="landing-tag" readonly rows="2">&lt;script async src=&quot;{}/v1/tag.js&quot; data-campaign=&quot;urls&quot;&gt;&lt;/script&gt;</textarea>"#,
        app.address
    )), "{page}");
    assert!(!page.contains(ADMIN_TOKEN));
    assert!(!page.contains(ACCESS_TOKEN));
    // The test_event_code warning, here and in the list.
    assert!(
        page.contains("TEST4242") && page.contains("not to optimisation"),
        "{page}"
    );
    let list = get_page(&app, "/ui/campaigns", &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("test_event_code set"), "{list}");
    // PUBLIC_URL wins over the request's address.
    let app = spawn_app_with(&["--public-url", "https://bridge.example/"]).await;
    app.create_campaign("urls", json!({})).await;
    let cookie = sign_in(&app).await;
    let page = get_page(&app, "/ui/campaigns/urls", &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!(r#"value="https://bridge.example/v1/postback/bemob?key={POSTBACK_KEY}&amp;cid=REPLACE&amp;status=REPLACE&amp;payout=OPTIONAL&amp;txid=OPTIONAL&amp;campaign=urls""#)), "{page}");
    assert!(page.contains(&format!(r#"value="https://bridge.example/v1/postback/bemob?key={POSTBACK_KEY}&amp;cid={{externalId}}&amp;status={{status}}&amp;payout={{payout}}&amp;campaign=urls""#)), "{page}");
    assert!(!page.contains("not to optimisation"), "no code, no warning");
}

#[tokio::test]
async fn the_test_event_button_shows_metas_verdict() {
    let app = spawn_app().await;
    app.create_campaign("verdict", json!({"test_event_code": "TEST4242"}))
        .await;
    let (cookie, csrf) = session(&app).await;
    let resp = post_form(
        &app,
        "/ui/campaigns/verdict/test-event",
        &cookie,
        &[("csrf", &csrf), ("event_name", "Purchase")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let page = resp.text().await.unwrap();
    let verdict = &page[page.find(r#"id="test-event-verdict""#).expect("a verdict")..];
    assert!(
        verdict.contains("Meta accepted the test event."),
        "{verdict}"
    );
    assert!(
        verdict.contains("events_received: 1") && verdict.contains("AbFakeTrace"),
        "{verdict}"
    );
    let sent = received(&app.graph).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1["test_event_code"], "TEST4242");
    assert_eq!(sent[0].1["data"][0]["event_name"], "Purchase");
    assert!(!page.contains(ACCESS_TOKEN));

    crate::helpers::meta::refuses_the_token(&app).await;
    let resp = post_form(
        &app,
        "/ui/campaigns/verdict/test-event",
        &cookie,
        &[("csrf", &csrf)],
    )
    .await;
    let page = resp.text().await.unwrap();
    let verdict = &page[page.find(r#"id="test-event-verdict""#).expect("a verdict")..];
    assert!(verdict.contains("Meta refused the test event"), "{verdict}");
    assert!(
        verdict.contains("code 190") && verdict.contains("subcode 463"),
        "{verdict}"
    );
    assert!(
        verdict.contains("The access token has expired.") && verdict.contains("AbErrTrace"),
        "{verdict}"
    );

    // Without a code nothing is sent, and the page says why.
    app.create_campaign("nocode", json!({})).await;
    app.graph.reset().await;
    let resp = post_form(
        &app,
        "/ui/campaigns/nocode/test-event",
        &cookie,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = resp.text().await.unwrap();
    assert!(page.contains("no test event code"), "{page}");
    assert!(received(&app.graph).await.is_empty());
}

#[tokio::test]
async fn enable_disable_and_retry_all_failed_come_back_with_what_they_did() {
    let app = spawn_app().await;
    app.create_campaign("buttons", json!({})).await;
    let (cookie, csrf) = session(&app).await;
    // Disabling asks first (tests/api/ui_actions.rs has the page); confirmed, it is done.
    let resp = post_form(
        &app,
        "/ui/campaigns/buttons/enabled",
        &cookie,
        &[("csrf", &csrf), ("enabled", "false"), ("confirm", "yes")],
    )
    .await;
    assert_see_other(&resp, "/ui/campaigns/buttons?done=disabled");
    assert_eq!(
        app.admin_get("/admin/v1/campaigns/buttons").await["enabled"],
        false
    );
    let page = get_page(&app, "/ui/campaigns/buttons?done=disabled", &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("The campaign is now disabled."), "{page}");
    assert!(page.contains(r#"<input type="hidden" name="enabled" value="true"><button type="submit">Enable</button>"#), "{page}");
    let resp = post_form(
        &app,
        "/ui/campaigns/buttons/enabled",
        &cookie,
        &[("csrf", &csrf), ("enabled", "true")],
    )
    .await;
    assert_see_other(&resp, "/ui/campaigns/buttons?done=enabled");
    assert_eq!(
        app.admin_get("/admin/v1/campaigns/buttons").await["enabled"],
        true
    );

    // A conversion whose event cannot be built (no page URL anywhere) fails; a landing URL added
    // since lets "Retry all failed" queue it.
    app.create_campaign("nolanding", json!({"landing_url": null}))
        .await;
    let resp = app
        .client
        .post(app.url("/v1/clicks"))
        .header("user-agent", BROWSER_UA)
        .json(&json!({"campaign": "nolanding", "click_id": "clk-retry-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let resp = app
        .postback("keitaro", "subid=clk-retry-1&status=lead")
        .await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "failed", "{body}");
    let page = get_page(&app, "/ui/campaigns/nolanding", &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"href="/ui/conversions?campaign=nolanding""#));
    assert!(
        page.contains(
            r#"<code>clk-retry-1</code></td><td data-label="Status">lead</td><td class="c-state" data-label="State"><span class="state state-failed">failed</span></td><td class="c-event" data-label="Event">Lead</td>"#
        ),
        "{page}"
    );
    let resp = app
        .admin(
            reqwest::Method::PATCH,
            "/admin/v1/campaigns/nolanding",
            Some(json!({"landing_url": LANDING_URL})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let resp = post_form(
        &app,
        "/ui/campaigns/nolanding/retry-failed",
        &cookie,
        &[("csrf", &csrf)],
    )
    .await;
    assert_see_other(
        &resp,
        "/ui/campaigns/nolanding?requeued=1&still_failed=0&more=0",
    );
    let page = get_page(
        &app,
        "/ui/campaigns/nolanding?requeued=1&still_failed=0&more=0",
        &cookie,
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(page.contains("Retry all failed: 1 re-queued."), "{page}");
    assert!(
        page.contains(r#"<span class="state state-pending">pending</span>"#),
        "{page}"
    );
    // The match-quality report counts the same event: pending now, none sent or failed.
    assert!(
        page.contains(r#"<th scope="row">Lead</th><td class="num">0</td><td class="num">1</td><td class="num">0</td>"#),
        "{page}"
    );
}

#[tokio::test]
async fn an_unknown_campaign_is_a_404_page() {
    let app = spawn_app().await;
    let (cookie, csrf) = session(&app).await;
    for path in [
        "/ui/campaigns/nosuch",
        "/ui/campaigns/nosuch/edit",
        "/ui/campaigns/NOT%20A%20KEY",
    ] {
        let resp = get_page(&app, path, &cookie).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        let page = resp.text().await.unwrap();
        assert!(page.contains("There is no campaign with key"), "{page}");
    }
    let resp = post_form(
        &app,
        "/ui/campaigns/nosuch/enabled",
        &cookie,
        &[("csrf", &csrf), ("enabled", "true")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_campaign_route_redirects_to_sign_in_without_a_session() {
    let app = spawn_app().await;
    app.create_campaign("private", json!({})).await;
    for path in [
        "/ui/campaigns",
        "/ui/campaigns/new",
        "/ui/campaigns/private",
        "/ui/campaigns/private/edit",
        "/ui/campaigns/nosuch",
    ] {
        let resp = get_page(&app, path, "").await;
        assert_see_other(&resp, "/ui/login");
        assert!(resp.text().await.unwrap().is_empty(), "{path}: no data");
    }
    for path in [
        "/ui/campaigns",
        "/ui/campaigns/private/edit",
        "/ui/campaigns/private/enabled",
        "/ui/campaigns/private/retry-failed",
        "/ui/campaigns/private/test-event",
    ] {
        let resp = post_form(&app, path, "", &[("csrf", "x"), ("enabled", "false")]).await;
        assert_see_other(&resp, "/ui/login");
    }
    assert_eq!(
        app.admin_get("/admin/v1/campaigns/private").await["enabled"],
        true
    );
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

// ---- TikTok ------------------------------------------------------------------------------

const TIKTOK_CODE: &str = "C4TIKTOK0123456789";
const TIKTOK_TOKEN: &str = "TTform-tiktok-token-0123456789";

/// The TikTok fieldset as the browser submits it, its map at the defaults the form shows.
pub fn tiktok_fields<'a>(code: &'a str, token: &'a str, test: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("tiktok_pixel_code", code),
        ("tiktok_access_token", token),
        ("tiktok_status_0", "lead"),
        ("tiktok_event_0", "Lead"),
        ("tiktok_status_1", "sale"),
        ("tiktok_event_1", "Purchase"),
        ("tiktok_status_2", "rebill"),
        ("tiktok_event_2", "Purchase"),
        ("tiktok_status_3", "rejected"),
        ("tiktok_event_3", ""),
        ("tiktok_status_4", ""),
        ("tiktok_event_4", ""),
        ("tiktok_test_event_code", test),
    ]
}

/// `fields` with `name` set to `value` (added when absent).
pub fn with<'a>(
    mut fields: Vec<(&'a str, &'a str)>,
    name: &'a str,
    value: &'a str,
) -> Vec<(&'a str, &'a str)> {
    fields.retain(|(k, _)| *k != name);
    fields.push((name, value));
    fields
}

/// The edit form's fields: the create form's without the key.
pub fn edit_fields<'a>(csrf: &'a str, meta_token: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut fields = create_fields(csrf, "", meta_token);
    fields.retain(|(k, _)| *k != "key");
    fields
}

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
