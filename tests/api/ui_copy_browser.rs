//! The campaign page's copy buttons on a first run over plain HTTP at a non-loopback name (not a
//! secure context, so no `navigator.clipboard`): the text is selected and copied anyway, or the
//! page says how to copy the selection by hand.

use serde_json::json;

use crate::browser::Browser;
use crate::helpers::browser_ui::{sign_in, sign_in_at};
use crate::helpers::*;

/// The text of the copy status next to the button copying `id`.
fn status_of(id: &str) -> String {
    format!(
        "document.querySelector('button[data-copy={id}]').closest('.copyrow')\
         .querySelector('.copy-status[role=status][aria-live=polite]').textContent"
    )
}

#[tokio::test]
async fn copy_buttons_work_without_a_secure_context() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_campaign("copyme", json!({})).await;
    // `*.example.com` resolves to 127.0.0.1 in the test browser, but is not loopback to it.
    let base = format!("http://bridge.example.com:{}", app.port);
    sign_in_at(&b, &base, ADMIN_TOKEN).await;
    b.goto(&format!("{base}/ui/campaigns/copyme")).await;
    assert_eq!(
        b.eval("return [window.isSecureContext, typeof navigator.clipboard];")
            .await,
        json!([false, "undefined"]),
        "an insecure context, as on http://IP:8080"
    );
    // What each copy command copies: the selection of the focused field.
    b.eval(
        "window.copies = []; document.addEventListener('copy', () => { \
         const a = document.activeElement; \
         copies.push(a.value.substring(a.selectionStart, a.selectionEnd)); }); return null;",
    )
    .await;

    b.click("button[data-copy=postback-keitaro]").await;
    let said = b
        .wait("the copy status", &status_of("postback-keitaro"))
        .await;
    assert_eq!(said, json!("Copied"));
    let url = b
        .eval("return document.getElementById('postback-keitaro').value;")
        .await;
    assert!(
        url.as_str().unwrap().contains("/v1/postback/keitaro?key="),
        "{url}"
    );
    assert_eq!(
        b.eval("return copies;").await,
        json!([url]),
        "the whole URL copied"
    );

    // A browser that refuses the copy command: the text stays selected and the page says how.
    b.eval("document.execCommand = () => false; return null;")
        .await;
    b.click("button[data-copy=landing-tag]").await;
    let said = b.wait("the copy status", &status_of("landing-tag")).await;
    assert_eq!(
        said,
        json!(
            "Press Ctrl+C / \u{2318}C to copy the selected text, or long-press it and choose Copy"
        )
    );
    let selected = b
        .eval(
            "const a = document.activeElement; \
             return [a.id, a.value.substring(a.selectionStart, a.selectionEnd) === a.value, a.value];",
        )
        .await;
    assert_eq!(selected[0], json!("landing-tag"));
    assert_eq!(
        selected[1],
        json!(true),
        "the whole tag line selected: {selected}"
    );
    assert!(
        selected[2].as_str().unwrap().contains("/v1/tag.js"),
        "{selected}"
    );
    // The first row's status is its own.
    assert_eq!(
        b.eval(&format!("return {};", status_of("postback-keitaro")))
            .await,
        json!("Copied")
    );
    // The dashboard has no favicon: the browser's own request for one is not a script error.
    let errors: Vec<String> = b
        .console_errors()
        .await
        .into_iter()
        .filter(|e| !e.contains("/favicon.ico"))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");

    // At 127.0.0.1, a secure context with the Clipboard API, it copies too.
    sign_in(&b, &app, ADMIN_TOKEN).await;
    b.goto(&app.url("/ui/campaigns/copyme")).await;
    assert_eq!(b.eval("return window.isSecureContext;").await, json!(true));
    b.click("button[data-copy=postback-keitaro]").await;
    let said = b
        .wait("the copy status", &status_of("postback-keitaro"))
        .await;
    assert_eq!(said, json!("Copied"));
}
