//! Campaigns on TikTok only, campaigns losing TikTok, and campaigns from before TikTok.

use std::collections::HashSet;
use std::path::Path;

use sqlx::migrate::Migrator;

use crate::helpers::outbox::{counts, event_states, make_due_now};
use crate::helpers::tiktok::{FakeTikTok, TIKTOK_PIXEL};
use crate::helpers::tiktok_delivery::*;
use crate::helpers::*;
use serde_json::{json, Value};
use wiremock::MockServer;

// ---------------------------------------------------------------------------------------------
// A campaign on TikTok only; removing TikTok
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_tiktok_only_campaign_never_calls_meta() {
    let app = spawn_app().await;
    let created = app
        .create_campaign_with_tiktok("ttonly", json!({"pixel_id": null, "access_token": null}))
        .await;
    assert_eq!(created["pixel_id"], Value::Null, "{created}");
    assert_eq!(created["access_token_set"], false, "{created}");
    assert_eq!(created["tiktok"]["pixel_code"], TIKTOK_PIXEL, "{created}");

    let events = lead(
        &app,
        "ttonly",
        "t1",
        json!({"tiktok_event_ids": {"Lead": "tt-t1"}}),
    )
    .await;
    assert_eq!(answered(&events), [("tiktok".into(), "tt-t1".into())]);
    assert_eq!(app.deliver().await, report(1, 1, 1, 0));
    assert_eq!(ids(&app.tiktok_events().await), ["tt-t1"]);
    assert!(app.graph.received_requests().await.unwrap().is_empty());
    assert_eq!(event_states(&app, Some("meta")).await, counts(&[]));
}

#[tokio::test]
async fn removing_tiktok_cancels_its_pending_events_and_leaves_metas() {
    let app = spawn_app().await;
    app.create_campaign_with_tiktok("rm", json!({})).await;
    answers(
        &app.tiktok,
        FakeTikTok::http(503, 50002, "Service unavailable"),
    )
    .await;
    for c in ["r1", "r2"] {
        lead(&app, "rm", c, json!({})).await;
    }
    assert_eq!(app.deliver().await, report(4, 2, 2, 2));
    // Queued, not yet tried on either side.
    lead(&app, "rm", "r3", json!({})).await;

    let body = app.patch_campaign_ok("rm", json!({"tiktok": null})).await;
    assert_eq!(body["tiktok"], Value::Null, "{body}");
    let cancelled = Row {
        state: "failed".into(),
        failure_class: Some("platform_removed".into()),
        attempts: 0,
    };
    let rows = outbox(&app).await;
    for c in ["r1", "r2", "r3"] {
        let row = &rows[&("tiktok".into(), format!("Lead-{c}"))];
        let attempts = if c == "r3" { 0 } else { 1 };
        assert_eq!(
            *row,
            Row {
                attempts,
                ..cancelled.clone()
            },
            "{c}"
        );
    }
    assert_eq!(rows[&("meta".into(), "Lead-r3".into())].state, "pending");

    // TikTok would answer now; nothing goes to it, Meta's pending event does.
    answers(&app.tiktok, FakeTikTok::ok()).await;
    make_due_now(&app).await;
    assert_eq!(app.deliver().await, report(1, 1, 1, 0));
    assert!(app.tiktok_requests().await.is_empty());
    assert_eq!(
        ids(&app.graph_events().await),
        sorted(&["Lead-r1", "Lead-r2", "Lead-r3"])
    );
    // A later postback is Meta's alone.
    let events = lead(&app, "rm", "r4", json!({})).await;
    assert_eq!(answered(&events), [("meta".into(), "Lead-r4".into())]);
    app.deliver().await;
    assert!(app.tiktok_requests().await.is_empty());
    assert_eq!(
        event_states(&app, Some("tiktok")).await,
        counts(&[("failed", 3)])
    );
}

// ---------------------------------------------------------------------------------------------
// Campaigns from before TikTok
// ---------------------------------------------------------------------------------------------

/// The migration that added TikTok to campaigns.
const CAMPAIGN_TIKTOK_MIGRATION: i64 = 20261201000013;

#[tokio::test]
async fn a_campaign_from_before_the_migration_reads_and_delivers_as_before() {
    // The schema as it was before TikTok's campaign settings, with a campaign in it.
    let database = fresh_database().await;
    let mut before = Migrator::new(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations"
    )))
    .await
    .expect("migrations");
    before.migrations = before
        .migrations
        .iter()
        .filter(|m| m.version < CAMPAIGN_TIKTOK_MIGRATION)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    let pool = sqlx::PgPool::connect(&database).await.unwrap();
    before.run(&pool).await.expect("migrations before TikTok");
    let tiktok_columns: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.columns \
         WHERE table_name = 'campaigns' AND column_name LIKE 'tiktok%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(tiktok_columns, 0, "the schema from before TikTok");
    sqlx::query(
        "INSERT INTO campaigns (key, name, pixel_id, access_token, test_event_code, event_map, \
         currency, landing_url) VALUES ('legacy', 'Legacy offer', '1234567890', $1, 'TEST999', \
         '{\"lead\": \"Lead\", \"sale\": \"Purchase\", \"rebill\": \"Purchase\", \
           \"rejected\": null}', 'EUR', $2)",
    )
    .bind(ACCESS_TOKEN)
    .bind(LANDING_URL)
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    // The server applies the rest at start.
    let graph = MockServer::start().await;
    mount_graph_ok(&graph).await;
    let mut app = spawn_on(&database, graph, &[]).await;
    app.database = Some(database);

    let mut read = app.admin_get("/admin/v1/campaigns/legacy").await;
    for ts in ["created_at", "updated_at"] {
        assert!(read.as_object_mut().unwrap().remove(ts).is_some(), "{ts}");
    }
    assert_eq!(
        read,
        json!({
            "key": "legacy",
            "name": "Legacy offer",
            "pixel_id": "1234567890",
            "access_token_set": true,
            "test_event_code": "TEST999",
            "action_source": "website",
            "event_map": {"lead": "Lead", "sale": "Purchase", "rebill": "Purchase", "rejected": null},
            "currency": "EUR",
            "value_source": "payout",
            "event_id_template": "{event_name}-{click_id}",
            "landing_url": LANDING_URL,
            "late_pixel_twin": "send",
            "require_consent": false,
            "limited_data_use": false,
            "enabled": true,
            "tiktok": null,
            "default_country": null,
            "date_order": null,
            "meta_send_when": null,
            "send_when": {"meta": "always"},
        })
    );
    // Its old fields still change through the API as they did.
    let body = app
        .patch_campaign_ok(
            "legacy",
            json!({"test_event_code": null, "name": "Legacy 2"}),
        )
        .await;
    assert_eq!(
        (&body["test_event_code"], &body["name"]),
        (&Value::Null, &json!("Legacy 2"))
    );

    let events = lead(&app, "legacy", "l1", json!({"ttclid": TTCLID})).await;
    assert_eq!(answered(&events), [("meta".into(), "Lead-l1".into())]);
    assert_eq!(app.deliver().await, report(1, 1, 1, 0));
    let requests = app.graph_requests().await;
    assert_eq!(ids(requests[0]["data"].as_array().unwrap()), ["Lead-l1"]);
    assert_eq!(requests[0]["access_token"], ACCESS_TOKEN);
    assert!(app.tiktok.received_requests().await.unwrap().is_empty());
    let platforms: HashSet<String> = sqlx::query_scalar("SELECT platform FROM events")
        .fetch_all(&app.pool)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(platforms, HashSet::from(["meta".to_owned()]));
}
