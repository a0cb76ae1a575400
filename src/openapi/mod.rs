//! The base of the OpenAPI 3.1 document of `/v1` and `/admin/v1` (served at `GET /openapi.json`
//! by `crate::routes`, which adds the operations it registers), with the operations not yet
//! documented on their handlers.

pub mod campaigns;
pub mod imports;
pub mod problems;
pub mod route;
pub mod schemas;

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
