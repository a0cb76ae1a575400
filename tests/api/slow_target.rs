//! One hanging platform endpoint delays no other delivery (issue 20, item 4). A gate in front of
//! a fake holds one target's requests until the test opens it; the background sender must
//! deliver every other target's events meanwhile, and the held event exactly once after. The
//! delivery timeout is far longer than the test waits, so nothing here passes by a request
//! timing out.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;
use wiremock::MockServer;

use crate::helpers::gate::Gate;
use crate::helpers::tiktok::{tiktok_settings, FakeTikTok, TIKTOK_PIXEL};
use crate::helpers::*;

const HUNG_PIXEL: &str = "1111111111";
const OTHER_PIXEL: &str = "2222222222";

/// A running server (its sender in the background) whose Meta or TikTok requests go through
/// `gate`; `app.graph` and `app.tiktok` are the fakes behind it.
async fn spawn_behind(gate_on: &str, needle: &str, extra: &[&str]) -> (TestApp, Gate) {
    let graph = MockServer::start().await;
    mount_graph_ok(&graph).await;
    let tiktok = MockServer::start().await;
    FakeTikTok::ok().mount(&tiktok).await;
    let behind = if gate_on == "--meta-graph-url" {
        graph.uri()
    } else {
        tiktok.uri()
    };
    let gate = Gate::start(&behind, needle).await;
    let database = fresh_database().await;
    let mut args = vec![
        gate_on,
        gate.uri.as_str(),
        "--delivery-poll-interval",
        "100ms",
        "--delivery-timeout",
        "300s",
    ];
    args.extend(extra);
    let mut app = spawn_on(&database, graph, &args).await;
    app.tiktok = tiktok;
    app.database = Some(database);
    (app, gate)
}

/// Registers click `click_id` on `campaign` and sends its lead postback.
async fn lead(app: &TestApp, campaign: &str, click_id: &str) {
    let click = json!({"campaign": campaign, "click_id": click_id});
    let resp = app.register_click(click).await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let query = format!("click_id={click_id}&status=lead&txid=tx-{click_id}");
    let resp = app.postback("generic", &query).await;
    assert_eq!(resp.status(), 200, "postback {click_id}");
}

/// Each event of the click's conversion: platform -> (state, leased, attempts).
async fn events_of(app: &TestApp, click_id: &str) -> HashMap<String, (String, bool, i32)> {
    sqlx::query_as::<_, (String, String, bool, i32)>(
        "SELECT e.platform, e.state, e.lease_owner IS NOT NULL, e.attempts FROM events e \
         JOIN conversions c ON c.id = e.conversion_id WHERE c.click_id = $1",
    )
    .bind(click_id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
    .into_iter()
    .map(|(p, s, l, a)| (p, (s, l, a)))
    .collect()
}

/// Waits until the clicks' events on `platform` are all sent.
async fn wait_sent(app: &TestApp, platform: &str, clicks: &[&str]) {
    wait_for(
        &format!("{platform} events of {clicks:?} sent"),
        Duration::from_secs(30),
        || async move {
            let mut states = Vec::new();
            for c in clicks {
                states.push(events_of(app, c).await.get(platform).cloned());
            }
            if states
                .iter()
                .all(|s| s.as_ref().is_some_and(|(st, _, _)| st == "sent"))
            {
                Ok(())
            } else {
                Err(format!("{states:?}"))
            }
        },
    )
    .await
}

/// Event id -> how many times it reached the fake.
fn tally<'a>(ids: impl Iterator<Item = &'a str>) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for id in ids {
        *seen.entry(id.to_owned()).or_default() += 1;
    }
    seen
}

async fn event_ids(app: &TestApp, platform: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT event_id FROM events WHERE platform = $1 ORDER BY id")
        .bind(platform)
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_hung_tiktok_delays_no_meta_event_of_its_campaign_or_another() {
    // Every TikTok request mentions the pixel code: TikTok hangs as a whole. One TikTok request
    // per campaign at a time, so the campaign's second TikTok event must wait unclaimed.
    let (app, gate) = spawn_behind(
        "--tiktok-api-url",
        TIKTOK_PIXEL,
        &["--delivery-target-concurrency", "1"],
    )
    .await;
    // Every conversion to both platforms, whatever its click carries (send_when always).
    let mut settings = tiktok_settings();
    settings["send_when"] = json!("always");
    let tiktok = json!({"pixel_id": HUNG_PIXEL, "meta_send_when": "always", "tiktok": settings});
    app.create_campaign("both", tiktok).await;
    app.create_campaign("meta", json!({"pixel_id": OTHER_PIXEL}))
        .await;

    lead(&app, "both", "first").await;
    gate.holding(1).await;
    // While TikTok holds the first conversion's request: a Meta-only campaign's conversion,
    // and a second conversion of the campaign whose TikTok hangs.
    lead(&app, "meta", "other").await;
    lead(&app, "both", "second").await;
    wait_sent(&app, "meta", &["first", "other", "second"]).await;

    assert_eq!(gate.held(), 1, "TikTok still holds the first request");
    assert!(app.tiktok.received_requests().await.unwrap().is_empty());
    let first = events_of(&app, "first").await;
    assert_eq!(first["tiktok"], ("pending".into(), true, 0), "in flight");
    let second = events_of(&app, "second").await;
    assert_eq!(
        second["tiktok"],
        ("pending".into(), false, 0),
        "its target is at its cap: not claimed, so not leased behind the hung request"
    );

    gate.open();
    wait_sent(&app, "tiktok", &["first", "second"]).await;
    for click in ["first", "second"] {
        let evs = events_of(&app, click).await;
        assert_eq!(evs["tiktok"], ("sent".into(), false, 1), "{click}");
        assert_eq!(evs["meta"], ("sent".into(), false, 1), "{click}");
    }
    let tiktok = app.tiktok_events().await;
    let got = tally(tiktok.iter().map(|e| e["event_id"].as_str().unwrap()));
    let want = tally(event_ids(&app, "tiktok").await.iter().map(String::as_str));
    assert_eq!(got, want, "each TikTok event exactly once");
    assert_eq!(want.len(), 2);
    let graph = app.graph_requests().await;
    let sent = graph
        .iter()
        .flat_map(|b| b["data"].as_array().unwrap().iter())
        .map(|e| e["event_id"].as_str().unwrap());
    let want = tally(event_ids(&app, "meta").await.iter().map(String::as_str));
    assert_eq!(tally(sent), want, "each Meta event exactly once");
}

#[tokio::test]
async fn a_hung_pixel_delays_no_other_pixel() {
    let needle = format!("/{HUNG_PIXEL}/");
    let (app, gate) = spawn_behind("--meta-graph-url", &needle, &[]).await;
    app.create_campaign("hung", json!({"pixel_id": HUNG_PIXEL}))
        .await;
    app.create_campaign("fine", json!({"pixel_id": OTHER_PIXEL}))
        .await;

    lead(&app, "hung", "held").await;
    gate.holding(1).await;
    lead(&app, "fine", "through").await;
    wait_sent(&app, "meta", &["through"]).await;
    assert_eq!(gate.held(), 1);
    let held = events_of(&app, "held").await;
    assert_eq!(held["meta"], ("pending".into(), true, 0), "in flight");
    let fake = app.graph_requests().await;
    assert_eq!(fake.len(), 1, "only the other pixel's request reached Meta");

    gate.open();
    wait_sent(&app, "meta", &["held"]).await;
    assert_eq!(events_of(&app, "held").await["meta"].2, 1);
    let graph = app.graph_requests().await;
    let sent = graph
        .iter()
        .flat_map(|b| b["data"].as_array().unwrap().iter())
        .map(|e| e["event_id"].as_str().unwrap());
    let want = tally(event_ids(&app, "meta").await.iter().map(String::as_str));
    assert_eq!(want.len(), 2);
    assert_eq!(tally(sent), want, "each event exactly once");
}
