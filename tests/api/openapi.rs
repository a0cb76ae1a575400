//! `GET /openapi.json`: the OpenAPI 3.1 document, public, generated from the routes as the server
//! registers them; the answers hold no field it does not document.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

/// Every (path, method) of the document.
fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "parameters")
                .map(move |m| (p.clone(), m.clone()))
        })
        .collect();
    all.sort();
    all
}

#[tokio::test]
async fn openapi_document_is_public_and_is_the_registered_routes() {
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

    // The served document is the one the app's own route registration produces.
    let registered = serde_json::to_value(capi_bridge::routes::registered()).unwrap();
    assert_eq!(operations(&doc), operations(&registered));
    assert_eq!(doc, registered);

    // Each documented operation is routed: never the 404 of an unknown route, nor a 405.
    let operations = operations(&doc);
    assert!(operations.len() >= 26, "{operations:?}");
    for (path, method) in &operations {
        let concrete = path
            .replace("{tracker}", "keitaro")
            .replace("{key}", "nope")
            .replace("{click_id}", "nope")
            .replace("{id}", "1");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let resp = app
            .client
            .request(method.clone(), app.url(&concrete))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_ne!(resp.status(), 405, "{method} {concrete}");
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
    let click = &doc["paths"]["/admin/v1/clicks/{click_id}"]["get"];
    assert!(click["security"][0]["admin_token"].is_array(), "{click}");
    // Problems are documented with their codes, from the family's enum.
    let unauthorized = &click["responses"]["401"];
    assert!(unauthorized["description"]
        .as_str()
        .unwrap()
        .contains("unauthorized"));
    assert!(unauthorized["content"]["application/problem+json"].is_object());
    for (status, code) in [
        ("400", "unknown_parameter"),
        ("404", "click_not_found"),
        ("409", "ambiguous_click"),
    ] {
        let listed = click["responses"][status]["description"].as_str().unwrap();
        assert!(listed.contains(&format!("`{code}`")), "{status}: {listed}");
    }
}

/// The schema `$ref` points to, else the schema itself.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.strip_prefix("#/components/schemas/").unwrap();
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// Where `value` holds a field `schema` does not document, or lacks a required one.
fn undocumented(doc: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let schema = resolve(doc, schema);
    // `allOf` (a flattened struct): one object, the union of the parts' fields.
    if let Some(parts) = schema["allOf"].as_array() {
        let mut merged = json!({"properties": {}, "required": []});
        for part in parts.iter().map(|p| resolve(doc, p)) {
            for (k, v) in part["properties"].as_object().into_iter().flatten() {
                merged["properties"][k] = v.clone();
            }
            for r in part["required"].as_array().into_iter().flatten() {
                merged["required"].as_array_mut().unwrap().push(r.clone());
            }
        }
        return undocumented(doc, &merged, value, at);
    }
    for alternatives in ["oneOf", "anyOf"] {
        if let Some(all) = schema[alternatives].as_array() {
            let tries: Vec<Vec<String>> = all
                .iter()
                .map(|s| undocumented(doc, s, value, at))
                .collect();
            return match tries.iter().find(|t| t.is_empty()) {
                Some(_) => Vec::new(),
                None => tries.concat(),
            };
        }
    }
    let mut found = Vec::new();
    match value {
        Value::Object(fields) => {
            if let Some(properties) = schema["properties"].as_object() {
                for (name, v) in fields {
                    match properties.get(name) {
                        Some(s) => found.extend(undocumented(doc, s, v, &format!("{at}.{name}"))),
                        None => found.push(format!("{at}.{name} is not documented")),
                    }
                }
                for name in schema["required"].as_array().into_iter().flatten() {
                    if !fields.contains_key(name.as_str().unwrap()) {
                        found.push(format!("{at}.{name} is required but absent"));
                    }
                }
            } else if schema["additionalProperties"].is_object() {
                for (name, v) in fields {
                    let s = &schema["additionalProperties"];
                    found.extend(undocumented(doc, s, v, &format!("{at}[{name}]")));
                }
            }
        }
        Value::Array(items) if schema["items"].is_object() => {
            for (i, v) in items.iter().enumerate() {
                found.extend(undocumented(
                    doc,
                    &schema["items"],
                    v,
                    &format!("{at}[{i}]"),
                ));
            }
        }
        _ => {}
    }
    found
}

/// Checks an answer against the document's schema of its operation and status.
async fn assert_documented(doc: &Value, path: &str, method: &str, resp: reqwest::Response) {
    let status = resp.status().as_u16().to_string();
    let body: Value = resp.json().await.unwrap();
    let response = &doc["paths"][path][method]["responses"][&status];
    let content = response["content"].as_object().expect(&status);
    let schema = &content
        .values()
        .next()
        .unwrap_or_else(|| panic!("{method} {path} {status}: no schema"))["schema"];
    let found = undocumented(doc, schema, &body, "$");
    assert!(
        found.is_empty(),
        "{method} {path} {status}: {found:?}\n{body}"
    );
    // Closed answers say so, so schemathesis refuses an undocumented field too.
    let closed = resolve(doc, schema);
    if closed["properties"].is_object() {
        assert_eq!(closed["additionalProperties"], false, "{method} {path}");
    }
}

#[tokio::test]
async fn the_click_routes_answer_only_documented_fields() {
    let app = spawn_app().await;
    let doc = app.admin_get("/openapi.json").await;
    app.create_campaign("offer1", json!({})).await;
    let resp = app
        .register_click(
            json!({"campaign": "offer1", "click_id": "c1", "fbclid": "IwAR0abc",
            "em": "john@example.com", "event_ids": {"Lead": "lead-c1"},
            "pixel_fired_at": {"Lead": chrono::Utc::now().timestamp_millis()},
            "event_source_url": "https://lp.example.com/?x=1", "ge": "zz"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    assert_documented(&doc, "/v1/clicks", "post", resp).await;
    let url = app.url("/v1/campaigns/offer1/tag-config");
    let resp = app.client.get(url).send().await.unwrap();
    assert_documented(&doc, "/v1/campaigns/{key}/tag-config", "get", resp).await;
    let path = "/admin/v1/clicks/{click_id}";
    let resp = app.admin(Method::GET, "/admin/v1/clicks/c1", None).await;
    assert_eq!(resp.status(), 200);
    assert_documented(&doc, path, "get", resp).await;
    let resp = app.admin(Method::DELETE, "/admin/v1/clicks/c1", None).await;
    assert_eq!(resp.status(), 200);
    assert_documented(&doc, path, "delete", resp).await;
}

#[tokio::test]
async fn campaign_postback_and_quality_answers_hold_only_documented_fields() {
    let app = spawn_app().await;
    let doc = app.admin_get("/openapi.json").await;
    let resp = app
        .admin(
            Method::POST,
            "/admin/v1/campaigns",
            Some(json!({"key": "offer1", "pixel_id": "1234567890",
                "access_token": "EAAschemathesis0123", "landing_url": "https://lp.example.com/",
                "tiktok": {"pixel_code": "C4ABCDEF0123456789",
                    "access_token": "tt-example-0123456789"}})),
        )
        .await;
    assert_eq!(resp.status(), 201);
    assert_documented(&doc, "/admin/v1/campaigns", "post", resp).await;
    let resp = app.admin(Method::GET, "/admin/v1/campaigns", None).await;
    assert_documented(&doc, "/admin/v1/campaigns", "get", resp).await;
    let resp = app
        .admin(Method::GET, "/admin/v1/campaigns/offer1", None)
        .await;
    assert_documented(&doc, "/admin/v1/campaigns/{key}", "get", resp).await;

    // Each kind of postback answer: accepted (events), unmatched, duplicate, skipped (reason).
    let click = json!({"campaign": "offer1", "click_id": "c1", "fbclid": "IwAR0abc"});
    assert_eq!(app.register_click(click).await.status(), 201);
    let path = "/v1/postback/{tracker}";
    for (query, status) in [
        ("click_id=c1&status=lead&txid=t1&ge=zz", 200),
        ("click_id=c1&status=lead&txid=t1", 200),
        ("click_id=c1&status=rejected&txid=t2", 200),
        ("click_id=nobody&status=lead&txid=t3", 202),
    ] {
        let resp = app.postback("generic", query).await;
        assert_eq!(resp.status(), status, "{query}");
        assert_documented(&doc, path, "get", resp).await;
    }

    let resp = app
        .admin(Method::GET, "/admin/v1/campaigns/offer1/quality", None)
        .await;
    assert_documented(&doc, "/admin/v1/campaigns/{key}/quality", "get", resp).await;
}

#[tokio::test]
async fn test_event_and_meta_quality_answers_hold_only_documented_fields() {
    let app = spawn_app().await;
    mount_graph_ok(&app.graph).await;
    let doc = app.admin_get("/openapi.json").await;
    app.create_campaign("offer1", json!({"test_event_code": "TEST123"}))
        .await;
    let path = "/admin/v1/campaigns/{key}/test-event";
    let resp = app
        .admin(
            Method::POST,
            "/admin/v1/campaigns/offer1/test-event",
            Some(json!({"event_name": "Lead"})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_documented(&doc, path, "post", resp).await;

    let path = "/admin/v1/campaigns/{key}/meta-quality";
    let resp = app
        .admin(Method::GET, "/admin/v1/campaigns/offer1/meta-quality", None)
        .await;
    assert_eq!(resp.status(), 200);
    assert_documented(&doc, path, "get", resp).await;
    let resp = app
        .admin(
            Method::POST,
            "/admin/v1/campaigns/offer1/meta-quality/refresh",
            None,
        )
        .await;
    assert_eq!(resp.status(), 202);
    assert_documented(&doc, &format!("{path}/refresh"), "post", resp).await;
}

#[tokio::test]
async fn import_answers_hold_only_documented_fields() {
    let app = spawn_app().await;
    let doc = app.admin_get("/openapi.json").await;
    app.create_campaign("offer1", json!({})).await;
    let resp = app
        .client
        .post(app.url("/admin/v1/imports"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/csv")
        .body("click_id,status,payout,campaign\nc1,sale,12.5,offer1\nc2,sale,abc,offer1\n")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let body: Value = resp.json().await.unwrap();
    let found = undocumented(
        &doc,
        &doc["paths"]["/admin/v1/imports"]["post"]["responses"]["202"]["content"]
            ["application/json"]["schema"],
        &body,
        "$",
    );
    assert!(found.is_empty(), "{found:?}");
    let id = body["id"].as_i64().unwrap();
    let url = format!("/admin/v1/imports/{id}");
    wait_for("the import", std::time::Duration::from_secs(10), || {
        let app = &app;
        let url = url.clone();
        async move {
            let import = app.admin_get(&url).await;
            match import["state"] != "running" {
                true => Ok(()),
                false => Err(import.to_string()),
            }
        }
    })
    .await;
    let resp = app.admin(Method::GET, &url, None).await;
    assert_documented(&doc, "/admin/v1/imports/{id}", "get", resp).await;
}

#[tokio::test]
async fn conversion_answers_hold_only_documented_fields() {
    let app = spawn_app().await;
    let doc = app.admin_get("/openapi.json").await;
    app.create_campaign("offer1", json!({})).await;
    app.click_and_lead("offer1", "c1", json!({"fbclid": "IwAR0abc"}))
        .await;
    let resp = app.postback("generic", "click_id=nobody&status=lead").await;
    assert_eq!(resp.status(), 202);
    let resp = app.postback("nope", "click_id=c1").await;
    assert_eq!(resp.status(), 404);
    let resp = app.postback("generic", "status=lead").await;
    assert_eq!(resp.status(), 400);

    let resp = app.admin(Method::GET, "/admin/v1/conversions", None).await;
    assert_eq!(resp.status(), 200);
    let page: Value = resp.json().await.unwrap();
    let id = page["conversions"][0]["id"].as_i64().unwrap();
    let schema = &doc["paths"]["/admin/v1/conversions"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"];
    let found = undocumented(&doc, schema, &page, "$");
    assert!(found.is_empty(), "{found:?}");
    let resp = app
        .admin(Method::GET, &format!("/admin/v1/conversions/{id}"), None)
        .await;
    assert_eq!(resp.status(), 200);
    let path = "/admin/v1/conversions/{id}";
    assert_documented(&doc, path, "get", resp).await;
    let resp = app
        .admin(Method::GET, "/admin/v1/refused-postbacks", None)
        .await;
    assert_documented(&doc, "/admin/v1/refused-postbacks", "get", resp).await;
    let resp = app
        .admin(
            Method::POST,
            "/admin/v1/campaigns/offer1/retry-failed",
            None,
        )
        .await;
    assert_documented(&doc, "/admin/v1/campaigns/{key}/retry-failed", "post", resp).await;
}
