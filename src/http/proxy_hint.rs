//! Behind Cloudflare or another reverse proxy that is missing from TRUSTED_PROXIES, every click
//! seems to come from the proxy: visitors share one rate-limit bucket and Meta gets the proxy's
//! address. That is silent, so this watches where clicks come from and says so in the log.

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
        if let Some(share) = self.observe_at(ip, Instant::now()) {
            tracing::warn!(
                percent = share,
                "most clicks come from one address: if capi-bridge is behind a reverse proxy \
                 or CDN (Cloudflare...), list its ranges in TRUSTED_PROXIES, or every visitor \
                 shares the proxy's address and rate-limit budget"
            );
        }
    }

    /// The share (percent) to warn about, if a warning is due.
    fn observe_at(&self, ip: Option<IpAddr>, now: Instant) -> Option<u32> {
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
        let top = s.counts.values().copied().max().unwrap_or(0);
        let share = top * 100 / s.total;
        s.total = 0;
        s.counts.clear();
        let due = s
            .last_warned
            .is_none_or(|t| now.duration_since(t) >= WARN_EVERY);
        (share > 50 && due).then(|| {
            s.last_warned = Some(now);
            share
        })
    }
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
            warnings.extend(c.observe_at(ip("172.68.1.1"), at));
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
        assert_eq!(again, Some(100), "and again an hour later");
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
