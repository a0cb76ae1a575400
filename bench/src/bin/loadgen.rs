//! Postback load for the benchmark.
//!
//! `loadgen burst <base-url> <key> <count> <concurrency> <click-prefix>`: `count` generic
//!   postbacks for clicks `<prefix>1..=count`, as fast as `concurrency` connections allow.
//! `loadgen steady <base-url> <key> <per-second> <seconds> <click-prefix>`: a steady rate; each
//!   postback's txid is `t<send time in µs>` so the fake Graph API can time postback -> Meta.
//! Prints one JSON line of results.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_else(|| usage());
    let mode = arg(1);
    let base = arg(2);
    let key = arg(3);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    match mode.as_str() {
        "burst" => {
            let count: u64 = arg(4).parse().unwrap();
            let concurrency: u64 = arg(5).parse().unwrap();
            let prefix = arg(6);
            let next = Arc::new(AtomicU64::new(1));
            let ok = Arc::new(AtomicU64::new(0));
            let bad = Arc::new(AtomicU64::new(0));
            let started = Instant::now();
            let mut tasks = Vec::new();
            for _ in 0..concurrency {
                let (client, base, key, prefix) =
                    (client.clone(), base.clone(), key.clone(), prefix.clone());
                let (next, ok, bad) = (next.clone(), ok.clone(), bad.clone());
                tasks.push(tokio::spawn(async move {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i > count {
                            break;
                        }
                        let url = format!("{base}/v1/postback/generic?key={key}&click_id={prefix}{i}&status=lead&value=1.5&txid=x{i}");
                        match client.get(&url).send().await {
                            Ok(r) if r.status().is_success() => ok.fetch_add(1, Ordering::Relaxed),
                            _ => bad.fetch_add(1, Ordering::Relaxed),
                        };
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            let secs = started.elapsed().as_secs_f64();
            let ok = ok.load(Ordering::Relaxed);
            println!(
                "{{\"accepted\":{ok},\"failed\":{},\"seconds\":{secs:.3},\"per_second\":{:.1}}}",
                bad.load(Ordering::Relaxed),
                ok as f64 / secs
            );
        }
        "steady" => {
            let rate: u64 = arg(4).parse().unwrap();
            let seconds: u64 = arg(5).parse().unwrap();
            let prefix = arg(6);
            let total = rate * seconds;
            let ok = Arc::new(AtomicU64::new(0));
            let mut interval =
                tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
            let mut tasks = Vec::new();
            for i in 1..=total {
                interval.tick().await;
                let sent = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_micros();
                let url = format!("{base}/v1/postback/generic?key={key}&click_id={prefix}{i}&status=lead&value=1&txid=t{sent}");
                let (client, ok) = (client.clone(), ok.clone());
                tasks.push(tokio::spawn(async move {
                    if client
                        .get(&url)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success())
                    {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            println!(
                "{{\"accepted\":{},\"sent\":{total}}}",
                ok.load(Ordering::Relaxed)
            );
        }
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!("usage: loadgen burst <url> <key> <count> <concurrency> <prefix> | loadgen steady <url> <key> <rate> <seconds> <prefix>");
    std::process::exit(2)
}
