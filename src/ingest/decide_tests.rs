//! `decide` across platforms: which platforms get an event, with which id, and why not.

use super::*;
use crate::domain::fixtures::{bare_click, campaign, conversion};
use crate::domain::{
    AccessToken, EventMap, HttpUrl, PlatformSkip, SendWhen, TikTokPixelCode, TikTokSettings,
};

fn map(pairs: &[(&str, Option<&str>)]) -> EventMap {
    EventMap::parse(
        pairs
            .iter()
            .map(|(w, e)| (w.to_string(), e.map(str::to_owned)))
            .collect(),
    )
    .unwrap()
}

fn tiktok(event_map: EventMap) -> TikTokSettings {
    TikTokSettings {
        pixel_code: TikTokPixelCode::parse("C4TT").unwrap(),
        access_token: AccessToken::new("sealed".into()),
        test_event_code: None,
        event_map,
        send_when: None,
    }
}

/// A web campaign on Meta and TikTok with the default maps and a landing page, sending every
/// conversion to both (`send_when: always`): the tests of ids and payloads use clicks without
/// platform signals.
fn both() -> Campaign {
    with_rules(
        both_by_default(),
        Some(SendWhen::Always),
        Some(SendWhen::Always),
    )
}

/// [`both`] with the default `send_when` (each platform its own clicks only).
fn both_by_default() -> Campaign {
    Campaign {
        landing_url: Some(HttpUrl::parse("https://lp.example.com/").unwrap()),
        tiktok: Some(tiktok(EventMap::tiktok_default())),
        ..campaign()
    }
}

fn with_rules(mut c: Campaign, meta: Option<SendWhen>, tiktok: Option<SendWhen>) -> Campaign {
    if let Some(m) = c.meta.as_mut() {
        m.send_when = meta;
    }
    if let Some(t) = c.tiktok.as_mut() {
        t.send_when = tiktok;
    }
    c
}

fn click() -> Click {
    Click {
        client_user_agent: Some("Mozilla/5.0".into()),
        ..bare_click()
    }
}

fn postback(status: &str, txid: &str) -> Conversion {
    Conversion {
        raw_status: status.into(),
        status: status.into(),
        txid: txid.into(),
        ..conversion()
    }
}

/// (platform, event name, event id) of each planned event.
fn planned(d: &Decision) -> Vec<(PlatformKind, &str, &str)> {
    d.events
        .iter()
        .map(|e| (e.platform, e.event_name.as_str(), e.event_id.as_str()))
        .collect()
}

#[test]
fn each_platform_whose_map_sends_the_status_gets_its_own_event_and_id() {
    use PlatformKind::{Meta, TikTok};
    let tiktok_only = Campaign {
        meta: None,
        ..both()
    };
    let tiktok_names = Campaign {
        tiktok: Some(tiktok(map(&[("lead", Some("SubmitForm")), ("sale", None)]))),
        ..both()
    };
    let tiktok_names = with_rules(tiktok_names, Some(SendWhen::Always), Some(SendWhen::Always));
    let mut registered = click();
    registered.event_ids = EventIds::parse([("Lead".into(), "fb-1".into())].into()).unwrap();
    registered.tiktok_event_ids = EventIds::parse([("Lead".into(), "tt-1".into())].into()).unwrap();
    let used = [(TikTok, "Purchase".to_owned())];
    let (both, plain) = (both(), click());
    // (campaign, click, status, used events, expected events)
    type Used<'a> = &'a [(PlatformKind, String)];
    let cases: Vec<(&Campaign, &Click, &str, Used, Vec<_>)> = vec![
        (
            &both,
            &plain,
            "lead",
            &[],
            vec![(Meta, "Lead", "Lead-clk1"), (TikTok, "Lead", "Lead-clk1")],
        ),
        (
            &both,
            &registered,
            "lead",
            &[],
            vec![(Meta, "Lead", "fb-1"), (TikTok, "Lead", "tt-1")],
        ),
        (
            &tiktok_names,
            &plain,
            "lead",
            &[],
            vec![
                (Meta, "Lead", "Lead-clk1"),
                (TikTok, "SubmitForm", "SubmitForm-clk1"),
            ],
        ),
        // TikTok's map does not send sales: Meta alone.
        (
            &tiktok_names,
            &plain,
            "sale",
            &[],
            vec![(Meta, "Purchase", "Purchase-clk1")],
        ),
        (
            &tiktok_only,
            &plain,
            "sale",
            &[],
            vec![(TikTok, "Purchase", "Purchase-clk1")],
        ),
        // TikTok already had a Purchase on this click, Meta not: only TikTok's id is suffixed.
        (
            &both,
            &plain,
            "rebill",
            &used,
            vec![
                (Meta, "Purchase", "Purchase-clk1"),
                (TikTok, "Purchase", "Purchase-clk1-T2"),
            ],
        ),
    ];
    for (campaign, click, status, used, want) in cases {
        let conv = postback(status, if status == "rebill" { "T2" } else { "" });
        let d = decide(Some(campaign), Some(click), &conv, used);
        assert_eq!(d.state, ConversionState::Queued, "{status}: {d:?}");
        assert_eq!(planned(&d), want, "{status}");
        assert_eq!(
            d.event_name.as_deref(),
            Some(want[0].1),
            "the first platform's name"
        );
        assert_eq!(d.failure_reason, None);
    }
}

#[test]
fn the_payload_is_each_platforms_own_format() {
    let d = decide(Some(&both()), Some(&click()), &postback("lead", ""), &[]);
    let [meta, tiktok] = &d.events[..] else {
        panic!("{d:?}")
    };
    assert_eq!(meta.payload["event_name"], "Lead");
    assert_eq!(meta.payload["action_source"], "website");
    assert_eq!(tiktok.payload["event"], "Lead");
    assert_eq!(tiktok.payload["event_id"], "Lead-clk1");
    assert_eq!(tiktok.payload["page"]["url"], "https://lp.example.com/");
    assert!(tiktok.payload.get("action_source").is_none());
}

#[test]
fn a_status_no_platform_sends_is_skipped_naming_each_platform_only_when_there_are_several() {
    let meta_only = campaign();
    let d = decide(
        Some(&meta_only),
        Some(&click()),
        &postback("rejected", ""),
        &[],
    );
    assert_eq!(d.state, ConversionState::Skipped);
    assert_eq!(
        d.failure_reason.as_deref(),
        Some("status \"rejected\" maps to no event (null in the event map)")
    );
    let d = decide(Some(&both()), Some(&click()), &postback("hold", ""), &[]);
    assert_eq!(d.state, ConversionState::Skipped);
    assert_eq!(
        d.failure_reason.as_deref(),
        Some(
            "Meta: status \"hold\" is not in the event map; \
             TikTok: status \"hold\" is not in the event map"
        )
    );
    assert!(d.events.is_empty());
}

#[test]
fn one_platform_that_cannot_build_its_event_leaves_the_other_queued() {
    // Meta refuses a website event without a user agent; TikTok does not need one.
    let no_ua = bare_click();
    let d = decide(Some(&both()), Some(&no_ua), &postback("lead", ""), &[]);
    assert_eq!(d.state, ConversionState::Queued);
    assert_eq!(
        planned(&d),
        vec![(PlatformKind::TikTok, "Lead", "Lead-clk1")]
    );
    let reason = d.failure_reason.clone().unwrap();
    assert!(reason.starts_with("Meta: "), "{reason}");
    assert!(reason.contains("client_user_agent"), "{reason}");
    // Meta's event is stored failed, with the id its pixel got, for a retry to build.
    let [unbuilt] = &d.unbuilt[..] else {
        panic!("{d:?}")
    };
    assert_eq!(
        (unbuilt.platform, unbuilt.event_id.as_str()),
        (PlatformKind::Meta, "Lead-clk1")
    );
    assert!(unbuilt.reason.contains("client_user_agent"));

    let meta_only = Campaign {
        landing_url: Some(HttpUrl::parse("https://lp.example.com/").unwrap()),
        ..campaign()
    };
    let d = decide(Some(&meta_only), Some(&no_ua), &postback("lead", ""), &[]);
    assert_eq!(d.state, ConversionState::Failed);
    assert!(d.events.is_empty());
    assert!(
        d.unbuilt.is_empty(),
        "nothing stored: the conversion itself failed"
    );
}

#[test]
fn consent_suppresses_every_platform() {
    let campaign = Campaign {
        require_consent: true,
        ..both()
    };
    let d = decide(Some(&campaign), Some(&click()), &postback("lead", ""), &[]);
    assert_eq!(d.state, ConversionState::Suppressed);
    assert!(d.events.is_empty());
}

#[test]
fn a_negative_payout_is_a_refund_recorded_and_never_sent() {
    let fixed = Campaign {
        value_source: crate::domain::ValueSource::Fixed(25.0),
        ..both()
    };
    for (what, campaign, payout, state) in [
        ("a refund", both(), Some(-12.5), ConversionState::Skipped),
        (
            "a refund, fixed value",
            fixed,
            Some(-0.01),
            ConversionState::Skipped,
        ),
        ("no payout", both(), None, ConversionState::Queued),
        ("zero", both(), Some(0.0), ConversionState::Queued),
        ("a sale", both(), Some(12.5), ConversionState::Queued),
    ] {
        let conv = Conversion {
            payout,
            ..postback("sale", "t1")
        };
        let d = decide(Some(&campaign), Some(&click()), &conv, &[]);
        assert_eq!(d.state, state, "{what}");
        if state == ConversionState::Skipped {
            assert!(d.events.is_empty() && d.unbuilt.is_empty(), "{what}");
            let reason = d.failure_reason.unwrap();
            assert!(
                reason.starts_with("refund: the payout is negative ("),
                "{reason}"
            );
            assert!(reason.contains("not sent as Purchase"), "{reason}");
        } else {
            assert_eq!(d.events.len(), 2, "{what}");
        }
    }
}

/// `send_when`: which platforms a conversion goes to by its click's signals.
#[path = "decide_send_when_tests.rs"]
mod send_when;
