//! Per-client-address rate limit for the public click endpoint: a landing page registers a
//! handful of clicks per visitor, a script hammering the endpoint gets 429 before it costs a
//! database write.

use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};

use governor::clock::{Clock, DefaultClock};
use governor::DefaultKeyedRateLimiter;

use super::ApiError;

pub use crate::config::limits::{parse_rate, RateLimitSetting};

/// A keyed limiter; `off` lets everything through.
pub struct RateLimit<K: Hash + Eq + Clone> {
    limiter: Option<DefaultKeyedRateLimiter<K>>,
    clock: DefaultClock,
}

impl<K: Hash + Eq + Clone> RateLimit<K> {
    pub fn new(setting: RateLimitSetting) -> Self {
        RateLimit {
            limiter: setting.0.map(DefaultKeyedRateLimiter::keyed),
            clock: DefaultClock::default(),
        }
    }

    pub fn check_key(&self, key: &K) -> Result<(), ApiError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            // Rounded up: a client that waits exactly Retry-After must get through.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            ApiError::TooManyRequests {
                retry_after_secs: secs.max(1),
            }
        })
    }

    /// Forgets keys whose budget is full again, so memory follows the active clients.
    pub fn prune(&self) {
        if let Some(l) = &self.limiter {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

/// What one client's budgets are keyed by: its IPv4 address, or its IPv6 /64. `None` (a client
/// whose forwarded chain could not be read) shares one key, so an unreadable X-Forwarded-For is
/// no way around a limit.
pub fn address_key(ip: Option<IpAddr>) -> IpAddr {
    match ip.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V6(v6)) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u64::MAX as u128))),
        Some(v4) => v4,
        None => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

/// Per client address. An IPv6 visitor usually holds a whole /64 and can pick any address in
/// it, so IPv6 addresses share their /64's budget.
pub struct ClickRateLimit(RateLimit<IpAddr>);

impl ClickRateLimit {
    pub fn new(setting: RateLimitSetting) -> Self {
        ClickRateLimit(RateLimit::new(setting))
    }

    pub fn check(&self, ip: Option<IpAddr>) -> Result<(), ApiError> {
        self.0.check_key(&address_key(ip))
    }

    pub fn prune(&self) {
        self.0.prune();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_settings() {
        assert!(parse_rate("off").unwrap().0.is_none());
        assert!(parse_rate("6000/m").unwrap().0.is_some());
        assert!(parse_rate("5/x").is_err());
        assert!(parse_rate("many").is_err());
    }

    #[test]
    fn limits_per_address() {
        let limit = ClickRateLimit::new(parse_rate("2/m").unwrap());
        let a: IpAddr = "203.0.113.1".parse().unwrap();
        let b: IpAddr = "203.0.113.2".parse().unwrap();
        assert!(limit.check(Some(a)).is_ok());
        assert!(limit.check(Some(a)).is_ok());
        let err = limit.check(Some(a)).unwrap_err();
        assert!(
            matches!(err, ApiError::TooManyRequests { retry_after_secs } if retry_after_secs >= 1)
        );
        assert!(
            limit.check(Some(b)).is_ok(),
            "another visitor is not limited"
        );
        assert!(limit.check(None).is_ok());
        assert!(limit.check(None).is_ok());
        assert!(limit.check(None).is_err(), "unknown clients share a budget");
        // One IPv6 /64 is one visitor.
        let v6a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let v6c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(limit.check(Some(v6a)).is_ok());
        assert!(limit.check(Some(v6b)).is_ok());
        assert!(limit.check(Some(v6a)).is_err(), "same /64");
        assert!(limit.check(Some(v6c)).is_ok(), "another /64");
        let off = ClickRateLimit::new(parse_rate("off").unwrap());
        for _ in 0..100 {
            assert!(off.check(Some(a)).is_ok());
        }
    }
}
