//! What the service asks of PostgreSQL for its own sessions, what it says about the server's
//! settings at start-up, and the hot tables' autovacuum thresholds (issue 24, item 1).

use sqlx::{Connection, PgConnection};

use crate::helpers::*;

/// Whether autovacuum runs on the test server (this machine's runs with it off, for CI).
async fn server_autovacuum_runs(database_url: &str) -> bool {
    let mut conn = PgConnection::connect(database_url).await.unwrap();
    let runs: bool = sqlx::query_scalar(
        "SELECT current_setting('autovacuum')::bool AND current_setting('track_counts')::bool",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let _ = conn.close().await;
    runs
}

/// Every connection of the service's pool runs without JIT, whatever the server's default: its
/// statements are short, and a misestimate alone would make PostgreSQL compile them.
#[tokio::test]
async fn the_service_sessions_run_without_jit() {
    let app = spawn_app().await;
    // Several connections at once: each new one gets the setting, not only the first.
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut conn = app.pool.acquire().await.unwrap();
        let jit: String = sqlx::query_scalar("SHOW jit")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(jit, "off");
        held.push(conn);
    }
}

/// With autovacuum off on the server the service says so, once, at start-up, as a warning that
/// points at the fix; it still serves. (Without it off, nothing is said.)
#[tokio::test]
async fn autovacuum_off_is_warned_once_at_start_up() {
    let database = fresh_database().await;
    let expected = usize::from(!server_autovacuum_runs(&database).await);
    let graph = wiremock::MockServer::start().await;
    mount_graph_ok(&graph).await;
    let serve = spawn_serve(&database, &graph.uri(), &[]).await;
    // Traffic and a delivery after start-up (its attempt logged): the warning is not repeated.
    serve.create_campaign("vacuum", "1234567890").await;
    let click = serde_json::json!({"campaign": "vacuum", "click_id": "vac-1"});
    let resp = serve
        .client
        .post(serve.url("/v1/clicks"))
        .header("user-agent", BROWSER_UA)
        .json(&click)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let lead = format!("/v1/postback/keitaro?key={POSTBACK_KEY}&subid=vac-1&status=lead");
    let resp = serve.client.get(serve.url(&lead)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let logs = wait_for(
        "the delivery attempt logged",
        std::time::Duration::from_secs(10),
        || async {
            let logs = serve.logs();
            logs.contains("delivery attempt")
                .then_some(logs)
                .ok_or_else(|| "not yet".to_owned())
        },
    )
    .await;
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("autovacuum is off"))
        .collect();
    assert_eq!(lines.len(), expected, "{logs}");
    if let Some(line) = lines.first() {
        assert!(line.contains(r#""level":"WARN""#), "{line}");
        assert!(line.contains("docs/operations.md#autovacuum"), "{line}");
    }
}

/// The tables that churn vacuum and analyze on a small share of changed rows, not the defaults'
/// 20% and 10%.
#[tokio::test]
async fn the_hot_tables_vacuum_and_analyze_early() {
    let app = spawn_app().await;
    let rows: Vec<(String, f64, f64)> = sqlx::query_as(
        "SELECT c.relname::text,
                coalesce((SELECT split_part(o, '=', 2)::float8 FROM unnest(c.reloptions) o
                           WHERE o LIKE 'autovacuum_vacuum_scale_factor=%'), 0.2),
                coalesce((SELECT split_part(o, '=', 2)::float8 FROM unnest(c.reloptions) o
                           WHERE o LIKE 'autovacuum_analyze_scale_factor=%'), 0.1)
           FROM pg_class c
          WHERE c.relname IN ('events', 'clicks', 'conversions', 'delivery_attempts',
                              'refused_postbacks')
            AND c.relnamespace = 'public'::regnamespace
          ORDER BY 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 5, "{rows:?}");
    for (table, vacuum, analyze) in &rows {
        assert!(*analyze <= 0.05, "{table}: analyze at {analyze}");
        // delivery_attempts is never updated: its vacuum is insert-driven.
        if table != "delivery_attempts" {
            assert!(*vacuum <= 0.05, "{table}: vacuum at {vacuum}");
        }
    }
    let outbox = rows.iter().find(|r| r.0 == "events").unwrap();
    assert!(outbox.1 <= 0.01 && outbox.2 <= 0.01, "{outbox:?}");
}

/// The compose file's PostgreSQL settings as the benchmarks read them (bench/lib/pg.sh): the
/// ones that keep data and statistics are there, and every name exists on the test server.
#[tokio::test]
async fn the_compose_settings_are_the_benchs_and_keep_commits() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new("bash")
        .args(["-c", "source bench/lib/pg.sh && bench_pg_settings"])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let settings: Vec<(String, String)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect();
    for kept in [
        ("synchronous_commit", "on"),
        ("autovacuum", "on"),
        ("jit", "off"),
    ] {
        assert!(
            settings
                .iter()
                .any(|(k, v)| (k.as_str(), v.as_str()) == kept),
            "{kept:?} in {settings:?}"
        );
    }
    let database = fresh_database().await;
    let mut conn = PgConnection::connect(&database).await.unwrap();
    let names: Vec<String> = settings.iter().map(|(k, _)| k.clone()).collect();
    let known: Vec<String> =
        sqlx::query_scalar("SELECT name FROM pg_settings WHERE name = ANY($1) ORDER BY name")
            .bind(&names)
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let _ = conn.close().await;
    assert_eq!(known.len(), names.len(), "{names:?} vs {known:?}");
}
