//! What Meta and TikTok receive of a visitor's click: the `fbc` built from a postback's fbclid
//! when no click was registered, a built `fbc` never created after its event (a `_fbc` cookie
//! byte for byte), and never a loopback or private client address. Asserted on what the fakes
//! received.

use serde_json::{json, Value};

use crate::helpers::*;

/// Unix seconds now.
fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The event the fake Graph API received with this event id.
fn meta_event<'a>(events: &'a [Value], event_id: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["event_id"] == event_id)
        .unwrap_or_else(|| panic!("Meta got no event {event_id}: {events:?}"))
}

/// `fb.1.<ms>.<fbclid>` split into its creation ms and fbclid.
fn fbc_parts(fbc: &Value) -> (i64, String) {
    let fbc = fbc.as_str().unwrap_or_else(|| panic!("no fbc: {fbc}"));
    let rest = fbc.strip_prefix("fb.1.").expect("a built fbc");
    let (ms, fbclid) = rest.split_once('.').expect("fb.1.<ms>.<fbclid>");
    (ms.parse().expect("milliseconds"), fbclid.to_owned())
}

#[tokio::test]
async fn an_unmatched_postback_with_an_fbclid_gets_an_fbc_no_later_than_its_event() {
    let app = spawn_app_with(&["--unmatched-grace", "0s"]).await;
    app.create_campaign("direct", json!({})).await;
    // The tracker's own event time (two minutes ago), and one without: the arrival time.
    let at = now_secs() - 120;
    for query in [
        format!(
            "click_id=dl-1&event=lead&campaign=direct&ua=Mozilla%2F5.0\
             &fbclid=IwAR_Direct-MiXeD_1&event_time={at}"
        ),
        "click_id=dl-2&event=lead&campaign=direct&ua=Mozilla%2F5.0&fbclid=IwAR_Direct-2".to_owned(),
    ] {
        let resp = app.postback("generic", &query).await;
        assert_eq!(resp.status(), 202, "{query}");
    }
    let report = app.deliver().await;
    assert_eq!(report.delivered, 2, "{report:?}");

    let events = app.graph_events().await;
    let tracked = meta_event(&events, "Lead-dl-1");
    assert_eq!(tracked["event_time"], at);
    assert_eq!(
        tracked["user_data"]["fbc"],
        format!("fb.1.{}.IwAR_Direct-MiXeD_1", at * 1000)
    );
    let arrived = meta_event(&events, "Lead-dl-2");
    let event_time = arrived["event_time"].as_i64().unwrap();
    let (created, fbclid) = fbc_parts(&arrived["user_data"]["fbc"]);
    assert_eq!(fbclid, "IwAR_Direct-2");
    assert_eq!(created, event_time * 1000, "{arrived}");
}

/// Sets the click's first sight and its conversion's event time (both in the database) to
/// `ms_click` and `ms_event`.
async fn set_times(app: &TestApp, click_id: &str, ms_click: i64, ms_event: i64) {
    let at = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).unwrap();
    sqlx::query("UPDATE clicks SET first_seen_at = $2 WHERE click_id = $1")
        .bind(click_id)
        .bind(at(ms_click))
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE conversions SET event_time = $2 WHERE click_id = $1")
        .bind(click_id)
        .bind(at(ms_event))
        .execute(&app.pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_click_and_postback_in_one_second_build_an_fbc_no_later_than_the_event() {
    let app = spawn_app().await;
    app.create_campaign("same", json!({})).await;
    // The postbacks arrive first, so their events are built when the pass joins the clicks,
    // after the test has put click and conversion in one second: the click at .300, the
    // conversion at .700 (a cookie's own time, later than the event, is not the bridge's).
    let second = now_secs() - 60;
    let cookie = format!("fb.1.{}.IwAR_Cookie-KeptAsIs", second * 1000 + 999);
    for (click_id, extra) in [
        ("same-1", json!({"fbclid": "IwAR_Same-Second"})),
        ("same-2", json!({"fbclid": "IwAR_Other", "fbc": cookie})),
    ] {
        let resp = app
            .postback("keitaro", &format!("subid={click_id}&status=lead"))
            .await;
        assert_eq!(resp.status(), 202, "{click_id}");
        let mut click = json!({"campaign": "same", "click_id": click_id});
        for (k, v) in extra.as_object().unwrap() {
            click[k] = v.clone();
        }
        assert_eq!(app.register_click(click).await.status(), 201, "{click_id}");
        set_times(&app, click_id, second * 1000 + 300, second * 1000 + 700).await;
    }
    let report = app.deliver().await;
    assert_eq!(report.delivered, 2, "{report:?}");

    let events = app.graph_events().await;
    let built = meta_event(&events, "Lead-same-1");
    assert_eq!(built["event_time"], second, "event_time unchanged");
    assert_eq!(
        built["user_data"]["fbc"],
        format!("fb.1.{}.IwAR_Same-Second", second * 1000)
    );
    let kept = meta_event(&events, "Lead-same-2");
    assert_eq!(kept["event_time"], second);
    assert_eq!(kept["user_data"]["fbc"], cookie.as_str(), "byte for byte");
}

/// The value of a metrics line `series value`.
fn metric(metrics: &str, series: &str) -> i64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in {metrics}"))
}

#[tokio::test]
async fn a_loopback_or_private_client_address_reaches_neither_platform() {
    let app = spawn_app_with(&["--unmatched-grace", "0s"]).await;
    app.create_campaign_with_tiktok("addr", json!({})).await;
    // From the browser: the test's requests come from 127.0.0.1, which the click keeps.
    for click_id in ["lo-1", "lo-3"] {
        let resp = app
            .register_click_public(json!({"campaign": "addr", "click_id": click_id}))
            .await;
        assert_eq!(resp.status(), 201, "{click_id}");
    }
    let stored: Option<String> =
        sqlx::query_scalar("SELECT client_ip_address FROM clicks WHERE click_id = 'lo-1'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored.as_deref(), Some("127.0.0.1"));
    for query in [
        "subid=lo-1&status=lead",
        // No click: the tracker passed its own network's address.
        "subid=lo-2&status=lead&campaign=addr&ip=10.1.2.3&ua=Mozilla%2F5.0",
        // A loopback click, a public address from the postback: that one is sent.
        "subid=lo-3&status=lead&ip=198.51.100.4",
    ] {
        let resp = app.postback("keitaro", query).await;
        assert!(resp.status().is_success(), "{query}: {}", resp.status());
    }
    let report = app.deliver().await;
    assert_eq!(report.delivered, 6, "{report:?}");

    let meta = app.graph_events().await;
    let tiktok = app.tiktok_events().await;
    for (click_id, sent) in [
        ("lo-1", None),
        ("lo-2", None),
        ("lo-3", Some("198.51.100.4")),
    ] {
        let event_id = format!("Lead-{click_id}");
        let m = meta_event(&meta, &event_id);
        assert_eq!(
            m["user_data"]["client_ip_address"].as_str(),
            sent,
            "Meta {m}"
        );
        let t = tiktok
            .iter()
            .find(|e| e["event_id"].as_str().unwrap().ends_with(click_id))
            .unwrap_or_else(|| panic!("TikTok got no event of {click_id}: {tiktok:?}"));
        assert_eq!(t["user"]["ip"].as_str(), sent, "TikTok {t}");
    }
    // Counted (the counter is the process's: other tests' loopback clicks count too).
    let m = app.scrape_metrics().await;
    for (platform, source, at_least) in [("meta", "click", 2), ("tiktok", "click", 2)] {
        let series =
            format!(r#"capi_bridge_nonpublic_ip_total{{platform="{platform}",source="{source}"}}"#);
        assert!(metric(&m, &series) >= at_least, "{series}");
    }
    // A postback's private `ip` never gets that far: dropped and reported on arrival.
    assert_eq!(
        metric(&m, r#"capi_bridge_dropped_fields_total{field="ip"}"#),
        1
    );
}
