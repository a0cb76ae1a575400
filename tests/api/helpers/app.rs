//! `spawn_app`: a fresh database, the real server on port 0, a fake Graph API and a fake TikTok
//! Events API (`tiktok.rs`), all dropped with the `TestApp`.

use capi_bridge::config::Cli;
use capi_bridge::delivery::DeliveryWorker;
use capi_bridge::startup::Application;
use clap::Parser;
use sqlx::PgPool;
use wiremock::MockServer;

use super::database::{fresh_database, TestDatabase};
use super::meta::mount_graph_ok;
use super::{tiktok, ADMIN_TOKEN, METRICS_TOKEN, NO_METRICS_TOKEN, POSTBACK_KEY, TEST_SECRETS_KEY};

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
