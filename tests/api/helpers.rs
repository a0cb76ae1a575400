//! `spawn_app`: a fresh database, the real server on port 0, a fake Graph API and a fake TikTok
//! Events API (`tiktok.rs`).

pub mod alerts;
mod database;
pub mod dataset_quality;
pub mod gate;
pub mod meta;
pub mod outbox;
pub mod tiktok;

pub use database::{fresh_database, TestDatabase};

use capi_bridge::config::Cli;
use capi_bridge::delivery::{DeliveryWorker, TickReport};
use capi_bridge::startup::Application;
use clap::Parser;
use reqwest::header::CONTENT_TYPE;
use serde_json::{json, Value};
use sqlx::PgPool;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const ADMIN_TOKEN: &str = "test-admin-ca4ddd315e3f24c17a0a8332817682ce";
pub const POSTBACK_KEY: &str = "test-postback-406bf47557725e37438f9e564d014fd2";
pub const METRICS_TOKEN: &str = "test-metrics-7c1e0b9f42d86a53e1f0c4b2a9d7e635";
/// In `spawn_app_with`'s arguments: start without METRICS_TOKEN (not passed to the server).
pub const NO_METRICS_TOKEN: &str = "--test-no-metrics-token";
pub const ACCESS_TOKEN: &str = "EAAtest-access-token-987654321";
/// The landing page `create_campaign` gives every campaign: the `event_source_url` of events
/// whose click registered none.
pub const LANDING_URL: &str = "https://lp.example.com/offer";
/// A random AES-256 key: every test server's SECRETS_KEY unless the test chooses another.
pub const TEST_SECRETS_KEY: &str =
    "0265f25df38ba7b214fcce02add73d8f1921ae822574b76937ccd641b0d6700a";
pub const BROWSER_UA: &str =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub pool: PgPool,
    pub graph: MockServer,
    /// The fake TikTok Events API (`--tiktok-api-url`), answering `FakeTikTok::ok()` at first.
    pub tiktok: MockServer,
    pub worker: DeliveryWorker,
    /// The alert loop's service, for passes at chosen times.
    pub alerts: std::sync::Arc<capi_bridge::alerts::Alerts>,
    pub client: reqwest::Client,
    /// The Graph API version the server is configured with (`--meta-api-version`).
    pub api_version: String,
    pub database_url: String,
    /// The test's own database, dropped after the rest of the app; `None` for a second server
    /// on another test app's database (`spawn_on`).
    pub database: Option<TestDatabase>,
    /// The METRICS_ADDR listener's port, when the test asked for one.
    pub metrics_port: Option<u16>,
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
    let database = fresh_database().await;
    let mut app = spawn_on(&database, graph, extra).await;
    app.database = Some(database);
    app
}

/// A server on an existing database (a second process of the same deployment).
pub async fn spawn_on(database_url: &str, graph: MockServer, extra: &[&str]) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        capi_bridge::telemetry::init(capi_bridge::config::LogFormat::Pretty);
    }
    // Each server gets its own TikTok fake: no test yet shares one between two processes.
    let tiktok = MockServer::start().await;
    tiktok::FakeTikTok::ok().mount(&tiktok).await;
    let mut args = vec![
        "capi-bridge".to_owned(),
        "--database-url".into(),
        database_url.to_owned(),
        "--listen-addr".into(),
        "127.0.0.1:0".into(),
        "--http-workers".into(),
        "1".into(),
        "--database-max-connections".into(),
        "5".into(),
    ];
    // A test may put a gate (`gate.rs`) between the server and a fake, hold a request longer
    // than the usual timeout, or start with another token or key (a rotation).
    let defaults = [
        ("--admin-token", ADMIN_TOKEN.to_owned()),
        ("--postback-key", POSTBACK_KEY.to_owned()),
        ("--meta-graph-url", graph.uri()),
        ("--tiktok-api-url", tiktok.uri()),
        ("--delivery-timeout", "2s".to_owned()),
        // Meta's quality figures only when a test asks (they are GETs the Graph fake's readers
        // do not expect).
        ("--meta-quality-interval", "off".to_owned()),
        // As bin/up deploys; a test of the unencrypted choice passes `--secrets-key none`.
        ("--secrets-key", TEST_SECRETS_KEY.to_owned()),
    ];
    for (flag, value) in defaults {
        if !extra.contains(&flag) {
            args.extend([flag.to_owned(), value]);
        }
    }
    if !extra.contains(&NO_METRICS_TOKEN) {
        args.extend(["--metrics-token".to_owned(), METRICS_TOKEN.to_owned()]);
    }
    args.extend(
        extra
            .iter()
            .filter(|a| **a != NO_METRICS_TOKEN)
            .map(|s| s.to_string()),
    );
    let mut config = Cli::try_parse_from(args).expect("test config").config;
    // Tests drive delivery pass by pass, unless they ask for the background worker.
    config.run_delivery_worker = extra.contains(&"--delivery-poll-interval");
    let app = Application::build(config)
        .await
        .expect("application builds");
    let port = app.port();
    let pool = app.pool().clone();
    let worker = app.worker();
    let alerts = app.alerts();
    let metrics_port = app.metrics_port();
    let api_version = config_api_version(extra);
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        pool,
        graph,
        tiktok,
        worker,
        alerts,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        api_version,
        database_url: database_url.to_owned(),
        database: None,
        metrics_port,
    }
}

/// The server's default Graph API version, unless `extra` sets `--meta-api-version`.
fn config_api_version(extra: &[&str]) -> String {
    extra
        .iter()
        .position(|a| *a == "--meta-api-version")
        .and_then(|i| extra.get(i + 1))
        .map_or("v26.0", |v| v)
        .to_owned()
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

    /// `PATCH /admin/v1/campaigns/{key}` with `body`: the answer, whatever its status.
    pub async fn patch_campaign(&self, key: &str, body: Value) -> reqwest::Response {
        let path = format!("/admin/v1/campaigns/{key}");
        self.admin(reqwest::Method::PATCH, &path, Some(body)).await
    }

    /// [`Self::patch_campaign`] that must succeed: the campaign as it now reads.
    pub async fn patch_campaign_ok(&self, key: &str, body: Value) -> Value {
        let resp = self.patch_campaign(key, body).await;
        assert_eq!(resp.status(), 200, "PATCH {key}");
        resp.json().await.unwrap()
    }

    /// `GET /v1/campaigns/{key}/tag-config`, which must answer 200: the config the tag reads.
    pub async fn tag_config(&self, key: &str) -> Value {
        let url = self.url(&format!("/v1/campaigns/{key}/tag-config"));
        let resp = self.client.get(url).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{key}");
        resp.json().await.unwrap()
    }

    /// Registers a click on `campaign` with the fields of `click` and sends a generic lead
    /// postback for it (txid `tx-<click id>`); the postback's answer.
    pub async fn click_and_lead(&self, campaign: &str, click_id: &str, click: Value) -> Value {
        let mut body = json!({"campaign": campaign, "click_id": click_id});
        for (k, v) in click.as_object().cloned().unwrap_or_default() {
            body[k] = v;
        }
        let resp = self.register_click(body).await;
        assert_eq!(resp.status(), 201, "click {click_id}");
        let query = format!("click_id={click_id}&status=lead&txid=tx-{click_id}");
        let resp = self.postback("generic", &query).await;
        assert_eq!(resp.status(), 200, "postback {click_id}");
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

    /// POSTs a click as the landing tag does: from the browser, with the click's update token.
    pub async fn register_click_with_token(&self, body: Value, token: &str) -> reqwest::Response {
        let mut body = body;
        body["update_token"] = Value::String(token.to_owned());
        self.register_click_public(body).await
    }

    /// POSTs a click from a browser at `forwarded_for`, as a trusted proxy (the app must run
    /// with `--trusted-proxies 127.0.0.1/32`) passes it on.
    pub async fn register_click_from(&self, forwarded_for: &str, body: Value) -> reqwest::Response {
        self.client
            .post(self.url("/v1/clicks"))
            .header("user-agent", BROWSER_UA)
            .header("x-forwarded-for", forwarded_for)
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

    /// GET /metrics with the metrics token: 200, OpenMetrics text.
    pub async fn scrape_metrics(&self) -> String {
        let resp = self
            .client
            .get(self.url("/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()[CONTENT_TYPE],
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
        resp.text().await.unwrap()
    }

    pub async fn deliver(&self) -> TickReport {
        self.worker.tick().await.expect("delivery pass")
    }

    /// Every request body the fake Graph API received, in order. The fake answers any path, so
    /// this checks each request's path: `/{configured version}/{pixel}/events`, where the
    /// pixel is the pixel of the campaign of every event the request carries (looked up in the
    /// database; events whose campaign was deleted since cannot be checked).
    pub async fn graph_requests(&self) -> Vec<Value> {
        let received = self.graph.received_requests().await.unwrap_or_default();
        let mut bodies = Vec::with_capacity(received.len());
        for r in &received {
            assert_eq!(r.method.as_str(), "POST", "{} {}", r.method, r.url);
            let body: Value = serde_json::from_slice(&r.body).expect("graph request is JSON");
            let path = r.url.path();
            let ids: Vec<String> = body["data"]
                .as_array()
                .map(|d| {
                    d.iter()
                        .filter_map(|e| e["event_id"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let parts: Vec<&str> = path.split('/').collect();
            assert!(
                parts.len() == 4 && parts[0].is_empty() && parts[3] == "events",
                "a request went to {path}"
            );
            assert_eq!(
                parts[1], self.api_version,
                "a request went to {path}: not the configured API version"
            );
            let pixel = parts[2];
            let by_event: Vec<(String, Vec<String>)> = sqlx::query_as(
                "SELECT e.event_id, array_agg(DISTINCT c.pixel_id) FROM events e \
                 JOIN campaigns c ON c.id = e.campaign_id WHERE e.event_id = ANY($1) \
                 GROUP BY e.event_id",
            )
            .bind(&ids)
            .fetch_all(&self.pool)
            .await
            .expect("pixels of the events sent");
            for (id, pixels) in by_event {
                assert!(
                    pixels.iter().any(|p| p == pixel),
                    "event {id} of pixel {pixels:?} went to {path}"
                );
            }
            bodies.push(body);
        }
        bodies
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
    // Every answer carries its request id, and a problem quotes the same one.
    let request_id = resp
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_owned())
        .expect("X-Request-Id header");
    let body: Value = resp.json().await.expect("problem body is JSON");
    assert_eq!(body["request_id"], request_id.as_str(), "{body}");
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["code", "detail", "request_id", "status", "title", "type"],
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

// ---------------------------------------------------------------------------------------------
// The compiled binary, as deployed: `capi-bridge serve` in its own process.
// ---------------------------------------------------------------------------------------------

/// The compiled `capi-bridge`, with none of the settings it reads from the environment
/// inherited from the test's environment.
pub fn binary() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_capi-bridge"));
    for (var, _) in std::env::vars() {
        if var.starts_with("DATABASE_")
            || var.starts_with("DELIVERY_")
            || var.starts_with("META_")
            || var.starts_with("TIKTOK_")
            || var.starts_with("SECRETS_KEY")
            || [
                "ADMIN_TOKEN",
                "POSTBACK_KEY",
                "LISTEN_ADDR",
                "RUST_LOG",
                "LOG_FORMAT",
                "HTTP_WORKERS",
                "SHUTDOWN_TIMEOUT",
                "REQUEST_TIMEOUT",
                "UNMATCHED_GRACE",
            ]
            .contains(&var.as_str())
        {
            cmd.env_remove(var);
        }
    }
    cmd
}

/// A port nothing listens on (just now).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A `capi-bridge serve` process; its stdout and stderr go to `log_path`. Killed on drop.
pub struct ServeProcess {
    pub child: std::process::Child,
    pub base: String,
    pub log_path: std::path::PathBuf,
    pub client: reqwest::Client,
}

/// Starts `capi-bridge serve` on `database_url` with Meta at `graph_url` (JSON logs at info,
/// delivery polling every 50 ms); `env` adds or overrides settings. Waits until it is healthy.
pub async fn spawn_serve(
    database_url: &str,
    graph_url: &str,
    env: &[(&str, &str)],
) -> ServeProcess {
    let port = free_port();
    let log_path = std::env::temp_dir().join(format!(
        "capi-serve-{}-{port}-{}.log",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let log = std::fs::File::create(&log_path).unwrap();
    let mut cmd = binary();
    cmd.arg("serve")
        .env("DATABASE_URL", database_url)
        .env("ADMIN_TOKEN", ADMIN_TOKEN)
        .env("POSTBACK_KEY", POSTBACK_KEY)
        .env("METRICS_TOKEN", METRICS_TOKEN)
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("META_GRAPH_URL", graph_url)
        // Its Graph fake answers events only: no quality fetches.
        .env("META_QUALITY_INTERVAL", "off")
        .env("SECRETS_KEY", TEST_SECRETS_KEY)
        .env("DELIVERY_POLL_INTERVAL", "50ms")
        .env("HTTP_WORKERS", "1")
        .env("DATABASE_MAX_CONNECTIONS", "5")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start capi-bridge serve");
    let mut process = ServeProcess {
        child,
        base: format!("http://127.0.0.1:{port}"),
        log_path,
        client: reqwest::Client::new(),
    };
    for _ in 0..200 {
        if let Ok(r) = process.client.get(process.url("/healthz")).send().await {
            if r.status().is_success() {
                return process;
            }
        }
        if let Ok(Some(status)) = process.child.try_wait() {
            panic!("capi-bridge serve exited with {status}: {}", process.logs());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "capi-bridge serve did not become healthy: {}",
        process.logs()
    );
}

impl ServeProcess {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Creates campaign `key` on `pixel_id`.
    pub async fn create_campaign(&self, key: &str, pixel_id: &str) {
        let resp = self
            .client
            .post(self.url("/admin/v1/campaigns"))
            .bearer_auth(ADMIN_TOKEN)
            .json(
                &json!({"key": key, "pixel_id": pixel_id, "access_token": ACCESS_TOKEN,
                "landing_url": LANDING_URL}),
            )
            .send()
            .await
            .expect("create campaign");
        assert_eq!(resp.status(), 201, "create campaign {key}");
    }

    /// SIGTERM, then waits for the exit; returns the exit status and how long it took.
    pub async fn terminate(&mut self) -> (std::process::ExitStatus, std::time::Duration) {
        let started = std::time::Instant::now();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM");
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, started.elapsed());
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "still running a minute after SIGTERM"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::env::var("KEEP_LOGS").is_err() {
            let _ = std::fs::remove_file(&self.log_path);
        }
    }
}

/// Takes the `update_token` out of a click registration's answer, checked to be one (32-128
/// of `A-Z a-z 0-9 _ -`), so the rest can be compared whole.
pub fn take_update_token(body: &mut Value) -> String {
    let token = body
        .as_object_mut()
        .and_then(|o| o.remove("update_token"))
        .and_then(|t| t.as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no update_token in {body}"));
    assert!(
        (32..=128).contains(&token.len())
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
        "{token:?}"
    );
    token
}

/// Registers click `click_id` on `campaign` at `base`, and a Keitaro lead postback for it;
/// returns the postback's answer, checked to be `accepted`.
pub async fn queue_lead_via(
    client: &reqwest::Client,
    base: &str,
    campaign: &str,
    click_id: &str,
) -> Value {
    let resp = client
        .post(format!("{base}/v1/clicks"))
        .header("user-agent", BROWSER_UA)
        .json(&json!({"campaign": campaign, "click_id": click_id}))
        .send()
        .await
        .expect("click request");
    assert_eq!(resp.status(), 201, "click {click_id}");
    let resp = client
        .get(format!(
            "{base}/v1/postback/keitaro?key={POSTBACK_KEY}&subid={click_id}&status=lead"
        ))
        .send()
        .await
        .expect("postback request");
    assert_eq!(resp.status(), 200, "postback {click_id}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "accepted", "{body}");
    body
}

/// [`queue_lead_via`], returning the queued event's id.
pub async fn lead_via(
    client: &reqwest::Client,
    base: &str,
    campaign: &str,
    click_id: &str,
) -> String {
    queue_lead_via(client, base, campaign, click_id).await["events"][0]["event_id"]
        .as_str()
        .expect("event_id")
        .to_owned()
}

/// Every request the fake received, as (path, body).
pub async fn received(graph: &MockServer) -> Vec<(String, Value)> {
    graph
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            (
                r.url.path().to_owned(),
                serde_json::from_slice(&r.body).expect("graph request is JSON"),
            )
        })
        .collect()
}

/// Polls `check` every 50 ms until it gives `Some`, for at most `timeout`; panics with
/// `what` and the last state otherwise.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: std::time::Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match check().await {
            Ok(v) => return v,
            Err(state) => assert!(
                std::time::Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {what}: {state}"
            ),
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
