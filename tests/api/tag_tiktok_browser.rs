//! The landing tag and TikTok's pixel in a real browser: the `ttclid` cookie, `_ttp`, and
//! `ttq.track` handed the event id the server's TikTok event will carry. A stand-in `ttq`
//! records its calls, as `FBQ` does for Meta's pixel. Landers install the README's line, so each
//! test's campaign is `offer1`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use serde_json::{json, Value};
use wiremock::MockServer;

use crate::browser::*;
use crate::helpers::*;

/// TikTok's pixel stand-in: `ttq.track(event, props, {event_id})` recorded in `ttqCalls`.
const TTQ: &str = "<script>window.ttqCalls=[];window.ttq={track:function(){ttqCalls.push([].slice.call(arguments))}};</script>";
const TTCLID: &str = "E.C.P.CqgBx9Z3eWc-Ab_1";
const TTP: &str = "2Nf3kJ8qL0xYzAbCdEfGhIjKlMn";

/// TikTok settings: `event_map` or, when null, TikTok's default map.
fn tiktok(event_map: Value) -> Value {
    let mut settings = json!({"pixel_code": "C4TIKTOK0123", "access_token": "tt-secret-token-1"});
    if !event_map.is_null() {
        settings["event_map"] = event_map;
    }
    settings
}

/// The admin view of a click once `ready` holds for it.
async fn click_view(app: &TestApp, click_id: &str, ready: fn(&Value) -> bool) -> Value {
    let path = format!("/admin/v1/clicks/{click_id}");
    wait_for("the click", Duration::from_secs(10), || async {
        let resp = app.admin(Method::GET, &path, None).await;
        let view: Value = resp.json().await.unwrap();
        if ready(&view) {
            Ok(view)
        } else {
            Err(view.to_string())
        }
    })
    .await
}

#[tokio::test]
async fn ttq_gets_the_id_the_servers_tiktok_event_carries_and_ttclid_is_kept() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    // `{txid}` renders empty in the browser: the ids match only through the registration.
    app.create_campaign(
        "offer1",
        json!({"event_id_template": "{campaign}:{event_name}:{click_id}:{txid}",
               "tiktok": tiktok(json!({"lead": "SubmitForm", "sale": "Purchase"}))}),
    )
    .await;
    let site = MockServer::start().await;
    let ttp = format!("<script>document.cookie = '_ttp={TTP}; path=/';</script>");
    let track = "<script>capiBridge.track('Lead', {content_name: 'form'});</script>";
    lander(
        &site,
        "/lp",
        &app.address,
        "",
        &format!("{FBQ}{TTQ}{ttp}"),
        track,
    )
    .await;

    b.goto(&format!("{}/lp?ttclid={TTCLID}&subid=kt-tt1", named(&site)))
        .await;
    let fired = b.wait("ttq", "ttqCalls.length && ttqCalls").await;
    let id = "offer1:SubmitForm:kt-tt1:";
    assert_eq!(
        fired,
        json!([["SubmitForm", {"content_name": "form"}, {"event_id": id}]])
    );
    assert_eq!(
        b.eval("return fbqCalls;").await,
        json!([["track", "Lead", {"content_name": "form"}, {"eventID": "offer1:Lead:kt-tt1:"}]])
    );
    let (ttclid, domain) = b.cookie("ttclid").await.expect("ttclid cookie written");
    assert_eq!((ttclid.as_str(), domain.as_str()), (TTCLID, ".example.com"));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let days = (b.cookie_expiry("ttclid").await.unwrap() - now) as f64 / 86400.0;
    assert!((29.9..=30.0).contains(&days), "ttclid kept {days} days");

    let view = click_view(&app, "kt-tt1", |v| {
        v["tiktok_event_ids"]["SubmitForm"].is_string() && v["ttp"].is_string()
    })
    .await;
    assert_eq!(
        view["tiktok_event_ids"],
        json!({"SubmitForm": id, "Purchase": "offer1:Purchase:kt-tt1:"})
    );
    assert_eq!(view["event_ids"]["Lead"], "offer1:Lead:kt-tt1:");
    assert_eq!(
        (&view["ttclid"], &view["ttp"]),
        (&json!(TTCLID), &json!(TTP))
    );

    let resp = app
        .postback(
            "keitaro",
            "subid=kt-tt1&status=lead&campaign=offer1&tid=tx9&ip=198.51.100.4&ua=Mozilla%2F5.0",
        )
        .await;
    assert!(resp.status().is_success());
    let answer: Value = resp.json().await.unwrap();
    let mut events = answer["events"].as_array().cloned().unwrap_or_default();
    events.sort_by_key(|e| e["platform"].to_string());
    assert_eq!(
        events,
        [
            json!({"platform": "meta", "event_name": "Lead", "event_id": "offer1:Lead:kt-tt1:"}),
            json!({"platform": "tiktok", "event_name": "SubmitForm", "event_id": id}),
        ],
        "{answer}"
    );

    // The next page of the visit has no ttclid in its address: the cookie's goes with the click.
    b.goto(&format!("{}/lp?subid=kt-tt2", named(&site))).await;
    let row = wait_for(
        "kt-tt2 with the cookie's ttclid",
        Duration::from_secs(10),
        || async {
            let row = click_row(&app, "kt-tt2").await;
            if row["ttclid"] == TTCLID {
                Ok(row)
            } else {
                Err(row.to_string())
            }
        },
    )
    .await;
    assert_eq!(row["ttclid"], TTCLID);
    no_errors(&b).await;
}

#[tokio::test]
async fn a_tiktok_only_lander_waits_for_ttq_and_picks_up_a_late_ttp() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_campaign(
        "offer1",
        json!({"pixel_id": null, "access_token": null, "tiktok": tiktok(Value::Null)}),
    )
    .await;
    let site = MockServer::start().await;
    // TikTok's pixel arrives 1.2 s after the tag, and writes `_ttp` then.
    let late_pixel = format!(
        "<script>setTimeout(function () {{ document.cookie = '_ttp={TTP}; path=/'; \
         window.ttqCalls = []; window.ttq = {{track: function () {{ \
         ttqCalls.push([].slice.call(arguments)); }}}}; }}, 1200);</script>"
    );
    let thanks = format!(
        "<script>capiBridge.track('Purchase', {{value: 49, currency: 'USD'}});</script>{late_pixel}"
    );
    lander(&site, "/thanks", &app.address, "", FBQ, &thanks).await;
    lander(&site, "/quiet", &app.address, "", FBQ, &late_pixel).await;

    b.goto(&format!("{}/thanks?subid=kt-tt3", site.uri())).await;
    let fired = b
        .wait("the late ttq", "window.ttqCalls && ttqCalls[0]")
        .await;
    assert_eq!(
        fired,
        json!(["Purchase", {"value": 49, "currency": "USD"}, {"event_id": "Purchase-kt-tt3"}])
    );
    assert_eq!(b.eval("return fbqCalls;").await, json!([]), "no Meta here");
    let view = click_view(&app, "kt-tt3", |v| v["ttp"].is_string()).await;
    assert_eq!(
        view["tiktok_event_ids"],
        json!({"Lead": "Lead-kt-tt3", "Purchase": "Purchase-kt-tt3"})
    );
    assert_eq!(
        (&view["event_ids"], &view["ttp"]),
        (&json!({}), &json!(TTP))
    );
    no_errors(&b).await;

    // A lander that tracks nothing still gets `_ttp` to the click (another host: no cookie yet).
    b.goto(&format!("{}/quiet?subid=kt-tt4", named(&site)))
        .await;
    let view = click_view(&app, "kt-tt4", |v| v["ttp"].is_string()).await;
    assert_eq!(view["ttp"], TTP);
    assert_eq!(b.eval("return ttqCalls;").await, json!([]));
    no_errors(&b).await;
}

#[tokio::test]
async fn a_campaign_without_tiktok_never_calls_ttq() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let site = MockServer::start().await;
    let track = "<script>capiBridge.track('Lead'); capiBridge.track('Purchase');</script>";
    lander(
        &site,
        "/lp",
        &app.address,
        "",
        &format!("{FBQ}{TTQ}"),
        track,
    )
    .await;

    b.goto(&format!("{}/lp?subid=kt-tt5&ttclid={TTCLID}", site.uri()))
        .await;
    b.wait("both Meta events", "fbqCalls.length === 2").await;
    // A TikTok event is decided within the `track` call that fired Meta's: it calls ttq or, if
    // ttq has not loaded, sends its id at once and retries ttq later. Neither happened.
    assert_eq!(b.eval("return ttqCalls;").await, json!([]));
    let sent = sent(&b).await;
    assert!(
        sent.iter().all(|body| !body.contains("tiktok_event_ids")),
        "{sent:?}"
    );
    let row = click_row(&app, "kt-tt5").await;
    assert_eq!(row["tiktok_event_ids"], json!({}));
    // TikTok's click id is kept all the same: the campaign may add TikTok later.
    assert_eq!(row["ttclid"], TTCLID);
    no_errors(&b).await;
}
