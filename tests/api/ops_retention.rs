//! Operations: the retention job deletes old clicks and erases old payloads and personal\ndata.

use crate::helpers::ops::*;
use crate::helpers::*;
use capi_bridge::storage::privacy::{apply_retention, RetentionReport};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

const EM_JOHN: &str = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";

async fn exec(app: &TestApp, sql: &str) -> u64 {
    sqlx::query(sql)
        .execute(&app.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .rows_affected()
}

/// What `with_pii` puts on a conversion.
fn network_pii() -> Pii {
    (
        Some("198.51.100.44".to_owned()),
        Some(NETWORK_UA.to_owned()),
        Some(EM_JOHN.to_owned()),
        Some("IwAR_Network".to_owned()),
    )
}

// ---------------------------------------------------------------------------------------------
// Retention
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn retention_deletes_old_clicks_and_erases_old_payloads_and_personal_data_in_batches() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    for id in ["r-1", "r-2", "r-3", "r-4", "r-5"] {
        click(&app, id).await;
    }
    for id in ["r-1", "r-2", "r-3", "r-5"] {
        accepted(&app, &with_pii(id, "lead")).await;
    }
    let report = app.deliver().await;
    assert_eq!(report.delivered, 4, "{report:?}");
    // r-4's event is still waiting for Meta when it grows old.
    accepted(&app, &with_pii("r-4", "lead")).await;

    exec(
        &app,
        "UPDATE clicks SET first_seen_at = now() - interval '31 days' \
         WHERE click_id IN ('r-1', 'r-2', 'r-3')",
    )
    .await;
    exec(
        &app,
        "UPDATE clicks SET first_seen_at = now() - interval '29 days' WHERE click_id = 'r-4'",
    )
    .await;
    exec(
        &app,
        "UPDATE events SET created_at = now() - interval '31 days' WHERE conversion_id IN \
         (SELECT id FROM conversions WHERE click_id IN ('r-1', 'r-2', 'r-3', 'r-4'))",
    )
    .await;
    exec(
        &app,
        "UPDATE events SET created_at = now() - interval '29 days' WHERE conversion_id IN \
         (SELECT id FROM conversions WHERE click_id = 'r-5')",
    )
    .await;
    exec(
        &app,
        "UPDATE conversions SET received_at = now() - interval '31 days' \
         WHERE click_id IN ('r-1', 'r-2', 'r-3', 'r-4')",
    )
    .await;
    exec(
        &app,
        "UPDATE conversions SET received_at = now() - interval '29 days' WHERE click_id = 'r-5'",
    )
    .await;

    // Refused postbacks: three past the retention, one within it.
    exec(
        &app,
        "INSERT INTO refused_postbacks (received_at, tracker, code, detail, params) \
         SELECT now() - make_interval(days => d), 'keitaro', 'unfilled_status', 'x', '{}' \
         FROM unnest(ARRAY[31, 32, 40, 29]) AS d",
    )
    .await;

    let thirty_days = Duration::from_secs(30 * 86400);
    let report = apply_retention(&app.pool, thirty_days, thirty_days, 2)
        .await
        .unwrap();
    assert_eq!(
        report,
        RetentionReport {
            clicks_deleted: 3,
            payloads_erased: 3,
            conversions_scrubbed: 3,
            refused_postbacks_deleted: 3,
        }
    );

    let clicks: Vec<String> = sqlx::query_scalar("SELECT click_id FROM clicks ORDER BY click_id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(clicks, ["r-4", "r-5"]);
    for id in ["r-1", "r-2", "r-3"] {
        assert_eq!(
            event_rows(&app, id).await,
            [("Lead".to_owned(), "sent".to_owned(), false)],
            "{id}"
        );
        assert_eq!(
            conversion_pii(&app, id).await,
            [(None, None, None, None)],
            "{id}"
        );
    }
    // Recent: untouched.
    assert_eq!(
        event_rows(&app, "r-5").await,
        [("Lead".to_owned(), "sent".to_owned(), true)]
    );
    assert_eq!(conversion_pii(&app, "r-5").await, [network_pii()]);
    // Old but still waiting for Meta: untouched, and still delivered.
    assert_eq!(
        event_rows(&app, "r-4").await,
        [("Lead".to_owned(), "pending".to_owned(), true)]
    );
    assert_eq!(conversion_pii(&app, "r-4").await, [network_pii()]);
    // Nothing else left to do.
    let again = apply_retention(&app.pool, thirty_days, thirty_days, 2)
        .await
        .unwrap();
    assert_eq!(again, RetentionReport::default());

    let report = app.deliver().await;
    assert_eq!(report.delivered, 1, "{report:?}");
    let events = app.graph_events().await;
    assert_eq!(events.len(), 5);
    let last = &events[4];
    assert_eq!(last["event_id"], "Lead-r-4");
    assert_eq!(last["user_data"]["client_ip_address"], "203.0.113.7");
    assert_eq!(last["user_data"]["client_user_agent"], BROWSER_UA);
    assert_eq!(last["user_data"]["em"], json!([EM_JOHN]));

    // Once sent, the old event and its conversion are erased by the next pass.
    let report = apply_retention(&app.pool, thirty_days, thirty_days, 2)
        .await
        .unwrap();
    assert_eq!(
        report,
        RetentionReport {
            clicks_deleted: 0,
            payloads_erased: 1,
            conversions_scrubbed: 1,
            refused_postbacks_deleted: 0,
        }
    );
    assert_eq!(
        event_rows(&app, "r-4").await,
        [("Lead".to_owned(), "sent".to_owned(), false)]
    );
    assert_eq!(
        conversion_pii(&app, "r-4").await,
        [(None, None, None, None)]
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM clicks WHERE click_id = 'r-4'").await,
        1
    );
}

/// An event parked on a token error and erased by retention cannot be sent any more: a new
/// token must not put it back in the outbox, where it would wait forever.
#[tokio::test]
async fn a_new_token_does_not_requeue_an_event_whose_payload_retention_erased() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "au-1").await;
    app.graph.reset().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(graph_error(400, 190, Some(463), false, "token expired"))
        .mount(&app.graph)
        .await;
    accepted(&app, &with_pii("au-1", "lead")).await;
    let report = app.deliver().await;
    assert_eq!(report.failed, 1, "{report:?}");
    assert_eq!(
        event_rows(&app, "au-1").await,
        [("Lead".to_owned(), "failed".to_owned(), true)]
    );

    // Nobody fixed the token for a month.
    exec(
        &app,
        "UPDATE events SET created_at = now() - interval '31 days', \
            event_time = now() - interval '31 days'",
    )
    .await;
    exec(
        &app,
        "UPDATE conversions SET received_at = now() - interval '31 days', \
            event_time = now() - interval '31 days'",
    )
    .await;
    let thirty_days = Duration::from_secs(30 * 86400);
    let report = apply_retention(&app.pool, thirty_days, thirty_days, 2)
        .await
        .unwrap();
    assert_eq!(
        report,
        RetentionReport {
            clicks_deleted: 0,
            payloads_erased: 1,
            conversions_scrubbed: 1,
            refused_postbacks_deleted: 0,
        }
    );

    app.graph.reset().await;
    mount_graph_ok(&app.graph).await;
    let resp = app
        .admin(
            Method::PATCH,
            "/admin/v1/campaigns/offer1",
            Some(json!({"access_token": "EAAnew-token-after-refresh-42"})),
        )
        .await;
    assert_eq!(resp.status(), 200);

    let report = app.deliver().await;
    assert_eq!(report.claimed, 0, "{report:?}");
    assert!(app.graph_requests().await.is_empty());
    let rows = event_rows(&app, "au-1").await;
    assert_ne!(
        rows[0].1, "pending",
        "a payload-less event is back in the outbox"
    );
    let text = app.scrape_metrics().await;
    assert_line(&text, r#"capi_bridge_outbox_depth{platform="meta"} 0"#);
    assert_line(
        &text,
        r#"capi_bridge_events{platform="meta",state="pending"} 0"#,
    );
}
