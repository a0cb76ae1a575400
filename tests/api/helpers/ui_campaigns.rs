//! Helpers of the dashboard's campaign page tests.

use crate::helpers::*;
use reqwest::header::LOCATION;
use reqwest::{Response, StatusCode};

pub fn assert_see_other(resp: &Response, to: &str) {
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], to);
}

/// The access token Meta receives for `key`'s test event: the stored token, decrypted.
pub async fn token_sent_to_meta(app: &TestApp, key: &str) -> String {
    app.graph.reset().await;
    mount_graph_ok(&app.graph).await;
    let resp = app
        .admin(
            reqwest::Method::POST,
            &format!("/admin/v1/campaigns/{key}/test-event"),
            None,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let sent = received(&app.graph).await;
    sent.last().unwrap().1["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}
