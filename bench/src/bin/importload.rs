//! The import benchmark's client (`bench/import`): seeds the clicks, uploads a CSV of offline
//! conversions to `POST /admin/v1/imports`, polls the import until it is done and reports the
//! time and the server's peak memory.
//!
//! ```text
//! importload --base URL --admin TOKEN --key POSTBACK_KEY --campaign KEY --rows N seed
//! importload --base URL --admin TOKEN --key POSTBACK_KEY --campaign KEY --rows N import --pid PID
//! ```
//!
//! * `seed`: registers clicks `imp-0` .. `imp-<N-1>` through `POST /v1/clicks` (server-side,
//!   with the postback key), 32 at a time.
//! * `import`: builds the file in memory (one row per click: a sale with payout, currency, txid,
//!   an ISO 8601 event_time an hour ago and an email; every 100th row has a bad payout, dropped and reported), posts it
//!   as `text/csv`, polls `GET /admin/v1/imports/{id}` every 100 ms, checks the counts and prints
//!   one JSON line: rows, seconds, rows per second, the server's VmHWM (peak RSS, kB) and its
//!   VmRSS before the upload. Exits 1 when the import fails or the counts are wrong.
//! * `file --out PATH`: writes that file (the crash check uploads it with curl).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use serde_json::{json, Value};

#[derive(Debug, Parser)]
#[command(about = "Seeds clicks and times a CSV import")]
struct Args {
    #[arg(long)]
    base: String,
    #[arg(long)]
    admin: String,
    #[arg(long)]
    key: String,
    #[arg(long)]
    campaign: String,
    #[arg(long, default_value_t = 100_000)]
    rows: usize,
    #[command(subcommand)]
    step: Step,
}

#[derive(Debug, Subcommand)]
enum Step {
    Seed,
    Import {
        /// The server's process id, for its memory figures.
        #[arg(long)]
        pid: u32,
    },
    /// Writes the file `import` uploads to `out` (for the crash check).
    File {
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

/// A field of /proc/<pid>/status in kB.
fn proc_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

async fn seed(client: &reqwest::Client, args: &Args) -> Result<(), String> {
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let (client, next) = (client.clone(), Arc::clone(&next));
        let (base, key, campaign, rows) = (
            args.base.clone(),
            args.key.clone(),
            args.campaign.clone(),
            args.rows,
        );
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= rows {
                    return Ok::<(), String>(());
                }
                let resp = client
                    .post(format!("{base}/v1/clicks"))
                    .header("x-postback-key", &key)
                    .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64) importload")
                    .json(
                        &json!({"campaign": campaign, "click_id": format!("imp-{i}"),
                                  "client_ip_address": "203.0.113.7"}),
                    )
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if !resp.status().is_success() {
                    return Err(format!("click imp-{i}: {}", resp.status()));
                }
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    eprintln!(
        "importload: {} clicks seeded in {:.1}s",
        args.rows,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn file(rows: usize) -> (String, usize) {
    let when = (chrono_like_now() - 3600).to_string();
    let mut csv = String::with_capacity(rows * 80);
    csv.push_str("click_id,status,payout,currency,txid,event_time,em\n");
    let mut bad = 0;
    for i in 0..rows {
        let payout = if i % 100 == 99 {
            bad += 1;
            "n/a".to_owned()
        } else {
            format!("{}.{:02}", 10 + i % 90, i % 100)
        };
        csv.push_str(&format!(
            "imp-{i},sale,{payout},USD,tx-{i},{when},buyer{i}@example.com\n"
        ));
    }
    (csv, bad)
}

fn chrono_like_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

async fn import(client: &reqwest::Client, args: &Args, pid: u32) -> Result<Value, String> {
    let (body, bad) = file(args.rows);
    let bytes = body.len();
    let rss_before = proc_kb(pid, "VmRSS:");
    let started = Instant::now();
    let resp = client
        .post(format!("{}/admin/v1/imports", args.base))
        .bearer_auth(&args.admin)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if resp.status().as_u16() != 202 {
        return Err(format!("upload answered {}", resp.status()));
    }
    let accepted_after = started.elapsed().as_secs_f64();
    let id = resp.json::<Value>().await.map_err(|e| e.to_string())?["id"].clone();
    let status = loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let v: Value = client
            .get(format!("{}/admin/v1/imports/{id}", args.base))
            .bearer_auth(&args.admin)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        if v["state"] != "running" {
            break v;
        }
        if started.elapsed() > Duration::from_secs(600) {
            return Err(format!("still running after 600 s: {v}"));
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    // A bad payout costs the value, not the row: every row is recorded, and the first ones
    // with a bad payout are listed as dropped.
    let want = json!({"accepted": args.rows, "duplicate": 0, "skipped": 0,
                      "unmatched": 0, "invalid": 0});
    if status["state"] != "done" || status["counts"] != want {
        return Err(format!("unexpected result: {status} (wanted {want})"));
    }
    let dropped = status["dropped"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if dropped.len() != bad.min(100) || dropped.iter().any(|d| d["field"] != "payout") {
        return Err(format!(
            "expected {} dropped payouts: {status}",
            bad.min(100)
        ));
    }
    Ok(json!({
        "rows": args.rows,
        "bytes": bytes,
        "upload_s": (accepted_after * 100.0).round() / 100.0,
        "seconds": (seconds * 100.0).round() / 100.0,
        "rows_per_s": (args.rows as f64 / seconds).round(),
        "dropped": bad,
        "server_vmhwm_kb": proc_kb(pid, "VmHWM:"),
        "server_vmrss_before_kb": rss_before,
        "server_vmrss_after_kb": proc_kb(pid, "VmRSS:"),
    }))
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .expect("an HTTP client");
    let result = match &args.step {
        Step::Seed => seed(&client, &args).await.map(|()| None),
        Step::Import { pid } => import(&client, &args, *pid).await.map(Some),
        Step::File { out } => std::fs::write(out, file(args.rows).0)
            .map(|()| None)
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(Some(report)) => println!("{report}"),
        Ok(None) => {}
        Err(e) => {
            eprintln!("importload: {e}");
            std::process::exit(1);
        }
    }
}
