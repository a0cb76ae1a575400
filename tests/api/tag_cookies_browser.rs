//! The tag's Meta cookies in Chromium (issue 20, items 11-13): one cookie each, an fbclid a
//! cookie cannot hold percent-encoded, malformed cookies replaced and valid ones kept byte for
//! byte, and Meta's subdomain index. The rules themselves are tested in Node
//! (tests/tag/tag.test.mjs, tests/vectors/tag_cookies.json); these prove them on real pages.

use serde_json::{json, Value};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::browser::*;
use crate::helpers::*;

/// How many cookies named `name` the page sees (one per domain it sits on).
async fn count(b: &Browser, name: &str) -> usize {
    let all = b.eval("return document.cookie;").await;
    all.as_str()
        .unwrap()
        .split("; ")
        .filter(|c| c.split('=').next() == Some(name))
        .count()
}

/// `fb.{index}.{13-digit ms}.{payload}`: the payload, after checking the rest.
fn meta_payload(cookie: &str, index: u8) -> String {
    let parts: Vec<&str> = cookie.splitn(4, '.').collect();
    assert!(
        parts.len() == 4
            && parts[0] == "fb"
            && parts[1] == index.to_string()
            && parts[2].len() == 13
            && parts[2].bytes().all(|b| b.is_ascii_digit()),
        "{cookie}"
    );
    parts[3].to_owned()
}

/// `_fbp`'s random part: digits, below 2^31 - 1 as Meta draws it.
fn assert_fbp(fbp: &str, index: u8) {
    let random = meta_payload(fbp, index);
    let n: u64 = random.parse().unwrap_or_else(|_| panic!("{fbp}"));
    assert!(n < 2_147_483_647, "{fbp}");
}

/// A page on the site without the tag, to set cookies as another script would.
async fn blank(site: &MockServer) {
    Mock::given(path("/blank"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("<!doctype html>", "text/html"))
        .mount(site)
        .await;
}

async fn set_cookies(b: &Browser, origin: &str, cookies: &[&str]) {
    b.goto(&format!("{origin}/blank")).await;
    for c in cookies {
        b.eval(&format!("document.cookie = {};", json!(c))).await;
    }
}

#[tokio::test]
async fn an_fbclid_a_cookie_cannot_hold_is_written_once_percent_encoded() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let site = MockServer::start().await;
    lander(&site, "/lp", &app.address, "", FBQ, "").await;

    // `;` would end the cookie (it was written cut, on three domains); a space and non-ASCII
    // made the bridge refuse the click.
    for (click, fbclid, payload) in [
        ("kt-semi", "IwAR;abc", "IwAR%3Babc"),
        ("kt-mangled", "IwAR%20abc%E2%9C%93", "IwAR%20abc%E2%9C%93"),
    ] {
        b.goto(&format!(
            "{}/lp?subid={click}&fbclid={fbclid}",
            named(&site)
        ))
        .await;
        let row = click_row(&app, click).await;
        let (fbc, domain) = b.cookie("_fbc").await.expect("_fbc written");
        assert_eq!(meta_payload(&fbc, 1), payload);
        assert_eq!(domain, ".example.com");
        assert_eq!(count(&b, "_fbc").await, 1, "one _fbc");
        assert_eq!(count(&b, "_fbp").await, 1, "one _fbp");
        assert_eq!(row["fbc"], fbc.as_str());
        assert_eq!(row["fbclid"], payload, "the click's fbclid is the cookie's");
        no_errors(&b).await;
    }
    let (fbp, _) = b.cookie("_fbp").await.unwrap();
    assert_fbp(&fbp, 1);
    // The rules (cookies.js) live inside the tag's function too.
    assert_eq!(
        b.eval("return typeof validCookie + ' ' + typeof fbclidPayload + ' ' + typeof FBCLID_MAX;")
            .await,
        "undefined undefined undefined"
    );
}

#[tokio::test]
async fn a_malformed_fbc_or_fbp_is_replaced_and_a_valid_one_kept_byte_for_byte() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let site = MockServer::start().await;
    blank(&site).await;
    lander(&site, "/lp", &app.address, "", FBQ, "").await;
    let origin = named(&site);

    // Malformed, one of them on the host and one on the registrable domain: the bridge refused
    // the click for them, or the event lost its fbp.
    set_cookies(
        &b,
        &origin,
        &[
            "_fbc=fb.1.123.XYZ; path=/; domain=example.com",
            "_fbp=garbage; path=/",
        ],
    )
    .await;
    b.goto(&format!("{origin}/lp?subid=kt-bad&fbclid=XYZ"))
        .await;
    let row = click_row(&app, "kt-bad").await;
    let (fbc, _) = b.cookie("_fbc").await.unwrap();
    let (fbp, fbp_domain) = b.cookie("_fbp").await.unwrap();
    assert_eq!(meta_payload(&fbc, 1), "XYZ");
    assert_fbp(&fbp, 1);
    assert_eq!(fbp_domain, ".example.com");
    assert_eq!((count(&b, "_fbc").await, count(&b, "_fbp").await), (1, 1));
    assert_eq!((&row["fbc"], &row["fbp"]), (&json!(fbc), &json!(fbp)));

    // A malformed _fbc without an fbclid to replace it is not sent; the click still counts.
    set_cookies(&b, &origin, &["_fbc=garbage; path=/; domain=example.com"]).await;
    b.goto(&format!("{origin}/lp?subid=kt-nofbc")).await;
    let row = click_row(&app, "kt-nofbc").await;
    assert_eq!(row["fbc"], Value::Null);
    assert_eq!(row["fbp"], fbp.as_str(), "a valid _fbp stays");

    // Well-formed cookies, with the fifth segments Meta's builders write, stay byte for byte.
    let kept_fbc = "fb.1.1596403881668.IwAR_Kept.AQYCAQMA";
    let kept_fbp = "fb.1.1596403881668.1116446470.Bg";
    set_cookies(
        &b,
        &origin,
        &[
            &format!("_fbc={kept_fbc}; path=/; domain=example.com"),
            &format!("_fbp={kept_fbp}; path=/; domain=example.com"),
        ],
    )
    .await;
    b.goto(&format!("{origin}/lp?subid=kt-kept&fbclid=IwAR_Kept"))
        .await;
    let row = click_row(&app, "kt-kept").await;
    assert_eq!(
        (&row["fbc"], &row["fbp"]),
        (&json!(kept_fbc), &json!(kept_fbp))
    );
    assert_eq!(b.cookie("_fbc").await.unwrap().0, kept_fbc);
    assert_eq!(b.cookie("_fbp").await.unwrap().0, kept_fbp);
    assert_eq!((count(&b, "_fbc").await, count(&b, "_fbp").await), (1, 1));
    no_errors(&b).await;
}

#[tokio::test]
async fn the_subdomain_index_counts_the_cookie_domains_labels() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let site = MockServer::start().await;
    lander(&site, "/lp", &app.address, "", FBQ, "").await;
    let port = site.address().port();

    // Host-only on an IP address and on localhost (index 0); `.example.com` is 1 and
    // `.lander.co.uk` 2 (the browser refuses the public suffix `co.uk`).
    for (n, host, index, domain) in [
        (0, "127.0.0.1", 0, "127.0.0.1"),
        (1, "localhost", 0, "localhost"),
        (2, "www.example.com", 1, ".example.com"),
        (3, "www.lander.co.uk", 2, ".lander.co.uk"),
    ] {
        let click = format!("kt-index-{n}");
        b.goto(&format!(
            "http://{host}:{port}/lp?subid={click}&fbclid=IwAR_I"
        ))
        .await;
        let row = click_row(&app, &click).await;
        let (fbc, fbc_domain) = b.cookie("_fbc").await.expect("_fbc");
        let (fbp, fbp_domain) = b.cookie("_fbp").await.expect("_fbp");
        assert_eq!(meta_payload(&fbc, index), "IwAR_I", "{host}");
        assert_fbp(&fbp, index);
        assert_eq!((fbc_domain.as_str(), fbp_domain.as_str()), (domain, domain));
        assert_eq!((count(&b, "_fbc").await, count(&b, "_fbp").await), (1, 1));
        assert_eq!((&row["fbc"], &row["fbp"]), (&json!(fbc), &json!(fbp)));
        // The probe that found the domain is gone.
        assert_eq!(count(&b, "_capi_probe").await, 0);
        no_errors(&b).await;
    }
}
