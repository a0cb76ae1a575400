//! The landing tag installed as the README shows it, in a real browser: its lead form and
//! thank-you page across a form submission, and calls the page makes before the tag loads.

use serde_json::json;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::browser::*;
use crate::helpers::*;

#[tokio::test]
async fn the_readme_lead_form_and_thank_you_page_work_across_a_submission() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let site = MockServer::start().await;
    // A GET form: the thank-you page's own address then holds the email and the phone, and
    // not the click id, which the tag remembers from the lander.
    let form = format!(
        "<form action='/thanks' method='get'><input name=email value='John_Smith@gmail.com'>\
         <input name=phone value='+1 (650) 555-1212'><input name=first_name value='Mary'>\
         </form>{}",
        lead_form_block()
    );
    lander(&site, "/lp", &app.address, "", FBQ, &form).await;
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let thanks = readme.split("**Thank-you page**").nth(1).unwrap();
    let thanks = &thanks[thanks.find(":\n`").unwrap() + 3..];
    let thanks = format!("<script>{}</script>", &thanks[..thanks.find('`').unwrap()]);
    lander(&site, "/thanks", &app.address, "", FBQ, &thanks).await;

    b.goto(&format!("{}/lp?subid=kt-form&fbclid=IwAR_F", site.uri()))
        .await;
    click_row(&app, "kt-form").await;
    b.eval("document.forms[0].requestSubmit();").await;
    let fired = b
        .wait(
            "the thank-you pixel",
            "location.pathname === '/thanks' && window.fbqCalls && fbqCalls[0]",
        )
        .await;
    assert_eq!(
        fired,
        json!(["track", "Purchase", {"value": 49, "currency": "USD"}, {"eventID": "Purchase-kt-form"}])
    );
    let row = wait_for(
        "the form's hashes",
        std::time::Duration::from_secs(10),
        || async {
            let row = click_row(&app, "kt-form").await;
            let done = row["em"].is_string() && row["event_ids"]["Purchase"].is_string();
            if done {
                Ok(row)
            } else {
                Err(row.to_string())
            }
        },
    )
    .await;
    assert_eq!(
        (&row["em"], &row["ph"], &row["fn"]),
        (
            &json!(meta_digest("em", "John_Smith@gmail.com")),
            &json!(meta_digest("ph", "+1 (650) 555-1212")),
            &json!(meta_digest("fn", "Mary"))
        )
    );
    assert_eq!(row["event_ids"]["Lead"], "Lead-kt-form");
    b.wait("the thank-you registration", "sent.length >= 2")
        .await;
    let bodies = sent(&b).await.join("\n");
    assert!(bodies.contains("/thanks?"), "{bodies}");
    for raw in ["John", "john_smith", "555-1212", "%28650", "%40"] {
        assert!(
            !bodies.contains(raw),
            "{raw} left the thank-you page: {bodies}"
        );
    }
    no_errors(&b).await;
}

#[tokio::test]
async fn the_readme_lead_form_works_on_forms_that_lack_its_fields() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let site = MockServer::start().await;
    // The page stays put after the submission, so what the snippet did can be read.
    let stay = "<script>document.forms[0].addEventListener('submit', \
                function (e) { e.preventDefault(); });</script>";
    for (page, fields) in [
        (
            "email-only",
            "<input name=email value='John_Smith@gmail.com'>",
        ),
        ("bare", "<button>Send</button>"),
    ] {
        let form = format!(
            "<form action='/thanks' method='get'>{fields}</form>{}{stay}",
            lead_form_block()
        );
        lander(&site, &format!("/{page}"), &app.address, "", FBQ, &form).await;
    }

    for (page, click) in [("email-only", "kt-partial"), ("bare", "kt-bare")] {
        b.goto(&format!("{}/{page}?subid={click}", site.uri()))
            .await;
        click_row(&app, click).await;
        b.eval("document.forms[0].requestSubmit();").await;
        let fired = b.wait("the Lead pixel", "fbqCalls[0]").await;
        assert_eq!(
            fired,
            json!(["track", "Lead", {"content_name": "offer1"}, {"eventID": format!("Lead-{click}")}]),
            "{page}"
        );
        no_errors(&b).await;
        if page == "email-only" {
            let row = wait_for(
                "the email's hash",
                std::time::Duration::from_secs(10),
                || async {
                    let row = click_row(&app, click).await;
                    if row["em"].is_string() {
                        Ok(row)
                    } else {
                        Err(row.to_string())
                    }
                },
            )
            .await;
            assert_eq!(row["em"], meta_digest("em", "John_Smith@gmail.com"));
            assert_eq!((&row["ph"], &row["fn"]), (&json!(null), &json!(null)));
        }
    }
}

#[tokio::test]
async fn calls_made_before_the_tag_loads_are_kept_and_ready_gives_the_exact_ids() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_campaign(
        "offer1",
        json!({"event_id_template": "{event_name}.{click_id}.{campaign}"}),
    )
    .await;
    let site = MockServer::start().await;
    // The tag arrives 300 ms after the page's calls, with its own click parameter.
    let html = format!(
        "<!doctype html><html><head><link rel=icon href='data:,'>{RECORDER}{FBQ}{}</head><body>\
         <script>capiBridge.track('Lead');\
         capiBridge.ready(function (b) {{ document.title = b.eventId('Lead') + '|' + \
         b.eventId('Purchase'); }});\
         setTimeout(function () {{ var s = document.createElement('script'); \
         s.src = '{}/v1/tag.js'; s.setAttribute('data-campaign', 'offer1'); \
         s.setAttribute('data-click-param', 'aff_sub'); document.head.appendChild(s); }}, 300);\
         </script></body></html>",
        readme_block("**Stub**"),
        app.address
    );
    Mock::given(path("/late"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(html, "text/html"))
        .mount(&site)
        .await;

    b.goto(&format!("{}/late?subid=not-this&aff_sub=kt-q", site.uri()))
        .await;
    let fired = b.wait("the pixel", "fbqCalls[0]").await;
    assert_eq!(fired[3], json!({"eventID": "Lead.kt-q.offer1"}));
    assert_eq!(
        b.eval("return document.title;").await,
        "Lead.kt-q.offer1|Purchase.kt-q.offer1"
    );
    assert_eq!(b.eval("return capiBridge.q === undefined;").await, true);
    let row = click_row(&app, "kt-q").await;
    assert_eq!(
        row["event_ids"],
        json!({"Lead": "Lead.kt-q.offer1", "Purchase": "Purchase.kt-q.offer1"})
    );
    no_errors(&b).await;
}
