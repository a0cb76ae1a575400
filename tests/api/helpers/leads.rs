//! Clicks and the leads queued on them, through the public endpoints as a landing page and a
//! tracker send them.

use serde_json::{json, Value};

use super::{TestApp, BROWSER_UA, POSTBACK_KEY};

/// Takes the `update_token` out of a click registration's answer, checked to be one (32-128
/// of `A-Z a-z 0-9 _ -`), so the rest can be compared whole.
pub fn take_update_token(body: &mut Value) -> String {
    let token = body
        .as_object_mut()
        .and_then(|o| o.remove("update_token"))
        .and_then(|t| t.as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no update_token in {body}"));
    assert!(
        (32..=128).contains(&token.len())
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
        "{token:?}"
    );
    token
}

/// Registers click `click_id` on `campaign` at `base`, and a Keitaro lead postback for it;
/// returns the postback's answer, checked to be `accepted`.
pub async fn queue_lead_via(
    client: &reqwest::Client,
    base: &str,
    campaign: &str,
    click_id: &str,
) -> Value {
    let resp = client
        .post(format!("{base}/v1/clicks"))
        .header("user-agent", BROWSER_UA)
        .json(&json!({"campaign": campaign, "click_id": click_id}))
        .send()
        .await
        .expect("click request");
    assert_eq!(resp.status(), 201, "click {click_id}");
    let resp = client
        .get(format!(
            "{base}/v1/postback/keitaro?key={POSTBACK_KEY}&subid={click_id}&status=lead"
        ))
        .send()
        .await
        .expect("postback request");
    assert_eq!(resp.status(), 200, "postback {click_id}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "accepted", "{body}");
    body
}

/// [`queue_lead_via`], returning the queued event's id.
pub async fn lead_via(
    client: &reqwest::Client,
    base: &str,
    campaign: &str,
    click_id: &str,
) -> String {
    queue_lead_via(client, base, campaign, click_id).await["events"][0]["event_id"]
        .as_str()
        .expect("event_id")
        .to_owned()
}

/// A conversion a lead postback turned into a queued event.
#[derive(Debug, Clone)]
pub struct Queued {
    pub conversion_id: i64,
    pub event_id: String,
}

impl Queued {
    /// The postback's answer, checked to be `accepted` with an event.
    pub fn from_answer(body: Value) -> Queued {
        assert_eq!(body["status"], "accepted", "{body}");
        Queued {
            conversion_id: body["conversion_id"].as_i64().expect("conversion_id"),
            event_id: body["events"][0]["event_id"]
                .as_str()
                .expect("event_id")
                .to_owned(),
        }
    }
}

/// [`queue_lead_via`] on a test app: click `click_id` on `campaign` and a Keitaro lead for it.
pub async fn queue_lead(app: &TestApp, campaign: &str, click_id: &str) -> Queued {
    Queued::from_answer(queue_lead_via(&app.client, &app.address, campaign, click_id).await)
}

/// A registered click and a Keitaro lead postback for it (with a transaction id); returns
/// the conversion id.
pub async fn lead(app: &TestApp, campaign: &str, click_id: &str) -> i64 {
    let resp = app
        .register_click(json!({"campaign": campaign, "click_id": click_id,
            "em": "Jane.Doe@Example.com", "client_ip_address": "203.0.113.77"}))
        .await;
    assert_eq!(resp.status(), 201);
    let resp = app
        .postback(
            "keitaro",
            &format!("subid={click_id}&status=lead&tid=tx-{click_id}"),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "accepted", "{body}");
    body["conversion_id"].as_i64().unwrap()
}

/// A lead on `key` whose Meta event is parked on the refused token; its conversion id.
pub async fn parked_lead(app: &TestApp, key: &str, click_id: &str) -> i64 {
    let answer = app.click_and_lead(key, click_id, json!({})).await;
    app.deliver().await;
    let class: Option<String> = sqlx::query_scalar(
        "SELECT failure_class FROM events WHERE conversion_id = $1 AND platform = 'meta'",
    )
    .bind(answer["conversion_id"].as_i64().unwrap())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(class.as_deref(), Some("auth"), "parked on the token");
    answer["conversion_id"].as_i64().unwrap()
}
