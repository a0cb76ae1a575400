//! The dashboard's Clicks page: look a click up (hashes only), erase it.

use reqwest::header::LOCATION;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::ui::sign_in;
use crate::helpers::ui::{csrf, post_form_body, text_of};
use crate::helpers::*;

const EMAIL: &str = "Jane.Doe@Example.com";
const IP: &str = "203.0.113.77";
const FBC: &str = "fb.1.1700000000000.IwAR2xyzFbclidValue";
const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) UniqueTestAgent/9.9";

#[tokio::test]
async fn a_click_is_shown_by_its_hashes_only_and_erased_through_the_form() {
    let app = spawn_app().await;
    app.create_campaign("shop", json!({})).await;
    let cookie = sign_in(&app).await;
    let csrf = csrf(&app, &cookie).await;
    let resp = app
        .register_click(
            json!({"campaign": "shop", "click_id": "clk-pii", "em": EMAIL,
            "client_ip_address": IP, "client_user_agent": UA, "fbc": FBC,
            "event_source_url": "https://lp.example.com/offer?fbclid=IwAR2xyzFbclidValue"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let resp = app
        .postback("keitaro", &format!("subid=clk-pii&status=lead&ip={IP}"))
        .await;
    assert_eq!(resp.status(), 200);
    let admin = app.admin_get("/admin/v1/clicks/clk-pii").await;
    let em_hash = admin["user_data_hashes"]["em"].as_str().unwrap().to_owned();
    let conv = app
        .admin_get("/admin/v1/conversions?click_id=clk-pii")
        .await;
    let conversion_id = conv["conversions"][0]["id"].as_i64().unwrap();

    // The empty lookup form.
    let (status, page) = text_of(&app, "/ui/clicks", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(r#"<label for="click-id">Click id</label>"#),
        "{page}"
    );
    assert!(page.contains(r#"<form class="card" method="get" action="/ui/clicks">"#));

    let (status, page) = text_of(&app, "/ui/clicks?click_id=clk-pii", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<code>clk-pii</code>"), "{page}");
    assert!(
        page.contains(&format!(r#"<code class="hash">{em_hash}</code>"#)),
        "{page}"
    );
    assert!(
        page.contains(r#"<dt>IP address</dt><dd>set</dd>"#),
        "{page}"
    );
    assert!(page.contains(r#"<dt>fbc</dt><dd>set</dd>"#), "{page}");
    assert!(page.contains(r#"<dt>fbp</dt><dd>—</dd>"#), "{page}");
    assert!(page.contains(r#"<a href="/ui/conversions?campaign=shop">shop</a>"#));
    assert!(
        page.contains(&format!(r#"<a href="/ui/conversions/{conversion_id}">"#)),
        "its conversion"
    );
    for raw in [
        EMAIL,
        "jane.doe@example.com",
        IP,
        FBC,
        UA,
        "IwAR2xyzFbclidValue",
    ] {
        assert!(!page.contains(raw), "{raw} shown");
    }
    // The button leads to the confirmation page, which erases nothing by itself.
    assert!(page.contains(r#"<form class="inline" method="get" action="/ui/clicks/erase">"#));

    for path in [
        "/ui/clicks?click_id=nope",
        "/ui/clicks?click_id=not%20an%20id",
    ] {
        let (status, page) = text_of(&app, path, &cookie).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.contains("No click with id"), "{page}");
    }

    // Stale or missing token: nothing erased.
    for body in [
        "click_id=clk-pii".to_owned(),
        format!("click_id=clk-pii&csrf={}", "a".repeat(64)),
    ] {
        let resp = post_form_body(&app, "/ui/clicks/erase", &cookie, &body).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    }
    app.admin_get("/admin/v1/clicks/clk-pii").await;

    // Without the confirmation, the form leads to the page that asks for it.
    let resp = post_form_body(
        &app,
        "/ui/clicks/erase",
        &cookie,
        &format!("click_id=clk-pii&campaign=shop&csrf={csrf}"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let ask = resp.headers()[LOCATION].to_str().unwrap().to_owned();
    assert_eq!(ask, "/ui/clicks/erase?click_id=clk-pii&campaign=shop");
    let (status, page) = text_of(&app, &ask, &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("This cannot be undone."), "{page}");
    assert!(
        page.contains(r#"<input type="hidden" name="confirm" value="yes">"#),
        "{page}"
    );
    app.admin_get("/admin/v1/clicks/clk-pii").await;

    let resp = post_form_body(
        &app,
        "/ui/clicks/erase",
        &cookie,
        &format!("click_id=clk-pii&csrf={csrf}&confirm=yes"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let location = resp.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("/ui/clicks?erased=clk-pii&"),
        "{location}"
    );
    let (status, page) = text_of(&app, &location, &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Erased click clk-pii: 1 click deleted, 1 conversions scrubbed of personal data, 1 event payloads erased (1 of them not sent yet, now never sent)."),
        "{page}"
    );
    let resp = app
        .admin(reqwest::Method::GET, "/admin/v1/clicks/clk-pii", None)
        .await;
    assert_eq!(resp.status(), 404, "erased");
    let (status, _) = text_of(&app, "/ui/clicks?click_id=clk-pii", &cookie).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Nothing left to erase, or not a click id: 404 pages.
    for id in ["clk-pii", "not%20an%20id"] {
        let resp = post_form_body(
            &app,
            "/ui/clicks/erase",
            &cookie,
            &format!("click_id={id}&csrf={csrf}&confirm=yes"),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{id}");
        let (status, _) = text_of(&app, &format!("/ui/clicks/erase?click_id={id}"), &cookie).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "the confirmation of {id}");
    }
}
