use super::*;
use crate::http::rate_limit::parse_rate;

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

#[test]
fn the_log_names_networks_never_addresses() {
    let cases = [
        (ip("203.0.113.77"), "203.0.113.0/24"),
        (ip("::ffff:203.0.113.77"), "203.0.113.0/24"),
        (ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64"),
        (ip("::1"), "::/64"),
        (None, "unknown address"),
    ];
    for (addr, want) in cases {
        assert_eq!(Network::of(addr).to_string(), want, "{addr:?}");
    }
}

#[test]
fn the_limit_counts_ipv4_addresses_and_ipv6_64s() {
    let cases = [
        ("203.0.113.1", "203.0.113.1"),
        ("::ffff:203.0.113.1", "203.0.113.1"),
        ("2001:db8:1:2::1", "2001:db8:1:2::"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::"),
    ];
    for (addr, key) in cases {
        assert_eq!(limit_key(ip(addr)).to_string(), key, "{addr}");
    }
    assert_eq!(limit_key(None).to_string(), "::");
}

#[test]
fn failures_are_401_then_429_per_address_and_per_64() {
    let limit = FailedAuthLimit::new(parse_rate("3/m").unwrap());
    let codes = |addr: &str, n: usize| -> Vec<&'static str> {
        (0..n)
            .map(|_| limit.failed(ip(addr), Credential::AdminToken).code())
            .collect()
    };
    assert_eq!(
        codes("203.0.113.1", 5),
        [
            "unauthorized",
            "unauthorized",
            "unauthorized",
            "too_many_failed_attempts",
            "too_many_failed_attempts"
        ]
    );
    assert_eq!(codes("203.0.113.2", 1), ["unauthorized"], "another address");
    // The addresses of one /64 are one client.
    let mut v6 = Vec::new();
    for n in 1..=4 {
        v6.extend(codes(&format!("2001:db8:1:2::{n:x}"), 1));
    }
    assert_eq!(v6[3], "too_many_failed_attempts", "{v6:?}");
    assert_eq!(codes("2001:db8:1:3::1", 1), ["unauthorized"], "another /64");
    match limit.failed(ip("203.0.113.1"), Credential::PostbackKey) {
        ApiError::TooManyFailures { retry_after_secs } => {
            assert!((1..=60).contains(&retry_after_secs))
        }
        other => panic!("{other:?}"),
    }
    let off = FailedAuthLimit::new(parse_rate("off").unwrap());
    for _ in 0..100 {
        assert_eq!(
            off.failed(ip("203.0.113.1"), Credential::MetricsToken)
                .code(),
            "unauthorized"
        );
    }
}

#[test]
fn the_log_gets_one_summary_a_minute_per_network() {
    let limit = FailedAuthLimit::new(parse_rate("off").unwrap());
    let t0 = Instant::now();
    let net = Network::of(ip("198.51.100.7"));
    let at = |s: u64| t0 + Duration::from_secs(s);
    // The first failure is logged at once.
    assert_eq!(
        limit.tally(net, Credential::PostbackKey, at(0)),
        Some(Summary {
            network: net,
            failures: 1,
            routes: vec!["/v1/postback"]
        })
    );
    // The rest of the minute is only counted, from any address of the /24 and on any route.
    let other = Network::of(ip("198.51.100.200"));
    assert_eq!(other, net);
    for s in 1..30 {
        assert_eq!(limit.tally(other, Credential::AdminToken, at(s)), None);
    }
    assert_eq!(limit.tally(net, Credential::MetricsToken, at(59)), None);
    assert!(limit.due(at(59)).is_empty(), "not a minute yet");
    // A minute after the first line, one summary says what happened since.
    assert_eq!(
        limit.due(at(60)),
        [Summary {
            network: net,
            failures: 30,
            routes: vec!["/admin/v1", "/metrics"]
        }]
    );
    assert!(limit.due(at(61)).is_empty(), "nothing new");
    // A failure right after waits for the next minute...
    assert_eq!(limit.tally(net, Credential::AdminToken, at(70)), None);
    assert_eq!(limit.due(at(120)).len(), 1);
    // ...and a network quiet for a minute is forgotten: its next failure is logged at once.
    assert!(limit.due(at(180)).is_empty());
    assert!(limit.tallies.lock().unwrap().is_empty());
    assert!(limit
        .tally(net, Credential::DashboardSignIn, at(181))
        .is_some());
}

#[test]
fn past_the_tracked_networks_the_rest_share_one_line() {
    let limit = FailedAuthLimit::new(parse_rate("off").unwrap());
    let now = Instant::now();
    for n in 0..MAX_TRACKED as u32 {
        let [_, a, b, c] = n.to_be_bytes();
        let net = Network::V4([a, b, c]);
        assert!(limit.tally(net, Credential::AdminToken, now).is_some());
    }
    let late = Network::of(ip("2001:db8::1"));
    let s = limit.tally(late, Credential::AdminToken, now).unwrap();
    assert_eq!(s.network, Network::Other);
    assert_eq!(s.network.to_string(), "other addresses");
    assert_eq!(limit.tallies.lock().unwrap().len(), MAX_TRACKED + 1);
}
