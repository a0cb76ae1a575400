//! Events belong to a platform: today every event is Meta's, one per conversion and platform.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_postbacks_event_is_metas_and_a_conversion_has_one_event_per_platform() {
    let app = spawn_app().await;
    app.create_campaign("shop", json!({})).await;
    let accepted = queue_lead_via(&app.client, &app.address, "shop", "clk-platform-1").await;
    let conversion_id = accepted["conversion_id"].as_i64().unwrap();
    let platform: String =
        sqlx::query_scalar("SELECT platform FROM events WHERE conversion_id = $1")
            .bind(conversion_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(platform, "meta");

    // A second Meta event for the same conversion is refused by the schema.
    let again = sqlx::query(
        "INSERT INTO events (conversion_id, campaign_id, event_name, event_id, event_time, payload)
         SELECT conversion_id, campaign_id, event_name, event_id || '-2', event_time, payload
         FROM events WHERE conversion_id = $1",
    )
    .bind(conversion_id)
    .execute(&app.pool)
    .await
    .unwrap_err();
    assert!(
        again.to_string().contains("events_conversion_platform_key"),
        "{again}"
    );
    // So is a platform the service does not know.
    let unknown = sqlx::query("UPDATE events SET platform = 'myspace' WHERE conversion_id = $1")
        .bind(conversion_id)
        .execute(&app.pool)
        .await
        .unwrap_err();
    assert!(
        unknown.to_string().contains("events_platform_check"),
        "{unknown}"
    );

    // The worker sends it through the Meta platform.
    assert_eq!(app.deliver().await.requests, 1);
    assert_eq!(app.graph_events().await.len(), 1);
}
