//! Issue 21, item 1: a click belongs to the browser that registered it. Only a registration
//! with the click's update token (or the postback key) changes it; anyone may withdraw consent,
//! nobody else may grant it or add what the platforms receive; and a public answer never tells
//! whether a click id is known.

use reqwest::header::{ACCEPT, CONTENT_TYPE, USER_AGENT};
use serde_json::{json, Value};

use crate::helpers::*;

const FBP: &str = "fb.1.1596403881668.1116446470";
const FBC: &str = "fb.1.1596403881668.IwAR_stranger";
/// sha256("john_smith@gmail.com")
const EMAIL_HASH: &str = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";

/// What a stranger who read the click id in a lander URL sends: consent, customer data, a click
/// cookie, and the pixel's event ids.
fn rewrite(campaign: &str, click_id: &str) -> Value {
    json!({
        "campaign": campaign, "click_id": click_id, "consent": true,
        "em": "John_Smith@gmail.com", "ph": "+1 650 555 1212", "external_id": "crm-1",
        "fn": "john", "fbc": FBC, "fbclid": "IwAR_stranger", "ttclid": "E.C.P.stranger",
        "event_ids": {"Lead": "stranger-lead"}, "tiktok_event_ids": {"SubmitForm": "s-form"},
        "pixel_fired_at": {"Lead": chrono::Utc::now().timestamp_millis()},
    })
}

/// The stored columns a stranger must not reach.
async fn stored(app: &TestApp, click_id: &str) -> Value {
    sqlx::query_scalar(
        "SELECT jsonb_build_object('consent', consent, 'em', em, 'ph', ph, 'fn', fn, \
            'external_id', external_id, 'fbc', fbc, 'fbclid', fbclid, 'ttclid', ttclid, \
            'event_ids', event_ids, 'tiktok_event_ids', tiktok_event_ids, \
            'pixel_fired_at', pixel_fired_at, 'fbp', fbp) FROM clicks WHERE click_id = $1",
    )
    .bind(click_id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

/// Registers a click as the landing page does and returns its update token.
async fn visit(app: &TestApp, body: Value) -> String {
    let resp = app.register_click_public(body).await;
    assert_eq!(resp.status(), 201);
    take_update_token(&mut resp.json().await.unwrap())
}

async fn lead(app: &TestApp, click_id: &str) -> Value {
    let resp = app
        .postback("keitaro", &format!("subid={click_id}&status=lead"))
        .await;
    assert_eq!(resp.status(), 200, "postback {click_id}");
    resp.json().await.unwrap()
}

#[tokio::test]
async fn a_stranger_can_neither_grant_consent_nor_add_what_meta_receives() {
    let app = spawn_app().await;
    app.create_campaign("gated", json!({"require_consent": true}))
        .await;
    app.create_campaign("open", json!({})).await;

    // The visitor refused consent; a stranger says yes, without a token and with a made-up one.
    visit(
        &app,
        json!({"campaign": "gated", "click_id": "c-gated", "consent": false, "fbp": FBP}),
    )
    .await;
    let before = stored(&app, "c-gated").await;
    let resp = app.register_click_public(rewrite("gated", "c-gated")).await;
    assert_eq!(resp.status(), 201);
    let resp = app
        .register_click_with_token(rewrite("gated", "c-gated"), &"f".repeat(32))
        .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(stored(&app, "c-gated").await, before);
    assert_eq!(before["consent"], false);
    assert_eq!(lead(&app, "c-gated").await["status"], "suppressed");

    // On a campaign without consent, nothing the stranger sent reaches Meta.
    visit(
        &app,
        json!({"campaign": "open", "click_id": "c-open", "fbp": FBP}),
    )
    .await;
    let resp = app.register_click_public(rewrite("open", "c-open")).await;
    assert_eq!(resp.status(), 201);
    let body = lead(&app, "c-open").await;
    assert_eq!(body["status"], "accepted", "{body}");
    assert_eq!(app.deliver().await.delivered, 1);
    let events = app.graph_events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0]["event_id"], "Lead-c-open",
        "not the stranger's id"
    );
    assert_eq!(
        events[0]["user_data"],
        // The loopback address of the test's browser is never sent.
        json!({"fbp": FBP, "client_user_agent": BROWSER_UA}),
        "no em, ph, fn, external_id or fbc of the stranger's"
    );
    assert!(app.tiktok.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn anyone_may_withdraw_consent() {
    let app = spawn_app().await;
    app.create_campaign("gated", json!({"require_consent": true}))
        .await;
    visit(
        &app,
        json!({"campaign": "gated", "click_id": "c-yes", "consent": true}),
    )
    .await;

    let resp = app
        .register_click_public(
            json!({"campaign": "gated", "click_id": "c-yes", "consent": false, "em": "a@b.co"}),
        )
        .await;

    assert_eq!(resp.status(), 201);
    let now = stored(&app, "c-yes").await;
    assert_eq!((&now["consent"], &now["em"]), (&json!(false), &Value::Null));
    assert_eq!(lead(&app, "c-yes").await["status"], "suppressed");
}

#[tokio::test]
async fn the_token_holder_and_the_key_holder_may_change_the_click() {
    let app = spawn_app().await;
    app.create_campaign("gated", json!({"require_consent": true}))
        .await;

    // The page that registered the click: consent given later, with the email from its form.
    let token = visit(
        &app,
        json!({"campaign": "gated", "click_id": "c-own", "consent": false}),
    )
    .await;
    let resp = app
        .register_click_with_token(
            json!({"campaign": "gated", "click_id": "c-own", "consent": true,
                   "em": "John_Smith@gmail.com", "event_ids": {"Lead": "own-lead"}}),
            &token,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let mut body: Value = resp.json().await.unwrap();
    assert_eq!(
        take_update_token(&mut body),
        token,
        "the same token, still valid"
    );
    assert_eq!(body["event_ids"]["Lead"], "own-lead");

    // A server-side caller with the postback key.
    visit(
        &app,
        json!({"campaign": "gated", "click_id": "c-key", "consent": false}),
    )
    .await;
    let resp = app
        .register_click(
            json!({"campaign": "gated", "click_id": "c-key", "consent": true,
                               "ph": "+1 650 555 1212", "fbc": FBC}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body.get("update_token").is_none(),
        "the click keeps its token: {body}"
    );

    for click_id in ["c-own", "c-key"] {
        assert_eq!(lead(&app, click_id).await["status"], "accepted");
    }
    assert_eq!(app.deliver().await.delivered, 2);
    let events = app.graph_events().await;
    let own = events.iter().find(|e| e["event_id"] == "own-lead").unwrap();
    assert_eq!(own["user_data"]["em"], json!([EMAIL_HASH]));
    let key = events
        .iter()
        .find(|e| e["event_id"] == "Lead-c-key")
        .unwrap();
    assert_eq!(key["user_data"]["fbc"], FBC);
    assert!(key["user_data"]["ph"].is_array(), "{key}");
}

#[tokio::test]
async fn an_offered_token_becomes_the_clicks_and_a_malformed_one_is_replaced() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let mine = "0123456789abcdef0123456789abcdef";
    let resp = app
        .register_click_with_token(json!({"campaign": "offer1", "click_id": "c-off"}), mine)
        .await;
    assert_eq!(resp.status(), 201);
    let mut body: Value = resp.json().await.unwrap();
    assert_eq!(take_update_token(&mut body), mine);
    let resp = app
        .register_click_with_token(
            json!({"campaign": "offer1", "click_id": "c-off", "fbp": FBP}),
            mine,
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(stored(&app, "c-off").await["fbp"], FBP);

    // Too short to be unguessable: dropped, reported, and a new one made.
    let resp = app
        .register_click_with_token(json!({"campaign": "offer1", "click_id": "c-short"}), "abc")
        .await;
    assert_eq!(resp.status(), 201);
    let mut body: Value = resp.json().await.unwrap();
    let made = take_update_token(&mut body);
    assert_ne!(made, "abc");
    assert_eq!(body["ignored"], json!(["update_token"]), "{body}");
    assert_eq!(body["dropped"][0]["field"], "update_token", "{body}");
    // Only its hash is stored.
    let hash: Vec<u8> =
        sqlx::query_scalar("SELECT update_token_sha256 FROM clicks WHERE click_id = 'c-short'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    use sha2::Digest;
    assert_eq!(hash, sha2::Sha256::digest(made.as_bytes()).to_vec());
}

/// Status, content type and body of an answer, the body without `update_token` unless the
/// request offered one (then it is echoed, so it must match as well).
async fn seen(resp: reqwest::Response) -> (u16, String, Vec<u8>) {
    let status = resp.status().as_u16();
    let kind = resp.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
    let bytes = resp.bytes().await.unwrap().to_vec();
    let bytes = match serde_json::from_slice::<Value>(&bytes) {
        Ok(mut body) if body.get("update_token").is_some() && !offered(&body) => {
            take_update_token(&mut body);
            serde_json::to_vec(&body).unwrap()
        }
        _ => bytes,
    };
    (status, kind, bytes)
}

const OFFERED: &str = "offered-token-0123456789abcdef0123";

fn offered(body: &Value) -> bool {
    body["update_token"] == OFFERED
}

/// Every way a page can register, as a stranger probing click id `c-probe` would. With
/// `forget`, the click a probe registered is deleted before the next, so each meets an unknown id.
async fn probes(app: &TestApp, forget: bool) -> Vec<(u16, String, Vec<u8>)> {
    let body = json!({
        "campaign": "offer1", "click_id": "c-probe", "consent": true, "em": "not-an-email",
        "fbp": "garbage", "client_ip_address": "203.0.113.9", "event_ids": {"Lead": "probe"},
    });
    let mut with_token = body.clone();
    with_token["update_token"] = json!(OFFERED);
    let query = "campaign=offer1&click_id=c-probe&em=nope&event_ids%5BLead%5D=probe";
    let get = |accept: &'static str| {
        app.client
            .get(app.url(&format!("/v1/clicks?{query}")))
            .header(USER_AGENT, BROWSER_UA)
            .header(ACCEPT, accept)
            .send()
    };
    let mut out = Vec::new();
    for i in 0..5 {
        let resp = match i {
            0 => app.register_click_public(body.clone()).await,
            1 => app.register_click_public(with_token.clone()).await,
            2 => app
                .client
                .post(app.url("/v1/clicks"))
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(format!("{query}&consent=true"))
                .send()
                .await
                .unwrap(),
            3 => get("application/json").await.unwrap(),
            _ => get("image/*").await.unwrap(),
        };
        out.push(seen(resp).await);
        if forget {
            sqlx::query("DELETE FROM clicks")
                .execute(&app.pool)
                .await
                .unwrap();
        }
    }
    out
}

#[tokio::test]
async fn public_answers_are_the_same_whether_or_not_the_click_id_is_known() {
    let unknown = spawn_app().await;
    unknown.create_campaign("offer1", json!({})).await;
    unknown.create_campaign("offer2", json!({})).await;
    let want = probes(&unknown, true).await;
    assert_eq!(want[0].0, 201);

    // Registered by its visitor on this campaign, and on another campaign.
    for owner in ["offer1", "offer2"] {
        let known = spawn_app().await;
        known.create_campaign("offer1", json!({})).await;
        known.create_campaign("offer2", json!({})).await;
        visit(
            &known,
            json!({"campaign": owner, "click_id": "c-probe", "fbp": FBP, "em": "a@b.co",
                   "event_ids": {"Lead": "visitor-lead", "Purchase": "visitor-buy"}}),
        )
        .await;
        let got = probes(&known, false).await;
        for (i, (got, want)) in got.iter().zip(&want).enumerate() {
            assert_eq!(
                (got.0, &got.1, String::from_utf8_lossy(&got.2)),
                (want.0, &want.1, String::from_utf8_lossy(&want.2)),
                "probe {i} of a click id known on {owner}"
            );
        }
    }
}

#[tokio::test]
async fn in_one_batch_each_registration_counts_by_its_own_right() {
    use capi_bridge::domain::{ClickId, EventIds, UpdateToken};
    use capi_bridge::storage::clicks::{upsert_many, NewClick, Registrant, Written};

    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let campaign_id: i64 = sqlx::query_scalar("SELECT id FROM campaigns WHERE key = 'offer1'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let (mine, theirs) = (UpdateToken::generate(), UpdateToken::generate());
    let click = |token: &UpdateToken, registrant, consent, lead: &str| NewClick {
        click_id: ClickId::parse("c-batch").unwrap(),
        campaign_id,
        fbclid: None,
        fbc: None,
        fbp: None,
        event_source_url: None,
        referrer_url: None,
        client_ip_address: None,
        client_user_agent: None,
        consent,
        event_ids: EventIds::parse([("Lead".to_owned(), lead.to_owned())].into()).unwrap(),
        pixel_fired_at: Default::default(),
        customer: Default::default(),
        ttclid: None,
        ttp: None,
        tiktok_event_ids: Default::default(),
        dropped: Default::default(),
        registrant,
        update_token: token.hash(),
    };
    // The visitor's registration, a stranger's, the visitor's again, the stranger withdrawing
    // consent, and a server-side caller's: one group-commit batch, applied in arrival order.
    let batch = [
        click(&mine, Registrant::Public, Some(false), "mine"),
        click(&theirs, Registrant::Public, Some(true), "theirs"),
        click(&mine, Registrant::Public, Some(true), "mine-2"),
        click(&theirs, Registrant::Public, Some(false), "theirs-2"),
        click(&theirs, Registrant::Key, None, "key"),
    ];
    let mut tx = app.pool.begin().await.unwrap();
    let out = upsert_many(&mut tx, &batch).await.unwrap();
    tx.commit().await.unwrap();

    let written: Vec<Written> = out.iter().map(|u| u.written).collect();
    use Written::*;
    assert_eq!(written, [Inserted, Ignored, Merged, Ignored, Merged]);
    let lead = |i: usize| out[i].event_ids.as_map()["Lead"].clone();
    assert_eq!(
        (lead(1), lead(2)),
        ("theirs".to_owned(), "mine".to_owned()),
        "an ignored one answers its own ids; a merge the first registered"
    );
    let now = stored(&app, "c-batch").await;
    assert_eq!(
        now["consent"], false,
        "granted by the visitor, then withdrawn"
    );
    assert_eq!(now["event_ids"], json!({"Lead": "mine"}));
}
