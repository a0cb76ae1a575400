//! The landing tag in a real browser (Debian's headless Chromium through chromedriver). Landers
//! (`browser::lander`) are served by a local test server on another origin than the bridge; the
//! tag is installed with the README's own line and stub.

use serde_json::{json, Value};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::browser::*;
use crate::helpers::*;

#[tokio::test]
async fn a_fresh_visit_writes_meta_cookies_and_registers_the_click() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let site = MockServer::start().await;
    lander(&site, "/lp", &app.address, "", FBQ, "").await;

    let url = format!(
        "{}/lp?subid=kt-1&fbclid=IwAR_One&email=john%40example.com&tel=%2B1%20650%20555%201212&utm_source=fb",
        named(&site)
    );
    b.goto(&url).await;
    let row = click_row(&app, "kt-1").await;
    let (fbc, domain) = b.cookie("_fbc").await.expect("_fbc written");
    assert_eq!(domain, ".example.com", "on the registrable domain");
    let parts: Vec<&str> = fbc.split('.').collect();
    assert!(
        parts.len() == 4
            && parts[..2] == ["fb", "1"]
            && parts[2].len() == 13
            && parts[3] == "IwAR_One",
        "{fbc}"
    );
    let (fbp, _) = b.cookie("_fbp").await.expect("_fbp written");
    let parts: Vec<&str> = fbp.split('.').collect();
    // Meta's random part: below 2^31 - 1 (tag_cookies_browser.rs has the rest).
    let random: u64 = parts[3].parse().unwrap();
    assert!(
        parts.len() == 4
            && parts[..2] == ["fb", "1"]
            && parts[2].len() == 13
            && random < 2_147_483_647,
        "{fbp}"
    );
    let ua = b.eval("return navigator.userAgent;").await;
    assert_eq!(row["fbc"], fbc.as_str());
    assert_eq!(row["fbp"], fbp.as_str());
    assert_eq!(row["fbclid"], "IwAR_One");
    assert_eq!(row["client_user_agent"], ua);
    // The email and phone parameters are dropped from the address Meta will see.
    assert_eq!(
        row["event_source_url"],
        format!(
            "{}/lp?subid=kt-1&fbclid=IwAR_One&utm_source=fb",
            named(&site)
        )
    );
    assert_eq!(
        row["event_ids"],
        json!({"Lead": "Lead-kt-1", "Purchase": "Purchase-kt-1"})
    );
    // One registration per page load, and nothing global but capiBridge.
    assert_eq!(sent(&b).await.len(), 1, "{:?}", sent(&b).await);
    // `ret_nodes` is chromedriver's own.
    let globals = b
        .eval(
            "return Object.keys(window).filter(function (k) { \
             return beforeTag.indexOf(k) < 0 && k !== 'beforeTag' && k !== 'ret_nodes'; });",
        )
        .await;
    assert_eq!(
        globals,
        json!([]),
        "the stub made capiBridge; the tag added nothing"
    );
    no_errors(&b).await;
    assert_eq!(b.console_errors().await, Vec::<String>::new());
    // What the tag did, on the page for the screenshot and printed for the test log.
    let shown = b
        .eval(
            "var r = {url: location.href, cookies: document.cookie, \
             eventId_Lead: capiBridge.eventId('Lead'), sent: sent.map(JSON.parse)}; \
             var pre = document.createElement('pre'); pre.style.whiteSpace = 'pre-wrap'; \
             pre.textContent = JSON.stringify(r, null, 2); document.body.appendChild(pre); \
             return r;",
        )
        .await;
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("tag-browser.png");
    b.screenshot(&shot).await;
    println!("screenshot: {}", shot.display());
    println!("{shown:#}");
    println!("stored click: {row:#}");
}

#[tokio::test]
async fn kept_cookies_stay_byte_for_byte_and_a_new_fbclid_replaces_fbc() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let site = MockServer::start().await;
    lander(&site, "/lp", &app.address, "", "", "").await;
    // The fifth segment Meta's parameter builder writes (an 8-character appendix).
    let fbp = "fb.1.1596403881668.1116446470.AQYCAQMA";
    let old_fbc = "fb.1.1596403881668.IwAR_Old";
    b.goto(&format!("{}/lp", site.uri())).await;
    b.eval(&format!(
        "document.cookie = '_fbp={fbp}; path=/'; document.cookie = '_fbc={old_fbc}; path=/';"
    ))
    .await;

    b.goto(&format!("{}/lp?subid=kt-keep&fbclid=IwAR_Old", site.uri()))
        .await;
    let row = click_row(&app, "kt-keep").await;
    assert_eq!(row["fbp"], fbp, "the 5-segment _fbp is kept byte for byte");
    assert_eq!(row["fbc"], old_fbc, "the same fbclid keeps _fbc");

    b.goto(&format!("{}/lp?subid=kt-new&fbclid=IwAR_New", site.uri()))
        .await;
    let row = click_row(&app, "kt-new").await;
    let (fbc, _) = b.cookie("_fbc").await.unwrap();
    assert!(fbc.ends_with(".IwAR_New") && fbc != old_fbc, "{fbc}");
    assert_eq!(row["fbc"], fbc.as_str());
    assert_eq!(b.cookie("_fbp").await.unwrap().0, fbp);

    b.goto(&format!("{}/lp?subid=kt-none", site.uri())).await;
    let row = click_row(&app, "kt-none").await;
    assert_eq!(row["fbc"], fbc.as_str(), "no fbclid: _fbc kept");
    no_errors(&b).await;
}

/// What the fake Graph API received for `click_id`'s Lead.
async fn lead_sent(app: &TestApp, click_id: &str) -> Value {
    wait_for(
        "the Lead at Meta",
        std::time::Duration::from_secs(20),
        || async {
            app.deliver().await;
            app.graph_events()
                .await
                .into_iter()
                .find(|e| {
                    e["event_id"]
                        .as_str()
                        .is_some_and(|id| id.contains(click_id))
                })
                .ok_or_else(|| "not sent".to_owned())
        },
    )
    .await
}

#[tokio::test]
async fn the_pixel_and_the_server_event_share_the_event_id_even_without_the_registration() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app_with(&["--unmatched-grace", "1s"]).await;
    mount_graph_ok(&app.graph).await;
    app.create_campaign(
        "offer1",
        json!({"event_id_template": "{campaign}:{event_name}:{click_id}"}),
    )
    .await;
    let site = MockServer::start().await;
    let track = "<script>capiBridge.track('Lead', {content_name: 'form'});</script>";
    lander(&site, "/lp", &app.address, "", FBQ, track).await;
    let drop = "<script>window.dropClicks = true;</script>";
    lander(
        &site,
        "/lost",
        &app.address,
        "",
        &format!("{drop}{FBQ}"),
        track,
    )
    .await;

    for (page, click) in [("lp", "kt-dedup"), ("lost", "kt-lost")] {
        b.goto(&format!(
            "{}/{page}?subid={click}&fbclid=IwAR_D",
            site.uri()
        ))
        .await;
        let fired = b.wait("the pixel", "fbqCalls.length && fbqCalls[0]").await;
        let id = b.eval("return capiBridge.eventId('Lead');").await;
        assert_eq!(id, format!("offer1:Lead:{click}"));
        assert_eq!(
            fired,
            json!(["track", "Lead", {"content_name": "form"}, {"eventID": id}])
        );
        let resp = app
            .postback(
                "keitaro",
                &format!(
                    "subid={click}&status=lead&campaign=offer1&ip=198.51.100.4&ua=Mozilla%2F5.0"
                ),
            )
            .await;
        assert!(resp.status().is_success());
        let event = lead_sent(&app, click).await;
        assert_eq!(event["event_id"], id, "{page}: {event}");
        no_errors(&b).await;
    }
    let stored: Option<(String,)> =
        sqlx::query_as("SELECT click_id FROM clicks WHERE click_id = 'kt-lost'")
            .fetch_optional(&app.pool)
            .await
            .unwrap();
    assert!(
        stored.is_none(),
        "the lost registration never reached the bridge"
    );
}

#[tokio::test]
async fn identify_sends_only_hashes_on_https_and_http_pages() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let site = MockServer::start().await;
    let form =
        "<script>capiBridge.identify({em: ' John_Smith@gmail.com ', ph: '+1 (650) 555-1212', \
                fn: 'Mary', ln: 'Val\\u00e9ry', country: 'United States', \
                external_id: ' CRM-8431 '});</script>";
    lander(&site, "/lp", &app.address, "", "", form).await;
    let phone = vector("ph", "+1 (650) 555-1212", None);

    // 127.0.0.1 is a secure context (crypto.subtle); www.example.com over http is not.
    for (origin, click, subtle) in [
        (site.uri(), "kt-id-secure", true),
        (named(&site), "kt-id-plain", false),
    ] {
        b.goto(&format!("{origin}/lp?subid={click}")).await;
        assert_eq!(
            b.eval("return !!(window.crypto && crypto.subtle);").await,
            subtle
        );
        let row = wait_for("the hashes", std::time::Duration::from_secs(10), || async {
            let row = click_row(&app, click).await;
            if row["ln"].is_string() && row["em"].is_string() && row["ph"].is_string() {
                Ok(row)
            } else {
                Err(row.to_string())
            }
        })
        .await;
        // Meta's published vectors, the rows of tests/vectors/normalisation.json.
        let (em, ph) = (
            meta_digest("em", "John_Smith@gmail.com"),
            phone["expected_sha256"].clone(),
        );
        // `ln` is read as `fn` is: Meta's `Valéry` vector is a first name.
        let (first, last) = (meta_digest("fn", "Mary"), meta_digest("fn", "Val\u{e9}ry"));
        assert_eq!(
            (&row["em"], &row["ph"], &row["fn"], &row["ln"]),
            (&json!(em), &ph, &json!(first), &json!(last))
        );
        let bodies = sent(&b).await;
        // One beacon with every hash: it leaves even if a form submission is navigating away.
        let with_hashes: Vec<Value> = bodies
            .iter()
            .map(|s| serde_json::from_str::<Value>(s).unwrap())
            .filter(|v| v.get("em").is_some())
            .collect();
        assert_eq!(with_hashes.len(), 1, "{bodies:?}");
        assert_eq!(with_hashes[0]["ln"], last);
        // TikTok's phone digest, which the bridge cannot make from Meta's.
        assert_eq!(with_hashes[0]["tiktok_ph"], phone["tiktok_sha256"]);
        assert_eq!(row["tiktok_ph"], phone["tiktok_sha256"]);
        // The hashing lives inside the tag's function (sha256.js): no global of the page's.
        assert_eq!(
            b.eval("return typeof sha256 + ' ' + typeof H0 + ' ' + typeof K;")
                .await,
            "undefined undefined undefined"
        );
        // The external_id: Meta's of the id lowercased, TikTok's of the id as given.
        let (meta_ext, tiktok_ext) = (sha256_hex("crm-8431"), sha256_hex("CRM-8431"));
        assert_eq!(with_hashes[0]["external_id"], meta_ext);
        assert_eq!(with_hashes[0]["tiktok_external_id"], tiktok_ext);
        assert_eq!(
            (&row["external_id"], &row["tiktok_external_id"]),
            (&json!(meta_ext), &json!(tiktok_ext))
        );
        assert!(
            with_hashes[0].get("country").is_none(),
            "a country's name is left out (the server's table reads names)"
        );
        let all = bodies.join("\n");
        for raw in [
            "John",
            "john",
            "Smith",
            "6505551212",
            "650) 555",
            "Mary",
            "mary",
            "Valé",
            "valé",
            "United",
            "CRM-8431",
            "crm-8431",
        ] {
            assert!(!all.contains(raw), "{raw} left the page: {all}");
        }
        no_errors(&b).await;
    }
}

#[tokio::test]
async fn track_waits_for_a_pixel_loaded_after_the_tag() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let site = MockServer::start().await;
    let late_pixel = "<script>capiBridge.track('Purchase', {value: 49, currency: 'USD'});\
        setTimeout(function () { window.fbqCalls = []; \
        window.fbq = function () { fbqCalls.push([].slice.call(arguments)); }; }, 1200);</script>";
    lander(&site, "/thanks", &app.address, "", "", late_pixel).await;
    b.goto(&format!("{}/thanks?subid=kt-late", site.uri()))
        .await;
    let fired = b
        .wait("the late pixel", "window.fbqCalls && fbqCalls[0]")
        .await;
    assert_eq!(
        fired,
        json!(["track", "Purchase", {"value": 49, "currency": "USD"}, {"eventID": "Purchase-kt-late"}])
    );
    let fired_at = b
        .wait(
            "the firing time sent",
            "sent.map(JSON.parse).filter(function (s) { return s.pixel_fired_at; })[0]",
        )
        .await;
    assert!(fired_at["pixel_fired_at"]["Purchase"].as_i64().unwrap() > 1_700_000_000_000);
    let row = click_row(&app, "kt-late").await;
    assert_eq!(row["event_ids"]["Purchase"], "Purchase-kt-late");
    no_errors(&b).await;
}

#[tokio::test]
async fn with_the_bridge_down_or_failing_the_page_and_its_pixel_work() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let site = MockServer::start().await;
    // The page's own pixel calls, and a script after the tag that must still run.
    let own = "<script>fbq('track', 'PageView'); capiBridge.track('Lead'); \
               capiBridge.identify({em: 'a@b.co'}); document.title = 'still working';</script>";
    let down = format!("http://127.0.0.1:{}", free_port());
    lander(&site, "/down", &down, "", FBQ, own).await;
    // A bridge that answers 503 to everything but the tag itself.
    let failing = MockServer::start().await;
    Mock::given(path("/v1/tag.js"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(capi_bridge::routes::tag::tag_js(), "text/javascript"),
        )
        .mount(&failing)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(503))
        .mount(&failing)
        .await;
    lander(&site, "/failing", &failing.uri(), "", FBQ, own).await;

    b.goto(&format!("{}/down?subid=kt-down", site.uri())).await;
    assert_eq!(b.eval("return document.title;").await, "still working");
    assert_eq!(
        b.eval("return fbqCalls;").await,
        json!([["track", "PageView"]])
    );
    no_errors(&b).await;

    b.goto(&format!("{}/failing?subid=kt-fail", site.uri()))
        .await;
    // Without the campaign's settings the tag falls back to the default template.
    b.wait("the Lead pixel", "fbqCalls.length > 1").await;
    assert_eq!(
        b.eval("return fbqCalls;").await,
        json!([["track", "PageView"], ["track", "Lead", {}, {"eventID": "Lead-kt-fail"}]])
    );
    assert_eq!(b.eval("return document.title;").await, "still working");
    no_errors(&b).await;
}

#[tokio::test]
async fn with_consent_required_nothing_happens_until_it_is_given() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    app.create_campaign("strict", json!({"require_consent": true}))
        .await;
    let site = MockServer::start().await;
    let early = "<script>capiBridge.identify({em: 'John_Smith@gmail.com'}); \
                 capiBridge.track('Lead');</script>";
    lander(
        &site,
        "/attr",
        &app.address,
        r#"data-consent="required""#,
        FBQ,
        early,
    )
    .await;
    // The campaign's own setting, learnt from the bridge, holds the tag just the same.
    lander(
        &site,
        "/campaign",
        &app.address,
        "data-campaign-param=\"c\"",
        FBQ,
        early,
    )
    .await;

    for (page, click) in [
        ("attr", "kt-consent"),
        ("campaign?c=strict&x=1", "kt-strict"),
    ] {
        let sep = if page.contains('?') { '&' } else { '?' };
        b.goto(&format!(
            "{}/{page}{sep}subid={click}&fbclid=IwAR_C",
            site.uri()
        ))
        .await;
        b.wait("the tag", "capiBridge.loaded").await;
        tag_configured(&b).await;
        assert_eq!(sent(&b).await, Vec::<String>::new(), "{page}: nothing sent");
        assert!(
            b.cookie("_fbc").await.is_none(),
            "{page}: no cookie before consent"
        );
        assert_eq!(b.eval("return fbqCalls;").await, json!([]));

        b.eval("capiBridge.consent(true);").await;
        let row = wait_for("consent", std::time::Duration::from_secs(10), || async {
            let row = click_row(&app, click).await;
            if row["em"].is_string() && row["consent"] == true {
                Ok(row)
            } else {
                Err(row.to_string())
            }
        })
        .await;
        assert_eq!(row["consent"], true);
        assert_eq!(row["em"], meta_digest("em", "John_Smith@gmail.com"));
        assert!(b.cookie("_fbc").await.is_some());
        b.wait("the pixel", "fbqCalls.length").await;
        no_errors(&b).await;
        // The next page starts clean.
        b.eval("document.cookie = '_fbc=; max-age=0; path=/'; document.cookie = '_fbp=; max-age=0; path=/';")
            .await;
    }
}

fn sha256_hex(s: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(s.as_bytes()))
}
