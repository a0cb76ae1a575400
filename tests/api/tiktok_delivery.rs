//! One postback, two platforms: Meta and TikTok each get the conversion with the event id its
//! own pixel got, each is retried, parked and cancelled on its own, and campaigns from before
//! TikTok keep working unchanged. Here: the fan-out and TikTok's digests; TikTok failing in
//! `tiktok_delivery_failures.rs`; campaigns gaining and losing TikTok in
//! `tiktok_delivery_campaigns.rs`.

use crate::helpers::tiktok::{tiktok_settings, FAKE_REQUEST_ID, TIKTOK_PIXEL, TIKTOK_TOKEN};
use crate::helpers::tiktok_delivery::*;
use crate::helpers::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

fn sha256(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

// ---------------------------------------------------------------------------------------------
// Fan-out: each platform gets its own pixel's event id
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_postback_reaches_both_platforms_each_with_the_id_its_pixel_registered() {
    let app = spawn_app().await;
    app.create_campaign_with_tiktok("both", json!({})).await;

    let events = lead(
        &app,
        "both",
        "c1",
        json!({
            "event_ids": {"Lead": "fb-lead-c1"},
            "tiktok_event_ids": {"Lead": "tt-lead-c1"},
            "ttclid": TTCLID, "ttp": TTP,
        }),
    )
    .await;
    assert_eq!(
        events,
        json!([
            {"platform": "meta", "event_name": "Lead", "event_id": "fb-lead-c1"},
            {"platform": "tiktok", "event_name": "Lead", "event_id": "tt-lead-c1"},
        ])
    );

    assert_eq!(app.deliver().await, report(2, 2, 2, 0));
    let meta = app.graph_events().await;
    assert_eq!(ids(&meta), ["fb-lead-c1"]);
    assert_eq!(meta[0]["event_name"], "Lead");
    let requests = app.tiktok_requests().await;
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.access_token, TIKTOK_TOKEN);
    assert_eq!(r.body["event_source_id"], TIKTOK_PIXEL);
    assert!(r.body.get("test_event_code").is_none(), "{}", r.body);
    let tt = &r.body["data"][0];
    assert_eq!(
        (&tt["event"], &tt["event_id"]),
        (&json!("Lead"), &json!("tt-lead-c1"))
    );
    assert_eq!(
        (&tt["user"]["ttclid"], &tt["user"]["ttp"]),
        (&json!(TTCLID), &json!(TTP))
    );
    assert_eq!(tt["user"]["user_agent"], BROWSER_UA);
    assert_eq!(tt["page"]["url"], LANDING_URL);

    let rows = outbox(&app).await;
    for key in [("meta", "fb-lead-c1"), ("tiktok", "tt-lead-c1")] {
        let row = &rows[&(key.0.to_owned(), key.1.to_owned())];
        assert_eq!((row.state.as_str(), row.attempts), ("sent", 1), "{key:?}");
    }
    // TikTok's request_id is kept on the attempt as its trace id.
    assert_eq!(
        last_tiktok_attempt(&app, "tt-lead-c1").await,
        ("sent".into(), Some(200), None, Some(FAKE_REQUEST_ID.into()))
    );

    // Sent is final on both sides.
    assert_eq!(app.deliver().await.claimed, 0);
}

#[tokio::test]
async fn without_registered_ids_each_platform_gets_the_template_with_its_own_event_name() {
    let app = spawn_app().await;
    let mut tiktok = tiktok_settings();
    tiktok["event_map"] = json!({"lead": "SubmitForm", "sale": "CompletePayment"});
    app.create_campaign_with_tiktok("tmpl", json!({ "tiktok": tiktok }))
        .await;

    let events = lead(&app, "tmpl", "c2", json!({"ttclid": TTCLID})).await;
    assert_eq!(
        answered(&events),
        [
            ("meta".into(), "Lead-c2".into()),
            ("tiktok".into(), "SubmitForm-c2".into())
        ]
    );
    assert_eq!(app.deliver().await, report(2, 2, 2, 0));
    assert_eq!(ids(&app.graph_events().await), ["Lead-c2"]);
    let tt = app.tiktok_events().await;
    assert_eq!(ids(&tt), ["SubmitForm-c2"]);
    assert_eq!(tt[0]["event"], "SubmitForm");
}

// ---------------------------------------------------------------------------------------------
// Hashing: TikTok's own normalisation, as the fake receives it
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn tiktoks_digests_follow_the_reference_normalisation() {
    let app = spawn_app().await;
    app.create_campaign_with_tiktok("hash", json!({})).await;
    let carol = sha256("carol@example.net");
    let hashed_id = sha256("u_77");
    // (click, em, ph, external_id) as the landing page sends them, and what the reference
    // (docs/reference/tiktok-events.md) makes of them: email trimmed and lowercased, phone in
    // E.164 with the '+', external_id as given (trimmed, case kept: Meta lowercases it), a value
    // that already is a digest passed through.
    let vectors = [
        (
            "h1",
            " Alice.Smith@Example.COM ",
            "+1 (213) 373-4253",
            " CRM-8431 ",
            ("alice.smith@example.com", "+12133734253", "CRM-8431"),
        ),
        (
            "h2",
            "bob@example.org",
            "0044 20 7946 0958",
            hashed_id.as_str(),
            ("bob@example.org", "+442079460958", "u_77"),
        ),
        (
            "h3",
            carol.as_str(),
            "16505551212",
            "42",
            ("carol@example.net", "+16505551212", "42"),
        ),
    ];
    for (click, em, ph, ext, _) in &vectors {
        lead(
            &app,
            "hash",
            click,
            json!({"em": em, "ph": ph, "external_id": ext}),
        )
        .await;
    }
    app.deliver().await;

    let tiktok: HashMap<String, Value> = app
        .tiktok_events()
        .await
        .into_iter()
        .map(|e| (e["event_id"].as_str().unwrap().to_owned(), e))
        .collect();
    let meta: HashMap<String, Value> = app
        .graph_events()
        .await
        .into_iter()
        .map(|e| (e["event_id"].as_str().unwrap().to_owned(), e))
        .collect();
    for (click, _, _, _, (em, ph, ext)) in &vectors {
        let user = &tiktok[&format!("Lead-{click}")]["user"];
        assert_eq!(user["email"], sha256(em), "{click} email");
        assert_eq!(user["phone"], sha256(ph), "{click} phone");
        assert_eq!(user["external_id"], sha256(ext), "{click} external_id");
        // Meta hashes the same number without the '+', and the id lowercased.
        let meta_user = &meta[&format!("Lead-{click}")]["user_data"];
        let first = |v: &'static str| meta_user[v].get(0).unwrap_or(&meta_user[v]).clone();
        assert_eq!(first("ph"), sha256(&ph[1..]), "{click} Meta's phone");
        let meta_ext = sha256(&ext.to_lowercase());
        assert_eq!(first("external_id"), meta_ext, "{click} Meta's external_id");
    }
}
