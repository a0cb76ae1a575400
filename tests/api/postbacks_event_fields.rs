//! What a campaign adds to the events its postbacks send: consent, limited data use,\nthe action source, the test event code, and fbc built from the click.

use crate::helpers::postbacks::*;
use crate::helpers::*;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// Consent, LDU, test events
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_consent_campaign_suppresses_clicks_without_consent_and_sends_those_with_it() {
    let app = spawn_app().await;
    app.create_campaign("gdpr", json!({"require_consent": true}))
        .await;
    click(&app, "gdpr", "cs-none", json!({})).await;
    click(&app, "gdpr", "cs-no", json!({"consent": false})).await;
    click(&app, "gdpr", "cs-yes", json!({"consent": true})).await;

    let mut suppressed = Vec::new();
    for id in ["cs-none", "cs-no"] {
        let (status, body) =
            postback(&app, "keitaro", &format!("subid={id}&status=lead&payout=1")).await;
        assert_eq!(status, 200, "{id}: {body}");
        assert_eq!(body["status"], "suppressed", "{id}: {body}");
        suppressed.push(body["conversion_id"].as_i64().expect("conversion_id"));
    }
    accepted(
        &app,
        "keitaro",
        "subid=cs-yes&status=lead&payout=1",
        "Lead",
        "Lead-cs-yes",
    )
    .await;

    let event = deliver_one(&app).await;
    assert_eq!(
        event,
        json!({
            "event_name": "Lead",
            "event_time": recent_time(&event),
            "event_id": "Lead-cs-yes",
            "action_source": "website",
            "event_source_url": LANDING_URL,
            "user_data": {"client_ip_address": "203.0.113.7", "client_user_agent": BROWSER_UA},
            "custom_data": {"value": 1.0, "currency": "USD"},
        })
    );
    for id in suppressed {
        let view = conversion(&app, id).await;
        assert_eq!(view["state"], "suppressed", "{view}");
        assert_eq!(view["payload"], Value::Null);
        assert_eq!(view["attempts"], 0);
    }
    assert_eq!(app.deliver().await.delivered, 0);
    assert_eq!(app.graph_events().await.len(), 1);
}

#[tokio::test]
async fn a_limited_data_use_campaign_sends_ldu() {
    let app = spawn_app().await;
    app.create_campaign(
        "ldu",
        json!({"limited_data_use": true, "action_source": "website"}),
    )
    .await;
    click(&app, "ldu", "ldu-1", json!({})).await;
    accepted(
        &app,
        "keitaro",
        "subid=ldu-1&status=lead",
        "Lead",
        "Lead-ldu-1",
    )
    .await;
    let event = deliver_one(&app).await;
    assert_eq!(
        event,
        json!({
            "event_name": "Lead",
            "event_time": recent_time(&event),
            "event_id": "Lead-ldu-1",
            "action_source": "website",
            "event_source_url": LANDING_URL,
            "user_data": {"client_ip_address": "203.0.113.7", "client_user_agent": BROWSER_UA},
            "data_processing_options": ["LDU"],
            "data_processing_options_country": 0,
            "data_processing_options_state": 0,
        })
    );
}

#[tokio::test]
async fn the_campaigns_action_source_is_sent() {
    let app = spawn_app().await;
    app.create_campaign("crm", json!({"action_source": "system_generated"}))
        .await;
    click(&app, "crm", "as-1", json!({})).await;
    accepted(
        &app,
        "keitaro",
        "subid=as-1&status=lead",
        "Lead",
        "Lead-as-1",
    )
    .await;
    let event = deliver_one(&app).await;
    assert_eq!(event["action_source"], "system_generated");
}

#[tokio::test]
async fn the_test_event_code_goes_on_the_request_and_only_for_its_campaign() {
    let app = spawn_app().await;
    app.create_campaign("testing", json!({"test_event_code": "TEST123"}))
        .await;
    app.create_campaign("live", json!({})).await;
    click(&app, "testing", "te-1", json!({})).await;
    click(&app, "live", "te-2", json!({})).await;
    accepted(
        &app,
        "keitaro",
        "subid=te-1&status=lead",
        "Lead",
        "Lead-te-1",
    )
    .await;
    accepted(
        &app,
        "keitaro",
        "subid=te-2&status=lead",
        "Lead",
        "Lead-te-2",
    )
    .await;
    assert_eq!(app.deliver().await.delivered, 2);

    let requests = app.graph_requests().await;
    assert_eq!(requests.len(), 2, "{requests:#?}");
    let testing = requests
        .iter()
        .find(|r| r["data"][0]["event_id"] == "Lead-te-1")
        .expect("request for the test campaign");
    assert_eq!(testing["test_event_code"], "TEST123");
    assert_eq!(testing["access_token"], ACCESS_TOKEN);
    assert_eq!(testing["data"].as_array().unwrap().len(), 1);
    assert!(
        testing["data"][0].get("test_event_code").is_none(),
        "the code is on the request"
    );
    let live = requests
        .iter()
        .find(|r| r["data"][0]["event_id"] == "Lead-te-2")
        .expect("request for the live campaign");
    assert!(live.get("test_event_code").is_none(), "{live}");
}

// ---------------------------------------------------------------------------------------------
// fbc
// ---------------------------------------------------------------------------------------------

/// Moves the click's first sighting an hour back and returns it, so the conversion is later.
async fn an_hour_ago(app: &TestApp, click_id: &str) -> chrono::DateTime<chrono::Utc> {
    sqlx::query(
        "UPDATE clicks SET first_seen_at = first_seen_at - interval '1 hour' WHERE click_id = $1",
    )
    .bind(click_id)
    .execute(&app.pool)
    .await
    .unwrap();
    first_seen(app, click_id).await
}

#[tokio::test]
async fn fbc_is_built_from_the_fbclid_with_the_clicks_first_seen_time_and_case() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(
        &app,
        "offer1",
        "fbc-1",
        json!({"fbclid": "IwAR2xYz_MiXeD-CaSe"}),
    )
    .await;
    // The conversion comes an hour later: its time must not leak into fbc.
    let first_seen = an_hour_ago(&app, "fbc-1").await;
    accepted(
        &app,
        "keitaro",
        "subid=fbc-1&status=lead",
        "Lead",
        "Lead-fbc-1",
    )
    .await;
    let event = deliver_one(&app).await;
    assert_eq!(
        event["user_data"]["fbc"],
        format!(
            "fb.1.{}.IwAR2xYz_MiXeD-CaSe",
            fbc_ms(first_seen, recent_time(&event))
        )
    );
}

#[tokio::test]
async fn a_postback_fbclid_builds_fbc_with_the_clicks_first_seen_time() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "fbc-2", json!({})).await;
    let first_seen = an_hour_ago(&app, "fbc-2").await;
    accepted(
        &app,
        "keitaro",
        "subid=fbc-2&status=lead&fbclid=IwAR_FromNetWork",
        "Lead",
        "Lead-fbc-2",
    )
    .await;
    let event = deliver_one(&app).await;
    assert_eq!(
        event["user_data"]["fbc"],
        format!(
            "fb.1.{}.IwAR_FromNetWork",
            fbc_ms(first_seen, recent_time(&event))
        )
    );
}

#[tokio::test]
async fn a_stored_fbc_cookie_wins_verbatim() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(
        &app,
        "offer1",
        "fbc-3",
        json!({"fbc": "fb.2.1554763741205.AbCdEf_GhIjKl", "fbclid": "IwAR_Other"}),
    )
    .await;
    accepted(
        &app,
        "keitaro",
        "subid=fbc-3&status=lead&fbclid=IwAR_Third",
        "Lead",
        "Lead-fbc-3",
    )
    .await;
    let event = deliver_one(&app).await;
    assert_eq!(
        event["user_data"]["fbc"],
        "fb.2.1554763741205.AbCdEf_GhIjKl"
    );
}
