//! `GET /v1/tag.js` and the tag's public campaign configuration, over plain HTTP.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_tag_is_cacheable_javascript_with_a_strong_etag() {
    let app = spawn_app().await;
    let resp = app.client.get(app.url("/v1/tag.js")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let headers = resp.headers().clone();
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(headers["cache-control"], "public, max-age=3600");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "{etag}");
    let body = resp.text().await.unwrap();
    assert_eq!(body, capi_bridge::routes::tag::TAG_JS);
    assert!(
        body.len() < 20 * 1024,
        "the tag grew to {} bytes",
        body.len()
    );

    for validator in [etag.clone(), format!("\"other\", {etag}"), "*".to_owned()] {
        let resp = app
            .client
            .get(app.url("/v1/tag.js"))
            .header("if-none-match", &validator)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 304, "{validator}");
        assert_eq!(resp.headers()["etag"], etag.as_str());
        assert!(resp.text().await.unwrap().is_empty());
    }
    let resp = app
        .client
        .get(app.url("/v1/tag.js"))
        .header("if-none-match", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // HEAD (link checkers, CDNs) answers the same headers without the body.
    let resp = app.client.head(app.url("/v1/tag.js")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["etag"], etag.as_str());
    assert_eq!(
        resp.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert!(resp.text().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_tag_config_is_public_cacheable_and_holds_nothing_secret() {
    let app = spawn_app().await;
    app.create_campaign(
        "offer1",
        json!({"event_id_template": "{campaign}:{event_name}:{click_id}",
               "require_consent": true, "test_event_code": "TEST999"}),
    )
    .await;
    let resp = app
        .client
        .get(app.url("/v1/campaigns/offer1/tag-config"))
        .header("origin", "https://lp.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "https://lp.example.com"
    );
    assert_eq!(resp.headers()["cache-control"], "public, max-age=300");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "campaign": "offer1",
            "event_id_template": "{campaign}:{event_name}:{click_id}",
            "events": ["Lead", "Purchase"],
            "consent_required": true,
            "tiktok": null,
            "calling_code": null,
            "date_order": null,
        })
    );
    let text = body.to_string();
    assert!(
        !text.contains(ACCESS_TOKEN) && !text.contains("TEST999") && !text.contains("1234567890")
    );

    for key in ["nope", "Bad%20Key"] {
        let resp = app
            .client
            .get(app.url(&format!("/v1/campaigns/{key}/tag-config")))
            .send()
            .await
            .unwrap();
        assert_problem(resp, 404, "campaign_not_found").await;
    }
}

async fn tag_config(app: &TestApp, key: &str) -> serde_json::Value {
    let resp = app
        .client
        .get(app.url(&format!("/v1/campaigns/{key}/tag-config")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{key}");
    resp.json().await.unwrap()
}

#[tokio::test]
async fn with_tiktok_the_config_names_its_events_and_each_meta_events_twin() {
    let app = spawn_app().await;
    let tiktok = |map: serde_json::Value| {
        json!({"tiktok": {"pixel_code": "C4TIKTOK0123", "access_token": "tt-secret-token-1",
                          "test_event_code": "TEST777", "event_map": map}})
    };
    // TikTok's default map.
    let mut defaults = tiktok(json!(null));
    defaults["tiktok"]
        .as_object_mut()
        .unwrap()
        .remove("event_map");
    app.create_campaign("both", defaults).await;
    let body = tag_config(&app, "both").await;
    assert_eq!(body["events"], json!(["Lead", "Purchase"]));
    assert_eq!(
        body["tiktok"],
        json!({"events": ["Lead", "Purchase"],
               "from_meta": {"Lead": "Lead", "Purchase": "Purchase"}})
    );
    let text = body.to_string();
    assert!(
        !text.contains("tt-secret-token-1")
            && !text.contains("TEST777")
            && !text.contains("C4TIKTOK")
    );

    // Statuses only one map sends have no twin; a Meta event whose statuses send different
    // TikTok events gets the one named alike, else the first status word's.
    let meta_map = json!({"lead": "Lead", "sale": "Purchase", "rebill": "Purchase",
                          "demo": "Schedule", "reg": "CompleteRegistration",
                          "signup": "CompleteRegistration", "trial": "StartTrial"});
    let mut custom = tiktok(
        json!({"lead": "SubmitForm", "sale": "Purchase", "rebill": "Subscribe",
                                   "demo": null, "reg": "Contact", "signup": "Lead",
                                   "ftd": "CompletePayment"}),
    );
    custom["event_map"] = meta_map;
    app.create_campaign("mixed", custom).await;
    let body = tag_config(&app, "mixed").await;
    assert_eq!(
        body["events"],
        json!([
            "CompleteRegistration",
            "Lead",
            "Purchase",
            "Schedule",
            "StartTrial"
        ])
    );
    assert_eq!(
        body["tiktok"],
        json!({"events": ["CompletePayment", "Contact", "Lead", "Purchase", "SubmitForm", "Subscribe"],
               "from_meta": {"Lead": "SubmitForm", "Purchase": "Purchase",
                             "CompleteRegistration": "Contact"}})
    );
}

#[tokio::test]
async fn a_tiktok_only_campaign_has_no_meta_events_and_no_twins() {
    let app = spawn_app().await;
    app.create_campaign(
        "ttonly",
        json!({"pixel_id": null, "access_token": null,
               "tiktok": {"pixel_code": "C4TIKTOK0123", "access_token": "tt-secret-token-1"}}),
    )
    .await;
    assert_eq!(
        tag_config(&app, "ttonly").await,
        json!({
            "campaign": "ttonly",
            "event_id_template": "{event_name}-{click_id}",
            "events": [],
            "consent_required": false,
            "tiktok": {"events": ["Lead", "Purchase"], "from_meta": {}},
            "calling_code": null,
            "date_order": null,
        })
    );
}

#[test]
fn the_readme_states_the_tags_size() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let kb = capi_bridge::routes::tag::TAG_JS.len() as f64 / 1000.0;
    let stated = format!("The tag ({kb:.1} KB, ");
    assert!(
        readme.contains(&stated),
        "README must say {stated:?}: update its size (and the gzipped one) in README.md and \
         docs/landing.md"
    );
}
