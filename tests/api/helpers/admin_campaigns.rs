//! Helpers of the campaign admin API tests.

use crate::helpers::*;
use reqwest::Method;
use serde_json::{json, Value};

pub async fn post_campaign(app: &TestApp, body: Value) -> reqwest::Response {
    app.admin(Method::POST, "/admin/v1/campaigns", Some(body))
        .await
}

pub async fn campaign_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM campaigns")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Drops the two timestamps after checking they are RFC 3339 times.
pub fn without_timestamps(mut v: Value) -> Value {
    let obj = v.as_object_mut().expect("campaign is an object");
    for name in ["created_at", "updated_at"] {
        let ts = obj.remove(name).unwrap_or_else(|| panic!("{name} missing"));
        chrono::DateTime::parse_from_rfc3339(ts.as_str().expect("timestamp string"))
            .unwrap_or_else(|e| panic!("{name} = {ts}: {e}"));
    }
    v
}

pub fn defaults_for(key: &str, name: &str) -> Value {
    json!({
        "key": key,
        "name": name,
        "pixel_id": "1234567890",
        "access_token_set": true,
        "test_event_code": null,
        "action_source": "website",
        "event_map": {"lead": "Lead", "sale": "Purchase", "rebill": "Purchase", "rejected": null},
        "currency": "USD",
        "value_source": "payout",
        "event_id_template": "{event_name}-{click_id}",
        "landing_url": null,
        "late_pixel_twin": "send",
        "require_consent": false,
        "limited_data_use": false,
        "enabled": true,
        "tiktok": null,
        "default_country": null,
        "date_order": null,
        // Not set, and on one platform the default is always.
        "meta_send_when": null,
        "send_when": {"meta": "always"},
    })
}
