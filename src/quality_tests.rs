use super::*;
use crate::storage::quality::{KeyCount, ReasonCount};

fn stats(name: &str, sent: i64, pixel: i64, no_click: i64) -> EventStats {
    EventStats {
        event_name: name.into(),
        sent,
        pixel_event_id: pixel,
        no_click,
        median_click_to_conversion_secs: (sent > 0).then_some(61.23456),
        ..EventStats::default()
    }
}

fn key(name: &str, key: &str, count: i64) -> KeyCount {
    KeyCount {
        event_name: name.into(),
        key: key.into(),
        count,
    }
}

fn reason(name: &str, reason: &str, count: i64) -> ReasonCount {
    ReasonCount {
        event_name: name.into(),
        state: "failed".into(),
        reason: reason.into(),
        count,
    }
}

/// Meta's rows alone, as a campaign without TikTok has them.
fn meta<'a>(mapped: &[&'a str], rows: QualityRows) -> Vec<PlatformRows<'a>> {
    vec![PlatformRows {
        platform: PlatformKind::Meta,
        mapped_events: mapped.to_vec(),
        rows,
    }]
}

fn no_rows() -> QualityRows {
    QualityRows {
        stats: vec![],
        keys: vec![],
        reasons: vec![],
    }
}

/// What one event's entry says, compactly: name, sent, fbc share, em share, (pixel, template,
/// no_click) shares, failure reasons in order.
type Summary = (
    &'static str,
    i64,
    f64,
    f64,
    (f64, f64, f64),
    Vec<&'static str>,
);

fn summary(e: &EventQuality) -> (String, i64, f64, f64, (f64, f64, f64), Vec<String>) {
    (
        e.event_name.clone(),
        e.sent,
        e.keys["fbc"].share,
        e.keys["em"].share,
        (
            e.event_ids.pixel.share,
            e.event_ids.template.share,
            e.event_ids.no_click.share,
        ),
        e.top_failure_reasons
            .iter()
            .map(|r| r.reason.clone())
            .collect(),
    )
}

#[test]
fn shapes_counts_into_shares_with_zeros_shown() {
    let many_reasons: Vec<ReasonCount> = (1..=7)
        .map(|i| reason("Lead", &format!("r{i}"), i))
        .collect();
    let cases: Vec<(&str, Vec<&str>, QualityRows, Vec<Summary>)> = vec![
        (
            "nothing sent: every mapped event, all zeros",
            vec!["Lead", "Purchase"],
            QualityRows {
                stats: vec![],
                keys: vec![],
                reasons: vec![],
            },
            vec![
                ("Lead", 0, 0.0, 0.0, (0.0, 0.0, 0.0), vec![]),
                ("Purchase", 0, 0.0, 0.0, (0.0, 0.0, 0.0), vec![]),
            ],
        ),
        (
            "shares of the sent events; template is what is neither pixel nor no-click",
            vec!["Lead"],
            QualityRows {
                stats: vec![stats("Lead", 4, 2, 1)],
                keys: vec![key("Lead", "fbc", 3), key("Lead", "em", 1)],
                reasons: vec![],
            },
            vec![("Lead", 4, 0.75, 0.25, (0.5, 0.25, 0.25), vec![])],
        ),
        (
            "an event no longer mapped still shows; thirds round to 4 decimals",
            vec![],
            QualityRows {
                stats: vec![stats("Old", 3, 1, 0)],
                keys: vec![key("Old", "fbc", 1), key("Other", "fbc", 9)],
                reasons: vec![],
            },
            vec![("Old", 3, 0.3333, 0.0, (0.3333, 0.6667, 0.0), vec![])],
        ),
        (
            "top five reasons, most frequent first; an event with only failures is listed",
            vec!["Lead"],
            QualityRows {
                stats: vec![],
                keys: vec![],
                reasons: many_reasons
                    .into_iter()
                    .chain([reason("Purchase", "token expired", 2)])
                    .collect(),
            },
            vec![
                (
                    "Lead",
                    0,
                    0.0,
                    0.0,
                    (0.0, 0.0, 0.0),
                    vec!["r7", "r6", "r5", "r4", "r3"],
                ),
                (
                    "Purchase",
                    0,
                    0.0,
                    0.0,
                    (0.0, 0.0, 0.0),
                    vec!["token expired"],
                ),
            ],
        ),
    ];
    for (case, mapped, rows, expected) in cases {
        let report = shape("offer", 7, Utc::now(), meta(&mapped, rows));
        let got: Vec<_> = report.events.iter().map(summary).collect();
        let expected: Vec<_> = expected
            .into_iter()
            .map(|(n, s, f, e, ids, r)| {
                let r = r.into_iter().map(str::to_owned).collect();
                (n.to_owned(), s, f, e, ids, r)
            })
            .collect();
        assert_eq!(got, expected, "{case}");
        for e in &report.events {
            assert_eq!(e.keys.len(), MATCH_KEYS.len(), "{case}: every key listed");
        }
    }
}

#[test]
fn late_twins_are_a_share_of_sent_and_a_count_of_skipped() {
    let rows = QualityRows {
        stats: vec![EventStats {
            late_twin_sent: 1,
            late_twin_skipped: 2,
            ..stats("Lead", 4, 0, 0)
        }],
        keys: vec![],
        reasons: vec![],
    };
    let report = shape("offer", 7, Utc::now(), meta(&["Lead", "Purchase"], rows));
    let late = report.events[0].late_pixel_twins;
    assert_eq!(
        (late.sent.count, late.sent.share, late.skipped),
        (1, 0.25, 2)
    );
    let none = report.events[1].late_pixel_twins;
    assert_eq!(
        (none.sent.count, none.sent.share, none.skipped),
        (0, 0.0, 0)
    );
}

#[test]
fn medians_are_rounded_and_absent_without_data() {
    let rows = QualityRows {
        stats: vec![stats("Lead", 1, 0, 0), stats("Purchase", 0, 0, 0)],
        keys: vec![],
        reasons: vec![],
    };
    let report = shape("offer", 7, Utc::now(), meta(&["Lead"], rows));
    assert_eq!(
        report.events[0].median_seconds.click_to_conversion,
        Some(61.235)
    );
    assert_eq!(report.events[0].median_seconds.conversion_to_accepted, None);
    assert_eq!(report.events[1].median_seconds.click_to_conversion, None);
}

/// Each platform is reported on its own keys; `events` stays Meta's; a platform the campaign
/// neither maps nor has events on is left out.
#[test]
fn each_platform_is_reported_on_its_own_keys() {
    let tiktok = QualityRows {
        stats: vec![stats("CompletePayment", 2, 1, 0)],
        keys: vec![
            key("CompletePayment", "ttclid", 2),
            key("CompletePayment", "phone", 1),
            // A Meta key name in a TikTok payload is not one of TikTok's keys.
            key("CompletePayment", "fbc", 2),
        ],
        reasons: vec![],
    };
    let report = shape(
        "offer",
        7,
        Utc::now(),
        vec![
            PlatformRows {
                platform: PlatformKind::TikTok,
                mapped_events: vec!["SubmitForm"],
                rows: tiktok,
            },
            PlatformRows {
                platform: PlatformKind::Meta,
                mapped_events: vec!["Purchase"],
                rows: QualityRows {
                    stats: vec![stats("Purchase", 1, 1, 0)],
                    keys: vec![key("Purchase", "fbc", 1)],
                    reasons: vec![],
                },
            },
        ],
    );
    let platforms: Vec<PlatformKind> = report.platforms.iter().map(|p| p.platform).collect();
    assert_eq!(platforms, vec![PlatformKind::Meta, PlatformKind::TikTok]);
    assert_eq!(
        report.events, report.platforms[0].events,
        "events are Meta's"
    );
    let tt = &report.platforms[1].events;
    let names: Vec<&str> = tt.iter().map(|e| e.event_name.as_str()).collect();
    assert_eq!(names, vec!["CompletePayment", "SubmitForm"]);
    let keys: Vec<&str> = tt[0].keys.keys().copied().collect();
    let mut want = TIKTOK_MATCH_KEYS.to_vec();
    want.sort_unstable();
    assert_eq!(keys, want);
    assert_eq!(tt[0].keys["ttclid"].share, 1.0);
    assert_eq!(tt[0].keys["phone"].share, 0.5);
    assert_eq!(tt[0].event_ids.pixel.share, 0.5);

    let meta_only = shape(
        "offer",
        7,
        Utc::now(),
        vec![
            PlatformRows {
                platform: PlatformKind::Meta,
                mapped_events: vec!["Lead"],
                rows: no_rows(),
            },
            PlatformRows {
                platform: PlatformKind::TikTok,
                mapped_events: vec![],
                rows: no_rows(),
            },
        ],
    );
    assert_eq!(meta_only.platforms.len(), 1);
    assert_eq!(meta_only.platforms[0].platform, PlatformKind::Meta);
}
