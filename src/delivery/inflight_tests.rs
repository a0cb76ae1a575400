use super::*;
use PlatformKind::{Meta, TikTok};

const CAPS: Caps = Caps {
    per_platform: 4,
    per_target: 2,
};

fn room(in_flight: &[(PlatformKind, &[CampaignPlatform])]) -> Room {
    let mut f = InFlight::new(CAPS);
    for (p, keys) in in_flight {
        assert!(f.admit(*p, keys), "admit {p:?} {keys:?}");
    }
    f.room()
}

#[test]
fn pick_takes_what_can_be_sent_at_once() {
    const A: CampaignPlatform = (1, Meta);
    let (a, b, at) = (A, (2, Meta), (1, TikTok));
    // Ten events of campaign 1 on Meta, then one of each other target.
    let mut heavy: Vec<(i64, CampaignPlatform)> = (1..=10).map(|id| (id, a)).collect();
    heavy.extend([(11, b), (12, at)]);
    let ids = |r: std::ops::RangeInclusive<i64>| r.collect::<Vec<_>>();
    // (what, requests in flight, candidates, request size, expected ids)
    type Case<'a> = (
        &'a str,
        Vec<(PlatformKind, &'a [CampaignPlatform])>,
        Vec<(i64, CampaignPlatform)>,
        usize,
        Vec<i64>,
    );
    let cases: Vec<Case> = vec![
        ("nothing due", vec![], vec![], 3, vec![]),
        (
            "an idle target takes two requests' worth, the others theirs",
            vec![],
            heavy.clone(),
            3,
            [ids(1..=6), vec![11, 12]].concat(),
        ),
        (
            "a target with one request in flight takes one more",
            vec![(Meta, &[A])],
            heavy.clone(),
            3,
            [ids(1..=3), vec![11, 12]].concat(),
        ),
        (
            "beside a request in flight, only a full one",
            vec![(Meta, &[A])],
            vec![(1, a), (2, a), (3, b)],
            3,
            vec![3],
        ),
        (
            "a target at its cap takes nothing; other targets go on",
            vec![(Meta, &[A]), (Meta, &[A])],
            heavy.clone(),
            3,
            vec![11, 12],
        ),
        (
            "two hung Meta pixels leave Meta two requests and TikTok its whole budget",
            vec![(Meta, &[(7, Meta)]), (Meta, &[(8, Meta)])],
            heavy.clone(),
            3,
            [ids(1..=6), vec![12]].concat(),
        ),
        (
            "Meta with every request in flight: only TikTok is claimed",
            vec![
                (Meta, &[(5, Meta)]),
                (Meta, &[(6, Meta)]),
                (Meta, &[(7, Meta)]),
                (Meta, &[(8, Meta)]),
            ],
            heavy.clone(),
            3,
            vec![12],
        ),
        (
            "no more requests per platform than it has free",
            vec![],
            (1..=6).map(|c| (c, (c, Meta))).collect(),
            1000,
            ids(1..=4),
        ),
        (
            "a request holds up to the request size",
            vec![],
            (1..=5).map(|id| (id, a)).collect(),
            1000,
            ids(1..=5),
        ),
    ];
    for (what, in_flight, candidates, size, want) in cases {
        let got = pick(&candidates, &room(&in_flight), &|_| size);
        assert_eq!(got, want, "{what}");
    }
}

#[test]
fn room_excludes_full_targets_and_platforms() {
    let a = (1, Meta);
    let r = room(&[(Meta, &[a]), (Meta, &[a]), (TikTok, &[(1, TikTok)])]);
    assert_eq!(r.excluded(), (vec![a], vec![]));
    assert!(!r.is_empty());
    let full = room(&[
        (Meta, &[(1, Meta)]),
        (Meta, &[(2, Meta)]),
        (Meta, &[(3, Meta)]),
        (Meta, &[(4, Meta)]),
    ]);
    assert_eq!(full.excluded(), (vec![], vec![Meta]));
    let everything = room(&[
        (Meta, &[(1, Meta)]),
        (Meta, &[(2, Meta)]),
        (Meta, &[(3, Meta)]),
        (Meta, &[(4, Meta)]),
        (TikTok, &[(1, TikTok)]),
        (TikTok, &[(2, TikTok)]),
        (TikTok, &[(3, TikTok)]),
        (TikTok, &[(4, TikTok)]),
    ]);
    assert!(everything.is_empty());
}

#[test]
fn admit_counts_every_target_of_a_shared_request_and_finish_frees_them() {
    let (a, b) = ((1, Meta), (2, Meta));
    let mut f = InFlight::new(CAPS);
    // Two campaigns on one pixel share a request: it takes a slot of each.
    assert!(f.admit(Meta, &[a, b]));
    assert!(f.admit(Meta, &[a]));
    assert!(!f.admit(Meta, &[a]), "a is at its cap");
    assert!(
        !f.admit(Meta, &[a, b]),
        "one full target refuses the request"
    );
    assert!(f.admit(Meta, &[b]));
    assert!(f.admit(Meta, &[(3, Meta)]));
    assert!(!f.admit(Meta, &[(4, Meta)]), "Meta is at its cap");
    assert!(f.admit(TikTok, &[(4, TikTok)]), "TikTok has its own");
    f.finish(Meta, &[a, b]);
    assert!(f.admit(Meta, &[a]));
    for (p, k) in [
        (Meta, a),
        (Meta, a),
        (Meta, b),
        (Meta, (3, Meta)),
        (TikTok, (4, TikTok)),
    ] {
        f.finish(p, &[k]);
    }
    assert_eq!(f.room(), InFlight::new(CAPS).room());
    assert_eq!(f.room().busy, vec![]);
}

#[test]
fn the_target_cap_never_exceeds_the_platform_cap() {
    let mut f = InFlight::new(Caps {
        per_platform: 1,
        per_target: 8,
    });
    assert_eq!(f.room().per_target, 1);
    assert!(f.admit(Meta, &[(1, Meta)]));
    assert!(!f.admit(Meta, &[(1, Meta)]));
}
