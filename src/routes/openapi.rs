//! `GET /openapi.json`: the document of the routes as registered (`super::api`), on the base
//! of `crate::openapi::ApiDoc` (title, security schemes, tags, the common schemas).

use std::sync::LazyLock;

use actix_web::{App, HttpResponse};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

/// The document of every route `super::api` registers.
pub fn registered() -> utoipa::openapi::OpenApi {
    let (_, registered) = App::new()
        .into_utoipa_app()
        .configure(super::api)
        .split_for_parts();
    let mut doc = crate::openapi::ApiDoc::openapi();
    doc.merge(registered);
    doc
}

/// Rendered once: the document does not change while the process runs.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    registered()
        .to_json()
        .expect("the OpenAPI document serialises")
});

/// Public: it holds no secrets.
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
