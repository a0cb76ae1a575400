//! The campaign page's "Meta's view" card, over HTTP against the real server and database: the
//! figures Meta gave per event in its EMQ bands, the advice, and a failed fetch's message.

use serde_json::json;

use crate::helpers::dataset_quality::{full_event, FakeQuality, TokenAccess};
use crate::helpers::quality::{fetcher, PIXEL, SIX_HOURS};
use crate::helpers::ui::{csrf_of, post_form};
use crate::helpers::ui::{get_page, sign_in};
use crate::helpers::{spawn_app, ACCESS_TOKEN};

#[tokio::test]
async fn the_campaign_page_shows_metas_view_in_its_bands_with_advice_and_failures() {
    let app = spawn_app().await;
    let fake = FakeQuality::mount(&app.graph, "v26.0").await;
    fake.pixel(
        PIXEL,
        json!([
            full_event("Lead", 7.2, 40.0),
            full_event("Purchase", 5.1, 10.0)
        ]),
    )
    .token(ACCESS_TOKEN, TokenAccess::Reads);
    app.create_campaign("good", json!({})).await;
    app.create_campaign_with_tiktok("tt", json!({"pixel_id": null, "access_token": null}))
        .await;
    let cookie = sign_in(&app).await;
    let page = |path: &'static str| {
        let (app, cookie) = (&app, &cookie);
        async move { get_page(app, path, cookie).await.text().await.unwrap() }
    };
    assert!(page("/ui/campaigns/good")
        .await
        .contains("Not fetched from Meta yet"));
    assert!(!page("/ui/campaigns/tt").await.contains(r#"id="meta-view""#));

    let f = fetcher(&app, SIX_HOURS);
    f.round().await.unwrap();
    let html = page("/ui/campaigns/good").await;
    assert!(html.contains(r#"id="meta-view""#), "{html}");
    assert!(html.contains(r#"class="num emq-good">7.2/10"#), "{html}");
    assert!(html.contains(r#"class="num emq-low">5.1/10"#), "{html}");
    assert!(html.contains("fbclid_dropped"), "{html}");
    assert!(html.contains("Server sending mismatched IP addresses"));
    assert!(html.contains(": scored"));

    // The refresh button asks for a fetch at the next round (a signed form with its CSRF token).
    fake.revoke(ACCESS_TOKEN);
    let path = "/ui/campaigns/good/meta-quality/refresh";
    let resp = post_form(&app, path, &cookie, &[("csrf", &csrf_of(&html))]).await;
    assert_eq!(resp.status(), 303);
    let resp = post_form(&app, path, &cookie, &[("csrf", "forged")]).await;
    assert_ne!(
        resp.status(),
        303,
        "a form without the session's token is refused"
    );
    assert_eq!(f.round().await.unwrap().fetched.len(), 1);
    let html = page("/ui/campaigns/good").await;
    assert!(html.contains("token_invalid"), "{html}");
    assert!(html.contains("Generate a new token"), "{html}");
    assert!(!html.contains(ACCESS_TOKEN));
    // The figures fetched before stay on the card.
    assert!(html.contains("7.2/10"));
}
