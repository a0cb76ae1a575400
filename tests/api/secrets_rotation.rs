//! Rotating SECRETS_KEY (docs/operations.md): the next start has the new key and the old one
//! in SECRETS_KEY_PREVIOUS. Tokens sealed with the old key open, are re-sealed under the new
//! one at start-up, and a later start needs the new key alone.

use serde_json::json;
use sha2::{Digest, Sha256};
use wiremock::MockServer;

use crate::helpers::tiktok::TIKTOK_TOKEN;
use crate::helpers::*;

const NEW_KEY: &str = "5d2a8f1c7e4b093a6f1d8c2e5b7a9041c3e6f8a2d5b7c9e1f4a6d8b0c2e5f7a9";

/// `enc:v2:{key id}:` of tokens sealed with `key` (hex).
fn sealed_prefix(key: &str) -> String {
    let id = hex::encode(Sha256::digest(hex::decode(key).unwrap()));
    format!("enc:v2:{}:", &id[..8])
}

/// The campaign's stored Meta and TikTok tokens.
async fn stored(app: &TestApp) -> (String, String) {
    sqlx::query_as("SELECT access_token, tiktok_access_token FROM campaigns WHERE key = 'rot'")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// A server started on `app`'s database with `extra` settings (a restart).
async fn restart(app: &TestApp, extra: &[&str]) -> TestApp {
    let graph = MockServer::start().await;
    mount_graph_ok(&graph).await;
    spawn_on(&app.database_url, graph, extra).await
}

/// A lead on the campaign reaches Meta and TikTok with the tokens as the user gave them.
async fn delivers_with_the_tokens(app: &TestApp, click_id: &str) {
    app.click_and_lead("rot", click_id, json!({})).await;
    assert_eq!(app.deliver().await.delivered, 2);
    let meta = app.graph_requests().await;
    assert_eq!(meta.len(), 1);
    assert_eq!(meta[0]["access_token"], ACCESS_TOKEN);
    let tiktok = app.tiktok_requests().await;
    assert_eq!(tiktok.len(), 1);
    assert_eq!(tiktok[0].access_token, TIKTOK_TOKEN);
}

#[tokio::test]
async fn tokens_sealed_with_the_old_key_open_after_a_restart_with_the_new_key_and_the_previous() {
    let old = spawn_app().await;
    old.create_campaign_with_tiktok("rot", json!({})).await;
    let (meta, tiktok) = stored(&old).await;
    let old_prefix = sealed_prefix(TEST_SECRETS_KEY);
    assert!(meta.starts_with(&old_prefix) && tiktok.starts_with(&old_prefix));

    let rotated = restart(
        &old,
        &[
            "--secrets-key",
            NEW_KEY,
            "--secrets-key-previous",
            TEST_SECRETS_KEY,
        ],
    )
    .await;
    let (meta, tiktok) = stored(&rotated).await;
    let new_prefix = sealed_prefix(NEW_KEY);
    assert!(
        meta.starts_with(&new_prefix),
        "re-sealed at start-up: {meta}"
    );
    assert!(
        tiktok.starts_with(&new_prefix),
        "re-sealed at start-up: {tiktok}"
    );
    delivers_with_the_tokens(&rotated, "rot-1").await;

    // The rotation is over: the old key is no longer needed.
    let after = restart(&old, &["--secrets-key", NEW_KEY]).await;
    delivers_with_the_tokens(&after, "rot-2").await;
}
