//! The dashboard's guard, proved on every route of its one route table (`capi_bridge::ui::ROUTES`,
//! which is also what the server registers): no signed-in route answers without a live session
//! signed in with today's ADMIN_TOKEN, and no POST acts without the session's CSRF token from
//! our own origin.

use capi_bridge::ui::{Access, UiRoute, Verb, ROUTES};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Response, StatusCode};

use crate::helpers::ui::{csrf_of, get_page, session_cookie, sign_in, sign_in_with, FORM};
use crate::helpers::*;

const OLD_TOKEN: &str = "previous-admin-token-0d9e3c51a7b24f68";
const BOUNDARY: &str = "guardboundary7MA4YWxk";

/// The route's path with its placeholders filled by things that exist.
fn concrete(route: &UiRoute, conversion: i64) -> String {
    route
        .path
        .replace("{key}", "shop")
        .replace("{id}", &conversion.to_string())
}

/// A multipart form whose parts are `fields`, in order.
fn multipart(fields: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body + &format!("--{BOUNDARY}--\r\n")
}

/// Sends `route` with `cookie`; a POST carries `body` (urlencoded, or multipart when it starts
/// with the boundary) and `origin`.
async fn send(
    app: &TestApp,
    route: &UiRoute,
    path: &str,
    cookie: &str,
    body: &str,
    origin: Option<&str>,
) -> Response {
    let mut req = match route.verb {
        Verb::Get => app.client.get(app.url(path)),
        Verb::Post => {
            let kind = match body.starts_with("--") {
                true => format!("multipart/form-data; boundary={BOUNDARY}"),
                false => FORM.to_owned(),
            };
            app.client
                .post(app.url(path))
                .header(CONTENT_TYPE, kind)
                .body(body.to_owned())
        }
    };
    req = req.header("cookie", cookie);
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    req.send().await.expect("dashboard request")
}

async fn assert_to_login(resp: Response, what: &str) {
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{what}");
    assert_eq!(resp.headers()[LOCATION], "/ui/login", "{what}");
    assert!(resp.text().await.unwrap().is_empty(), "no data: {what}");
}

/// The public part of the table is exactly the sign-in page and the assets: a new public route
/// is a decision, made here.
#[test]
fn only_the_sign_in_page_and_the_assets_are_public() {
    let public: Vec<(Verb, &str)> = ROUTES
        .iter()
        .filter(|r| r.access == Access::Public)
        .map(|r| (r.verb, r.path))
        .collect();
    assert_eq!(
        public,
        [
            (Verb::Get, "/ui"),
            (Verb::Get, "/ui/login"),
            (Verb::Post, "/ui/login"),
            (Verb::Get, "/ui/app.css"),
            (Verb::Get, "/ui/app.js"),
        ]
    );
    let signed_in = ROUTES.iter().filter(|r| r.access == Access::SignedIn);
    assert!(signed_in.clone().any(|r| r.verb == Verb::Post));
    assert!(signed_in.clone().any(|r| r.path == "/ui/imports"));
}

#[tokio::test]
async fn every_signed_in_route_refuses_no_session_an_old_token_session_and_a_bad_csrf_token() {
    let app = spawn_app().await;
    app.create_campaign("shop", serde_json::json!({})).await;
    let conversion = queue_lead_via(&app.client, &app.address, "shop", "clk-private").await;
    let id = conversion["conversion_id"].as_i64().unwrap();
    // The same database under another ADMIN_TOKEN: the sessions it signs in are today's stale
    // ones (each is ended when presented, so every request gets a fresh one).
    let old = spawn_on(
        &app.database_url,
        wiremock::MockServer::start().await,
        &["--admin-token", OLD_TOKEN],
    )
    .await;
    let cookie = sign_in(&app).await;
    let csrf = csrf_of(&get_page(&app, "/ui/", &cookie).await.text().await.unwrap());
    let other = sign_in(&app).await;
    let foreign = csrf_of(&get_page(&app, "/ui/", &other).await.text().await.unwrap());
    assert_ne!(csrf, foreign);

    let guarded: Vec<&UiRoute> = ROUTES
        .iter()
        .filter(|r| r.access == Access::SignedIn)
        .collect();
    for route in &guarded {
        let path = concrete(route, id);
        let what = |case: &str| format!("{:?} {path}: {case}", route.verb);
        let good =
            format!("csrf={csrf}&campaign=shop&click_id=clk-private&enabled=false&confirm=yes");
        for cookie in ["", "capi_session=nonsense"] {
            let resp = send(&app, route, &path, cookie, &good, None).await;
            assert_to_login(resp, &what(cookie)).await;
        }
        let stale = session_cookie(&sign_in_with(&old, OLD_TOKEN).await);
        let resp = send(&app, route, &path, &stale, &good, None).await;
        assert_to_login(resp, &what("old-token session")).await;

        if route.verb == Verb::Get {
            // Registered: a live session reaches the handler (a page, a file or the handler's
            // own 404 page), not the framework's unknown-route answer.
            let resp = send(&app, route, &path, &cookie, "", None).await;
            let kind = resp.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
            assert!(!kind.contains("problem+json"), "{} {kind}", what("live"));
            continue;
        }
        let refused = [
            ("enabled=false&confirm=yes".to_owned(), None),
            ("csrf=&enabled=false&confirm=yes".to_owned(), None),
            (format!("csrf={foreign}&enabled=false&confirm=yes"), None),
            (good.clone(), Some("https://evil.example")),
            (
                multipart(&[("csrf", &foreign), ("file", "click_id,status\n")]),
                None,
            ),
            (
                multipart(&[("file", "click_id,status\n"), ("csrf", &csrf)]),
                None,
            ),
            (multipart(&[("csrf", &csrf)]), Some("https://evil.example")),
        ];
        for (body, origin) in refused {
            let resp = send(&app, route, &path, &cookie, &body, origin).await;
            let case = format!("{body:?} from {origin:?}");
            assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{}", what(&case));
            let text = resp.text().await.unwrap();
            assert!(text.contains("Reload the page"), "{}: {text}", what(&case));
        }
    }

    // Nothing a refused request sent changed anything, and both live sessions are still live.
    let view = app.admin_get(&format!("/admin/v1/conversions/{id}")).await;
    assert_eq!(view["state"], "pending", "{view}");
    let campaign = app.admin_get("/admin/v1/campaigns/shop").await;
    assert_eq!(campaign["enabled"], true, "{campaign}");
    let click = app.admin_get("/admin/v1/clicks/clk-private").await;
    assert_eq!(click["click_id"], "clk-private", "{click}");
    let imports: i64 = sqlx::query_scalar("SELECT count(*) FROM imports")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(imports, 0);
    for c in [&cookie, &other] {
        assert_eq!(get_page(&app, "/ui/", c).await.status(), StatusCode::OK);
    }
}
