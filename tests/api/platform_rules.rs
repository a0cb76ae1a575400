//! Rules that keep one platform's events from being decided by another's: event-id reuse,
//! the late pixel twin check, and what removing a platform cancels.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::outbox::{counts, event_states};
use crate::helpers::tiktok::FakeTikTok;
use crate::helpers::*;

fn tiktok(map: Value) -> Value {
    // Both platforms get every conversion (send_when.rs tests the per-click default).
    json!({"tiktok": {"pixel_code": "CTT0001", "access_token": "tt-token-0123456789",
                      "event_map": map, "send_when": "always"}, "meta_send_when": "always"})
}

async fn postback_events(app: &TestApp, query: &str) -> Value {
    let resp = app.postback("keitaro", query).await;
    assert_eq!(resp.status(), 200, "{query}");
    let body: Value = resp.json().await.unwrap();
    body["events"].clone()
}

/// A name only TikTok got on a click does not make Meta's first event with that name a
/// repeat: Meta's id stays the one its pixel got.
#[tokio::test]
async fn a_name_only_tiktok_used_is_not_a_repeat_for_meta() {
    let app = spawn_app().await;
    let mut extra = tiktok(json!({"lead": "Lead", "approved": null}));
    extra["event_map"] = json!({"lead": null, "approved": "Lead"});
    app.create_campaign("rules", extra).await;
    let resp = app
        .register_click(json!({"campaign": "rules", "click_id": "r1"}))
        .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(
        postback_events(&app, "subid=r1&status=lead").await,
        json!([{"platform": "tiktok", "event_name": "Lead", "event_id": "Lead-r1"}])
    );
    assert_eq!(
        postback_events(&app, "subid=r1&status=approved").await,
        json!([{"platform": "meta", "event_name": "Lead", "event_id": "Lead-r1"}])
    );
}

/// The pixel fire times the tag registers are Meta pixel's: a TikTok event is never skipped
/// as Meta's late twin.
#[tokio::test]
async fn the_late_twin_check_is_metas_alone() {
    let app = spawn_app().await;
    let mut extra = tiktok(json!({"lead": "Lead"}));
    extra["late_pixel_twin"] = json!("skip");
    app.create_campaign("late", extra).await;
    let fired = chrono::Utc::now().timestamp_millis() - 3 * 24 * 3600 * 1000;
    let resp = app
        .register_click(json!({"campaign": "late", "click_id": "l1",
                               "pixel_fired_at": {"Lead": fired}}))
        .await;
    assert_eq!(resp.status(), 201);
    postback_events(&app, "subid=l1&status=lead").await;
    app.deliver().await;
    assert_eq!(
        event_states(&app, Some("meta")).await,
        counts(&[("failed", 1)])
    );
    assert_eq!(
        event_states(&app, Some("tiktok")).await,
        counts(&[("sent", 1)])
    );
    assert_eq!(app.tiktok_events().await.len(), 1);
}

/// Removing TikTok cancels its events parked on a token error too: the conversion is then as
/// far as Meta got, and nothing of TikTok's is retried or sent.
#[tokio::test]
async fn removing_a_platform_cancels_its_parked_events_too() {
    let app = spawn_app().await;
    app.tiktok.reset().await;
    FakeTikTok::code(40105, "Access token is incorrect or has been revoked.")
        .mount(&app.tiktok)
        .await;
    app.create_campaign("parked", tiktok(json!({"lead": "Lead"})))
        .await;
    let resp = app
        .register_click(json!({"campaign": "parked", "click_id": "p1"}))
        .await;
    assert_eq!(resp.status(), 201);
    postback_events(&app, "subid=p1&status=lead").await;
    app.deliver().await;
    let parked = "SELECT count(*) FROM events WHERE platform = 'tiktok' AND failure_class = $1";
    let count = |class: &'static str| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(parked)
                .bind(class)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(count("auth").await, 1);
    let resp = app
        .admin(
            Method::PATCH,
            "/admin/v1/campaigns/parked",
            Some(json!({"tiktok": null})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        (count("auth").await, count("platform_removed").await),
        (0, 1)
    );
    let list = app.admin_get("/admin/v1/conversions?campaign=parked").await;
    assert_eq!(list["conversions"][0]["state"], "sent", "{list}");
    let resp = app
        .admin(
            Method::POST,
            "/admin/v1/campaigns/parked/retry-failed",
            None,
        )
        .await;
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"requeued": 0, "still_failed": 0, "more": false})
    );
}

/// An event being sent while its platform is removed is left to the worker; if it comes back
/// unsent (a crashed worker's lease runs out), the worker cancels it like the others.
#[tokio::test]
async fn an_event_in_flight_when_its_platform_is_removed_is_cancelled_by_the_worker() {
    let app = spawn_app().await;
    app.create_campaign("flight", tiktok(json!({"lead": "Lead"})))
        .await;
    let resp = app
        .register_click(json!({"campaign": "flight", "click_id": "f1"}))
        .await;
    assert_eq!(resp.status(), 201);
    postback_events(&app, "subid=f1&status=lead").await;
    let lease = |until: &'static str| {
        let pool = app.pool.clone();
        async move {
            sqlx::query(&format!(
                "UPDATE events SET lease_owner = gen_random_uuid(), lease_until = now() {until} \
                 WHERE platform = 'tiktok'"
            ))
            .execute(&pool)
            .await
            .unwrap();
        }
    };
    lease("+ interval '1 hour'").await;
    let resp = app
        .admin(
            Method::PATCH,
            "/admin/v1/campaigns/flight",
            Some(json!({"tiktok": null})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        event_states(&app, Some("tiktok")).await,
        counts(&[("pending", 1)]),
        "in flight: its answer decides"
    );
    lease("- interval '1 second'").await;
    app.deliver().await;
    assert_eq!(
        event_states(&app, Some("tiktok")).await,
        counts(&[("failed", 1)])
    );
    let class: String =
        sqlx::query_scalar("SELECT failure_class FROM events WHERE platform = 'tiktok'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(class, "platform_removed");
    assert!(app.tiktok_requests().await.is_empty());
    let list = app.admin_get("/admin/v1/conversions?campaign=flight").await;
    assert_eq!(list["conversions"][0]["state"], "sent", "{list}");
}
