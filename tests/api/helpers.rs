//! `spawn_app`: a fresh database, the real server on port 0, and a fake Graph API.

use std::sync::atomic::{AtomicU64, Ordering};

use capi_bridge::config::Cli;
use capi_bridge::delivery::{DeliveryWorker, TickReport};
use capi_bridge::startup::Application;
use clap::Parser;
use reqwest::header::CONTENT_TYPE;
use serde_json::{json, Value};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const ADMIN_TOKEN: &str = "test-admin-ca4ddd315e3f24c17a0a8332817682ce";
pub const POSTBACK_KEY: &str = "test-postback-406bf47557725e37438f9e564d014fd2";
pub const ACCESS_TOKEN: &str = "EAAtest-access-token-987654321";
/// The landing page `create_campaign` gives every campaign: the `event_source_url` of events
/// whose click registered none.
pub const LANDING_URL: &str = "https://lp.example.com/offer";
pub const BROWSER_UA: &str =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub pool: PgPool,
    pub graph: MockServer,
    pub worker: DeliveryWorker,
    pub client: reqwest::Client,
    pub database_url: String,
}

fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A new, empty database for one test.
pub async fn fresh_database() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "capi_test_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        uuid::Uuid::new_v4().simple()
    );
    let server = server_url();
    let mut conn = PgConnection::connect(&server)
        .await
        .expect("TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) must reach Postgres");
    conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
        .await
        .expect("create test database");
    let (base, _) = server.rsplit_once('/').expect("database url has a path");
    format!("{base}/{name}")
}

/// Answers like Meta: `events_received` = the number of events in the request.
pub struct GraphOk;

impl Respond for GraphOk {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let n = serde_json::from_slice::<Value>(&req.body)
            .ok()
            .and_then(|b| b["data"].as_array().map(Vec::len))
            .unwrap_or(0);
        ResponseTemplate::new(200).set_body_json(
            json!({"events_received": n, "messages": [], "fbtrace_id": "AbFakeTrace"}),
        )
    }
}

/// Meta's error body.
pub fn graph_error(
    status: u16,
    code: i64,
    subcode: Option<i64>,
    transient: bool,
    user_msg: &str,
) -> ResponseTemplate {
    let mut error = json!({
        "message": "Invalid parameter",
        "type": "OAuthException",
        "code": code,
        "is_transient": transient,
        "error_user_msg": user_msg,
        "fbtrace_id": "AbErrTrace",
    });
    if let Some(s) = subcode {
        error["error_subcode"] = json!(s);
    }
    ResponseTemplate::new(status).set_body_json(json!({ "error": error }))
}

pub async fn mount_graph_ok(graph: &MockServer) {
    Mock::given(method("POST"))
        .and(path_regex(r"^/v[0-9]+\.[0-9]+/[0-9]+/events$"))
        .respond_with(GraphOk)
        .mount(graph)
        .await;
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// `extra` are command-line flags (`--unmatched-grace`, `--delivery-batch-max`...).
pub async fn spawn_app_with(extra: &[&str]) -> TestApp {
    let graph = MockServer::start().await;
    mount_graph_ok(&graph).await;
    let database_url = fresh_database().await;
    spawn_on(&database_url, graph, extra).await
}

/// A server on an existing database (a second process of the same deployment).
pub async fn spawn_on(database_url: &str, graph: MockServer, extra: &[&str]) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        capi_bridge::telemetry::init(capi_bridge::config::LogFormat::Pretty);
    }
    let mut args = vec![
        "capi-bridge".to_owned(),
        "--database-url".into(),
        database_url.to_owned(),
        "--listen-addr".into(),
        "127.0.0.1:0".into(),
        "--admin-token".into(),
        ADMIN_TOKEN.into(),
        "--postback-key".into(),
        POSTBACK_KEY.into(),
        "--meta-graph-url".into(),
        graph.uri(),
        "--http-workers".into(),
        "1".into(),
        "--database-max-connections".into(),
        "5".into(),
        "--delivery-timeout".into(),
        "2s".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut config = Cli::try_parse_from(args).expect("test config").config;
    // Tests drive delivery pass by pass, unless they ask for the background worker.
    config.run_delivery_worker = extra.contains(&"--delivery-poll-interval");
    let app = Application::build(config)
        .await
        .expect("application builds");
    let port = app.port();
    let pool = app.pool().clone();
    let worker = app.worker();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        pool,
        graph,
        worker,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        database_url: database_url.to_owned(),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(ADMIN_TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("admin request")
    }

    pub async fn admin_get(&self, path: &str) -> Value {
        let resp = self.admin(reqwest::Method::GET, path, None).await;
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.unwrap()
    }

    /// Creates a campaign `key` on pixel 1234567890 with the landing page [`LANDING_URL`], as the
    /// README's set-up asks; `extra` fields override the defaults.
    pub async fn create_campaign(&self, key: &str, extra: Value) -> Value {
        let mut body = json!({
            "key": key,
            "name": format!("Campaign {key}"),
            "pixel_id": "1234567890",
            "access_token": ACCESS_TOKEN,
            "landing_url": LANDING_URL,
        });
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            body[k] = v;
        }
        let resp = self
            .admin(reqwest::Method::POST, "/admin/v1/campaigns", Some(body))
            .await;
        assert_eq!(resp.status(), 201, "create campaign {key}");
        resp.json().await.unwrap()
    }

    /// POSTs a click as JSON with a browser User-Agent, as a server-side caller (with the
    /// postback key), which may set `client_ip_address` and `client_user_agent`.
    pub async fn register_click(&self, body: Value) -> reqwest::Response {
        self.client
            .post(self.url("/v1/clicks"))
            .header("user-agent", BROWSER_UA)
            .header("x-postback-key", POSTBACK_KEY)
            .json(&body)
            .send()
            .await
            .expect("click request")
    }

    /// POSTs a click as JSON the way a landing page does: from the browser, without the key.
    pub async fn register_click_public(&self, body: Value) -> reqwest::Response {
        self.client
            .post(self.url("/v1/clicks"))
            .header("user-agent", BROWSER_UA)
            .json(&body)
            .send()
            .await
            .expect("click request")
    }

    /// GET /v1/postback/{tracker}?key=...&{query}
    pub async fn postback(&self, tracker: &str, query: &str) -> reqwest::Response {
        self.client
            .get(format!(
                "{}/v1/postback/{tracker}?key={POSTBACK_KEY}&{query}",
                self.address
            ))
            .send()
            .await
            .expect("postback request")
    }

    pub async fn deliver(&self) -> TickReport {
        self.worker.tick().await.expect("delivery pass")
    }

    /// Every request body the fake Graph API received, in order.
    pub async fn graph_requests(&self) -> Vec<Value> {
        self.graph
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path().ends_with("/events"))
            .map(|r| serde_json::from_slice(&r.body).expect("graph request is JSON"))
            .collect()
    }

    /// Every event the fake Graph API received, across requests.
    pub async fn graph_events(&self) -> Vec<Value> {
        self.graph_requests()
            .await
            .iter()
            .flat_map(|r| r["data"].as_array().cloned().unwrap_or_default())
            .collect()
    }
}

/// A problem body: the exact set of members, the status and code; returns the detail.
pub async fn assert_problem(resp: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(resp.status(), status, "status");
    let content_type = resp
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/problem+json"),
        "content-type {content_type:?}"
    );
    let body: Value = resp.json().await.expect("problem body is JSON");
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["code", "detail", "status", "title", "type"],
        "{body}"
    );
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(
        body["type"],
        format!("https://capi-bridge.dev/problems/{code}"),
        "{body}"
    );
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    body["detail"].as_str().unwrap().to_owned()
}
