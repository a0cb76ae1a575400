//! The plan across platforms: each platform's own limits, park and expiry reasons, and one
//! platform's trouble never holding back another's events.

use super::*;

#[test]
fn park_reasons_say_what_to_change() {
    let cases = [
        (
            Park::Refused(PlatformKind::Meta),
            "not sent: Meta refused this campaign's access token or pixel; waiting for a new \
             access_token or pixel_id",
        ),
        (
            Park::Refused(PlatformKind::TikTok),
            "not sent: TikTok refused this campaign's access token or pixel code; waiting for a \
             new tiktok.access_token or tiktok.pixel_code",
        ),
        (Park::Unreadable("x".into()), "not sent: x"),
    ];
    for (park, want) in cases {
        assert_eq!(park.why(), want, "{park:?}");
    }
}

/// Each platform's own age limit, asked of the platform; the reason names it.
#[test]
fn events_expire_by_their_platforms_limit() {
    let on = |platform, e: ClaimedEvent| ClaimedEvent { platform, ..e };
    let (meta, tiktok) = (PlatformKind::Meta, PlatformKind::TikTok);
    let claimed = vec![
        on(meta, ev(1, 1, 0, 8, "website")),
        on(meta, ev(2, 1, 0, 30, "physical_store")),
        on(meta, ev(3, 1, 0, 63, "physical_store")),
        on(tiktok, ev(4, 1, 0, 8, "website")),
        on(tiktok, ev(5, 1, 0, 7, "website")),
        // TikTok's payloads have no action_source; a physical store one would not get 62 days.
        on(tiktok, ev(6, 1, 0, 30, "physical_store")),
    ];
    let targets = [
        ((1, meta), target("meta-pixel", "a")),
        ((1, tiktok), target("tt-pixel", "b")),
    ]
    .into_iter()
    .collect();
    let p = plan(claimed, &targets, &HashMap::new(), &limits, 10, now());
    let expired: Vec<(String, Vec<i64>)> =
        p.expire.iter().map(|(x, e)| (x.why(), ids(e))).collect();
    assert_eq!(
        expired,
        vec![
            (
                "event_time is older than Meta accepts (7 days); never sent".to_owned(),
                vec![1]
            ),
            (
                "event_time is older than Meta accepts (62 days); never sent".to_owned(),
                vec![3]
            ),
            (
                "event_time is older than TikTok accepts (7 days); never sent".to_owned(),
                vec![4, 6]
            ),
        ]
    );
    let sent: Vec<(PlatformKind, Vec<i64>)> = p
        .send
        .iter()
        .map(|r| (r.platform, ids(&r.events)))
        .collect();
    assert_eq!(sent, vec![(meta, vec![2]), (tiktok, vec![5])]);
}

/// A request never holds more than the platform takes, whatever DELIVERY_BATCH_MAX says.
#[test]
fn requests_respect_the_platforms_max_events() {
    let small = |_| Limits {
        max_events: 2,
        ..crate::platforms::tiktok::LIMITS
    };
    let claimed = (1..=5).map(|i| web(i, 1)).collect();
    let targets = [((1, PlatformKind::Meta), target("111", "tok"))]
        .into_iter()
        .collect();
    let p = plan(claimed, &targets, &HashMap::new(), &small, 1000, now());
    let sizes: Vec<usize> = p.send.iter().map(|r| r.events.len()).collect();
    assert_eq!(sizes, vec![2, 2, 1]);
}

#[test]
fn one_platforms_trouble_never_holds_back_anothers_events() {
    let on = |platform, e: ClaimedEvent| ClaimedEvent { platform, ..e };
    let (meta, tiktok) = (PlatformKind::Meta, PlatformKind::TikTok);
    let claimed = vec![
        on(meta, web(1, 1)),
        on(tiktok, web(2, 1)),
        on(meta, web(3, 2)),
        on(tiktok, web(4, 2)),
    ];
    let targets = [
        ((1, meta), target("meta-pixel", "a")),
        ((1, tiktok), target("tt-pixel", "b")),
        ((2, meta), target("meta-pixel-2", "c")),
        ((2, tiktok), target("tt-pixel-2", "d")),
    ]
    .into_iter()
    .collect();
    let until = now() + chrono::Duration::minutes(5);
    let status = [
        // Meta is down for campaign 1; TikTok refused campaign 2's token.
        (
            (1, meta),
            CampaignStatus {
                auth_parked: false,
                backoff_until: Some(until),
            },
        ),
        (
            (2, tiktok),
            CampaignStatus {
                auth_parked: true,
                backoff_until: None,
            },
        ),
    ]
    .into_iter()
    .collect();
    let p = plan(claimed, &targets, &status, &limits, 10, now());
    let sent: Vec<(PlatformKind, String, Vec<i64>)> = p
        .send
        .iter()
        .map(|r| (r.platform, r.target.pixel_id.clone(), ids(&r.events)))
        .collect();
    assert_eq!(
        sent,
        vec![
            (meta, "meta-pixel-2".to_owned(), vec![3]),
            (tiktok, "tt-pixel".to_owned(), vec![2]),
        ]
    );
    let got = shape(p);
    assert_eq!(got.postpone, vec![(until, vec![1])]);
    assert_eq!(
        got.park,
        vec![(Park::Refused(PlatformKind::TikTok), vec![4])]
    );
}
