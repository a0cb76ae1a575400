//! Test mode, visible: each delivery attempt keeps the test event code it was sent with, so a
//! conversion sent to a platform's Test Events carries a "test" badge (per platform) in the
//! admin API and the dashboard, and keeps it after the campaign's code is cleared.

use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::leads::lead;
use crate::helpers::tiktok::tiktok_settings;
use crate::helpers::ui::row_of;
use crate::helpers::ui::sign_in;
use crate::helpers::ui::text_of;
use crate::helpers::*;

const META_CODE: &str = "TEST4242";
const TIKTOK_CODE: &str = "TTTEST777";

async fn conversion(app: &TestApp, id: i64) -> Value {
    app.admin_get(&format!("/admin/v1/conversions/{id}")).await
}

/// The conversion's `test_platforms` as the admin list shows it.
async fn listed_test_platforms(app: &TestApp, id: i64) -> Value {
    let list = app.admin_get("/admin/v1/conversions").await;
    let row = list["conversions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("conversion {id} not listed: {list}"))
        .clone();
    row["test_platforms"].clone()
}

/// The attempts table of a platform on a conversion's page.
fn attempts_table<'a>(page: &'a str, platform: &str) -> &'a str {
    let at = page
        .find(&format!(r#"id="attempts-{platform}""#))
        .unwrap_or_else(|| panic!("no {platform} attempts in {page}"));
    &page[at..at + page[at..].find("</table>").unwrap()]
}

const META_BADGE: &str = r#"data-platform="meta""#;
const TIKTOK_BADGE: &str = r#"data-platform="tiktok""#;

#[tokio::test]
async fn a_conversion_sent_with_metas_test_code_keeps_its_badge_after_the_code_is_cleared() {
    let app = spawn_app().await;
    app.create_campaign("tm", json!({"test_event_code": META_CODE}))
        .await;
    let cookie = sign_in(&app).await;

    let old = lead(&app, "tm", "clk-old").await;
    app.deliver().await;
    let requests = app.graph_requests().await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["test_event_code"], META_CODE);

    let view = conversion(&app, old).await;
    assert_eq!(view["state"], "sent", "{view}");
    assert_eq!(view["test_platforms"], json!(["meta"]), "{view}");
    assert_eq!(view["deliveries"][0]["test_event_code"], META_CODE);
    assert_eq!(
        view["deliveries"][0]["attempts_log"][0]["test_event_code"],
        META_CODE
    );
    assert_eq!(view["attempts_log"][0]["test_event_code"], META_CODE);
    assert_eq!(listed_test_platforms(&app, old).await, json!(["meta"]));

    let (_, page) = text_of(&app, "/ui/conversions", &cookie).await;
    let row = row_of(&page, "clk-old");
    assert!(
        row.contains(META_BADGE) && row.contains("Meta test"),
        "{row}"
    );
    let (_, page) = text_of(&app, &format!("/ui/conversions/{old}"), &cookie).await;
    assert!(page.contains(META_BADGE), "{page}");
    assert!(
        page.contains(&format!(
            "sent with test event code <code>{META_CODE}</code>"
        )),
        "{page}"
    );
    assert!(
        attempts_table(&page, "meta").contains(&format!("<code>{META_CODE}</code>")),
        "{page}"
    );

    // Production from now on: the new conversion goes without a code and shows no badge; the
    // old one was sent to Test Events and says so still.
    app.patch_campaign_ok("tm", json!({"test_event_code": null}))
        .await;
    let new = lead(&app, "tm", "clk-new").await;
    app.deliver().await;
    let requests = app.graph_requests().await;
    assert_eq!(requests.len(), 2);
    assert!(
        requests[1].get("test_event_code").is_none(),
        "{}",
        requests[1]
    );

    let view = conversion(&app, new).await;
    assert_eq!(view["state"], "sent", "{view}");
    assert_eq!(view["test_platforms"], json!([]), "{view}");
    assert_eq!(view["deliveries"][0]["test_event_code"], Value::Null);
    assert_eq!(view["attempts_log"][0]["test_event_code"], Value::Null);
    assert_eq!(listed_test_platforms(&app, new).await, json!([]));
    assert_eq!(listed_test_platforms(&app, old).await, json!(["meta"]));
    assert_eq!(
        conversion(&app, old).await["deliveries"][0]["test_event_code"],
        META_CODE
    );

    let (_, page) = text_of(&app, "/ui/conversions", &cookie).await;
    assert!(!row_of(&page, "clk-new").contains("badge"), "{page}");
    assert!(row_of(&page, "clk-old").contains(META_BADGE), "{page}");
    let (_, page) = text_of(&app, &format!("/ui/conversions/{new}"), &cookie).await;
    assert!(
        !page.contains(META_BADGE) && !page.contains("Test Events"),
        "{page}"
    );
    assert!(
        !attempts_table(&page, "meta").contains("<code>TEST"),
        "{page}"
    );
}

#[tokio::test]
async fn the_latest_attempt_decides_a_failed_test_attempt_then_a_production_send_is_no_test() {
    let app = spawn_app().await;
    app.create_campaign("tm", json!({"test_event_code": META_CODE}))
        .await;
    app.graph.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&app.graph)
        .await;

    let id = lead(&app, "tm", "clk-1").await;
    app.deliver().await;
    let view = conversion(&app, id).await;
    assert_eq!(view["state"], "pending", "{view}");
    // Pending while the test code is on: the badge already says where it will go.
    assert_eq!(view["test_platforms"], json!(["meta"]), "{view}");
    assert_eq!(
        view["attempts_log"][0]["outcome"], "transient_error",
        "{view}"
    );
    assert_eq!(
        view["attempts_log"][0]["test_event_code"], META_CODE,
        "{view}"
    );

    app.patch_campaign_ok("tm", json!({"test_event_code": null}))
        .await;
    app.graph.reset().await;
    mount_graph_ok(&app.graph).await;
    sqlx::query("UPDATE events SET next_attempt_at = now()")
        .execute(&app.pool)
        .await
        .unwrap();
    app.deliver().await;

    let view = conversion(&app, id).await;
    assert_eq!(view["state"], "sent", "{view}");
    assert_eq!(view["test_platforms"], json!([]), "{view}");
    let codes: Vec<&Value> = view["attempts_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["test_event_code"])
        .collect();
    assert_eq!(codes, [&json!(META_CODE), &Value::Null], "{view}");
}

#[tokio::test]
async fn tiktoks_test_code_is_recorded_and_badged_for_tiktok_only() {
    let app = spawn_app().await;
    let mut tiktok = tiktok_settings();
    tiktok["send_when"] = json!("always");
    tiktok["test_event_code"] = json!(TIKTOK_CODE);
    app.create_campaign_with_tiktok("both", json!({"tiktok": tiktok}))
        .await;
    let cookie = sign_in(&app).await;

    let old = lead(&app, "both", "clk-old").await;
    app.deliver().await;
    let sent = app.tiktok_requests().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body["test_event_code"], TIKTOK_CODE);

    let view = conversion(&app, old).await;
    assert_eq!(view["state"], "sent", "{view}");
    assert_eq!(view["test_platforms"], json!(["tiktok"]), "{view}");
    let codes: Vec<(&Value, &Value)> = view["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (&d["platform"], &d["test_event_code"]))
        .collect();
    assert_eq!(
        codes,
        [
            (&json!("meta"), &Value::Null),
            (&json!("tiktok"), &json!(TIKTOK_CODE))
        ]
    );

    let (_, page) = text_of(&app, "/ui/conversions", &cookie).await;
    let row = row_of(&page, "clk-old");
    assert!(
        row.contains(TIKTOK_BADGE) && row.contains("TikTok test"),
        "{row}"
    );
    assert!(!row.contains(META_BADGE), "Meta went to production: {row}");
    let (_, page) = text_of(&app, &format!("/ui/conversions/{old}"), &cookie).await;
    assert!(
        attempts_table(&page, "tiktok").contains(&format!("<code>{TIKTOK_CODE}</code>")),
        "{page}"
    );
    assert!(
        !attempts_table(&page, "meta").contains("<code>TT"),
        "{page}"
    );

    let mut tiktok = tiktok_settings();
    tiktok["send_when"] = json!("always");
    tiktok["test_event_code"] = Value::Null;
    app.patch_campaign_ok("both", json!({"tiktok": tiktok}))
        .await;
    let new = lead(&app, "both", "clk-new").await;
    app.deliver().await;
    let sent = app.tiktok_requests().await;
    assert_eq!(sent.len(), 2);
    assert!(
        sent[1].body.get("test_event_code").is_none(),
        "{}",
        sent[1].body
    );

    assert_eq!(conversion(&app, new).await["test_platforms"], json!([]));
    assert_eq!(
        conversion(&app, old).await["test_platforms"],
        json!(["tiktok"])
    );
    let (_, page) = text_of(&app, "/ui/conversions", &cookie).await;
    assert!(!row_of(&page, "clk-new").contains("badge"), "{page}");
    assert!(row_of(&page, "clk-old").contains(TIKTOK_BADGE), "{page}");
}
