//! Behind Cloudflare or another reverse proxy that is missing from TRUSTED_PROXIES, every click
//! seems to come from the proxy: visitors share one rate-limit bucket and Meta gets the proxy's
//! address. That is silent, so this watches where clicks come from and says in the log what to
//! set, naming the address (more than half of a thousand clicks: a proxy's, not a visitor's).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Clicks per verdict: enough that a handful of test clicks from one machine say nothing.
const WINDOW: u32 = 1000;
/// Distinct addresses counted per window; more means the traffic is clearly not one proxy.
const MAX_TRACKED: usize = 512;
const WARN_EVERY: Duration = Duration::from_secs(3600);

#[derive(Default)]
pub struct SourceConcentration(Mutex<State>);

#[derive(Default)]
struct State {
    total: u32,
    counts: HashMap<IpAddr, u32>,
    last_warned: Option<Instant>,
}

impl SourceConcentration {
    /// Records a click's client address; logs a warning (at most once an hour) when more than
    /// half of the last window's clicks came from a single address.
    pub fn observe(&self, ip: Option<IpAddr>) {
        if let Some((top, share)) = self.observe_at(ip, Instant::now()) {
            tracing::warn!(percent = share, "{}", hint(top, share));
        }
    }

    /// The address most clicks came from and its share (percent), if a warning is due.
    fn observe_at(&self, ip: Option<IpAddr>, now: Instant) -> Option<(IpAddr, u32)> {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        s.total += 1;
        if let Some(ip) = ip {
            if s.counts.len() < MAX_TRACKED || s.counts.contains_key(&ip) {
                *s.counts.entry(ip).or_default() += 1;
            }
        }
        if s.total < WINDOW {
            return None;
        }
        let top = s
            .counts
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(ip, n)| (*ip, *n));
        let share = top.map_or(0, |(_, n)| n * 100 / s.total);
        s.total = 0;
        s.counts.clear();
        let due = s
            .last_warned
            .is_none_or(|t| now.duration_since(t) >= WARN_EVERY);
        let top = top.filter(|_| share > 50 && due)?;
        s.last_warned = Some(now);
        Some((top.0, share))
    }
}

/// The warning: what to set, with the address that sent most clicks (the proxy's, when
/// capi-bridge is behind one).
fn hint(top: IpAddr, percent: u32) -> String {
    format!(
        "{percent}% of the last {WINDOW} clicks came from {top}: if that is a reverse proxy or \
         CDN in front of capi-bridge, set TRUSTED_PROXIES={top} (or its ranges in CIDR \
         notation, e.g. Cloudflare's published ones), or every visitor shares the proxy's \
         address and rate-limit budget, and Meta and TikTok get the proxy's address (or none, \
         when it is a private one)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn warns_once_an_hour_when_one_address_sends_most_clicks() {
        let c = SourceConcentration::default();
        let t0 = Instant::now();
        let mut warnings = Vec::new();
        for n in 0..3 * WINDOW {
            let at = t0 + Duration::from_secs(u64::from(n));
            warnings.extend(c.observe_at(ip("172.68.1.1"), at).map(|(_, share)| share));
        }
        assert_eq!(
            warnings,
            [100],
            "one warning for three windows within the hour"
        );
        let later = t0 + WARN_EVERY + Duration::from_secs(u64::from(3 * WINDOW));
        let mut again = None;
        for _ in 0..WINDOW {
            again = again.or(c.observe_at(ip("172.68.1.1"), later));
        }
        assert_eq!(
            again,
            ip("172.68.1.1").map(|top| (top, 100)),
            "and again an hour later"
        );
    }

    #[test]
    fn the_warning_names_the_address_to_trust() {
        let text = hint("172.68.1.1".parse().unwrap(), 97);
        assert!(text.contains("TRUSTED_PROXIES=172.68.1.1"), "{text}");
        assert!(
            text.starts_with("97% of the last 1000 clicks came from 172.68.1.1"),
            "{text}"
        );
    }

    #[test]
    fn varied_sources_are_not_a_proxy() {
        let c = SourceConcentration::default();
        let now = Instant::now();
        for n in 0..2 * WINDOW {
            let addr = format!("198.51.100.{}", n % 200);
            assert_eq!(c.observe_at(ip(&addr), now), None);
        }
        // Half from one address, half spread: not "most".
        for n in 0..WINDOW {
            let addr = if n % 2 == 0 {
                "203.0.113.1".to_owned()
            } else {
                format!("198.51.100.{}", n % 200)
            };
            assert_eq!(c.observe_at(ip(&addr), now), None);
        }
    }
}
