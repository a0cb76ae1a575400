//! The dashboard's overview page shows what the service did, from the real database.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::ui::{get_page, sign_in};
use crate::helpers::*;

fn row(label: &str, day: i64, week: i64) -> String {
    format!(r#"<th scope="row">{label}</th><td class="num">{day}</td><td class="num">{week}</td>"#)
}

#[tokio::test]
async fn the_overview_shows_a_postback_the_test_sent() {
    let app = spawn_app().await;
    app.create_campaign("shop", json!({})).await;
    let cookie = sign_in(&app).await;

    let empty = get_page(&app, "/ui/", &cookie).await.text().await.unwrap();
    for label in [
        "Clicks registered",
        "Postbacks",
        "Events",
        "sent",
        "Meta errors",
    ] {
        assert!(empty.contains(&row(label, 0, 0)), "{label} zero in {empty}");
    }

    queue_lead_via(&app.client, &app.address, "shop", "clk-ui-1").await;
    let resp = app
        .client
        .get(app.url(&format!(
            "/v1/postback/keitaro?key={POSTBACK_KEY}&subid=unknown-click&status=lead"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED, "waits for its click");
    let pending = get_page(&app, "/ui/", &cookie).await.text().await.unwrap();
    assert!(pending.contains(&row("pending", 1, 1)), "{pending}");
    assert!(pending.contains("1 pending"), "outbox depth");
    app.deliver().await;

    let resp = get_page(&app, "/ui/", &cookie).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = resp.text().await.unwrap();
    let cases = [
        ("Clicks registered", 1, 1),
        ("Postbacks", 2, 2),
        ("made an event", 1, 1),
        ("unmatched (no click)", 1, 1),
        ("Events", 1, 1),
        ("sent", 1, 1),
        ("pending", 0, 0),
        ("failed", 0, 0),
        ("expired", 0, 0),
        ("Meta errors", 0, 0),
    ];
    for (label, day, week) in cases {
        assert!(page.contains(&row(label, day, week)), "{label}: {page}");
    }
    assert!(page.contains("0 pending"), "outbox drained");
    assert!(page.contains("events per hour, 1 in all"), "the chart");
    assert!(!page.contains(ADMIN_TOKEN), "no admin token");
    assert!(!page.contains(POSTBACK_KEY), "no postback key");
}
