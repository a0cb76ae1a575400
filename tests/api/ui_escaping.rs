//! Text from outside the dashboard's user (trackers, landing pages, Meta, uploaded files, the
//! address bar) is escaped on every dashboard page that shows it. maud escapes what it renders;
//! this proves it stays so: each source carries a `<script>` tag, and every page is read for the
//! raw tag and, where the value is shown, its escaped form.

use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::dataset_quality::{full_event, FakeQuality, TokenAccess};
use crate::helpers::imports::{finished, multipart_named, post_multipart, started};
use crate::helpers::quality::{fetcher, PIXEL, SIX_HOURS};
use crate::helpers::ui::{get_page, sign_in};
use crate::helpers::*;

/// Every hostile value starts so: no page may hold it raw.
const RAW: &str = "<script>x_";

fn hostile(source: &str) -> String {
    format!("<script>x_{source}()</script>")
}

/// How maud writes it.
fn escaped(source: &str) -> String {
    format!("&lt;script&gt;x_{source}()&lt;/script&gt;")
}

/// A file name keeps no folder: this one has no `/` to lose.
const FILE_NAME: &str = "<script>x_file().csv";
const FILE_ESCAPED: &str = "&lt;script&gt;x_file().csv";

/// Percent-encoded for a query string.
fn encoded(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Meta refuses every event as invalid, with its diagnostic texts hostile.
async fn meta_refuses(app: &TestApp) {
    let error = json!({"error": {
        "message": hostile("meta_message"),
        "type": "OAuthException",
        "code": 100,
        "error_subcode": 2804019,
        "is_transient": false,
        "error_user_title": hostile("meta_title"),
        "error_user_msg": hostile("meta_user_msg"),
        "fbtrace_id": "AbErrTrace",
    }});
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(error))
        .mount(&app.graph)
        .await;
}

/// Meta's dataset quality for the pixel, its diagnostic hostile.
async fn hostile_quality(app: &TestApp) {
    let mut lead = full_event("Lead", 7.2, 40.0);
    let diagnostic = &mut lead["event_match_quality"]["diagnostics"][0];
    diagnostic["name"] = json!(hostile("quality_name"));
    diagnostic["description"] = json!(hostile("quality_description"));
    diagnostic["solution"] = json!(hostile("quality_solution"));
    FakeQuality::mount(&app.graph, "v26.0")
        .await
        .pixel(PIXEL, json!([lead]))
        .token(ACCESS_TOKEN, TokenAccess::Reads);
    fetcher(app, SIX_HOURS).round().await.unwrap();
}

#[tokio::test]
async fn outside_text_is_escaped_on_every_dashboard_page() {
    let app = spawn_app().await;
    app.graph.reset().await;
    meta_refuses(&app).await;
    app.create_campaign("xss", json!({"name": hostile("name")}))
        .await;
    hostile_quality(&app).await;

    // A tracker's postback with a hostile parameter; Meta refuses its event.
    let click = json!({"campaign": "xss", "click_id": "x-1",
        "client_user_agent": hostile("user_agent")});
    assert_eq!(app.register_click(click).await.status(), 201);
    let query = format!("subid=x-1&status=lead&sub1={}", encoded(&hostile("sub1")));
    let answer: serde_json::Value = app.postback("keitaro", &query).await.json().await.unwrap();
    let postback_conversion = answer["conversion_id"].as_i64().expect("accepted");
    assert_eq!(app.deliver().await.failed, 1);
    // A postback whose sub id is no click id: refused, and listed as such.
    let query = format!("subid={}&status=lead", encoded(&hostile("subid")));
    assert_eq!(app.postback("keitaro", &query).await.status(), 422);
    // An import under a hostile file name.
    let clicked = app.register_click(json!({"campaign": "xss", "click_id": "x-2"}));
    assert_eq!(clicked.await.status(), 201);
    let file = "click_id,status,txid\r\nx-2,lead,t-2\r\n";
    let body = multipart_named(&[], FILE_NAME, file);
    let import = started(post_multipart(&app, body).await).await;
    finished(&app, import).await;
    let imported: i64 = sqlx::query_scalar("SELECT id FROM conversions WHERE import_id = $1")
        .bind(import)
        .fetch_one(&app.pool)
        .await
        .unwrap();

    let cookie = sign_in(&app).await;
    let conversion = format!("/ui/conversions/{postback_conversion}");
    let shown: Vec<(&str, Vec<String>)> = vec![
        (
            "name",
            strings(&[
                "/ui/campaigns",
                "/ui/campaigns/xss",
                "/ui/campaigns/xss/edit",
            ]),
        ),
        ("quality_name", strings(&["/ui/campaigns/xss"])),
        ("sub1", vec![conversion.clone()]),
        (
            "meta_title",
            strings(&["/ui/campaigns/xss", "/ui/conversions"]),
        ),
        (
            "meta_user_msg",
            vec![
                "/ui/campaigns/xss".to_owned(),
                "/ui/conversions".to_owned(),
                conversion,
            ],
        ),
        ("subid", strings(&["/ui/conversions/refused"])),
        (
            "query",
            vec![format!(
                "/ui/clicks?click_id={}",
                encoded(&hostile("query"))
            )],
        ),
    ];
    let file_pages = vec![
        "/ui/imports".to_owned(),
        format!("/ui/imports/{import}"),
        format!("/ui/conversions/{imported}"),
    ];
    let mut every = strings(&[
        "/ui/",
        "/ui/campaigns/xss/disable",
        "/ui/conversions?campaign=xss",
        "/ui/clicks?click_id=x-1&campaign=xss",
        "/ui/alerts",
    ]);
    every.extend(file_pages.iter().cloned());
    for (_, pages) in &shown {
        every.extend(pages.iter().cloned());
    }

    let mut html = std::collections::HashMap::new();
    for path in &every {
        let resp = get_page(&app, path, &cookie).await;
        // The looked-up click id that is no click: a 404 page that echoes it.
        let status = if path.contains("x_query") { 404 } else { 200 };
        assert_eq!(resp.status(), status, "{path}");
        let page = resp.text().await.unwrap();
        assert!(!page.contains(RAW), "{path} holds a raw tag: {page}");
        html.insert(path.clone(), page);
    }
    for (source, pages) in &shown {
        for path in pages {
            assert!(
                html[path].contains(&escaped(source)),
                "{path} does not show {source} escaped: {}",
                html[path]
            );
        }
    }
    for path in &file_pages {
        assert!(html[path].contains(FILE_ESCAPED), "{path}: {}", html[path]);
    }
}

fn strings(paths: &[&str]) -> Vec<String> {
    paths.iter().map(|p| p.to_string()).collect()
}
