//! The dashboard's Conversions pages: a failed event's page with Meta's answer, and\nretrying one or all failed events, by form and in a browser.

use crate::helpers::leads::lead;
use crate::helpers::ui::listed;
use crate::helpers::ui::{csrf, post_form_body, sign_in, text_of, FORM};
use crate::helpers::*;
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, Respond};

async fn graph_answers(app: &TestApp, answer: impl Respond + 'static) {
    app.graph.reset().await;
    Mock::given(method("POST"))
        .respond_with(answer)
        .mount(&app.graph)
        .await;
}

async fn conversion(app: &TestApp, id: i64) -> Value {
    app.admin_get(&format!("/admin/v1/conversions/{id}")).await
}

const META_MESSAGE: &str = "Invalid parameter: user_data needs more customer information";

#[tokio::test]
async fn a_failed_event_shows_metas_answer_and_the_form_retries_it() {
    let app = spawn_app().await;
    app.create_campaign("shop", json!({})).await;
    app.create_campaign("other", json!({})).await;
    let cookie = sign_in(&app).await;
    let csrf = csrf(&app, &cookie).await;
    graph_answers(
        &app,
        graph_error(400, 100, Some(2804050), false, META_MESSAGE),
    )
    .await;

    let id = lead(&app, "shop", "clk-fail").await;
    app.deliver().await;
    assert_eq!(conversion(&app, id).await["state"], "failed");

    let (status, page) = text_of(&app, &format!("/ui/conversions/{id}"), &cookie).await;
    assert_eq!(status, StatusCode::OK);
    // The postback as received: kept parameters, never the key nor personal data.
    assert!(page.contains(r#"<table id="params">"#), "{page}");
    for kept in [
        "<code>tid</code>",
        "<code>tx-clk-fail</code>",
        "<code>subid</code>",
    ] {
        assert!(page.contains(kept), "{kept} in {page}");
    }
    for secret in [
        POSTBACK_KEY,
        ADMIN_TOKEN,
        "203.0.113.77",
        "Jane.Doe",
        "jane.doe",
    ] {
        assert!(!page.contains(secret), "{secret} shown");
    }
    // The decision and the payload as stored for Meta.
    assert!(page.contains(">failed</span>"), "{page}");
    let view = conversion(&app, id).await;
    let event_id = view["event_id"].as_str().unwrap();
    assert!(page.contains(r#"<pre class="payload">"#));
    assert!(
        page.contains(&format!("&quot;event_id&quot;: &quot;{event_id}&quot;")),
        "{page}"
    );
    assert!(
        page.contains("&quot;event_name&quot;: &quot;Lead&quot;"),
        "{page}"
    );
    let em_hash = view["payload"]["user_data"]["em"][0].as_str().unwrap();
    assert!(page.contains(em_hash), "the hashed email");
    // The attempt with Meta's answer.
    let attempts = &page[page
        .find(r#"<table class="attempts list" id="attempts-meta">"#)
        .expect("attempts table")..];
    let attempts = &attempts[..attempts.find("</table>").unwrap()];
    for cell in [
        META_MESSAGE,
        "AbErrTrace",
        ">400<",
        ">100<",
        ">2804050<",
        "invalid",
    ] {
        assert!(attempts.contains(cell), "{cell} in {attempts}");
    }
    assert!(page.contains(&format!(r#"action="/ui/conversions/{id}/retry""#)));
    assert!(page.contains(r#"<button type="submit">Retry</button>"#));

    // Without the token, with another, or from another site: 403, nothing changed.
    let retry = format!("/ui/conversions/{id}/retry");
    for body in [
        String::new(),
        "csrf=".to_owned(),
        format!("csrf={}", "0".repeat(64)),
    ] {
        let resp = post_form_body(&app, &retry, &cookie, &body).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{body:?}");
    }
    let resp = app
        .client
        .post(app.url(&retry))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .header("content-type", FORM)
        .body(format!("csrf={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(conversion(&app, id).await["state"], "failed");

    // Retried: queued again, then sent.
    let resp = post_form_body(&app, &retry, &cookie, &format!("csrf={csrf}")).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        resp.headers()[LOCATION],
        format!("/ui/conversions/{id}?retried=1")
    );
    let (_, page) = text_of(&app, &format!("/ui/conversions/{id}?retried=1"), &cookie).await;
    assert!(
        page.contains(r#"<p class="notice" role="status">Retried"#),
        "{page}"
    );
    assert!(page.contains(">pending</span>"), "{page}");
    assert_eq!(conversion(&app, id).await["state"], "pending");
    let (_, list) = text_of(&app, "/ui/conversions?state=pending", &cookie).await;
    assert_eq!(listed(&list), ["clk-fail"]);
    graph_answers(&app, GraphOk).await;
    app.deliver().await;
    let view = conversion(&app, id).await;
    assert_eq!(view["state"], "sent");
    assert_eq!(view["event_id"], event_id, "the same event id");

    // Sent: the page says why there is no retry, and a retry is a 409 changing nothing.
    let (_, page) = text_of(&app, &format!("/ui/conversions/{id}"), &cookie).await;
    assert!(!page.contains(&format!(r#"action="/ui/conversions/{id}/retry""#)));
    assert!(
        page.contains(
            "Retry is not available: only failed events can be retried; this conversion is sent."
        ),
        "{page}"
    );
    assert!(page.contains("AbFakeTrace"), "the second attempt");
    let resp = post_form_body(&app, &retry, &cookie, &format!("csrf={csrf}")).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let text = resp.text().await.unwrap();
    assert!(text.contains("this conversion is sent"), "{text}");
    assert_eq!(conversion(&app, id).await["state"], "sent");
    assert_eq!(conversion(&app, id).await["attempts"], 2);

    // Unknown ids are 404 pages.
    for path in [
        "/ui/conversions/999999",
        "/ui/conversions/abc",
        "/ui/conversions/0",
    ] {
        let (status, page) = text_of(&app, path, &cookie).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.contains("There is no conversion"), "{page}");
    }
    for path in ["/ui/conversions/999999/retry", "/ui/conversions/x/retry"] {
        let resp = post_form_body(&app, path, &cookie, &format!("csrf={csrf}")).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn retry_all_failed_requeues_one_campaigns_failed_conversions() {
    let app = spawn_app().await;
    app.create_campaign("shop", json!({})).await;
    app.create_campaign("other", json!({})).await;
    let cookie = sign_in(&app).await;
    let csrf = csrf(&app, &cookie).await;
    graph_answers(&app, graph_error(400, 100, None, false, META_MESSAGE)).await;
    let shop = [
        lead(&app, "shop", "clk-s1").await,
        lead(&app, "shop", "clk-s2").await,
    ];
    let other = lead(&app, "other", "clk-o1").await;
    app.deliver().await;

    // Stale or missing token: nothing changes.
    for body in [
        "campaign=shop".to_owned(),
        format!("campaign=shop&csrf={}", "f".repeat(64)),
    ] {
        let resp = post_form_body(&app, "/ui/conversions/retry-failed", &cookie, &body).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(conversion(&app, shop[0]).await["state"], "failed");

    let resp = post_form_body(
        &app,
        "/ui/conversions/retry-failed",
        &cookie,
        &format!("campaign=shop&csrf={csrf}"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let location = resp.headers()[LOCATION].to_str().unwrap().to_owned();
    assert_eq!(
        location,
        "/ui/conversions?campaign=shop&retried=2&still_failed=0"
    );
    let (status, page) = text_of(&app, &location, &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Retried the failed conversions of shop: 2 queued again."),
        "{page}"
    );
    assert_eq!(listed(&page), ["clk-s2", "clk-s1"]);
    for id in shop {
        assert_eq!(conversion(&app, id).await["state"], "pending");
    }
    assert_eq!(
        conversion(&app, other).await["state"],
        "failed",
        "another campaign"
    );

    for campaign in ["nope", "Not A Key"] {
        let resp = post_form_body(
            &app,
            "/ui/conversions/retry-failed",
            &cookie,
            &format!("campaign={campaign}&csrf={csrf}"),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{campaign}");
    }
}

/// In Chromium: a failed event's page shows Meta's message; Retry queues it again with a
/// notice; the list and the page stay within a phone's width.
#[tokio::test]
async fn in_a_browser_a_failed_event_is_found_and_retried() {
    use crate::browser::Browser;
    use crate::helpers::browser_ui::sign_in;

    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    // On Meta and TikTok: the page shows each platform's delivery.
    app.create_campaign(
        "shop",
        json!({"tiktok": {"pixel_code": "CTT0001", "access_token": "tt-token-0123456789",
                          "send_when": "always"}, "meta_send_when": "always"}),
    )
    .await;
    graph_answers(
        &app,
        graph_error(400, 100, Some(2804050), false, META_MESSAGE),
    )
    .await;
    let id = lead(&app, "shop", "clk-browser-fail").await;
    app.deliver().await;

    sign_in(&b, &app, ADMIN_TOKEN).await;
    b.goto(&app.url("/ui/conversions?state=failed")).await;
    let row_link = b
        .eval(
            "return [...document.querySelectorAll('#conversions tbody tr')]\
             .filter(r => r.textContent.includes('clk-browser-fail'))\
             .map(r => r.querySelector('a[href^=\"/ui/conversions/\"]').getAttribute('href'));",
        )
        .await;
    assert_eq!(row_link, json!([format!("/ui/conversions/{id}")]));
    b.click_to_next_page("#conversions a[href^=\"/ui/conversions/\"]")
        .await;
    let attempts = b
        .eval("return document.querySelector('#attempts-meta tbody').innerText;")
        .await;
    assert!(
        attempts.as_str().unwrap().contains(META_MESSAGE),
        "{attempts}"
    );
    b.click_to_next_page("form[action$=\"/retry\"] button[type=submit]")
        .await;
    let notice = b
        .wait("the notice", "document.querySelector('.notice')?.innerText")
        .await;
    assert!(notice.as_str().unwrap().starts_with("Retried"), "{notice}");
    assert_eq!(conversion(&app, id).await["state"], "pending");

    // At 375 px nothing but the tables' own cards scrolls sideways, on every page.
    b.window_size(375, 800).await;
    for path in [
        "/ui/",
        "/ui/campaigns",
        "/ui/campaigns/new",
        "/ui/campaigns/shop",
        "/ui/campaigns/shop/edit",
        "/ui/conversions/refused",
        "/ui/imports",
        "/ui/conversions",
        &format!("/ui/conversions/{id}"),
        "/ui/clicks?click_id=clk-browser-fail",
    ] {
        b.goto(&app.url(path)).await;
        let wide = b
            .eval("return document.documentElement.scrollWidth <= window.innerWidth;")
            .await;
        assert_eq!(wide, json!(true), "{path} fits 375 px");
    }
}
