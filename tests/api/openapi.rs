//! `GET /openapi.json`: the OpenAPI 3.1 document, public, listing every `/v1` and `/admin/v1`
//! route the server answers.

use serde_json::Value;

use crate::helpers::*;

/// Every operation the server routes, as (path, method).
const OPERATIONS: &[(&str, &str)] = &[
    ("/v1/clicks", "post"),
    ("/v1/clicks", "get"),
    ("/v1/tag.js", "get"),
    ("/v1/campaigns/{key}/tag-config", "get"),
    ("/v1/postback/{tracker}", "get"),
    ("/v1/postback/{tracker}", "post"),
    ("/admin/v1/campaigns", "post"),
    ("/admin/v1/campaigns", "get"),
    ("/admin/v1/campaigns/{key}", "get"),
    ("/admin/v1/campaigns/{key}", "patch"),
    ("/admin/v1/campaigns/{key}", "delete"),
    ("/admin/v1/campaigns/{key}/retry-failed", "post"),
    ("/admin/v1/campaigns/{key}/quality", "get"),
    ("/admin/v1/campaigns/{key}/test-event", "post"),
    ("/admin/v1/campaigns/{key}/meta-quality", "get"),
    ("/admin/v1/campaigns/{key}/meta-quality/refresh", "post"),
    ("/admin/v1/clicks/{click_id}", "get"),
    ("/admin/v1/clicks/{click_id}", "delete"),
    ("/admin/v1/conversions", "get"),
    ("/admin/v1/conversions.csv", "get"),
    ("/admin/v1/refused-postbacks", "get"),
    ("/admin/v1/conversions/{id}", "get"),
    ("/admin/v1/conversions/{id}/retry", "post"),
    ("/admin/v1/imports", "post"),
    ("/admin/v1/imports/{id}", "get"),
    ("/admin/v1/imports/{id}/bad-lines.csv", "get"),
];

#[tokio::test]
async fn openapi_document_is_public_and_lists_every_route() {
    let app = spawn_app().await;
    let resp = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let text = resp.text().await.unwrap();
    for secret in [ADMIN_TOKEN, POSTBACK_KEY, METRICS_TOKEN] {
        assert!(!text.contains(secret), "the document holds a secret");
    }
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );

    let paths = doc["paths"].as_object().unwrap();
    let mut documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(p, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (p.clone(), m.clone()))
        })
        .collect();
    documented.sort();
    let mut routed: Vec<(String, String)> = OPERATIONS
        .iter()
        .map(|(p, m)| (p.to_string(), m.to_string()))
        .collect();
    routed.sort();
    assert_eq!(documented, routed);

    // Each documented operation exists: a request to it is never the 404 of an unknown route.
    for (path, method) in OPERATIONS {
        let concrete = path
            .replace("{tracker}", "keitaro")
            .replace("{key}", "nope")
            .replace("{click_id}", "nope")
            .replace("{id}", "1");
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let resp = app
            .client
            .request(method.clone(), app.url(&concrete))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        if resp.status() == 404 {
            let body: Value = resp.json().await.unwrap();
            assert_ne!(body["code"], "route_not_found", "{method} {concrete}");
        }
    }

    // Admin operations need the admin token; postbacks the postback key.
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    assert_eq!(schemes["admin_token"]["scheme"], "bearer");
    assert_eq!(schemes["postback_key"]["in"], "query");
    assert_eq!(schemes["postback_key"]["name"], "key");
    let campaigns = &doc["paths"]["/admin/v1/campaigns"]["get"];
    assert!(
        campaigns["security"][0]["admin_token"].is_array(),
        "{campaigns}"
    );
    // Problems are documented with their codes.
    let unauthorized = &campaigns["responses"]["401"];
    assert!(unauthorized["description"]
        .as_str()
        .unwrap()
        .contains("unauthorized"));
    assert!(unauthorized["content"]["application/problem+json"].is_object());
}
