//! What `serve` refuses before it listens, and `bin/up`, the one-command set-up.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use capi_bridge::config::Cli;
use clap::Parser;

use crate::helpers::binary as bin;

const STRONG_ADMIN: &str = "adm-7e2c9a41f0b8d35c6e1a4f927b0d8c3e5a16f4b2";
const STRONG_KEY: &str = "pbk-1d8f3b6a0c9e47d2a5f18c3e6b9d0a4f7c2e5b81";

/// The variables of an env file (`NAME=value` lines).
fn env_file(path: &Path) -> HashMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// Runs `serve` with the given secrets against an unreachable database: a refusal must come
/// first, as one line.
fn serve_refuses(database_url: &str, admin: &str, key: &str) -> String {
    let out = bin()
        .env("DATABASE_URL", database_url)
        .env("ADMIN_TOKEN", admin)
        .env("POSTBACK_KEY", key)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    for value in [admin, key] {
        assert!(!err.contains(value), "the secret is echoed: {err}");
    }
    err
}

#[test]
fn serve_refuses_placeholder_shared_and_weak_secrets() {
    let example = env_file(&Path::new(env!("CARGO_MANIFEST_DIR")).join(".env.example"));
    let db = "postgres://capi@127.0.0.1:1/capi";
    let err = serve_refuses(db, &example["ADMIN_TOKEN"], STRONG_KEY);
    assert!(err.contains("ADMIN_TOKEN is a placeholder"), "{err}");
    assert!(err.contains("openssl rand -hex 24"), "{err}");
    let err = serve_refuses(db, STRONG_ADMIN, &example["POSTBACK_KEY"]);
    assert!(err.contains("POSTBACK_KEY is a placeholder"), "{err}");
    let compose_url = format!(
        "postgres://capi:{}@postgres:5432/capi",
        example["POSTGRES_PASSWORD"]
    );
    let err = serve_refuses(&compose_url, STRONG_ADMIN, STRONG_KEY);
    assert!(
        err.contains("DATABASE_URL's password is a placeholder"),
        "{err}"
    );

    let err = serve_refuses(db, STRONG_ADMIN, STRONG_ADMIN);
    assert!(
        err.contains("ADMIN_TOKEN and POSTBACK_KEY must differ"),
        "{err}"
    );
    let err = serve_refuses(db, "aaaaaaaaaaaaaaaa", STRONG_KEY);
    assert!(err.contains("ADMIN_TOKEN is too weak"), "{err}");
    let err = serve_refuses(db, STRONG_ADMIN, "1111222233334444");
    assert!(err.contains("POSTBACK_KEY is too weak"), "{err}");

    let out = bin()
        .env("DATABASE_URL", db)
        .env("ADMIN_TOKEN", STRONG_ADMIN)
        .env("POSTBACK_KEY", STRONG_KEY)
        .env("SECRETS_KEY", "11".repeat(32))
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("SECRETS_KEY is not random"), "{err}");
}

/// Values a security probe found accepted: zxcvbn finds them guessable (issue 21).
#[test]
fn serve_refuses_guessable_secrets() {
    let db = "postgres://capi@127.0.0.1:1/capi";
    for weak in [
        "abcdefghijklmnop",
        "correcthorsebatterystaple",
        "Admin-Token-2024-abcdefgh",
        "1qaz2wsx3edc4rfv",
    ] {
        let err = serve_refuses(db, weak, STRONG_KEY);
        assert!(err.contains("ADMIN_TOKEN is too weak"), "{weak}: {err}");
        assert!(err.contains("openssl rand -hex 24"), "{err}");
        let err = serve_refuses(db, STRONG_ADMIN, weak);
        assert!(err.contains("POSTBACK_KEY is too weak"), "{weak}: {err}");
    }
}

#[test]
fn migrate_and_healthcheck_do_not_judge_the_secrets() {
    // The compose healthcheck runs in the serving container's environment.
    let out = bin()
        .env("ADMIN_TOKEN", "aaaaaaaaaaaaaaaa")
        .args(["healthcheck", "--listen-addr", "127.0.0.1:1"])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("is not healthy") && !err.contains("ADMIN_TOKEN"),
        "{err}"
    );
}

/// `bin/up` with a fake `docker` on PATH that records its arguments.
fn run_up(dir: &Path) -> (bool, String, String) {
    let fake = dir.join("fakebin");
    std::fs::create_dir_all(&fake).unwrap();
    let docker = fake.join("docker");
    std::fs::write(&docker, "#!/bin/sh\necho \"$*\" >> \"$FAKE_DOCKER_LOG\"\n").unwrap();
    std::fs::set_permissions(&docker, std::fs::Permissions::from_mode(0o755)).unwrap();
    let log = dir.join("docker.log");
    let out = Command::new("sh")
        .arg(dir.join("bin/up"))
        .env(
            "PATH",
            format!("{}:{}", fake.display(), std::env::var("PATH").unwrap()),
        )
        .env("FAKE_DOCKER_LOG", &log)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        std::fs::read_to_string(&log).unwrap_or_default(),
    )
}

#[test]
fn bin_up_creates_a_private_env_with_strong_secrets_once() {
    let dir = std::env::temp_dir().join(format!("capi-up-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::copy(format!("{root}/bin/up"), dir.join("bin/up")).unwrap();
    std::fs::copy(
        format!("{root}/docker-compose.yml"),
        dir.join("docker-compose.yml"),
    )
    .unwrap();

    let (ok, stdout, calls) = run_up(&dir);
    assert!(ok, "{stdout}");
    assert!(calls.lines().any(|l| l == "compose up -d"), "{calls}");
    assert!(
        stdout.contains("ADMIN_TOKEN") && stdout.contains(".env"),
        "{stdout}"
    );
    let env_path = dir.join(".env");
    let mode = std::fs::metadata(&env_path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let env = env_file(&env_path);
    let names = [
        "POSTGRES_PASSWORD",
        "ADMIN_TOKEN",
        "POSTBACK_KEY",
        "SECRETS_KEY",
        "METRICS_TOKEN",
    ];
    let values: Vec<&String> = names.iter().map(|n| &env[*n]).collect();
    for (i, v) in values.iter().enumerate() {
        assert!(v.len() >= 48, "{} = {v}", names[i]);
        assert!(!stdout.contains(v.as_str()), "{} printed", names[i]);
        assert_eq!(values.iter().filter(|w| w == &v).count(), 1, "reused");
    }
    // The service's own checks, with the DATABASE_URL compose builds from the password.
    let cli = Cli::try_parse_from([
        "capi-bridge",
        "--database-url",
        &format!(
            "postgres://capi:{}@postgres:5432/capi",
            env["POSTGRES_PASSWORD"]
        ),
        "--admin-token",
        &env["ADMIN_TOKEN"],
        "--postback-key",
        &env["POSTBACK_KEY"],
        "--secrets-key",
        &env["SECRETS_KEY"],
        "--metrics-token",
        &env["METRICS_TOKEN"],
    ])
    .unwrap();
    cli.config.secrets().unwrap();

    let before = std::fs::read_to_string(&env_path).unwrap();
    let (ok, _, calls) = run_up(&dir);
    assert!(ok);
    assert_eq!(std::fs::read_to_string(&env_path).unwrap(), before);
    assert_eq!(calls.lines().filter(|l| *l == "compose up -d").count(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts `serve` on a fresh database with `envs` (over strong secrets and a SECRETS_KEY;
/// `{port}` in a value is the port it listens on), waits until it answers on 127.0.0.1, stops it
/// and returns what it wrote to stdout.
async fn serve_briefly(envs: &[(&str, &str)]) -> String {
    let url = crate::helpers::fresh_database().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut cmd = bin();
    cmd.env("DATABASE_URL", &url)
        .env("ADMIN_TOKEN", STRONG_ADMIN)
        .env("POSTBACK_KEY", STRONG_KEY)
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("SECRETS_KEY", crate::helpers::TEST_SECRETS_KEY)
        .env_remove("LOG_FORMAT")
        .stdout(std::process::Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v.replace("{port}", &port.to_string()));
    }
    let mut child = cmd.spawn().unwrap();
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        let health = client.get(format!("http://127.0.0.1:{port}/healthz"));
        if health.send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(up, "server did not start: {stdout}");
    stdout
}

/// Encrypting the access tokens or not is the user's explicit choice: unset, `serve` refuses
/// before anything else, saying how to choose; `none` is warned about once at start-up.
#[tokio::test]
async fn secrets_key_is_a_choice_and_none_is_warned_about_once() {
    let out = bin()
        .env("DATABASE_URL", "postgres://capi@127.0.0.1:1/capi")
        .env("ADMIN_TOKEN", STRONG_ADMIN)
        .env("POSTBACK_KEY", STRONG_KEY)
        .env_remove("SECRETS_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("SECRETS_KEY is required"), "{err}");
    assert!(
        err.contains("openssl rand -hex 32") && err.contains("SECRETS_KEY=none"),
        "{err}"
    );

    let logs = serve_briefly(&[("SECRETS_KEY", "none")]).await;
    let warnings = logs
        .lines()
        .filter(|l| l.contains("SECRETS_KEY is none"))
        .count();
    assert_eq!(warnings, 1, "{logs}");
    let key = "3b7e0a9c5f2d8e1b4a6c9f0e3d7b2a5c8e1f4b7a0d3c6e9f2b5a8d1c4e7f0a3b";
    let logs = serve_briefly(&[("SECRETS_KEY", key)]).await;
    assert!(!logs.contains("SECRETS_KEY is none"), "{logs}");
}

/// The dashboard's admin token and session cookie would cross a network in clear: said once at
/// start-up, and not when it listens on loopback only or PUBLIC_URL is https.
#[tokio::test]
async fn a_dashboard_over_plain_http_on_a_network_is_warned_about() {
    let warned = |logs: &str| {
        logs.lines()
            .filter(|l| l.contains("the dashboard (/ui) is served over plain HTTP"))
            .count()
    };
    let logs = serve_briefly(&[("LISTEN_ADDR", "0.0.0.0:{port}")]).await;
    assert_eq!(warned(&logs), 1, "{logs}");
    assert!(logs.contains("PUBLIC_URL=https://"), "{logs}");
    let logs = serve_briefly(&[
        ("LISTEN_ADDR", "0.0.0.0:{port}"),
        ("PUBLIC_URL", "http://bridge.example"),
    ])
    .await;
    assert_eq!(warned(&logs), 1, "http PUBLIC_URL: {logs}");
    let logs = serve_briefly(&[
        ("LISTEN_ADDR", "0.0.0.0:{port}"),
        ("PUBLIC_URL", "https://bridge.example"),
    ])
    .await;
    assert_eq!(warned(&logs), 0, "behind TLS: {logs}");
    let logs = serve_briefly(&[]).await;
    assert_eq!(warned(&logs), 0, "loopback: {logs}");
}

/// Runs the binary with `args` and `DATABASE_URL`; returns (success, stdout, stderr).
fn run_with_database(url: &str, args: &[&str]) -> (bool, String, String) {
    let out = bin()
        .env("DATABASE_URL", url)
        .env("ADMIN_TOKEN", STRONG_ADMIN)
        .env("POSTBACK_KEY", STRONG_KEY)
        .env("SECRETS_KEY", crate::helpers::TEST_SECRETS_KEY)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn database_errors_name_the_variable_host_and_port_once() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let unreachable = format!("postgres://capi:pw-6d1f0c9e8b@127.0.0.1:{port}/capi");
    let missing = format!("{}_missing", crate::helpers::fresh_database().await);
    let server = reqwest::Url::parse(&missing).unwrap();
    let server = format!(
        "{}:{}",
        server.host_str().unwrap(),
        server.port().unwrap_or(5432)
    );
    for args in [&[][..], &["migrate"][..]] {
        let (ok, stdout, stderr) = run_with_database(&unreachable, args);
        assert!(!ok);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        let all = format!("{stdout}{stderr}");
        assert_eq!(
            all.matches(&format!("127.0.0.1:{port}")).count(),
            1,
            "{all}"
        );
        assert!(stderr.contains("DATABASE_URL"), "{stderr}");
        assert!(stderr.contains("connection refused"), "{stderr}");
        assert!(
            !all.contains("pw-6d1f0c9e8b"),
            "the password is shown: {all}"
        );

        let (ok, _, stderr) = run_with_database(&missing, args);
        assert!(!ok);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("DATABASE_URL")
                && stderr.contains(&server)
                && stderr.contains("does not exist")
                && stderr.contains("createdb"),
            "{stderr}"
        );

        for url in ["mysql://root:pw-6d1f0c9e8b@db/capi", "http://db:5432/capi"] {
            let (ok, _, stderr) = run_with_database(url, args);
            assert!(!ok);
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(
                stderr.contains("DATABASE_URL must be a postgres:// URL"),
                "{stderr}"
            );
            assert!(!stderr.contains("pw-6d1f0c9e8b"), "{stderr}");
        }
    }
}

#[tokio::test]
async fn pretty_logs_carry_no_colour_codes_when_stdout_is_not_a_terminal() {
    let logs = serve_briefly(&[("LOG_FORMAT", "pretty")]).await;
    assert!(logs.contains("capi-bridge listening"), "{logs}");
    assert!(!logs.contains('\u{1b}'), "ANSI escape codes in {logs:?}");
}
