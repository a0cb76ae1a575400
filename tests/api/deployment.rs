//! The shipped artefacts: the binary's command line, the compose file and the Dockerfile.

use std::process::Command;

use crate::helpers::*;

pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_capi-bridge"));
    for var in [
        "DATABASE_URL",
        "ADMIN_TOKEN",
        "POSTBACK_KEY",
        "LISTEN_ADDR",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

#[test]
fn a_missing_setting_is_one_line_naming_the_variable() {
    let out = bin()
        .env("DATABASE_URL", "postgres://nowhere/x")
        .env("POSTBACK_KEY", "0123456789abcdef0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("ADMIN_TOKEN"), "{err}");

    let out = bin().env("ADMIN_TOKEN", "short").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("ADMIN_TOKEN must be at least 16 characters"),
        "{err}"
    );

    let out = bin()
        .env("LISTEN_ADDR", "nope")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("LISTEN_ADDR"));

    let out = bin().arg("migrate").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL is required"));
}

#[test]
fn help_documents_every_setting_and_hides_secret_values() {
    let out = bin()
        .env("ADMIN_TOKEN", "super-secret-admin-token-value")
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for var in [
        "DATABASE_URL",
        "LISTEN_ADDR",
        "ADMIN_TOKEN",
        "POSTBACK_KEY",
        "META_GRAPH_URL",
        "META_API_VERSION",
        "TRUSTED_PROXIES",
        "LOG_FORMAT",
        "UNMATCHED_GRACE",
        "DELIVERY_BATCH_MAX",
        "DELIVERY_POLL_INTERVAL",
        "DELIVERY_RETRY_DELAYS",
        "DELIVERY_TIMEOUT",
        "DELIVERY_CONCURRENCY",
        "META_APP_SECRET",
    ] {
        assert!(help.contains(var), "--help does not mention {var}");
    }
    for cmd in ["serve", "migrate", "healthcheck"] {
        assert!(help.contains(cmd), "--help does not mention {cmd}");
    }
    assert!(!help.contains("super-secret-admin-token-value"));
}

#[tokio::test]
async fn healthcheck_command_reports_the_servers_health() {
    let app = spawn_app().await;
    let port = app.port;
    let ok = tokio::task::spawn_blocking(move || {
        bin()
            .args(["healthcheck", "--listen-addr", &format!("0.0.0.0:{port}")])
            .status()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(ok.success());
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = closed.local_addr().unwrap().port();
    drop(closed);
    let down = bin()
        .args([
            "healthcheck",
            "--listen-addr",
            &format!("127.0.0.1:{dead_port}"),
        ])
        .status()
        .unwrap();
    assert_eq!(down.code(), Some(1));
}

#[tokio::test]
async fn migrate_command_applies_the_schema_and_is_repeatable() {
    let url = fresh_database().await;
    for _ in 0..2 {
        let out = bin()
            .args(["migrate", "--database-url", &url])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for t in [
        "campaigns",
        "clicks",
        "conversions",
        "delivery_attempts",
        "events",
    ] {
        assert!(tables.contains(&t.to_owned()), "{t} missing: {tables:?}");
    }
}

#[tokio::test]
async fn two_processes_migrating_at_once_both_succeed() {
    let url = fresh_database().await;
    let run = |url: String| {
        std::thread::spawn(move || {
            bin()
                .args(["migrate", "--database-url", &url])
                .output()
                .unwrap()
        })
    };
    let (a, b) = (run(url.clone()), run(url));
    assert!(a.join().unwrap().status.success());
    assert!(b.join().unwrap().status.success());
}

#[test]
fn compose_file_is_valid() {
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = std::env::temp_dir().join(format!("capi-compose-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        format!("{root}/docker-compose.yml"),
        dir.join("docker-compose.yml"),
    )
    .unwrap();
    std::fs::copy(format!("{root}/.env.example"), dir.join(".env")).unwrap();
    let plugin = Command::new("docker").args(["compose", "version"]).output();
    let mut cmd = if plugin.is_ok_and(|o| o.status.success()) {
        let mut c = Command::new("docker");
        c.arg("compose");
        c
    } else {
        Command::new("docker-compose")
    };
    let out = match cmd.args(["config", "-q"]).current_dir(&dir).output() {
        Ok(out) => out,
        Err(e) if std::env::var("CI").is_err() => {
            eprintln!("skipped: neither `docker compose` nor `docker-compose` is installed ({e})");
            return;
        }
        Err(e) => panic!("CI must have docker-compose: {e}"),
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let compose = std::fs::read_to_string(format!("{root}/docker-compose.yml")).unwrap();
    for needle in [
        "pg_isready",
        "service_healthy",
        "capi-bridge\", \"healthcheck",
        "env_file: .env",
    ] {
        assert!(compose.contains(needle), "compose file lacks {needle}");
    }
    let dockerfile = std::fs::read_to_string(format!("{root}/Dockerfile")).unwrap();
    for needle in [
        "cargo build --locked --release",
        "ca-certificates",
        "USER capi",
    ] {
        assert!(dockerfile.contains(needle), "Dockerfile lacks {needle}");
    }
}

/// The real binary, a full scenario, every log line read: no secret and no raw personal data.
#[tokio::test]
async fn logs_never_contain_secrets_or_raw_personal_data() {
    let graph = wiremock::MockServer::start().await;
    mount_graph_ok(&graph).await;
    let url = fresh_database().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let admin = "log-admin-2d9e47abbf9d0fc8f04fa86caf593c76";
    let key = "log-postback-6f40b13280c8022bf1d30f53fe707849";
    let token = "EAAlogtestSECRETtoken987654321";
    let email = "Secret.Person@Example.com";
    let log_path = std::env::temp_dir().join(format!("capi-log-{port}.log"));
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = bin()
        .env("DATABASE_URL", &url)
        .env("ADMIN_TOKEN", admin)
        .env("POSTBACK_KEY", key)
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("META_GRAPH_URL", graph.uri())
        .env(
            "SECRETS_KEY",
            "5c0d8e2f7a9b41c3e6d2f8a0b7c5e1d49a3f6b2c8e0d7a5f1b9c4e6d2a8f0b3c",
        )
        .env("DELIVERY_POLL_INTERVAL", "100ms")
        .env("RUST_LOG", "debug")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "server did not start");

    let campaign = serde_json::json!({"key": "logs", "pixel_id": "1234567890", "access_token": token,
            "landing_url": "https://lp.example.com/logs"});
    let r = client
        .post(format!("{base}/admin/v1/campaigns"))
        .bearer_auth(admin)
        .json(&campaign)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // A wrong token is refused and must not be echoed either.
    let r = client
        .get(format!("{base}/admin/v1/campaigns"))
        .bearer_auth("wrong-admin-token-guess")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let click = serde_json::json!({"campaign": "logs", "click_id": "log-1", "em": email, "ph": "+1 (650) 555-1212", "fbclid": "IwARlog"});
    let r = client
        .post(format!("{base}/v1/clicks"))
        .header("user-agent", BROWSER_UA)
        .json(&click)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    for q in [
        format!("key={key}&subid=log-1&status=lead&em={email}"),
        format!("key={key}&subid=log-2&status=sale&em=bad-email"),
        "key=wrong-key-0123456789&subid=log-1".to_owned(),
    ] {
        client
            .get(format!("{base}/v1/postback/keitaro?{q}"))
            .send()
            .await
            .unwrap();
    }
    client
        .get(format!(
            "{base}/v1/clicks?campaign=logs&click_id=log-3&em={email}"
        ))
        .send()
        .await
        .unwrap();
    // Wait for the delivery, then stop the server.
    let mut delivered = false;
    for _ in 0..50 {
        if !graph
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
        {
            delivered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(delivered, "the event was not delivered");
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let stored: String = sqlx::query_scalar("SELECT access_token FROM campaigns")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        stored.starts_with("enc:v2:") && !stored.contains(token),
        "token not encrypted at rest"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logs.lines().count() > 10,
        "too few log lines to judge: {logs}"
    );
    assert!(
        logs.contains("request_id"),
        "log lines carry the request id"
    );
    for secret in [
        admin,
        key,
        token,
        "wrong-admin-token-guess",
        "wrong-key-0123456789",
        email,
        &email.to_lowercase(),
        "6505551212",
    ] {
        assert!(!logs.contains(secret), "{secret:?} appears in the logs");
    }
    let _ = std::fs::remove_file(&log_path);
}

/// SIGTERM: the server stops accepting, finishes, releases its leases and exits 0 promptly.
#[tokio::test]
async fn sigterm_stops_the_server_gracefully() {
    let url = fresh_database().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = bin()
        .env("DATABASE_URL", &url)
        .env(
            "ADMIN_TOKEN",
            "sigterm-admin-e91f1546c503346bad480dc0bdfe2e82",
        )
        .env(
            "POSTBACK_KEY",
            "sigterm-postback-f31e9eaaaef1f49d9023dfb06bb1bdb7",
        )
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("LOG_FORMAT", "json")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "server did not start");
    let started = std::time::Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        let mut out = String::new();
        std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
        (status, out)
    })
    .await
    .unwrap();
    assert!(exit.0.success(), "exit status {:?}", exit.0);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(12),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        exit.1.contains("\"stopped\""),
        "no stop log line: {}",
        exit.1
    );
    assert!(client
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .is_err());
}
