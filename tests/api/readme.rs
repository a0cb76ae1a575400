//! The README, followed literally: its "Try it" commands run as written against the real binary,
//! and each tracker's postback URL is sent with its macros filled the way the tracker fills them,
//! and unfilled.

use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::tiktok::{check, FakeTikTok};
use crate::helpers::*;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// The first fenced `sh` block after `heading`.
fn sh_block(text: &str, heading: &str) -> String {
    let section = &text[text
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?}"))..];
    let start = section.find("```sh\n").expect("an sh block") + 6;
    let len = section[start..].find("```").expect("closed block");
    section[start..start + len].to_owned()
}

/// A random secret as the set-up script writes them.
fn secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

struct Served {
    child: std::process::Child,
    base: String,
    port: u16,
    admin: String,
    key: String,
    /// Dropped after `Drop for Served` has killed the process.
    _database: TestDatabase,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The real binary on a free port, its Graph API a fake.
async fn serve(graph: &wiremock::MockServer) -> Served {
    serve_with(graph, None).await
}

/// [`serve`], with TikTok's Events API a fake too when given.
async fn serve_with(graph: &wiremock::MockServer, tiktok: Option<&wiremock::MockServer>) -> Served {
    let url = fresh_database().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (admin, key) = (secret(), secret());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_capi-bridge"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &url)
        .env("ADMIN_TOKEN", &admin)
        .env("POSTBACK_KEY", &key)
        .env("SECRETS_KEY", TEST_SECRETS_KEY)
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("META_GRAPH_URL", graph.uri())
        // Its Graph fake answers events only: no quality fetches.
        .env("META_QUALITY_INTERVAL", "off")
        .env("DELIVERY_POLL_INTERVAL", "100ms")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Some(tiktok) = tiktok {
        cmd.env("TIKTOK_API_URL", tiktok.uri());
    }
    let child = cmd.spawn().unwrap();
    // Owned at once, so a failed start still kills and reaps the process.
    let served = Served {
        child,
        base: format!("http://127.0.0.1:{port}"),
        port,
        admin,
        key,
        _database: url,
    };
    let client = reqwest::Client::new();
    for _ in 0..100 {
        let ready = client.get(format!("{}/readyz", served.base)).send().await;
        if ready.is_ok_and(|r| r.status() == 200) {
            return served;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("server did not start");
}

/// Runs README commands with bash in a directory whose `.env` holds the server's secrets, as
/// the compose stack's would; returns their output, checked to have succeeded.
fn run_as_written(served: &Served, script: &str) -> String {
    let script = script.replace("localhost:8080", &format!("127.0.0.1:{}", served.port));
    // The directory of the compose stack: its .env holds the secrets.
    let dir = std::env::temp_dir().join(format!("capi-readme-{}", served.port));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(".env"),
        format!(
            "ADMIN_TOKEN={}\nPOSTBACK_KEY={}\n",
            served.admin, served.key
        ),
    )
    .unwrap();
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(&dir)
        .env_remove("ADMIN_TOKEN")
        .env_remove("POSTBACK_KEY")
        .output()
        .expect("bash and curl are needed to run the README's commands");
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "README commands failed: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout.into_owned()
}

#[tokio::test]
async fn the_try_it_commands_run_as_written() {
    let graph = wiremock::MockServer::start().await;
    mount_graph_ok(&graph).await;
    let served = serve(&graph).await;
    let stdout = run_as_written(&served, &sh_block(&readme(), "## Try it"));
    assert!(stdout.contains("\"status\":\"accepted\""), "{stdout}");
    assert!(stdout.contains("\"event_id\":\"lead-kt-123\""), "{stdout}");

    // And the event reaches Meta's Test Events with what Meta requires of a website event.
    let client = reqwest::Client::new();
    let mut sent = Value::Null;
    for _ in 0..100 {
        let list: Value = client
            .get(format!(
                "{}/admin/v1/conversions?campaign=offer1",
                served.base
            ))
            .bearer_auth(&served.admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if list["conversions"][0]["state"] == "sent" {
            sent = list;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(sent["conversions"][0]["state"], "sent", "never sent");
    let requests = graph.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(requests[0].url.path(), "/v26.0/1234567890/events");
    assert_eq!(body["test_event_code"], "TEST12345");
    let event = &body["data"][0];
    assert_eq!(event["event_id"], "lead-kt-123");
    assert_eq!(
        event["event_source_url"],
        "https://lp.example.com/offer1?subid=kt-123"
    );
    assert_eq!(
        event["user_data"]["client_user_agent"],
        "Mozilla/5.0 (iPhone)"
    );
}

/// The TikTok section's commands, run after "Try it" as a reader would: its PATCH adds TikTok
/// to the campaign, and the next conversion reaches TikTok's Test Events with its pixel's id.
#[tokio::test]
async fn the_tiktok_commands_run_as_written_after_try_it() {
    let graph = wiremock::MockServer::start().await;
    mount_graph_ok(&graph).await;
    let tiktok = wiremock::MockServer::start().await;
    FakeTikTok::ok().mount(&tiktok).await;
    let served = serve_with(&graph, Some(&tiktok)).await;
    let text = readme();
    let script = format!(
        "{}\n{}",
        sh_block(&text, "## Try it"),
        sh_block(&text, "## TikTok")
    );
    let stdout = run_as_written(&served, &script);
    assert!(
        stdout.contains(r#"{"platform":"tiktok","event_name":"Lead","event_id":"ttlead-kt-124"}"#),
        "{stdout}"
    );

    let mut received = Vec::new();
    for _ in 0..100 {
        received = tiktok.received_requests().await.unwrap();
        if !received.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(received.len(), 1, "one request to TikTok");
    let request = &received[0];
    check(request).expect("a request TikTok takes");
    assert_eq!(
        request.headers["access-token"],
        "ttPlaceholderToken0123456789"
    );
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["event_source_id"], "C4ABCDEFGHIJKL123456");
    assert_eq!(body["test_event_code"], "TEST54321");
    let event = &body["data"][0];
    assert_eq!(
        (&event["event"], &event["event_id"]),
        (&json!("Lead"), &json!("ttlead-kt-124"))
    );
    assert_eq!(event["user"]["ttclid"], "E.C.P.CqgBx9Z3eWc");
}

/// What a tracker puts in place of each macro; a network fills `REPLACE` / `OPTIONAL` (the
/// click id first, then the status, the payout and the transaction id).
fn fill(url: &str, click_id: &str) -> String {
    let mut out = url.to_owned();
    for (mac, value) in [
        ("{subid}", click_id),
        ("{clickid}", click_id),
        ("{externalId}", click_id),
        ("{status}", "lead"),
        ("{cnv_status}", "approve"),
        ("{revenue}", "1,500.50"),
        ("{payout}", "5"),
        ("{tid}", "T-1"),
        ("{currency}", "EUR"),
        ("{cnv_currency}", "usd"),
        ("{ip}", "93.184.216.34"),
        (
            "{user_agent}",
            "Mozilla%2F5.0%20(iPhone%3B%20CPU%20iPhone%20OS%2017_0)",
        ),
    ] {
        out = out.replace(mac, value);
    }
    for value in [click_id, "sale", "1,500.00", "T-2"] {
        for unfilled in ["=REPLACE", "=OPTIONAL"] {
            if let Some(at) = out.find(unfilled) {
                out.replace_range(at + 1..at + unfilled.len(), value);
                break;
            }
        }
    }
    assert!(!out.contains('{'), "a macro the test does not know: {out}");
    assert!(
        !out.contains("REPLACE") && !out.contains("OPTIONAL"),
        "{out}"
    );
    out
}

/// The URL with only its click id filled: the first `{macro}` or `REPLACE` after the key.
fn only_click(url: &str, click_id: &str) -> String {
    let key_end = url.find("&").unwrap() + 1;
    let (head, query) = url.split_at(key_end);
    let (first, rest) = query.split_once('&').unwrap();
    let (name, _) = first.split_once('=').unwrap();
    format!("{head}{name}={click_id}&{rest}")
}

#[tokio::test]
async fn every_trackers_postback_url_works_filled_and_refuses_a_sale_unfilled() {
    let graph = wiremock::MockServer::start().await;
    mount_graph_ok(&graph).await;
    let served = serve(&graph).await;
    let client = reqwest::Client::new();
    let text = readme();
    let section = &text[text.find("## Postback URLs").unwrap()..];
    let section = &section[..section[1..].find("\n## ").unwrap()];
    let urls: Vec<String> = section
        .split('`')
        .filter(|s| s.starts_with("https://bridge.example.com/v1/postback/") && !s.contains("..."))
        .map(|s| {
            s.replace("https://bridge.example.com", &served.base)
                .replace("key=KEY", &format!("key={}", served.key))
        })
        .collect();
    assert_eq!(urls.len(), 4, "Keitaro, Orbitra, Binom, BeMob: {urls:?}");
    let mut values = Vec::new();
    let r = client
        .post(format!("{}/admin/v1/campaigns", served.base))
        .bearer_auth(&served.admin)
        .json(&serde_json::json!({"key": "trk", "pixel_id": "1234567890",
            "access_token": "EAAGplaceholderToken0123456789",
            "landing_url": "https://lp.example.com/trk"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    for (i, url) in urls.iter().enumerate() {
        // Unfilled: every macro left as the tracker's literal text (no click id: a 400), then
        // only the click id filled (the status unknown: a 422, never a sale).
        let click_id = format!("trk-{i}");
        let literal = |u: &str| u.replace('{', "%7B").replace('}', "%7D");
        let r = client.get(literal(url)).send().await.unwrap();
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], "missing_click_id", "{url}: {body}");
        let only_click = only_click(url, &click_id);
        let r = client.get(literal(&only_click)).send().await.unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            (status, &body["code"]),
            (422, &Value::from("unfilled_status")),
            "{only_click}: {body}"
        );
        // Filled, for a registered click.
        let r = client
            .post(format!("{}/v1/clicks", served.base))
            .header("user-agent", BROWSER_UA)
            .json(&serde_json::json!({"campaign": "trk", "click_id": click_id}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let r = client.get(fill(url, &click_id)).send().await.unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            (status, &body["status"]),
            (200, &Value::from("accepted")),
            "{url}: {body}"
        );
        let id = body["conversion_id"].as_i64().unwrap();
        let r = client
            .get(format!("{}/admin/v1/conversions/{id}", served.base))
            .bearer_auth(&served.admin)
            .send()
            .await
            .unwrap();
        let view: Value = r.json().await.unwrap();
        values.push((view["value"].clone(), view["txid"].clone()));
    }
    // Keitaro's revenue with a thousands separator, Orbitra's and Binom's payout, and the
    // network's for BeMob; the transaction id wherever the URL has a macro for it.
    assert_eq!(
        values,
        [
            (json!(1500.5), json!("T-1")),
            (json!(5.0), json!("T-1")),
            (json!(5.0), json!("")),
            (json!(1500.0), json!("T-2")),
        ]
    );
}

/// "Without Docker" writes the secrets where "Try it" reads them: run with stand-ins for
/// `createdb`, `cargo` and the binary (which prints what it was started with), then "Try it"'s
/// first line, in the same directory.
#[test]
fn without_docker_writes_the_env_that_try_it_reads() {
    let text = readme();
    let block = sh_block(&text, "### Without Docker");
    let dir = std::env::temp_dir().join(format!("capi-readme-nodocker-{}", std::process::id()));
    let bin = dir.join("stand-ins");
    std::fs::create_dir_all(&bin).unwrap();
    let stand_in = |path: std::path::PathBuf, body: &str| {
        std::fs::write(&path, format!("#!/usr/bin/env bash\n{body}\n")).unwrap();
        Command::new("chmod").arg("+x").arg(&path).status().unwrap();
    };
    stand_in(bin.join("createdb"), "true");
    stand_in(bin.join("cargo"), "true");
    std::fs::create_dir_all(dir.join("target/release")).unwrap();
    stand_in(
        dir.join("target/release/capi-bridge"),
        r#"echo "served $1 $DATABASE_URL $ADMIN_TOKEN $POSTBACK_KEY $SECRETS_KEY""#,
    );
    let try_it = sh_block(&text, "## Try it");
    assert_eq!(try_it.lines().next(), Some("set -a; . ./.env; set +a"));
    std::fs::write(dir.join("block.sh"), &block).unwrap();
    // Each step in a fresh environment: only .env carries the secrets from one to the next.
    let script = r#"env -i PATH="$PATH" bash -euo pipefail ./block.sh
env -i PATH="$PATH" bash -c 'set -a; . ./.env; set +a; echo "try-it $ADMIN_TOKEN $POSTBACK_KEY"'
env -i PATH="$PATH" bash -euo pipefail ./block.sh"#;
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(&dir)
        .env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .output()
        .expect("bash and openssl");
    let env = std::fs::read_to_string(dir.join(".env")).unwrap_or_default();
    let mode = std::fs::metadata(dir.join(".env")).map(|m| {
        use std::os::unix::fs::PermissionsExt;
        m.permissions().mode() & 0o777
    });
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode.unwrap(), 0o600, "{env}");
    let lines: Vec<Vec<&str>> = stdout.lines().map(|l| l.split(' ').collect()).collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    let (served, try_it, again) = (&lines[0], &lines[1], &lines[2]);
    assert_eq!(
        served[..3],
        ["served", "serve", "postgres:///capi"],
        "{stdout}"
    );
    for secret in &served[3..] {
        assert!(secret.len() >= 48, "a random secret: {stdout}");
    }
    // "Try it" reads the tokens the server was started with; a second run keeps them.
    assert_eq!(try_it[1..], served[3..5], "{stdout}");
    assert_eq!(again, served, "{stdout}");
}
