//! The visitor's address as Meta and TikTok may receive it. A loopback or private address (a
//! bridge behind a proxy missing from TRUSTED_PROXIES, a test from localhost, a tracker passing
//! its own network's address) says nothing about the visitor and hurts matching: it is never
//! sent, but counted and, at most once an hour per source, explained in the log.

use std::net::IpAddr;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use crate::domain::{is_public, PlatformKind};

const WARN_EVERY: Duration = Duration::from_secs(3600);

/// Where a platform's event would have taken the address from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressSource {
    /// The click as registered: the request's peer or a server-side caller's `client_ip_address`.
    Click,
    /// The postback's `ip` parameter.
    Postback,
}

impl AddressSource {
    pub fn as_str(self) -> &'static str {
        match self {
            AddressSource::Click => "click",
            AddressSource::Postback => "postback",
        }
    }
}

/// The address an event may carry: the first public one of the click's and the postback's.
/// Pure: what both platforms' event builders use.
pub fn visitor_ip<'a>(click: Option<&'a str>, postback: Option<&'a str>) -> Option<&'a str> {
    [click, postback]
        .into_iter()
        .flatten()
        .find(|ip| public(ip))
}

fn public(ip: &str) -> bool {
    ip.trim().parse::<IpAddr>().is_ok_and(is_public)
}

/// The stored addresses an event passes over because they are not public.
pub fn nonpublic<'a>(
    click: Option<&'a str>,
    postback: Option<&'a str>,
) -> Vec<(AddressSource, &'a str)> {
    [
        (AddressSource::Click, click),
        (AddressSource::Postback, postback),
    ]
    .into_iter()
    .filter_map(|(source, ip)| Some((source, ip?)))
    .filter(|(_, ip)| !public(ip))
    .collect()
}

type Labels = Vec<(&'static str, String)>;

/// `capi_bridge_nonpublic_ip_total{platform, source}`: addresses left out of built events. Kept
/// here, where events are built (by pure code that has no handle on the app's metrics); the
/// metrics registry registers this same counter.
pub static NONPUBLIC_IP: LazyLock<Family<Labels, Counter>> = LazyLock::new(Family::default);

/// When each source last had its warning logged.
static LAST_WARNED: Mutex<[Option<Instant>; 2]> = Mutex::new([None, None]);

/// Counts the non-public addresses an event of `platform` left out and logs what to set, at
/// most once an hour per source. The address itself is logged: a non-public one is the proxy's
/// or the tracker's network's, never a visitor's on the internet.
pub fn observe(platform: PlatformKind, click: Option<&str>, postback: Option<&str>) {
    for (source, ip) in nonpublic(click, postback) {
        NONPUBLIC_IP
            .get_or_create(&vec![
                ("platform", platform.as_str().to_owned()),
                ("source", source.as_str().to_owned()),
            ])
            .inc();
        let mut last = LAST_WARNED.lock().unwrap_or_else(|e| e.into_inner());
        if warn_due(&mut last[source as usize], Instant::now()) {
            tracing::warn!(
                platform = platform.as_str(),
                source = source.as_str(),
                "{}",
                hint(source, ip)
            );
        }
    }
}

/// Whether a warning last logged at `last` is due again at `now`; if so, `last` becomes `now`.
fn warn_due(last: &mut Option<Instant>, now: Instant) -> bool {
    let due = last.is_none_or(|t| now.duration_since(t) >= WARN_EVERY);
    if due {
        *last = Some(now);
    }
    due
}

/// What the operator should do about a non-public address from `source`.
pub fn hint(source: AddressSource, ip: &str) -> String {
    match source {
        AddressSource::Click => format!(
            "clicks come from {ip}, which is not a public address: Meta and TikTok get no \
             client address for them. If capi-bridge is behind a reverse proxy or CDN, set \
             TRUSTED_PROXIES={ip} (the proxy's address, or its range in CIDR notation, e.g. \
             Cloudflare's published ranges) so the visitor's address is read from \
             X-Forwarded-For"
        ),
        AddressSource::Postback => format!(
            "a postback's ip={ip} is not a public address: Meta and TikTok get no client \
             address from it. Pass the visitor's address in the tracker's ip macro, not the \
             tracker's or network's own"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_public_address_is_sent_the_clicks_first() {
        let cases: &[(Option<&str>, Option<&str>, Option<&str>)] = &[
            (
                Some("203.0.113.7"),
                Some("198.51.100.9"),
                Some("203.0.113.7"),
            ),
            (
                Some("127.0.0.1"),
                Some("198.51.100.9"),
                Some("198.51.100.9"),
            ),
            (Some("10.1.2.3"), None, None),
            (None, Some("192.168.0.10"), None),
            (Some("::1"), Some("fd00::1"), None),
            (Some("::ffff:10.0.0.1"), None, None),
            (Some("100.64.0.1"), Some("169.254.1.1"), None),
            (None, Some("2001:db8::1"), Some("2001:db8::1")),
            (Some("not an address"), None, None),
            (None, None, None),
        ];
        for &(click, postback, sent) in cases {
            assert_eq!(visitor_ip(click, postback), sent, "{click:?} {postback:?}");
        }
    }

    #[test]
    fn the_left_out_addresses_are_named_with_their_source() {
        assert_eq!(
            nonpublic(Some("127.0.0.1"), Some("10.0.0.5")),
            [
                (AddressSource::Click, "127.0.0.1"),
                (AddressSource::Postback, "10.0.0.5")
            ]
        );
        assert_eq!(nonpublic(Some("203.0.113.7"), None), []);
        assert_eq!(
            nonpublic(None, Some("172.16.0.1")),
            [(AddressSource::Postback, "172.16.0.1")]
        );
    }

    #[test]
    fn the_warning_comes_once_an_hour() {
        let t0 = Instant::now();
        let mut last = None;
        assert!(warn_due(&mut last, t0));
        assert!(!warn_due(&mut last, t0 + Duration::from_secs(60)));
        assert!(!warn_due(
            &mut last,
            t0 + WARN_EVERY - Duration::from_secs(1)
        ));
        assert!(warn_due(&mut last, t0 + WARN_EVERY));
        assert!(!warn_due(
            &mut last,
            t0 + WARN_EVERY + Duration::from_secs(1)
        ));
    }

    #[test]
    fn the_hint_says_what_to_set() {
        let click = hint(AddressSource::Click, "10.0.0.2");
        assert!(click.contains("TRUSTED_PROXIES=10.0.0.2"), "{click}");
        let postback = hint(AddressSource::Postback, "10.0.0.2");
        assert!(postback.contains("ip=10.0.0.2"), "{postback}");
        assert!(!postback.contains("TRUSTED_PROXIES"), "{postback}");
    }

    #[test]
    fn every_left_out_address_is_counted() {
        let count = |source: &str| {
            NONPUBLIC_IP
                .get_or_create(&vec![
                    ("platform", "tiktok".to_owned()),
                    ("source", source.to_owned()),
                ])
                .get()
        };
        let (click, postback) = (count("click"), count("postback"));
        observe(PlatformKind::TikTok, Some("127.0.0.1"), Some("10.9.9.9"));
        observe(PlatformKind::TikTok, Some("203.0.113.7"), None);
        // Other tests may count too (the counter is the process's): at least ours.
        assert!(count("click") > click);
        assert!(count("postback") > postback);
    }
}
