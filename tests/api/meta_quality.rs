//! Meta's Dataset Quality figures: the fetch loop (schedule, one call per pixel whatever the
//! processes and campaigns, token fallback, errors stored with advice, history, retention), the
//! admin API and the on-demand limit, and delivery never waiting on it.

use std::time::Duration;

use capi_bridge::domain::meta_quality::FetchOutcome;
use capi_bridge::meta_quality::QualityFetcher;
use capi_bridge::storage::meta_quality as store;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::dataset_quality::{full_event, FakeQuality, TokenAccess};
use crate::helpers::quality::{fetcher, PIXEL, SIX_HOURS};
use crate::helpers::{
    assert_problem, queue_lead_via, spawn_app, spawn_app_with, wait_for, TestApp, ACCESS_TOKEN,
};

const OTHER_PIXEL: &str = "5550001";
const NEWER_TOKEN: &str = "EAAnewer-campaign-token-123456";

async fn outcomes(f: &QualityFetcher) -> Vec<(String, FetchOutcome)> {
    let mut got = f.round().await.expect("round").fetched;
    got.sort();
    got
}

async fn refresh(app: &TestApp, key: &str) -> reqwest::Response {
    let path = format!("/admin/v1/campaigns/{key}/meta-quality/refresh");
    app.admin(Method::POST, &path, None).await
}

/// `older` and `newer` on PIXEL (newer updated last), `other` on OTHER_PIXEL, `off` disabled.
async fn four_campaigns(app: &TestApp) {
    app.create_campaign("older", json!({})).await;
    app.create_campaign("newer", json!({"access_token": NEWER_TOKEN}))
        .await;
    app.create_campaign("other", json!({"pixel_id": OTHER_PIXEL}))
        .await;
    app.create_campaign("off", json!({"pixel_id": "999", "enabled": false}))
        .await;
}

#[tokio::test]
async fn each_pixel_is_fetched_once_per_round_whatever_the_processes_and_kept_as_history() {
    let app = spawn_app().await;
    let fake = FakeQuality::mount(&app.graph, "v26.0").await;
    fake.pixel(
        PIXEL,
        json!([full_event("Lead", 7.2, 40.0), {"event_name": "PageView"}]),
    )
    .pixel(OTHER_PIXEL, json!([full_event("Lead", 5.1, 10.0)]))
    .token(ACCESS_TOKEN, TokenAccess::Reads)
    .token(NEWER_TOKEN, TokenAccess::Reads);
    four_campaigns(&app).await;

    // Two processes on one database, at once: each pixel once, the disabled one never.
    let (a, b) = (fetcher(&app, SIX_HOURS), fetcher(&app, SIX_HOURS));
    let (ra, rb) = tokio::join!(a.round(), b.round());
    let mut both: Vec<_> = ra
        .unwrap()
        .fetched
        .into_iter()
        .chain(rb.unwrap().fetched)
        .collect();
    both.sort();
    assert_eq!(
        both,
        vec![
            (PIXEL.into(), FetchOutcome::Scored),
            (OTHER_PIXEL.into(), FetchOutcome::Scored)
        ]
    );
    let requests = fake.requests(&app.graph).await;
    assert_eq!(requests.len(), 2, "{requests:?}");
    let on_pixel = requests.iter().find(|r| r.dataset_id == PIXEL).unwrap();
    assert_eq!(
        on_pixel.token, NEWER_TOKEN,
        "the most recently updated campaign's token"
    );
    assert_eq!(on_pixel.agent_name.as_deref(), Some("capi-bridge"));
    let web = &on_pixel
        .fields
        .iter()
        .find(|f| f.name == "web")
        .unwrap()
        .sub;
    let web: Vec<&str> = web
        .as_ref()
        .unwrap()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    for metric in [
        "event_match_quality",
        "event_coverage",
        "dedupe_key_feedback",
        "acr",
    ] {
        assert!(web.contains(&metric), "{web:?}");
    }

    // Not due again for six hours, in either process.
    assert_eq!(outcomes(&a).await, vec![]);
    assert_eq!(outcomes(&b).await, vec![]);
    sqlx::query("UPDATE meta_quality_pixels SET next_fetch_at = now()")
        .execute(&app.pool)
        .await
        .unwrap();
    fake.pixel(PIXEL, json!([full_event("Lead", 7.9, 45.0)]));
    assert_eq!(outcomes(&b).await.len(), 2);

    let got = app
        .admin_get("/admin/v1/campaigns/older/meta-quality?days=30")
        .await;
    assert_eq!(got["pixel_id"], PIXEL);
    assert_eq!(got["last_fetch"]["outcome"], "scored", "{got}");
    let events = got["events"].as_array().unwrap();
    let lead = events.iter().find(|e| e["event_name"] == "Lead").unwrap();
    assert_eq!(lead["emq"], 7.9);
    assert_eq!(lead["event_coverage_percent"], 45.0);
    assert_eq!(lead["acr_percent"], 37.9);
    assert_eq!(
        lead["dedupe_key_feedback"]["event_id_browser_percent"],
        80.0
    );
    assert_eq!(lead["upload_frequency"], "real_time");
    let keys: Vec<(&str, &str)> = lead["match_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["key"].as_str().unwrap(),
                k["meta_identifier"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        vec![
            ("em", "email"),
            ("client_ip_address", "ip_address"),
            ("fbc", "fbc")
        ]
    );
    assert!(lead["diagnostics"][0]["solution"]
        .as_str()
        .unwrap()
        .contains("client_ip_address"));
    // Meta's fbc coverage is low and none of our (zero) events carried fbc: the rule says so.
    let advice = lead["advice"].as_array().unwrap();
    assert_eq!(advice.len(), 1, "{lead}");
    assert_eq!(advice[0]["rule"], "fbclid_dropped");
    assert_eq!(
        advice[0]["because"],
        "Meta's fbc coverage 20%, our events with fbc 0%"
    );
    // The pixel-only event of the first fetch is kept, without a score.
    let view = events
        .iter()
        .find(|e| e["event_name"] == "PageView")
        .unwrap();
    assert_eq!(view["emq"], Value::Null);
    let lead_history: Vec<&Value> = got["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["event_name"] == "Lead")
        .map(|h| &h["emq"])
        .collect();
    assert_eq!(lead_history, vec![&json!(7.2), &json!(7.9)]);
}

#[tokio::test]
async fn token_errors_fall_back_to_the_next_campaign_and_are_stored_with_what_to_do() {
    let app = spawn_app().await;
    let fake = FakeQuality::mount(&app.graph, "v26.0").await;
    fake.pixel(PIXEL, json!([full_event("Lead", 6.4, 40.0)]))
        .pixel(OTHER_PIXEL, json!([{"event_name": "Lead"}]))
        .token(ACCESS_TOKEN, TokenAccess::Reads)
        .token(NEWER_TOKEN, TokenAccess::NoRights);
    four_campaigns(&app).await;
    // New pixels are due at once; later rounds are forced.
    let f = fetcher(&app, SIX_HOURS);
    let force = || async {
        sqlx::query("UPDATE meta_quality_pixels SET refresh_requested = true")
            .execute(&app.pool)
            .await
            .unwrap();
    };

    // The newer campaign's token may not read quality: the older one's may.
    assert_eq!(
        outcomes(&f).await,
        vec![
            (PIXEL.into(), FetchOutcome::Scored),
            (OTHER_PIXEL.into(), FetchOutcome::NoScoreYet)
        ]
    );
    let tokens: Vec<String> = fake
        .requests(&app.graph)
        .await
        .into_iter()
        .filter(|r| r.dataset_id == PIXEL)
        .map(|r| r.token)
        .collect();
    assert_eq!(
        tokens,
        vec![NEWER_TOKEN.to_owned(), ACCESS_TOKEN.to_owned()]
    );
    let other = app
        .admin_get("/admin/v1/campaigns/other/meta-quality")
        .await;
    assert_eq!(other["last_fetch"]["outcome"], "no_score_yet");
    assert!(other["last_fetch"]["message"]
        .as_str()
        .unwrap()
        .contains("no Event Match Quality score"));

    // Both tokens revoked: the usual (newest) one is reported, with Meta's code and the fix.
    fake.revoke(ACCESS_TOKEN);
    fake.revoke(NEWER_TOKEN);
    force().await;
    assert!(outcomes(&f)
        .await
        .contains(&(PIXEL.into(), FetchOutcome::TokenInvalid)));
    let got = app
        .admin_get("/admin/v1/campaigns/newer/meta-quality")
        .await;
    assert_eq!(got["last_fetch"]["outcome"], "token_invalid", "{got}");
    assert_eq!(got["last_fetch"]["graph_code"], 190);
    let message = got["last_fetch"]["message"].as_str().unwrap();
    assert!(message.contains("Generate a new token"), "{message}");
    assert!(!message.contains(ACCESS_TOKEN), "{message}");
    // The earlier figures stay.
    assert_eq!(got["events"][0]["emq"], 6.4);

    // The usual token lacks rights, the other is revoked: the usual one is reported.
    fake.token(NEWER_TOKEN, TokenAccess::NoRights);
    force().await;
    assert!(outcomes(&f)
        .await
        .contains(&(PIXEL.into(), FetchOutcome::MissingRights)));
    let got = app
        .admin_get("/admin/v1/campaigns/older/meta-quality")
        .await;
    assert!(got["last_fetch"]["message"]
        .as_str()
        .unwrap()
        .contains("Manage Pixel"));
}

#[tokio::test]
async fn refresh_is_accepted_once_a_minute_per_pixel_and_fetched_at_the_next_round() {
    let app = spawn_app().await;
    let fake = FakeQuality::mount(&app.graph, "v26.0").await;
    fake.pixel(PIXEL, json!([full_event("Lead", 7.0, 40.0)]))
        .token(NEWER_TOKEN, TokenAccess::Reads);
    four_campaigns(&app).await;
    app.create_campaign_with_tiktok(
        "tiktok-only",
        json!({"pixel_id": null, "access_token": null}),
    )
    .await;
    let f = fetcher(&app, None);
    assert_eq!(
        outcomes(&f).await,
        vec![],
        "META_QUALITY_INTERVAL=off: nothing scheduled"
    );

    let resp = refresh(&app, "older").await;
    assert_eq!(resp.status(), 202);
    // The other campaign on the same pixel shares its limit.
    let resp = refresh(&app, "newer").await;
    let wait: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_problem(resp, 429, "rate_limited").await;
    // Another pixel has its own.
    assert_eq!(refresh(&app, "other").await.status(), 202);

    fake.token(ACCESS_TOKEN, TokenAccess::Reads);
    let got = outcomes(&f).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(outcomes(&f).await, vec![], "one fetch per request");

    assert_problem(refresh(&app, "tiktok-only").await, 422, "no_meta_pixel").await;
    assert_problem(refresh(&app, "nope").await, 404, "campaign_not_found").await;
    for days in ["0", "91", "x"] {
        let path = format!("/admin/v1/campaigns/older/meta-quality?days={days}");
        assert_problem(
            app.admin(Method::GET, &path, None).await,
            400,
            "invalid_parameter",
        )
        .await;
    }
    let path = "/admin/v1/campaigns/older/meta-quality";
    let resp = app.client.get(app.url(path)).send().await.unwrap();
    assert_problem(resp, 401, "unauthorized").await;
}

#[tokio::test]
async fn old_snapshots_are_deleted_by_their_own_retention() {
    let app = spawn_app().await;
    let fake = FakeQuality::mount(&app.graph, "v26.0").await;
    fake.pixel(PIXEL, json!([full_event("Lead", 7.0, 40.0)]))
        .token(ACCESS_TOKEN, TokenAccess::Reads);
    app.create_campaign("only", json!({})).await;
    let f = fetcher(&app, SIX_HOURS);
    assert_eq!(outcomes(&f).await.len(), 1);
    sqlx::query("UPDATE meta_quality_pixels SET next_fetch_at = now()")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(outcomes(&f).await.len(), 1);
    sqlx::query(
        "UPDATE meta_quality_fetches SET fetched_at = now() - interval '91 days' \
         WHERE id = (SELECT min(id) FROM meta_quality_fetches)",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let ninety_days = Duration::from_secs(90 * 86400);
    assert_eq!(
        store::apply_retention(&app.pool, ninety_days, 1)
            .await
            .unwrap(),
        1
    );
    let left: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM meta_quality_fetches), \
                (SELECT count(*) FROM meta_quality_snapshots)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(left, (1, 1));
}

#[tokio::test]
async fn a_hanging_quality_endpoint_never_delays_delivery() {
    let app = spawn_app_with(&[
        "--delivery-poll-interval",
        "50ms",
        "--delivery-timeout",
        "4s",
        "--meta-quality-interval",
        "1h",
        "--meta-quality-poll",
        "100ms",
    ])
    .await;
    let fake = FakeQuality::mount(&app.graph, &app.api_version).await;
    fake.pixel(PIXEL, json!([full_event("Lead", 7.0, 40.0)]))
        .token(ACCESS_TOKEN, TokenAccess::Reads);
    fake.hang(Duration::from_secs(60));
    app.create_campaign("busy", json!({})).await;
    wait_for(
        "the quality fetch to start",
        Duration::from_secs(5),
        || async {
            let n = fake.requests(&app.graph).await.len();
            if n == 1 {
                Ok(())
            } else {
                Err(format!("{n} requests"))
            }
        },
    )
    .await;

    let started = std::time::Instant::now();
    let event_id = queue_lead_via(&app.client, &app.address, "busy", "hang-1").await["events"][0]
        ["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_for("the event delivered", Duration::from_secs(3), || async {
        let state: String =
            sqlx::query_scalar("SELECT state::text FROM events WHERE event_id = $1")
                .bind(&event_id)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        if state == "sent" {
            Ok(())
        } else {
            Err(state)
        }
    })
    .await;
    assert!(started.elapsed() < Duration::from_secs(3));
    // The event named the bridge as its partner agent.
    let sent = app.graph.received_requests().await.unwrap();
    let post = sent.iter().find(|r| r.method.as_str() == "POST").unwrap();
    let body: Value = serde_json::from_slice(&post.body).unwrap();
    assert_eq!(body["partner_agent"], "capi-bridge");

    // The fetch fails on its own timeout and says so; the event is untouched by it.
    let got = wait_for("the fetch's outcome", Duration::from_secs(8), || async {
        let got = app.admin_get("/admin/v1/campaigns/busy/meta-quality").await;
        if got["last_fetch"].is_null() {
            Err(got.to_string())
        } else {
            Ok(got)
        }
    })
    .await;
    assert_eq!(got["last_fetch"]["outcome"], "unreachable", "{got}");
    assert!(
        got["last_fetch"]["message"]
            .as_str()
            .unwrap()
            .contains("timeout"),
        "{got}"
    );
}
