//! Operations: the erasure of one click on request.

use crate::helpers::ops::*;
use crate::helpers::*;
use reqwest::Method;
use serde_json::json;

/// A click with em, IP and User-Agent; a lead delivered to Meta; a sale still waiting.
async fn erasable(app: &TestApp, click_id: &str) {
    app.create_campaign("offer1", json!({})).await;
    let resp = app
        .register_click(json!({
            "campaign": "offer1", "click_id": click_id, "fbclid": "IwAR_Erase",
            "client_ip_address": "203.0.113.7", "em": "John_Smith@gmail.com",
        }))
        .await;
    assert_eq!(resp.status(), 201);
    accepted(app, &with_pii(click_id, "lead")).await;
    let report = app.deliver().await;
    assert_eq!(report.delivered, 1, "{report:?}");
    accepted(app, &with_pii(click_id, "sale")).await;
}

#[tokio::test]
async fn erasing_a_click_deletes_it_scrubs_its_conversions_and_cancels_its_unsent_events() {
    let app = spawn_app().await;
    erasable(&app, "er-1").await;
    // Another visitor's data is not touched.
    let resp = app
        .register_click(
            json!({"campaign": "offer1", "click_id": "er-other", "em": "mary@example.com"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    accepted(&app, &with_pii("er-other", "sale")).await;

    let resp = app
        .admin(Method::DELETE, "/admin/v1/clicks/er-1", None)
        .await;
    let (status, body) = answer(resp).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "clicks_deleted": 1,
            "conversions_scrubbed": 2,
            "events_erased": 2,
            "events_cancelled": 1,
        })
    );

    assert_eq!(
        count(&app, "SELECT count(*) FROM clicks WHERE click_id = 'er-1'").await,
        0
    );
    assert_eq!(
        conversion_pii(&app, "er-1").await,
        [(None, None, None, None), (None, None, None, None)]
    );
    assert_eq!(
        event_rows(&app, "er-1").await,
        [
            ("Lead".to_owned(), "sent".to_owned(), false),
            ("Purchase".to_owned(), "failed".to_owned(), false),
        ]
    );
    let (class, error): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT e.failure_class, e.last_error FROM events e JOIN conversions c \
         ON c.id = e.conversion_id WHERE c.click_id = 'er-1' AND e.state = 'failed'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(class.as_deref(), Some("erased"));
    assert!(error.is_some());

    // Only the other visitor's sale goes to Meta.
    let report = app.deliver().await;
    assert_eq!(report.claimed, 1, "{report:?}");
    assert_eq!(report.delivered, 1, "{report:?}");
    let events = app.graph_events().await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["event_id"], "Purchase-er-other");
    let report = app.deliver().await;
    assert_eq!(report.claimed, 0, "{report:?}");
    assert_eq!(app.graph_requests().await.len(), 2);
    assert_eq!(
        event_rows(&app, "er-other").await,
        [("Purchase".to_owned(), "sent".to_owned(), true)]
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM clicks WHERE click_id = 'er-other'"
        )
        .await,
        1
    );

    let resp = app.admin(Method::GET, "/admin/v1/clicks/er-1", None).await;
    assert_problem(resp, 404, "click_not_found").await;
}

#[tokio::test]
async fn erasing_an_unknown_click_is_404() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = app
        .admin(Method::DELETE, "/admin/v1/clicks/never-seen", None)
        .await;
    assert_problem(resp, 404, "click_not_found").await;
    let resp = app
        .admin(
            Method::DELETE,
            "/admin/v1/clicks/not%20a%20click%20id",
            None,
        )
        .await;
    assert_problem(resp, 404, "click_not_found").await;
}

#[tokio::test]
async fn erasing_a_click_needs_the_admin_token() {
    let app = spawn_app().await;
    erasable(&app, "er-1").await;

    let resp = app
        .client
        .delete(app.url("/admin/v1/clicks/er-1"))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 401, "unauthorized").await;
    let resp = app
        .client
        .delete(app.url("/admin/v1/clicks/er-1"))
        .bearer_auth(POSTBACK_KEY)
        .send()
        .await
        .unwrap();
    assert_problem(resp, 401, "unauthorized").await;

    assert_eq!(
        count(&app, "SELECT count(*) FROM clicks WHERE click_id = 'er-1'").await,
        1
    );
    assert_eq!(
        event_rows(&app, "er-1").await,
        [
            ("Lead".to_owned(), "sent".to_owned(), true),
            ("Purchase".to_owned(), "pending".to_owned(), true),
        ]
    );
    let report = app.deliver().await;
    assert_eq!(report.delivered, 1, "{report:?}");
}

#[tokio::test]
async fn erasing_a_click_twice_is_404_the_second_time() {
    let app = spawn_app().await;
    erasable(&app, "er-1").await;

    let resp = app
        .admin(Method::DELETE, "/admin/v1/clicks/er-1", None)
        .await;
    assert_eq!(resp.status(), 200);

    let resp = app
        .admin(Method::DELETE, "/admin/v1/clicks/er-1", None)
        .await;
    assert_problem(resp, 404, "click_not_found").await;
}
