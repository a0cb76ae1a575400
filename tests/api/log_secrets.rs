//! The real binary through a full scenario (clicks, postbacks, a delivery, a refused token and
//! its alert on two unreachable channels), every log line read: no secret, no raw personal data.

use crate::helpers::binary as bin;
use crate::helpers::*;

/// The real binary, a full scenario, every log line read: no secret and no raw personal data.
#[tokio::test]
async fn logs_never_contain_secrets_or_raw_personal_data() {
    let graph = wiremock::MockServer::start().await;
    mount_graph_ok(&graph).await;
    let url = fresh_database().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let admin = "log-admin-2d9e47abbf9d0fc8f04fa86caf593c76";
    let key = "log-postback-6f40b13280c8022bf1d30f53fe707849";
    let token = "EAAlogtestSECRETtoken987654321";
    let email = "Secret.Person@Example.com";
    // Both alert channels are down: their errors are logged, and reqwest's would name the URL,
    // whose path holds the bot token and the webhook's secret.
    let telegram_token = "7012345678:AAlogTELEGRAMsecretToken_987654";
    let webhook_secret = "/services/T0LOG/B0LOG/logWEBHOOKsecret987";
    let webhook = format!("http://127.0.0.1:{}{webhook_secret}", free_port());
    let telegram_api = format!("http://127.0.0.1:{}", free_port());
    let refused_pixel = "9999999999";
    wiremock::Mock::given(wiremock::matchers::path(format!(
        "/v26.0/{refused_pixel}/events"
    )))
    .respond_with(graph_error(400, 190, Some(463), false, "token expired"))
    .with_priority(1)
    .mount(&graph)
    .await;
    let log_path = std::env::temp_dir().join(format!("capi-log-{port}.log"));
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = bin()
        .env("DATABASE_URL", &url)
        .env("ADMIN_TOKEN", admin)
        .env("POSTBACK_KEY", key)
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("META_GRAPH_URL", graph.uri())
        // Its Graph fake answers events only: no quality fetches.
        .env("META_QUALITY_INTERVAL", "off")
        .env(
            "SECRETS_KEY",
            "5c0d8e2f7a9b41c3e6d2f8a0b7c5e1d49a3f6b2c8e0d7a5f1b9c4e6d2a8f0b3c",
        )
        .env("DELIVERY_POLL_INTERVAL", "100ms")
        .env("ALERT_WEBHOOK_URL", &webhook)
        .env("TELEGRAM_BOT_TOKEN", telegram_token)
        .env("TELEGRAM_CHAT_ID", "-1001234567890")
        .env("TELEGRAM_API_URL", &telegram_api)
        .env("ALERT_INTERVAL", "200ms")
        .env("RUST_LOG", "debug")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "server did not start");

    let campaign = serde_json::json!({"key": "logs", "pixel_id": "1234567890", "access_token": token,
            "landing_url": "https://lp.example.com/logs"});
    let refused = serde_json::json!({"key": "logs-refused", "pixel_id": refused_pixel,
            "access_token": token, "landing_url": "https://lp.example.com/logs"});
    for campaign in [&campaign, &refused] {
        let r = client
            .post(format!("{base}/admin/v1/campaigns"))
            .bearer_auth(admin)
            .json(campaign)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    // A wrong token is refused and must not be echoed either.
    let r = client
        .get(format!("{base}/admin/v1/campaigns"))
        .bearer_auth("wrong-admin-token-guess")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let click = serde_json::json!({"campaign": "logs", "click_id": "log-1", "em": email, "ph": "+1 (650) 555-1212", "fbclid": "IwARlog"});
    let refused_click = serde_json::json!({"campaign": "logs-refused", "click_id": "log-4"});
    for click in [&click, &refused_click] {
        let r = client
            .post(format!("{base}/v1/clicks"))
            .header("user-agent", BROWSER_UA)
            .json(click)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    for q in [
        format!("key={key}&subid=log-1&status=lead&em={email}"),
        format!("key={key}&subid=log-2&status=sale&em=bad-email"),
        "key=wrong-key-0123456789&subid=log-1".to_owned(),
        format!("key={key}&subid=log-4&status=lead"),
    ] {
        client
            .get(format!("{base}/v1/postback/keitaro?{q}"))
            .send()
            .await
            .unwrap();
    }
    client
        .get(format!(
            "{base}/v1/clicks?campaign=logs&click_id=log-3&em={email}"
        ))
        .send()
        .await
        .unwrap();
    // Wait for the delivery, then stop the server.
    let mut delivered = false;
    for _ in 0..50 {
        if !graph
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
        {
            delivered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(delivered, "the event was not delivered");
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let stored: String = sqlx::query_scalar("SELECT access_token FROM campaigns")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        stored.starts_with("enc:v2:") && !stored.contains(token),
        "token not encrypted at rest"
    );
    // Meta refused logs-refused's token: the alert was tried on both channels, and failed.
    let mut tried = 0;
    for _ in 0..100 {
        tried = sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM alerts_sent WHERE NOT delivered AND subject = 'logs-refused'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if tried >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(tried, 2, "the alert was not tried on both channels");
    child.kill().unwrap();
    child.wait().unwrap();

    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logs.lines().count() > 10,
        "too few log lines to judge: {logs}"
    );
    assert!(
        logs.contains("request_id"),
        "log lines carry the request id"
    );
    assert!(logs.contains("alert not delivered"), "{logs}");
    for secret in [
        telegram_token,
        "AAlogTELEGRAMsecretToken",
        webhook_secret,
        "logWEBHOOKsecret",
        admin,
        key,
        token,
        "wrong-admin-token-guess",
        "wrong-key-0123456789",
        email,
        &email.to_lowercase(),
        "6505551212",
    ] {
        assert!(!logs.contains(secret), "{secret:?} appears in the logs");
    }
    let _ = std::fs::remove_file(&log_path);
}
