//! The landing tag and the click's update token, in a real browser: the tag makes the token,
//! keeps it in localStorage with the click id, and sends it with every registration, so the
//! thank-you page may change the click and a stranger may not.

use serde_json::{json, Value};
use wiremock::MockServer;

use crate::browser::*;
use crate::helpers::*;

/// The registrations the page sent, as JSON.
async fn beacons(b: &Browser) -> Vec<Value> {
    sent(b)
        .await
        .iter()
        .map(|s| serde_json::from_str(s).unwrap())
        .collect()
}

#[tokio::test]
async fn the_tag_keeps_the_update_token_and_sends_it_on_later_registrations() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let site = MockServer::start().await;
    lander(
        &site,
        "/lp",
        &app.address,
        "",
        FBQ,
        "<script>capiBridge.consent(false);</script>",
    )
    .await;
    let thanks = "<script>capiBridge.consent(true); \
                  capiBridge.identify({em: 'John_Smith@gmail.com'}); \
                  capiBridge.track('Purchase');</script>";
    lander(&site, "/thanks", &app.address, "", FBQ, thanks).await;

    b.goto(&format!("{}/lp?subid=kt-tok", site.uri())).await;
    let row = click_row(&app, "kt-tok").await;
    assert_eq!(row["consent"], false);
    let first = beacons(&b).await;
    let token = first[0]["update_token"]
        .as_str()
        .expect("the token")
        .to_owned();
    assert!(
        token.len() == 32 && token.bytes().all(|c| c.is_ascii_hexdigit()),
        "{token}"
    );
    let kept = b
        .eval("return JSON.parse(localStorage.getItem('capiBridge.click'));")
        .await;
    assert_eq!(
        (&kept["c"], &kept["k"], &kept["u"]),
        (&json!("kt-tok"), &json!("offer1"), &json!(token))
    );
    // Only its hash is stored.
    assert!(!row.to_string().contains(&token), "{row}");

    // A stranger who read the click id cannot grant consent or add an email.
    let resp = app
        .register_click_public(json!({"campaign": "offer1", "click_id": "kt-tok",
                                      "consent": true, "em": "stranger@example.com"}))
        .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(click_row(&app, "kt-tok").await["consent"], false);

    // The thank-you page (no click id in its URL) sends the kept token with each registration.
    b.goto(&format!("{}/thanks", site.uri())).await;
    let row = wait_for(
        "the thank-you page's data",
        std::time::Duration::from_secs(10),
        || async {
            let row = click_row(&app, "kt-tok").await;
            if row["consent"] == true
                && row["em"].is_string()
                && row["event_ids"]["Purchase"].is_string()
            {
                Ok(row)
            } else {
                Err(row.to_string())
            }
        },
    )
    .await;
    assert_eq!(
        row["em"],
        meta_digest("em", "John_Smith@gmail.com"),
        "the visitor's email, not the stranger's"
    );
    let later = beacons(&b).await;
    assert!(later.len() >= 2, "{later:?}");
    for body in &later {
        assert_eq!(body["click_id"], "kt-tok");
        assert_eq!(body["update_token"], token.as_str(), "{body}");
    }

    // Landing again on the same click keeps its token; another click gets its own.
    b.goto(&format!("{}/lp?subid=kt-tok", site.uri())).await;
    b.wait("the registration", "sent.length").await;
    assert_eq!(beacons(&b).await[0]["update_token"], token.as_str());
    b.goto(&format!("{}/lp?subid=kt-other", site.uri())).await;
    b.wait("the registration", "sent.length").await;
    let other = beacons(&b).await[0]["update_token"].clone();
    assert!(other.is_string() && other != token.as_str(), "{other}");
    no_errors(&b).await;
}
