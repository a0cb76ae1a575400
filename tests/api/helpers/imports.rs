//! Offline-conversion imports (`POST /admin/v1/imports`): a CSV file mixing every outcome,
//! the clicks it names, upload requests (raw CSV and multipart) and waiting for the result.

use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{wait_for, TestApp, ADMIN_TOKEN};

pub const BOUNDARY: &str = "capi-test-boundary-7MA4YWxkTrZu0gW";

/// A file mixing every outcome; `assert_first_run` in tests/api/imports.rs gives each line's.
pub fn mixed_file() -> String {
    let old = Utc::now().timestamp() - 8 * 86_400;
    let recent = (Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    format!(
        "click_id,status,payout,currency,txid,event_time\r\n\
         c1,lead,,,,\r\n\
         c2,sale,10.5,EUR,t2,\r\n\
         c2,sale,10.5,EUR,t2,\r\n\
         c3,rejected,,,,\r\n\
         ghost,sale,5,EUR,,\r\n\
         c4,sale,abc,EUR,,\r\n\
         ,sale,1,EUR,,\r\n\
         c5,\"sale,1,EUR,,\r\n\
         c6,sale,1,EUR,,{old}\r\n\
         \r\n\
         c7,sale,3,EUR,t7,{recent}\r\n"
    )
}

/// The campaign and the clicks [`mixed_file`] names.
pub async fn seed(app: &TestApp) {
    app.create_campaign("shop", json!({})).await;
    for c in ["c1", "c2", "c3", "c4", "c5", "c6", "c7"] {
        let resp = app
            .register_click(json!({"campaign": "shop", "click_id": c}))
            .await;
        assert_eq!(resp.status(), 201, "click {c}");
    }
}

pub async fn post_csv(app: &TestApp, body: String) -> reqwest::Response {
    app.client
        .post(app.url("/admin/v1/imports"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// `POST /admin/v1/imports` with a multipart `body` (see [`multipart`]).
pub async fn post_multipart(app: &TestApp, body: String) -> reqwest::Response {
    app.client
        .post(app.url("/admin/v1/imports"))
        .bearer_auth(ADMIN_TOKEN)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

/// A multipart body with `fields` first, then `file` as the part named "file".
pub fn multipart(fields: &[(&str, &str)], file: &str) -> String {
    multipart_named(fields, "conv.csv", file)
}

/// [`multipart`] with the file part's file name as the client sends it.
pub fn multipart_named(fields: &[(&str, &str)], file_name: &str, file: &str) -> String {
    let mut body = String::new();
    for (name, value) in fields {
        body += &format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        );
    }
    body += &format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: text/csv\r\n\r\n{file}\r\n--{BOUNDARY}--\r\n"
    );
    body
}

pub async fn started(resp: reqwest::Response) -> i64 {
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let id = resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert!(id > 0);
    id
}

/// Polls the import until it is no longer running.
pub async fn finished(app: &TestApp, id: i64) -> Value {
    wait_for("the import to finish", Duration::from_secs(20), || async {
        let v = app.admin_get(&format!("/admin/v1/imports/{id}")).await;
        if v["state"] == "running" {
            Err(v.to_string())
        } else {
            Ok(v)
        }
    })
    .await
}
