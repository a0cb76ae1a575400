//! What real trackers and landers send on first contact: unfilled macros, missing page URLs,
//! Orbitra's own status words, and what a user needs to see afterwards.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

async fn answer(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"));
    (status, body)
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn click(app: &TestApp, campaign: &str, click_id: &str, extra: Value) {
    let mut body = json!({"campaign": campaign, "click_id": click_id});
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        body[k] = v;
    }
    let resp = app.register_click(body).await;
    assert_eq!(resp.status(), 201, "register click {click_id}");
}

fn gauge(text: &str, name: &str, state: &str) -> i64 {
    let prefix = format!("{name}{{state=\"{state}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn an_unfilled_status_macro_is_422_records_nothing_and_is_kept_for_the_user() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "kt-1", json!({})).await;

    // Keitaro, Binom and BeMob with their status macros left unfilled, and an empty status.
    for (tracker, query, name) in [
        ("keitaro", "subid=kt-1&status={status}&payout=0", "status"),
        ("binom", "cnv_id=kt-1&cnv_status={cnv_status}", "cnv_status"),
        ("bemob", "cid=kt-1&status={status}&payout=5", "status"),
        ("keitaro", "subid=kt-1&status=&payout=5", "status"),
        ("voluum", "cid=kt-1&et=REPLACE", "et"),
    ] {
        let resp = app
            .client
            .get(format!(
                "{}/v1/postback/{tracker}?key={POSTBACK_KEY}&{}",
                app.address,
                query.replace('{', "%7B").replace('}', "%7D")
            ))
            .send()
            .await
            .unwrap();
        let detail = assert_problem(resp, 422, "unfilled_status").await;
        assert!(detail.starts_with(name), "{detail}");
    }
    assert_eq!(count(&app, "conversions").await, 0);
    assert_eq!(count(&app, "events").await, 0);

    // The user sees what arrived, without the key.
    let list = app.admin_get("/admin/v1/refused-postbacks").await;
    let items = list["refused_postbacks"].as_array().unwrap();
    assert_eq!(items.len(), 5, "{list}");
    assert_eq!(items[4]["tracker"], "keitaro");
    assert_eq!(items[4]["code"], "unfilled_status");
    assert_eq!(
        items[4]["params"],
        json!({"subid": "kt-1", "status": "{status}", "payout": "0"})
    );
    assert!(!list.to_string().contains(POSTBACK_KEY));

    // A NUL in a parameter's name or value is no reason for a 500 (jsonb refuses NUL).
    let (status, body) = answer(
        app.postback("keitaro", "subid=kt-1&%00=x&status=%7Bstatus%7D&n=a%00b")
            .await,
    )
    .await;
    assert_eq!(
        (status, &body["code"]),
        (422, &json!("unfilled_status")),
        "{body}"
    );
    let (status, body) = answer(
        app.postback("keitaro", "subid=kt-1&%00=x&status=lead&n=a%00b")
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // A truly absent status is the dialect's default: a sale, a Purchase.
    let (status, body) = answer(app.postback("keitaro", "subid=kt-1&payout=7").await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["events"][0]["event_name"], "Purchase", "{body}");
}

#[tokio::test]
async fn a_website_event_without_a_page_url_fails_and_a_retry_after_the_campaign_gains_one_rebuilds_it(
) {
    let app = spawn_app().await;
    app.create_campaign("nourl", json!({"landing_url": null}))
        .await;
    // The README's own "Try it" click had no URL.
    click(&app, "nourl", "nu-1", json!({})).await;
    let (status, body) = answer(app.postback("keitaro", "subid=nu-1&status=lead").await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "failed", "{body}");
    let id = body["conversion_id"].as_i64().unwrap();
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .contains("event_source_url"),
        "{body}"
    );
    let view = app.admin_get(&format!("/admin/v1/conversions/{id}")).await;
    assert_eq!(view["state"], "failed", "{view}");
    assert!(
        view["last_error"].as_str().unwrap().contains("landing_url"),
        "{view}"
    );
    assert_eq!(app.deliver().await.delivered, 0);
    assert!(app.graph_requests().await.is_empty(), "never sent");
    let m = app.scrape_metrics().await;
    assert_eq!(gauge(&m, "capi_bridge_conversions", "failed"), 1, "{m}");

    // Retrying without a URL still fails, and says why.
    let resp = app
        .admin(
            Method::POST,
            &format!("/admin/v1/conversions/{id}/retry"),
            None,
        )
        .await;
    let detail = assert_problem(resp, 409, "still_failing").await;
    assert!(detail.contains("event_source_url"), "{detail}");

    // The campaign gains a landing page: the retry builds the event anew and it goes out.
    let resp = app
        .admin(
            Method::PATCH,
            "/admin/v1/campaigns/nourl",
            Some(json!({"landing_url": "https://lp.example.com/nourl"})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let resp = app
        .admin(
            Method::POST,
            &format!("/admin/v1/conversions/{id}/retry"),
            None,
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(app.deliver().await.delivered, 1);
    let events = app.graph_events().await;
    assert_eq!(
        events[0]["event_source_url"],
        "https://lp.example.com/nourl"
    );
    assert_eq!(events[0]["event_id"], "Lead-nu-1");
    let view = app.admin_get(&format!("/admin/v1/conversions/{id}")).await;
    assert_eq!(view["state"], "sent", "{view}");
    let m = app.scrape_metrics().await;
    assert_eq!(gauge(&m, "capi_bridge_conversions", "failed"), 0, "{m}");
    assert_eq!(gauge(&m, "capi_bridge_conversions", "sent"), 1, "{m}");
}

#[tokio::test]
async fn a_failed_event_retried_after_its_campaign_changed_is_rebuilt_with_the_same_event_id() {
    let app = spawn_app().await;
    app.create_campaign("reb", json!({"landing_url": "https://old.example.com/"}))
        .await;
    click(&app, "reb", "rb-1", json!({})).await;
    let (_, body) = answer(app.postback("keitaro", "subid=rb-1&status=lead").await).await;
    let id = body["conversion_id"].as_i64().unwrap();
    // Meta refuses it for good (an invalid parameter), so it is failed with a stored payload.
    app.graph.reset().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(graph_error(
            400,
            100,
            Some(2804019),
            false,
            "Invalid parameter",
        ))
        .mount(&app.graph)
        .await;
    app.deliver().await;
    let view = app.admin_get(&format!("/admin/v1/conversions/{id}")).await;
    assert_eq!(view["state"], "failed", "{view}");
    assert_eq!(
        view["payload"]["event_source_url"],
        "https://old.example.com/"
    );

    app.graph.reset().await;
    mount_graph_ok(&app.graph).await;
    app.admin(
        Method::PATCH,
        "/admin/v1/campaigns/reb",
        Some(json!({"landing_url": "https://new.example.com/"})),
    )
    .await;
    let resp = app
        .admin(Method::POST, "/admin/v1/campaigns/reb/retry-failed", None)
        .await;
    let (status, body) = answer(resp).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"requeued": 1, "still_failed": 0, "more": false})
    );
    assert_eq!(app.deliver().await.delivered, 1);
    let events = app.graph_events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event_source_url"], "https://new.example.com/");
    assert_eq!(events[0]["event_id"], "Lead-rb-1");
}

#[tokio::test]
async fn a_postback_url_is_the_page_of_an_unmatched_conversion() {
    let app = spawn_app_with(&["--unmatched-grace", "0s"]).await;
    app.create_campaign("pb", json!({"landing_url": null}))
        .await;
    let (status, _) = answer(
        app.postback(
            "generic",
            "click_id=pb-1&event=lead&campaign=pb&ua=Mozilla%2F5.0&url=https%3A%2F%2Fshop.example.com%2Fthanks",
        )
        .await,
    )
    .await;
    assert_eq!(status, 202);
    let (status, _) = answer(
        app.postback(
            "generic",
            "click_id=pb-2&event=lead&campaign=pb&ua=Mozilla%2F5.0",
        )
        .await,
    )
    .await;
    assert_eq!(status, 202);
    let report = app.deliver().await;
    assert_eq!(report.delivered, 1, "{report:?}");
    let events = app.graph_events().await;
    assert_eq!(
        events[0]["event_source_url"],
        "https://shop.example.com/thanks"
    );
    let failed = app.admin_get("/admin/v1/conversions?click_id=pb-2").await;
    assert_eq!(failed["conversions"][0]["state"], "failed", "{failed}");
}

#[tokio::test]
async fn orbitra_deposit_is_a_purchase_and_a_zero_payout_lead_has_no_value() {
    let app = spawn_app().await;
    app.create_campaign("orb", json!({})).await;
    click(&app, "orb", "or-1", json!({})).await;
    // Orbitra.link (Keitaro-compatible) fills payout=0 when the network gave none.
    let (_, body) = answer(
        app.postback("keitaro", "subid=or-1&status=lead&payout=0&tid=1")
            .await,
    )
    .await;
    assert_eq!(body["events"][0]["event_name"], "Lead", "{body}");
    let (_, body) = answer(
        app.postback(
            "keitaro",
            "subid=or-1&status=deposit&payout=50&tid=2&currency=USD",
        )
        .await,
    )
    .await;
    assert_eq!(body["events"][0]["event_name"], "Purchase", "{body}");
    assert_eq!(app.deliver().await.delivered, 2);
    let events = app.graph_events().await;
    let lead = events.iter().find(|e| e["event_name"] == "Lead").unwrap();
    assert_eq!(lead["custom_data"], json!({"order_id": "1"}), "{lead}");
    let sale = events
        .iter()
        .find(|e| e["event_name"] == "Purchase")
        .unwrap();
    assert_eq!(
        sale["custom_data"],
        json!({"value": 50.0, "currency": "USD", "order_id": "2"})
    );
}

#[tokio::test]
async fn admin_lists_refuse_unknown_parameters_and_filter_by_click_and_time() {
    let app = spawn_app().await;
    app.create_campaign("flt", json!({})).await;
    for id in ["f-1", "f-2"] {
        click(&app, "flt", id, json!({})).await;
        app.postback("keitaro", &format!("subid={id}&status=lead"))
            .await;
    }
    let resp = app
        .admin(Method::GET, "/admin/v1/conversions?clickid=f-1", None)
        .await;
    let detail = assert_problem(resp, 400, "unknown_parameter").await;
    assert!(detail.contains("clickid"), "{detail}");
    let one = app.admin_get("/admin/v1/conversions?click_id=f-1").await;
    let items = one["conversions"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["click_id"], "f-1");
    let all = app
        .admin_get("/admin/v1/conversions?since=2000-01-01&until=2999-01-01T00:00:00Z")
        .await;
    assert_eq!(all["conversions"].as_array().unwrap().len(), 2);
    let none = app
        .admin_get("/admin/v1/conversions?until=2000-01-01")
        .await;
    assert_eq!(none["conversions"].as_array().unwrap().len(), 0);
    let resp = app
        .admin(Method::GET, "/admin/v1/conversions?since=yesterday", None)
        .await;
    assert_problem(resp, 400, "invalid_parameter").await;
    for path in [
        "/admin/v1/refused-postbacks?x=1",
        "/admin/v1/campaigns?key=flt",
    ] {
        let resp = app.admin(Method::GET, path, None).await;
        assert_problem(resp, 400, "unknown_parameter").await;
    }

    // Metrics and the API agree: the conversions are pending in both, no state the API lacks.
    let m = app.scrape_metrics().await;
    assert_eq!(gauge(&m, "capi_bridge_conversions", "pending"), 2, "{m}");
    assert!(!m.contains("state=\"queued\""), "{m}");
}
