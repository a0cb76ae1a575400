//! Failed authentication is limited per client address (IPv6: per /64) on every credential (the
//! admin token, the postback key, the metrics token, the dashboard's sign-in), while a valid
//! credential always passes; the log gets a summary naming the network, never the address.

use reqwest::{Response, StatusCode};

use crate::helpers::ui::FORM;
use crate::helpers::*;

/// The app behind a "proxy" on 127.0.0.1, so each request can say which client it is from.
async fn app_with_limit(limit: &str) -> TestApp {
    spawn_app_with(&[
        "--auth-failure-limit",
        limit,
        "--trusted-proxies",
        "127.0.0.1",
    ])
    .await
}

/// Each credential's request, as client `from`, with `secret`.
#[derive(Clone, Copy, Debug)]
enum Route {
    Admin,
    Postback,
    /// A server-side click registration, with the postback key.
    Click,
    Metrics,
    SignIn,
}

const ROUTES: [Route; 5] = [
    Route::Admin,
    Route::Postback,
    Route::Click,
    Route::Metrics,
    Route::SignIn,
];

impl Route {
    fn right(self) -> &'static str {
        match self {
            Route::Admin | Route::SignIn => ADMIN_TOKEN,
            Route::Postback | Route::Click => POSTBACK_KEY,
            Route::Metrics => METRICS_TOKEN,
        }
    }

    async fn send(self, app: &TestApp, from: &str, secret: &str) -> Response {
        let c = &app.client;
        let req = match self {
            Route::Admin => c.get(app.url("/admin/v1/campaigns")).bearer_auth(secret),
            Route::Postback => c.get(app.url(&format!(
                "/v1/postback/keitaro?key={secret}&subid=auth-1&status=lead"
            ))),
            Route::Click => c
                .post(app.url("/v1/clicks"))
                .header("x-postback-key", secret)
                .json(&serde_json::json!({"campaign": "auth", "click_id": "auth-1"})),
            Route::Metrics => c.get(app.url("/metrics")).bearer_auth(secret),
            Route::SignIn => c
                .post(app.url("/ui/login"))
                .header("content-type", FORM)
                .body(format!("token={secret}")),
        };
        req.header("x-forwarded-for", from).send().await.unwrap()
    }
}

const WRONG: &str = "wrong-secret-4f1c9a7e2b8d03f6";

fn is_success(route: Route, status: StatusCode) -> bool {
    match route {
        // A sign-in redirects to the overview.
        Route::SignIn => status == StatusCode::SEE_OTHER,
        _ => status.is_success(),
    }
}

#[tokio::test]
async fn wrong_credentials_are_throttled_per_address_and_right_ones_always_pass() {
    let app = app_with_limit("3/m").await;
    app.create_campaign("auth", serde_json::json!({})).await;
    for (i, route) in ROUTES.into_iter().enumerate() {
        // A fresh address per credential: three failures are 401, the next ones 429.
        let from = format!("203.0.113.{}", 10 + i);
        for n in 0..3 {
            let resp = route.send(&app, &from, WRONG).await;
            assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{route:?} #{n}");
        }
        for _ in 0..2 {
            let resp = route.send(&app, &from, WRONG).await;
            assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS, "{route:?}");
            let wait: u64 = resp.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&wait), "{route:?}: {wait}");
            if let Route::SignIn = route {
                let page = resp.text().await.unwrap();
                assert!(page.contains("Too many sign-in attempts"), "{page}");
            } else {
                let detail = assert_problem(resp, 429, "too_many_failed_attempts").await;
                assert!(detail.contains("valid credential"), "{detail}");
            }
        }
        // The right credential passes from the throttled address, and does not reset it.
        let resp = route.send(&app, &from, route.right()).await;
        assert!(is_success(route, resp.status()), "{route:?}: {resp:?}");
        let resp = route.send(&app, &from, WRONG).await;
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS, "{route:?}");
        // Another address is not limited.
        let resp = route.send(&app, &format!("198.51.100.{i}"), WRONG).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{route:?}");
    }
    let metrics = app.scrape_metrics().await;
    for route in [
        "/admin/v1",
        "/v1/postback",
        "/v1/clicks",
        "/metrics",
        "/ui/login",
    ] {
        let line = format!(r#"capi_bridge_auth_failures_total{{route="{route}"}} "#);
        let n: u64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&line))
            .unwrap_or_else(|| panic!("{line} in {metrics}"))
            .parse()
            .unwrap();
        assert!(n >= 6, "{line}{n}");
    }
}

/// The budget is the address's, whichever credential it guesses; an IPv6 client's is its /64's.
#[tokio::test]
async fn one_budget_per_address_across_credentials_and_per_ipv6_64() {
    let app = app_with_limit("5/m").await;
    let from = "203.0.113.50";
    for route in ROUTES {
        let resp = route.send(&app, from, WRONG).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{route:?}");
    }
    for route in ROUTES {
        let resp = route.send(&app, from, WRONG).await;
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS, "{route:?}");
    }
    // Five addresses of one /64 are one client: the dashboard counted each before.
    for n in 1..=5 {
        let resp = Route::SignIn
            .send(&app, &format!("2001:db8:7:8::{n}"), WRONG)
            .await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{n}");
    }
    let resp = Route::SignIn
        .send(&app, "2001:db8:7:8:ffff::1", WRONG)
        .await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let resp = Route::SignIn.send(&app, "2001:db8:7:9::1", WRONG).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "another /64");
}

/// A tracker that still sends part of its postbacks with a stale key keeps the others.
#[tokio::test]
async fn a_tracker_with_a_stale_key_loses_none_of_its_right_postbacks() {
    let app = app_with_limit("2/m").await;
    app.create_campaign("stale", serde_json::json!({})).await;
    let tracker = "192.0.2.44";
    let mut recorded = 0;
    for n in 0..10 {
        let stale = Route::Postback.send(&app, tracker, WRONG).await;
        assert!(
            [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(&stale.status()),
            "{stale:?}"
        );
        let resp = app
            .client
            .get(app.url(&format!(
                "/v1/postback/keitaro?key={POSTBACK_KEY}&subid=stale-{n}&tid=t{n}&status=lead"
            )))
            .header("x-forwarded-for", tracker)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{resp:?}");
        recorded += 1;
    }
    assert_eq!(recorded, 10);
    let list = app.admin_get("/admin/v1/conversions?limit=100").await;
    assert_eq!(list["conversions"].as_array().unwrap().len(), 10, "{list}");
}

/// The log says how many failures came from which network, at most once a minute per network,
/// without the address or the secret tried.
#[tokio::test]
async fn failures_are_summarised_in_the_log_by_network() {
    let database = fresh_database().await;
    let graph = wiremock::MockServer::start().await;
    let serve = spawn_serve(&database, &graph.uri(), &[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    for n in 0..5 {
        let resp = serve
            .client
            .get(serve.url("/admin/v1/campaigns"))
            .bearer_auth(WRONG)
            .header("x-forwarded-for", format!("203.0.113.{}", 100 + n))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
    }
    let logs = wait_for(
        "the failure summary",
        std::time::Duration::from_secs(5),
        || async {
            let logs = serve.logs();
            if logs.contains("failed authentication") {
                Ok(logs)
            } else {
                Err("no summary yet".to_owned())
            }
        },
    )
    .await;
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("failed authentication"))
        .collect();
    assert_eq!(lines.len(), 1, "one line a minute: {lines:?}");
    let line = lines[0];
    for part in [
        r#""level":"WARN""#,
        r#""network":"203.0.113.0/24""#,
        r#""failures":1"#,
        r#""route":"/admin/v1""#,
    ] {
        assert!(line.contains(part), "{part} in {line}");
    }
    assert!(!logs.contains("203.0.113.100"), "the address: {logs}");
    assert!(!logs.contains(WRONG), "the secret tried: {logs}");
}
