//! The real TikTok client and answer table against the strict fake Events API.

use std::time::Duration;

use capi_bridge::domain::{AccessToken, AttemptOutcome, Sha256Hash};
use capi_bridge::platforms::tiktok::client::TikTokClient;
use capi_bridge::platforms::tiktok::event::{tiktok_event, TikTokEventInput};
use capi_bridge::platforms::tiktok::TikTok;
use capi_bridge::platforms::{Answer, Destination, Platform, Verdict};
use chrono::Utc;
use serde_json::{json, Value};
use wiremock::MockServer;

use crate::helpers::tiktok::{FakeTikTok, FAKE_REQUEST_ID, PARAMETER_ERROR, REFUSED, TRACK_PATH};

const TOKEN: &str = "tt-access-token-5f0c2a9e71";
const PIXEL: &str = "C4ABCDEFGHIJKL123456";

fn tiktok(server: &MockServer) -> TikTok {
    TikTok::new(TikTokClient::new(&server.uri(), Duration::from_secs(2)).unwrap())
}

fn event(id: &str, email: Option<&Sha256Hash>, phone: Option<&Sha256Hash>) -> Value {
    tiktok_event(&TikTokEventInput {
        event: "CompletePayment",
        event_time: Utc::now().timestamp() - 60,
        event_id: id,
        ttclid: Some("E.C.P.ttclid-1"),
        ttp: Some("ttp-cookie-1"),
        email,
        phone,
        ip: Some("203.0.113.7"),
        user_agent: Some("Mozilla/5.0"),
        page_url: Some("https://lander.example/p"),
        value: Some(12.5),
        currency: Some("USD"),
        ..TikTokEventInput::default()
    })
}

async fn send(server: &MockServer, events: &[Value], test_code: Option<&str>) -> Answer {
    let token = AccessToken::new(TOKEN.into());
    let refs: Vec<&Value> = events.iter().collect();
    let to = Destination {
        pixel_id: PIXEL,
        access_token: &token,
        test_event_code: test_code,
    };
    tiktok(server).send(to, &refs).await
}

async fn fake(answer: FakeTikTok) -> MockServer {
    let server = MockServer::start().await;
    answer.mount(&server).await;
    server
}

/// TikTok's digest of a raw phone, as capture stores it.
fn phone_digest(raw: &str) -> Sha256Hash {
    use sha2::{Digest, Sha256};
    let e164 = capi_bridge::domain::tiktok_phone(raw, &Default::default())
        .unwrap()
        .unwrap();
    Sha256Hash::from_stored(hex::encode(Sha256::digest(e164.as_bytes())))
}

fn email() -> Sha256Hash {
    Sha256Hash::from_stored("a".repeat(64))
}

#[tokio::test]
async fn events_reach_tiktok_with_the_token_only_in_the_header() {
    let server = fake(FakeTikTok::ok()).await;
    let (email, phone) = (email(), phone_digest("+1 213 373 4253"));
    let events = [
        event("sale-1", Some(&email), Some(&phone)),
        event("sale-2", None, None),
    ];
    let answer = send(&server, &events, Some("TEST12345")).await;
    assert_eq!(answer.verdict, Verdict::Delivered, "{answer:?}");
    assert_eq!(answer.attempt.outcome, AttemptOutcome::Sent);
    assert_eq!(answer.attempt.http_status, Some(200));
    assert_eq!(answer.attempt.fbtrace_id.as_deref(), Some(FAKE_REQUEST_ID));
    assert_eq!(answer.attempt.error_code, None);

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let req = &received[0];
    assert_eq!(req.url.path(), TRACK_PATH);
    assert_eq!(req.headers.get("access-token").unwrap(), TOKEN);
    assert!(!req.url.as_str().contains(TOKEN), "{}", req.url);
    assert!(!String::from_utf8_lossy(&req.body).contains(TOKEN));
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(
        body,
        json!({
            "event_source": "web",
            "event_source_id": PIXEL,
            "test_event_code": "TEST12345",
            "data": events,
        })
    );
    assert_eq!(
        body["data"][0]["user"]["phone"],
        "9f7ec22d72092cd3c0b58726ed9c2d91b92e51a3f29837508fb2948bb22dd2fd"
    );
}

#[tokio::test]
async fn without_a_test_code_the_body_has_none() {
    let server = fake(FakeTikTok::ok()).await;
    let answer = send(&server, &[event("lead-1", None, None)], None).await;
    assert_eq!(answer.verdict, Verdict::Delivered, "{answer:?}");
    let received = server.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert!(body.get("test_event_code").is_none(), "{body}");
}

#[tokio::test]
async fn a_token_error_parks_and_keeps_what_tiktok_said() {
    let server = fake(FakeTikTok::code(
        40105,
        "The access token is incorrect or has been revoked.",
    ))
    .await;
    let answer = send(&server, &[event("sale-1", None, None)], None).await;
    assert_eq!(answer.verdict, Verdict::Auth);
    assert_eq!(answer.attempt.outcome, AttemptOutcome::AuthError);
    assert_eq!(answer.attempt.http_status, Some(200));
    assert_eq!(answer.attempt.error_code, Some(40105));
    assert_eq!(
        answer.attempt.message.as_deref(),
        Some("The access token is incorrect or has been revoked.")
    );
    assert_eq!(answer.attempt.fbtrace_id.as_deref(), Some(FAKE_REQUEST_ID));
}

#[tokio::test]
async fn a_parameter_error_marks_the_events_invalid() {
    let server = fake(FakeTikTok::code(PARAMETER_ERROR, "Invalid event name")).await;
    let answer = send(&server, &[event("sale-1", None, None)], None).await;
    assert_eq!(answer.verdict, Verdict::Invalid);
    assert_eq!(answer.attempt.error_code, Some(40002));
    assert_eq!(
        answer.attempt.message.as_deref(),
        Some("Invalid event name")
    );
}

#[tokio::test]
async fn server_errors_and_rate_limits_retry_honouring_retry_after() {
    let cases = [
        (
            FakeTikTok::http(500, 50000, "System error"),
            None,
            500,
            50000,
        ),
        (
            FakeTikTok::code(40100, "Too many requests"),
            None,
            200,
            40100,
        ),
        (
            FakeTikTok::http(429, 40100, "Too many requests").retry_after(7),
            Some(Duration::from_secs(7)),
            429,
            40100,
        ),
        (FakeTikTok::code(59999, "Unknown"), None, 200, 59999),
    ];
    for (answer, retry_after, status, code) in cases {
        let server = fake(answer).await;
        let got = send(&server, &[event("sale-1", None, None)], None).await;
        assert_eq!(got.verdict, Verdict::Retry { retry_after }, "{code}");
        assert_eq!(got.attempt.outcome, AttemptOutcome::TransientError);
        assert_eq!(got.attempt.http_status, Some(status));
        assert_eq!(got.attempt.error_code, Some(code));
        assert_eq!(got.attempt.fbtrace_id.as_deref(), Some(FAKE_REQUEST_ID));
    }
}

#[tokio::test]
async fn no_answer_at_all_retries() {
    // A port nobody listens on (wiremock keeps dropped servers listening in its pool).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let client = TikTok::new(TikTokClient::new(&url, Duration::from_secs(2)).unwrap());
    let token = AccessToken::new(TOKEN.into());
    let ev = event("sale-1", None, None);
    let to = Destination {
        pixel_id: PIXEL,
        access_token: &token,
        test_event_code: None,
    };
    let answer = client.send(to, &[&ev]).await;
    assert_eq!(answer.verdict, Verdict::Retry { retry_after: None });
    assert_eq!(answer.attempt.http_status, None);
    let message = answer.attempt.message.unwrap();
    assert!(!message.contains(TOKEN), "{message}");
}

#[tokio::test]
async fn the_fake_refuses_what_tiktok_would() {
    let server = fake(FakeTikTok::ok()).await;
    let future = tiktok_event(&TikTokEventInput {
        event: "CompletePayment",
        event_time: Utc::now().timestamp() + 3600,
        event_id: "sale-1",
        ..TikTokEventInput::default()
    });
    let mut raw_email = event("sale-2", None, None);
    raw_email["user"]["email"] = json!("someone@example.com");
    let mut no_id = event("sale-3", None, None);
    no_id.as_object_mut().unwrap().remove("event_id");
    let cases = [
        (future, "data[0]: event_time"),
        (raw_email, "data[0]: user.email is not 64 lowercase hex"),
        (no_id, "data[0]: event_id is not a non-empty string"),
    ];
    for (bad, reason) in cases {
        let answer = send(&server, &[bad], None).await;
        assert_eq!(answer.verdict, Verdict::Invalid);
        let message = answer.attempt.message.unwrap();
        assert!(
            message.starts_with(&format!("{REFUSED}{reason}")),
            "{message}"
        );
    }
    let answer = send(&server, &[], None).await;
    assert!(answer
        .attempt
        .message
        .unwrap()
        .contains("data has 0 events"));
}
