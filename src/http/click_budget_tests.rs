use std::time::Duration;

use super::*;

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

fn budget(new: &str, bytes: &str, campaign: &str) -> ClickBudget {
    ClickBudget::new(ClickBudgetSettings {
        new_per_address: parse_count(new).unwrap(),
        bytes_per_address: parse_bytes(bytes).unwrap(),
        bytes_per_campaign: parse_bytes(campaign).unwrap(),
    })
}

const NEW: Cost = Cost::New {
    row: 1000,
    payload: 700,
};

#[test]
fn parses_counts_and_bytes_per_period() {
    let rate = |s: &str| parse_bytes(s).unwrap().0.unwrap();
    assert_eq!(rate("4MB/h").amount, 4e6);
    assert_eq!(rate("4MB/h").per, Duration::from_secs(3600));
    assert_eq!(rate("2 KiB/m").amount, 2048.0);
    assert_eq!(rate("1GB/d").per, Duration::from_secs(86_400));
    assert_eq!(rate("500/s").amount, 500.0);
    assert_eq!(parse_count("1000/h").unwrap().0.unwrap().amount, 1000.0);
    assert_eq!(parse_count("off").unwrap(), BudgetSetting(None));
    assert_eq!(parse_bytes("OFF").unwrap(), BudgetSetting(None));
    for bad in ["", "4MB", "4XB/h", "0/h", "-1/h", "4MB/w", "lots/h"] {
        assert!(parse_bytes(bad).is_err(), "{bad:?} accepted");
    }
    assert!(parse_count("4MB/h").is_err());
}

/// The decision alone: (levels, new?, cost) -> verdict.
#[test]
fn decide_table() {
    let base = Levels {
        ids: Some(10.0),
        bytes: Some(10_000.0),
        recent: 0.0,
        campaign: Some((50_000.0, 100_000.0)),
        heavy_scale: 10_000.0,
    };
    let with = |f: fn(&mut Levels)| {
        let mut l = base;
        f(&mut l);
        l
    };
    // (case, levels, new click?, cost, verdict)
    type Case = (&'static str, Levels, bool, f64, Result<(), Why>);
    let cases: &[Case] = &[
        ("room everywhere", base, true, 1000.0, Ok(())),
        (
            "no click id left: a new click is refused",
            with(|l| l.ids = Some(0.5)),
            true,
            1000.0,
            Err(Why::AddressNew),
        ),
        (
            "no click id left: a merge is not a new click",
            with(|l| l.ids = Some(0.0)),
            false,
            100.0,
            Ok(()),
        ),
        (
            "address bytes short",
            with(|l| l.bytes = Some(999.0)),
            true,
            1000.0,
            Err(Why::AddressBytes),
        ),
        (
            "a merge that stores nothing passes every budget",
            with(|l| {
                l.bytes = Some(-5.0);
                l.campaign = Some((-100_000.0, 100_000.0));
            }),
            false,
            0.0,
            Ok(()),
        ),
        (
            "limits off",
            with(|l| {
                l.ids = None;
                l.bytes = None;
                l.campaign = None;
            }),
            true,
            1e9,
            Ok(()),
        ),
        (
            "campaign over its ceiling: a visitor with no history passes",
            with(|l| l.campaign = Some((-50_000.0, 100_000.0))),
            true,
            1000.0,
            Ok(()),
        ),
        (
            "campaign over its ceiling: a heavy address is shed",
            with(|l| {
                l.campaign = Some((-50_000.0, 100_000.0));
                l.recent = 5000.0;
            }),
            true,
            1000.0,
            Err(Why::Campaign),
        ),
        (
            "a little over: a moderately heavy address still passes",
            with(|l| {
                l.campaign = Some((500.0, 100_000.0));
                l.recent = 8000.0;
            }),
            true,
            1000.0,
            Ok(()),
        ),
        (
            "at the floor nobody passes",
            with(|l| l.campaign = Some((-99_500.0, 100_000.0))),
            true,
            1000.0,
            Err(Why::Campaign),
        ),
    ];
    for (name, levels, new, cost, want) in cases {
        assert_eq!(decide(levels, *new, *cost), *want, "{name}");
    }
}

#[test]
fn new_clicks_per_address_re_registrations_free_of_it() {
    let b = budget("3/h", "off", "off");
    let now = Instant::now();
    let a = ip("203.0.113.1");
    for _ in 0..3 {
        let r = b.reserve_at(a, 1, NEW, now).unwrap();
        b.settle(r, Stored::New);
    }
    let refused = b.reserve_at(a, 1, NEW, now).unwrap_err();
    assert_eq!(refused.why, Why::AddressNew);
    // 3 an hour: one comes back every 20 minutes.
    assert_eq!(refused.retry_after_secs, 1200);
    assert!(b.reserve_at(a, 1, Cost::Merge { payload: 50 }, now).is_ok());
    assert!(b.reserve_at(ip("203.0.113.2"), 1, NEW, now).is_ok());
    // One IPv6 /64 is one address.
    let v6 = budget("1/h", "off", "off");
    assert!(v6.reserve_at(ip("2001:db8:1:2::1"), 1, NEW, now).is_ok());
    assert!(v6.reserve_at(ip("2001:db8:1:2::9"), 1, NEW, now).is_err());
    assert!(v6.reserve_at(ip("2001:db8:1:3::1"), 1, NEW, now).is_ok());
    // The budget refills evenly, and what Retry-After said is enough.
    let later = now + Duration::from_secs(refused.retry_after_secs);
    assert!(b.reserve_at(a, 1, NEW, later).is_ok());
}

/// A registration that turns out to merge gives back the click id and the row; one that stored
/// nothing (409, a database error) gives back everything.
#[test]
fn settle_refunds_what_was_not_stored() {
    let b = budget("1/h", "1500/h", "off");
    let now = Instant::now();
    let a = ip("198.51.100.7");
    let r = b.reserve_at(a, 1, NEW, now).unwrap();
    b.settle(r, Stored::Merged);
    // The id is back; 700 of the 1000 bytes stay charged.
    let r = b
        .reserve_at(
            a,
            1,
            Cost::New {
                row: 800,
                payload: 500,
            },
            now,
        )
        .unwrap();
    b.settle(r, Stored::Nothing);
    let err = b
        .reserve_at(
            a,
            1,
            Cost::New {
                row: 801,
                payload: 0,
            },
            now,
        )
        .unwrap_err();
    assert_eq!(err.why, Why::AddressBytes);
    assert!(b
        .reserve_at(
            a,
            1,
            Cost::New {
                row: 800,
                payload: 0
            },
            now
        )
        .is_ok());
}

#[test]
fn a_click_larger_than_the_whole_budget_still_passes_a_full_bucket() {
    let b = budget("off", "100/h", "200/h");
    let now = Instant::now();
    let r = b.reserve_at(ip("192.0.2.1"), 1, NEW, now);
    assert!(r.is_ok(), "{r:?}");
    assert!(b.reserve_at(ip("192.0.2.1"), 1, NEW, now).is_err());
}

/// Ten addresses sending as much as they may: the campaign sheds them once over its ceiling,
/// and a visitor with no history still registers, again and again.
#[test]
fn ten_heavy_addresses_cannot_lock_a_campaign_out() {
    let b = budget("off", "20KB/h", "50KB/h");
    let start = Instant::now();
    let attack = Cost::New {
        row: 3000,
        payload: 2800,
    };
    let mut attacker_stored = 0;
    for second in 0..600u64 {
        let now = start + Duration::from_secs(second);
        for n in 1..=10 {
            if let Ok(r) = b.reserve_at(ip(&format!("198.51.100.{n}")), 7, attack, now) {
                b.settle(r, Stored::New);
                attacker_stored += 3000;
            }
        }
        if second % 60 == 30 {
            let visitor = ip(&format!("203.0.113.{}", second / 60));
            let r = b.reserve_at(
                visitor,
                7,
                Cost::New {
                    row: 1500,
                    payload: 1200,
                },
                now,
            );
            assert!(r.is_ok(), "visitor refused at {second}s: {r:?}");
        }
    }
    // Far less than the ten addresses' own budgets (10 x 20 KB + refill) would allow.
    assert!(attacker_stored < 120_000, "{attacker_stored}");
    // Another campaign is untouched.
    assert!(b.reserve_at(ip("203.0.113.250"), 8, attack, start).is_ok());
}

#[test]
fn a_distributed_flood_stops_at_the_floor() {
    let b = budget("off", "off", "10KB/h");
    let now = Instant::now();
    let mut stored = 0;
    for n in 0..100u32 {
        let a = Some(IpAddr::from(std::net::Ipv4Addr::from(0xC633_6400 + n)));
        if b.reserve_at(a, 1, NEW, now).is_ok() {
            stored += 1000;
        }
    }
    assert!((10_000..=20_000).contains(&stored), "{stored}");
}

#[test]
fn pruning_forgets_idle_addresses_and_bounds_memory() {
    let b = budget("100/h", "1MB/h", "off");
    let now = Instant::now();
    for n in 0..1000u32 {
        let a = Some(IpAddr::from(std::net::Ipv4Addr::from(0x0A00_0000 + n)));
        let r = b.reserve_at(a, 1, NEW, now).unwrap();
        b.settle(r, Stored::New);
    }
    b.prune_at(now);
    assert_eq!(b.tracked(), 1000, "recent users are kept");
    b.prune_at(now + Duration::from_secs(6 * 3600));
    assert_eq!(b.tracked(), 0, "idle and refilled: forgotten");

    let mut map = HashMap::new();
    for n in 0..(TRACKED_MAX as u32 + 10) {
        let key = IpAddr::from(std::net::Ipv4Addr::from(n));
        let recent = if n < 10 { 1e9 } else { f64::from(n % 7) };
        map.insert(
            key,
            Address {
                at: now,
                ids: 0.0,
                bytes: 0.0,
                recent,
            },
        );
    }
    forget_lightest(&mut map);
    assert_eq!(map.len(), TRACKED_MAX / 2);
    for n in 0..10u32 {
        assert!(
            map.contains_key(&IpAddr::from(std::net::Ipv4Addr::from(n))),
            "heavy kept"
        );
    }
}
