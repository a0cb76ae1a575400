//! Late pixel twins: the landing tag registers when the pixel fired each event on a click; a
//! server event that would reach Meta more than 48 hours later (past Meta's dedup window) is
//! skipped or sent as the campaign's `late_pixel_twin` says, and the quality report counts it.

use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, received, spawn_app, take_update_token, TestApp, BROWSER_UA};

fn ms_ago(d: Duration) -> i64 {
    (Utc::now() - d).timestamp_millis()
}

async fn lead(app: &TestApp, click_id: &str) {
    let resp = app
        .postback("keitaro", &format!("subid={click_id}&status=lead"))
        .await;
    assert_eq!(resp.status(), 200, "postback {click_id}");
}

#[tokio::test]
async fn pixel_firing_times_are_validated_stored_and_merged() {
    let app = spawn_app().await;
    app.create_campaign("tw", json!({})).await;
    let first = ms_ago(Duration::minutes(5));
    let resp = app
        .register_click_public(json!({
            "campaign": "tw", "click_id": "tw-1", "pixel_fired_at": {"Lead": first},
        }))
        .await;
    assert_eq!(resp.status(), 201);
    let token = take_update_token(&mut resp.json().await.unwrap());
    // The thank-you page fires Purchase; a repeated Lead keeps the first time.
    let resp = app
        .register_click_with_token(
            json!({
                "campaign": "tw", "click_id": "tw-1",
                "pixel_fired_at": {"Lead": ms_ago(Duration::zero()), "Purchase": first + 1000},
            }),
            &token,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(body.get("ignored").is_none(), "{body}");
    let click = app.admin_get("/admin/v1/clicks/tw-1").await;
    let fired = &click["pixel_fired_at"];
    let at = |name: &str| {
        chrono::DateTime::parse_from_rfc3339(fired[name].as_str().unwrap())
            .unwrap()
            .timestamp_millis()
    };
    assert_eq!(
        (at("Lead"), at("Purchase")),
        (first, first + 1000),
        "{click}"
    );

    // A browser with a wrong clock loses the field, not the click.
    let resp = app
        .register_click_public(json!({
            "campaign": "tw", "click_id": "tw-2",
            "pixel_fired_at": {"Lead": ms_ago(-Duration::days(1))},
        }))
        .await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["ignored"], json!(["pixel_fired_at"]), "{body}");
    let click = app.admin_get("/admin/v1/clicks/tw-2").await;
    assert_eq!(click["pixel_fired_at"], json!({}));
    // A server-side caller is told why, and its click is kept too.
    let resp = app
        .register_click(json!({
            "campaign": "tw", "click_id": "tw-3", "pixel_fired_at": {"Lead!": first},
        }))
        .await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["dropped"][0]["field"], "pixel_fired_at", "{body}");

    // The form spelling, as for event_ids.
    let resp = app
        .client
        .get(app.url(&format!(
            "/v1/clicks?campaign=tw&click_id=tw-4&pixel_fired_at[Lead]={first}"
        )))
        .header("user-agent", BROWSER_UA)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let click = app.admin_get("/admin/v1/clicks/tw-4").await;
    assert!(click["pixel_fired_at"]["Lead"].is_string(), "{click}");
}

#[tokio::test]
async fn late_pixel_twin_is_a_campaign_option() {
    let app = spawn_app().await;
    let c = app.create_campaign("opt", json!({})).await;
    assert_eq!(c["late_pixel_twin"], "send", "the default");
    let c = app
        .create_campaign("opt2", json!({"late_pixel_twin": "skip"}))
        .await;
    assert_eq!(c["late_pixel_twin"], "skip");
    let resp = app
        .admin(
            Method::PATCH,
            "/admin/v1/campaigns/opt2",
            Some(json!({"late_pixel_twin": "drop"})),
        )
        .await;
    let detail = assert_problem(resp, 422, "invalid_field").await;
    assert!(detail.starts_with("late_pixel_twin"), "{detail}");
    let resp = app
        .admin(
            Method::PATCH,
            "/admin/v1/campaigns/opt2",
            Some(json!({"late_pixel_twin": "send"})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let c = app.admin_get("/admin/v1/campaigns/opt2").await;
    assert_eq!(c["late_pixel_twin"], "send");
}

#[tokio::test]
async fn late_twins_are_skipped_or_sent_and_counted() {
    let app = spawn_app().await;
    app.create_campaign("skipper", json!({"late_pixel_twin": "skip"}))
        .await;
    app.create_campaign("sender", json!({})).await;
    let long_ago = ms_ago(Duration::hours(49));
    let mut tokens = std::collections::HashMap::new();
    for (campaign, click_id, fired) in [
        ("skipper", "sk-late", Some(long_ago)),
        ("skipper", "sk-fresh", Some(ms_ago(Duration::hours(1)))),
        ("skipper", "sk-none", None),
        ("sender", "se-late", Some(long_ago)),
    ] {
        let mut body = json!({"campaign": campaign, "click_id": click_id});
        if let Some(ms) = fired {
            body["pixel_fired_at"] = json!({ "Lead": ms });
        }
        let resp = app.register_click_public(body).await;
        assert_eq!(resp.status(), 201);
        tokens.insert(click_id, take_update_token(&mut resp.json().await.unwrap()));
        lead(&app, click_id).await;
    }
    // The pixel's registration can arrive after the postback: it counts at send time.
    assert_eq!(
        app.register_click_with_token(
            json!({"campaign": "skipper", "click_id": "sk-none",
                "pixel_fired_at": {"Lead": long_ago}}),
            &tokens["sk-none"]
        )
        .await
        .status(),
        200
    );
    let report = app.deliver().await;
    assert_eq!((report.delivered, report.failed), (2, 2), "{report:?}");

    let sent: Vec<String> = received(&app.graph)
        .await
        .iter()
        .flat_map(|(_, b)| b["data"].as_array().cloned().unwrap_or_default())
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect();
    let mut sent = sent;
    sent.sort();
    assert_eq!(sent, ["Lead-se-late", "Lead-sk-fresh"]);

    for click_id in ["sk-late", "sk-none"] {
        let list = app
            .admin_get(&format!("/admin/v1/conversions?click_id={click_id}"))
            .await;
        let conv = &list["conversions"][0];
        assert_eq!(conv["state"], "failed", "{conv}");
        let why = conv["last_error"].as_str().unwrap();
        assert!(
            why.contains("48 hours") && why.contains("late_pixel_twin is skip"),
            "{why}"
        );
    }

    let skipper = app.admin_get("/admin/v1/campaigns/skipper/quality").await;
    let lead = &skipper["events"][0];
    assert_eq!(lead["event_name"], "Lead");
    assert_eq!(
        lead["late_pixel_twins"],
        json!({"sent": {"count": 0, "share": 0.0}, "skipped": 2}),
        "{lead}"
    );
    assert_eq!((&lead["sent"], &lead["failed"]), (&json!(1), &json!(2)));
    let sender = app.admin_get("/admin/v1/campaigns/sender/quality").await;
    assert_eq!(
        sender["events"][0]["late_pixel_twins"],
        json!({"sent": {"count": 1, "share": 1.0}, "skipped": 0}),
        "{sender}"
    );

    // Switched to send, a retry sends the skipped ones.
    let resp = app
        .admin(
            Method::PATCH,
            "/admin/v1/campaigns/skipper",
            Some(json!({"late_pixel_twin": "send"})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let resp = app
        .admin(
            Method::POST,
            "/admin/v1/campaigns/skipper/retry-failed",
            None,
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(app.deliver().await.delivered, 2);
}
