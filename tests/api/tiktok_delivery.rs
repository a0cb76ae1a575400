//! One postback, two platforms: Meta and TikTok each get the conversion with the event id its
//! own pixel got, each is retried, parked and cancelled on its own, and campaigns from before
//! TikTok keep working unchanged. Here: the fan-out and TikTok's digests; TikTok failing in
//! `failures.rs`; campaigns gaining and losing TikTok in `campaigns.rs`.

mod campaigns;
mod failures;

use std::collections::HashMap;

use capi_bridge::delivery::TickReport;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Respond};

use crate::helpers::outbox::{counts, event_states, make_due_now};
use crate::helpers::tiktok::{
    tiktok_settings, FakeTikTok, FAKE_REQUEST_ID, TIKTOK_PIXEL, TIKTOK_TOKEN,
};
use crate::helpers::*;

const TTCLID: &str = "E.C.P.CqgBx9Z3eWc-Ab_1";
const TTP: &str = "2Nf3kJ8qL0xYzAbCdEfGhIjKlMn";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Registers `click` (a JSON click body without campaign and click id) and sends a generic lead
/// postback for it; returns the postback's `events` answer.
async fn lead(app: &TestApp, campaign: &str, click_id: &str, click: Value) -> Value {
    let answer = app.click_and_lead(campaign, click_id, click).await;
    assert_eq!(answer["status"], "accepted", "{answer}");
    answer["events"].clone()
}

/// `(platform, event id)` of each event a postback answered with.
fn answered(events: &Value) -> Vec<(String, String)> {
    events
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["platform"].as_str().unwrap().to_owned(),
                e["event_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn ids(events: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = events
        .iter()
        .map(|e| e["event_id"].as_str().expect("event_id").to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// One outbox row, as the tests look at it.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    state: String,
    failure_class: Option<String>,
    attempts: i32,
}

/// The outbox by (platform, event id).
async fn outbox(app: &TestApp) -> HashMap<(String, String), Row> {
    let rows: Vec<(String, String, String, Option<String>, i32)> = sqlx::query_as(
        "SELECT platform, event_id, state, failure_class, attempts FROM events ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(p, id, state, failure_class, attempts)| {
            let row = Row {
                state,
                failure_class,
                attempts,
            };
            ((p, id), row)
        })
        .collect()
}

/// Replaces every answer of a fake (and forgets what it received).
async fn answers(server: &MockServer, answer: impl Respond + 'static) {
    server.reset().await;
    Mock::given(any()).respond_with(answer).mount(server).await;
}

fn report(claimed: usize, requests: usize, delivered: usize, retrying: usize) -> TickReport {
    TickReport {
        claimed,
        requests,
        delivered,
        retrying,
        ..TickReport::default()
    }
}

/// The last attempt at TikTok for an event: (outcome, HTTP status, code, trace id).
async fn last_tiktok_attempt(
    app: &TestApp,
    event_id: &str,
) -> (String, Option<i32>, Option<i32>, Option<String>) {
    sqlx::query_as(
        "SELECT a.outcome, a.http_status, a.error_code, a.fbtrace_id FROM delivery_attempts a \
         JOIN events e ON e.id = a.event_row_id \
         WHERE e.platform = 'tiktok' AND e.event_id = $1 ORDER BY a.id DESC LIMIT 1",
    )
    .bind(event_id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

fn sha256(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

// ---------------------------------------------------------------------------------------------
// Fan-out: each platform gets its own pixel's event id
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_postback_reaches_both_platforms_each_with_the_id_its_pixel_registered() {
    let app = spawn_app().await;
    app.create_campaign_with_tiktok("both", json!({})).await;

    let events = lead(
        &app,
        "both",
        "c1",
        json!({
            "event_ids": {"Lead": "fb-lead-c1"},
            "tiktok_event_ids": {"Lead": "tt-lead-c1"},
            "ttclid": TTCLID, "ttp": TTP,
        }),
    )
    .await;
    assert_eq!(
        events,
        json!([
            {"platform": "meta", "event_name": "Lead", "event_id": "fb-lead-c1"},
            {"platform": "tiktok", "event_name": "Lead", "event_id": "tt-lead-c1"},
        ])
    );

    assert_eq!(app.deliver().await, report(2, 2, 2, 0));
    let meta = app.graph_events().await;
    assert_eq!(ids(&meta), ["fb-lead-c1"]);
    assert_eq!(meta[0]["event_name"], "Lead");
    let requests = app.tiktok_requests().await;
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.access_token, TIKTOK_TOKEN);
    assert_eq!(r.body["event_source_id"], TIKTOK_PIXEL);
    assert!(r.body.get("test_event_code").is_none(), "{}", r.body);
    let tt = &r.body["data"][0];
    assert_eq!(
        (&tt["event"], &tt["event_id"]),
        (&json!("Lead"), &json!("tt-lead-c1"))
    );
    assert_eq!(
        (&tt["user"]["ttclid"], &tt["user"]["ttp"]),
        (&json!(TTCLID), &json!(TTP))
    );
    assert_eq!(tt["user"]["user_agent"], BROWSER_UA);
    assert_eq!(tt["page"]["url"], LANDING_URL);

    let rows = outbox(&app).await;
    for key in [("meta", "fb-lead-c1"), ("tiktok", "tt-lead-c1")] {
        let row = &rows[&(key.0.to_owned(), key.1.to_owned())];
        assert_eq!((row.state.as_str(), row.attempts), ("sent", 1), "{key:?}");
    }
    // TikTok's request_id is kept on the attempt as its trace id.
    assert_eq!(
        last_tiktok_attempt(&app, "tt-lead-c1").await,
        ("sent".into(), Some(200), None, Some(FAKE_REQUEST_ID.into()))
    );

    // Sent is final on both sides.
    assert_eq!(app.deliver().await.claimed, 0);
}

#[tokio::test]
async fn without_registered_ids_each_platform_gets_the_template_with_its_own_event_name() {
    let app = spawn_app().await;
    let mut tiktok = tiktok_settings();
    tiktok["event_map"] = json!({"lead": "SubmitForm", "sale": "CompletePayment"});
    app.create_campaign_with_tiktok("tmpl", json!({ "tiktok": tiktok }))
        .await;

    let events = lead(&app, "tmpl", "c2", json!({"ttclid": TTCLID})).await;
    assert_eq!(
        answered(&events),
        [
            ("meta".into(), "Lead-c2".into()),
            ("tiktok".into(), "SubmitForm-c2".into())
        ]
    );
    assert_eq!(app.deliver().await, report(2, 2, 2, 0));
    assert_eq!(ids(&app.graph_events().await), ["Lead-c2"]);
    let tt = app.tiktok_events().await;
    assert_eq!(ids(&tt), ["SubmitForm-c2"]);
    assert_eq!(tt[0]["event"], "SubmitForm");
}

// ---------------------------------------------------------------------------------------------
// Hashing: TikTok's own normalisation, as the fake receives it
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn tiktoks_digests_follow_the_reference_normalisation() {
    let app = spawn_app().await;
    app.create_campaign_with_tiktok("hash", json!({})).await;
    let carol = sha256("carol@example.net");
    let hashed_id = sha256("u_77");
    // (click, em, ph, external_id) as the landing page sends them, and what the reference
    // (docs/reference/tiktok-events.md) makes of them: email trimmed and lowercased, phone in
    // E.164 with the '+', external_id as given (trimmed, case kept: Meta lowercases it), a value
    // that already is a digest passed through.
    let vectors = [
        (
            "h1",
            " Alice.Smith@Example.COM ",
            "+1 (213) 373-4253",
            " CRM-8431 ",
            ("alice.smith@example.com", "+12133734253", "CRM-8431"),
        ),
        (
            "h2",
            "bob@example.org",
            "0044 20 7946 0958",
            hashed_id.as_str(),
            ("bob@example.org", "+442079460958", "u_77"),
        ),
        (
            "h3",
            carol.as_str(),
            "16505551212",
            "42",
            ("carol@example.net", "+16505551212", "42"),
        ),
    ];
    for (click, em, ph, ext, _) in &vectors {
        lead(
            &app,
            "hash",
            click,
            json!({"em": em, "ph": ph, "external_id": ext}),
        )
        .await;
    }
    app.deliver().await;

    let tiktok: HashMap<String, Value> = app
        .tiktok_events()
        .await
        .into_iter()
        .map(|e| (e["event_id"].as_str().unwrap().to_owned(), e))
        .collect();
    let meta: HashMap<String, Value> = app
        .graph_events()
        .await
        .into_iter()
        .map(|e| (e["event_id"].as_str().unwrap().to_owned(), e))
        .collect();
    for (click, _, _, _, (em, ph, ext)) in &vectors {
        let user = &tiktok[&format!("Lead-{click}")]["user"];
        assert_eq!(user["email"], sha256(em), "{click} email");
        assert_eq!(user["phone"], sha256(ph), "{click} phone");
        assert_eq!(user["external_id"], sha256(ext), "{click} external_id");
        // Meta hashes the same number without the '+', and the id lowercased.
        let meta_user = &meta[&format!("Lead-{click}")]["user_data"];
        let first = |v: &'static str| meta_user[v].get(0).unwrap_or(&meta_user[v]).clone();
        assert_eq!(first("ph"), sha256(&ph[1..]), "{click} Meta's phone");
        let meta_ext = sha256(&ext.to_lowercase());
        assert_eq!(first("external_id"), meta_ext, "{click} Meta's external_id");
    }
}
