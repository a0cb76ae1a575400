//! Payouts end to end: a Purchase without one is flagged `no_payout` (admin API, conversion page,
//! campaign page), the raw payout is shown next to the value it was read as, a refund is
//! recorded and never sent, and the campaign page's test URLs answer what its hint says.

use serde_json::{json, Value};

use crate::helpers::ui::{get_page, sign_in};
use crate::helpers::*;

async fn page(app: &TestApp, path: &str, cookie: &str) -> String {
    let resp = get_page(app, path, cookie).await;
    assert_eq!(resp.status(), 200, "{path}");
    resp.text().await.unwrap()
}

/// Registers `click_id` on `campaign` and posts it back in Keitaro's dialect; the answer.
async fn converted(app: &TestApp, campaign: &str, click_id: &str, rest: &str) -> Value {
    let resp = app
        .register_click(json!({"campaign": campaign, "click_id": click_id}))
        .await;
    assert_eq!(resp.status(), 201);
    let resp = app
        .postback("keitaro", &format!("subid={click_id}&{rest}"))
        .await;
    assert_eq!(resp.status(), 200, "{click_id}");
    resp.json().await.unwrap()
}

#[tokio::test]
async fn a_purchase_without_payout_is_flagged_on_the_conversion_and_counted_on_the_campaign() {
    let app = spawn_app().await;
    app.create_campaign("np", json!({})).await;
    app.create_campaign("fixed", json!({"value_source": 25}))
        .await;
    let none = converted(&app, "np", "np-1", "status=sale&tid=t1").await;
    let paid = converted(&app, "np", "np-2", "status=sale&revenue=1,500&tid=t2").await;
    let lead = converted(&app, "np", "np-3", "status=lead").await;
    let fixed = converted(&app, "fixed", "fx-1", "status=sale&tid=t4").await;
    let cases = [
        (&none, true, "a Purchase without payout"),
        (&paid, false, "a Purchase with one"),
        (&lead, false, "a Lead without payout"),
        (&fixed, false, "a fixed value_source"),
    ];
    for (answer, flagged, what) in cases {
        assert_eq!(answer["status"], "accepted", "{what}: {answer}");
        let id = answer["conversion_id"].as_i64().unwrap();
        let view = app.admin_get(&format!("/admin/v1/conversions/{id}")).await;
        assert_eq!(view["no_payout"], flagged, "{what}: {view}");
    }
    app.deliver().await;
    let values: Vec<(Value, Value)> = app
        .graph_events()
        .await
        .iter()
        .map(|e| (e["event_name"].clone(), e["custom_data"]["value"].clone()))
        .collect();
    for want in [
        (json!("Purchase"), json!(0.0)),
        (json!("Purchase"), json!(1500.0)),
        (json!("Purchase"), json!(25.0)),
    ] {
        assert!(values.contains(&want), "{want:?} in {values:?}");
    }

    let cookie = sign_in(&app).await;
    let id = |a: &Value| a["conversion_id"].as_i64().unwrap();
    let flagged = page(&app, &format!("/ui/conversions/{}", id(&none)), &cookie).await;
    assert!(flagged.contains(r#"id="no-payout""#), "{flagged}");
    assert!(
        !flagged.contains(r#"id="raw-payout""#),
        "no payout was received"
    );
    let read = page(&app, &format!("/ui/conversions/{}", id(&paid)), &cookie).await;
    assert!(!read.contains(r#"id="no-payout""#));
    assert!(
        read.contains(r#"<dd id="raw-payout"><code>revenue=1,500</code></dd>"#),
        "{read}"
    );
    assert!(read.contains(r#"<dd id="value">1500 USD</dd>"#), "{read}");
    let campaign = page(&app, "/ui/campaigns/np", &cookie).await;
    assert!(
        campaign.contains(r#"<dd id="no-payout-count">1 — their postbacks carried no payout"#),
        "{campaign}"
    );
    let campaign = page(&app, "/ui/campaigns/fixed", &cookie).await;
    assert!(
        campaign.contains(r#"<dd id="no-payout-count">0</dd>"#),
        "{campaign}"
    );
}

#[tokio::test]
async fn a_refund_is_recorded_with_its_reason_and_never_sent() {
    let app = spawn_app().await;
    app.create_campaign("rf", json!({})).await;
    let answer = converted(&app, "rf", "rf-1", "status=sale&payout=-12.50&tid=r1").await;
    assert_eq!(answer["status"], "skipped", "{answer}");
    let reason = answer["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("refund: the payout is negative (-12.5)"),
        "{reason}"
    );
    let id = answer["conversion_id"].as_i64().unwrap();
    let view = app.admin_get(&format!("/admin/v1/conversions/{id}")).await;
    assert_eq!(view["state"], "skipped", "{view}");
    assert_eq!(view["params"]["payout"], "-12.50", "{view}");
    app.deliver().await;
    assert!(app.graph_requests().await.is_empty(), "nothing sent");
}

/// The input's value (HTML-unescaped) of `id` on a page.
fn input_value(page: &str, id: &str) -> String {
    let at = page
        .find(&format!(r#"<input id="{id}" type="text" readonly value=""#))
        .unwrap_or_else(|| panic!("no #{id}"));
    let rest = &page[at..];
    let start = rest.find("value=\"").unwrap() + 7;
    let len = rest[start..].find('"').unwrap();
    rest[start..start + len].replace("&amp;", "&")
}

#[tokio::test]
async fn the_campaign_pages_urls_answer_what_its_hint_says() {
    let app = spawn_app().await;
    app.create_campaign("hint", json!({})).await;
    let cookie = sign_in(&app).await;
    let page = page(&app, "/ui/campaigns/hint", &cookie).await;
    assert!(
        page.contains("422 unfilled_status") && page.contains("400 missing_click_id"),
        "{page}"
    );
    for u in capi_bridge::trackers::POSTBACK_URLS {
        // The URL as copied, sent as written: no click id.
        let copied = input_value(&page, &format!("postback-{}", u.id));
        assert!(copied.ends_with("&campaign=hint"), "{copied}");
        let literal = copied.replace('{', "%7B").replace('}', "%7D");
        let resp = app.client.get(&literal).send().await.unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(
            (status, &body["code"]),
            (400, &json!("missing_click_id")),
            "{literal}: {body}"
        );
        // Its test URL: the sample click id, the status unfilled.
        let test = input_value(&page, &format!("postback-test-{}", u.id));
        assert!(test.contains("=test-click-1&"), "{test}");
        let resp = app.client.get(&test).send().await.unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(
            (status, &body["code"]),
            (422, &json!("unfilled_status")),
            "{test}: {body}"
        );
    }
    let conversions = app.admin_get("/admin/v1/conversions").await;
    assert_eq!(conversions["conversions"], json!([]), "nothing recorded");
}
