use chrono::TimeZone;
use serde_json::json;

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
}

/// Event `id` of campaign `campaign`, `age_days` old, after `attempts` attempts.
fn ev(id: i64, campaign: i64, attempts: i32, age_days: i64, source: &str) -> ClaimedEvent {
    ClaimedEvent {
        platform: PlatformKind::Meta,
        id,
        conversion_id: id * 10,
        campaign_id: campaign,
        event_id: format!("e{id}"),
        event_time: now() - chrono::Duration::days(age_days) + chrono::Duration::minutes(1),
        attempts,
        payload: json!({ "action_source": source }),
        pixel_fired_ms: None,
    }
}

/// [`web`] whose pixel twin fired `hours` before now.
fn twin(id: i64, campaign: i64, hours: i64) -> ClaimedEvent {
    ClaimedEvent {
        pixel_fired_ms: Some((now() - chrono::Duration::hours(hours)).timestamp_millis()),
        ..web(id, campaign)
    }
}

fn web(id: i64, campaign: i64) -> ClaimedEvent {
    ev(id, campaign, 0, 0, "website")
}

fn target(pixel: &str, token: &str) -> Result<Target, NoTarget> {
    Ok(Target {
        pixel_id: pixel.to_owned(),
        access_token: AccessToken::new(token.to_owned()),
        test_event_code: None,
        late_pixel_twin: LatePixelTwin::Send,
    })
}

fn skipping(pixel: &str, token: &str) -> Result<Target, NoTarget> {
    target(pixel, token).map(|t| Target {
        late_pixel_twin: LatePixelTwin::Skip,
        ..t
    })
}

/// The platforms' real limits.
fn limits(kind: PlatformKind) -> Limits {
    match kind {
        PlatformKind::Meta => crate::platforms::meta::LIMITS,
        PlatformKind::TikTok => crate::platforms::tiktok::LIMITS,
    }
}

fn ids(evs: &[ClaimedEvent]) -> Vec<i64> {
    evs.iter().map(|e| e.id).collect()
}

/// A plan written as ids, to compare with a case's expectation.
#[derive(Debug, Default, PartialEq)]
struct Shape {
    expire: Vec<i64>,
    park: Vec<(Park, Vec<i64>)>,
    postpone: Vec<(DateTime<Utc>, Vec<i64>)>,
    orphaned: Vec<i64>,
    skip_late_twin: Vec<i64>,
    removed: Vec<i64>,
    /// (pixel, ids) per request, in order.
    send: Vec<(String, Vec<i64>)>,
}

fn shape(p: Plan) -> Shape {
    Shape {
        expire: p.expire.iter().flat_map(|(_, e)| ids(e)).collect(),
        park: p.park.into_iter().map(|(w, e)| (w, ids(&e))).collect(),
        postpone: p.postpone.into_iter().map(|(t, e)| (t, ids(&e))).collect(),
        orphaned: ids(&p.orphaned),
        skip_late_twin: ids(&p.skip_late_twin),
        removed: ids(&p.removed),
        send: p
            .send
            .into_iter()
            .map(|r| (r.target.pixel_id, ids(&r.events)))
            .collect(),
    }
}

fn sends(reqs: &[(&str, &[i64])]) -> Vec<(String, Vec<i64>)> {
    reqs.iter()
        .map(|(p, i)| (p.to_string(), i.to_vec()))
        .collect()
}

struct Case {
    what: &'static str,
    claimed: Vec<ClaimedEvent>,
    targets: Vec<(i64, Result<Target, NoTarget>)>,
    status: Vec<(i64, CampaignStatus)>,
    batch_max: usize,
    want: Shape,
}

#[test]
fn claimed_events_are_sent_parked_postponed_or_expired() {
    let later = now() + chrono::Duration::seconds(90);
    let backoff = CampaignStatus {
        auth_parked: false,
        backoff_until: Some(later),
    };
    let parked = CampaignStatus {
        auth_parked: true,
        backoff_until: Some(later),
    };
    let cases = vec![
        Case {
            what: "one campaign, one request, in id order",
            claimed: vec![web(3, 1), web(1, 1), web(2, 1)],
            targets: vec![(1, target("111", "tok"))],
            status: vec![],
            batch_max: 10,
            want: Shape {
                send: sends(&[("111", &[1, 2, 3])]),
                ..Shape::default()
            },
        },
        Case {
            what: "requests hold at most batch_max events",
            claimed: (1..=5).map(|i| web(i, 1)).collect(),
            targets: vec![(1, target("111", "tok"))],
            status: vec![],
            batch_max: 2,
            want: Shape {
                send: sends(&[("111", &[1, 2]), ("111", &[3, 4]), ("111", &[5])]),
                ..Shape::default()
            },
        },
        Case {
            what: "campaigns sharing pixel and token share a request; others do not",
            claimed: vec![web(1, 1), web(2, 2), web(3, 3), web(4, 1)],
            targets: vec![
                (1, target("111", "tok")),
                (2, target("111", "tok")),
                (3, target("111", "other")),
            ],
            status: vec![],
            batch_max: 10,
            want: Shape {
                send: sends(&[("111", &[3]), ("111", &[1, 2, 4])]),
                ..Shape::default()
            },
        },
        Case {
            what: "older than 7 days expires; a physical store event has 62 days",
            claimed: vec![
                ev(1, 1, 0, 8, "website"),
                ev(2, 1, 0, 7, "website"),
                ev(3, 1, 0, 30, "physical_store"),
                ev(4, 1, 2, 63, "physical_store"),
            ],
            targets: vec![(1, target("111", "tok"))],
            status: vec![],
            batch_max: 10,
            want: Shape {
                expire: vec![1, 4],
                send: sends(&[("111", &[2, 3])]),
                ..Shape::default()
            },
        },
        Case {
            what: "expiry comes first, even for a parked campaign",
            claimed: vec![ev(1, 1, 0, 9, "website"), web(2, 1)],
            targets: vec![(1, target("111", "tok"))],
            status: vec![(1, parked)],
            batch_max: 10,
            want: Shape {
                expire: vec![1],
                park: vec![(Park::Refused(PlatformKind::Meta), vec![2])],
                ..Shape::default()
            },
        },
        Case {
            what: "a platform removed from its campaign cancels its events, parked or not",
            claimed: vec![web(1, 1), ev(2, 1, 3, 0, "website"), web(3, 2)],
            targets: vec![(1, Err(NoTarget::Removed)), (2, target("222", "tok"))],
            status: vec![(1, parked)],
            batch_max: 10,
            want: Shape {
                removed: vec![1, 2],
                send: sends(&[("222", &[3])]),
                ..Shape::default()
            },
        },
        Case {
            what: "a campaign with auth-parked events parks new ones, before any backoff",
            claimed: vec![web(1, 1), ev(2, 1, 3, 0, "website"), web(3, 2)],
            targets: vec![(1, target("111", "tok")), (2, target("222", "tok"))],
            status: vec![(1, parked)],
            batch_max: 10,
            want: Shape {
                park: vec![(Park::Refused(PlatformKind::Meta), vec![1, 2])],
                send: sends(&[("222", &[3])]),
                ..Shape::default()
            },
        },
        Case {
            what: "backing off: new events wait for the next retry, retries go",
            claimed: vec![web(1, 1), ev(2, 1, 1, 0, "website"), web(3, 1)],
            targets: vec![(1, target("111", "tok"))],
            status: vec![(1, backoff)],
            batch_max: 10,
            want: Shape {
                postpone: vec![(later, vec![1, 3])],
                send: sends(&[("111", &[2])]),
                ..Shape::default()
            },
        },
        Case {
            what: "backing off with only new events: nothing sent",
            claimed: vec![web(1, 1)],
            targets: vec![(1, target("111", "tok"))],
            status: vec![(1, backoff)],
            batch_max: 10,
            want: Shape {
                postpone: vec![(later, vec![1])],
                ..Shape::default()
            },
        },
        Case {
            what: "an unreadable token parks the events with the reason",
            claimed: vec![web(1, 1), web(2, 2)],
            targets: vec![
                (1, Err(NoTarget::Unreadable("bad key".into()))),
                (2, target("222", "tok")),
            ],
            status: vec![],
            batch_max: 10,
            want: Shape {
                park: vec![(Park::Unreadable("bad key".into()), vec![1])],
                send: sends(&[("222", &[2])]),
                ..Shape::default()
            },
        },
        Case {
            what: "an unreadable token says so even when the campaign is parked",
            claimed: vec![web(1, 1)],
            targets: vec![(1, Err(NoTarget::Unreadable("bad key".into())))],
            status: vec![(1, parked)],
            batch_max: 10,
            want: Shape {
                park: vec![(Park::Unreadable("bad key".into()), vec![1])],
                ..Shape::default()
            },
        },
        Case {
            what: "a deleted campaign's events are left alone",
            claimed: vec![web(1, 9), web(2, 1)],
            targets: vec![(1, target("111", "tok"))],
            status: vec![],
            batch_max: 10,
            want: Shape {
                orphaned: vec![1],
                send: sends(&[("111", &[2])]),
                ..Shape::default()
            },
        },
        Case {
            what: "mixed campaigns: each follows its own status",
            claimed: vec![web(1, 1), web(2, 2), ev(3, 2, 1, 0, "website"), web(4, 3)],
            targets: vec![
                (1, target("111", "a")),
                (2, target("222", "b")),
                (3, target("333", "c")),
            ],
            status: vec![(1, parked), (2, backoff)],
            batch_max: 10,
            want: Shape {
                park: vec![(Park::Refused(PlatformKind::Meta), vec![1])],
                postpone: vec![(later, vec![2])],
                send: sends(&[("222", &[3]), ("333", &[4])]),
                ..Shape::default()
            },
        },
        Case {
            what: "past the pixel twin's 48 hours: skipped when the campaign says so, else sent",
            claimed: vec![twin(1, 1, 49), twin(2, 1, 47), web(3, 1), twin(4, 2, 49)],
            targets: vec![(1, skipping("111", "a")), (2, target("222", "b"))],
            status: vec![],
            batch_max: 10,
            want: Shape {
                skip_late_twin: vec![1],
                send: sends(&[("111", &[2, 3]), ("222", &[4])]),
                ..Shape::default()
            },
        },
        Case {
            what: "a late twin of a parked or expired event stays parked or expired",
            claimed: vec![twin(1, 1, 49), ev(2, 2, 0, 9, "website")],
            targets: vec![(1, skipping("111", "a")), (2, skipping("222", "b"))],
            status: vec![(1, parked)],
            batch_max: 10,
            want: Shape {
                expire: vec![2],
                park: vec![(Park::Refused(PlatformKind::Meta), vec![1])],
                ..Shape::default()
            },
        },
    ];
    for c in cases {
        let targets = c
            .targets
            .into_iter()
            .map(|(campaign, t)| ((campaign, PlatformKind::Meta), t))
            .collect();
        let status = c
            .status
            .into_iter()
            .map(|(campaign, s)| ((campaign, PlatformKind::Meta), s))
            .collect();
        let got = shape(plan(
            c.claimed,
            &targets,
            &status,
            &limits,
            c.batch_max,
            now(),
        ));
        assert_eq!(got, c.want, "{}", c.what);
    }
}

#[test]
fn unsent_events_get_their_state_reason_and_counter() {
    let later = now() + chrono::Duration::seconds(90);
    let plan = Plan {
        expire: vec![(
            Expiry {
                platform: PlatformKind::Meta,
                max_age_days: 7,
            },
            vec![ev(1, 1, 0, 9, "website")],
        )],
        park: vec![
            (Park::Refused(PlatformKind::Meta), vec![web(2, 2)]),
            (Park::Unreadable("bad key".into()), vec![web(3, 3)]),
        ],
        postpone: vec![(later, vec![web(4, 4), web(5, 4)])],
        orphaned: vec![web(6, 9)],
        skip_late_twin: vec![twin(7, 5, 50)],
        removed: vec![web(8, 6)],
        send: vec![],
    };
    let got: Vec<_> = plan
        .unsent()
        .into_iter()
        .map(|u| {
            let t = u.transition;
            let why = t.last_error.unwrap();
            (
                ids(u.events),
                t.state,
                t.failure_class,
                why,
                u.next_attempt,
                u.tally,
            )
        })
        .collect();
    let auth = Some(FailureClass::Auth);
    let waiting = "waiting: Meta failed recently for this campaign; sent with its next retry";
    let want = vec![
        (
            vec![1],
            EventState::Expired,
            None,
            "event_time is older than Meta accepts (7 days); never sent".to_owned(),
            None,
            Some(Tally::Expired),
        ),
        (
            vec![2],
            EventState::Failed,
            auth,
            Park::Refused(PlatformKind::Meta).why(),
            None,
            Some(Tally::Failed),
        ),
        (
            vec![3],
            EventState::Failed,
            auth,
            "not sent: bad key".to_owned(),
            None,
            Some(Tally::Failed),
        ),
        (
            vec![7],
            EventState::Failed,
            Some(FailureClass::LatePixelTwin),
            "not sent: the pixel fired this event on this click more than 48 hours earlier, past \
             Meta's deduplication window, so Meta would count it twice; the campaign's \
             late_pixel_twin is skip"
                .to_owned(),
            None,
            Some(Tally::Failed),
        ),
        (
            vec![8],
            EventState::Failed,
            Some(FailureClass::PlatformRemoved),
            "cancelled: Meta was removed from the campaign".to_owned(),
            None,
            Some(Tally::Failed),
        ),
        (
            vec![4, 5],
            EventState::Pending,
            None,
            waiting.to_owned(),
            Some(later),
            None,
        ),
    ];
    assert_eq!(got, want);
    assert!(
        Plan::default().unsent().is_empty(),
        "nothing claimed, nothing written"
    );
}

#[path = "plan_platform_tests.rs"]
mod platforms;
