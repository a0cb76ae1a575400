//! The disk-fill and lock-out cases of `bench/abuse`. The server trusts 127.0.0.1 as its proxy,
//! so each attacking address is an `X-Forwarded-For`:
//!
//! * disk fill: a few addresses register maximum-size clicks (every field at its cap, random so
//!   that PostgreSQL cannot compress them) as fast as the server answers, on `<campaign>-fill`;
//!   each must be refused (429) once its budget is spent. The script then reports the disk each
//!   address used, from the database.
//! * lock-out: ten addresses do the same on `<campaign>-lockout` while real visitors (a fresh
//!   IPv6 /64 each) register and re-register as the landing tag does: every visitor registration
//!   must be stored while the attack runs.
//!
//! A 5xx, a transport error, an attack never refused or a visitor refused fails the run.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::distributions::Alphanumeric;
use rand::Rng;
use serde_json::{json, Map, Value};

/// What one case found: lines for the report, and what fails the run.
#[derive(Default)]
pub struct Report {
    pub lines: Vec<String>,
    pub failures: Vec<String>,
}

/// Answers to one address's requests, by status (0: no answer).
#[derive(Default)]
struct Answers(BTreeMap<u16, u64>);

impl Answers {
    fn count(&self, status: u16) -> u64 {
        self.0.get(&status).copied().unwrap_or(0)
    }

    fn total(&self) -> u64 {
        self.0.values().sum()
    }

    fn unexpected(&self, expected: &[u16]) -> u64 {
        self.0
            .iter()
            .filter(|(s, _)| !expected.contains(s))
            .map(|(_, n)| n)
            .sum()
    }

    fn shown(&self) -> String {
        let parts: Vec<String> = self.0.iter().map(|(s, n)| format!("{s}x{n}")).collect();
        parts.join(" ")
    }
}

fn noise(n: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// A click with every field at its cap (docs/api.md "Field caps").
fn max_click(campaign: &str, click_id: &str) -> Value {
    let names = |prefix: &str| -> Vec<String> {
        (0..20)
            .map(|i| format!("{prefix}{i:02}{}", noise(47)))
            .collect()
    };
    let ids = |names: &[String]| -> Map<String, Value> {
        names
            .iter()
            .map(|n| (n.clone(), json!(noise(100))))
            .collect()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let meta = names("m");
    let fired: Map<String, Value> = meta.iter().map(|n| (n.clone(), json!(now))).collect();
    json!({
        "campaign": campaign, "click_id": click_id,
        "fbclid": noise(1000),
        "fbc": format!("fb.1.1733165018542.{}", noise(1081)),
        "fbp": format!("fb.1.1733165018542.{}", noise(1081)),
        "ttclid": noise(512), "ttp": noise(512),
        "event_source_url": format!("https://lp.example/{}", noise(2029)),
        "referrer_url": format!("https://lp.example/{}", noise(2029)),
        "event_ids": ids(&meta), "tiktok_event_ids": ids(&names("t")), "pixel_fired_at": fired,
        "em": format!("{}@example.com", noise(40)), "ph": "+14155550123", "fn": noise(30),
        "ln": noise(30), "ge": "f", "db": "19900101", "ct": noise(20), "st": "ca",
        "zp": "94105", "country": "us", "external_id": noise(100),
    })
}

/// What the landing tag sends on a visit: the first registration, then its later ones.
fn visit(campaign: &str, click_id: &str) -> [Value; 3] {
    [
        json!({"campaign": campaign, "click_id": click_id, "fbclid": format!("IwAR{}", noise(60)),
            "fbp": "fb.1.1733165018542.1116446470",
            "event_source_url": format!("https://lp.example.com/offer?subid={click_id}"),
            "referrer_url": "https://l.facebook.com/", "event_ids": {"Lead": format!("Lead-{click_id}")}}),
        json!({"campaign": campaign, "click_id": click_id, "event_ids": {"Lead": format!("Lead-{click_id}")}}),
        json!({"campaign": campaign, "click_id": click_id, "consent": true}),
    ]
}

async fn post(client: &reqwest::Client, base: &str, from: &str, body: &Value) -> u16 {
    let sent = client
        .post(format!("{base}/v1/clicks"))
        .header("user-agent", noise(1024))
        .header("x-forwarded-for", from)
        .json(body)
        .send()
        .await;
    sent.map_or(0, |r| r.status().as_u16())
}

/// How long an attack goes on: until the address was refused `refusals` times, but at least
/// `least` and at most `most`.
#[derive(Clone, Copy)]
struct Length {
    least: Duration,
    most: Duration,
    refusals: u64,
}

impl Length {
    fn new(smoke: bool) -> Self {
        Length {
            least: Duration::from_secs(if smoke { 1 } else { 5 }),
            most: Duration::from_secs(if smoke { 20 } else { 60 }),
            refusals: if smoke { 10 } else { 100 },
        }
    }
}

/// `address` registers maximum-size clicks, `streams` at a time, for `length`.
async fn attack(
    client: reqwest::Client,
    base: Arc<String>,
    campaign: Arc<String>,
    address: String,
    streams: usize,
    length: Length,
) -> Answers {
    let started = Instant::now();
    let refused = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..streams)
        .map(|s| {
            let (client, base, campaign, address, refused) = (
                client.clone(),
                base.clone(),
                campaign.clone(),
                address.clone(),
                refused.clone(),
            );
            tokio::spawn(async move {
                let mut answers = Answers::default();
                let mut n = 0u64;
                let going = || {
                    let t = started.elapsed();
                    t < length.most
                        && (t < length.least || refused.load(Ordering::Relaxed) < length.refusals)
                };
                while going() {
                    n += 1;
                    let id = format!("fill-{}-{s}-{n}", address.replace([':', '.'], "_"));
                    let status = post(&client, &base, &address, &max_click(&campaign, &id)).await;
                    if status == 429 {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    *answers.0.entry(status).or_default() += 1;
                }
                answers
            })
        })
        .collect();
    let mut all = Answers::default();
    for t in tasks {
        for (status, n) in t.await.map(|a| a.0).unwrap_or_default() {
            *all.0.entry(status).or_default() += n;
        }
    }
    all
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("reqwest client")
}

/// Attacking addresses of a case: `198.51.100.<first + i>`.
fn addresses(first: usize, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("198.51.100.{}", first + i))
        .collect()
}

/// Each address is refused once it stored its budget.
pub async fn disk_fill(base: &str, campaign: &str, smoke: bool) -> Report {
    let n = if smoke { 2 } else { 4 };
    let length = Length::new(smoke);
    let base = Arc::new(base.to_owned());
    let campaign = Arc::new(format!("{campaign}-fill"));
    let started = Instant::now();
    let tasks: Vec<_> = addresses(1, n)
        .into_iter()
        .map(|a| {
            let run = attack(
                client(),
                base.clone(),
                campaign.clone(),
                a.clone(),
                4,
                length,
            );
            tokio::spawn(async move { (a, run.await) })
        })
        .collect();
    let mut report = Report::default();
    report.lines.push(format!(
        "disk fill: {n} addresses, maximum-size clicks on {campaign} until refused {} times each",
        length.refusals
    ));
    for t in tasks {
        let Ok((address, answers)) = t.await else {
            report
                .failures
                .push("disk fill: an attacker task panicked".into());
            continue;
        };
        report.lines.push(format!(
            "  {address:<16} {:>6} requests: {}",
            answers.total(),
            answers.shown()
        ));
        if answers.unexpected(&[201, 429]) > 0 {
            report
                .failures
                .push(format!("disk fill {address}: {}", answers.shown()));
        }
        if answers.count(429) == 0 {
            report.failures.push(format!(
                "disk fill {address}: never refused in {}s, so not bounded",
                length.most.as_secs()
            ));
        }
    }
    report.lines.push(format!(
        "  ({:.1}s; the disk each address used is read from the database below)",
        started.elapsed().as_secs_f64()
    ));
    report
}

/// Ten addresses exhaust the campaign's budget; every real visitor still registers.
pub async fn lock_out(base: &str, campaign: &str, smoke: bool) -> Report {
    let length = Length::new(smoke);
    let base = Arc::new(base.to_owned());
    let campaign = Arc::new(format!("{campaign}-lockout"));
    let attackers: Vec<_> = addresses(101, 10)
        .into_iter()
        .map(|a| {
            let run = attack(
                client(),
                base.clone(),
                campaign.clone(),
                a.clone(),
                2,
                length,
            );
            tokio::spawn(async move { (a, run.await) })
        })
        .collect();
    // Real visitors, one a fresh /64, every 20 ms while the attack runs.
    let attacking = Arc::new(AtomicBool::new(true));
    let visitors = {
        let (base, campaign, attacking) = (base.clone(), campaign.clone(), attacking.clone());
        tokio::spawn(async move {
            let client = client();
            let (mut answers, mut refused) = (Answers::default(), Vec::new());
            let mut n = 0u32;
            while attacking.load(Ordering::Relaxed) {
                n += 1;
                let from = format!("2001:db8:fee:{n:x}::1");
                let id = format!("visitor-{n}");
                for (i, body) in visit(&campaign, &id).iter().enumerate() {
                    let status = post(&client, &base, &from, body).await;
                    *answers.0.entry(status).or_default() += 1;
                    let want = if i == 0 { 201 } else { 200 };
                    if status != want && refused.len() < 5 {
                        refused.push(format!("{id} registration {}: {status}", i + 1));
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (n, answers, refused)
        })
    };
    let mut report = Report::default();
    report.lines.push(format!(
        "lock-out: 10 addresses, maximum-size clicks on {campaign} until refused {} times each, real visitors alongside",
        length.refusals
    ));
    let mut attack_total = Answers::default();
    let mut done = Vec::new();
    for t in attackers {
        done.push(t.await);
    }
    attacking.store(false, Ordering::Relaxed);
    for t in done {
        let Ok((address, answers)) = t else {
            report
                .failures
                .push("lock-out: an attacker task panicked".into());
            continue;
        };
        if answers.unexpected(&[201, 429]) > 0 {
            report
                .failures
                .push(format!("lock-out {address}: {}", answers.shown()));
        }
        for (s, n) in answers.0 {
            *attack_total.0.entry(s).or_default() += n;
        }
    }
    report.lines.push(format!(
        "  attack, 10 addresses together: {}",
        attack_total.shown()
    ));
    match visitors.await {
        Ok((n, answers, refused)) => {
            report.lines.push(format!(
                "  real visitors: {n}, registrations {}",
                answers.shown()
            ));
            if answers.unexpected(&[200, 201]) > 0 || n == 0 {
                report.failures.push(format!(
                    "lock-out: real visitors refused while the attack ran: {}",
                    refused.join(", ")
                ));
            }
        }
        Err(_) => report
            .failures
            .push("lock-out: the visitor task panicked".into()),
    }
    if attack_total.count(429) == 0 {
        report
            .failures
            .push("lock-out: the attack was never refused".into());
    }
    report
}
