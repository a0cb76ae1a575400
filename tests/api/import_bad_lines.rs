//! An import keeps its file name, lists its conversions by event time and links them back
//! (issue 22, item 8), and serves its bad lines as CSV with reasons and the bad values of
//! columns that are not personal data (item 9), from the admin API and the dashboard.

use chrono::{Duration, Utc};
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::csv::{cell, rows};
use crate::helpers::imports::{finished, multipart_named, post_csv, post_multipart, started};
use crate::helpers::ui::{get_page, sign_in};
use crate::helpers::*;

async fn upload_named(app: &TestApp, file_name: &str, file: &str) -> i64 {
    started(post_multipart(app, multipart_named(&[], file_name, file)).await).await
}

async fn page(app: &TestApp, cookie: &str, path: &str) -> String {
    let resp = get_page(app, path, cookie).await;
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    resp.text().await.unwrap()
}

async fn bad_lines_csv(app: &TestApp, id: i64) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/admin/v1/imports/{id}/bad-lines.csv")))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn imported_conversions_are_listed_by_event_time_and_link_to_their_named_import() {
    let app = spawn_app().await;
    app.create_campaign("shop", json!({})).await;
    for c in ["c1", "c2", "c3"] {
        let resp = app
            .register_click(json!({"campaign": "shop", "click_id": c}))
            .await;
        assert_eq!(resp.status(), 201);
    }
    let at = |days: i64| (Utc::now() - Duration::days(days)).to_rfc3339();
    let file = format!(
        "click_id,status,txid,event_time\n\
         c1,lead,t1,{}\nc2,lead,t2,{}\nc3,lead,t3,{}\n",
        at(3),
        at(1),
        at(2)
    );
    // The client's folders go; the name is the user's text, escaped on the page.
    let id = upload_named(&app, "../reports/<i>nov.csv", &file).await;
    let v = finished(&app, id).await;
    assert_eq!(v["file_name"], "<i>nov.csv", "{v}");
    let escaped = "&lt;i&gt;nov.csv";

    let cookie = sign_in(&app).await;
    let html = page(&app, &cookie, &format!("/ui/imports/{id}")).await;
    assert!(
        html.contains(&format!(
            r#"File: <span class="file-name">{escaped}</span>"#
        )),
        "{html}"
    );
    assert!(!html.contains("<i>nov"));
    let table = &html[html
        .find(r#"<table id="import-conversions">"#)
        .expect("a list")..];
    let at_ = |c: &str| table.find(&format!("<code>{c}</code>")).expect(c);
    assert!(
        at_("c1") < at_("c3") && at_("c3") < at_("c2"),
        "by event time: {table}"
    );
    let list = page(&app, &cookie, "/ui/imports").await;
    assert!(list.contains(escaped), "{list}");

    // Each conversion's page links back to its import.
    let found = app.admin_get("/admin/v1/conversions?txid=t2").await;
    let conversion = found["conversions"][0]["id"].as_i64().unwrap();
    let detail = app
        .admin_get(&format!("/admin/v1/conversions/{conversion}"))
        .await;
    assert_eq!(
        detail["import"],
        json!({"id": id, "file_name": "<i>nov.csv"})
    );
    let html = page(&app, &cookie, &format!("/ui/conversions/{conversion}")).await;
    assert!(
        html.contains(&format!(
            r#"<a href="/ui/imports/{id}">Import {id}</a> · <span class="file-name">{escaped}</span>"#
        )),
        "{html}"
    );
    // A conversion from a postback names no import.
    app.click_and_lead("shop", "c9", json!({})).await;
    let found = app.admin_get("/admin/v1/conversions?click_id=c9").await;
    let postback = found["conversions"][0]["id"].as_i64().unwrap();
    let detail = app
        .admin_get(&format!("/admin/v1/conversions/{postback}"))
        .await;
    assert_eq!(detail["import"], Value::Null);
    let html = page(&app, &cookie, &format!("/ui/conversions/{postback}")).await;
    assert!(!html.contains(r#"id="imported-from""#));

    // A text/csv body names no file, and the import says so.
    let id = started(post_csv(&app, "click_id,status\nc1,sale\n".into()).await).await;
    let v = finished(&app, id).await;
    assert_eq!(v["file_name"], Value::Null, "{v}");
    let html = page(&app, &cookie, &format!("/ui/imports/{id}")).await;
    assert!(
        html.contains("(no file name: uploaded through the API)"),
        "{html}"
    );
}

#[tokio::test]
async fn the_bad_lines_csv_has_each_reason_and_only_values_that_are_not_personal_data() {
    let app = spawn_app().await;
    app.create_campaign("shop", json!({})).await;
    let file = "click_id,status,em,ph,campaign\n\
                \"=HYPERLINK(\"\"http://evil.example\"\")\",sale,a@b.example,+16505551212,\n\
                c1,sale,secret@example.com,+16505550000,Bad Key!\n\
                c2,sale,x@y.example\n";
    let id = upload_named(&app, "bad.csv", file).await;
    let v = finished(&app, id).await;
    assert_eq!(v["counts"]["invalid"], 3, "{v}");
    assert_eq!(v["bad_lines_cut"], false);
    assert_eq!(v["errors"][0]["field"], "click_id", "{v}");

    let resp = bad_lines_csv(&app, id).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let disposition = resp.headers()[CONTENT_DISPOSITION].to_str().unwrap();
    assert!(
        disposition.starts_with(&format!("attachment; filename=\"import-{id}-bad-lines-")),
        "{disposition}"
    );
    assert_eq!(resp.headers()["x-export-truncated"], "false");
    let body = resp.text().await.unwrap();
    for personal in [
        "a@b.example",
        "secret@example.com",
        "x@y.example",
        "6505551212",
        "6505550000",
    ] {
        assert!(!body.contains(personal), "{personal} in {body}");
    }
    let r = rows(&body);
    assert_eq!(&r[0], &["line", "field", "value", "reason"][..], "{body}");
    assert_eq!(r.len(), 4, "{body}");
    // A formula stays text: a leading quote.
    assert_eq!(cell(&r, 1, "line"), "2");
    assert_eq!(cell(&r, 1, "field"), "click_id");
    assert_eq!(cell(&r, 1, "value"), "'=HYPERLINK(\"http://evil.example\")");
    assert!(
        cell(&r, 1, "reason").starts_with("click_id must be"),
        "{body}"
    );
    assert_eq!(
        (cell(&r, 2, "field"), cell(&r, 2, "value")),
        ("campaign", "Bad Key!")
    );
    assert_eq!((cell(&r, 3, "field"), cell(&r, 3, "value")), ("", ""));
    assert!(cell(&r, 3, "reason").contains("has 3 fields, the header has 5"));

    // The dashboard serves the same file from the import's page, behind the session.
    let cookie = sign_in(&app).await;
    let html = page(&app, &cookie, &format!("/ui/imports/{id}")).await;
    let href = format!("/ui/imports/{id}/bad-lines.csv");
    assert!(
        html.contains(&format!(r#"<a id="bad-lines-csv" href="{href}" download>"#)),
        "{html}"
    );
    let ui = get_page(&app, &href, &cookie).await;
    assert_eq!(ui.status(), 200);
    assert_eq!(ui.text().await.unwrap(), body);
    let anonymous = app.client.get(app.url(&href)).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert!(anonymous.headers()[LOCATION]
        .to_str()
        .unwrap()
        .contains("login"));

    // No such import.
    assert_problem(bad_lines_csv(&app, id + 100).await, 404, "import_not_found").await;
    let resp = app
        .client
        .get(app.url("/admin/v1/imports/x/bad-lines.csv"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_problem(resp, 404, "import_not_found").await;
    let missing = get_page(&app, "/ui/imports/999999/bad-lines.csv", &cookie).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn past_10000_bad_lines_the_file_says_it_holds_the_first_10000() {
    let app = spawn_app().await;
    let mut file = String::from("click_id,status\n");
    for _ in 0..10_003 {
        file.push_str("x\n");
    }
    let id = started(post_csv(&app, file).await).await;
    let v = finished(&app, id).await;
    assert_eq!(v["counts"]["invalid"], 10_003, "{}", v["counts"]);
    assert_eq!(v["bad_lines_cut"], true);
    assert_eq!(v["errors"].as_array().unwrap().len(), 100);

    let resp = bad_lines_csv(&app, id).await;
    assert_eq!(resp.headers()["x-export-truncated"], "true");
    let body = resp.text().await.unwrap();
    let r = rows(&body);
    assert_eq!(r.len(), 1 + 10_000 + 1);
    assert_eq!(cell(&r, 10_000, "line"), "10001");
    let last = &r[r.len() - 1][0];
    assert!(last.starts_with("first 10000 bad lines only"), "{last}");
}
