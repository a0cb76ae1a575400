//! Finding conversions (issue 22, item 8): by transaction id and by platform in the admin API
//! and the dashboard, "Showing 1–50 of 1,234" bounded at 10,000, and Newer / Older links that
//! keep every filter.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::ui::{get_page, sign_in};
use crate::helpers::*;

async fn page(app: &TestApp, cookie: &str, path: &str) -> String {
    let resp = get_page(app, path, cookie).await;
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    resp.text().await.unwrap()
}

fn click_ids(list: &Value) -> Vec<&str> {
    list["conversions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["click_id"].as_str().unwrap())
        .collect()
}

/// The count line's text.
fn showing(html: &str) -> &str {
    let open = r#"<p id="showing" role="status">"#;
    let start = html.find(open).expect("a count") + open.len();
    &html[start..start + html[start..].find('<').unwrap()]
}

/// The href of the pager link `rel`, unescaped.
fn link(html: &str, rel: &str) -> Option<String> {
    let nav = &html[html.find(r#"<nav class="pager""#)?..];
    let nav = &nav[..nav.find("</nav>").unwrap()];
    let end = nav.find(&format!(r#"" rel="{rel}""#))?;
    let start = nav[..end].rfind("href=\"").unwrap() + 6;
    Some(nav[start..end].replace("&amp;", "&"))
}

#[tokio::test]
async fn a_txid_finds_exactly_its_conversion_in_the_api_and_the_dashboard() {
    let app = spawn_app().await;
    app.create_campaign("shop", json!({})).await;
    for c in ["c1", "c2", "c3"] {
        app.click_and_lead("shop", c, json!({})).await;
    }
    // A second conversion of c2 whose txid only begins like c1's: exact match, not a prefix.
    let resp = app
        .postback("generic", "click_id=c2&status=sale&txid=tx-c1-refund")
        .await;
    assert_eq!(resp.status(), 200);

    let found = app.admin_get("/admin/v1/conversions?txid=tx-c1").await;
    assert_eq!(click_ids(&found), ["c1"], "{found}");
    assert_eq!(found["conversions"][0]["txid"], "tx-c1");
    let none = app.admin_get("/admin/v1/conversions?txid=tx-c9").await;
    assert_eq!(click_ids(&none), Vec::<&str>::new());
    // The CSV takes the same filter.
    let csv = app
        .client
        .get(app.url("/admin/v1/conversions.csv?txid=tx-c1-refund"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rows = crate::helpers::csv::rows(&csv);
    assert_eq!(rows.len(), 2, "{csv}");
    assert_eq!(crate::helpers::csv::cell(&rows, 1, "click_id"), "c2");

    let cookie = sign_in(&app).await;
    let html = page(&app, &cookie, "/ui/conversions?txid=tx-c3").await;
    assert!(html.contains("<code>c3</code>"), "{html}");
    assert!(!html.contains("<code>c1</code>") && !html.contains("<code>c2</code>"));
    assert_eq!(showing(&html), "Showing 1–1 of 1");
    // The form keeps what was typed.
    assert!(html.contains(r#"<input id="f-txid" type="text" name="txid" value="tx-c3">"#));
    // By click id, as before.
    let html = page(&app, &cookie, "/ui/conversions?click_id=c2").await;
    assert_eq!(showing(&html), "Showing 1–2 of 2");

    // The index the search uses exists.
    let index: Option<String> = sqlx::query_scalar(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'conversions_txid_idx'",
    )
    .fetch_one(&app.pool)
    .await
    .ok();
    assert!(index.is_some_and(|d| d.contains("(txid)")));
}

#[tokio::test]
async fn the_platform_filter_keeps_the_conversions_with_an_event_for_it() {
    let app = spawn_app().await;
    app.create_campaign("meta-only", json!({})).await;
    app.create_campaign_with_tiktok("both", json!({})).await;
    app.click_and_lead("meta-only", "c-meta", json!({})).await;
    app.click_and_lead("both", "c-both", json!({})).await;

    let tiktok = app.admin_get("/admin/v1/conversions?platform=tiktok").await;
    assert_eq!(click_ids(&tiktok), ["c-both"], "{tiktok}");
    let meta = app.admin_get("/admin/v1/conversions?platform=meta").await;
    assert_eq!(click_ids(&meta), ["c-both", "c-meta"], "{meta}");

    let cookie = sign_in(&app).await;
    let html = page(&app, &cookie, "/ui/conversions?platform=tiktok").await;
    assert!(html.contains("<code>c-both</code>") && !html.contains("<code>c-meta</code>"));
    assert!(html.contains(r#"<option value="tiktok" selected>tiktok</option>"#));

    // A word that is no platform: a problem in the API, a message in the dashboard.
    for path in ["/admin/v1/conversions", "/admin/v1/conversions.csv"] {
        let resp = app
            .client
            .get(app.url(&format!("{path}?platform=facebook")))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        let detail = assert_problem(resp, 400, "invalid_platform").await;
        assert!(detail.contains("meta, tiktok"), "{detail}");
    }
    let resp = get_page(&app, "/ui/conversions?platform=facebook", &cookie).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("Unknown platform &quot;facebook&quot;: it must be one of meta, tiktok."),
        "{html}"
    );
}

/// `n` conversions straight into the table (no click, no event): cheap rows for counting.
async fn bulk(app: &TestApp, n: i64, tracker: &str) {
    sqlx::query(
        "INSERT INTO conversions (click_id, tracker, raw_status, status, state, txid)
         SELECT 'bulk-' || $2 || '-' || g, $2, 'lead', 'lead', 'unmatched', 'bt-' || g
         FROM generate_series((SELECT count(*) FROM conversions) + 1,
                              (SELECT count(*) FROM conversions) + $1) g",
    )
    .bind(n)
    .bind(tracker)
    .execute(&app.pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn the_count_is_exact_up_to_10000_then_says_10000_plus() {
    let app = spawn_app().await;
    let cookie = sign_in(&app).await;
    assert_eq!(
        showing(&page(&app, &cookie, "/ui/conversions").await),
        "Showing 0 of 0"
    );
    bulk(&app, 10_000, "binom").await;
    let html = page(&app, &cookie, "/ui/conversions").await;
    assert_eq!(showing(&html), "Showing 1–50 of 10,000");
    bulk(&app, 1, "binom").await;
    let html = page(&app, &cookie, "/ui/conversions").await;
    assert_eq!(showing(&html), "Showing 1–50 of 10,000+");
    // The second page counts from 51 still.
    let older = link(&html, "next").expect("an Older link");
    let html = page(&app, &cookie, &older).await;
    assert_eq!(showing(&html), "Showing 51–100 of 10,000+");
}

#[tokio::test]
async fn newer_and_older_links_keep_every_filter() {
    let app = spawn_app().await;
    // 120 rows the filters match, interleaved with 60 they do not.
    for _ in 0..6 {
        bulk(&app, 20, "binom").await;
        bulk(&app, 10, "voluum").await;
    }
    let cookie = sign_in(&app).await;
    let first = "/ui/conversions?state=unmatched&tracker=binom";
    let html = page(&app, &cookie, first).await;
    assert_eq!(showing(&html), "Showing 1–50 of 120");
    assert_eq!(link(&html, "prev"), None, "the first page has no Newer");
    let older = link(&html, "next").expect("an Older link");
    assert!(
        older.starts_with("/ui/conversions?state=unmatched&tracker=binom&before="),
        "{older}"
    );

    let second = page(&app, &cookie, &older).await;
    assert_eq!(showing(&second), "Showing 51–100 of 120");
    assert!(!second.contains("bulk-voluum"), "a filter was lost");
    let third_url = link(&second, "next").expect("an Older link");
    let third = page(&app, &cookie, &third_url).await;
    assert_eq!(showing(&third), "Showing 101–120 of 120");
    assert_eq!(link(&third, "next"), None, "the last page has no Older");

    // Newer goes back one page at a time, with the filters.
    let back = link(&third, "prev").expect("a Newer link");
    assert_eq!(back, older);
    let back = link(&page(&app, &cookie, &back).await, "prev").expect("a Newer link");
    assert_eq!(
        back, first,
        "the page after the first is the first, without a cursor"
    );
}
