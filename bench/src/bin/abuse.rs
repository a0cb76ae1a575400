//! HTTP abuse run for `bench/abuse`: thousands of malformed requests over raw TCP (so it can send
//! what reqwest refuses to: broken request lines, invalid UTF-8, NUL bytes, smuggling headers,
//! half requests) against every public endpoint, while normal traffic keeps registering clicks and
//! sending postbacks and counts its successes.
//!
//! `abuse <host:port> <postback-key> <campaign> <server-pid> <server-log> [--smoke]`
//!
//! Prints the outcome of every case and the totals by status class. Exits 1 when a 5xx came back,
//! a request got no answer and no close within its time limit (15 s), a stalled half request was
//! neither closed nor answered 408 within the server's REQUEST_TIMEOUT (`ABUSE_REQUEST_TIMEOUT`,
//! seconds, 15 by default, the server's default; plus 2 s for timer slack; judged in --smoke too),
//! normal traffic did not get through while the stalls were held, the server process died or its
//! log says "panicked", its peak RSS went above 200 MB, or a normal request failed. A malformed
//! request that the server closes without an answer, or answers with a 4xx, is fine. `ABUSE_NO_BOMB=1` leaves out the gzip bombs
//! (a defect found and fixed, see the notes in `bench/abuse`). The disk-fill and lock-out cases
//! are in `abuse/disk_fill.rs`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use capi_bridge::trackers::PARAMETER_NAMES;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[path = "abuse/disk_fill.rs"]
mod disk_fill;

const RSS_LIMIT_KB: u64 = 200 * 1024;
const TRACKERS: [&str; 7] = [
    "keitaro",
    "binom",
    "bemob",
    "voluum",
    "redtrack",
    "clickflare",
    "generic",
];
/// The click id parameter of each tracker, in `TRACKERS` order.
const CLICK_PARAMS: [&str; 7] = [
    "subid", "cnv_id", "cid", "cid", "clickid", "cid", "click_id",
];
const CLICK_FIELDS: [&str; 22] = [
    "campaign",
    "click_id",
    "fbclid",
    "fbc",
    "fbp",
    "event_source_url",
    "referrer_url",
    "client_ip_address",
    "client_user_agent",
    "external_id",
    "consent",
    "event_ids[Lead]",
    "em",
    "ph",
    "fn",
    "ln",
    "ge",
    "db",
    "ct",
    "st",
    "zp",
    "country",
];
const INJECTIONS: [&str; 20] = [
    "' OR '1'='1",
    "'; DROP TABLE clicks; --",
    "1' UNION SELECT access_token FROM campaigns --",
    "'; SELECT pg_sleep(10); --",
    "1; SELECT pg_sleep(10)",
    "' AND pg_sleep(5) IS NULL --",
    "$$; DROP TABLE campaigns; $$",
    "' || (SELECT version()) || '",
    "%' AND 1=1 --",
    "admin'--",
    "\") OR (\"1\"=\"1",
    "1 OR 1=1",
    "\\'; DELETE FROM conversions; --",
    "${jndi:ldap://127.0.0.1/a}",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "{{7*7}}",
    "'\u{0}'",
    "é' OR 'é'='é",
    "lead'); INSERT INTO campaigns (key) VALUES ('pwned'); --",
];
const BAD_PERCENT: [&str; 12] = [
    "%",
    "%4",
    "%zz",
    "%+0",
    "%-1",
    "%C3%28",
    "%ED%A0%80",
    "%F4%90%80%80",
    "%FF%FE",
    "%00",
    "%25%",
    "%%%%",
];

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Mode {
    /// Write everything at once.
    Whole,
    /// Write `chunk` bytes, pause, repeat (a slow client).
    Trickle { chunk: usize, pause_ms: u64 },
    /// Write the bytes, then neither finish nor close (a half request that stalls).
    Stall,
}

struct Case {
    group: &'static str,
    name: String,
    bytes: Vec<u8>,
    mode: Mode,
}

/// One HTTP/1.1 request, built byte by byte so that anything can be put in it.
struct Req {
    method: Vec<u8>,
    target: Vec<u8>,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    body: Vec<u8>,
    content_length: bool,
    close: bool,
}

impl Req {
    fn new(method: &str, target: impl Into<Vec<u8>>) -> Self {
        Req {
            method: method.as_bytes().to_vec(),
            target: target.into(),
            headers: Vec::new(),
            body: Vec::new(),
            content_length: method == "POST",
            close: true,
        }
    }

    fn get(target: impl Into<Vec<u8>>) -> Self {
        Req::new("GET", target)
    }

    fn post(target: impl Into<Vec<u8>>, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Req::new("POST", target)
            .header("Content-Type", content_type)
            .body(body)
    }

    fn header(mut self, name: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self.content_length = true;
        self
    }

    /// No `Content-Length` header (for `Transfer-Encoding` cases and hand-made lengths).
    fn no_length(mut self) -> Self {
        self.content_length = false;
        self
    }

    fn keep_alive(mut self) -> Self {
        self.close = false;
        self
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 256);
        out.extend_from_slice(&self.method);
        out.push(b' ');
        out.extend_from_slice(&self.target);
        out.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: abuse/1.0\r\n");
        if self.close {
            out.extend_from_slice(b"Connection: close\r\n");
        }
        for (k, v) in &self.headers {
            out.extend_from_slice(k);
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        if self.content_length {
            out.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// Percent-encodes everything but the unreserved characters.
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// Deterministic pseudo-random bytes (xorshift), so that runs are repeatable.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// 50 MB of zeros, gzip-compressed to about 50 KB (under the 64 KiB body limit), if `gzip` runs
/// and `ABUSE_NO_BOMB` is not set.
fn gzip_bomb() -> Option<Vec<u8>> {
    if std::env::var_os("ABUSE_NO_BOMB").is_some() {
        return None;
    }
    let out = std::process::Command::new("sh")
        .args(["-c", "head -c 50000000 /dev/zero | gzip -9"])
        .output()
        .ok()?;
    (out.status.success() && !out.stdout.is_empty()).then_some(out.stdout)
}

struct Ctx {
    key: String,
    campaign: String,
    serial: AtomicU64,
}

impl Ctx {
    /// A fresh click id, so injection requests that pass validation create new rows.
    fn id(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.serial.fetch_add(1, Ordering::Relaxed))
    }
}

/// Valid base query of an endpoint, to which the malformed part is added.
fn base_query(ctx: &Ctx, path: &str) -> String {
    if path == "/v1/clicks" {
        format!("campaign={}&click_id={}", ctx.campaign, ctx.id("m"))
    } else if let Some(t) = path.strip_prefix("/v1/postback/") {
        let i = TRACKERS.iter().position(|x| *x == t).unwrap_or(0);
        format!("key={}&{}={}", ctx.key, CLICK_PARAMS[i], ctx.id("m"))
    } else {
        "a=1".to_owned()
    }
}

fn cases(ctx: &Ctx, smoke: bool) -> Vec<Case> {
    let mut out: Vec<Case> = Vec::new();
    let mut add = |group: &'static str, name: String, bytes: Vec<u8>| {
        out.push(Case {
            group,
            name,
            bytes,
            mode: Mode::Whole,
        })
    };

    let mut get_paths: Vec<String> = vec!["/v1/clicks".into()];
    get_paths.extend(TRACKERS.iter().map(|t| format!("/v1/postback/{t}")));
    get_paths.extend(
        [
            "/v1/postback/nope",
            "/healthz",
            "/readyz",
            "/nope",
            "/v1/clicks/x",
            "/admin/v1/campaigns",
        ]
        .map(String::from),
    );
    let mut post_paths: Vec<String> = vec!["/v1/clicks".into()];
    post_paths.extend(TRACKERS.iter().map(|t| format!("/v1/postback/{t}")));
    post_paths.extend(["/healthz", "/nope"].map(String::from));

    // -- The request line and headers, on every GET endpoint.
    for p in &get_paths {
        let q = base_query(ctx, p);
        let g = "query/headers";
        add(
            g,
            format!("GET {p} 100KB value"),
            Req::get(format!("{p}?{q}&em={}", "a".repeat(100_000))).bytes(),
        );
        add(
            g,
            format!("GET {p} 100KB of a=1&"),
            Req::get(format!("{p}?{}{q}", "a=1&".repeat(25_000))).bytes(),
        );
        add(
            g,
            format!("GET {p} 100KB of %zz"),
            Req::get(format!("{p}?{q}&x={}", "%zz".repeat(33_000))).bytes(),
        );
        add(
            g,
            format!("GET {p} 200KB query"),
            Req::get(format!("{p}?{q}&em={}", "b".repeat(200_000))).bytes(),
        );
        for bad in BAD_PERCENT {
            add(
                g,
                format!("GET {p} bad escape {bad}"),
                Req::get(format!("{p}?{q}&em={bad}")).bytes(),
            );
            add(
                g,
                format!("GET {p} bad escape in name {bad}"),
                Req::get(format!("{p}?{bad}=1&{q}")).bytes(),
            );
        }
        let mut raw = format!("{p}?{q}&fn=").into_bytes();
        raw.extend_from_slice(b"\xff\xfe\xc3(");
        add(
            g,
            format!("GET {p} raw invalid UTF-8"),
            Req::get(raw).bytes(),
        );
        let mut raw = format!("{p}?{q}&fn=").into_bytes();
        raw.extend_from_slice(b"a\0b");
        add(
            g,
            format!("GET {p} raw NUL in target"),
            Req::get(raw).bytes(),
        );
        add(
            g,
            format!("GET {p} NUL in header"),
            Req::get(format!("{p}?{q}"))
                .header("X-Postback-Key", b"a\0b".to_vec())
                .bytes(),
        );
        add(
            g,
            format!("GET {p} invalid UTF-8 headers"),
            Req::get(format!("{p}?{q}"))
                .header("User-Agent", b"Mozilla\xff\xfe".to_vec())
                .header("X-Forwarded-For", b"\xff, 1.2.3.4".to_vec())
                .header("Accept", b"application/json\xc3".to_vec())
                .bytes(),
        );
        let mut many = Req::get(format!("{p}?{q}"));
        for i in 0..200 {
            many = many.header(format!("X-Many-{i}"), format!("value-{i}"));
        }
        add(g, format!("GET {p} 200 headers"), many.bytes());
        let mut more = Req::get(format!("{p}?{q}"));
        for i in 0..2000 {
            more = more.header("X-Same", format!("{i}"));
        }
        add(g, format!("GET {p} 2000 headers"), more.bytes());
        add(
            g,
            format!("GET {p} 100KB header"),
            Req::get(format!("{p}?{q}"))
                .header("X-Big", "h".repeat(100_000))
                .bytes(),
        );
        add(
            g,
            format!("GET {p} 200KB header"),
            Req::get(format!("{p}?{q}"))
                .header("Cookie", "c".repeat(200_000))
                .bytes(),
        );
        add(
            g,
            format!("GET {p} 8KB User-Agent"),
            Req::get(format!("{p}?{q}"))
                .header("User-Agent", "U".repeat(8_000))
                .header("Accept", "application/json")
                .bytes(),
        );
        add(
            g,
            format!("GET {p} header without colon"),
            format!("GET {p}?{q} HTTP/1.1\r\nHost: x\r\nNoColonHere\r\nConnection: close\r\n\r\n")
                .into_bytes(),
        );
        add(
            g,
            format!("GET {p} obs-fold header"),
            Req::get(format!("{p}?{q}"))
                .header("X-Fold", "a\r\n continued")
                .bytes(),
        );
        add(
            g,
            format!("GET {p} bad header name"),
            Req::get(format!("{p}?{q}"))
                .header("Bad Name(", "x")
                .bytes(),
        );
        add(
            g,
            format!("GET {p} garbage X-Forwarded-For"),
            Req::get(format!("{p}?{q}"))
                .header(
                    "X-Forwarded-For",
                    "'; DROP TABLE clicks; --, 999.1.1.1, ::::",
                )
                .header("Forwarded", "for=\"[::1\";proto=gopher")
                .bytes(),
        );
        add(
            g,
            format!("GET {p} 1MB body"),
            Req::get(format!("{p}?{q}"))
                .body(vec![b'x'; 1 << 20])
                .bytes(),
        );
        add(
            g,
            format!("GET {p} Content-Length and Transfer-Encoding"),
            Req::get(format!("{p}?{q}"))
                .header("Content-Length", "5")
                .header("Transfer-Encoding", "chunked")
                .no_length()
                .bytes()
                .into_iter()
                .chain(b"0\r\n\r\nGET /admin/v1/campaigns HTTP/1.1\r\nHost: x\r\n\r\n".to_vec())
                .collect(),
        );
        add(
            g,
            format!("GET {p} absolute-form target"),
            Req::get(format!("http://evil.example{p}?{q}")).bytes(),
        );
        add(
            g,
            format!("GET {p} fragment and dot segments"),
            Req::get(format!("{p}/../../admin/v1/campaigns?{q}#frag")).bytes(),
        );
        add(
            g,
            format!("HEAD {p}"),
            Req::new("HEAD", format!("{p}?{q}")).bytes(),
        );
        add(
            g,
            format!("DELETE {p}"),
            Req::new("DELETE", format!("{p}?{q}")).bytes(),
        );
        add(
            g,
            format!("OPTIONS {p} preflight"),
            Req::new("OPTIONS", p.as_str())
                .header("Origin", "https://evil.example")
                .header("Access-Control-Request-Method", "DELETE")
                .header("Access-Control-Request-Headers", "x".repeat(10_000))
                .bytes(),
        );
        add(
            g,
            format!("GET {p} bad bearer"),
            Req::get(format!("{p}?{q}"))
                .header("Authorization", "Bearer ' OR '1'='1")
                .bytes(),
        );
    }

    // -- Bodies, on every POST endpoint.
    let bomb = gzip_bomb();
    for p in &post_paths {
        let q = base_query(ctx, p);
        let target = if p == "/v1/clicks" {
            p.clone()
        } else {
            format!("{p}?{q}")
        };
        let click = ctx.id("b");
        let g = "bodies";
        let json = "application/json";
        let form = "application/x-www-form-urlencoded";
        add(
            g,
            format!("POST {p} 1MB JSON"),
            Req::post(
                target.as_str(),
                json,
                format!(
                    r#"{{"campaign":"{}","click_id":"{click}","em":"{}"}}"#,
                    ctx.campaign,
                    "a".repeat(1 << 20)
                ),
            )
            .bytes(),
        );
        add(
            g,
            format!("POST {p} 1MB form"),
            Req::post(target.as_str(), form, format!("a={}", "b".repeat(1 << 20))).bytes(),
        );
        add(
            g,
            format!("POST {p} 1MB text/plain"),
            Req::post(target.as_str(), "text/plain", vec![b'['; 1 << 20]).bytes(),
        );
        add(
            g,
            format!("POST {p} 100k ["),
            Req::post(target.as_str(), json, vec![b'['; 100_000]).bytes(),
        );
        add(
            g,
            format!("POST {p} 60k [ (under the limit)"),
            Req::post(target.as_str(), json, vec![b'['; 60_000]).bytes(),
        );
        add(
            g,
            format!("POST {p} 60k ] (under the limit)"),
            Req::post(target.as_str(), json, vec![b']'; 60_000]).bytes(),
        );
        add(
            g,
            format!("POST {p} 10k nested objects"),
            Req::post(
                target.as_str(),
                json,
                format!("{}1{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000)),
            )
            .bytes(),
        );
        let mut keys = String::from("{");
        for i in 0..5_000 {
            keys.push_str(&format!("\"k{i}\":{i},"));
        }
        keys.push_str("\"z\":0}");
        add(
            g,
            format!("POST {p} 5000 keys"),
            Req::post(target.as_str(), json, keys).bytes(),
        );
        let wrong_types = [
            "null",
            "1",
            "\"string\"",
            "[]",
            "true",
            "{",
            "}",
            "",
            "\u{feff}{}",
            r#"{"campaign":1,"click_id":2}"#,
            r#"{"campaign":["abuse"],"click_id":{"a":1}}"#,
            r#"{"campaign":"abuse","click_id":"x","consent":"maybe"}"#,
            r#"{"campaign":"abuse","click_id":"x","consent":1}"#,
            r#"{"campaign":"abuse","click_id":"x","event_ids":"Lead"}"#,
            r#"{"campaign":"abuse","click_id":"x","event_ids":{"Lead":5}}"#,
            r#"{"campaign":"abuse","click_id":"x","event_ids":{"Lead":{"a":1}}}"#,
            r#"{"campaign":"abuse","click_id":"x","event_ids":[1,2]}"#,
            r#"{"campaign":"abuse","click_id":"x","em":12345}"#,
            r#"{"campaign":"abuse","click_id":"x","payout":1e999}"#,
            r#"{"campaign":"abuse","click_id":"x","status":-1e308}"#,
            r#"{"campaign":"abuse","click_id":"x","click_id":"y"}"#,
            r#"{"campaign":"abuse","click_id":"x","unknown":"field"}"#,
            r#"{"campaign":"abuse","click_id":"x"} trailing"#,
            r#"{"campaign":"abuse","click_id":"x\u0000y"}"#,
            r#"{"campaign":"abuse","click_id":"x","client_user_agent":"ua\u0000"}"#,
            r#"{"campaign":"abuse","click_id":"x","em":"\ud800@x.com"}"#,
            r#"{"campaign":"abuse","click_id":"x","fn":"\u0000"}"#,
            r#"{"campaign":"abuse","click_id":"x","subid":"x","payout":18446744073709551616}"#,
            r#"{"key":null,"subid":null,"cid":true,"click_id":1.5e300}"#,
        ];
        for (i, body) in wrong_types.iter().enumerate() {
            let body = body.replace("\"x\"", &format!("\"{click}w{i}\""));
            add(
                g,
                format!(
                    "POST {p} JSON {}",
                    body.chars().take(48).collect::<String>()
                ),
                Req::post(target.as_str(), json, body.as_str()).bytes(),
            );
            add(
                g,
                format!(
                    "POST {p} text/plain {}",
                    body.chars().take(48).collect::<String>()
                ),
                Req::post(target.as_str(), "text/plain", body.as_str()).bytes(),
            );
        }
        let mut bad_utf8 = format!(
            r#"{{"campaign":"{}","click_id":"{click}u","fn":""#,
            ctx.campaign
        )
        .into_bytes();
        bad_utf8.extend_from_slice(b"\xff\xfe\"}");
        add(
            g,
            format!("POST {p} JSON invalid UTF-8"),
            Req::post(target.as_str(), json, bad_utf8).bytes(),
        );
        for bad in BAD_PERCENT {
            add(
                g,
                format!("POST {p} form bad escape {bad}"),
                Req::post(
                    target.as_str(),
                    form,
                    format!("campaign={}&click_id={click}f&em={bad}", ctx.campaign),
                )
                .bytes(),
            );
        }
        add(
            g,
            format!("POST {p} form 300 params"),
            Req::post(target.as_str(), form, "a=1&".repeat(300)).bytes(),
        );
        let mut raw_form = format!("campaign={}&click_id={click}r&fn=", ctx.campaign).into_bytes();
        raw_form.extend_from_slice(b"\xff\0\xfe");
        add(
            g,
            format!("POST {p} form raw bytes"),
            Req::post(target.as_str(), form, raw_form).bytes(),
        );
        for ct in [
            "application/json; charset=utf-16",
            "multipart/form-data; boundary=xyz",
            "APPLICATION/JSON",
            "application/x-www-form-urlencoded\u{1}",
            "image/gif",
            ";;;;",
        ] {
            add(
                g,
                format!("POST {p} content-type {ct:?}"),
                Req::post(target.as_str(), ct, r#"{"a":"b"}"#).bytes(),
            );
        }
        add(
            g,
            format!("POST {p} 10KB content-type"),
            Req::post(target.as_str(), &"x".repeat(10_000), "{}").bytes(),
        );
        // Transfer-Encoding and Content-Length games.
        let chunked = |chunks: &[u8]| {
            let mut r = Req::new("POST", target.as_str())
                .header("Content-Type", json)
                .header("Transfer-Encoding", "chunked")
                .no_length()
                .bytes();
            r.extend_from_slice(chunks);
            r
        };
        let mut mb = Vec::new();
        for _ in 0..16 {
            mb.extend_from_slice(b"10000\r\n");
            mb.extend_from_slice(&[b' '; 0x10000]);
            mb.extend_from_slice(b"\r\n");
        }
        mb.extend_from_slice(b"0\r\n\r\n");
        add(g, format!("POST {p} chunked 1MB"), chunked(&mb));
        add(
            g,
            format!("POST {p} chunk size zz"),
            chunked(b"zz\r\nabc\r\n0\r\n\r\n"),
        );
        add(
            g,
            format!("POST {p} chunk size 2^80"),
            chunked(b"ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n"),
        );
        add(
            g,
            format!("POST {p} chunk extensions 60KB"),
            chunked(format!("2;{}\r\n{{}}\r\n0\r\n\r\n", "e".repeat(60_000)).as_bytes()),
        );
        add(
            g,
            format!("POST {p} chunk without CRLF"),
            chunked(b"2\r\n{}XX0\r\n\r\n"),
        );
        for (name, headers) in [
            (
                "CL and TE",
                vec![("Content-Length", "3"), ("Transfer-Encoding", "chunked")],
            ),
            (
                "two different CLs",
                vec![("Content-Length", "2"), ("Content-Length", "40")],
            ),
            ("CL -1", vec![("Content-Length", "-1")]),
            (
                "CL 2^70",
                vec![("Content-Length", "1180591620717411303424")],
            ),
            ("CL with space", vec![("Content-Length", "1 0")]),
            ("CL +2", vec![("Content-Length", "+2")]),
            ("TE gzip", vec![("Transfer-Encoding", "gzip")]),
            (
                "TE chunked twice",
                vec![("Transfer-Encoding", "chunked, chunked")],
            ),
            ("TE identity", vec![("Transfer-Encoding", "identity")]),
            ("Content-Encoding br", vec![("Content-Encoding", "br")]),
            (
                "Content-Encoding gzip not gzip",
                vec![("Content-Encoding", "gzip")],
            ),
            (
                "Content-Encoding x",
                vec![("Content-Encoding", "x-unknown")],
            ),
        ] {
            let mut r = Req::new("POST", target.as_str())
                .header("Content-Type", json)
                .no_length();
            for (k, v) in headers {
                r = r.header(k, v);
            }
            let mut bytes = r.bytes();
            bytes.extend_from_slice(b"2\r\n{}\r\n0\r\n\r\n");
            add(g, format!("POST {p} {name}"), bytes);
        }
        if let Some(bomb) = &bomb {
            add(
                g,
                format!("POST {p} gzip bomb (50 MB of zeros)"),
                Req::post(target.as_str(), json, bomb.clone())
                    .header("Content-Encoding", "gzip")
                    .bytes(),
            );
        }
        add(
            g,
            format!("POST {p} Expect 100-continue with 1MB"),
            Req::post(target.as_str(), json, vec![b'{'; 1 << 20])
                .header("Expect", "100-continue")
                .bytes(),
        );
    }

    // -- SQL injection (and other hostile strings) in every parameter, GET and POST.
    for (fi, field) in CLICK_FIELDS.iter().enumerate() {
        for (si, s) in INJECTIONS.iter().enumerate() {
            let id = ctx.id("i");
            let g = "injection";
            // The hostile value comes first, so it wins over the valid base value.
            add(
                g,
                format!("GET /v1/clicks {field}=<injection {si}>"),
                Req::get(format!(
                    "/v1/clicks?{field}={}&campaign={}&click_id={id}",
                    enc(s),
                    ctx.campaign
                ))
                .header("Accept", "application/json")
                .bytes(),
            );
            let body = if *field == "event_ids[Lead]" {
                format!(
                    r#"{{"campaign":"{}","click_id":"{id}j","event_ids":{{{}:{}}}}}"#,
                    ctx.campaign,
                    json_str(s),
                    json_str(s)
                )
            } else if *field == "consent" {
                format!(
                    r#"{{"campaign":"{}","click_id":"{id}j","consent":{}}}"#,
                    ctx.campaign,
                    json_str(s)
                )
            } else {
                let mut m = serde_json::Map::new();
                m.insert("campaign".into(), ctx.campaign.clone().into());
                m.insert("click_id".into(), format!("{id}j").into());
                m.insert((*field).into(), (*s).into());
                serde_json::Value::Object(m).to_string()
            };
            add(
                g,
                format!("POST /v1/clicks JSON {field}=<injection {si}>"),
                Req::post("/v1/clicks", "application/json", body)
                    .header("User-Agent", format!("Mozilla/5.0 {s}"))
                    .bytes(),
            );
            if (fi + si) % 2 == 0 {
                add(
                    g,
                    format!("POST /v1/clicks form {field}=<injection {si}>"),
                    Req::post(
                        "/v1/clicks",
                        "application/x-www-form-urlencoded",
                        format!(
                            "{field}={}&campaign={}&click_id={id}f",
                            enc(s),
                            ctx.campaign
                        ),
                    )
                    .bytes(),
                );
            }
        }
    }
    for (ti, t) in TRACKERS.iter().enumerate() {
        let click_param = CLICK_PARAMS[ti];
        // Every parameter some dialect reads, the tracker's own click id first; `key` stays the
        // valid one so the injection reaches the parser.
        let fields: Vec<&str> = std::iter::once(click_param)
            .chain(
                PARAMETER_NAMES
                    .iter()
                    .copied()
                    .filter(|&n| n != click_param && n != "key"),
            )
            .collect();
        for field in fields {
            for (si, s) in INJECTIONS.iter().enumerate() {
                let id = ctx.id("p");
                let g = "injection";
                add(
                    g,
                    format!("GET /v1/postback/{t} {field}=<injection {si}>"),
                    Req::get(format!(
                        "/v1/postback/{t}?{field}={}&key={}&{click_param}={id}&campaign={}",
                        enc(s),
                        ctx.key,
                        ctx.campaign
                    ))
                    .bytes(),
                );
                if si % 2 == ti % 2 {
                    let mut m = serde_json::Map::new();
                    m.insert(field.into(), (*s).into());
                    m.insert(click_param.into(), format!("{id}j").into());
                    add(
                        g,
                        format!("POST /v1/postback/{t} JSON {field}=<injection {si}>"),
                        Req::post(
                            format!("/v1/postback/{t}"),
                            "application/json",
                            serde_json::Value::Object(m).to_string(),
                        )
                        .header("X-Postback-Key", ctx.key.as_str())
                        .bytes(),
                    );
                }
            }
        }
    }
    for (si, s) in INJECTIONS.iter().enumerate() {
        let g = "injection";
        add(
            g,
            format!("GET /v1/postback/<injection {si}>"),
            Req::get(format!("/v1/postback/{}?key={}&subid=x", enc(s), ctx.key)).bytes(),
        );
        add(
            g,
            format!("X-Postback-Key <injection {si}>"),
            Req::get("/v1/postback/keitaro?subid=x")
                .header("X-Postback-Key", s.replace('\0', ""))
                .bytes(),
        );
        add(
            g,
            format!("admin bearer <injection {si}>"),
            Req::get(format!("/admin/v1/clicks/{}", enc(s)))
                .header("Authorization", format!("Bearer {}", s.replace('\0', "")))
                .bytes(),
        );
    }

    // -- Not HTTP, or barely.
    let g = "protocol";
    let protocol: Vec<(&str, Vec<u8>)> = vec![
        (
            "TLS ClientHello",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec(),
        ),
        (
            "h2c prior knowledge",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00".to_vec(),
        ),
        (
            "h2c upgrade",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n".to_vec(),
        ),
        (
            "websocket upgrade",
            b"GET /v1/clicks HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".to_vec(),
        ),
        ("HTTP/9.9", b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n".to_vec()),
        ("HTTP/0.9", b"GET /healthz\r\n\r\n".to_vec()),
        ("HTTP/1.0 no host", b"GET /healthz HTTP/1.0\r\n\r\n".to_vec()),
        ("double spaces", b"GET  /healthz  HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("lowercase method", b"get /healthz HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        (
            "1000-byte method",
            [vec![b'G'; 1000], b" /healthz HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()].concat(),
        ),
        ("NUL method", b"G\0T /healthz HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("CONNECT", b"CONNECT 127.0.0.1:5432 HTTP/1.1\r\nHost: 127.0.0.1:5432\r\n\r\n".to_vec()),
        ("OPTIONS *", b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("TRACE", b"TRACE /healthz HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("bare LF", b"GET /healthz HTTP/1.1\nHost: x\n\n".to_vec()),
        ("bare CR", b"GET /healthz HTTP/1.1\rHost: x\r\r".to_vec()),
        (
            "leading empty lines",
            b"\r\n\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        ),
        ("no target", b"GET HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("empty target", b"GET  HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("relative target", b"GET healthz HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        (
            "two Host headers",
            b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n".to_vec(),
        ),
        ("NUL in Host", b"GET /healthz HTTP/1.1\r\nHost: a\0b\r\n\r\n".to_vec()),
        ("space before colon", b"GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n".to_vec()),
        (
            "request line 200KB",
            [b"GET /".to_vec(), vec![b'a'; 200_000], b" HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()]
                .concat(),
        ),
        ("64KB of A", vec![b'A'; 65_536]),
        ("64KB of CRLF", b"\r\n".repeat(32_768)),
        ("only NULs", vec![0; 4096]),
        (
            "percent-encoded path",
            b"GET /v1/%63licks?campaign=abuse&click_id=pe1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        ),
        (
            "encoded slash in tracker",
            b"GET /v1/postback/keitaro%2F..%2F..%2Fhealthz?subid=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        ),
        (
            "NUL in tracker",
            b"GET /v1/postback/keitaro%00?subid=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        ),
        (
            "double slashes",
            b"GET //v1//clicks?campaign=abuse&click_id=ds1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        ),
    ];
    for (name, bytes) in protocol {
        add(g, name.to_owned(), bytes);
    }
    add(
        g,
        "keep-alive request, NUL in a header".into(),
        Req::get("/healthz")
            .keep_alive()
            .header("X-Nul", b"a\0".to_vec())
            .bytes(),
    );
    let mut pipelined = Vec::new();
    for _ in 0..100 {
        pipelined.extend_from_slice(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    add(g, "100 pipelined /healthz".into(), pipelined.clone());
    let mut mixed = pipelined;
    mixed.extend_from_slice(b"GET /\xff\0 HTTP/1.1\r\n\r\n");
    mixed.extend_from_slice(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    add(g, "pipelined then malformed".into(), mixed);
    for seed in 0..(if smoke { 20 } else { 200 }) {
        add(
            g,
            format!("random bytes #{seed}"),
            noise(seed, 64 + (seed as usize * 97) % 4000),
        );
        let mut prefixed = format!("GET /v1/clicks?campaign={}&", ctx.campaign).into_bytes();
        prefixed.extend(noise(seed + 1000, 200));
        prefixed.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        add(g, format!("random query #{seed}"), prefixed);
    }
    out
}

/// Slow clients: byte by byte with pauses, and half requests that stall.
fn slow_cases(ctx: &Ctx, smoke: bool) -> Vec<Case> {
    let mut out = Vec::new();
    let click = format!(
        r#"{{"campaign":"{}","click_id":"{}","fbclid":"IwAR0slow"}}"#,
        ctx.campaign,
        ctx.id("s")
    );
    let trickles: Vec<(&str, Vec<u8>, usize, u64)> = vec![
        (
            "GET /healthz 1 byte / 20 ms",
            Req::get("/healthz").bytes(),
            1,
            20,
        ),
        (
            "GET /healthz 1 byte / 150 ms (past the 5 s head timeout)",
            Req::get("/healthz").bytes(),
            1,
            150,
        ),
        (
            "POST /v1/clicks 1 byte / 10 ms",
            Req::post("/v1/clicks", "application/json", click.as_str()).bytes(),
            1,
            10,
        ),
        (
            "GET postback 3 bytes / 30 ms",
            Req::get(format!(
                "/v1/postback/keitaro?key={}&subid={}&status=lead",
                ctx.key,
                ctx.id("s")
            ))
            .bytes(),
            3,
            30,
        ),
    ];
    let copies = if smoke { 1 } else { 10 };
    for (name, bytes, chunk, pause_ms) in trickles {
        if smoke && pause_ms > 50 {
            continue;
        }
        for _ in 0..copies {
            out.push(Case {
                group: "slow",
                name: name.to_owned(),
                bytes: bytes.clone(),
                mode: Mode::Trickle { chunk, pause_ms },
            });
        }
    }
    let post_head = |len: usize| {
        format!("POST /v1/clicks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n")
    };
    let stalls: Vec<(&str, Vec<u8>)> = vec![
        ("connect and send nothing", Vec::new()),
        ("half request line", b"GET /hea".to_vec()),
        (
            "headers without the final CRLF",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n".to_vec(),
        ),
        (
            "POST /v1/clicks 10 of 1000 body bytes",
            format!("{}{{\"campaign\"", post_head(1000)).into_bytes(),
        ),
        (
            "POST postback 10 of 1000 body bytes",
            format!(
                "POST /v1/postback/generic?key={} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nclick_id=a",
                ctx.key
            )
            .into_bytes(),
        ),
        (
            "chunked body, first chunk only",
            b"POST /v1/clicks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{\"\r\n".to_vec(),
        ),
        (
            "Expect 100-continue, no body",
            b"POST /v1/clicks HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n".to_vec(),
        ),
    ];
    let copies = if smoke { 1 } else { 32 };
    for (name, bytes) in stalls {
        for _ in 0..copies {
            out.push(Case {
                group: "stall",
                name: name.to_owned(),
                bytes: bytes.clone(),
                mode: Mode::Stall,
            });
        }
    }
    out
}

/// Many gzip bombs at once: each is under the 64 KiB body limit compressed, 50 MB inflated.
fn bomb_burst(bomb: &[u8], n: usize) -> Vec<Case> {
    (0..n)
        .map(|i| Case {
            group: "bomb burst",
            name: format!("{n} concurrent gzip bombs (48 KB -> 50 MB) to POST /v1/postback/keitaro, wrong key"),
            bytes: Req::post(
                format!("/v1/postback/keitaro?key=wrong{i}"),
                "application/json",
                bomb.to_vec(),
            )
            .header("Content-Encoding", "gzip")
            .bytes(),
            mode: Mode::Whole,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Sending and classifying
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Status(u16),
    /// The server closed (or reset) the connection without an answer.
    Closed,
    /// No answer and no close within the time limit of a complete request.
    Timeout,
    /// A stalled half request still open when we gave up waiting.
    HeldOpen,
    ConnectFailed,
    NotHttp,
}

impl Outcome {
    fn label(&self) -> String {
        match self {
            Outcome::Status(s) => s.to_string(),
            Outcome::Closed => "closed".into(),
            Outcome::Timeout => "TIMEOUT".into(),
            Outcome::HeldOpen => "held-open".into(),
            Outcome::ConnectFailed => "CONNECT-FAILED".into(),
            Outcome::NotHttp => "NOT-HTTP".into(),
        }
    }

    fn class(&self) -> &'static str {
        match self {
            Outcome::Status(100..=199) => "1xx",
            Outcome::Status(200..=299) => "2xx",
            Outcome::Status(300..=399) => "3xx",
            Outcome::Status(400..=499) => "4xx",
            Outcome::Status(_) => "5xx",
            Outcome::Closed => "closed without answer",
            Outcome::Timeout => "timeout (hang)",
            Outcome::HeldOpen => "stall held open",
            Outcome::ConnectFailed => "connect failed",
            Outcome::NotHttp => "not HTTP",
        }
    }

    fn is_failure(&self) -> bool {
        matches!(
            self,
            Outcome::Status(500..=599)
                | Outcome::Timeout
                | Outcome::ConnectFailed
                | Outcome::NotHttp
        )
    }
}

/// Reads until the status line and headers are in, the peer closes, or the read fails.
async fn read_status(rd: &mut tokio::net::tcp::OwnedReadHalf) -> Outcome {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        match rd.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                // A 100 Continue is not the answer: skip it.
                if buf.starts_with(b"HTTP/1.1 100") {
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                    }
                    continue;
                }
                if buf.windows(2).any(|w| w == b"\r\n") || buf.len() > 65_536 {
                    break;
                }
            }
        }
    }
    if buf.is_empty() {
        return Outcome::Closed;
    }
    let line = buf.split(|&b| b == b'\r').next().unwrap_or_default();
    let text = String::from_utf8_lossy(line);
    let mut parts = text.split(' ');
    match (
        parts.next(),
        parts.next().and_then(|s| s.parse::<u16>().ok()),
    ) {
        (Some(v), Some(code)) if v.starts_with("HTTP/1.") => Outcome::Status(code),
        _ => Outcome::NotHttp,
    }
}

async fn exchange(addr: &str, case: &Case, limit: Duration) -> (Outcome, Duration) {
    let started = Instant::now();
    // A trickled request takes as long as its pauses add up to; give it time to finish.
    let limit = match case.mode {
        Mode::Trickle { .. } => limit.max(Duration::from_secs(20)),
        _ => limit,
    };
    let stream = match tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(addr)).await
    {
        Ok(Ok(s)) => s,
        _ => return (Outcome::ConnectFailed, started.elapsed()),
    };
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
    let write = async {
        match case.mode {
            Mode::Whole | Mode::Stall => {
                let _ = wr.write_all(&case.bytes).await;
            }
            Mode::Trickle { chunk, pause_ms } => {
                for part in case.bytes.chunks(chunk) {
                    if wr.write_all(part).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(pause_ms)).await;
                }
            }
        }
        // Never close our side: a half-closed connection is a different test.
        std::future::pending::<()>().await
    };
    let outcome = tokio::select! {
        read = tokio::time::timeout(limit, read_status(&mut rd)) => match read {
            Ok(o) => o,
            Err(_) if matches!(case.mode, Mode::Stall) => Outcome::HeldOpen,
            Err(_) => Outcome::Timeout,
        },
        _ = write => unreachable!("the writer never finishes"),
    };
    (outcome, started.elapsed())
}

#[derive(Default)]
struct Tally {
    /// (group, case name) -> outcome -> count
    by_case: BTreeMap<(String, String), BTreeMap<Outcome, u64>>,
    /// case name -> longest time to an outcome
    slowest: BTreeMap<String, Duration>,
}

impl Tally {
    fn record(&mut self, case: &Case, outcome: Outcome, took: Duration) {
        *self
            .by_case
            .entry((case.group.to_owned(), case.name.clone()))
            .or_default()
            .entry(outcome)
            .or_default() += 1;
        let slowest = self.slowest.entry(case.name.clone()).or_default();
        *slowest = (*slowest).max(took);
    }
}

async fn run_cases(
    addr: Arc<String>,
    cases: Arc<Vec<Case>>,
    concurrency: usize,
    limit: Duration,
    tally: Arc<Mutex<Tally>>,
) {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (addr, cases, tally, next) = (addr.clone(), cases.clone(), tally.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                let (outcome, took) = exchange(&addr, case, limit).await;
                tally.lock().unwrap().record(case, outcome, took);
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

// ---------------------------------------------------------------------------------------------
// Normal traffic, memory and the server's health
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Normal {
    ok: AtomicU64,
    failed: AtomicU64,
    failures: Mutex<Vec<String>>,
}

impl Normal {
    fn fail(&self, what: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let mut f = self.failures.lock().unwrap();
        if f.len() < 20 {
            f.push(what);
        }
    }
}

async fn normal_traffic(
    base: String,
    key: String,
    campaign: String,
    worker: usize,
    stop: Arc<AtomicBool>,
    normal: Arc<Normal>,
) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("reqwest client");
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let click = format!("ok{worker}-{i}");
        // Real visitors have addresses of their own (the server trusts 127.0.0.1 as its proxy):
        // a fresh IPv6 /64 each.
        let visitor = format!("2001:db8:{worker:x}:{:x}:{:x}::1", i >> 16, i & 0xffff);
        let r = client
            .post(format!("{base}/v1/clicks"))
            .header("user-agent", "Mozilla/5.0 (normal traffic)")
            .header("x-forwarded-for", visitor)
            .json(&serde_json::json!({
                "campaign": campaign, "click_id": click, "fbclid": "IwAR0normal",
                "em": "normal@example.com", "event_ids": {"Lead": format!("lead-{click}")}
            }))
            .send()
            .await;
        match r {
            Ok(r) if r.status().as_u16() == 201 => {
                normal.ok.fetch_add(1, Ordering::Relaxed);
            }
            Ok(r) => normal.fail(format!("click {click}: {}", r.status())),
            Err(e) => normal.fail(format!("click {click}: {e}")),
        }
        let r = client
            .get(format!(
                "{base}/v1/postback/keitaro?key={key}&subid={click}&status=lead&payout=1.5&tid=t{i}"
            ))
            .send()
            .await;
        match r {
            Ok(r) if r.status().as_u16() == 200 => {
                let body = r.text().await.unwrap_or_default();
                if body.contains("\"accepted\"") {
                    normal.ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    normal.fail(format!("postback {click}: 200 but {body}"));
                }
            }
            Ok(r) => normal.fail(format!("postback {click}: {}", r.status())),
            Err(e) => normal.fail(format!("postback {click}: {e}")),
        }
        if i % 10 == 0 {
            match client.get(format!("{base}/healthz")).send().await {
                Ok(r) if r.status().is_success() => {
                    normal.ok.fetch_add(1, Ordering::Relaxed);
                }
                Ok(r) => normal.fail(format!("healthz: {}", r.status())),
                Err(e) => normal.fail(format!("healthz: {e}")),
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `VmRSS` in KiB, or `None` once the process is gone (or a zombie).
fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    if status
        .lines()
        .any(|l| l.starts_with("State:") && l.contains('Z'))
    {
        return None;
    }
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 6 {
        eprintln!("usage: abuse <host:port> <postback-key> <campaign> <server-pid> <server-log> [--smoke]");
        std::process::exit(2);
    }
    let addr = Arc::new(args[1].clone());
    let ctx = Ctx {
        key: args[2].clone(),
        campaign: args[3].clone(),
        serial: AtomicU64::new(0),
    };
    let pid: u32 = args[4].parse().expect("server pid");
    let log_path = args[5].clone();
    let smoke = args.iter().any(|a| a == "--smoke");
    let started = Instant::now();

    // Peak RSS, sampled every 50 ms; `alive` turns false if the process disappears.
    let peak_kb = Arc::new(AtomicU64::new(0));
    let alive = Arc::new(AtomicBool::new(rss_kb(pid).is_some()));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak_kb, alive, stop) = (peak_kb.clone(), alive.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match rss_kb(pid) {
                    Some(kb) => {
                        peak_kb.fetch_max(kb, Ordering::Relaxed);
                    }
                    None => alive.store(false, Ordering::Relaxed),
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };

    let normal = Arc::new(Normal::default());
    let base = format!("http://{addr}");
    let normal_tasks: Vec<_> = (0..2)
        .map(|w| {
            tokio::spawn(normal_traffic(
                base.clone(),
                ctx.key.clone(),
                ctx.campaign.clone(),
                w,
                stop.clone(),
                normal.clone(),
            ))
        })
        .collect();

    let mut fast = cases(&ctx, smoke);
    if smoke {
        // Every 12th case, so that every kind still appears.
        fast = fast
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % 12 == 0)
            .map(|(_, c)| c)
            .collect();
    }
    let rounds = if smoke { 1 } else { 2 };
    let fast_count = fast.len() * rounds;
    let fast = Arc::new(
        (0..rounds)
            .flat_map(|_| fast.iter())
            .map(|c| Case {
                group: c.group,
                name: c.name.clone(),
                bytes: c.bytes.clone(),
                mode: c.mode,
            })
            .collect::<Vec<_>>(),
    );
    let slow = Arc::new(slow_cases(&ctx, smoke));
    // The server bounds every request by REQUEST_TIMEOUT (and the request head by 5 s): a
    // stalled half request must be closed or answered 408 by then. 2 s of slack for timers.
    let request_timeout: u64 = std::env::var("ABUSE_REQUEST_TIMEOUT")
        .ok()
        .map(|v| v.parse().expect("ABUSE_REQUEST_TIMEOUT is whole seconds"))
        .unwrap_or(15);
    let stall_limit = Duration::from_secs(request_timeout.max(5) + 2);
    eprintln!(
        "abuse: {fast_count} malformed requests, {} slow clients (stalls must end by {}s: REQUEST_TIMEOUT {request_timeout}s + 2s), normal traffic alongside",
        slow.len(),
        stall_limit.as_secs()
    );

    let tally = Arc::new(Mutex::new(Tally::default()));
    // Stalls and trickles hold connections open while the fast cases run.
    // Normal requests that succeeded while the stalls were held open.
    let ok_before_stalls = normal.ok.load(Ordering::Relaxed);
    let slow_run = {
        let (addr, slow, tally, normal) =
            (addr.clone(), slow.clone(), tally.clone(), normal.clone());
        let n = slow.len();
        tokio::spawn(async move {
            run_cases(addr, slow, n.max(1), stall_limit, tally).await;
            normal.ok.load(Ordering::Relaxed)
        })
    };
    run_cases(
        addr.clone(),
        fast,
        64,
        Duration::from_secs(15),
        tally.clone(),
    )
    .await;
    let fast_done = started.elapsed();
    // Then a burst of decompression bombs, all at once (ABUSE_NO_BOMB=1 leaves it out).
    let burst_size = if smoke { 16 } else { 32 };
    let burst = gzip_bomb()
        .map(|bomb| bomb_burst(&bomb, burst_size))
        .unwrap_or_default();
    let burst_len = burst.len();
    run_cases(
        addr.clone(),
        Arc::new(burst),
        burst_size,
        Duration::from_secs(15),
        tally.clone(),
    )
    .await;
    let ok_during_stalls = slow_run.await.unwrap_or(0).saturating_sub(ok_before_stalls);
    // Then the disk-fill and lock-out cases, normal traffic still alongside.
    let disk = [
        disk_fill::disk_fill(&base, &ctx.campaign, smoke).await,
        disk_fill::lock_out(&base, &ctx.campaign, smoke).await,
    ];
    // A little normal traffic after the storm, to see that the server still serves.
    tokio::time::sleep(Duration::from_millis(if smoke { 300 } else { 2000 })).await;
    stop.store(true, Ordering::Relaxed);
    for t in normal_tasks {
        let _ = t.await;
    }
    let _ = sampler.await;
    let still_alive = alive.load(Ordering::Relaxed) && rss_kb(pid).is_some();

    // -- Report.
    let tally = tally.lock().unwrap();
    let mut classes: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    let mut held: Vec<String> = Vec::new();
    println!("\n{:<14} {:<64} {:>6}  outcomes", "group", "case", "sent");
    for ((group, name), outcomes) in &tally.by_case {
        let total: u64 = outcomes.values().sum();
        let shown: Vec<String> = outcomes
            .iter()
            .map(|(o, n)| format!("{}x{n}", o.label()))
            .collect();
        let name_short: String = name.chars().take(64).collect();
        let slowest = tally.slowest.get(name).copied().unwrap_or_default();
        let timing = if group == "stall" || group == "slow" {
            format!("  (longest {:.1}s)", slowest.as_secs_f64())
        } else {
            String::new()
        };
        println!(
            "{group:<14} {name_short:<64} {total:>6}  {}{timing}",
            shown.join(" ")
        );
        for (o, n) in outcomes {
            *classes.entry(o.class()).or_default() += n;
            if o.is_failure() {
                failures.push(format!("{group} / {name}: {} x{n}", o.label()));
            }
            if *o == Outcome::HeldOpen {
                held.push(format!("{name}: x{n}"));
            } else if group == "stall" && !matches!(o, Outcome::Status(408) | Outcome::Closed) {
                failures.push(format!(
                    "{group} / {name}: {} x{n} (a stalled request must be closed or answered 408)",
                    o.label()
                ));
            }
        }
    }
    let sent: u64 = classes.values().sum();
    println!("\nrequests sent: {sent} ({fast_count} malformed, {burst_len} in the bomb burst, {} slow/stalled) in {:.1}s (fast cases done after {:.1}s)",
        slow.len(), started.elapsed().as_secs_f64(), fast_done.as_secs_f64());
    for class in ["1xx", "2xx", "3xx", "4xx", "5xx"] {
        classes.entry(class).or_default();
    }
    println!("by status class:");
    for (class, n) in &classes {
        println!("  {class:<24} {n}");
    }
    let ok = normal.ok.load(Ordering::Relaxed);
    let bad = normal.failed.load(Ordering::Relaxed);
    println!("normal traffic: {ok} succeeded, {bad} failed");
    for f in normal.failures.lock().unwrap().iter() {
        println!("  normal failure: {f}");
    }
    let peak_mb = peak_kb.load(Ordering::Relaxed) as f64 / 1024.0;
    println!(
        "server peak RSS: {peak_mb:.1} MB (limit {} MB)",
        RSS_LIMIT_KB / 1024
    );
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let panics = log.lines().filter(|l| l.contains("panicked")).count();
    let errors = log
        .lines()
        .filter(|l| l.contains("\"level\":\"ERROR\"") || l.contains(" ERROR "))
        .count();
    println!(
        "server alive: {still_alive}; log lines with \"panicked\": {panics}; ERROR lines: {errors}"
    );
    println!("normal requests that succeeded while the stalls were held: {ok_during_stalls}");
    for report in &disk {
        for line in &report.lines {
            println!("{line}");
        }
    }
    if !held.is_empty() {
        println!(
            "HANG: stalled half requests still open after {}s: {}",
            stall_limit.as_secs(),
            held.join(", ")
        );
    }

    let mut verdict = Vec::new();
    if !failures.is_empty() {
        verdict.push(format!(
            "{} failing cases:\n    {}",
            failures.len(),
            failures.join("\n    ")
        ));
    }
    if !held.is_empty() {
        verdict.push(format!(
            "stalled connections never timed out (held open > {}s): {}",
            stall_limit.as_secs(),
            held.join(", ")
        ));
    }
    if !still_alive {
        verdict.push("the server process died".into());
    }
    if panics > 0 {
        verdict.push(format!("{panics} panics in the server log"));
    }
    if peak_kb.load(Ordering::Relaxed) > RSS_LIMIT_KB {
        verdict.push(format!("peak RSS {peak_mb:.1} MB above the limit"));
    }
    if bad > 0 || ok == 0 {
        verdict.push(format!("normal traffic: {ok} ok, {bad} failed"));
    }
    for report in &disk {
        verdict.extend(report.failures.iter().cloned());
    }
    if ok_during_stalls == 0 {
        verdict.push("no normal request succeeded while the stalls were held open".into());
    }
    if verdict.is_empty() {
        println!("abuse: PASS");
    } else {
        println!("abuse: FAIL\n  {}", verdict.join("\n  "));
        std::process::exit(1);
    }
}
