//! The shipped artefacts: the binary's command line, the compose file and the Dockerfile.

use std::process::Command;

use crate::helpers::binary as bin;
use crate::helpers::*;

#[test]
fn a_missing_setting_is_one_line_naming_the_variable() {
    let out = bin()
        .env("DATABASE_URL", "postgres://nowhere/x")
        .env("POSTBACK_KEY", "9f2c4e7a1b8d3f6059e1c2a7b4d8f03e")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("ADMIN_TOKEN"), "{err}");

    // The refused value is never repeated: it may be a mistyped secret.
    let out = bin()
        .env("ADMIN_TOKEN", "mistyped secret with a space")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("ADMIN_TOKEN must not contain spaces"), "{err}");
    assert!(!err.contains("mistyped"), "{err}");

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
    let (a, b) = (run(url.url.clone()), run(url.url.clone()));
    assert!(a.join().unwrap().status.success());
    assert!(b.join().unwrap().status.success());
}

/// The compose file and the Dockerfile hold what the README promises, and `docker compose
/// config` (or `docker-compose config`) accepts the compose file. Without a compose tool this
/// fails, unless CAPI_SKIP_COMPOSE=1 says to skip the `config` check on this machine.
#[test]
fn compose_file_is_valid() {
    let root = env!("CARGO_MANIFEST_DIR");
    let compose = std::fs::read_to_string(format!("{root}/docker-compose.yml")).unwrap();
    for needle in [
        "pg_isready",
        "service_healthy",
        "capi-bridge\", \"healthcheck",
        "env_file: .env",
        // The tests' fallback server: this machine only, clear of a local PostgreSQL on 5432.
        "\"127.0.0.1:${POSTGRES_PORT:-5433}:5432\"",
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
    // POSTGRES_PORT moves the published port (docker compose v2 and docker-compose v1 print
    // the port mapping differently; both show the address and the port).
    let out = cmd
        .arg("config")
        .env("POSTGRES_PORT", "6001")
        .current_dir(&dir)
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    let out = match out {
        Ok(out) => out,
        Err(e) if std::env::var("CAPI_SKIP_COMPOSE").as_deref() == Ok("1") => {
            eprintln!("CAPI_SKIP_COMPOSE=1: `docker compose config` not run ({e})");
            return;
        }
        Err(e) => panic!(
            "neither `docker compose` nor `docker-compose` could be run ({e}); install one, \
             or set CAPI_SKIP_COMPOSE=1 to skip validating the compose file"
        ),
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let resolved = String::from_utf8_lossy(&out.stdout);
    assert!(
        resolved.contains("6001") && resolved.contains("127.0.0.1"),
        "{resolved}"
    );
    assert!(!resolved.contains("5433"), "{resolved}");
}

/// Meta's success, after a delay (the request is held that long).
struct HeldOk(std::time::Duration);

impl wiremock::Respond for HeldOk {
    fn respond(&self, req: &wiremock::Request) -> wiremock::ResponseTemplate {
        wiremock::Respond::respond(&GraphOk, req).set_delay(self.0)
    }
}

/// SIGTERM in the middle of a delivery: Meta holds the requests, so the worker is still waiting
/// for it at the shutdown deadline. The server stops accepting, exits 0 promptly, and gives back
/// its leases: after the exit every event is pending, claimable and leased by nobody. A new
/// process then delivers every event, with one payload per event id (those in flight at the
/// deadline legitimately go twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_server_gracefully() {
    use std::collections::{HashMap, HashSet};
    use std::time::Duration;

    const EVENTS: usize = 40;
    let url = fresh_database().await;
    let held = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(HeldOk(Duration::from_secs(60)))
        .mount(&held)
        .await;
    // The events are queued first, by an in-test server on the same database whose worker
    // never runs; the binary's first pass then finds all 40 due.
    let secrets_key = TEST_SECRETS_KEY;
    let ingest = spawn_on(
        &url,
        wiremock::MockServer::start().await,
        &["--secrets-key", secrets_key],
    )
    .await;
    ingest.create_campaign("term", serde_json::json!({})).await;
    let mut queued = HashSet::new();
    for i in 0..EVENTS {
        queued.insert(
            lead_via(
                &ingest.client,
                &ingest.address,
                "term",
                &format!("term-{i:03}"),
            )
            .await,
        );
    }
    assert_eq!(queued.len(), EVENTS);
    let pool = ingest.pool.clone();

    // Delivery waits up to 60 s for Meta (the lease lasts that plus 30 s); shutdown gives up
    // after 2 s. A pass claims 20 (ten a request, two requests at a time): Meta holds two
    // requests, 20 events are leased, 20 wait unclaimed.
    let settings = [
        ("SHUTDOWN_TIMEOUT", "2s"),
        ("DELIVERY_TIMEOUT", "60s"),
        ("DELIVERY_BATCH_MAX", "10"),
        ("DELIVERY_CONCURRENCY", "2"),
    ];
    let mut first = spawn_serve(&url, &held.uri(), &settings).await;
    wait_for(
        "two requests held by the fake Graph API",
        Duration::from_secs(30),
        || async {
            let n = held.received_requests().await.unwrap_or_default().len();
            if n >= 2 {
                Ok(())
            } else {
                Err(format!("{n} requests"))
            }
        },
    )
    .await;
    let leased: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE lease_owner IS NOT NULL AND lease_until > now()",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(leased, 20, "events leased while Meta holds two requests");
    assert_eq!(held.received_requests().await.unwrap().len(), 2);

    let (status, took) = first.terminate().await;
    let logs = first.logs();
    assert!(status.success(), "exit status {status:?}: {logs}");
    assert!(took < Duration::from_secs(12), "took {took:?}");
    assert!(logs.contains("\"stopped\""), "no stop log line: {logs}");
    assert!(
        logs.contains("delivery did not finish within the shutdown timeout"),
        "the worker was not mid-delivery at the deadline: {logs}"
    );
    assert!(reqwest::Client::new()
        .get(first.url("/healthz"))
        .send()
        .await
        .is_err());

    // No lease outlives the process; every event is pending and due.
    let rows: Vec<(String, bool, bool)> = sqlx::query_as(
        "SELECT state, lease_owner IS NULL AND lease_until IS NULL, \
                coalesce(next_attempt_at <= now(), true) FROM events",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), EVENTS);
    for (state, unleased, due) in &rows {
        assert_eq!(
            (state.as_str(), unleased, due),
            ("pending", &true, &true),
            "after the exit: {rows:?}"
        );
    }
    let in_flight = held.received_requests().await.unwrap_or_default().len();

    // A new process (Meta answers at once now) delivers everything, well before the 90 s
    // lease would have expired had it not been released.
    let fast = wiremock::MockServer::start().await;
    mount_graph_ok(&fast).await;
    let mut second = spawn_serve(&url, &fast.uri(), &[]).await;
    wait_for("every event sent", Duration::from_secs(30), || async {
        let sent: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE state = 'sent'")
            .fetch_one(&pool)
            .await
            .unwrap();
        if sent == EVENTS as i64 {
            Ok(())
        } else {
            Err(format!("{sent} of {EVENTS} sent"))
        }
    })
    .await;
    let (status, _) = second.terminate().await;
    assert!(status.success(), "{status:?}: {}", second.logs());

    let mut payloads: HashMap<String, Vec<serde_json::Value>> = HashMap::new();
    let mut after_restart: HashMap<String, usize> = HashMap::new();
    let held_requests = received(&held).await;
    for (i, (path, body)) in held_requests
        .iter()
        .chain(&received(&fast).await)
        .enumerate()
    {
        assert_eq!(path, "/v26.0/1234567890/events");
        for event in body["data"].as_array().expect("data") {
            let id = event["event_id"].as_str().unwrap().to_owned();
            if i >= in_flight {
                *after_restart.entry(id.clone()).or_default() += 1;
            }
            payloads.entry(id).or_default().push(event.clone());
        }
    }
    assert_eq!(
        payloads.keys().cloned().collect::<HashSet<_>>(),
        queued,
        "every event reached Meta"
    );
    for (id, versions) in &payloads {
        assert!(
            versions.iter().all(|v| v == &versions[0]),
            "{id} was sent with different payloads: {versions:?}"
        );
    }
    let twice: Vec<_> = after_restart.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent twice after the restart: {twice:?}");
    assert_eq!(after_restart.len(), EVENTS, "the restart sent every event");
}
