//! Load for the resilience runs (`bench/crash`, `bench/outage`): a steady mix of click
//! registrations and postbacks that keeps going while the server is killed and restarted or its
//! database is stopped, and writes down every request the server acknowledged.
//!
//! ```text
//! crashload --base http://127.0.0.1:18290 --key <POSTBACK_KEY> --campaign crash --out DIR
//!           [--seconds 30] [--rate 400] [--concurrency 16] [--prefix c1-] [--stop-file PATH]
//!           [--timeout 10] [--log] [--probe]
//! ```
//!
//! * Clicks: `POST /v1/clicks` (JSON, a browser User-Agent, unique click ids `<prefix><n>`, the
//!   Meta pixel's eventID `lead-<click id>`, TikTok's `ttlead-<click id>` with a `ttclid` and
//!   a `_ttp`, which a campaign without TikTok stores and never sends). A 2xx appends the click id to `DIR/clicks.ok` and makes
//!   the click eligible for a postback; anything else drops the click (no postback is ever sent
//!   for a click whose registration was not acknowledged).
//! * Postbacks: `GET /v1/postback/generic?key=..&click_id=..&status=lead&value=1&txid=tx-<click id>`.
//!   A 2xx appends `click_id<TAB>txid<TAB>status` (the answer's `status`: accepted, duplicate,
//!   unmatched, ...) to `DIR/postbacks.ok`. A connection error, a timeout or a 5xx puts the
//!   postback back in the queue with the same txid, as a tracker retries; a previously
//!   committed one then answers `duplicate`. 5% of accepted postbacks are deliberately sent again.
//! * `--log`: every request, with `start_ms end_ms kind http_status retry_after` (tab separated,
//!   times in ms since the epoch; status 0 = connection error, 1 = client timeout) to
//!   `DIR/requests.tsv`. `--probe`: also GET /healthz and /readyz every 250 ms (logged as such).
//! * Stops after `--seconds` or as soon as `--stop-file` exists. Prints one JSON line of counts.

use std::collections::{BTreeMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use rand::Rng;
use serde_json::{json, Value};
use tokio::time::MissedTickBehavior;

const USER_AGENT: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) \
    AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";

#[derive(Debug, Parser)]
#[command(about = "Click and postback load that survives server crashes")]
struct Args {
    /// Base URL of the server.
    #[arg(long)]
    base: String,
    /// The server's POSTBACK_KEY.
    #[arg(long)]
    key: String,
    /// Campaign key the clicks are registered to.
    #[arg(long)]
    campaign: String,
    /// Directory for clicks.ok, postbacks.ok and requests.tsv.
    #[arg(long)]
    out: PathBuf,
    /// Longest run, in seconds.
    #[arg(long, default_value_t = 30.0)]
    seconds: f64,
    /// Requests per second, clicks and postbacks together.
    #[arg(long, default_value_t = 400.0)]
    rate: f64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Click id prefix (unique per run).
    #[arg(long, default_value = "c-")]
    prefix: String,
    /// Stop as soon as this file exists.
    #[arg(long)]
    stop_file: Option<PathBuf>,
    /// Client timeout of one request, in seconds.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Log every request to requests.tsv.
    #[arg(long)]
    log: bool,
    /// Probe /healthz and /readyz every 250 ms (needs --log to be useful).
    #[arg(long)]
    probe: bool,
}

struct Pending {
    click_id: String,
    txid: String,
}

struct Shared {
    args: Args,
    client: reqwest::Client,
    stop: AtomicBool,
    next_click: AtomicU64,
    queue: Mutex<VecDeque<Pending>>,
    clicks_ok: Mutex<BufWriter<File>>,
    postbacks_ok: Mutex<BufWriter<File>>,
    log: Option<Mutex<BufWriter<File>>>,
    counts: Mutex<BTreeMap<String, u64>>,
}

/// What one request came back with.
struct Answer {
    /// HTTP status; 0 for a connection error, 1 for a client timeout.
    status: u16,
    retry_after: bool,
    body: Option<Value>,
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

fn append(path: &Path) -> BufWriter<File> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    BufWriter::new(file)
}

impl Shared {
    fn count(&self, key: String) {
        *self.counts.lock().unwrap().entry(key).or_default() += 1;
    }

    fn flush(&self) {
        for out in [&self.clicks_ok, &self.postbacks_ok] {
            out.lock()
                .unwrap()
                .flush()
                .expect("cannot write the .ok files");
        }
        if let Some(log) = &self.log {
            log.lock()
                .unwrap()
                .flush()
                .expect("cannot write requests.tsv");
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Sends a request, logs it, and classifies the outcome.
    async fn send(&self, kind: &str, request: reqwest::RequestBuilder) -> Answer {
        let started = now_ms();
        let answer = match request.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let retry_after = resp.headers().contains_key("retry-after");
                // A body cut short by a crash is still an answer: its status line arrived.
                let body = resp.json::<Value>().await.ok();
                Answer {
                    status,
                    retry_after,
                    body,
                }
            }
            Err(e) => Answer {
                status: if e.is_timeout() { 1 } else { 0 },
                retry_after: false,
                body: None,
            },
        };
        if let Some(log) = &self.log {
            let mut log = log.lock().unwrap();
            let _ = writeln!(
                log,
                "{started}\t{}\t{kind}\t{}\t{}",
                now_ms(),
                answer.status,
                u8::from(answer.retry_after)
            );
        }
        let class = match answer.status {
            0 => "connection_error".to_owned(),
            1 => "timeout".to_owned(),
            s if (200..300).contains(&s) => "ok".to_owned(),
            s => format!("http_{s}"),
        };
        self.count(format!("{kind}.{class}"));
        answer
    }

    async fn click(&self) {
        let n = self.next_click.fetch_add(1, Ordering::Relaxed);
        let click_id = format!("{}{n}", self.args.prefix);
        let body = json!({
            "campaign": self.args.campaign,
            "click_id": click_id,
            "fbclid": format!("IwAR0{n}xyz"),
            "fbp": format!("fb.1.1764000000000.{n}"),
            "em": format!("user{n}@example.com"),
            "event_source_url": format!("https://lp.example.com/offer?subid={click_id}"),
            "event_ids": {"Lead": format!("lead-{click_id}")},
            "ttclid": format!("E.C.P.crash{n}"),
            "ttp": format!("ttp-crash-{n}"),
            "tiktok_event_ids": {"Lead": format!("ttlead-{click_id}")},
        });
        let request = self
            .client
            .post(format!("{}/v1/clicks", self.args.base))
            .header("user-agent", USER_AGENT)
            .json(&body);
        let answer = self.send("click", request).await;
        if (200..300).contains(&answer.status) {
            {
                let mut out = self.clicks_ok.lock().unwrap();
                let _ = writeln!(out, "{click_id}");
            }
            let txid = format!("tx-{click_id}");
            self.queue
                .lock()
                .unwrap()
                .push_back(Pending { click_id, txid });
        }
    }

    async fn postback(&self, p: Pending) {
        let url = format!(
            "{}/v1/postback/generic?key={}&click_id={}&status=lead&value=1&txid={}",
            self.args.base, self.args.key, p.click_id, p.txid
        );
        let answer = self.send("postback", self.client.get(url)).await;
        match answer.status {
            s if (200..300).contains(&s) => {
                let status = answer
                    .body
                    .as_ref()
                    .and_then(|b| b["status"].as_str())
                    .unwrap_or("unknown")
                    .to_owned();
                {
                    let mut out = self.postbacks_ok.lock().unwrap();
                    let _ = writeln!(out, "{}\t{}\t{status}", p.click_id, p.txid);
                }
                self.count(format!("postback_status.{status}"));
                if status == "accepted" && rand::thread_rng().gen_bool(0.05) {
                    self.queue.lock().unwrap().push_back(p);
                }
            }
            // Not acknowledged: the tracker tries again later with the same transaction id.
            0 | 1 | 500..=599 => self.queue.lock().unwrap().push_back(p),
            _ => {}
        }
    }

    async fn worker(self: Arc<Self>) {
        let period = Duration::from_secs_f64(self.args.concurrency as f64 / self.args.rate);
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // Spread the workers over one period.
        let offset = rand::thread_rng().gen_range(0.0..1.0);
        tokio::time::sleep(period.mul_f64(offset)).await;
        while !self.stopped() {
            tick.tick().await;
            if self.stopped() {
                break;
            }
            let job = if rand::thread_rng().gen_bool(0.5) {
                self.queue.lock().unwrap().pop_front()
            } else {
                None
            };
            match job {
                Some(p) => self.postback(p).await,
                None => self.click().await,
            }
        }
    }

    async fn probe(self: Arc<Self>) {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        while !self.stopped() {
            tick.tick().await;
            let health = self.client.get(format!("{}/healthz", self.args.base));
            let ready = self.client.get(format!("{}/readyz", self.args.base));
            tokio::join!(self.send("healthz", health), self.send("readyz", ready));
        }
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out).expect("cannot create the output directory");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs_f64(args.timeout))
        .connect_timeout(Duration::from_secs(2))
        .pool_idle_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let shared = Arc::new(Shared {
        clicks_ok: Mutex::new(append(&args.out.join("clicks.ok"))),
        postbacks_ok: Mutex::new(append(&args.out.join("postbacks.ok"))),
        log: args
            .log
            .then(|| Mutex::new(append(&args.out.join("requests.tsv")))),
        client,
        stop: AtomicBool::new(false),
        next_click: AtomicU64::new(1),
        queue: Mutex::new(VecDeque::new()),
        counts: Mutex::new(BTreeMap::new()),
        args,
    });

    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(shared.args.seconds);
    let watcher = {
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            for round in 1u64.. {
                let file_seen = shared.args.stop_file.as_ref().is_some_and(|f| f.exists());
                if file_seen || Instant::now() >= deadline {
                    shared.stop.store(true, Ordering::Relaxed);
                    break;
                }
                // Records reach the disk within a second even if this process is killed.
                if round % 20 == 0 {
                    shared.flush();
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let mut tasks = Vec::new();
    for _ in 0..shared.args.concurrency.max(1) {
        tasks.push(tokio::spawn(Arc::clone(&shared).worker()));
    }
    if shared.args.probe {
        tasks.push(tokio::spawn(Arc::clone(&shared).probe()));
    }
    for t in tasks {
        t.await.unwrap();
    }
    watcher.await.unwrap();

    shared.flush();
    let mut summary: serde_json::Map<String, Value> = shared
        .counts
        .lock()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    summary.insert(
        "postbacks_queued_at_stop".into(),
        json!(shared.queue.lock().unwrap().len()),
    );
    summary.insert(
        "seconds".into(),
        json!((started.elapsed().as_secs_f64() * 10.0).round() / 10.0),
    );
    println!("{}", Value::Object(summary));
}
