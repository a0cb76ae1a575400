//! `send_when` (issue 20, item 10b): a campaign on Meta and TikTok sends a Facebook click's
//! conversion to Meta only and a TikTok click's to TikTok only, unless a platform's rule is
//! `always`; a skipped platform gets no event and is listed, with the reason, in the postback's
//! answer, the conversion's view and a counter.

use serde_json::{json, Value};

use crate::helpers::tiktok::tiktok_settings;
use crate::helpers::ui::sign_in;
use crate::helpers::ui::text_of;
use crate::helpers::*;

const FBCLID: &str = "IwAR2sendwhen";
const TTCLID: &str = "E.C.P.sendwhen1";
const NO_TIKTOK: &str =
    "no TikTok click signal (ttclid/ttp) on the click: send_when platform_click";
const NO_META: &str =
    "no Meta click signal (fbclid/fbc/fbp) on the click: send_when platform_click";

fn platforms(answer: &Value) -> Vec<&str> {
    answer["events"]
        .as_array()
        .map(|a| a.iter().map(|e| e["platform"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

async fn event_rows(app: &TestApp, click_id: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT e.platform FROM events e JOIN conversions c ON c.id = e.conversion_id \
         WHERE c.click_id = $1 ORDER BY e.platform",
    )
    .bind(click_id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

fn skipped_count(metrics: &str, platform: &str) -> u64 {
    let prefix =
        format!("capi_bridge_platform_skipped_total{{platform=\"{platform}\",reason=\"no_platform_click\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |n| n.trim().parse().unwrap())
}

#[tokio::test]
async fn each_click_of_a_two_platform_campaign_reaches_its_own_platform_only() {
    let app = spawn_app().await;
    app.create_campaign_on_both("both").await;

    let fb = app
        .click_and_lead("both", "c-fb", json!({"fbclid": FBCLID}))
        .await;
    assert_eq!(fb["status"], "accepted", "{fb}");
    assert_eq!(platforms(&fb), ["meta"], "{fb}");
    assert_eq!(
        fb["skipped"],
        json!([{"platform": "tiktok", "reason": NO_TIKTOK}])
    );
    assert_eq!(event_rows(&app, "c-fb").await, ["meta"], "no TikTok row");

    let tt = app
        .click_and_lead("both", "c-tt", json!({"ttclid": TTCLID}))
        .await;
    assert_eq!(platforms(&tt), ["tiktok"], "{tt}");
    assert_eq!(
        tt["skipped"],
        json!([{"platform": "meta", "reason": NO_META}])
    );

    // Both signals: both platforms, and no `skipped` in the answer.
    let two = app
        .click_and_lead("both", "c-two", json!({"fbclid": FBCLID, "ttclid": TTCLID}))
        .await;
    assert_eq!(platforms(&two), ["meta", "tiktok"], "{two}");
    assert!(two.get("skipped").is_none(), "{two}");

    app.deliver().await;
    let meta_ids: Vec<_> = app
        .graph_events()
        .await
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect();
    let mut meta_ids = meta_ids;
    meta_ids.sort();
    assert_eq!(meta_ids, ["Lead-c-fb", "Lead-c-two"]);
    let mut tiktok_ids: Vec<_> = app
        .tiktok_requests()
        .await
        .iter()
        .flat_map(|r| r.body["data"].as_array().unwrap().clone())
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect();
    tiktok_ids.sort();
    assert_eq!(tiktok_ids, ["Lead-c-tt", "Lead-c-two"]);

    // The conversion's view lists the skipped platform.
    let id = fb["conversion_id"].as_i64().unwrap();
    let view = app.admin_get(&format!("/admin/v1/conversions/{id}")).await;
    assert_eq!(
        view["skipped"],
        json!([{"platform": "tiktok", "reason": NO_TIKTOK}]),
        "{view}"
    );
    assert_eq!(view["state"], "sent", "{view}");
    // And so does its dashboard page.
    let cookie = sign_in(&app).await;
    let (status, page) = text_of(&app, &format!("/ui/conversions/{id}"), &cookie).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!(r#"<dd id="skipped-tiktok">{NO_TIKTOK}</dd>"#)),
        "{page}"
    );
    assert!(!page.contains("skipped-meta"), "{page}");
    let id = two["conversion_id"].as_i64().unwrap();
    let view = app.admin_get(&format!("/admin/v1/conversions/{id}")).await;
    assert_eq!(view["skipped"], json!([]), "{view}");
}

#[tokio::test]
async fn a_click_without_any_platform_signal_is_skipped_with_the_reasons_and_counted() {
    let app = spawn_app().await;
    app.create_campaign_on_both("both").await;
    let before = app.scrape_metrics().await;

    let none = app.click_and_lead("both", "c-none", json!({})).await;
    assert_eq!(none["status"], "skipped", "{none}");
    assert_eq!(
        none["reason"],
        format!("Meta: {NO_META}; TikTok: {NO_TIKTOK}")
    );
    assert_eq!(
        none["skipped"],
        json!([
            {"platform": "meta", "reason": NO_META},
            {"platform": "tiktok", "reason": NO_TIKTOK},
        ])
    );
    assert!(event_rows(&app, "c-none").await.is_empty());
    let id = none["conversion_id"].as_i64().unwrap();
    let view = app.admin_get(&format!("/admin/v1/conversions/{id}")).await;
    assert_eq!(view["state"], "skipped", "{view}");
    assert_eq!(view["skipped"].as_array().unwrap().len(), 2, "{view}");

    let after = app.scrape_metrics().await;
    for platform in ["meta", "tiktok"] {
        assert!(
            skipped_count(&after, platform) > skipped_count(&before, platform),
            "{platform} counted:\n{after}"
        );
    }
}

#[tokio::test]
async fn always_on_tiktok_sends_a_facebook_click_to_both_platforms() {
    let app = spawn_app().await;
    let mut tiktok = tiktok_settings();
    tiktok["send_when"] = json!("always");
    app.create_campaign("both", json!({"tiktok": tiktok})).await;

    let fb = app
        .click_and_lead("both", "c-fb", json!({"fbclid": FBCLID}))
        .await;
    assert_eq!(platforms(&fb), ["meta", "tiktok"], "{fb}");
    assert!(fb.get("skipped").is_none(), "{fb}");
    // Meta keeps its default: a TikTok click does not reach it.
    let tt = app
        .click_and_lead("both", "c-tt", json!({"ttclid": TTCLID}))
        .await;
    assert_eq!(platforms(&tt), ["tiktok"], "{tt}");
}

#[tokio::test]
async fn a_single_platform_campaign_sends_every_conversion_by_default() {
    let app = spawn_app().await;
    app.create_campaign("meta", json!({})).await;
    let answer = app.click_and_lead("meta", "c-plain", json!({})).await;
    assert_eq!(platforms(&answer), ["meta"], "{answer}");
    // Set to platform_click, the same click is skipped.
    let resp = app
        .patch_campaign("meta", json!({"meta_send_when": "platform_click"}))
        .await;
    assert_eq!(resp.status(), 200);
    let answer = app.click_and_lead("meta", "c-plain2", json!({})).await;
    assert_eq!(answer["status"], "skipped", "{answer}");
    assert_eq!(answer["reason"], NO_META);
}

#[tokio::test]
async fn send_when_is_created_read_patched_and_checked() {
    let app = spawn_app().await;
    let created = app
        .create_campaign(
            "both",
            json!({"tiktok": tiktok_settings(), "meta_send_when": "always"}),
        )
        .await;
    assert_eq!(created["meta_send_when"], "always");
    assert_eq!(
        created["tiktok"]["send_when"],
        Value::Null,
        "not set: the default"
    );
    assert_eq!(
        created["send_when"],
        json!({"meta": "always", "tiktok": "platform_click"})
    );

    let resp = app
        .patch_campaign("both", json!({"tiktok": {"send_when": "always"}}))
        .await;
    assert_eq!(resp.status(), 200);
    let patched: Value = resp.json().await.unwrap();
    assert_eq!(patched["tiktok"]["send_when"], "always");
    assert_eq!(patched["meta_send_when"], "always", "untouched");

    let resp = app
        .patch_campaign("both", json!({"meta_send_when": null}))
        .await;
    let patched: Value = resp.json().await.unwrap();
    assert_eq!(patched["meta_send_when"], Value::Null);
    assert_eq!(
        patched["send_when"],
        json!({"meta": "platform_click", "tiktok": "always"})
    );
    let read = app.admin_get("/admin/v1/campaigns/both").await;
    assert_eq!(read["send_when"], patched["send_when"]);

    // Removing TikTok: Meta's default follows, now always.
    let resp = app.patch_campaign("both", json!({"tiktok": null})).await;
    let patched: Value = resp.json().await.unwrap();
    assert_eq!(patched["send_when"], json!({"meta": "always"}));

    for (body, field) in [
        (json!({"meta_send_when": "never"}), "meta_send_when "),
        (json!({"tiktok": {"send_when": 3}}), ""),
    ] {
        let resp = app.patch_campaign("both", body.clone()).await;
        assert!(resp.status() == 422 || resp.status() == 400, "{body}");
        if !field.is_empty() {
            let detail = assert_problem(resp, 422, "invalid_field").await;
            assert!(detail.starts_with(field), "{detail}");
        }
    }
    let tiktok_only = app
        .create_campaign(
            "tt",
            json!({"tiktok": tiktok_settings(), "pixel_id": null, "access_token": null}),
        )
        .await;
    assert_eq!(tiktok_only["send_when"], json!({"tiktok": "always"}));
    let resp = app
        .patch_campaign("tt", json!({"meta_send_when": "always"}))
        .await;
    let detail = assert_problem(resp, 422, "invalid_field").await;
    assert!(detail.starts_with("meta_send_when "), "{detail}");
}
