//! A campaign's region (issue 20, item 7): `default_country` and `date_order` through the admin
//! API, the dashboard form and tag-config, and a click's national phone number read with it.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::browser::click_row;
use crate::helpers::campaign_forms::create_fields;
use crate::helpers::ui::get_page;
use crate::helpers::ui::{csrf_of, post_form, session};
use crate::helpers::*;

/// sha256("447911123456"): Meta's digest of `07911 123456` in Britain (coreutils sha256sum).
const UK_MOBILE: &str = "40b5c38342a9c584ec707e8679b003f8c779c6aaa138c976ef94e049cc05208f";
/// sha256("+447911123456"): TikTok's, in E.164.
const UK_MOBILE_TIKTOK: &str = "20b18ac9de7b3aad174961827d8e451c410af9aedfd1d699927f4b29b81aa1fa";
/// sha256("gb").
const GB: &str = "0b407281768f0e833afef47ed464b6571d01ca4d53c12ce5c51d1462f4ad6677";
/// sha256("7911123456"): Meta's digit rule without a country (no country code: another number).
const DIGITS_ONLY: &str = "f7edb45bb2851d8871236cea7e7fec97322d3c4d458c781fb7f258cafae6489f";

async fn stored(app: &TestApp, key: &str) -> (Option<String>, Option<String>) {
    sqlx::query_as("SELECT default_country, date_order FROM campaigns WHERE key = $1")
        .bind(key)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

fn region(c: &Value) -> (Value, Value) {
    (c["default_country"].clone(), c["date_order"].clone())
}

#[tokio::test]
async fn the_region_is_created_read_patched_and_cleared() {
    let app = spawn_app().await;
    let c = app
        .create_campaign(
            "uk",
            json!({"default_country": " GB ", "date_order": "mdy"}),
        )
        .await;
    assert_eq!(region(&c), (json!("gb"), json!("mdy")));
    assert_eq!(
        stored(&app, "uk").await,
        (Some("gb".into()), Some("mdy".into()))
    );
    let read = app.admin_get("/admin/v1/campaigns/uk").await;
    assert_eq!(region(&read), (json!("gb"), json!("mdy")));

    // null clears one and leaves the other; a blank text clears too.
    let resp = app.patch_campaign("uk", json!({"date_order": null})).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(region(&body), (json!("gb"), Value::Null));
    let resp = app
        .patch_campaign("uk", json!({"default_country": "de", "date_order": "dmy"}))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        stored(&app, "uk").await,
        (Some("de".into()), Some("dmy".into()))
    );
    let resp = app
        .patch_campaign("uk", json!({"default_country": ""}))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(stored(&app, "uk").await, (None, Some("dmy".into())));
    // A patch that does not name them keeps them.
    let resp = app.patch_campaign("uk", json!({"name": "Renamed"})).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(stored(&app, "uk").await, (None, Some("dmy".into())));
}

#[tokio::test]
async fn an_invalid_region_is_422_naming_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    app.create_campaign("uk", json!({"default_country": "gb"}))
        .await;
    for (field, value) in [
        ("default_country", json!("uk")),
        ("default_country", json!("GBR")),
        ("default_country", json!("United Kingdom")),
        ("default_country", json!("xx")),
        ("date_order", json!("ymd")),
        ("date_order", json!("MDY")),
    ] {
        let resp = app.patch_campaign("uk", json!({ field: value })).await;
        let detail = assert_problem(resp, 422, "invalid_field").await;
        assert!(detail.starts_with(field), "{field}={value}: {detail}");
        let resp = app
            .admin(
                Method::POST,
                "/admin/v1/campaigns",
                Some(
                    json!({"key": "other", "pixel_id": "1", "access_token": ACCESS_TOKEN,
                            field: value}),
                ),
            )
            .await;
        assert_problem(resp, 422, "invalid_field").await;
    }
    assert_eq!(stored(&app, "uk").await, (Some("gb".into()), None));
}

#[tokio::test]
async fn tag_config_gives_the_calling_code_and_date_order_not_the_country() {
    let app = spawn_app().await;
    app.create_campaign("uk", json!({"default_country": "gb"}))
        .await;
    app.create_campaign("us", json!({"default_country": "us"}))
        .await;
    app.create_campaign("set", json!({"default_country": "de", "date_order": "mdy"}))
        .await;
    app.create_campaign("none", json!({})).await;
    for (key, code, order) in [
        ("uk", json!("44"), json!("dmy")),
        ("us", json!("1"), json!("mdy")),
        ("set", json!("49"), json!("mdy")),
        ("none", Value::Null, Value::Null),
    ] {
        let config = app.tag_config(key).await;
        assert_eq!(
            (&config["calling_code"], &config["date_order"]),
            (&code, &order),
            "{key}"
        );
        assert!(config.get("default_country").is_none(), "{config}");
    }
}

#[tokio::test]
async fn a_clicks_national_phone_gets_the_campaigns_calling_code() {
    let app = spawn_app().await;
    app.create_campaign("uk", json!({"default_country": "gb"}))
        .await;
    app.create_campaign("nowhere", json!({})).await;
    for (campaign, click) in [("uk", "clk-uk"), ("nowhere", "clk-none")] {
        let resp = app
            .register_click(json!({"campaign": campaign, "click_id": click,
                                   "ph": "07911 123456", "country": "United Kingdom"}))
            .await;
        assert_eq!(resp.status(), 201, "{campaign}");
    }
    let uk = click_row(&app, "clk-uk").await;
    assert_eq!(
        (&uk["ph"], &uk["tiktok_ph"]),
        (&json!(UK_MOBILE), &json!(UK_MOBILE_TIKTOK))
    );
    // The visitor's country by its name, as ISO alpha-2: sha256("gb").
    assert_eq!(uk["country"], GB);
    // Without a country: Meta's digit rule as before, and no TikTok digest of a non-number.
    let none = click_row(&app, "clk-none").await;
    assert_eq!(
        (&none["ph"], &none["tiktok_ph"]),
        (&json!(DIGITS_ONLY), &Value::Null)
    );
}

#[tokio::test]
async fn the_dashboard_form_sets_and_clears_the_region() {
    let app = spawn_app().await;
    let (cookie, csrf) = session(&app).await;
    let mut fields = create_fields(&csrf, "formed", "EAAform-token-0123456789");
    fields.push(("default_country", "gb"));
    fields.push(("date_order", "mdy"));
    let resp = post_form(&app, "/ui/campaigns", &cookie, &fields).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        stored(&app, "formed").await,
        (Some("gb".into()), Some("mdy".into()))
    );

    let form = get_page(&app, "/ui/campaigns/formed/edit", &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        form.contains(r#"name="default_country" value="gb""#),
        "{form}"
    );
    assert!(form.contains(r#"<option value="mdy" selected>"#), "{form}");
    let csrf = csrf_of(&form);

    // A bad country comes back next to its field, nothing saved.
    let mut edit = create_fields(&csrf, "", "");
    edit.retain(|(k, _)| *k != "key" && *k != "access_token");
    let mut bad = edit.clone();
    bad.push(("default_country", "England"));
    bad.push(("date_order", "dmy"));
    let resp = post_form(&app, "/ui/campaigns/formed/edit", &cookie, &bad).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = resp.text().await.unwrap();
    assert!(page.contains(r#"id="default_country-error""#), "{page}");
    assert_eq!(
        stored(&app, "formed").await,
        (Some("gb".into()), Some("mdy".into()))
    );

    // Emptied fields clear both.
    edit.push(("default_country", ""));
    edit.push(("date_order", ""));
    let resp = post_form(&app, "/ui/campaigns/formed/edit", &cookie, &edit).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored(&app, "formed").await, (None, None));
}

/// Item 1's postback values that Meta's rules can read are recorded, normalised, not refused.
#[tokio::test]
async fn a_postbacks_odd_but_readable_values_are_normalised_and_recorded() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let resp = app
        .postback(
            "generic",
            "click_id=pb-odd&campaign=offer1&status=lead&country=USA&ge=Mrs.\
             &db=28.02.1990&st=California&fn=Mary+Ann",
        )
        .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    let row: (String, String, String, String, String) =
        sqlx::query_as("SELECT country, ge, db, st, fn FROM conversions WHERE click_id = 'pb-odd'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    // sha256 of "us", "f", "19900228", "ca" and "maryann" (coreutils sha256sum).
    assert_eq!(
        row,
        (
            "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621".into(),
            "252f10c83610ebca1a059c0bae8255eba2f95be4d1d7bcfa89d7248a82d9f111".into(),
            "cf98510ecc055a65e88f86903ed7b69fce267212d0c9a253b8af7083245b6e96".into(),
            "6959097001d10501ac7d54c0bdb8db61420f658f2922cc26e46d536119a31126".into(),
            "16b3f07f0ec2f9dd127b71dc2e6c791b7d93116a1c3bc99d057eaa7a8a077e73".into(),
        )
    );
}

#[tokio::test]
async fn a_postback_naming_its_campaign_reads_a_national_phone_in_its_region() {
    let app = spawn_app().await;
    app.create_campaign("uk", json!({"default_country": "gb"}))
        .await;
    for (click, campaign) in [("pb-uk", "&campaign=uk"), ("pb-none", "")] {
        let resp = app
            .postback(
                "keitaro",
                &format!("subid={click}&status=lead&ph=07911%20123456{campaign}"),
            )
            .await;
        assert_eq!(resp.status(), 202, "{click}");
    }
    let uk = stored_ph(&app, "pb-uk").await;
    assert_eq!(
        (uk.0.as_deref(), uk.1.as_deref()),
        (Some(UK_MOBILE), Some(UK_MOBILE_TIKTOK))
    );
    // Without `campaign=`, no region: Meta's digit rule, no TikTok digest.
    let none = stored_ph(&app, "pb-none").await;
    assert_eq!((none.0.as_deref(), none.1), (Some(DIGITS_ONLY), None));
}

/// A conversion's stored phone digests: Meta's and TikTok's.
async fn stored_ph(app: &TestApp, click_id: &str) -> (Option<String>, Option<String>) {
    sqlx::query_as("SELECT ph, tiktok_ph FROM conversions WHERE click_id = $1")
        .bind(click_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_import_row_is_read_in_its_campaigns_region() {
    let app = spawn_app().await;
    app.create_campaign("uk", json!({"default_country": "gb"}))
        .await;
    app.create_campaign("world", json!({})).await;
    let v = crate::import_offline::import(
        &app,
        "?action_source=phone_call",
        "click_id,status,campaign,ph\n\
         im-uk,lead,uk,07911 123456\n\
         im-world,lead,world,07911 123456\n",
    )
    .await;
    assert_eq!(v["counts"]["unmatched"], 2, "{v}");
    let uk = stored_ph(&app, "im-uk").await;
    assert_eq!(
        (uk.0.as_deref(), uk.1.as_deref()),
        (Some(UK_MOBILE), Some(UK_MOBILE_TIKTOK))
    );
    let world = stored_ph(&app, "im-world").await;
    assert_eq!((world.0.as_deref(), world.1), (Some(DIGITS_ONLY), None));
}
