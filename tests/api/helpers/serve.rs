//! The compiled binary, as deployed: `capi-bridge serve` in its own process.

use serde_json::json;

use super::{
    ACCESS_TOKEN, ADMIN_TOKEN, LANDING_URL, METRICS_TOKEN, POSTBACK_KEY, TEST_SECRETS_KEY,
};

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
