//! The dashboard's campaign page: postback URLs and the landing tag, the test-event\nverdict, the buttons, and the routes behind the session.

use crate::helpers::ui::{get_page, post_form, session, sign_in};
use crate::helpers::ui_campaigns::*;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

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
