//! The campaign form's words: the key's hint, Limited Data Use, refusals that name the field's
//! label, and a refused form shown again without extra blank event-map rows.

use reqwest::StatusCode;

use crate::helpers::campaign_forms::{create_fields, tiktok_fields, with};
use crate::helpers::ui::get_page;
use crate::helpers::ui::{post_form, session};
use crate::helpers::*;

/// How many status rows a map editor (`prefix`: "" for Meta's, "tiktok_") shows.
fn status_rows(page: &str, prefix: &str) -> usize {
    page.matches(&format!(r#"<input id="{prefix}status_"#))
        .count()
}

#[tokio::test]
async fn the_form_says_what_the_key_and_ldu_do() {
    let app = spawn_app().await;
    let (cookie, _) = session(&app).await;
    let form = get_page(&app, "/ui/campaigns/new", &cookie)
        .await
        .text()
        .await
        .unwrap();
    let hint = &form[form
        .find(r#"<p class="hint" id="key-hint">"#)
        .expect("the key's hint")..];
    let hint = &hint[..hint.find("</p>").unwrap()];
    assert!(
        hint.contains("<code>&amp;campaign=&lt;key&gt;</code>") && hint.contains("postback URLs"),
        "{hint}"
    );
    assert!(hint.contains("cannot change"), "{hint}");
    let ldu = &form[form
        .find(r#"<p class="hint" id="limited_data_use-hint">"#)
        .expect("LDU's line")..];
    let ldu = &ldu[..ldu.find("</p>").unwrap()];
    assert!(ldu.contains("LDU") && ldu.contains("Meta"), "{ldu}");
    assert!(ldu.contains("US states"), "{ldu}");
}

#[tokio::test]
async fn a_refused_form_names_the_label_and_adds_no_blank_rows() {
    let app = spawn_app().await;
    let (cookie, csrf) = session(&app).await;
    let token = "EAAsecret-token-0123456789";
    // Five statuses and the editor's blank row, TikTok's four and its blank row, as the
    // browser submits them (TikTok left empty).
    let mut fields = with(create_fields(&csrf, "refused", token), "currency", "EURO");
    fields.extend(tiktok_fields("", "", ""));
    let resp = post_form(&app, "/ui/campaigns", &cookie, &fields).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = resp.text().await.unwrap();
    assert!(page.contains("Not saved: Currency: "), "{page}");
    let at = page
        .find(r#"id="currency-error""#)
        .expect("next to its field");
    assert!(
        page[at..].starts_with(r#"id="currency-error" role="alert">Currency: "#),
        "{page}"
    );
    assert!(
        !page.contains("currency must"),
        "never the field's id: {page}"
    );
    assert_eq!(
        status_rows(&page, ""),
        6,
        "five statuses and one blank row: {page}"
    );
    assert_eq!(
        status_rows(&page, "tiktok_"),
        5,
        "TikTok's four and one blank row"
    );

    // Refused again from the page as shown: still one blank row each.
    let mut again = fields.clone();
    again.push(("tiktok_status_5", ""));
    again.push(("tiktok_event_5", ""));
    again.push(("status_6", ""));
    again.push(("event_6", ""));
    let page = post_form(&app, "/ui/campaigns", &cookie, &again)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(status_rows(&page, ""), 6, "{page}");
    assert_eq!(status_rows(&page, "tiktok_"), 5, "{page}");
    assert!(!page.contains(token));

    // A platform field: its platform and label.
    let fields = with(
        create_fields(&csrf, "refused", token),
        "pixel_id",
        "pixel-abc",
    );
    let page = post_form(&app, "/ui/campaigns", &cookie, &fields)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Not saved: Meta pixel id: must be"), "{page}");
    assert!(!page.contains("pixel_id must"), "{page}");
}
