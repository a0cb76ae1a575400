//! The health banners (issue 22, item 1): a campaign in trouble gets a red banner on the
//! overview, the campaigns list and its own page, naming the platform, since when, how much
//! waits and the fix; the list's numbers count a conversion sent to two platforms once.

use capi_bridge::secrets::{parse_key, Keys, TokenCipher};
use serde_json::json;
use wiremock::matchers::{method, path_regex};
use wiremock::Mock;

use crate::helpers::ui::{get_page, sign_in};
use crate::helpers::*;

const REFUSED_PIXEL: &str = "2222222222";
/// A key the test server does not have: tokens sealed under it cannot be opened.
const OTHER_KEY: &str = "9b1f0c7e2d4a68b35c0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e";

/// The three pages that show every campaign's banners, or one's.
fn pages(key: &str) -> [String; 3] {
    [
        "/ui/".to_owned(),
        "/ui/campaigns".to_owned(),
        format!("/ui/campaigns/{key}"),
    ]
}

async fn page(app: &TestApp, cookie: &str, path: &str) -> String {
    let resp = get_page(app, path, cookie).await;
    assert_eq!(resp.status(), 200, "{path}");
    resp.text().await.unwrap()
}

/// A registered click and its postback (`query` after the click id), accepted.
async fn convert(app: &TestApp, campaign: &str, click_id: &str, query: &str) {
    let r = app
        .register_click(json!({"campaign": campaign, "click_id": click_id}))
        .await;
    assert_eq!(r.status(), 201, "click {click_id}");
    let r = app
        .postback("keitaro", &format!("subid={click_id}&{query}"))
        .await;
    assert_eq!(r.status(), 200, "postback {click_id}");
}

#[tokio::test]
async fn a_refused_meta_token_shows_on_all_three_pages_until_the_token_changes() {
    let app = spawn_app().await;
    app.graph.reset().await;
    Mock::given(method("POST"))
        .and(path_regex(format!("/{REFUSED_PIXEL}/events$")))
        .respond_with(graph_error(
            400,
            190,
            Some(463),
            false,
            "Session has expired",
        ))
        .mount(&app.graph)
        .await;
    mount_graph_ok(&app.graph).await;
    app.create_campaign("keto-fb-us", json!({"pixel_id": REFUSED_PIXEL}))
        .await;
    app.create_campaign("healthy", json!({})).await;
    for (key, click) in [
        ("keto-fb-us", "k-1"),
        ("keto-fb-us", "k-2"),
        ("healthy", "h-1"),
    ] {
        convert(&app, key, click, "status=lead").await;
    }
    app.deliver().await;
    let cookie = sign_in(&app).await;

    let banner = "<strong>Meta refused the token (190) for keto-fb-us</strong>: \
                  <a href=\"/ui/campaigns/keto-fb-us/edit#access_token\">edit the campaign's \
                  access token</a>";
    for path in pages("keto-fb-us") {
        let html = page(&app, &cookie, &path).await;
        assert!(html.contains(banner), "{path}: {html}");
        assert!(html.contains(r#"class="banner bad" role="alert" data-condition="token_refused""#));
        assert!(html.contains("2 events waiting"), "{path}");
        assert!(!html.contains(ACCESS_TOKEN), "{path} shows no token");
    }
    let healthy = page(&app, &cookie, "/ui/campaigns/healthy").await;
    assert!(!healthy.contains("banner bad"), "{healthy}");
    let list = page(&app, &cookie, "/ui/campaigns").await;
    assert_eq!(list.matches("needs attention").count(), 1, "{list}");

    // A new token re-queues the parked events: nothing is refused any more.
    app.patch_campaign_ok("keto-fb-us", json!({"access_token": "EAAnew-token-123"}))
        .await;
    for path in pages("keto-fb-us") {
        let html = page(&app, &cookie, &path).await;
        assert!(!html.contains("banner bad"), "{path}: {html}");
    }
}

#[tokio::test]
async fn a_token_the_bridge_cannot_decrypt_names_secrets_key() {
    let app = spawn_app().await;
    app.create_campaign("locked", json!({})).await;
    let other = TokenCipher::new(Some(parse_key(OTHER_KEY).unwrap()), Keys::default());
    sqlx::query("UPDATE campaigns SET access_token = $1 WHERE key = 'locked'")
        .bind(other.seal("locked", ACCESS_TOKEN))
        .execute(&app.pool)
        .await
        .unwrap();
    convert(&app, "locked", "l-1", "status=lead").await;
    app.deliver().await;
    let cookie = sign_in(&app).await;
    for path in pages("locked") {
        let html = page(&app, &cookie, &path).await;
        assert!(
            html.contains(
                "<strong>The bridge cannot decrypt the Meta access token for locked</strong>: \
                 <a href=\"/ui/campaigns/locked/edit#access_token\">set SECRETS_KEY to the key"
            ),
            "{path}: {html}"
        );
        assert!(html.contains("1 event waiting"), "{path}");
    }
}

#[tokio::test]
async fn refused_and_unmatched_postbacks_pile_up_into_banners() {
    let app = spawn_app().await;
    app.create_campaign("shop", json!({})).await;
    let cookie = sign_in(&app).await;
    // Two refused postbacks are not yet a pile; the third is.
    for i in 0..3 {
        let r = app.postback("binom", "status=lead&campaign=shop").await;
        assert_eq!(r.status(), 400, "no click id: refused");
        let html = page(&app, &cookie, "/ui/campaigns/shop").await;
        assert_eq!(
            html.contains("banner bad"),
            i == 2,
            "after {} refused",
            i + 1
        );
    }
    // Postbacks naming no campaign are the tracker's, on the overview and the list.
    for _ in 0..3 {
        let r = app.postback("keitaro", "status=lead").await;
        assert_eq!(r.status(), 400);
    }
    // Unmatched postbacks count once their click had time to arrive.
    for i in 0..3 {
        let r = app
            .postback(
                "keitaro",
                &format!("subid=lost-{i}&status=lead&campaign=shop"),
            )
            .await;
        assert_eq!(r.status(), 202, "waits for its click");
    }
    let shop = page(&app, &cookie, "/ui/campaigns/shop").await;
    assert!(
        !shop.contains("matched no registered click"),
        "still in grace"
    );
    sqlx::query(
        "UPDATE conversions SET received_at = now() - interval '20 minutes' \
         WHERE state = 'unmatched'",
    )
    .execute(&app.pool)
    .await
    .unwrap();

    let shop = page(&app, &cookie, "/ui/campaigns/shop").await;
    let refused = "<strong>3 postbacks for shop were refused</strong>: \
                   <a href=\"/ui/conversions/refused\">fix the tracker's postback URL";
    let unmatched = "<strong>3 postbacks for shop matched no registered click</strong>: \
                     <a href=\"/ui/conversions?campaign=shop&amp;state=unmatched\">";
    let tracker = "<strong>3 postbacks from keitaro were refused</strong>";
    assert!(shop.contains(refused), "{shop}");
    assert!(shop.contains(unmatched), "{shop}");
    assert!(!shop.contains(tracker), "not this campaign's");
    for path in ["/ui/", "/ui/campaigns"] {
        let html = page(&app, &cookie, path).await;
        for banner in [refused, unmatched, tracker] {
            assert!(html.contains(banner), "{path}: {banner}");
        }
        assert!(html.contains("3 postbacks"), "{path}");
        assert!(!html.contains(POSTBACK_KEY), "{path} shows no postback key");
    }
}

#[tokio::test]
async fn the_list_counts_a_conversion_sent_to_two_platforms_once() {
    let app = spawn_app().await;
    app.create_campaign_with_tiktok("both", json!({})).await;
    app.create_campaign("testing", json!({"test_event_code": "TEST4242"}))
        .await;
    convert(&app, "both", "b-1", "status=sale&payout=12.50").await;
    convert(&app, "both", "b-2", "status=sale&payout=7.25").await;
    convert(&app, "both", "b-3", "status=lead").await;
    convert(&app, "testing", "t-1", "status=sale&payout=99").await;
    app.deliver().await;
    // One conversion of last week: in the 7 days, not today.
    convert(&app, "both", "b-old", "status=lead").await;
    sqlx::query(
        "UPDATE conversions SET received_at = now() - interval '3 days' WHERE click_id = 'b-old'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let cookie = sign_in(&app).await;
    let list = page(&app, &cookie, "/ui/campaigns").await;
    let row = |key: &str| {
        let start = list.find(&format!(">{key}</a>")).expect(key);
        let end = list[start..].find("</tr>").unwrap() + start;
        list[start..end].to_owned()
    };
    let cases = [
        (
            "both",
            r#"<td class="num conversions-today" data-label="Today">3</td>"#,
        ),
        (
            "both",
            r#"<td class="num conversions-week" data-label="7 days">4</td>"#,
        ),
        ("both", r#"<div data-platform="meta">Meta 3 / 0 / 1</div>"#),
        (
            "both",
            r#"<div data-platform="tiktok">TikTok 3 / 0 / 1</div>"#,
        ),
        // 12.50 + 7.25, once though two platforms got each sale.
        (
            "both",
            r#"<td class="c-value value-sent" data-label="Value sent">19.75 USD</td>"#,
        ),
        (
            "testing",
            r#"<div data-platform="meta">Meta 1 / 0 / 0</div>"#,
        ),
        // Sent to Test Events: not revenue.
        (
            "testing",
            r#"<td class="c-value value-sent" data-label="Value sent">—</td>"#,
        ),
    ];
    for (key, cell) in cases {
        let r = row(key);
        assert!(r.contains(cell), "{key}: {cell} in {r}");
    }
    assert!(!row("testing").contains(r#"data-platform="tiktok""#));
}
