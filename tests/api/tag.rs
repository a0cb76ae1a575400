//! `GET /v1/tag.js` and the tag's public campaign configuration, over plain HTTP.

use reqwest::Response;
use serde_json::json;

use crate::helpers::*;

async fn get_tag(app: &TestApp, accept_encoding: Option<&str>, etag: Option<&str>) -> Response {
    let mut req = app.client.get(app.url("/v1/tag.js"));
    if let Some(coding) = accept_encoding {
        req = req.header("accept-encoding", coding);
    }
    if let Some(etag) = etag {
        req = req.header("if-none-match", etag);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn the_tag_is_cacheable_javascript_with_a_strong_etag() {
    let app = spawn_app().await;
    // No Accept-Encoding: the tag as is.
    let resp = get_tag(&app, None, None).await;
    assert_eq!(resp.status(), 200);
    let headers = resp.headers().clone();
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(headers["cache-control"], "public, max-age=3600");
    assert_eq!(headers["vary"], "Accept-Encoding");
    assert!(headers.get("content-encoding").is_none());
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "{etag}");
    let body = resp.text().await.unwrap();
    assert_eq!(body, capi_bridge::routes::tag::tag_js());

    for validator in [etag.clone(), format!("\"other\", {etag}"), "*".to_owned()] {
        let resp = get_tag(&app, None, Some(&validator)).await;
        assert_eq!(resp.status(), 304, "{validator}");
        assert_eq!(resp.headers()["etag"], etag.as_str());
        assert_eq!(resp.headers()["vary"], "Accept-Encoding");
        assert!(resp.text().await.unwrap().is_empty());
    }
    let resp = get_tag(&app, None, Some("\"stale\"")).await;
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
async fn a_client_that_accepts_gzip_gets_the_tag_gzipped_within_its_budget() {
    let app = spawn_app().await;
    // What Chromium sends.
    let resp = get_tag(&app, Some("gzip, deflate, br, zstd"), None).await;
    assert_eq!(resp.status(), 200);
    let headers = resp.headers().clone();
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(headers["cache-control"], "public, max-age=3600");
    assert_eq!(headers["vary"], "Accept-Encoding");
    // Its own strong validator: a strong ETag names one representation.
    let gz_etag = headers["etag"].to_str().unwrap().to_owned();
    let plain_etag = get_tag(&app, None, None).await.headers()["etag"].clone();
    assert!(
        gz_etag.starts_with('"') && gz_etag != plain_etag,
        "{gz_etag}"
    );
    let wire = resp.bytes().await.unwrap();
    assert_eq!(&wire[..], capi_bridge::routes::tag::tag_js_gzip());
    let mut unzipped = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&wire[..]), &mut unzipped)
        .unwrap();
    assert_eq!(unzipped, capi_bridge::routes::tag::tag_js());
    assert!(
        wire.len() <= capi_bridge::routes::tag::TAG_GZIP_BUDGET,
        "the tag is {} bytes gzipped, over its budget of {}",
        wire.len(),
        capi_bridge::routes::tag::TAG_GZIP_BUDGET
    );

    let resp = get_tag(&app, Some("gzip"), Some(&gz_etag)).await;
    assert_eq!(resp.status(), 304);
    assert_eq!(resp.headers()["etag"], gz_etag.as_str());
    assert_eq!(resp.headers()["vary"], "Accept-Encoding");
    // A client that refuses gzip gets the plain bytes, whatever else it names.
    for refused in ["gzip;q=0, br", "identity", "br"] {
        let resp = get_tag(&app, Some(refused), None).await;
        assert!(
            resp.headers().get("content-encoding").is_none(),
            "{refused}"
        );
        assert_eq!(
            resp.text().await.unwrap(),
            capi_bridge::routes::tag::tag_js()
        );
    }
}

/// tests/vectors/tag_cookies.json: the tag's cookie rules (src/tag/cookies.js, tested by
/// `node --test tests/tag/`), checked here where the bridge applies the same rule.
#[test]
fn the_bridge_takes_the_cookies_the_tag_keeps_and_refuses_those_it_replaces() {
    use capi_bridge::domain::CookieValue;
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/tag_cookies.json"
    ))
    .unwrap();
    let vectors: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut shared = 0;
    for row in vectors["cookies"].as_array().unwrap() {
        if row.get("tag_only").is_some() {
            continue;
        }
        let value = row["value"].as_str().unwrap();
        let valid = row["valid"].as_bool().unwrap();
        assert_eq!(
            CookieValue::parse_cookie(value).is_ok(),
            valid,
            "{value:?}: {}",
            row["why"]
        );
        shared += 1;
    }
    assert!(shared >= 15, "only {shared} shared rows");
    // What the tag writes: the bridge takes the cookie and the fbclid the click sends.
    for row in vectors["meta_cookie"].as_array().unwrap() {
        let cookie = row["cookie"].as_str().unwrap();
        assert!(CookieValue::parse_cookie(cookie).is_ok(), "{cookie}");
    }
    for row in vectors["fbclid"].as_array().unwrap() {
        let payload = row["payload"].as_str().unwrap();
        if !payload.is_empty() {
            assert!(
                CookieValue::parse_fbclid(payload).is_ok(),
                "{payload:?}: {}",
                row["why"]
            );
        }
    }
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
    let body = app.tag_config("both").await;
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
    let body = app.tag_config("mixed").await;
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
        app.tag_config("ttonly").await,
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
    let kb = capi_bridge::routes::tag::tag_js().len() as f64 / 1000.0;
    let gz = capi_bridge::routes::tag::tag_js_gzip().len() as f64 / 1000.0;
    let stated = format!("The tag ({kb:.1} KB, {gz:.1} KB gzipped;");
    assert!(
        readme.contains(&stated),
        "README must say {stated:?}: update its size (and the gzipped one) in README.md and \
         docs/landing.md"
    );
}
