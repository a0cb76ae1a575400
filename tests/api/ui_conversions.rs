//! The dashboard's Conversions pages: the filtered list, a conversion's page, retries, refused
//! postbacks; over HTTP against the real server, database and a fake Graph API.

use reqwest::header::LOCATION;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, Respond};

use crate::helpers::*;
use crate::helpers::ui::{get_page, sign_in, FORM};

/// The CSRF token of a signed-in page (its sign-out form carries it).
pub fn csrf_of(page: &str) -> String {
    let start = page.find(r#"name="csrf" value=""#).expect("a csrf field") + 19;
    page[start..start + 64].to_owned()
}

/// The token of a fresh session's pages.
pub async fn csrf(app: &TestApp, cookie: &str) -> String {
    csrf_of(&get_page(app, "/ui/", cookie).await.text().await.unwrap())
}

/// POSTs a form as a same-origin browser would.
pub async fn post_form(app: &TestApp, path: &str, cookie: &str, body: &str) -> Response {
    app.client
        .post(app.url(path))
        .header("cookie", cookie)
        .header("origin", &app.address)
        .header("content-type", FORM)
        .body(body.to_owned())
        .send()
        .await
        .expect("form request")
}

pub async fn text_of(app: &TestApp, path: &str, cookie: &str) -> (StatusCode, String) {
    let resp = get_page(app, path, cookie).await;
    let status = resp.status();
    (status, resp.text().await.unwrap())
}

/// The click ids in the rows of the conversions table, top to bottom.
pub fn listed(page: &str) -> Vec<String> {
    let start = page
        .find(r#"<table class="list" id="conversions">"#)
        .unwrap_or_else(|| panic!("no conversions table in {page}"));
    let table = &page[start..start + page[start..].find("</table>").unwrap()];
    table
        .split("<tr>")
        .skip(2) // before the header row, the header row
        .filter_map(|row| {
            let s = row.find("<code>")? + 6;
            Some(row[s..s + row[s..].find("</code>")?].to_owned())
        })
        .collect()
}

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

/// A registered click and a Keitaro lead postback for it (with a transaction id); returns
/// the conversion id.
pub async fn lead(app: &TestApp, campaign: &str, click_id: &str) -> i64 {
    let resp = app
        .register_click(json!({"campaign": campaign, "click_id": click_id,
            "em": "Jane.Doe@Example.com", "client_ip_address": "203.0.113.77"}))
        .await;
    assert_eq!(resp.status(), 201);
    let resp = app
        .postback(
            "keitaro",
            &format!("subid={click_id}&status=lead&tid=tx-{click_id}"),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "accepted", "{body}");
    body["conversion_id"].as_i64().unwrap()
}

const META_MESSAGE: &str = "Invalid parameter: user_data needs more customer information";

#[tokio::test]
async fn the_list_shows_postbacks_and_each_filter_narrows_it() {
    let app = spawn_app().await;
    app.create_campaign("shop", json!({})).await;
    app.create_campaign("blog", json!({})).await;
    let cookie = sign_in(&app).await;

    let a = lead(&app, "shop", "clk-a").await;
    let resp = app
        .register_click(json!({"campaign": "blog", "click_id": "clk-b"}))
        .await;
    assert_eq!(resp.status(), 201);
    let resp = app.postback("generic", "click_id=clk-b&status=sale").await;
    assert_eq!(resp.status(), 200);
    let resp = app.postback("keitaro", "subid=clk-c&status=lead").await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED, "unmatched: no click");
    // clk-a arrived on 15 January (UTC).
    sqlx::query("UPDATE conversions SET received_at = '2026-01-15T23:59:00Z' WHERE id = $1")
        .bind(a)
        .execute(&app.pool)
        .await
        .unwrap();

    let (status, page) = text_of(&app, "/ui/conversions", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed(&page), ["clk-c", "clk-b", "clk-a"], "newest first");
    assert!(
        page.contains(&format!(r#"<a href="/ui/conversions/{a}">"#)),
        "{page}"
    );
    let at = page.find("<code>clk-a</code>").unwrap();
    let row_a = &page[page[..at].rfind("<tr>").unwrap()..];
    let row_a = &row_a[..row_a.find("</tr>").unwrap()];
    assert!(row_a.contains(">pending</span>"), "{row_a}");
    assert!(
        row_a.contains(r#"<td data-label="Tracker">keitaro</td>"#)
            && row_a.contains(r#"<td class="c-event" data-label="Event">Lead</td>"#),
        "{row_a}"
    );
    assert!(
        !page.contains("retry-failed"),
        "retry all only for one campaign"
    );
    for label in [
        r#"<label for="f-campaign">"#,
        r#"<label for="f-state">"#,
        r#"<label for="f-tracker">"#,
        r#"<label for="f-click">"#,
        r#"<label for="f-from">"#,
        r#"<label for="f-to">"#,
    ] {
        assert!(page.contains(label), "{label}");
    }

    let cases: [(&str, &[&str]); 13] = [
        ("campaign=shop", &["clk-a"]),
        ("campaign=blog", &["clk-b"]),
        ("campaign=nope", &[]),
        ("state=unmatched", &["clk-c"]),
        ("state=pending", &["clk-b", "clk-a"]),
        ("state=failed", &[]),
        ("tracker=generic", &["clk-b"]),
        ("tracker=keitaro", &["clk-c", "clk-a"]),
        ("click_id=clk-b", &["clk-b"]),
        ("from=2026-01-15&to=2026-01-15", &["clk-a"]),
        ("to=2026-01-14", &[]),
        ("from=2026-01-16", &["clk-c", "clk-b"]),
        (
            "campaign=&state=&tracker=keitaro&click_id=&from=&to=2026-01-15",
            &["clk-a"],
        ),
    ];
    for (query, want) in cases {
        let (status, page) = text_of(&app, &format!("/ui/conversions?{query}"), &cookie).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert_eq!(listed(&page), want, "{query}");
    }
    let (_, page) = text_of(&app, "/ui/conversions?campaign=shop", &cookie).await;
    assert!(
        page.contains(
            r#"<form class="inline" method="post" action="/ui/conversions/retry-failed">"#
        ),
        "{page}"
    );
    assert!(page.contains(r#"<option value="shop" selected>shop</option>"#));

    let bad = [
        ("state=queued", "Unknown state &quot;queued&quot;"),
        ("tracker=adsterra", "Unknown tracker"),
        ("from=2026-13-01", "is not a date"),
        ("to=yesterday", "is not a date"),
        ("from=2026-02-02&to=2026-02-01", "is after"),
        ("click_id=no%20spaces", "The click id"),
        ("before=abc", "page cursor"),
        ("stat=failed", "Unknown filter"),
    ];
    for (query, message) in bad {
        let (status, page) = text_of(&app, &format!("/ui/conversions?{query}"), &cookie).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(page.contains(message), "{query}: {page}");
        assert!(page.contains(r#"role="alert""#), "{query}");
        assert!(
            page.contains(r#"<form class="card filters""#),
            "the form to fix it"
        );
    }
}

#[tokio::test]
async fn the_list_pages_fifty_at_a_time() {
    let app = spawn_app().await;
    let cookie = sign_in(&app).await;
    for i in 0..52 {
        let resp = app
            .postback("keitaro", &format!("subid=page-{i:02}&status=lead"))
            .await;
        assert_eq!(resp.status(), StatusCode::ACCEPTED);
    }
    let (_, first) = text_of(&app, "/ui/conversions?state=unmatched", &cookie).await;
    let rows = listed(&first);
    assert_eq!(rows.len(), 50);
    assert_eq!(
        (rows[0].as_str(), rows[49].as_str()),
        ("page-51", "page-02")
    );
    let start = first.find(r#"rel="next""#).expect("an older link");
    let href_start = first[..start].rfind("href=\"").unwrap() + 6;
    let href = &first[href_start..href_start + first[href_start..].find('"').unwrap()];
    assert!(
        href.starts_with("/ui/conversions?state=unmatched&amp;before="),
        "{href}"
    );
    let (_, second) = text_of(&app, &href.replace("&amp;", "&"), &cookie).await;
    assert_eq!(listed(&second), ["page-01", "page-00"]);
    assert!(!second.contains(r#"rel="next""#), "the last page");
}

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
        let resp = post_form(&app, &retry, &cookie, &body).await;
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
    let resp = post_form(&app, &retry, &cookie, &format!("csrf={csrf}")).await;
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
    let resp = post_form(&app, &retry, &cookie, &format!("csrf={csrf}")).await;
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
        let resp = post_form(&app, path, &cookie, &format!("csrf={csrf}")).await;
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
        let resp = post_form(&app, "/ui/conversions/retry-failed", &cookie, &body).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(conversion(&app, shop[0]).await["state"], "failed");

    let resp = post_form(
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
        let resp = post_form(
            &app,
            "/ui/conversions/retry-failed",
            &cookie,
            &format!("campaign={campaign}&csrf={csrf}"),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{campaign}");
    }
}

#[tokio::test]
async fn refused_postbacks_are_listed_with_why() {
    let app = spawn_app().await;
    let cookie = sign_in(&app).await;
    let resp = app.postback("keitaro", "subid=clk-r&status={status}").await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (status, page) = text_of(&app, "/ui/conversions/refused", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    let table = &page[page
        .find(r#"<table class="list" id="refused">"#)
        .expect("refused table")..];
    for cell in ["keitaro", "unfilled macro", "clk-r"] {
        assert!(table.contains(cell), "{cell} in {table}");
    }
    assert!(!page.contains(POSTBACK_KEY));
    let (status, _) = text_of(&app, "/ui/conversions/refused?before=x", &cookie).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = text_of(&app, "/ui/conversions/refused?state=failed", &cookie).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_admin_list_filters_by_tracker_too() {
    let app = spawn_app().await;
    let resp = app.postback("keitaro", "subid=clk-k&status=lead").await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let resp = app.postback("binom", "cnv_id=clk-b&cnv_status=lead").await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let body = app.admin_get("/admin/v1/conversions?tracker=binom").await;
    let ids: Vec<&str> = body["conversions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["click_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["clk-b"]);
}

#[tokio::test]
async fn every_conversions_and_clicks_route_redirects_to_sign_in_without_a_session() {
    let app = spawn_app().await;
    for path in [
        "/ui/conversions",
        "/ui/conversions?state=nonsense",
        "/ui/conversions/refused",
        "/ui/conversions/1",
        "/ui/conversions/abc",
        "/ui/clicks",
        "/ui/clicks?click_id=clk-1",
    ] {
        let resp = get_page(&app, path, "").await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "GET {path}");
        assert_eq!(resp.headers()[LOCATION], "/ui/login", "GET {path}");
        assert!(resp.text().await.unwrap().is_empty(), "no data");
    }
    for path in [
        "/ui/conversions/1/retry",
        "/ui/conversions/retry-failed",
        "/ui/clicks/erase",
    ] {
        let resp = post_form(&app, path, "", "csrf=x&campaign=shop&click_id=clk-1").await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "POST {path}");
        assert_eq!(resp.headers()[LOCATION], "/ui/login", "POST {path}");
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
