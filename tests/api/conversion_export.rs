//! The conversions list as CSV (issue 22, item 9): the admin API's `conversions.csv` and the
//! dashboard's "Download CSV", over HTTP against the real server and database.

use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::csv::{cell, rows};
use crate::helpers::ui::{get_page, sign_in};
use crate::helpers::*;

/// Two campaigns: `shop` with a lead whose txid is a formula and a refund-like negative value,
/// `blog` with a plain lead.
async fn two_campaigns() -> TestApp {
    let app = spawn_app().await;
    app.create_campaign("shop", json!({})).await;
    app.create_campaign("blog", json!({})).await;
    let resp = app
        .register_click(json!({"campaign": "shop", "click_id": "clk-shop"}))
        .await;
    assert_eq!(resp.status(), 201);
    let formula = "%3DHYPERLINK(%22http%3A%2F%2Fevil.example%22%2C%22x%22)";
    let resp = app
        .postback(
            "generic",
            &format!("click_id=clk-shop&status=sale&payout=40&txid={formula}"),
        )
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    // A refund's value as the platforms got it: negative.
    sqlx::query(
        "UPDATE events SET payload = jsonb_set(payload, '{custom_data,value}', '-12.5'::jsonb)
         WHERE conversion_id = (SELECT id FROM conversions WHERE click_id = 'clk-shop')",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    app.click_and_lead("blog", "clk-blog", json!({})).await;
    app
}

#[tokio::test]
async fn the_csv_export_applies_the_filters_and_keeps_formulas_as_text() {
    let app = two_campaigns().await;

    let resp = app
        .admin(reqwest::Method::GET, "/admin/v1/conversions.csv", None)
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()[CONTENT_TYPE], "text/csv; charset=utf-8");
    let disposition = resp.headers()[CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"conversions-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    assert_eq!(resp.headers()["x-export-truncated"], "false");
    let all = rows(&resp.text().await.unwrap());
    assert_eq!(all.len(), 3, "header and two rows: {all:?}");
    assert_eq!(cell(&all, 1, "campaign"), "blog", "newest first");
    assert_eq!(cell(&all, 2, "campaign"), "shop");

    let resp = app
        .admin(
            reqwest::Method::GET,
            "/admin/v1/conversions.csv?campaign=shop",
            None,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body = resp.text().await.unwrap();
    let shop = rows(&body);
    assert_eq!(shop.len(), 2, "only shop's conversion: {body}");
    assert_eq!(cell(&shop, 1, "click_id"), "clk-shop");
    assert_eq!(
        cell(&shop, 1, "txid"),
        "'=HYPERLINK(\"http://evil.example\",\"x\")",
        "a formula stays text"
    );
    assert_eq!(
        cell(&shop, 1, "value"),
        "-12.5",
        "a negative value stays a number"
    );
    assert!(body.contains(",-12.5,"), "unquoted, unprefixed: {body}");
    assert_eq!(cell(&shop, 1, "state"), "pending");

    // The other filters are the list's: a state no row has, a tracker, a window.
    for (query, want) in [
        ("state=sent", 0),
        ("tracker=generic&campaign=blog", 1),
        ("since=2999-01-01", 0),
        ("click_id=clk-blog", 1),
    ] {
        let path = format!("/admin/v1/conversions.csv?{query}");
        let resp = app.admin(reqwest::Method::GET, &path, None).await;
        assert_eq!(resp.status(), 200, "{query}");
        assert_eq!(rows(&resp.text().await.unwrap()).len(), want + 1, "{query}");
    }
}

#[tokio::test]
async fn the_csv_export_needs_the_token_and_refuses_bad_filters() {
    let app = two_campaigns().await;
    let url = app.url("/admin/v1/conversions.csv");
    let resp = app.client.get(&url).send().await.unwrap();
    assert_problem(resp, 401, "unauthorized").await;
    let resp = app
        .client
        .get(&url)
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    for (query, code) in [
        ("limit=5", "unknown_parameter"),
        ("state=queued", "invalid_state"),
        ("since=yesterday", "invalid_parameter"),
    ] {
        let path = format!("/admin/v1/conversions.csv?{query}");
        let resp = app.admin(reqwest::Method::GET, &path, None).await;
        assert_problem(resp, 400, code).await;
    }
}

#[tokio::test]
async fn the_dashboard_list_links_its_filtered_csv_behind_the_session() {
    let app = two_campaigns().await;
    let cookie = sign_in(&app).await;

    let page = get_page(&app, "/ui/conversions?campaign=shop&state=pending", &cookie)
        .await
        .text()
        .await
        .unwrap();
    let link = "/ui/conversions/export.csv?campaign=shop&amp;state=pending";
    assert!(page.contains(&format!("href=\"{link}\"")), "{page}");
    assert!(page.contains("Download CSV"));

    let resp = get_page(
        &app,
        "/ui/conversions/export.csv?campaign=shop&state=pending",
        &cookie,
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()[CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    let got = rows(&resp.text().await.unwrap());
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(cell(&got, 1, "campaign"), "shop");
    assert!(cell(&got, 1, "txid").starts_with("'="));

    // Without a session: to the sign-in page, no data.
    let resp = app
        .client
        .get(app.url("/ui/conversions/export.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/ui/login");
    assert!(!resp.text().await.unwrap().contains("clk-shop"));

    // A bad filter is said, not ignored.
    let resp = get_page(&app, "/ui/conversions/export.csv?state=queued", &cookie).await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn an_export_over_its_cap_is_cut_and_says_so() {
    use capi_bridge::storage::conversion_view::ListFilter;
    let app = two_campaigns().await;
    let all = ListFilter {
        campaign: None,
        state: None,
        tracker: None,
        click_id: None,
        since: None,
        until: None,
        before: None,
        limit: 50,
        ..ListFilter::default()
    };
    let cut = capi_bridge::export::conversions(&app.pool, &all, 1)
        .await
        .unwrap();
    assert!(cut.truncated);
    assert_eq!(cut.rows, 1);
    let got = rows(std::str::from_utf8(&cut.body).unwrap());
    assert_eq!(got.len(), 3, "header, the newest row, the note: {got:?}");
    assert_eq!(cell(&got, 1, "click_id"), "clk-blog");
    assert!(
        got[2][0].starts_with("truncated: only the newest 1 rows"),
        "{got:?}"
    );

    let whole = capi_bridge::export::conversions(&app.pool, &all, 2)
        .await
        .unwrap();
    assert!(!whole.truncated, "exactly the cap is not cut");
    assert_eq!(rows(std::str::from_utf8(&whole.body).unwrap()).len(), 3);
}
