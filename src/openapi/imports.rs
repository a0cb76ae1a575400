//! The import upload's request body: the multipart form (its answers are documented on the
//! handlers, `routes::admin::imports`).

use utoipa::ToSchema;

/// The multipart form: the file in the part named `file`; an `action_source` part before it
/// sets the default for rows without a registered click.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ImportUpload {
    #[schema(example = "phone_call")]
    action_source: Option<String>,
    #[schema(format = Binary, content_media_type = "text/csv")]
    file: String,
}
