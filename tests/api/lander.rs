//! The README's landing page snippet in a real browser (Debian's headless Chromium), on a page
//! without the Meta pixel and on one with it. Set CAPI_SKIP_BROWSER=1 to skip where no browser
//! can be installed; otherwise a missing browser fails the test.

use std::process::Command;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

/// The snippet as the README prints it, pointed at `bridge`.
fn snippet(bridge: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let from = readme
        .find("**Landing page snippet**")
        .expect("snippet heading");
    let block = &readme[from..];
    let start = block.find("```html\n").unwrap() + 8;
    let len = block[start..].find("```").unwrap();
    block[start..start + len].replace("https://bridge.example.com", bridge)
}

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

/// Loads `url` headless and returns the page's DOM after its scripts ran. Off the test's
/// runtime thread: the server under test runs its database work there.
pub async fn load(browser: &'static str, url: &str) -> String {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || load_blocking(browser, &url))
        .await
        .unwrap()
}

fn load_blocking(browser: &str, url: &str) -> String {
    let profile = tempfile_dir();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=3000",
            &format!("--user-data-dir={}", profile.display()),
            "--dump-dom",
            url,
        ])
        .output()
        .expect("run chromium");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("capi-chromium-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn page(site: &MockServer, at: &str, html: String) {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(200).set_body_raw(html, "text/html"))
        .mount(site)
        .await;
}

async fn wait_for_click(app: &TestApp, click_id: &str) -> Option<(Option<String>, Option<String>)> {
    for _ in 0..50 {
        let row: Option<(Option<String>, Option<String>)> =
            sqlx::query_as("SELECT fbclid, event_source_url FROM clicks WHERE click_id = $1")
                .bind(click_id)
                .fetch_optional(&app.pool)
                .await
                .unwrap();
        if row.is_some() {
            return row;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    None
}

#[tokio::test]
async fn the_readme_snippet_registers_the_click_with_and_without_the_pixel() {
    let Some(browser) = chromium() else { return };
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let site = MockServer::start().await;
    let script = snippet(&app.address);
    // A lander without the pixel: the snippet must not throw and must register the click.
    page(
        &site,
        "/bare",
        format!("<html><body><p id=x>offer</p>{script}</body></html>"),
    )
    .await;
    // A lander with a (stub) pixel: it gets the same eventID as the server event.
    let pixel = "<script>window.calls=[];function fbq(){calls.push([].slice.call(arguments));\
                 document.title=JSON.stringify(calls);}</script>";
    page(
        &site,
        "/pixel",
        format!("<html><head>{pixel}</head><body>{script}</body></html>"),
    )
    .await;

    load(
        browser,
        &format!("{}/bare?subid=kt-bare&fbclid=IwAR_Bare", site.uri()),
    )
    .await;
    let (fbclid, url) = wait_for_click(&app, "kt-bare")
        .await
        .expect("click registered");
    assert_eq!(fbclid.as_deref(), Some("IwAR_Bare"));
    assert_eq!(
        url.as_deref(),
        Some(format!("{}/bare?subid=kt-bare&fbclid=IwAR_Bare", site.uri()).as_str())
    );

    let dom = load(browser, &format!("{}/pixel?subid=kt-pix", site.uri())).await;
    wait_for_click(&app, "kt-pix")
        .await
        .expect("click registered");
    assert!(
        dom.contains(r#"[["track","Lead",{},{"eventID":"Lead-kt-pix"}]]"#),
        "the pixel got the server's event id: {dom}"
    );
    let click = app.admin_get("/admin/v1/clicks/kt-pix").await;
    assert_eq!(click["event_ids"]["Lead"], "Lead-kt-pix", "{click}");
}
