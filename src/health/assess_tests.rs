//! The rules of `assess`, a row per case.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use super::assess::refusal_condition;
use super::*;
use crate::domain::PlatformKind;
use crate::storage::health::{
    CampaignFacts, Facts, OutboxFacts, PostbackFacts, PostbackTrouble, Refusal,
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap()
}

fn ago(minutes: i64) -> DateTime<Utc> {
    now() - TimeDelta::minutes(minutes)
}

fn campaign(id: i64, key: &str) -> CampaignFacts {
    CampaignFacts {
        id,
        key: key.to_owned(),
        name: key.to_owned(),
        enabled: true,
        last_postback_at: None,
        first_click_in_window: None,
    }
}

fn outbox(campaign_id: i64, platform: PlatformKind) -> OutboxFacts {
    OutboxFacts::empty(campaign_id, platform)
}

fn facts(outbox: Vec<OutboxFacts>) -> Facts {
    Facts {
        campaigns: vec![campaign(1, "keto-fb-us")],
        outbox,
        postbacks: vec![],
    }
}

fn conditions(f: &Facts, rules: &HealthRules) -> Vec<(Option<PlatformKind>, Condition)> {
    assess(f, rules, now())
        .iter()
        .map(|p| (p.platform, p.condition))
        .collect()
}

#[test]
fn defaults_are_the_documented_ones() {
    let r = HealthRules::default();
    assert_eq!(r.failure_rate, 0.2);
    assert_eq!(r.min_events, 10);
    assert_eq!(r.failure_window.as_secs(), 3600);
    assert_eq!(r.outbox_age.as_secs(), 1800);
    assert_eq!(r.silence, None);
}

#[test]
fn parked_events_name_the_refusal_or_the_key() {
    let refused = |code, subcode| OutboxFacts {
        parked: 4,
        parked_since: Some(ago(50)),
        refusal: Some(Refusal {
            error_code: code,
            error_subcode: subcode,
            since: ago(40),
        }),
        ..outbox(1, PlatformKind::Meta)
    };
    let unreadable = OutboxFacts {
        parked: 2,
        parked_since: Some(ago(30)),
        ..outbox(1, PlatformKind::TikTok)
    };
    let cases = [
        (
            refused(Some(190), None),
            Condition::TokenRefused,
            ago(40),
            4,
        ),
        (
            refused(Some(100), Some(33)),
            Condition::PixelRefused,
            ago(40),
            4,
        ),
        (
            refused(Some(200), None),
            Condition::TokenRefused,
            ago(40),
            4,
        ),
        (unreadable, Condition::TokenUnreadable, ago(30), 2),
    ];
    for (o, want, since, waiting) in cases {
        let got = assess(&facts(vec![o.clone()]), &HealthRules::default(), now());
        assert_eq!(got.len(), 1, "{o:?}");
        assert_eq!(
            (got[0].condition, got[0].since, got[0].waiting),
            (want, since, waiting)
        );
        assert_eq!(got[0].platform, Some(o.platform));
    }
}

#[test]
fn the_failure_rate_needs_enough_events_and_must_pass_the_share() {
    let rated = |attempted, failing| OutboxFacts {
        attempted,
        failing,
        first_failure_at: Some(ago(20)),
        ..outbox(1, PlatformKind::Meta)
    };
    let rules = HealthRules::default();
    let cases = [
        (rated(10, 3), true),
        (rated(10, 2), false), // 20 % is the line, not past it
        (rated(9, 9), false),  // too few to say
        (rated(100, 21), true),
        (rated(0, 0), false),
    ];
    for (o, fails) in cases {
        let got = conditions(&facts(vec![o.clone()]), &rules);
        assert_eq!(
            got.contains(&(Some(PlatformKind::Meta), Condition::Failing)),
            fails,
            "{o:?}"
        );
    }
    let stricter = HealthRules {
        failure_rate: 0.5,
        ..HealthRules::default()
    };
    assert!(conditions(&facts(vec![rated(10, 3)]), &stricter).is_empty());
}

#[test]
fn a_refused_token_is_not_also_reported_as_failing() {
    let o = OutboxFacts {
        parked: 12,
        parked_since: Some(ago(10)),
        refusal: Some(Refusal {
            error_code: Some(190),
            error_subcode: None,
            since: ago(10),
        }),
        attempted: 12,
        failing: 12,
        ..outbox(1, PlatformKind::Meta)
    };
    let got = conditions(&facts(vec![o]), &HealthRules::default());
    assert_eq!(
        got,
        vec![(Some(PlatformKind::Meta), Condition::TokenRefused)]
    );
}

#[test]
fn the_outbox_is_stuck_past_its_age() {
    let pending = |minutes| OutboxFacts {
        pending: 7,
        oldest_pending: Some(ago(minutes)),
        ..outbox(1, PlatformKind::TikTok)
    };
    let rules = HealthRules::default();
    assert!(conditions(&facts(vec![pending(29)]), &rules).is_empty());
    let got = assess(&facts(vec![pending(31)]), &rules, now());
    assert_eq!(got[0].condition, Condition::OutboxStuck);
    assert_eq!((got[0].waiting, got[0].since), (7, ago(31)));
}

#[test]
fn postbacks_pile_up_per_campaign_or_per_tracker() {
    let pile = |campaign_id, trouble, count| PostbackFacts {
        campaign_id,
        tracker: if campaign_id == Some(99) {
            "binom"
        } else {
            "keitaro"
        }
        .to_owned(),
        trouble,
        count,
        since: ago(45),
    };
    let f = Facts {
        postbacks: vec![
            pile(Some(1), PostbackTrouble::Unmatched, 3),
            pile(None, PostbackTrouble::Refused, 5),
            pile(None, PostbackTrouble::Unmatched, 2), // below the pile
            pile(Some(99), PostbackTrouble::Refused, 3), // a campaign gone: the tracker's
        ],
        ..facts(vec![])
    };
    let got = assess(&f, &HealthRules::default(), now());
    let seen: Vec<(String, Condition, i64)> = got
        .iter()
        .map(|p| (p.subject(), p.condition, p.waiting))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("tracker:binom".to_owned(), Condition::PostbacksRefused, 3),
            ("tracker:keitaro".to_owned(), Condition::PostbacksRefused, 5),
            ("keto-fb-us".to_owned(), Condition::PostbacksUnmatched, 3),
        ]
    );
}

#[test]
fn silence_is_off_by_default_and_needs_clicks() {
    let quiet = |last_postback: Option<i64>, clicks: Option<i64>, enabled| Facts {
        campaigns: vec![CampaignFacts {
            enabled,
            last_postback_at: last_postback.map(ago),
            first_click_in_window: clicks.map(ago),
            ..campaign(1, "keto-fb-us")
        }],
        ..facts(vec![])
    };
    let on = HealthRules {
        silence: Some(std::time::Duration::from_secs(3 * 3600)),
        ..HealthRules::default()
    };
    let silent = |f: &Facts, r: &HealthRules| conditions(f, r) == vec![(None, Condition::Silent)];
    assert!(!silent(
        &quiet(Some(300), Some(100), true),
        &HealthRules::default()
    ));
    assert!(silent(&quiet(Some(300), Some(100), true), &on));
    assert!(silent(&quiet(None, Some(100), true), &on));
    assert!(!silent(&quiet(Some(60), Some(100), true), &on)); // a postback an hour ago
    assert!(!silent(&quiet(Some(300), None, true), &on)); // no clicks either
    assert!(!silent(&quiet(Some(300), Some(100), false), &on)); // disabled
}

#[test]
fn only_meta_code_100_33_is_the_pixel() {
    let cases = [
        (PlatformKind::Meta, Some(190), None, Condition::TokenRefused),
        (
            PlatformKind::Meta,
            Some(100),
            Some(33),
            Condition::PixelRefused,
        ),
        (PlatformKind::Meta, Some(10), None, Condition::TokenRefused),
        (PlatformKind::Meta, None, None, Condition::TokenRefused),
        (
            PlatformKind::TikTok,
            Some(40105),
            None,
            Condition::TokenRefused,
        ),
        (
            PlatformKind::TikTok,
            Some(100),
            Some(33),
            Condition::TokenRefused,
        ),
    ];
    for (platform, code, sub, want) in cases {
        assert_eq!(
            refusal_condition(platform, code, sub),
            want,
            "{platform} {code:?}"
        );
    }
}

fn problem(platform: Option<PlatformKind>, condition: Condition) -> Problem {
    Problem {
        campaign: Some(CampaignRef {
            key: "keto-fb-us".to_owned(),
            name: "Keto".to_owned(),
        }),
        tracker: None,
        platform,
        condition,
        since: ago(5),
        waiting: 4,
        error_code: Some(190),
        rate: None,
    }
}

#[test]
fn each_problem_says_what_is_wrong_and_links_the_fix() {
    let (meta, tiktok) = (Some(PlatformKind::Meta), Some(PlatformKind::TikTok));
    let cases = [
        (
            problem(meta, Condition::TokenRefused),
            "Meta refused the token (190) for keto-fb-us",
            "edit the campaign's access token",
            "/ui/campaigns/keto-fb-us/edit#access_token",
        ),
        (
            problem(tiktok, Condition::TokenRefused),
            "TikTok refused the token (190) for keto-fb-us",
            "edit the campaign's access token",
            "/ui/campaigns/keto-fb-us/edit#tiktok_access_token",
        ),
        (
            problem(meta, Condition::PixelRefused),
            "Meta refused the pixel (190) for keto-fb-us",
            "check the campaign's pixel id and the token's access to it",
            "/ui/campaigns/keto-fb-us/edit#pixel_id",
        ),
        (
            Problem {
                error_code: None,
                ..problem(tiktok, Condition::TokenUnreadable)
            },
            "The bridge cannot decrypt the TikTok access token for keto-fb-us",
            "set SECRETS_KEY to the key the token was saved under (or put that key in \
             SECRETS_KEY_PREVIOUS), or enter the access token again",
            "/ui/campaigns/keto-fb-us/edit#tiktok_access_token",
        ),
        (
            Problem {
                rate: Some(Rate {
                    failing: 4,
                    attempted: 12,
                    window: std::time::Duration::from_secs(3600),
                }),
                ..problem(meta, Condition::Failing)
            },
            "4 of 12 Meta events for keto-fb-us failed in the last hour",
            "read the failed conversions' attempts",
            "/ui/conversions?campaign=keto-fb-us&state=failed",
        ),
        (
            problem(meta, Condition::OutboxStuck),
            "4 Meta events for keto-fb-us are stuck in the outbox",
            "check that the bridge's delivery worker runs and reaches the platform",
            "/ui/conversions?campaign=keto-fb-us&state=pending",
        ),
        (
            Problem {
                campaign: None,
                tracker: Some("binom".to_owned()),
                ..problem(None, Condition::PostbacksRefused)
            },
            "4 postbacks from binom were refused",
            "fix the tracker's postback URL; the refused postbacks say why",
            "/ui/conversions/refused",
        ),
        (
            problem(None, Condition::PostbacksUnmatched),
            "4 postbacks for keto-fb-us matched no registered click",
            "check that the landing tag registers clicks and that the postback URL sends the \
             click id",
            "/ui/conversions?campaign=keto-fb-us&state=unmatched",
        ),
        (
            problem(None, Condition::Silent),
            "No postback for keto-fb-us while clicks keep coming",
            "check the campaign's postback URL in the tracker",
            "/ui/campaigns/keto-fb-us#postback-urls",
        ),
    ];
    for (p, sentence, fix, link) in cases {
        assert_eq!(p.sentence(), sentence);
        assert_eq!(
            p.fix(),
            Fix {
                text: fix.to_owned(),
                link: link.to_owned()
            },
            "{sentence}"
        );
    }
}

#[test]
fn conditions_have_stable_distinct_keys() {
    let mut keys: Vec<&str> = Condition::ALL.iter().map(|c| c.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), Condition::ALL.len());
    let p = problem(Some(PlatformKind::Meta), Condition::TokenRefused);
    assert_eq!(
        p.key(),
        (
            "keto-fb-us".to_owned(),
            Some(PlatformKind::Meta),
            Condition::TokenRefused
        )
    );
}
