//! The dashboard's Conversions pages: the filtered list and its pages, refused postbacks,\nbehind the session; over HTTP against the real server and database.

use crate::helpers::leads::lead;
use crate::helpers::ui::listed;
use crate::helpers::ui::{get_page, post_form_body, sign_in, text_of};
use crate::helpers::*;
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use serde_json::json;

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
        let mut path = format!("/ui/conversions?{query}");
        // The form's days answer with a redirect to the same days as `since` and `until`.
        let days = |p: &str| matches!(p.split_once('='), Some(("from" | "to", v)) if !v.is_empty());
        if query.split('&').any(days) {
            let resp = get_page(&app, &path, &cookie).await;
            assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{query}");
            path = resp.headers()["location"].to_str().unwrap().to_owned();
            assert!(path.contains("until=") || path.contains("since="), "{path}");
        }
        let (status, page) = text_of(&app, &path, &cookie).await;
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
        let resp = post_form_body(&app, path, "", "csrf=x&campaign=shop&click_id=clk-1").await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "POST {path}");
        assert_eq!(resp.headers()[LOCATION], "/ui/login", "POST {path}");
    }
}
