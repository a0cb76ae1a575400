//! TikTok failing while Meta delivers: an outage, a refused token, one bad event.

use wiremock::{Request, Respond, ResponseTemplate};

use crate::helpers::outbox::{counts, event_states, make_due_now};
use crate::helpers::tiktok::{FakeTikTok, FAKE_REQUEST_ID};
use crate::helpers::tiktok_delivery::*;
use crate::helpers::*;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// Outage: TikTok down while Meta delivers at once, then TikTok drains without doubles
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn tiktok_down_does_not_delay_meta_and_drains_once_it_recovers() {
    let app = spawn_app().await;
    app.create_campaign_with_tiktok("outage", json!({})).await;
    // TikTok down behind its load balancer: an HTML 502.
    answers(
        &app.tiktok,
        ResponseTemplate::new(502).set_body_string("<html>502 Bad Gateway</html>"),
    )
    .await;
    for c in ["o1", "o2", "o3"] {
        lead(&app, "outage", c, json!({})).await;
    }
    assert_eq!(app.deliver().await, report(6, 2, 3, 3));
    assert_eq!(
        ids(&app.graph_events().await),
        sorted(&["Lead-o1", "Lead-o2", "Lead-o3"])
    );
    assert_eq!(
        event_states(&app, Some("meta")).await,
        counts(&[("sent", 3)])
    );
    assert_eq!(
        event_states(&app, Some("tiktok")).await,
        counts(&[("pending", 3)])
    );
    let (outcome, status, code, _) = last_tiktok_attempt(&app, "Lead-o1").await;
    assert_eq!(
        (outcome.as_str(), status, code),
        ("transient_error", Some(502), None)
    );

    // Still down, now as TikTok's rate limit on HTTP 200 (code 40100): retried again.
    answers(
        &app.tiktok,
        FakeTikTok::code(40100, "App reaches the QPS limit"),
    )
    .await;
    make_due_now(&app).await;
    assert_eq!(app.deliver().await, report(3, 1, 0, 3));
    assert_eq!(
        last_tiktok_attempt(&app, "Lead-o2").await,
        (
            "transient_error".into(),
            Some(200),
            Some(40100),
            Some(FAKE_REQUEST_ID.into())
        )
    );

    // A conversion during the outage: Meta's event goes at once, TikTok's waits for TikTok's
    // next retry of this campaign (no request to TikTok in this pass).
    let before = app.tiktok_requests().await.len();
    lead(&app, "outage", "o4", json!({})).await;
    let r = app.deliver().await;
    assert_eq!((r.claimed, r.requests, r.delivered), (2, 1, 1), "{r:?}");
    assert_eq!(app.tiktok_requests().await.len(), before);
    assert_eq!(app.graph_events().await.len(), 4);
    assert_eq!(
        event_states(&app, Some("tiktok")).await,
        counts(&[("pending", 4)])
    );

    // TikTok recovers: everything drains, each event id once.
    answers(&app.tiktok, FakeTikTok::ok()).await;
    make_due_now(&app).await;
    assert_eq!(app.deliver().await, report(4, 1, 4, 0));
    let all = sorted(&["Lead-o1", "Lead-o2", "Lead-o3", "Lead-o4"]);
    assert_eq!(ids(&app.tiktok_events().await), all);
    assert_eq!(
        event_states(&app, Some("tiktok")).await,
        counts(&[("sent", 4)])
    );
    make_due_now(&app).await;
    assert_eq!(app.deliver().await.claimed, 0);
    assert_eq!(app.tiktok_events().await.len(), 4, "no event id twice");
    // Meta was asked once per event, the outage notwithstanding.
    assert_eq!(ids(&app.graph_events().await), all);
}

// ---------------------------------------------------------------------------------------------
// Token errors park TikTok's events only, until TikTok's token changes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_tiktok_token_error_parks_only_tiktok_until_its_token_is_patched() {
    for (code, message) in [
        (40105, "Access token is incorrect or has been revoked."),
        (40001, "No permission to operate pixel"),
    ] {
        let app = spawn_app().await;
        app.create_campaign_with_tiktok("tok", json!({})).await;
        answers(&app.tiktok, FakeTikTok::code(code, message)).await;
        lead(&app, "tok", "a1", json!({})).await;
        let r = app.deliver().await;
        assert_eq!(
            (r.claimed, r.requests, r.delivered, r.failed),
            (2, 2, 1, 1),
            "{code}: {r:?}"
        );
        let parked = Row {
            state: "failed".into(),
            failure_class: Some("auth".into()),
            attempts: 1,
        };
        assert_eq!(
            outbox(&app).await[&("tiktok".into(), "Lead-a1".into())],
            parked
        );

        // A later conversion: Meta's event is sent, TikTok's parked without a request.
        lead(&app, "tok", "a2", json!({})).await;
        let r = app.deliver().await;
        assert_eq!(
            (r.claimed, r.requests, r.delivered, r.failed),
            (2, 1, 1, 1),
            "{code}: {r:?}"
        );
        assert_eq!(app.tiktok_requests().await.len(), 1, "{code}");
        assert_eq!(
            event_states(&app, Some("meta")).await,
            counts(&[("sent", 2)])
        );
        assert_eq!(
            event_states(&app, Some("tiktok")).await,
            counts(&[("failed", 2)])
        );

        // Neither Meta's token nor a rename wakes TikTok's events.
        app.patch_campaign_ok(
            "tok",
            json!({"name": "Renamed", "access_token": "EAAother-meta-token-1"}),
        )
        .await;
        make_due_now(&app).await;
        assert_eq!(app.deliver().await.claimed, 0, "{code}");
        assert_eq!(
            event_states(&app, Some("tiktok")).await,
            counts(&[("failed", 2)])
        );

        // TikTok's new token re-queues them; they go out with it.
        answers(&app.tiktok, FakeTikTok::ok()).await;
        let new_token = "tt-events-token-refreshed-42";
        let body = app
            .patch_campaign_ok("tok", json!({"tiktok": {"access_token": new_token}}))
            .await;
        assert_eq!(body["tiktok"]["access_token_set"], true, "{body}");
        assert!(body["tiktok"].get("access_token").is_none(), "{body}");
        assert_eq!(app.deliver().await, report(2, 1, 2, 0));
        let requests = app.tiktok_requests().await;
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].access_token, new_token);
        assert_eq!(
            ids(&app.tiktok_events().await),
            sorted(&["Lead-a1", "Lead-a2"])
        );
        assert_eq!(
            event_states(&app, Some("tiktok")).await,
            counts(&[("sent", 2)])
        );
        // Meta got each of its events once, all along.
        assert_eq!(
            ids(&app.graph_events().await),
            sorted(&["Lead-a1", "Lead-a2"])
        );
    }
}

// ---------------------------------------------------------------------------------------------
// A bad event is isolated, as with Meta
// ---------------------------------------------------------------------------------------------

/// TikTok's parameter error (40002) for requests carrying `bad`, its success otherwise.
struct RejectTikTok {
    bad: String,
}

impl Respond for RejectTikTok {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let carries_bad = body["data"]
            .as_array()
            .is_some_and(|d| d.iter().any(|e| e["event_id"] == self.bad.as_str()));
        if carries_bad {
            FakeTikTok::code(40002, "Invalid value for event_id: not a valid string.").respond(req)
        } else {
            FakeTikTok::ok().respond(req)
        }
    }
}

#[tokio::test]
async fn a_tiktok_parameter_error_isolates_the_bad_event() {
    let app = spawn_app().await;
    app.create_campaign_with_tiktok("split", json!({})).await;
    let clicks: Vec<String> = (0..10).map(|i| format!("s{i:02}")).collect();
    for c in &clicks {
        lead(&app, "split", c, json!({})).await;
    }
    let bad = "Lead-s07".to_owned();
    answers(&app.tiktok, RejectTikTok { bad: bad.clone() }).await;

    let r = app.deliver().await;
    assert_eq!(
        (r.claimed, r.delivered, r.failed, r.retrying, r.expired),
        (20, 19, 1, 0, 0),
        "{r:?}"
    );
    let requests = app.tiktok_requests().await;
    assert_eq!(requests[0].body["data"].as_array().unwrap().len(), 10);
    // Bisection: at most two requests per halving of 10.
    assert!(requests.len() <= 9, "{} requests", requests.len());
    let mut accepted = Vec::new();
    let mut alone = 0;
    for r in &requests {
        let in_request = ids(r.body["data"].as_array().unwrap());
        if in_request == [bad.clone()] {
            alone += 1;
        }
        if !in_request.contains(&bad) {
            accepted.extend(in_request);
        }
    }
    assert_eq!(alone, 1, "the bad event was tried alone once");
    accepted.sort();
    let good: Vec<String> = clicks
        .iter()
        .map(|c| format!("Lead-{c}"))
        .filter(|id| *id != bad)
        .collect();
    assert_eq!(accepted, good, "each good event accepted exactly once");
    let rows = outbox(&app).await;
    assert_eq!(
        rows[&("tiktok".into(), bad.clone())],
        Row {
            state: "failed".into(),
            failure_class: Some("invalid".into()),
            attempts: 1
        }
    );
    let (outcome, _, code, _) = last_tiktok_attempt(&app, &bad).await;
    assert_eq!((outcome.as_str(), code), ("invalid", Some(40002)));
    assert_eq!(
        event_states(&app, Some("tiktok")).await,
        counts(&[("sent", 9), ("failed", 1)])
    );
    // Meta's copy of the bad event is fine: all ten went in one request.
    assert_eq!(
        event_states(&app, Some("meta")).await,
        counts(&[("sent", 10)])
    );
    assert_eq!(app.graph_requests().await.len(), 1);
}
