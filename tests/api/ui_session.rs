//! The dashboard's sign-in, session cookie, sign-out, CSRF and throttling, over HTTP against the
//! real server and database.

use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::{Response, StatusCode};

use crate::helpers::ui::{csrf_of, get_page, sign_in, sign_in_with, FORM};
use crate::helpers::*;

async fn sign_out(app: &TestApp, cookie: &str, body: &str, origin: Option<&str>) -> Response {
    let mut req = app
        .client
        .post(app.url("/ui/logout"))
        .header("cookie", cookie)
        .header("content-type", FORM)
        .body(body.to_owned());
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    req.send().await.expect("sign-out request")
}

fn assert_to_login(resp: &Response, what: &str) {
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{what}");
    assert_eq!(resp.headers()[LOCATION], "/ui/login", "{what}");
}

/// The sign-in page and its assets are public (the guard's own test proves the rest is not).
#[tokio::test]
async fn the_sign_in_page_and_its_assets_are_public() {
    let app = spawn_app().await;
    app.create_campaign("shop", serde_json::json!({})).await;
    let resp = get_page(&app, "/ui", "").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/ui/");
    let resp = get_page(&app, "/ui/login", "").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains(r#"<label for="token">Admin token</label>"#),
        "{page}"
    );
    assert!(!page.contains("shop"));
    let resp = get_page(&app, "/ui/app.css", "").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
}

#[tokio::test]
async fn the_session_cookie_is_http_only_strict_and_expires() {
    let app = spawn_app().await;
    let resp = sign_in_with(&app, ADMIN_TOKEN).await;
    let set = resp.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(set.starts_with("capi_session="), "{set}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/ui", "Max-Age=43200"] {
        assert!(set.split("; ").any(|a| a == attr), "{attr} in {set}");
    }
    assert!(!set.contains("Secure"), "plain http: {set}");
    assert!(!set.contains(ADMIN_TOKEN), "the cookie is not the token");

    let app = spawn_app_with(&[
        "--public-url",
        "https://bridge.example",
        "--ui-session-ttl",
        "1h",
    ])
    .await;
    let resp = sign_in_with(&app, ADMIN_TOKEN).await;
    let set = resp.headers()[SET_COOKIE].to_str().unwrap();
    assert!(set.split("; ").any(|a| a == "Secure"), "{set}");
    assert!(set.contains("Max-Age=3600"), "{set}");
}

#[tokio::test]
async fn a_wrong_token_is_refused_and_repeated_ones_throttled() {
    let app = spawn_app().await;
    let resp = sign_in_with(&app, "not-the-admin-token-at-all").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.headers().get(SET_COOKIE).is_none());
    let page = resp.text().await.unwrap();
    assert!(page.contains("That is not the admin token."), "{page}");
    assert!(!page.contains("not-the-admin-token-at-all"), "never echoed");
    assert!(!page.contains(ADMIN_TOKEN));

    // AUTH_FAILURE_LIMIT's default, 10 a minute, counts the first wrong token too.
    let mut statuses = vec![];
    for _ in 0..11 {
        statuses.push(
            sign_in_with(&app, "still-a-wrong-token-1234")
                .await
                .status(),
        );
    }
    assert_eq!(statuses[..9], [StatusCode::UNAUTHORIZED; 9]);
    assert_eq!(statuses[9..], [StatusCode::TOO_MANY_REQUESTS; 2]);
    let resp = sign_in_with(&app, "still-a-wrong-token-1234").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().get("retry-after").is_some());
    assert!(resp.headers().get(SET_COOKIE).is_none());
    let page = resp.text().await.unwrap();
    assert!(page.contains("Too many sign-in attempts"), "{page}");
    // Only failures are limited: the right token signs in from the same address.
    let resp = sign_in_with(&app, ADMIN_TOKEN).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(resp.headers().get(SET_COOKIE).is_some());
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let app = spawn_app().await;
    let cookie = sign_in(&app).await;
    let page = get_page(&app, "/ui/", &cookie).await.text().await.unwrap();
    let csrf = csrf_of(&page);
    assert!(csrf.bytes().all(|b| b.is_ascii_hexdigit()), "{csrf}");

    let own = format!("http://127.0.0.1:{}", app.port);
    let resp = sign_out(&app, &cookie, &format!("csrf={csrf}"), Some(&own)).await;
    assert_to_login(&resp, "sign-out");
    let cleared = resp.headers()[SET_COOKIE].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    // The old cookie no longer opens anything, even if the browser kept it.
    assert_to_login(&get_page(&app, "/ui/", &cookie).await, "old cookie");
    assert_to_login(
        &sign_out(&app, &cookie, &format!("csrf={csrf}"), None).await,
        "old cookie, sign-out again",
    );
}

/// After a restart with a new ADMIN_TOKEN, a session signed in with the old one opens nothing
/// (the campaign page shows the postback key; ui_guard proves it on every route). A restart
/// with the same token keeps sessions. The database holds neither the token nor the cookie.
#[tokio::test]
async fn rotating_the_admin_token_ends_the_sessions_it_signed_in() {
    let app = spawn_app().await;
    app.create_campaign("rot", serde_json::json!({})).await;
    let cookie = sign_in(&app).await;
    let page = get_page(&app, "/ui/campaigns/rot", &cookie).await;
    assert_eq!(page.status(), StatusCode::OK);
    let id = cookie.trim_start_matches("capi_session=");
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT id_hash, csrf_token, token_fingerprint FROM ui_sessions")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), 1);
    for value in [&rows[0].0, &rows[0].2] {
        assert!(value.len() == 64 && value != id, "{value}");
        assert!(!value.contains(ADMIN_TOKEN), "{value}");
    }

    // Another process with the same token (a restart): still signed in.
    let same = spawn_on(&app.database_url, wiremock::MockServer::start().await, &[]).await;
    let resp = get_page(&same, "/ui/campaigns/rot", &cookie).await;
    assert_eq!(resp.status(), StatusCode::OK);

    let new_token = "rotated-admin-token-5e0c2b9f71a4d836";
    let rotated = spawn_on(
        &app.database_url,
        wiremock::MockServer::start().await,
        &["--admin-token", new_token],
    )
    .await;
    let resp = get_page(&rotated, "/ui/campaigns/rot", &cookie).await;
    assert_to_login(&resp, "old session, new token");
    let body = resp.text().await.unwrap();
    assert!(!body.contains(POSTBACK_KEY), "{body}");
    // The session is gone for good: not even the old token's process opens it again.
    assert_to_login(&get_page(&app, "/ui/", &cookie).await, "ended for good");
    // The new token signs in.
    let resp = sign_in_with(&rotated, new_token).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/ui/");
}

#[tokio::test]
async fn sign_out_everywhere_ends_every_browsers_session() {
    let app = spawn_app().await;
    let laptop = sign_in(&app).await;
    let phone = sign_in(&app).await;
    let page = get_page(&app, "/ui/", &laptop).await.text().await.unwrap();
    assert!(
        page.contains(r#"action="/ui/logout-everywhere""#) && page.contains("Sign out everywhere"),
        "{page}"
    );
    let csrf = csrf_of(&page);
    let everywhere = |cookie: &str, body: String, origin: Option<&str>| {
        let mut req = app
            .client
            .post(app.url("/ui/logout-everywhere"))
            .header("cookie", cookie)
            .header("content-type", FORM)
            .body(body);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    let resp = everywhere(&laptop, format!("csrf={csrf}"), None)
        .await
        .unwrap();
    assert_to_login(&resp, "sign out everywhere");
    assert!(resp.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    for cookie in [&laptop, &phone] {
        assert_to_login(&get_page(&app, "/ui/", cookie).await, "every session");
    }
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM ui_sessions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
    // Without a session it is just the sign-in page.
    let resp = everywhere("", format!("csrf={csrf}"), None).await.unwrap();
    assert_to_login(&resp, "no session");
}
