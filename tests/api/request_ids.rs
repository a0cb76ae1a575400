//! Request ids: one per request, in every log line written while serving it, in the
//! `X-Request-Id` header and in problem bodies, so a user can quote it and find the lines.

use serde_json::Value;

use crate::helpers::*;

/// The request id of a JSON log line: it sits on the root span, first in the span list.
fn request_id_of(line: &Value) -> Option<&str> {
    line["spans"][0]["request_id"].as_str()
}

fn header_id(resp: &reqwest::Response) -> String {
    resp.headers()["x-request-id"].to_str().unwrap().to_owned()
}

/// The real binary's JSON logs: every line of a postback's request (the tracker span's lines,
/// `postback recorded`, `postback refused`) carries the id its response header names, and the
/// refusal's problem body quotes the same id.
#[tokio::test]
async fn a_postbacks_log_lines_carry_its_response_request_id() {
    let graph = wiremock::MockServer::start().await;
    mount_graph_ok(&graph).await;
    let database_url = fresh_database().await;
    let serve = spawn_serve(
        &database_url,
        &graph.uri(),
        &[("RUST_LOG", "debug,sqlx=warn")],
    )
    .await;
    serve.create_campaign("rid", "1234567890").await;

    let client = reqwest::Client::new();
    queue_lead_via(&client, &serve.base, "rid", "rid-click").await;
    let accepted = client
        .get(serve.url(&format!(
            "/v1/postback/keitaro?key={POSTBACK_KEY}&subid=rid-click&status=sale&payout=3"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    let accepted_id = header_id(&accepted);

    let refused = client
        .get(serve.url(&format!(
            "/v1/postback/keitaro?key={POSTBACK_KEY}&status=sale"
        )))
        .send()
        .await
        .unwrap();
    let refused_id = header_id(&refused);
    assert_ne!(accepted_id, refused_id, "one id per request");
    let body = assert_problem(refused, 400, "missing_click_id").await;
    assert!(body.contains("required"), "{body}");

    // The request's span closes after the answer is sent: wait for its last line.
    let lines = wait_for(
        "both requests' last log lines",
        std::time::Duration::from_secs(10),
        || async {
            let lines: Vec<Value> = serve
                .logs()
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            let finished = |id: &str| {
                lines
                    .iter()
                    .any(|l| l["message"] == "request finished" && request_id_of(l) == Some(id))
            };
            if finished(&accepted_id) && finished(&refused_id) {
                Ok(lines)
            } else {
                Err(format!("{} lines", lines.len()))
            }
        },
    )
    .await;

    let of = |id: &str| -> Vec<&Value> {
        lines
            .iter()
            .filter(|l| request_id_of(l) == Some(id))
            .collect()
    };
    let messages = |id: &str| -> Vec<&str> {
        of(id)
            .iter()
            .map(|l| l["message"].as_str().unwrap_or_default())
            .collect()
    };
    assert!(
        messages(&accepted_id).contains(&"postback recorded"),
        "{:?}",
        messages(&accepted_id)
    );
    assert!(
        messages(&refused_id).contains(&"postback refused"),
        "{:?}",
        messages(&refused_id)
    );
    // No line of a postback request lacks the id: every line inside the tracker's span, and
    // every postback line, is one of the two requests'.
    for line in &lines {
        let in_postback = line["span"]["tracker"].is_string()
            || line["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("postback "));
        if in_postback {
            let id = request_id_of(line);
            assert!(
                id.is_some_and(|id| !id.is_empty()),
                "a postback line without a request id: {line}"
            );
        }
    }
}

/// Every answer carries an id, also 404s, 405s and problems raised by middleware (the 408 of a
/// body that never comes) and by extractors; a client's own X-Request-Id is not taken over.
#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app_with(&["--request-timeout", "1s"]).await;
    let c = &app.client;
    let ok = c
        .get(app.url("/healthz"))
        .header("x-request-id", "client-chosen-id")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let id = header_id(&ok);
    assert_ne!(id, "client-chosen-id");
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");

    let problems = vec![
        (c.get(app.url("/nope")).send().await.unwrap(), 404),
        (c.put(app.url("/v1/clicks")).send().await.unwrap(), 405),
        (
            c.get(app.url("/admin/v1/campaigns")).send().await.unwrap(),
            401,
        ),
        (
            c.post(app.url("/v1/clicks"))
                .header("content-type", "application/json")
                .body("{")
                .send()
                .await
                .unwrap(),
            400,
        ),
    ];
    let mut seen = std::collections::HashSet::new();
    for (resp, status) in problems {
        assert_eq!(resp.status(), status);
        let id = header_id(&resp);
        assert!(seen.insert(id.clone()), "ids repeat: {id}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["request_id"], id.as_str(), "{body}");
    }

    // A body announced but never sent: the deadline middleware's own 408.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    stream
        .write_all(
            b"POST /v1/clicks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{",
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("answered within the deadline")
    .unwrap();
    let answer = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 408"), "{answer}");
    let header = answer
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .expect("X-Request-Id on the 408")
        .trim()
        .to_owned();
    assert!(
        answer.contains(&format!("\"request_id\":\"{header}\"")),
        "{answer}"
    );
}
