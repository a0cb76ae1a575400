//! `decide` and `send_when`: each platform by its own click signal, the rule and the number of
//! platforms.

use super::*;

/// The click's (or the postback's own) platform signals a case sets.
#[derive(Debug, Clone, Copy)]
enum Signal {
    Nothing,
    ClickFbclid,
    ClickFbc,
    ClickFbp,
    PostbackFbclid,
    ClickTtclid,
    ClickTtp,
    PostbackTtclid,
    /// A blank fbclid is no signal.
    BlankFbclid,
    BothPlatforms,
}

fn with_signal(signal: Signal) -> (Click, Conversion) {
    let (mut k, mut c) = (click(), postback("lead", ""));
    let v = |s: &str| Some(s.to_owned());
    match signal {
        Signal::Nothing => {}
        Signal::ClickFbclid => k.fbclid = v("IwAR1"),
        Signal::ClickFbc => k.fbc = v("fb.1.1700000000000.IwAR1"),
        Signal::ClickFbp => k.fbp = v("fb.1.1700000000000.123456"),
        Signal::PostbackFbclid => c.fbclid = v("IwAR1"),
        Signal::ClickTtclid => k.ttclid = v("E.C.P.tt1"),
        Signal::ClickTtp => k.ttp = v("ttp-cookie-1"),
        Signal::PostbackTtclid => c.ttclid = v("E.C.P.tt1"),
        Signal::BlankFbclid => k.fbclid = v("  "),
        Signal::BothPlatforms => {
            k.fbclid = v("IwAR1");
            k.ttclid = v("E.C.P.tt1");
        }
    }
    (k, c)
}

#[test]
fn send_when_decides_each_platform_by_its_own_click_signal() {
    use PlatformKind::{Meta, TikTok};
    use SendWhen::{Always, PlatformClick};
    use Signal::*;
    let meta_only = || Campaign {
        landing_url: Some(HttpUrl::parse("https://lp.example.com/").unwrap()),
        ..campaign()
    };
    let tiktok_only = || Campaign {
        meta: None,
        ..both_by_default()
    };
    // (campaign, Meta's rule, TikTok's rule, signal, platforms sent)
    type Rule = Option<SendWhen>;
    type Case = (
        &'static str,
        Campaign,
        Rule,
        Rule,
        Signal,
        Vec<PlatformKind>,
    );
    let cases: Vec<Case> = vec![
        // Two platforms, default rule: each gets its own clicks only.
        (
            "both",
            both_by_default(),
            None,
            None,
            ClickFbclid,
            vec![Meta],
        ),
        ("both", both_by_default(), None, None, ClickFbc, vec![Meta]),
        ("both", both_by_default(), None, None, ClickFbp, vec![Meta]),
        (
            "both",
            both_by_default(),
            None,
            None,
            PostbackFbclid,
            vec![Meta],
        ),
        (
            "both",
            both_by_default(),
            None,
            None,
            ClickTtclid,
            vec![TikTok],
        ),
        (
            "both",
            both_by_default(),
            None,
            None,
            ClickTtp,
            vec![TikTok],
        ),
        (
            "both",
            both_by_default(),
            None,
            None,
            PostbackTtclid,
            vec![TikTok],
        ),
        (
            "both",
            both_by_default(),
            None,
            None,
            BothPlatforms,
            vec![Meta, TikTok],
        ),
        ("both", both_by_default(), None, None, Nothing, vec![]),
        ("both", both_by_default(), None, None, BlankFbclid, vec![]),
        // Explicit rules on two platforms.
        (
            "both",
            both_by_default(),
            None,
            Some(Always),
            ClickFbclid,
            vec![Meta, TikTok],
        ),
        (
            "both",
            both_by_default(),
            Some(Always),
            None,
            ClickTtclid,
            vec![Meta, TikTok],
        ),
        (
            "both",
            both_by_default(),
            Some(Always),
            Some(Always),
            Nothing,
            vec![Meta, TikTok],
        ),
        (
            "both",
            both_by_default(),
            Some(PlatformClick),
            Some(Always),
            Nothing,
            vec![TikTok],
        ),
        (
            "both",
            both_by_default(),
            Some(PlatformClick),
            Some(PlatformClick),
            ClickFbp,
            vec![Meta],
        ),
        // One platform, default rule: always.
        ("meta only", meta_only(), None, None, Nothing, vec![Meta]),
        (
            "meta only",
            meta_only(),
            None,
            None,
            ClickTtclid,
            vec![Meta],
        ),
        (
            "tiktok only",
            tiktok_only(),
            None,
            None,
            Nothing,
            vec![TikTok],
        ),
        (
            "tiktok only",
            tiktok_only(),
            None,
            None,
            ClickFbclid,
            vec![TikTok],
        ),
        // One platform, platform_click set.
        (
            "meta only",
            meta_only(),
            Some(PlatformClick),
            None,
            Nothing,
            vec![],
        ),
        (
            "meta only",
            meta_only(),
            Some(PlatformClick),
            None,
            ClickFbc,
            vec![Meta],
        ),
        (
            "meta only",
            meta_only(),
            Some(PlatformClick),
            None,
            ClickTtclid,
            vec![],
        ),
        (
            "tiktok only",
            tiktok_only(),
            None,
            Some(PlatformClick),
            ClickTtp,
            vec![TikTok],
        ),
        (
            "tiktok only",
            tiktok_only(),
            None,
            Some(PlatformClick),
            ClickFbclid,
            vec![],
        ),
    ];
    for (name, campaign, meta_rule, tiktok_rule, signal, want) in cases {
        let campaign = with_rules(campaign, meta_rule, tiktok_rule);
        let (k, conv) = with_signal(signal);
        let d = decide(Some(&campaign), Some(&k), &conv, &[]);
        let what = format!("{name}, meta {meta_rule:?}, tiktok {tiktok_rule:?}, {signal:?}");
        let sent: Vec<_> = d.events.iter().map(|e| e.platform).collect();
        assert_eq!(sent, want, "{what}: {d:?}");
        let platforms: Vec<_> = campaign.platforms().iter().map(|(p, _)| *p).collect();
        let skipped: Vec<_> = d.skipped.iter().map(|s| s.platform).collect();
        let not_sent: Vec<_> = platforms
            .into_iter()
            .filter(|p| !want.contains(p))
            .collect();
        assert_eq!(
            skipped, not_sent,
            "{what}: every platform not sent is listed"
        );
        if want.is_empty() {
            assert_eq!(d.state, ConversionState::Skipped, "{what}");
            assert_eq!(d.event_name, None, "{what}");
            assert!(d.failure_reason.is_some(), "{what}");
        } else {
            assert_eq!(d.state, ConversionState::Queued, "{what}");
        }
    }
}

#[test]
fn a_skipped_platform_is_named_with_its_missing_signal_and_the_rule() {
    let (fb_click, conv) = with_signal(Signal::ClickFbclid);
    let d = decide(Some(&both_by_default()), Some(&fb_click), &conv, &[]);
    assert_eq!(d.state, ConversionState::Queued);
    assert_eq!(
        d.skipped,
        vec![PlatformSkip {
            platform: PlatformKind::TikTok,
            reason: "no TikTok click signal (ttclid/ttp) on the click: send_when platform_click"
                .into()
        }]
    );
    assert_eq!(d.failure_reason, None, "a skip is not a failure");
    assert!(d.unbuilt.is_empty());

    // Nothing skipped: nothing listed.
    let d = decide(Some(&both()), Some(&fb_click), &conv, &[]);
    assert!(d.skipped.is_empty());

    // Every platform skipped: the conversion is skipped, each platform named.
    let d = decide(Some(&both_by_default()), Some(&click()), &conv, &[]);
    assert_eq!(d.state, ConversionState::Skipped);
    assert_eq!(
        d.failure_reason.as_deref(),
        Some(
            "Meta: no Meta click signal (fbclid/fbc/fbp) on the click: send_when platform_click; \
             TikTok: no TikTok click signal (ttclid/ttp) on the click: send_when platform_click"
        )
    );
    assert_eq!(d.skipped.len(), 2);
    let mut stored = conv.clone();
    let joined = crate::ingest::join::Joined {
        click: &click(),
        ambiguous: false,
    };
    d.apply_to(&mut stored, Some(joined));
    assert_eq!(stored.skipped, d.skipped, "the conversion keeps the list");
}

#[test]
fn without_a_click_the_postbacks_own_click_ids_decide() {
    // A postback whose click was never registered, after the grace period.
    let conv = Conversion {
        ttclid: Some("E.C.P.tt1".into()),
        user_agent: Some("Mozilla/5.0".into()),
        ..postback("lead", "")
    };
    let d = decide(Some(&both_by_default()), None, &conv, &[]);
    let sent: Vec<_> = d.events.iter().map(|e| e.platform).collect();
    assert_eq!(sent, vec![PlatformKind::TikTok], "{d:?}");
    assert_eq!(d.skipped[0].platform, PlatformKind::Meta);
}

#[test]
fn when_meta_is_skipped_the_conversion_takes_tiktoks_event_name() {
    let campaign = Campaign {
        tiktok: Some(tiktok(map(&[("lead", Some("SubmitForm"))]))),
        ..both_by_default()
    };
    let (tt_click, conv) = with_signal(Signal::ClickTtclid);
    let d = decide(Some(&campaign), Some(&tt_click), &conv, &[]);
    assert_eq!(d.event_name.as_deref(), Some("SubmitForm"));
    assert_eq!(
        planned(&d),
        vec![(PlatformKind::TikTok, "SubmitForm", "SubmitForm-clk1")]
    );
}

#[test]
fn consent_and_refunds_are_decided_before_send_when() {
    let consent = Campaign {
        require_consent: true,
        ..both_by_default()
    };
    let d = decide(Some(&consent), Some(&click()), &postback("lead", ""), &[]);
    assert_eq!(d.state, ConversionState::Suppressed);
    assert!(d.skipped.is_empty());
}

#[test]
fn the_default_rule_follows_the_number_of_platforms() {
    use SendWhen::{Always, PlatformClick};
    for (set, platforms, want) in [
        (None, 1, Always),
        (None, 2, PlatformClick),
        (Some(Always), 2, Always),
        (Some(PlatformClick), 1, PlatformClick),
    ] {
        assert_eq!(
            SendWhen::effective(set, platforms),
            want,
            "{set:?} {platforms}"
        );
    }
    assert_eq!(SendWhen::parse("always").unwrap(), Always);
    assert_eq!(SendWhen::parse("platform_click").unwrap(), PlatformClick);
    assert!(SendWhen::parse("never").is_err());
    assert!(SendWhen::parse("").is_err());
}
