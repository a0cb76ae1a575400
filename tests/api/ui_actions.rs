//! Issue 22, item 5 over HTTP: the dashboard's actions say what they did and ask before
//! destroying. Disable and a retry with a token the platform refused take a confirmation page,
//! saving a token counts the parked events it re-queued, and the test-event form comes back to
//! its card with the chosen event.

use reqwest::header::LOCATION;
use reqwest::{Response, StatusCode};
use serde_json::json;

use crate::helpers::campaign_forms::edit_fields;
use crate::helpers::leads::parked_lead;
use crate::helpers::meta::refuses_the_token;
use crate::helpers::ui::get_page;
use crate::helpers::ui::{post_form, session};
use crate::helpers::*;

fn location(resp: &Response) -> String {
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    resp.headers()[LOCATION].to_str().unwrap().to_owned()
}

async fn page(app: &TestApp, path: &str, cookie: &str) -> String {
    let resp = get_page(app, path, cookie).await;
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    resp.text().await.unwrap()
}

async fn enabled(app: &TestApp, key: &str) -> bool {
    app.admin_get(&format!("/admin/v1/campaigns/{key}")).await["enabled"] == true
}

#[tokio::test]
async fn disabling_asks_first_and_its_page_says_what_stops_and_what_goes_on() {
    let app = spawn_app().await;
    app.create_campaign("pause", json!({})).await;
    let (cookie, csrf) = session(&app).await;
    let before = page(&app, "/ui/campaigns/pause", &cookie).await;
    assert!(
        before.contains(
            r#"<a class="button" id="disable" href="/ui/campaigns/pause/disable">Disable</a>"#
        ),
        "{before}"
    );

    // A form posted without the confirmation changes nothing: it leads to the question.
    let resp = post_form(
        &app,
        "/ui/campaigns/pause/enabled",
        &cookie,
        &[("csrf", &csrf), ("enabled", "false")],
    )
    .await;
    assert_eq!(location(&resp), "/ui/campaigns/pause/disable");
    assert!(enabled(&app, "pause").await);

    let ask = page(&app, "/ui/campaigns/pause/disable", &cookie).await;
    for words in [
        "POST /v1/clicks",
        "GET /v1/campaigns/pause/tag-config",
        "answer 404",
        "Conversions of clicks already registered still go out",
        "as docs/api.md says",
        r#"<input type="hidden" name="confirm" value="yes">"#,
        r#"<input type="hidden" name="enabled" value="false">"#,
        r#"<a id="confirm-cancel" href="/ui/campaigns/pause">Cancel</a>"#,
    ] {
        assert!(ask.contains(words), "{words} in {ask}");
    }
    assert!(enabled(&app, "pause").await, "asking changes nothing");
    // A click registered before the pause: its conversion must still go out after it.
    let resp = app
        .register_click(json!({"campaign": "pause", "click_id": "clk-known"}))
        .await;
    assert_eq!(resp.status(), 201);

    let resp = post_form(
        &app,
        "/ui/campaigns/pause/enabled",
        &cookie,
        &[("csrf", &csrf), ("enabled", "false"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(location(&resp), "/ui/campaigns/pause?done=disabled");
    assert!(!enabled(&app, "pause").await);

    // What the page said: new clicks and the tag's settings are 404s, known clicks convert.
    let resp = app
        .register_click(json!({"campaign": "pause", "click_id": "clk-new"}))
        .await;
    assert_eq!(resp.status(), 404);
    let resp = app
        .client
        .get(app.url("/v1/campaigns/pause/tag-config"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let resp = app
        .postback("generic", "click_id=clk-known&status=lead&txid=tx-known")
        .await;
    assert_eq!(resp.status(), 200);
    app.deliver().await;
    assert_eq!(
        app.graph_events().await.len(),
        1,
        "the known click's lead went out"
    );

    // Disabled already: the question is not asked again.
    let resp = get_page(&app, "/ui/campaigns/pause/disable", &cookie).await;
    assert_eq!(location(&resp), "/ui/campaigns/pause");
    let after = page(&app, "/ui/campaigns/pause", &cookie).await;
    assert!(after.contains(">Enable</button>"), "{after}");
    let resp = get_page(&app, "/ui/campaigns/nosuch/disable", &cookie).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn saving_says_how_many_parked_events_a_new_token_requeued() {
    let app = spawn_app().await;
    app.create_campaign("tok", json!({})).await;
    refuses_the_token(&app).await;
    parked_lead(&app, "tok", "clk-p1").await;
    parked_lead(&app, "tok", "clk-p2").await;
    let (cookie, csrf) = session(&app).await;

    // Nothing about the token changed: saved, and nothing said about parked events.
    let resp = post_form(
        &app,
        "/ui/campaigns/tok/edit",
        &cookie,
        &edit_fields(&csrf, ""),
    )
    .await;
    let to = location(&resp);
    assert_eq!(to, "/ui/campaigns/tok?done=saved");
    let saved = page(&app, &to, &cookie).await;
    assert!(
        saved.contains(r#"<p class="notice" id="saved" role="status">Saved.</p>"#),
        "{saved}"
    );

    let fields = edit_fields(&csrf, "EAAnew-token-0123456789");
    let resp = post_form(&app, "/ui/campaigns/tok/edit", &cookie, &fields).await;
    let to = location(&resp);
    assert_eq!(to, "/ui/campaigns/tok?done=saved&parked=2");
    let saved = page(&app, &to, &cookie).await;
    assert!(
        saved.contains("Saved; 2 parked events re-queued."),
        "{saved}"
    );

    // The same token again changes no credential: re-queues none, and says so.
    let resp = post_form(&app, "/ui/campaigns/tok/edit", &cookie, &fields).await;
    assert_eq!(location(&resp), "/ui/campaigns/tok?done=saved");
    let changed = edit_fields(&csrf, "EAAother-token-0123456789");
    let resp = post_form(&app, "/ui/campaigns/tok/edit", &cookie, &changed).await;
    let to = location(&resp);
    assert_eq!(to, "/ui/campaigns/tok?done=saved&parked=0");
    let saved = page(&app, &to, &cookie).await;
    assert!(
        saved.contains("Saved; 0 parked events re-queued."),
        "{saved}"
    );
}

async fn event_state(app: &TestApp, conversion_id: i64) -> String {
    sqlx::query_scalar("SELECT state FROM events WHERE conversion_id = $1")
        .bind(conversion_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_retry_with_the_token_meta_refused_warns_first() {
    let app = spawn_app().await;
    app.create_campaign("refused", json!({})).await;
    refuses_the_token(&app).await;
    let id = parked_lead(&app, "refused", "clk-r1").await;
    let (cookie, csrf) = session(&app).await;

    // Each retry button: the campaign page's, the list's and the conversion's.
    let campaign_retry = [("csrf", csrf.as_str())];
    let list_retry = [("csrf", csrf.as_str()), ("campaign", "refused")];
    let cases: [(String, &[(&str, &str)]); 3] = [
        (
            "/ui/campaigns/refused/retry-failed".to_owned(),
            &campaign_retry,
        ),
        ("/ui/conversions/retry-failed".to_owned(), &list_retry),
        (format!("/ui/conversions/{id}/retry"), &campaign_retry),
    ];
    for (path, fields) in &cases {
        let resp = post_form(&app, path, &cookie, fields).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let warning = resp.text().await.unwrap();
        for words in [
            "Retry with a refused token?",
            "Meta refused <strong>refused</strong>'s access token (code 190)",
            "the token has not changed since; 1 event waits for a new one.",
            "The access token has expired.",
            r#"href="/ui/campaigns/refused/edit""#,
            r#"<input type="hidden" name="confirm" value="yes">"#,
            &format!(r#"action="{path}""#),
        ] {
            assert!(warning.contains(words), "{words} in {path}: {warning}");
        }
        assert_eq!(
            event_state(&app, id).await,
            "failed",
            "{path} asked, retried nothing"
        );
    }

    // Confirmed, the retry goes ahead (and Meta refuses it again).
    let resp = post_form(
        &app,
        &format!("/ui/conversions/{id}/retry"),
        &cookie,
        &[("csrf", &csrf), ("confirm", "yes")],
    )
    .await;
    assert_eq!(location(&resp), format!("/ui/conversions/{id}?retried=1"));
    assert_eq!(event_state(&app, id).await, "pending");
    app.deliver().await;
    assert_eq!(event_state(&app, id).await, "failed");

    // A new token re-queues the parked events: the retry has nothing to warn about.
    app.graph.reset().await;
    mount_graph_ok(&app.graph).await;
    app.patch_campaign_ok(
        "refused",
        json!({"access_token": "EAAfresh-token-0123456789"}),
    )
    .await;
    let resp = post_form(&app, &cases[0].0, &cookie, cases[0].1).await;
    assert_eq!(
        location(&resp),
        "/ui/campaigns/refused?requeued=0&still_failed=0&more=0"
    );
}

#[tokio::test]
async fn the_test_event_answer_comes_back_to_its_card_with_the_chosen_event() {
    let app = spawn_app().await;
    app.create_campaign("tester", json!({"test_event_code": "TEST99"}))
        .await;
    let (cookie, csrf) = session(&app).await;
    let before = page(&app, "/ui/campaigns/tester", &cookie).await;
    assert!(
        before.contains(r#"action="/ui/campaigns/tester/test-event#test-event""#),
        "{before}"
    );
    assert!(before.contains(r#"<section class="card" id="test-event">"#));
    assert!(
        before.contains(r#"<option value="Lead" selected>"#),
        "{before}"
    );

    let resp = post_form(
        &app,
        "/ui/campaigns/tester/test-event",
        &cookie,
        &[("csrf", &csrf), ("event_name", "Purchase")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let after = resp.text().await.unwrap();
    let card = &after[after.find(r#"id="test-event""#).unwrap()..];
    let verdict = card
        .find("Meta accepted the test event.")
        .expect("the verdict in the card");
    assert!(verdict < card.find("<form").unwrap(), "above the button");
    assert!(
        card.contains(r#"<option value="Purchase" selected>"#),
        "{card}"
    );
    assert!(
        !card.contains(r#"<option value="Lead" selected>"#),
        "{card}"
    );
}
