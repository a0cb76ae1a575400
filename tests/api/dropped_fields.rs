//! Only what identifies a conversion refuses a postback: every other unusable field is dropped,
//! reported (answer, conversion view, metrics) and the conversion recorded and sent without it.

use serde_json::{json, Value};

use crate::helpers::*;

async fn postback(app: &TestApp, tracker: &str, query: &str) -> (u16, Value) {
    let resp = app.postback(tracker, query).await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_bad_match_key_or_value_is_dropped_and_the_conversion_recorded() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let resp = app
        .register_click(json!({"campaign": "offer1", "click_id": "bad-1"}))
        .await;
    assert_eq!(resp.status(), 201);
    // Each of these refused the whole postback with a 422 before, and the conversion was lost.
    let cases = [
        ("keitaro", "subid=bad-1&payout=ten", "payout"),
        ("binom", "cnv_id=bad-1&payout=1..2", "payout"),
        ("keitaro", "subid=bad-1&currency=XYZ", "currency"),
        ("voluum", "cid=bad-1&currency=dollars", "currency"),
        ("keitaro", "subid=bad-1&em=user%40example", "em"),
        ("keitaro", "subid=bad-1&ph=12345", "ph"),
        ("keitaro", "subid=bad-1&db=1990-02-30", "db"),
        ("keitaro", "subid=bad-1&country=Atlantis", "country"),
        ("keitaro", "subid=bad-1&ge=x", "ge"),
        ("keitaro", "subid=bad-1&ip=10.1.2.3", "ip"),
        ("keitaro", "subid=bad-1&ip=%3A%3A1", "ip"),
        ("generic", "click_id=bad-1&event_time=soon", "event_time"),
    ];
    for (i, (tracker, query, field)) in cases.iter().enumerate() {
        // A distinct transaction id each, so none is a duplicate of another.
        let txid = match *tracker {
            "keitaro" => format!("tid=t{i}"),
            _ => format!("txid=t{i}"),
        };
        let (status, body) = postback(&app, tracker, &format!("{query}&{txid}")).await;
        assert_eq!(status, 200, "{tracker}?{query}: {body}");
        assert_eq!(body["status"], "accepted", "{body}");
        assert_eq!(body["dropped"][0]["field"], *field, "{query}: {body}");
        let reason = body["dropped"][0]["reason"].as_str().unwrap();
        assert!(!reason.is_empty());

        // The conversion view says the same.
        let id = body["conversion_id"].as_i64().unwrap();
        let view = app.admin_get(&format!("/admin/v1/conversions/{id}")).await;
        assert_eq!(view["dropped"], body["dropped"], "{view}");
    }
    // And Meta got every conversion, without the dropped values.
    let report = app.deliver().await;
    assert_eq!(report.delivered as usize, cases.len(), "{report:?}");
    for event in app.graph_events().await {
        let user = &event["user_data"];
        for key in ["em", "ph", "db", "country", "ge"] {
            assert!(user.get(key).is_none(), "{key} sent: {event}");
        }
        assert!(user
            .get("client_ip_address")
            .is_none_or(|ip| ip != "10.1.2.3"));
        assert_eq!(
            event["custom_data"]["currency"], "USD",
            "the campaign's currency applies"
        );
    }
    let metrics = app.scrape_metrics().await;
    for line in [
        r#"capi_bridge_dropped_fields_total{field="payout"} 2"#,
        r#"capi_bridge_dropped_fields_total{field="ip"} 2"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    }
    // A clean postback's answer has no `dropped`.
    let (_, body) = postback(&app, "keitaro", "subid=bad-1&tid=clean").await;
    assert!(body.get("dropped").is_none(), "{body}");
    let view = app
        .admin_get(&format!("/admin/v1/conversions/{}", body["conversion_id"]))
        .await;
    assert_eq!(view["dropped"], json!([]));
}

#[tokio::test]
async fn what_identifies_a_conversion_still_refuses_it() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let long_status = "s".repeat(65);
    for (query, status, code) in [
        ("status=lead".to_owned(), 400, "missing_click_id"),
        ("subid=a%20b".to_owned(), 422, "invalid_field"),
        ("subid=a&status={status}".to_owned(), 422, "unfilled_status"),
        (
            format!("subid=a&status={long_status}"),
            422,
            "invalid_field",
        ),
        (
            "subid=a&campaign=Not%20a%20key".to_owned(),
            422,
            "invalid_field",
        ),
    ] {
        let (got, body) = postback(&app, "keitaro", &query).await;
        assert_eq!(
            (got, body["code"].as_str()),
            (status, Some(code)),
            "{query}: {body}"
        );
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM conversions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn a_long_txid_is_stored_as_its_digest_and_a_repeat_is_a_duplicate() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let long = "T".repeat(300);
    let query = format!("cid=tx-1&status=sale&payout=5&txid={long}&campaign=offer1");
    let (status, first) = postback(&app, "bemob", &query).await;
    assert_eq!(status, 202, "{first}");
    assert!(first["dropped"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("SHA-256"));
    let (_, again) = postback(&app, "bemob", &query).await;
    assert_eq!(again["status"], "duplicate", "{again}");
    let stored: String = sqlx::query_scalar("SELECT txid FROM conversions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 64);
}

#[tokio::test]
async fn personal_data_never_stays_in_a_url_or_a_kept_parameter() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let url = "https%3A%2F%2Flp.example%2Fthanks%3Femail%3Djo%2540mail.example%26s%3D1";
    let (status, body) = postback(
        &app,
        "keitaro",
        &format!("subid=pii-1&status=lead&campaign=offer1&url={url}&note=jo%40mail.example"),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let (stored_url, params): (Option<String>, Value) =
        sqlx::query_as("SELECT event_source_url, params FROM conversions")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored_url.as_deref(), Some("https://lp.example/thanks?s=1"));
    let text = params.to_string();
    assert!(!text.contains("mail.example"), "{text}");
    assert_eq!(params["url"], "https://lp.example/thanks?s=1");
    // And a click's page URL, sent by a server-side caller.
    let resp = app
        .register_click(json!({
            "campaign": "offer1", "click_id": "pii-2",
            "event_source_url": "https://lp.example/o?phone=%2B1%20650%20555%201212&a=1",
            "referrer_url": "https://ref.example/?e=jo@mail.example",
        }))
        .await;
    assert_eq!(resp.status(), 201);
    let (page, referrer): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT event_source_url, referrer_url FROM clicks WHERE click_id = 'pii-2'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(page.as_deref(), Some("https://lp.example/o?a=1"));
    assert_eq!(referrer.as_deref(), Some("https://ref.example/"));
}

#[tokio::test]
async fn a_clicks_view_and_the_quality_report_show_what_was_dropped() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let resp = app
        .register_click_public(json!({
            "campaign": "offer1", "click_id": "dq-1", "em": "not-an-email", "fbp": "garbage"
        }))
        .await;
    assert_eq!(resp.status(), 201);
    let token = take_update_token(&mut resp.json().await.unwrap());
    let view = app.admin_get("/admin/v1/clicks/dq-1").await;
    let fields: Vec<&str> = view["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["em", "fbp"], "{view}");
    // A later clean registration keeps the report that says what to fix.
    let resp = app
        .register_click_with_token(json!({"campaign": "offer1", "click_id": "dq-1"}), &token)
        .await;
    assert_eq!(resp.status(), 200);
    let view = app.admin_get("/admin/v1/clicks/dq-1").await;
    assert_eq!(view["dropped"].as_array().unwrap().len(), 2, "{view}");

    let (_, body) = postback(&app, "keitaro", "subid=dq-1&status=lead&em=nope&ph=12").await;
    assert_eq!(body["status"], "accepted", "{body}");
    let report = app.admin_get("/admin/v1/campaigns/offer1/quality").await;
    assert_eq!(
        report["dropped_fields"],
        json!({"em": 2, "fbp": 1, "ph": 1}),
        "{report}"
    );
}
