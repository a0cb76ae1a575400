//! Access tokens at rest: each ciphertext is bound to its campaign, tokens sealed by earlier
//! versions (no binding) still open and are re-sealed at start-up, sealed tokens need their key
//! to start, and events parked on an unreadable token are re-queued once it opens.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use capi_bridge::config::Cli;
use capi_bridge::secrets::{parse_key, Keys, TokenCipher};
use capi_bridge::startup::Application;
use clap::Parser;
use serde_json::json;
use sha2::{Digest, Sha256};
use wiremock::matchers::{method, path_regex};
use wiremock::Mock;

use crate::helpers::*;

const SECRETS_KEY: &str = "8c1f4e7a2d9b06c3f5e8a1d4b7c0e3f69a2d5c8b1e4f7a0d3c6b9e2f5a8d1c4b";

async fn stored_token(app: &TestApp, campaign: &str) -> String {
    sqlx::query_scalar("SELECT access_token FROM campaigns WHERE key = $1")
        .bind(campaign)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_token_copied_to_another_campaigns_row_does_not_open() {
    let app = spawn_app_with(&["--secrets-key", SECRETS_KEY]).await;
    app.create_campaign(
        "alpha",
        json!({"access_token": "EAAalpha-token-5f2c9e1b7d"}),
    )
    .await;
    app.create_campaign(
        "beta",
        json!({"access_token": "EAAbeta-token-8a3d6f0c4e", "test_event_code": "TEST77"}),
    )
    .await;
    // Someone with write access to the table gives beta alpha's token.
    sqlx::query(
        "UPDATE campaigns SET access_token = (SELECT access_token FROM campaigns \
         WHERE key = 'alpha') WHERE key = 'beta'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        stored_token(&app, "beta").await,
        stored_token(&app, "alpha").await
    );

    let conversion = queue_lead(&app, "beta", "copied-1").await.conversion_id;
    app.deliver().await;
    assert!(
        app.graph_requests().await.is_empty(),
        "beta's event went out with alpha's token"
    );
    let view = app
        .admin_get(&format!("/admin/v1/conversions/{conversion}"))
        .await;
    assert_eq!(view["state"], "failed", "{view}");
    let why = view["last_error"].as_str().unwrap();
    assert!(
        why.contains("beta") && why.contains("another campaign"),
        "{why}"
    );
    assert!(!why.contains("EAAalpha"), "{why}");
    // The test event says so too, as a problem the user can act on.
    let resp = app
        .admin(
            reqwest::Method::POST,
            "/admin/v1/campaigns/beta/test-event",
            None,
        )
        .await;
    let detail = assert_problem(resp, 422, "access_token_unreadable").await;
    assert!(detail.contains("another campaign"), "{detail}");

    // Alpha's own row still opens.
    queue_lead(&app, "alpha", "own-1").await;
    app.deliver().await;
    let requests = app.graph_requests().await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["access_token"], "EAAalpha-token-5f2c9e1b7d");
}

/// What versions before the campaign binding stored: `enc:v1:{key id}:{nonce || ciphertext}`.
fn legacy_seal(token: &str) -> String {
    let key = hex::decode(SECRETS_KEY).unwrap();
    let id = &hex::encode(Sha256::digest(&key))[..8];
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key));
    let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
    let mut blob = nonce.to_vec();
    blob.extend_from_slice(&cipher.encrypt(&nonce, token.as_bytes()).unwrap());
    format!("enc:v1:{id}:{}", STANDARD.encode(blob))
}

#[tokio::test]
async fn tokens_sealed_without_binding_open_and_are_resealed_at_start_up() {
    let first = spawn_app_with(&["--secrets-key", SECRETS_KEY]).await;
    first.create_campaign("legacy", json!({})).await;
    sqlx::query("UPDATE campaigns SET access_token = $1 WHERE key = 'legacy'")
        .bind(legacy_seal(ACCESS_TOKEN))
        .execute(&first.pool)
        .await
        .unwrap();

    // The next process of the deployment starts on the same database.
    let graph = wiremock::MockServer::start().await;
    mount_graph_ok(&graph).await;
    let app = spawn_on(&first.database_url, graph, &["--secrets-key", SECRETS_KEY]).await;
    let stored = stored_token(&app, "legacy").await;
    assert!(stored.starts_with("enc:v2:"), "{stored}");

    queue_lead(&app, "legacy", "legacy-1").await;
    app.deliver().await;
    let requests = app.graph_requests().await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["access_token"], ACCESS_TOKEN);
}

/// TikTok's token is sealed like Meta's, bound to its campaign and platform: a plain token
/// stored while SECRETS_KEY was none is sealed at start-up, and opens for TikTok's requests only
/// in its own column.
#[tokio::test]
async fn tiktoks_token_is_sealed_at_start_up_and_bound_to_its_column() {
    let first = spawn_app_with(&["--secrets-key", "none"]).await;
    first
        .create_campaign(
            "tt-sealed",
            json!({"tiktok": {"pixel_code": "CTT0001", "access_token": "tt-plain-0123456789",
                              "send_when": "always"}, "meta_send_when": "always"}),
        )
        .await;
    let tiktok_token = |pool: sqlx::PgPool| async move {
        sqlx::query_scalar::<_, String>(
            "SELECT tiktok_access_token FROM campaigns WHERE key = 'tt-sealed'",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    assert_eq!(
        tiktok_token(first.pool.clone()).await,
        "tt-plain-0123456789"
    );

    let graph = wiremock::MockServer::start().await;
    mount_graph_ok(&graph).await;
    let app = spawn_on(&first.database_url, graph, &["--secrets-key", SECRETS_KEY]).await;
    let sealed = tiktok_token(app.pool.clone()).await;
    assert!(sealed.starts_with("enc:v2:"), "{sealed}");
    assert!(!sealed.contains("tt-plain"));
    assert!(stored_token(&app, "tt-sealed").await.starts_with("enc:v2:"));

    queue_lead(&app, "tt-sealed", "tt-sealed-1").await;
    app.deliver().await;
    let requests = app.tiktok_requests().await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].access_token, "tt-plain-0123456789");

    // Meta's sealed token copied into TikTok's column does not open as TikTok's.
    sqlx::query("UPDATE campaigns SET tiktok_access_token = access_token WHERE key = 'tt-sealed'")
        .execute(&app.pool)
        .await
        .unwrap();
    queue_lead(&app, "tt-sealed", "tt-sealed-2").await;
    app.deliver().await;
    assert_eq!(app.tiktok_requests().await.len(), 1, "nothing sent with it");
}

/// What `serve` says when it refuses to start with `extra` settings on `database_url`.
async fn refusal(database_url: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "capi-bridge",
        "--database-url",
        database_url,
        "--listen-addr",
        "127.0.0.1:0",
        "--admin-token",
        ADMIN_TOKEN,
        "--postback-key",
        POSTBACK_KEY,
    ];
    args.extend(extra);
    let config = Cli::try_parse_from(args).expect("settings parse").config;
    match Application::build(config).await {
        Ok(_) => panic!("started with {extra:?}"),
        Err(e) => format!("{e:#}"),
    }
}

/// A database holding sealed tokens does not start without their key: unset is refused for
/// every deployment, and `none` (the explicit choice of plaintext) is refused here because
/// every event of those campaigns would fail. `none` with the old key in SECRETS_KEY_PREVIOUS
/// is the way out of encryption: the tokens are stored as given from then on.
#[tokio::test]
async fn sealed_tokens_need_their_key_to_start() {
    let first = spawn_app().await;
    first.create_campaign("sealed", json!({})).await;
    first
        .create_campaign_with_tiktok("sealed-tt", json!({}))
        .await;
    let url = first.database_url.clone();

    let err = refusal(&url, &[]).await;
    assert!(err.starts_with("SECRETS_KEY is required"), "{err}");
    let err = refusal(&url, &["--secrets-key", "none"]).await;
    let key_id = &hex::encode(Sha256::digest(hex::decode(TEST_SECRETS_KEY).unwrap()))[..8];
    assert!(
        err.starts_with(&format!(
            "SECRETS_KEY is none, but the database holds 3 access token(s) encrypted with key \
             {key_id}: set SECRETS_KEY to that key"
        )),
        "{err}"
    );
    assert!(!err.contains(TEST_SECRETS_KEY), "{err}");
    let err = refusal(&url, &["--secrets-key", SECRETS_KEY]).await;
    assert!(
        err.contains("neither SECRETS_KEY nor in SECRETS_KEY_PREVIOUS"),
        "{err}"
    );

    let graph = wiremock::MockServer::start().await;
    mount_graph_ok(&graph).await;
    let plain = spawn_on(
        &url,
        graph,
        &[
            "--secrets-key",
            "none",
            "--secrets-key-previous",
            TEST_SECRETS_KEY,
        ],
    )
    .await;
    assert_eq!(stored_token(&plain, "sealed").await, ACCESS_TOKEN);
    queue_lead(&plain, "sealed", "plain-1").await;
    plain.deliver().await;
    let requests = plain.graph_requests().await;
    assert_eq!(requests[0]["access_token"], ACCESS_TOKEN);
}

/// Events parked because their campaign's token could not be decrypted (sealed under a key the
/// process did not have, as when SECRETS_KEY was missing or wrong) go back in the queue at the
/// next start whose key opens it; those Meta itself refused the token of stay parked until the
/// token changes.
#[tokio::test]
async fn events_parked_on_an_unreadable_token_are_requeued_at_start_up() {
    let first = spawn_app().await;
    first.graph.reset().await;
    Mock::given(method("POST"))
        .and(path_regex("/2222222222/events$"))
        .respond_with(graph_error(
            400,
            190,
            None,
            false,
            "Invalid OAuth access token",
        ))
        .mount(&first.graph)
        .await;
    mount_graph_ok(&first.graph).await;
    first
        .create_campaign("refused", json!({"pixel_id": "2222222222"}))
        .await;
    first.create_campaign("locked", json!({})).await;
    let other_key = TokenCipher::new(Some(parse_key(SECRETS_KEY).unwrap()), Keys::default());
    sqlx::query("UPDATE campaigns SET access_token = $1 WHERE key = 'locked'")
        .bind(other_key.seal("locked", ACCESS_TOKEN))
        .execute(&first.pool)
        .await
        .unwrap();
    for round in 1..=2 {
        queue_lead(&first, "locked", &format!("locked-{round}")).await;
        queue_lead(&first, "refused", &format!("refused-{round}")).await;
        first.deliver().await;
    }
    let parked = |pool: sqlx::PgPool| async move {
        sqlx::query_as::<_, (String, String, Option<String>)>(
            "SELECT c.key, e.state, e.failure_class FROM events e \
             JOIN campaigns c ON c.id = e.campaign_id ORDER BY e.id",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    let failed_auth = |key: &str| (key.to_owned(), "failed".to_owned(), Some("auth".to_owned()));
    assert_eq!(
        parked(first.pool.clone()).await,
        [
            failed_auth("locked"),
            failed_auth("refused"),
            failed_auth("locked"),
            failed_auth("refused")
        ]
    );
    let why: String = sqlx::query_scalar(
        "SELECT last_error FROM events e JOIN campaigns c ON c.id = e.campaign_id \
         WHERE c.key = 'locked' ORDER BY e.id DESC LIMIT 1",
    )
    .fetch_one(&first.pool)
    .await
    .unwrap();
    assert!(why.contains("neither SECRETS_KEY"), "{why}");

    // The next start has the key that sealed it (and the former one in SECRETS_KEY_PREVIOUS).
    let graph = wiremock::MockServer::start().await;
    mount_graph_ok(&graph).await;
    let app = spawn_on(
        &first.database_url,
        graph,
        &[
            "--secrets-key",
            SECRETS_KEY,
            "--secrets-key-previous",
            TEST_SECRETS_KEY,
        ],
    )
    .await;
    let pending = (String::from("locked"), String::from("pending"), None);
    assert_eq!(
        parked(app.pool.clone()).await,
        [
            pending.clone(),
            failed_auth("refused"),
            pending,
            failed_auth("refused")
        ]
    );
    assert_eq!(app.deliver().await.delivered, 2);
    let requests = app.graph_requests().await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["access_token"], ACCESS_TOKEN);
}
