//! What an outsider controls at the edge: metric labels, X-Forwarded-For, response headers.

use reqwest::Method;

use crate::helpers::*;

async fn scrape(app: &TestApp) -> String {
    let resp = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap()
}

/// Any token is a valid HTTP method: garbage methods and paths must not each mint a new series.
#[tokio::test]
async fn garbage_methods_and_paths_share_bounded_metric_labels() {
    let app = spawn_app().await;
    let baseline = scrape(&app).await.len();

    for n in 0..60 {
        let method = Method::from_bytes(format!("X{n}{}", "Q".repeat(2000)).as_bytes()).unwrap();
        for path in [format!("/junk/{n}"), "/v1/clicks".to_owned()] {
            let resp = app
                .client
                .request(method.clone(), app.url(&path))
                .send()
                .await
                .unwrap();
            assert!(resp.status().is_client_error(), "{}", resp.status());
        }
    }

    let text = scrape(&app).await;
    assert!(!text.contains("QQQQ"), "a raw method is a label");
    assert!(!text.contains("junk"), "a raw path is a label");
    assert!(
        text.contains(r#"route="unmatched",method="other",status="404"} 60"#),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/v1/clicks",method="other""#),
        "{text}"
    );
    assert!(
        text.len() < baseline + 2_000,
        "/metrics grew from {baseline} to {} bytes",
        text.len()
    );
}
