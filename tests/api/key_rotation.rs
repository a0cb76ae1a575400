//! Switching POSTBACK_KEY without losing postbacks: during the switch POSTBACK_KEY_PREVIOUS is
//! accepted too, the metric says which key each request carried, and every URL the service
//! hands out carries the new key.

use capi_bridge::config::Cli;
use clap::Parser;
use secrecy::ExposeSecret;
use serde_json::json;

use crate::helpers::ui::{get_page, sign_in};
use crate::helpers::*;

const NEW_KEY: &str = "new-postback-key-8d2f6a0c4e1b7395";

fn key_counter(metrics: &str, key: &str) -> u64 {
    let prefix = format!(r#"capi_bridge_postback_key_total{{key="{key}"}} "#);
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("{prefix} in {metrics}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn both_keys_are_accepted_during_a_switch_and_counted_apart() {
    let app = spawn_app_with(&[
        "--postback-key",
        NEW_KEY,
        "--postback-key-previous",
        POSTBACK_KEY,
    ])
    .await;
    app.create_campaign("switch", json!({})).await;
    let metrics = app.scrape_metrics().await;
    assert_eq!(key_counter(&metrics, "previous"), 0, "{metrics}");
    assert_eq!(key_counter(&metrics, "current"), 0, "{metrics}");

    // A server-side click with the old key (in X-Postback-Key) is still a server-side one.
    let resp = app
        .register_click(json!({"campaign": "switch", "click_id": "sw-1"}))
        .await;
    assert_eq!(resp.status(), 201);
    let old = app
        .postback("keitaro", "subid=sw-1&tid=old&status=lead")
        .await;
    assert_eq!(old.status(), 200, "the old key: {:?}", old.text().await);
    let new = app
        .client
        .get(app.url(&format!(
            "/v1/postback/keitaro?key={NEW_KEY}&subid=sw-1&tid=new&status=sale&payout=3"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), 200, "the new key");
    let header = app
        .client
        .get(app.url("/v1/postback/keitaro?subid=sw-1&tid=hdr&status=lead"))
        .header("x-postback-key", POSTBACK_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(header.status(), 200, "the old key as a header");
    let wrong = app
        .client
        .get(app.url("/v1/postback/keitaro?key=neither-key-3c9e1f7a2b&subid=sw-1&tid=w"))
        .send()
        .await
        .unwrap();
    assert_problem(wrong, 401, "unauthorized").await;

    let metrics = app.scrape_metrics().await;
    assert_eq!(key_counter(&metrics, "previous"), 3, "{metrics}");
    assert_eq!(key_counter(&metrics, "current"), 1, "{metrics}");
    let list = app.admin_get("/admin/v1/conversions?campaign=switch").await;
    assert_eq!(list["conversions"].as_array().unwrap().len(), 3, "{list}");

    // The dashboard hands out the new key only.
    let cookie = sign_in(&app).await;
    let page = get_page(&app, "/ui/campaigns/switch", &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("key={NEW_KEY}")), "{page}");
    assert!(!page.contains(POSTBACK_KEY), "the old key is shown");
}

#[tokio::test]
async fn without_the_previous_key_the_old_one_is_refused() {
    let app = spawn_app_with(&["--postback-key", NEW_KEY]).await;
    let resp = app.postback("keitaro", "subid=x-1&status=lead").await;
    assert_problem(resp, 401, "unauthorized").await;
}

/// POSTBACK_KEY_PREVIOUS is held to the rules of the other secrets.
#[test]
fn the_previous_key_is_checked_like_the_others() {
    let admin = "4f1c9a7e2b8d03f6a5c1e9b7d2f4a806";
    let key = "9b3e7d1f5a2c8e04b6d9f1a3c7e5b208";
    let with = |previous: &str| {
        Cli::try_parse_from([
            "capi-bridge",
            "--database-url",
            "postgres://localhost/capi",
            "--admin-token",
            admin,
            "--postback-key",
            key,
            "--postback-key-previous",
            previous,
            "--secrets-key",
            "none",
        ])
        .map_err(|e| e.to_string())
        .and_then(|cli| {
            cli.config.secrets().map(|s| {
                s.postback_key_previous
                    .map(|k| k.expose_secret().to_owned())
            })
        })
    };
    assert_eq!(
        with("e2a94c7f1b6d3085f9c2e4a7b1d6f308").unwrap().as_deref(),
        Some("e2a94c7f1b6d3085f9c2e4a7b1d6f308")
    );
    let err = with(admin).unwrap_err();
    assert!(err.contains("must differ"), "{err}");
    let err = with("change-me-old-postback-key").unwrap_err();
    assert!(
        err.starts_with("POSTBACK_KEY_PREVIOUS is a placeholder"),
        "{err}"
    );
    let err = with("short").unwrap_err();
    assert!(err.contains("POSTBACK_KEY_PREVIOUS"), "{err}");
}
