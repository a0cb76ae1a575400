//! Reads over a conversion with one event per platform (issue 14): the conversion's state is
//! the least advanced of its events', counted once in lists, filters and gauges; the admin view
//! and the dashboard page show each platform's delivery. The Meta event comes through a real
//! postback and delivery; the TikTok event next to it is written by SQL, as ingest would.

use capi_bridge::domain::EventState;
use serde_json::{json, Value};

use crate::helpers::ui::sign_in;
use crate::helpers::ui::text_of;
use crate::helpers::*;

/// A TikTok `data[]` element as the platform's event builder makes it.
fn tiktok_payload(event_id: &str) -> Value {
    json!({
        "event": "CompletePayment", "event_time": 1_700_000_000, "event_id": event_id,
        "user": {"ttclid": "E.C.P.raw-ttclid", "ttp": "raw-ttp-cookie",
                 "phone": "a".repeat(64), "ip": "198.51.100.23", "user_agent": "Mozilla/5.0 TT"},
        "properties": {"value": 5.0, "currency": "USD"},
    })
}

/// A lead on click `click` of campaign `pr` whose Meta event is delivered; its id.
async fn sent_to_meta(app: &TestApp, click: &str) -> i64 {
    let resp = app
        .register_click(json!({
            "campaign": "pr", "click_id": click, "ttclid": "E.C.P.raw-ttclid",
            "ph": "+1 (555) 010-2030",
        }))
        .await;
    assert_eq!(resp.status(), 201);
    let resp = app
        .postback("keitaro", &format!("subid={click}&status=lead&payout=5"))
        .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(app.deliver().await.delivered, 1);
    sqlx::query_scalar!("SELECT id FROM conversions WHERE click_id = $1", click)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Writes conversion `id`'s TikTok event in `state`, with one attempt when `answer` is given
/// (TikTok's code, message and request id).
async fn tiktok_event(app: &TestApp, id: i64, state: &str, answer: Option<(i32, &str, &str)>) {
    let event_id = format!("tt-{id}");
    let (class, error) = match state {
        "failed" => (Some("invalid"), answer.map(|a| a.1.to_owned())),
        _ => (None, None),
    };
    let row = sqlx::query_scalar!(
        "INSERT INTO events (conversion_id, campaign_id, platform, event_name, event_id, \
            event_time, payload, state, failure_class, last_error, attempts) \
         SELECT id, campaign_id, 'tiktok', 'CompletePayment', $2, event_time, $3, $4, $5, $6, $7 \
         FROM conversions WHERE id = $1 RETURNING id",
        id,
        event_id,
        tiktok_payload(&event_id),
        state,
        class,
        error,
        i32::from(answer.is_some()),
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    if let Some((code, message, request_id)) = answer {
        sqlx::query!(
            "INSERT INTO delivery_attempts (event_row_id, outcome, http_status, error_code, \
                message, fbtrace_id) VALUES ($1, 'invalid', 200, $2, $3, $4)",
            row,
            code,
            message,
            request_id,
        )
        .execute(&app.pool)
        .await
        .unwrap();
    }
}

fn gauge(metrics: &str, series: &str) -> i64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
}

const TT_MESSAGE: &str = "Invalid value for event_id: not a valid string.";

/// Meta sent + TikTok failed, Meta sent + TikTok pending, Meta sent alone. The TikTok events
/// are written after the last delivery: the campaign has no TikTok target, so the worker would
/// park a pending one.
async fn three_conversions(app: &TestApp) -> (i64, i64, i64) {
    app.create_campaign("pr", json!({})).await;
    let failed = sent_to_meta(app, "pr-1").await;
    let pending = sent_to_meta(app, "pr-2").await;
    let sent = sent_to_meta(app, "pr-3").await;
    tiktok_event(app, failed, "failed", Some((40002, TT_MESSAGE, "tt-req-1"))).await;
    tiktok_event(app, pending, "pending", None).await;
    (failed, pending, sent)
}

#[tokio::test]
async fn a_conversion_is_as_far_as_its_least_advanced_event_and_counted_once() {
    let app = spawn_app().await;
    let (failed, pending, sent) = three_conversions(&app).await;

    let list = app.admin_get("/admin/v1/conversions").await;
    let states: Vec<(i64, &str)> = list["conversions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_i64().unwrap(), c["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        vec![(sent, "sent"), (pending, "pending"), (failed, "failed")],
        "one row per conversion, newest first: {list}"
    );
    for (state, want) in [
        ("failed", vec![failed]),
        ("pending", vec![pending]),
        ("sent", vec![sent]),
        ("expired", vec![]),
    ] {
        let page = app
            .admin_get(&format!("/admin/v1/conversions?state={state}"))
            .await;
        let ids: Vec<i64> = page["conversions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, want, "state={state}");
    }

    let m = app.scrape_metrics().await;
    let cases = [
        (r#"capi_bridge_conversions{state="failed"}"#, 1),
        (r#"capi_bridge_conversions{state="pending"}"#, 1),
        (r#"capi_bridge_conversions{state="sent"}"#, 1),
        (r#"capi_bridge_events{platform="meta",state="sent"}"#, 3),
        (r#"capi_bridge_events{platform="tiktok",state="failed"}"#, 1),
        (
            r#"capi_bridge_events{platform="tiktok",state="pending"}"#,
            1,
        ),
        (r#"capi_bridge_events{platform="tiktok",state="sent"}"#, 0),
        (r#"capi_bridge_outbox_depth{platform="meta"}"#, 0),
        (r#"capi_bridge_outbox_depth{platform="tiktok"}"#, 1),
        (
            r#"capi_bridge_delivery_attempts_total{platform="meta",outcome="sent"}"#,
            3,
        ),
    ];
    for (series, want) in cases {
        assert_eq!(gauge(&m, series), want, "{series}");
    }
    let oldest = r#"capi_bridge_outbox_oldest_pending_seconds{platform="tiktok"}"#;
    assert!(m.lines().any(|l| l.starts_with(oldest)), "{m}");
}

/// The SQL aggregate every read uses and the Rust rule agree, for every pair of states.
#[tokio::test]
async fn the_sql_rule_is_the_rust_rule() {
    let app = spawn_app().await;
    for &a in EventState::ALL {
        for &b in EventState::ALL {
            let got = sqlx::query_scalar!(
                "SELECT least_advanced_state(s, NULL) FROM unnest(ARRAY[$1, $2]) AS s",
                a.as_str(),
                b.as_str()
            )
            .fetch_one(&app.pool)
            .await
            .unwrap();
            let want = EventState::least_advanced([a, b]).map(|s| s.as_str().to_owned());
            assert_eq!(got, want, "{a} {b}");
        }
    }
    let none = sqlx::query_scalar!(
        "SELECT least_advanced_state(s, NULL) FROM unnest(ARRAY[]::text[]) AS s"
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(none, None);
}

/// An event cancelled because its platform left the campaign holds nothing back: it counts
/// only when it is the conversion's only event.
#[tokio::test]
async fn a_cancelled_platform_counts_only_alone() {
    let app = spawn_app().await;
    type Events<'a> = &'a [(&'a str, Option<&'a str>)];
    let cases: [(Events, &str); 5] = [
        (
            &[("sent", None), ("failed", Some("platform_removed"))],
            "sent",
        ),
        (
            &[("failed", Some("platform_removed")), ("pending", None)],
            "pending",
        ),
        (&[("failed", Some("platform_removed"))], "failed"),
        (
            &[("expired", None), ("failed", Some("platform_removed"))],
            "expired",
        ),
        (&[("sent", None), ("failed", Some("auth"))], "failed"),
    ];
    for (events, want) in cases {
        let states: Vec<&str> = events.iter().map(|(s, _)| *s).collect();
        let classes: Vec<Option<&str>> = events.iter().map(|(_, c)| *c).collect();
        let got = sqlx::query_scalar!(
            "SELECT least_advanced_state(s, c) FROM unnest($1::text[], $2::text[]) AS t(s, c)",
            &states as &[&str],
            &classes as &[Option<&str>]
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(got.as_deref(), Some(want), "{events:?}");
    }
}

#[tokio::test]
async fn the_admin_view_shows_each_platforms_delivery() {
    let app = spawn_app().await;
    let (failed, _, sent) = three_conversions(&app).await;

    let view = app
        .admin_get(&format!("/admin/v1/conversions/{failed}"))
        .await;
    assert_eq!(view["state"], "failed", "the least advanced: {view}");
    // The top-level event fields stay Meta's.
    let meta_id = view["event_id"].as_str().unwrap();
    assert_ne!(meta_id, format!("tt-{failed}"));
    assert_eq!(view["attempts"], 1);
    assert!(view["sent_at"].is_string(), "{view}");
    assert_eq!(view["ttclid_set"], true);
    assert_eq!(view["tiktok_ph_set"], true);

    let d = view["deliveries"].as_array().unwrap();
    assert_eq!(d.len(), 2, "{view}");
    assert_eq!(
        (&d[0]["platform"], &d[0]["state"], &d[0]["event_id"]),
        (&json!("meta"), &json!("sent"), &json!(meta_id))
    );
    assert_eq!(d[0]["attempts_log"][0]["outcome"], "sent");
    assert_eq!(d[0]["attempts_log"].as_array().unwrap().len(), 1);
    let tt = &d[1];
    let want = json!({
        "platform": "tiktok", "state": "failed", "event_name": "CompletePayment",
        "event_id": format!("tt-{failed}"), "failure_class": "invalid",
        "last_error": TT_MESSAGE, "attempts": 1, "next_attempt_at": null, "sent_at": null,
    });
    for (k, v) in want.as_object().unwrap() {
        assert_eq!(&tt[k], v, "{k}: {tt}");
    }
    assert_eq!(tt["payload"]["event_id"], format!("tt-{failed}"));
    let attempts = tt["attempts_log"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "only TikTok's: {tt}");
    assert_eq!(
        (
            &attempts[0]["error_code"],
            &attempts[0]["message"],
            &attempts[0]["fbtrace_id"]
        ),
        (&json!(40002), &json!(TT_MESSAGE), &json!("tt-req-1"))
    );
    // Every attempt, each saying its platform.
    let all: Vec<&str> = view["attempts_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["platform"].as_str().unwrap())
        .collect();
    assert_eq!(all, vec!["meta", "tiktok"]);

    // Meta alone: one delivery; no TikTok ids on the click.
    let view = app
        .admin_get(&format!("/admin/v1/conversions/{sent}"))
        .await;
    assert_eq!(view["deliveries"].as_array().unwrap().len(), 1);
    assert_eq!(view["state"], "sent");
}

#[tokio::test]
async fn the_dashboard_page_shows_each_platform_without_raw_identifiers() {
    let app = spawn_app().await;
    let (failed, _, _) = three_conversions(&app).await;
    let cookie = sign_in(&app).await;

    let (status, page) = text_of(&app, &format!("/ui/conversions/{failed}"), &cookie).await;
    assert_eq!(status, 200);
    assert!(page.contains("<h2>Meta delivery</h2>"), "{page}");
    assert!(page.contains("<h2>TikTok delivery</h2>"), "{page}");
    let start = page
        .find(r#"<table class="attempts list" id="attempts-tiktok">"#)
        .expect("TikTok's attempts");
    let table = &page[start..start + page[start..].find("</table>").unwrap()];
    for cell in [">40002<", "tt-req-1", TT_MESSAGE, ">invalid<"] {
        assert!(table.contains(cell), "{cell} in {table}");
    }
    assert!(
        page.contains("<dt>Failure class</dt><dd>invalid</dd>"),
        "{page}"
    );
    assert!(page.contains("<dt>ttclid</dt><dd>set</dd>"), "{page}");
    assert!(
        page.contains("<dt>TikTok phone digest</dt><dd>set</dd>"),
        "{page}"
    );
    // TikTok's unhashed fields are hidden like Meta's.
    for raw in [
        "E.C.P.raw-ttclid",
        "raw-ttp-cookie",
        "198.51.100.23",
        "Mozilla/5.0 TT",
    ] {
        assert!(!page.contains(raw), "{raw} shown");
    }
    assert!(page.contains(&format!("&quot;event_id&quot;: &quot;tt-{failed}&quot;")));
    // The failed TikTok event can be retried though Meta's is sent.
    assert!(page.contains(&format!(r#"action="/ui/conversions/{failed}/retry""#)));
}

#[tokio::test]
async fn the_quality_report_has_each_platform_on_its_own_keys() {
    let app = spawn_app().await;
    let (_, pending, _) = three_conversions(&app).await;
    sqlx::query!(
        "UPDATE events SET state = 'sent', sent_at = now() WHERE conversion_id = $1 \
         AND platform = 'tiktok'",
        pending
    )
    .execute(&app.pool)
    .await
    .unwrap();

    let report = app.admin_get("/admin/v1/campaigns/pr/quality").await;
    let names: Vec<&str> = report["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_name"].as_str().unwrap())
        .collect();
    assert!(
        !names.contains(&"CompletePayment"),
        "events stay Meta's: {report}"
    );
    let platforms = report["platforms"].as_array().unwrap();
    let kinds: Vec<&str> = platforms
        .iter()
        .map(|p| p["platform"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["meta", "tiktok"], "{report}");
    assert_eq!(platforms[0]["events"], report["events"]);
    let tt = &platforms[1]["events"][0];
    assert_eq!(tt["event_name"], "CompletePayment");
    assert_eq!(
        (&tt["sent"], &tt["failed"], &tt["pending"]),
        (&json!(1), &json!(1), &json!(0)),
        "{tt}"
    );
    let keys = tt["keys"].as_object().unwrap();
    let mut listed: Vec<&str> = keys.keys().map(String::as_str).collect();
    listed.sort_unstable();
    assert_eq!(
        listed,
        vec![
            "email",
            "external_id",
            "ip",
            "phone",
            "ttclid",
            "ttp",
            "user_agent"
        ]
    );
    for (key, share) in [("ttclid", 1.0), ("phone", 1.0), ("email", 0.0)] {
        assert_eq!(keys[key]["share"], share, "{key}: {tt}");
    }
    assert_eq!(tt["top_failure_reasons"][0]["reason"], TT_MESSAGE);

    let cookie = sign_in(&app).await;
    let (_, page) = text_of(&app, "/ui/campaigns/pr", &cookie).await;
    assert!(page.contains(r#"<table id="quality-tiktok">"#), "{page}");
    assert!(page.contains("Share of sent TikTok events carrying each match key"));
    assert!(page.contains(r#"<th scope="row">ttclid</th>"#), "{page}");
}

/// Erasure reaches every platform's event of the click's conversions.
#[tokio::test]
async fn erasing_a_click_erases_every_platforms_payload() {
    let app = spawn_app().await;
    let (_, pending, _) = three_conversions(&app).await;
    let resp = app
        .admin(reqwest::Method::DELETE, "/admin/v1/clicks/pr-2", None)
        .await;
    assert_eq!(resp.status(), 200);
    let rows = sqlx::query!(
        "SELECT platform, state, failure_class, payload IS NULL AS \"erased!\" FROM events \
         WHERE conversion_id = $1 ORDER BY platform",
        pending
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let got: Vec<(String, String, Option<String>, bool)> = rows
        .into_iter()
        .map(|r| (r.platform, r.state, r.failure_class, r.erased))
        .collect();
    assert_eq!(
        got,
        vec![
            ("meta".into(), "sent".into(), None, true),
            (
                "tiktok".into(),
                "failed".into(),
                Some("erased".into()),
                true
            ),
        ]
    );
}
