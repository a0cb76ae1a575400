//! The dashboard driven in a real browser: signing in through the form, screenshots for the
//! README.

use super::browser::Browser;
use super::TestApp;

/// Saves a screenshot named `name` when CAPI_SCREENSHOTS names a directory.
pub async fn shot(b: &Browser, name: &str) {
    if let Ok(dir) = std::env::var("CAPI_SCREENSHOTS") {
        b.window_size(1100, 1300).await;
        b.screenshot(&std::path::Path::new(&dir).join(format!("{name}.png")))
            .await;
        b.window_size(1000, 700).await;
    }
}

/// Signs in through the form with `token`; the page it lands on.
pub async fn sign_in(b: &Browser, app: &TestApp, token: &str) -> String {
    sign_in_at(b, &app.address, token).await
}

/// Signs in through the form of the dashboard at `base` (another host name for the same app).
pub async fn sign_in_at(b: &Browser, base: &str, token: &str) -> String {
    b.goto(&format!("{base}/ui/")).await;
    assert!(b.url().await.ends_with("/ui/login"), "sent to sign in");
    b.type_into("#token", token).await;
    b.click_to_next_page("button[type=submit]").await;
    b.url().await
}
