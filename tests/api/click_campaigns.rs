//! Issue 21, item 1: click ids are unique per campaign. A click id registered first on another
//! campaign no longer refuses the real registration or takes its conversions; a postback naming
//! its campaign joins that campaign's click, one naming none joins the only click or the most
//! recently registered, marked ambiguous; the admin click routes take `?campaign=`.

use reqwest::header::LOCATION;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::ui_conversions::{csrf, post_form, text_of};
use crate::ui_session::sign_in;

const FBP_A: &str = "fb.1.1596403881668.1111111111";
const FBP_B: &str = "fb.1.1596403881668.2222222222";

/// Campaign `a` on pixel 111, `b` on pixel 222.
async fn two_campaigns(app: &TestApp) {
    app.create_campaign("a", json!({"pixel_id": "111"})).await;
    app.create_campaign("b", json!({"pixel_id": "222"})).await;
}

async fn register(app: &TestApp, campaign: &str, click_id: &str, fbp: &str) {
    let resp = app
        .register_click_public(json!({"campaign": campaign, "click_id": click_id, "fbp": fbp}))
        .await;
    assert_eq!(resp.status(), 201, "{campaign}/{click_id}");
}

async fn lead(app: &TestApp, query: &str) -> (u16, Value) {
    let resp = app.postback("keitaro", query).await;
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn conversion(app: &TestApp, body: &Value) -> Value {
    let id = body["conversion_id"].as_i64().expect("conversion_id");
    app.admin_get(&format!("/admin/v1/conversions/{id}")).await
}

#[tokio::test]
async fn the_same_click_id_on_two_campaigns_is_two_clicks_and_each_gets_its_conversions() {
    let app = spawn_app().await;
    two_campaigns(&app).await;
    // Registered first on `a` (say by a stranger who read the id): `b`'s visitor still registers.
    register(&app, "a", "shared", FBP_A).await;
    register(&app, "b", "shared", FBP_B).await;

    for (campaign, pixel, fbp) in [("b", "222", FBP_B), ("a", "111", FBP_A)] {
        let (status, body) = lead(
            &app,
            &format!("subid=shared&status=lead&campaign={campaign}"),
        )
        .await;
        assert_eq!(
            (status, &body["status"]),
            (200, &json!("accepted")),
            "{body}"
        );
        let view = conversion(&app, &body).await;
        assert_eq!(view["campaign"], campaign);
        assert_eq!(view["click_ambiguous"], false);
        assert_eq!(app.deliver().await.delivered, 1);
        let requests = app.graph.received_requests().await.unwrap();
        let last = requests.last().unwrap();
        assert!(
            last.url.path().contains(&format!("/{pixel}/events")),
            "{}",
            last.url
        );
        let sent: Value = serde_json::from_slice(&last.body).unwrap();
        assert_eq!(
            sent["data"][0]["user_data"]["fbp"], fbp,
            "its own click's cookie"
        );
    }
    // graph_requests checks that every event went to its own campaign's pixel.
    assert_eq!(app.graph_requests().await.len(), 2);
}

#[tokio::test]
async fn a_postback_naming_no_campaign_joins_the_only_click_else_the_latest_and_says_so() {
    let app = spawn_app().await;
    two_campaigns(&app).await;
    register(&app, "a", "solo", FBP_A).await;
    register(&app, "a", "dup", FBP_A).await;
    register(&app, "b", "dup", FBP_B).await;
    // `a`'s click came an hour earlier: which is latest is set, not left to the clock.
    sqlx::query(
        "UPDATE clicks SET first_seen_at = first_seen_at - interval '1 hour' \
         WHERE click_id = 'dup' AND campaign_id = (SELECT id FROM campaigns WHERE key = 'a')",
    )
    .execute(&app.pool)
    .await
    .unwrap();

    let (_, body) = lead(&app, "subid=solo&status=lead").await;
    let view = conversion(&app, &body).await;
    assert_eq!(
        (&view["campaign"], &view["click_ambiguous"]),
        (&json!("a"), &json!(false))
    );

    let (status, body) = lead(&app, "subid=dup&status=lead").await;
    assert_eq!(
        (status, &body["status"]),
        (200, &json!("accepted")),
        "{body}"
    );
    let view = conversion(&app, &body).await;
    assert_eq!(view["campaign"], "b", "the most recently registered click");
    assert_eq!(view["click_ambiguous"], true, "{view}");
    let list = app.admin_get("/admin/v1/conversions?click_id=dup").await;
    assert_eq!(list["conversions"][0]["click_ambiguous"], true, "{list}");
    // The dashboard says so where the conversion is viewed.
    let cookie = sign_in(&app).await;
    let id = body["conversion_id"].as_i64().unwrap();
    let (status, page) = text_of(&app, &format!("/ui/conversions/{id}"), &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"<dd id="ambiguous-click">"#), "{page}");
    assert!(
        page.contains("/ui/clicks?click_id=dup&amp;campaign=b"),
        "{page}"
    );

    // Naming the campaign settles it, and is not a repeat of the unnamed postback.
    let (_, body) = lead(&app, "subid=dup&status=lead&campaign=a").await;
    assert_eq!(body["status"], "accepted", "{body}");
    let view = conversion(&app, &body).await;
    assert_eq!(
        (&view["campaign"], &view["click_ambiguous"]),
        (&json!("a"), &json!(false))
    );
    let (_, again) = lead(&app, "subid=dup&status=lead&campaign=a").await;
    assert_eq!(again["status"], "duplicate");
}

#[tokio::test]
async fn a_postback_naming_a_campaign_waits_for_that_campaigns_click() {
    let app = spawn_app().await;
    two_campaigns(&app).await;
    register(&app, "a", "wait-1", FBP_A).await;

    let (status, body) = lead(&app, "subid=wait-1&status=lead&campaign=b").await;
    assert_eq!(
        (status, &body["status"]),
        (202, &json!("unmatched")),
        "{body}"
    );
    let report = app.deliver().await;
    assert_eq!(
        (report.resolved_unmatched, report.delivered),
        (0, 0),
        "{report:?}"
    );

    register(&app, "b", "wait-1", FBP_B).await;
    // The sweep itself, not the worker's, which runs it at most once a poll interval.
    assert_eq!(app.worker.sweep_unmatched().await.unwrap(), 1, "joined");
    assert_eq!(app.deliver().await.delivered, 1);
    let view = conversion(&app, &body).await;
    assert_eq!(view["campaign"], "b");
    let events = app.graph_events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["user_data"]["fbp"], FBP_B);
}

#[tokio::test]
async fn the_admin_click_routes_take_the_campaign() {
    let app = spawn_app().await;
    two_campaigns(&app).await;
    register(&app, "a", "both", FBP_A).await;
    register(&app, "b", "both", FBP_B).await;
    register(&app, "a", "one", FBP_A).await;

    let resp = app.admin(Method::GET, "/admin/v1/clicks/both", None).await;
    let detail = assert_problem(resp, 409, "ambiguous_click").await;
    assert!(
        detail.contains("a, b") || detail.contains("b, a"),
        "{detail}"
    );
    let view = app.admin_get("/admin/v1/clicks/both?campaign=b").await;
    assert_eq!(
        (&view["campaign"], &view["fbp"]),
        (&json!("b"), &json!(FBP_B))
    );
    let view = app.admin_get("/admin/v1/clicks/one").await;
    assert_eq!(view["campaign"], "a");
    let resp = app
        .admin(Method::GET, "/admin/v1/clicks/one?campaign=b", None)
        .await;
    assert_problem(resp, 404, "click_not_found").await;
    let resp = app
        .admin(Method::GET, "/admin/v1/clicks/one?campain=a", None)
        .await;
    assert_problem(resp, 400, "unknown_parameter").await;

    let resp = app
        .admin(Method::DELETE, "/admin/v1/clicks/both", None)
        .await;
    assert_problem(resp, 409, "ambiguous_click").await;
    let resp = app
        .admin(Method::DELETE, "/admin/v1/clicks/both?campaign=nope", None)
        .await;
    assert_problem(resp, 404, "campaign_not_found").await;
    let resp = app
        .admin(Method::DELETE, "/admin/v1/clicks/both?campaign=a", None)
        .await;
    assert_eq!(resp.status(), 200);
    let erased: Value = resp.json().await.unwrap();
    assert_eq!(erased["clicks_deleted"], 1);
    // `b`'s click is untouched, and now the only one.
    let view = app.admin_get("/admin/v1/clicks/both").await;
    assert_eq!(
        (&view["campaign"], &view["fbp"]),
        (&json!("b"), &json!(FBP_B))
    );
}

#[tokio::test]
async fn the_dashboard_asks_which_campaigns_click_and_erases_only_that_one() {
    let app = spawn_app().await;
    two_campaigns(&app).await;
    register(&app, "a", "both", FBP_A).await;
    register(&app, "b", "both", FBP_B).await;
    let cookie = sign_in(&app).await;
    let csrf = csrf(&app, &cookie).await;

    let (status, page) = text_of(&app, "/ui/clicks?click_id=both", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(r#"<a href="/ui/clicks?click_id=both&amp;campaign=a">a</a>"#),
        "{page}"
    );
    assert!(
        page.contains(r#"<a href="/ui/clicks?click_id=both&amp;campaign=b">b</a>"#),
        "{page}"
    );
    let (status, page) = text_of(&app, "/ui/clicks?click_id=both&campaign=b", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(r#"<input type="hidden" name="campaign" value="b">"#),
        "{page}"
    );

    let resp = post_form(
        &app,
        "/ui/clicks/erase",
        &cookie,
        &format!("csrf={csrf}&click_id=both&campaign=b&confirm=yes"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(resp.headers()[LOCATION]
        .to_str()
        .unwrap()
        .contains("clicks=1"));
    let view = app.admin_get("/admin/v1/clicks/both").await;
    assert_eq!(view["campaign"], "a");
}
