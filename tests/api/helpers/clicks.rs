//! Helpers of the click capture tests: the stored row of a click, and requests as a\nlanding page sends them.

use crate::helpers::*;
use chrono::{DateTime, Utc};
use reqwest::header::{CONTENT_TYPE, USER_AGENT};
use serde_json::Value;

/// The stored columns the merge rule is about.
#[derive(Debug, sqlx::FromRow)]
pub struct ClickRow {
    pub campaign_key: String,
    pub fbclid: Option<String>,
    pub fbc: Option<String>,
    pub fbp: Option<String>,
    pub event_source_url: Option<String>,
    pub client_ip_address: Option<String>,
    pub client_user_agent: Option<String>,
    pub consent: Option<bool>,
    pub event_ids: Value,
    pub em: Option<String>,
    pub first_seen_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn stored_click(app: &TestApp, click_id: &str) -> ClickRow {
    sqlx::query_as::<_, ClickRow>(
        "SELECT c.key AS campaign_key, k.fbclid, k.fbc, k.fbp, k.event_source_url, \
            k.client_ip_address, k.client_user_agent, k.consent, k.event_ids, k.em, \
            k.first_seen_at, k.updated_at \
         FROM clicks k JOIN campaigns c ON c.id = k.campaign_id WHERE k.click_id = $1",
    )
    .bind(click_id)
    .fetch_one(&app.pool)
    .await
    .unwrap_or_else(|e| panic!("click {click_id} is not stored: {e}"))
}

pub async fn click_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM clicks")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

pub async fn post_raw(
    app: &TestApp,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    app.client
        .post(app.url("/v1/clicks"))
        .header(USER_AGENT, BROWSER_UA)
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .expect("click request")
}

pub async fn get_query(app: &TestApp, query: &str) -> reqwest::Response {
    app.client
        .get(format!("{}/v1/clicks?{query}", app.address))
        .header(USER_AGENT, BROWSER_UA)
        .send()
        .await
        .expect("click request")
}
