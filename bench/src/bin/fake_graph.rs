//! A fast local stand-in for Meta's Graph API, for the benchmark and the crash and outage runs.
//!
//! `fake_graph <port>`: answers `POST /{version}/{pixel}/events` like Meta, and counts what it
//! received. `GET /_stats` reports the counts; `POST /_mode/ok`, `POST /_mode/fail` and `POST /_mode/token`
//! switch between success, HTTP 500 (a Meta outage) and error 190 (a revoked token). An event whose `custom_data.order_id` is `t`
//! followed by the send time in microseconds yields a postback -> Meta latency sample.
//! `FAKE_GRAPH_PATH=/v26.0/1234567890/events`: the only path requests should come to; any
//! other is answered like the right one but counted as `wrong_path_requests` in `/_stats`.
//!
//! It is a fake TikTok Events API as well: `POST /open_api/v1.3/event/track/` answers like
//! TikTok (`{"code":0,...}`; `fail` mode: HTTP 500, `token` mode: code 40105) and counts its
//! events apart, in `GET /_stats/tiktok` (same fields). A request without an `Access-Token`
//! header, not `event_source: "web"`, or (with `FAKE_TIKTOK_PIXEL` set) for another pixel code
//! is answered all the same but counted in `wrong_path_requests`.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::{json, Value};

#[derive(Default, Clone, Copy, PartialEq)]
enum Mode {
    #[default]
    Ok,
    /// HTTP 500 without a Graph body: Meta is down.
    Fail,
    /// Code 190: the access token was revoked.
    Token,
}

#[derive(Default)]
struct Stats {
    mode: Mode,
    requests: u64,
    failed_requests: u64,
    events: u64,
    max_batch: usize,
    ids: HashSet<String>,
    /// event_id -> payload, to detect one id arriving with two different payloads.
    payloads: HashMap<String, u64>,
    conflicting_payloads: u64,
    duplicates: u64,
    latencies_us: Vec<u64>,
    last_event_at_ms: u128,
    /// Requests to another path than FAKE_GRAPH_PATH (another pixel or API version).
    wrong_path_requests: u64,
}

fn now_us() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros()
}

fn fingerprint(event: &Value) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut e = event.clone();
    // The same conversion re-sent keeps every field; only these may legitimately differ.
    if let Some(o) = e.as_object_mut() {
        o.remove("event_time");
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    e.to_string().hash(&mut h);
    h.finish()
}

/// Counts the events of an accepted request (ids, re-sends, payloads, latency samples).
fn record(s: &mut Stats, data: &[Value]) {
    let now = now_us();
    s.events += data.len() as u64;
    s.max_batch = s.max_batch.max(data.len());
    s.last_event_at_ms = now / 1000;
    for e in data {
        let id = e["event_id"].as_str().unwrap_or_default().to_owned();
        let fp = fingerprint(e);
        if !s.ids.insert(id.clone()) {
            s.duplicates += 1;
        }
        match s.payloads.insert(id, fp) {
            Some(old) if old != fp => s.conflicting_payloads += 1,
            _ => {}
        }
        if let Some(sent) = e["custom_data"]["order_id"]
            .as_str()
            .and_then(|o| o.strip_prefix('t'))
            .and_then(|t| t.parse::<u128>().ok())
        {
            s.latencies_us.push(now.saturating_sub(sent) as u64);
        }
    }
}

async fn events(
    req: actix_web::HttpRequest,
    body: web::Bytes,
    stats: web::Data<Mutex<Stats>>,
) -> HttpResponse {
    let wrong_path = std::env::var("FAKE_GRAPH_PATH").is_ok_and(|p| p != req.path());
    let Ok(parsed) = serde_json::from_slice::<Value>(&body) else {
        return HttpResponse::BadRequest()
            .json(json!({"error": {"message": "bad json", "code": 100}}));
    };
    let data = parsed["data"].as_array().cloned().unwrap_or_default();
    let mut s = stats.lock().unwrap();
    s.requests += 1;
    if wrong_path {
        s.wrong_path_requests += 1;
    }
    match s.mode {
        Mode::Ok => {}
        Mode::Fail => {
            s.failed_requests += 1;
            return HttpResponse::InternalServerError().body("Service Unavailable");
        }
        Mode::Token => {
            s.failed_requests += 1;
            return HttpResponse::BadRequest().json(json!({"error": {
                "message": "Error validating access token: The session has been invalidated because the user changed their password.",
                "type": "OAuthException", "code": 190, "error_subcode": 460,
                "fbtrace_id": "FakeTokenTrace"}}));
        }
    }
    record(&mut s, &data);
    HttpResponse::Ok()
        .json(json!({"events_received": data.len(), "messages": [], "fbtrace_id": "FakeTrace"}))
}

/// TikTok's own counts, apart from Meta's.
struct TikTokStats(Mutex<Stats>);

fn tiktok_answer(code: i64, message: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({"code": code, "message": message,
        "request_id": "FakeTikTokRequest", "data": {}}))
}

async fn tiktok_events(
    req: actix_web::HttpRequest,
    body: web::Bytes,
    stats: web::Data<TikTokStats>,
) -> HttpResponse {
    let Ok(parsed) = serde_json::from_slice::<Value>(&body) else {
        return tiktok_answer(40002, "body is not JSON");
    };
    let token = req
        .headers()
        .get("access-token")
        .is_some_and(|t| !t.is_empty());
    let pixel = std::env::var("FAKE_TIKTOK_PIXEL")
        .map_or(true, |p| parsed["event_source_id"] == p.as_str());
    let wrong = !token || !pixel || parsed["event_source"] != "web";
    let data = parsed["data"].as_array().cloned().unwrap_or_default();
    let mut s = stats.0.lock().unwrap();
    s.requests += 1;
    if wrong {
        s.wrong_path_requests += 1;
    }
    match s.mode {
        Mode::Ok => {}
        Mode::Fail => {
            s.failed_requests += 1;
            return HttpResponse::InternalServerError().body("Service Unavailable");
        }
        Mode::Token => {
            s.failed_requests += 1;
            return tiktok_answer(40105, "Access token is incorrect or has been revoked.");
        }
    }
    record(&mut s, &data);
    tiktok_answer(0, "OK")
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

async fn stats(stats: web::Data<Mutex<Stats>>) -> HttpResponse {
    HttpResponse::Ok().json(report(&stats.lock().unwrap()))
}

async fn tiktok_stats(stats: web::Data<TikTokStats>) -> HttpResponse {
    HttpResponse::Ok().json(report(&stats.0.lock().unwrap()))
}

fn report(s: &Stats) -> Value {
    let mut lat = s.latencies_us.clone();
    lat.sort_unstable();
    json!({
        "requests": s.requests,
        "failed_requests": s.failed_requests,
        "events": s.events,
        "unique_event_ids": s.ids.len(),
        "duplicates": s.duplicates,
        "conflicting_payloads": s.conflicting_payloads,
        "max_batch": s.max_batch,
        "latency_samples": lat.len(),
        "latency_p50_ms": percentile(&lat, 0.5),
        "latency_p99_ms": percentile(&lat, 0.99),
        "last_event_at_ms": s.last_event_at_ms,
        "wrong_path_requests": s.wrong_path_requests,
    })
}

/// Switches Meta and TikTok alike.
async fn mode(
    path: web::Path<String>,
    stats: web::Data<Mutex<Stats>>,
    tiktok: web::Data<TikTokStats>,
) -> HttpResponse {
    let mode = match path.as_str() {
        "fail" => Mode::Fail,
        "token" => Mode::Token,
        _ => Mode::Ok,
    };
    stats.lock().unwrap().mode = mode;
    tiktok.0.lock().unwrap().mode = mode;
    HttpResponse::Ok().finish()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(18091);
    let stats = web::Data::new(Mutex::new(Stats::default()));
    let tiktok = web::Data::new(TikTokStats(Mutex::new(Stats::default())));
    HttpServer::new(move || {
        App::new()
            .app_data(stats.clone())
            .app_data(tiktok.clone())
            .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
            .route("/_stats", web::get().to(self::stats))
            .route("/_stats/tiktok", web::get().to(tiktok_stats))
            .route("/_mode/{mode}", web::post().to(mode))
            .route("/open_api/v1.3/event/track/", web::post().to(tiktok_events))
            .route("/{version}/{pixel}/events", web::post().to(events))
    })
    .workers(1)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
