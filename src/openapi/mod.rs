//! The OpenAPI 3.1 document of `/v1` and `/admin/v1`, served at `GET /openapi.json`.

mod campaigns;
mod imports;
mod meta_quality;
mod paths;
mod schemas;

use std::sync::LazyLock;

use actix_web::HttpResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "capi-bridge",
        description = "Affiliate tracker postbacks to Meta's Conversions API. Errors are RFC \
                       9457 problems with a stable `code` and the `request_id` that the \
                       `X-Request-Id` header and the logs carry."
    ),
    paths(
        paths::register_click_post,
        paths::register_click_get,
        paths::tag_script,
        paths::tag_config,
        paths::postback_get,
        paths::postback_post,
        paths::campaign_create,
        paths::campaign_list,
        paths::campaign_get,
        paths::campaign_patch,
        paths::campaign_delete,
        paths::campaign_retry_failed,
        paths::campaign_quality,
        paths::campaign_test_event,
        meta_quality::campaign_meta_quality,
        meta_quality::campaign_meta_quality_refresh,
        paths::click_get,
        paths::click_erase,
        paths::conversion_list,
        paths::conversion_csv,
        paths::refused_list,
        paths::conversion_get,
        paths::conversion_retry,
        imports::import_create,
        imports::import_get,
        imports::import_bad_lines,
    ),
    components(schemas(schemas::Problem, schemas::TrackerName)),
    modifiers(&Security),
    tags(
        (name = "public", description = "Landing pages and trackers"),
        (name = "admin", description = "Authorization: Bearer ADMIN_TOKEN"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "postback_key",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new("key"))),
        );
        components.add_security_scheme(
            "postback_key_header",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Postback-Key"))),
        );
    }
}

/// Rendered once: the document does not change while the process runs.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_json()
        .expect("the OpenAPI document serialises")
});

/// `GET /openapi.json`: public, it holds no secrets.
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT.as_str())
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    /// utoipa adds the schemas of bodies by itself but not those of parameters.
    #[test]
    fn every_reference_resolves() {
        let doc: Value = serde_json::from_str(&super::DOCUMENT).unwrap();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty());
        for r in found {
            let name = r.strip_prefix("#/components/schemas/").expect(r);
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{r} is not in the document"
            );
        }
    }
}
