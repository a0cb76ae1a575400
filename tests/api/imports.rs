//! `POST /admin/v1/imports`: CSV files of offline conversions, recorded by the postback rules,
//! processed in the background with progress, counts and line errors.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::MockServer;

use crate::helpers::imports::*;
use crate::helpers::*;

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

fn assert_first_run(v: &Value) {
    assert_eq!(v["state"], "done", "{v}");
    assert_eq!(v["rows_total"], 10, "the blank line is no row");
    assert_eq!(v["rows_done"], 10);
    assert_eq!(
        v["counts"],
        json!({"accepted": 4, "duplicate": 1, "skipped": 1, "unmatched": 1, "invalid": 3}),
        "{v}"
    );
    // An unreadable payout costs the value, not the row: recorded, and reported by line with
    // the value as the file had it.
    assert_eq!(
        v["dropped"],
        json!([{"line": 7, "field": "payout", "reason": v["dropped"][0]["reason"], "value": "abc"}]),
        "{v}"
    );
    assert!(v["dropped"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("number"));
    let errors = v["errors"].as_array().unwrap();
    let lines: Vec<i64> = errors.iter().map(|e| e["line"].as_i64().unwrap()).collect();
    assert_eq!(lines, [6, 8, 9, 10], "{v}");
    for (e, want) in errors.iter().zip([
        // Recorded as unmatched, and said at upload: without a campaign it can never be sent.
        "cannot be sent: the click was never registered and the postback names no campaign",
        "click_id is required",
        "malformed quoting",
        "older than Meta accepts for website events (7 days)",
    ]) {
        assert!(e["error"].as_str().unwrap().contains(want), "{e}");
    }
}

#[tokio::test]
async fn a_csv_import_counts_every_outcome_and_a_second_run_adds_nothing() {
    let app = spawn_app().await;
    seed(&app).await;

    let id = started(post_csv(&app, mixed_file()).await).await;
    let first = finished(&app, id).await;
    assert_first_run(&first);
    // The rows are conversions like postbacks: the same states, an event per accepted row.
    assert_eq!(count(&app, "conversions").await, 6);
    assert_eq!(count(&app, "events").await, 4);
    let sent = app.deliver().await;
    assert_eq!(app.graph_events().await.len(), 4, "{sent:?}");

    let again = finished(&app, started(post_csv(&app, mixed_file()).await).await).await;
    assert_eq!(again["state"], "done");
    assert_eq!(
        again["counts"],
        json!({"accepted": 0, "duplicate": 7, "skipped": 0, "unmatched": 0, "invalid": 3}),
        "{again}"
    );
    assert_eq!(count(&app, "conversions").await, 6);
    assert_eq!(count(&app, "events").await, 4);
}

#[tokio::test]
async fn a_multipart_upload_imports_the_file_part() {
    let app = spawn_app().await;
    seed(&app).await;
    let resp = post_multipart(&app, multipart(&[("note", "ignored")], &mixed_file())).await;
    let id = started(resp).await;
    assert_first_run(&finished(&app, id).await);

    let resp = app
        .client
        .post(app.url("/admin/v1/imports"))
        .bearer_auth(ADMIN_TOKEN)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nx\r\n--{BOUNDARY}--\r\n"
        ))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 400, "missing_file").await;
}

#[tokio::test]
async fn bad_uploads_are_refused_before_any_import_starts() {
    let app = spawn_app().await;
    let resp = post_csv(&app, "sub_id,status\nc1,sale\n".into()).await;
    let detail = assert_problem(resp, 422, "invalid_header").await;
    assert!(detail.contains("click_id"), "{detail}");
    assert_problem(post_csv(&app, String::new()).await, 400, "empty_file").await;
    let resp = app
        .client
        .post(app.url("/admin/v1/imports"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(resp, 415, "unsupported_media_type").await;
    let resp = app
        .client
        .post(app.url("/admin/v1/imports"))
        .header("content-type", "text/csv")
        .body("click_id,status\nc1,sale\n")
        .send()
        .await
        .unwrap();
    assert_problem(resp, 401, "unauthorized").await;
    assert_eq!(count(&app, "imports").await, 0);

    for path in ["/admin/v1/imports/999", "/admin/v1/imports/abc"] {
        let resp = app.admin(reqwest::Method::GET, path, None).await;
        assert_problem(resp, 404, "import_not_found").await;
    }
    let resp = app
        .client
        .get(app.url("/admin/v1/imports/1"))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 401, "unauthorized").await;
}

/// Sends `head` then, unless the server answers first, `chunks` copies of a 1 MiB chunk of
/// rows; returns the status line. The chunk is allocated once.
async fn raw_upload(app: &TestApp, head: &str, chunks: usize, chunked: bool) -> String {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let row = b"c1,sale,1,EUR,t,\n";
    let data: Vec<u8> = row.iter().copied().cycle().take(1 << 20).collect();
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        if chunked {
            let _ = write.write_all(b"10\r\nclick_id,status\n\r\n").await;
        }
        for _ in 0..chunks {
            let sent = if chunked {
                write
                    .write_all(b"100000\r\n")
                    .await
                    .and(write.write_all(&data).await)
                    .and(write.write_all(b"\r\n").await)
            } else {
                write.write_all(&data).await
            };
            if sent.is_err() {
                break;
            }
        }
    });
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(30), read.read(&mut answer))
        .await
        .expect("an answer")
        .unwrap();
    writer.abort();
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[tokio::test]
async fn an_upload_over_50_mb_is_refused_with_413() {
    let app = spawn_app().await;
    let head = |extra: &str| {
        format!(
            "POST /admin/v1/imports HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\
             Content-Type: text/csv\r\n{extra}\r\n"
        )
    };
    // Declared too large: refused before the body.
    let answer = raw_upload(&app, &head("Content-Length: 60000000\r\n"), 0, false).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");
    // Streamed without a length: refused once 50 MB have arrived.
    let answer = raw_upload(&app, &head("Transfer-Encoding: chunked\r\n"), 60, true).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");
    assert_eq!(count(&app, "imports").await, 0);
}

async fn spawn_another(app: &TestApp) -> TestApp {
    let graph = MockServer::start().await;
    mount_graph_ok(&graph).await;
    spawn_on(&app.database_url, graph, &[]).await
}

async fn set_running(app: &TestApp, id: i64, heartbeat: &str) {
    sqlx::query(&format!(
        "UPDATE imports SET state = 'running', rows_done = 5, finished_at = NULL,
                heartbeat_at = {heartbeat} WHERE id = $1"
    ))
    .bind(id)
    .execute(&app.pool)
    .await
    .unwrap();
}

/// Waits until import `id` shows `state` on `app`; its view.
async fn shows(app: &TestApp, id: i64, state: &str) -> Value {
    wait_for(
        &format!("import {id} {state}"),
        Duration::from_secs(5),
        || async {
            let v = app.admin_get(&format!("/admin/v1/imports/{id}")).await;
            (v["state"] == state)
                .then_some(v.clone())
                .ok_or(v.to_string())
        },
    )
    .await
}

#[tokio::test]
async fn an_import_interrupted_by_a_restart_shows_failed_and_a_re_upload_finishes_it() {
    let app = spawn_app().await;
    seed(&app).await;
    let id = started(post_csv(&app, mixed_file()).await).await;
    finished(&app, id).await;

    // Running in another live process (its heartbeat is fresh): a process starting on the same
    // database leaves it alone. The check fails every stale import in one statement: once a
    // witness whose process died shows failed, that statement has judged both.
    let file = "click_id,status\r\nc1,lead\r\n".to_owned();
    let witness = started(post_csv(&app, file).await).await;
    finished(&app, witness).await;
    set_running(&app, witness, "now() - interval '1 minute'").await;
    set_running(&app, id, "now()").await;
    let other = spawn_another(&app).await;
    shows(&other, witness, "failed").await;
    let v = other.admin_get(&format!("/admin/v1/imports/{id}")).await;
    assert_eq!(v["state"], "running", "{v}");

    // As if the process died after 5 rows (kill -9): the task is gone, the heartbeat stopped.
    set_running(&app, id, "now() - interval '1 minute'").await;
    let restarted = spawn_another(&app).await;
    let v = shows(&restarted, id, "failed").await;
    assert_eq!(v["rows_done"], 5, "how far it got");
    assert_eq!(v["counts"]["accepted"], 4);
    assert!(
        v["failure_reason"]
            .as_str()
            .unwrap()
            .contains("interrupted by a restart"),
        "{v}"
    );

    let again = finished(
        &restarted,
        started(post_csv(&restarted, mixed_file()).await).await,
    )
    .await;
    assert_eq!(again["state"], "done");
    assert_eq!(again["counts"]["accepted"], 0);
    assert_eq!(again["counts"]["duplicate"], 7);
    assert_eq!(count(&app, "conversions").await, 6, "no doubles");
    assert_eq!(count(&app, "events").await, 4);
}

/// The import reads amounts with the postbacks' parser: `"1,500.00"` (a spreadsheet's
/// thousands separator, quoted in CSV) is 1500, as the same value in a postback.
#[tokio::test]
async fn an_import_reads_amounts_as_postbacks_do() {
    let app = spawn_app().await;
    app.create_campaign("shop", json!({})).await;
    for c in ["a1", "a2", "a3", "p1"] {
        let resp = app
            .register_click(json!({"campaign": "shop", "click_id": c}))
            .await;
        assert_eq!(resp.status(), 201, "click {c}");
    }
    let file = "click_id,status,payout,currency,txid\r\n\
                a1,sale,\"1,500.00\",USD,t1\r\n\
                a2,sale,1.234.567,EUR,t2\r\n\
                a3,sale,\"$40\",USD,t3\r\n"
        .to_owned();
    let v = finished(&app, started(post_csv(&app, file).await).await).await;
    assert_eq!(v["counts"]["accepted"], 3, "{v}");
    assert_eq!(v["errors"], json!([]), "{v}");
    let resp = app
        .postback("keitaro", "subid=p1&status=sale&payout=1%2C500.00&tid=t4")
        .await;
    assert_eq!(resp.status(), 200);
    app.deliver().await;
    let mut values: Vec<(String, Value)> = app
        .graph_events()
        .await
        .iter()
        .map(|e| {
            (
                e["custom_data"]["order_id"].as_str().unwrap().to_owned(),
                e["custom_data"]["value"].clone(),
            )
        })
        .collect();
    values.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        values,
        [
            ("t1".to_owned(), json!(1500.0)),
            ("t2".to_owned(), json!(1_234_567.0)),
            ("t3".to_owned(), json!(40.0)),
            ("t4".to_owned(), json!(1500.0)),
        ]
    );
}
