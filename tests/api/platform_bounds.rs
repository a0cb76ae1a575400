//! A hostile or broken upstream (issue 21, item 5): the clients of Meta and TikTok never follow a
//! redirect (it would carry the access token to another host) and read at most 1 MB of an
//! answer; what is stored of an answer (an event's `last_error`, an attempt's message) is cut
//! at 1,000 characters.

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

/// Where a redirect points: it answers everything with success, and must receive nothing.
async fn other_host() -> MockServer {
    let other = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(GraphOk)
        .mount(&other)
        .await;
    other
}

fn redirect(status: u16, to: &MockServer) -> ResponseTemplate {
    ResponseTemplate::new(status).insert_header(
        "Location",
        format!("{}/v26.0/1234567890/events?stolen=1", to.uri()),
    )
}

/// A lead on a fresh click of `campaign`, queued for delivery.
async fn lead(app: &TestApp, campaign: &str, click: &str) {
    queue_lead_via(&app.client, &app.address, campaign, click).await;
}

/// (state, failure_class, last_error) of the single event of `platform`.
async fn event(app: &TestApp, platform: &str) -> (String, Option<String>, String) {
    sqlx::query_as(
        "SELECT state, failure_class, coalesce(last_error, '') FROM events WHERE platform = $1",
    )
    .bind(platform)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

/// Lengths of the stored attempt messages of `platform`'s events.
async fn attempt_lengths(app: &TestApp, platform: &str) -> Vec<i32> {
    sqlx::query_scalar(
        "SELECT length(a.message) FROM delivery_attempts a JOIN events e \
         ON e.id = a.event_row_id WHERE e.platform = $1 ORDER BY a.id",
    )
    .bind(platform)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// A 307 asks to repeat the POST, body (and Meta's token) included, to another host: neither
/// delivery nor the test event follows it. The events wait for a retry, saying where the
/// redirect pointed (its origin only).
#[tokio::test]
async fn meta_redirects_are_refused_and_the_token_stays_here() {
    let app = spawn_app().await;
    let other = other_host().await;
    app.graph.reset().await;
    Mock::given(method("POST"))
        .respond_with(redirect(307, &other))
        .mount(&app.graph)
        .await;
    app.create_campaign("redir", json!({"test_event_code": "TEST4242"}))
        .await;
    lead(&app, "redir", "redir-1").await;

    let report = app.deliver().await;
    assert_eq!(report.requests, 1, "{report:?}");
    assert_eq!(app.graph.received_requests().await.unwrap().len(), 1);
    let (state, class, why) = event(&app, "meta").await;
    assert_eq!((state.as_str(), class), ("pending", None), "{why}");
    assert!(
        why.contains("redirect refused: HTTP 307") && why.contains(&other.uri()),
        "{why}"
    );
    assert!(
        !why.contains("stolen"),
        "the redirect's query is kept: {why}"
    );

    let resp = app
        .admin(
            reqwest::Method::POST,
            "/admin/v1/campaigns/redir/test-event",
            None,
        )
        .await;
    assert_eq!(resp.status(), 502);
    let problem: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(problem["code"], "meta_unreachable", "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("redirect refused: HTTP 307"), "{detail}");

    let stolen = other.received_requests().await.unwrap();
    assert!(
        stolen.is_empty(),
        "{} requests followed the redirect",
        stolen.len()
    );
}

/// TikTok's token travels in a header, which a followed redirect would repeat.
#[tokio::test]
async fn tiktok_redirects_are_refused_and_the_token_stays_here() {
    let app = spawn_app().await;
    let other = other_host().await;
    app.tiktok.reset().await;
    Mock::given(method("POST"))
        .respond_with(redirect(302, &other))
        .mount(&app.tiktok)
        .await;
    app.create_campaign_with_tiktok("tt-redir", json!({"pixel_id": null, "access_token": null}))
        .await;
    lead(&app, "tt-redir", "tt-redir-1").await;

    app.deliver().await;
    assert_eq!(app.tiktok.received_requests().await.unwrap().len(), 1);
    let (state, _, why) = event(&app, "tiktok").await;
    assert_eq!(state, "pending", "{why}");
    assert!(why.contains("redirect refused: HTTP 302"), "{why}");
    assert!(other.received_requests().await.unwrap().is_empty());
}

/// Meta's error object with a message of `size` bytes.
fn graph_error_of(size: usize, code: i64) -> ResponseTemplate {
    let body = json!({"error": {"message": "x".repeat(size), "type": "OAuthException",
                                "code": code, "fbtrace_id": "AbBig"}});
    ResponseTemplate::new(400).set_body_json(body)
}

/// A 20 MB answer is not read (it is no answer Meta writes): the events wait for a retry, and
/// what is stored of it is a line. An answer under the cap with a long message is read and
/// classified by its code, its message cut where it is stored.
#[tokio::test]
async fn meta_answers_are_read_and_stored_within_bounds() {
    let app = spawn_app().await;
    app.graph.reset().await;
    answer_only(&app.graph, graph_error_of(20 << 20, 100)).await;
    app.create_campaign("huge", json!({})).await;
    lead(&app, "huge", "huge-1").await;
    app.deliver().await;
    let (state, _, why) = event(&app, "meta").await;
    assert_eq!(state, "pending", "{why}");
    assert!(why.contains("larger than 1048576 bytes"), "{why}");
    assert!(why.len() < 200, "{}", why.len());

    // 500 KB: read, a token error (190) parks the event; its message is kept to 1,000
    // characters in the event and in the attempt.
    app.graph.reset().await;
    answer_only(&app.graph, graph_error_of(500 << 10, 190)).await;
    outbox::make_due_now(&app).await;
    app.deliver().await;
    let (state, class, why) = event(&app, "meta").await;
    assert_eq!((state.as_str(), class.as_deref()), ("failed", Some("auth")));
    assert!(why.starts_with("xxxx") && why.ends_with("(cut at 1000 characters)"));
    assert!(why.len() < 1100, "{}", why.len());
    let lengths = attempt_lengths(&app, "meta").await;
    assert_eq!(lengths.len(), 2, "{lengths:?}");
    assert!(lengths.iter().all(|&n| n < 1100), "{lengths:?}");
}

#[tokio::test]
async fn tiktok_answers_are_read_and_stored_within_bounds() {
    let app = spawn_app().await;
    app.tiktok.reset().await;
    let huge = json!({"code": 40002, "message": "y".repeat(20 << 20), "request_id": "r"});
    answer_only(&app.tiktok, ResponseTemplate::new(200).set_body_json(huge)).await;
    app.create_campaign_with_tiktok("tt-huge", json!({"pixel_id": null, "access_token": null}))
        .await;
    lead(&app, "tt-huge", "tt-huge-1").await;
    app.deliver().await;
    let (state, _, why) = event(&app, "tiktok").await;
    assert_eq!(state, "pending", "{why}");
    assert!(why.contains("larger than 1048576 bytes"), "{why}");

    app.tiktok.reset().await;
    let long = json!({"code": 40105, "message": "y".repeat(300 << 10), "request_id": "r"});
    answer_only(&app.tiktok, ResponseTemplate::new(200).set_body_json(long)).await;
    outbox::make_due_now(&app).await;
    app.deliver().await;
    let (state, class, why) = event(&app, "tiktok").await;
    assert_eq!((state.as_str(), class.as_deref()), ("failed", Some("auth")));
    assert!(why.len() < 1100, "{}", why.len());
    let lengths = attempt_lengths(&app, "tiktok").await;
    assert!(lengths.iter().all(|&n| n < 1100), "{lengths:?}");
}

/// An answer without a length that never ends (chunked, from a raw socket): reading stops at
/// 1 MB, well before the request's timeout, and the events wait for a retry.
#[tokio::test]
async fn an_endless_answer_is_cut_at_one_megabyte() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endless = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = vec![0u8; 64 << 10];
                let _ = socket.read(&mut head).await;
                let start = "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n\
                             transfer-encoding: chunked\r\n\r\n";
                if socket.write_all(start.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = format!("{:x}\r\n{}\r\n", 64 << 10, "z".repeat(64 << 10));
                while socket.write_all(chunk.as_bytes()).await.is_ok() {}
            });
        }
    });
    let app = spawn_app_with(&["--meta-graph-url", &endless, "--delivery-timeout", "20s"]).await;
    app.create_campaign("endless", json!({})).await;
    lead(&app, "endless", "endless-1").await;
    let started = std::time::Instant::now();
    app.deliver().await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let (state, _, why) = event(&app, "meta").await;
    assert_eq!(state, "pending", "{why}");
    assert!(why.contains("larger than 1048576 bytes"), "{why}");
}

/// Mounts `answer` as the fake's only answer to any POST.
async fn answer_only(server: &MockServer, answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .respond_with(answer)
        .mount(server)
        .await;
}
