//! RFC 9457 problem answers, checked member by member.

use reqwest::header::{HeaderMap, CONTENT_TYPE};
use serde_json::Value;

/// A problem body: the exact set of members, the status and code; returns the detail.
pub async fn assert_problem(resp: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(resp.status(), status, "status");
    let content_type = resp
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/problem+json"),
        "content-type {content_type:?}"
    );
    // Every answer carries its request id, and a problem quotes the same one.
    let request_id = resp
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_owned())
        .expect("X-Request-Id header");
    let body: Value = resp.json().await.expect("problem body is JSON");
    assert_eq!(body["request_id"], request_id.as_str(), "{body}");
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["code", "detail", "request_id", "status", "title", "type"],
        "{body}"
    );
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(
        body["type"],
        format!("https://capi-bridge.dev/problems/{code}"),
        "{body}"
    );
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    body["detail"].as_str().unwrap().to_owned()
}

/// [`assert_problem`] for a test that also reads the answer's headers (`Retry-After`...):
/// the headers and the detail.
pub async fn assert_problem_headers(
    resp: reqwest::Response,
    status: u16,
    code: &str,
) -> (HeaderMap, String) {
    let headers = resp.headers().clone();
    let detail = assert_problem(resp, status, code).await;
    (headers, detail)
}
