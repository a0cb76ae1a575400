//! Debian's headless Chromium driven through WebDriver (`chromedriver`): one driver process and
//! one browser per test, so parallel tests share nothing and a crash stays in its test. The few
//! WebDriver commands the tests need are plain JSON over HTTP, sent with reqwest.
//!
//! `*.example.com` and `*.lander.co.uk` resolve to 127.0.0.1 inside the browser, so a lander can
//! be served on a real-looking host (registrable-domain cookies, an insecure origin without
//! `crypto.subtle`) by a local test server.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{free_port, wait_for, TestApp};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Debian's Chromium, or `None` with CAPI_SKIP_BROWSER=1; without it the browser tests fail.
pub fn chromium() -> Option<&'static str> {
    if std::env::var("CAPI_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        return None;
    }
    for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if std::path::Path::new(candidate).exists() {
            return Some(candidate);
        }
    }
    panic!("Chromium is needed (apt-get install chromium), or set CAPI_SKIP_BROWSER=1");
}

pub struct Browser {
    driver: Child,
    /// The driver's and the browser's TMPDIR (profile, singleton socket), removed on drop.
    scratch: std::path::PathBuf,
    base: String,
    port: u16,
    http: reqwest::Client,
}

impl Browser {
    /// A fresh browser, or `None` with CAPI_SKIP_BROWSER=1; a missing browser or driver fails.
    pub async fn start() -> Option<Browser> {
        let binary = chromium()?;
        assert!(
            std::path::Path::new(CHROMEDRIVER).exists(),
            "chromedriver is needed (apt-get install chromium-driver), or set CAPI_SKIP_BROWSER=1"
        );
        let port = free_port();
        let scratch = std::env::temp_dir().join(format!("capi-browser-{port}"));
        std::fs::create_dir_all(&scratch).expect("a scratch directory for the browser");
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .env("TMPDIR", &scratch)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run chromedriver");
        let mut browser = Browser {
            driver,
            scratch,
            base: format!("http://127.0.0.1:{port}"),
            port,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let up = browser.http.get(format!("{}/status", browser.base)).send();
            if let Ok(r) = up.await {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {"binary": binary, "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--window-size=1000,700",
                "--host-resolver-rules=MAP *.example.com 127.0.0.1, MAP *.lander.co.uk 127.0.0.1",
            ]},
        }}});
        let session = browser.call("POST", "/session", Some(caps)).await;
        let id = session["sessionId"]
            .as_str()
            .expect("session id")
            .to_owned();
        browser.base = format!("{}/session/{id}", browser.base);
        Some(browser)
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let req = self
            .http
            .request(method.parse().unwrap(), &url)
            .json(&body.unwrap_or(json!({})));
        let resp = req.send().await.expect("webdriver request");
        let status = resp.status();
        let body: Value = resp.json().await.expect("webdriver answer");
        assert!(status.is_success(), "{method} {path}: {status} {body}");
        body["value"].clone()
    }

    /// Navigates and waits for the page's load event.
    pub async fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url }))).await;
    }

    /// Runs `body` (a function body: `return ...`) in the page.
    pub async fn eval(&self, body: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": body, "args": []})),
        )
        .await
    }

    /// Polls the expression `expr` in the page until it is truthy (10 s at most); its value.
    pub async fn wait(&self, what: &str, expr: &str) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let v = self.eval(&format!("return {expr};")).await;
            if !(v.is_null() || v == json!(false) || v == json!("") || v == json!(0)) {
                return v;
            }
            assert!(std::time::Instant::now() < deadline, "timed out: {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The browser's cookies for the current page, by name: `(value, domain)`.
    pub async fn cookie(&self, name: &str) -> Option<(String, String)> {
        let all = self.call("GET", "/cookie", None).await;
        all.as_array()?.iter().find(|c| c["name"] == name).map(|c| {
            (
                c["value"].as_str().unwrap().to_owned(),
                c["domain"].as_str().unwrap().to_owned(),
            )
        })
    }

    /// When the browser's cookie `name` expires, in unix seconds (`None`: no such cookie, or a
    /// session cookie).
    pub async fn cookie_expiry(&self, name: &str) -> Option<i64> {
        let all = self.call("GET", "/cookie", None).await;
        all.as_array()?
            .iter()
            .find(|c| c["name"] == name)
            .and_then(|c| c["expiry"].as_i64())
    }

    /// The WebDriver id of the first element matching `css` (it must exist).
    pub async fn find(&self, css: &str) -> String {
        let el = self
            .call(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        el.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_owned()
    }

    /// Types `text` into the element `css` as keystrokes (a file input takes a path).
    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// Clicks the element `css` like a user (the driver waits for a navigation it starts).
    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call("POST", &format!("/element/{id}/click"), None)
            .await;
    }

    /// Clicks a button that submits a form or follows a link, and waits until the next page has
    /// loaded (the driver does not always wait for a form submission's navigation).
    pub async fn click_to_next_page(&self, css: &str) {
        self.eval("window.__capiOldPage = true; return null;").await;
        self.click(css).await;
        self.wait(
            "the next page",
            "!window.__capiOldPage && document.readyState === 'complete'",
        )
        .await;
    }

    /// The page's address.
    pub async fn url(&self) -> String {
        self.call("GET", "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The visible text of the whole page.
    pub async fn text(&self) -> String {
        self.eval("return document.body.innerText;")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Resizes the window (the viewport of screenshots).
    pub async fn window_size(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    /// Emulates a screen `width` × `height` CSS pixels (a phone's when `width` is under 500:
    /// Chromium's `--window-size` and window rect stop at 500 px wide).
    pub async fn viewport(&self, width: u32, height: u32) {
        let params = json!({"width": width, "height": height, "deviceScaleFactor": 1,
            "mobile": width < 500});
        self.call(
            "POST",
            "/goog/cdp/execute",
            Some(json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": params})),
        )
        .await;
    }

    /// Console messages at SEVERE level (errors), taken from the browser's log.
    pub async fn console_errors(&self) -> Vec<String> {
        let log = self
            .call("POST", "/se/log", Some(json!({"type": "browser"})))
            .await;
        log.as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| e["level"] == "SEVERE")
                    .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Saves a PNG of the viewport to `path`.
    pub async fn screenshot(&self, path: &std::path::Path) {
        use base64::Engine;
        let png = self.call("GET", "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

impl Drop for Browser {
    /// Ends the session (which closes Chromium) with a blocking request, as Drop cannot await,
    /// then stops the driver.
    fn drop(&mut self) {
        let path = self.base.split_once(&format!(":{}", self.port)).unwrap().1;
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let req =
                format!("DELETE {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            if s.write_all(req.as_bytes()).is_ok() {
                let _ = s.read_to_end(&mut Vec::new());
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

// ---- landers ------------------------------------------------------------------------------

/// The row of tests/vectors/normalisation.json for `field` and `input` (in a campaign of
/// `country`, or the first of any): the digests the tag must send are the file's, which the
/// Rust and Node tests share (docs/reference/meta-capi.md, "Meta's test vectors").
pub fn vector(field: &str, input: &str, country: Option<&str>) -> Value {
    let file: Value = serde_json::from_str(include_str!("../vectors/normalisation.json")).unwrap();
    file["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["field"] == field && r["input"] == input && country.is_none_or(|c| r["country"] == c)
        })
        .unwrap_or_else(|| panic!("no vector for {field} {input:?}"))
        .clone()
}

/// Meta's digest of `input` in `field`, from the vectors.
pub fn meta_digest(field: &str, input: &str) -> String {
    vector(field, input, None)["expected_sha256"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The README's `html` block that follows `marker` in its "Landing page" section.
pub fn readme_block(marker: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = &readme[readme
        .find("## Landing page")
        .expect("Landing page section")..];
    let block = &section[section.find(marker).expect(marker)..];
    let start = block.find("```html\n").unwrap() + 8;
    let len = block[start..].find("```").unwrap();
    block[start..start + len].to_owned()
}

/// The lead form's snippet, as docs/landing.md's "Lead form" section gives it.
pub fn lead_form_block() -> String {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/landing.md")).unwrap();
    let section = &doc[doc.find("## Lead form").expect("Lead form section")..];
    let start = section.find("```html\n").unwrap() + 8;
    let len = section[start..].find("```").unwrap();
    section[start..start + len].to_owned()
}

/// Runs before anything else on each lander: records script errors, the bodies the page sends
/// (and drops click registrations when `window.dropClicks` is set), and the globals it starts
/// with.
pub const RECORDER: &str = r#"<script>
window.errors = []; window.sent = [];
addEventListener('error', function (e) { errors.push(String(e.message)); });
addEventListener('unhandledrejection', function (e) { errors.push('rejection ' + e.reason); });
var ce = console.error; console.error = function () { errors.push([].join.call(arguments, ' ')); ce.apply(console, arguments); };
var sb = navigator.sendBeacon.bind(navigator);
navigator.sendBeacon = function (u, b) { sent.push(String(b)); return window.dropClicks ? true : sb(u, b); };
var f0 = window.fetch;
window.fetch = function (u, o) {
  if (o && o.body) sent.push(String(o.body));
  if (window.dropClicks && /\/v1\/clicks/.test(u)) return Promise.resolve(new Response(''));
  return f0.apply(this, arguments);
};
</script>"#;

/// A Meta pixel stand-in that records its calls.
pub const FBQ: &str =
    "<script>window.fbqCalls=[];window.fbq=function(){fbqCalls.push([].slice.call(arguments))};</script>";

/// A lander at `at` on `site`: the recorder, `head`, the README's stub and line (pointed at
/// `bridge`, with `attrs` added), and `body`.
pub async fn lander(
    site: &MockServer,
    at: &str,
    bridge: &str,
    attrs: &str,
    head: &str,
    body: &str,
) {
    let line = readme_block("**one line**")
        .replace("https://bridge.example.com", bridge)
        .replace(" data-campaign=", &format!(" {attrs} data-campaign="));
    // `beforeTag`: the globals the page has when the (async) tag has not run yet.
    let html = format!(
        "<!doctype html><html><head><link rel=icon href='data:,'>{RECORDER}{head}{}\
         <script>window.beforeTag = Object.keys(window);</script>{line}</head>\
         <body><h1>Offer</h1>{body}</body></html>",
        readme_block("**Stub**")
    );
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(200).set_body_raw(html, "text/html"))
        .mount(site)
        .await;
}

/// `http://www.example.com:{port}`: the site under a real-looking, non-secure host name.
pub fn named(site: &MockServer) -> String {
    format!("http://www.example.com:{}", site.address().port())
}

pub async fn click_row(app: &TestApp, click_id: &str) -> Value {
    wait_for("the click", std::time::Duration::from_secs(10), || async {
        let row: Option<(Value,)> =
            sqlx::query_as("SELECT to_jsonb(c) FROM clicks c WHERE click_id = $1")
                .bind(click_id)
                .fetch_optional(&app.pool)
                .await
                .unwrap();
        row.map(|r| r.0).ok_or_else(|| "not stored".to_owned())
    })
    .await
}

pub async fn sent(b: &Browser) -> Vec<String> {
    serde_json::from_value(b.eval("return sent;").await).unwrap()
}

/// Waits until the tag has acted on its campaign's config (or on giving up on it): `ready`
/// callbacks run after the tag's start, so what it sends or fires at load is done by then.
pub async fn tag_configured(b: &Browser) {
    b.eval("capiBridge.ready(function () { window.tagConfigured = true; }); return null;")
        .await;
    b.wait("the tag's config", "window.tagConfigured").await;
}

pub async fn no_errors(b: &Browser) {
    assert_eq!(b.eval("return errors;").await, json!([]), "script errors");
}
