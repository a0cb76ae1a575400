//! The requests a test sends as an admin, a tracker, a landing page or Prometheus, and one
//! delivery pass.

use capi_bridge::delivery::TickReport;
use reqwest::header::CONTENT_TYPE;
use serde_json::{json, Value};

use super::{
    TestApp, ACCESS_TOKEN, ADMIN_TOKEN, BROWSER_UA, LANDING_URL, METRICS_TOKEN, POSTBACK_KEY,
};

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(ADMIN_TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("admin request")
    }

    pub async fn admin_get(&self, path: &str) -> Value {
        let resp = self.admin(reqwest::Method::GET, path, None).await;
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.unwrap()
    }

    /// `PATCH /admin/v1/campaigns/{key}` with `body`: the answer, whatever its status.
    pub async fn patch_campaign(&self, key: &str, body: Value) -> reqwest::Response {
        let path = format!("/admin/v1/campaigns/{key}");
        self.admin(reqwest::Method::PATCH, &path, Some(body)).await
    }

    /// [`Self::patch_campaign`] that must succeed: the campaign as it now reads.
    pub async fn patch_campaign_ok(&self, key: &str, body: Value) -> Value {
        let resp = self.patch_campaign(key, body).await;
        assert_eq!(resp.status(), 200, "PATCH {key}");
        resp.json().await.unwrap()
    }

    /// `GET /v1/campaigns/{key}/tag-config`, which must answer 200: the config the tag reads.
    pub async fn tag_config(&self, key: &str) -> Value {
        let url = self.url(&format!("/v1/campaigns/{key}/tag-config"));
        let resp = self.client.get(url).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{key}");
        resp.json().await.unwrap()
    }

    /// Registers a click on `campaign` with the fields of `click` and sends a generic lead
    /// postback for it (txid `tx-<click id>`); the postback's answer.
    pub async fn click_and_lead(&self, campaign: &str, click_id: &str, click: Value) -> Value {
        let mut body = json!({"campaign": campaign, "click_id": click_id});
        for (k, v) in click.as_object().cloned().unwrap_or_default() {
            body[k] = v;
        }
        let resp = self.register_click(body).await;
        assert_eq!(resp.status(), 201, "click {click_id}");
        let query = format!("click_id={click_id}&status=lead&txid=tx-{click_id}");
        let resp = self.postback("generic", &query).await;
        assert_eq!(resp.status(), 200, "postback {click_id}");
        resp.json().await.unwrap()
    }

    /// Creates a campaign `key` on pixel 1234567890 with the landing page [`LANDING_URL`], as the
    /// README's set-up asks; `extra` fields override the defaults.
    pub async fn create_campaign(&self, key: &str, extra: Value) -> Value {
        let mut body = json!({
            "key": key,
            "name": format!("Campaign {key}"),
            "pixel_id": "1234567890",
            "access_token": ACCESS_TOKEN,
            "landing_url": LANDING_URL,
        });
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            body[k] = v;
        }
        let resp = self
            .admin(reqwest::Method::POST, "/admin/v1/campaigns", Some(body))
            .await;
        assert_eq!(resp.status(), 201, "create campaign {key}");
        resp.json().await.unwrap()
    }

    /// POSTs a click as JSON with a browser User-Agent, as a server-side caller (with the
    /// postback key), which may set `client_ip_address` and `client_user_agent`.
    pub async fn register_click(&self, body: Value) -> reqwest::Response {
        self.client
            .post(self.url("/v1/clicks"))
            .header("user-agent", BROWSER_UA)
            .header("x-postback-key", POSTBACK_KEY)
            .json(&body)
            .send()
            .await
            .expect("click request")
    }

    /// POSTs a click as JSON the way a landing page does: from the browser, without the key.
    pub async fn register_click_public(&self, body: Value) -> reqwest::Response {
        self.client
            .post(self.url("/v1/clicks"))
            .header("user-agent", BROWSER_UA)
            .json(&body)
            .send()
            .await
            .expect("click request")
    }

    /// POSTs a click as the landing tag does: from the browser, with the click's update token.
    pub async fn register_click_with_token(&self, body: Value, token: &str) -> reqwest::Response {
        let mut body = body;
        body["update_token"] = Value::String(token.to_owned());
        self.register_click_public(body).await
    }

    /// POSTs a click from a browser at `forwarded_for`, as a trusted proxy (the app must run
    /// with `--trusted-proxies 127.0.0.1/32`) passes it on.
    pub async fn register_click_from(&self, forwarded_for: &str, body: Value) -> reqwest::Response {
        self.client
            .post(self.url("/v1/clicks"))
            .header("user-agent", BROWSER_UA)
            .header("x-forwarded-for", forwarded_for)
            .json(&body)
            .send()
            .await
            .expect("click request")
    }

    /// GET /v1/postback/{tracker}?key=...&{query}
    pub async fn postback(&self, tracker: &str, query: &str) -> reqwest::Response {
        self.client
            .get(format!(
                "{}/v1/postback/{tracker}?key={POSTBACK_KEY}&{query}",
                self.address
            ))
            .send()
            .await
            .expect("postback request")
    }

    /// GET /metrics with the metrics token: 200, OpenMetrics text.
    pub async fn scrape_metrics(&self) -> String {
        let resp = self
            .client
            .get(self.url("/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()[CONTENT_TYPE],
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
        resp.text().await.unwrap()
    }

    pub async fn deliver(&self) -> TickReport {
        self.worker.tick().await.expect("delivery pass")
    }
}

/// `s` percent-encoded for a query string or a form (RFC 3986's unreserved characters kept).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
