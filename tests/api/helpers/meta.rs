//! The fake Graph API's answers that tests set up again and again.

use wiremock::matchers::method;
use wiremock::Mock;

use super::{graph_error, TestApp};

/// Meta refuses every request from now on: the access token has expired (code 190, 463).
pub async fn refuses_the_token(app: &TestApp) {
    app.graph.reset().await;
    Mock::given(method("POST"))
        .respond_with(graph_error(
            400,
            190,
            Some(463),
            false,
            "The access token has expired.",
        ))
        .mount(&app.graph)
        .await;
}
