//! Per-client-address rate limit for the public click endpoint: a landing page registers a
//! handful of clicks per visitor, a script hammering the endpoint gets 429 before it costs a
//! database write.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::ApiError;

/// `off`, or `N/s`, `N/m`, `N/h` (requests per client address; bursts up to N).
#[derive(Debug, Clone, Copy)]
pub struct RateLimitSetting(pub Option<Quota>);

pub fn parse_rate(s: &str) -> Result<RateLimitSetting, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("off") || s == "0" {
        return Ok(RateLimitSetting(None));
    }
    let err = || format!("CLICK_RATE_LIMIT: {s:?} is not like 6000/m, 100/s or off");
    let (n, unit) = s.split_once('/').ok_or_else(err)?;
    let n = n.trim().parse::<NonZeroU32>().map_err(|_| err())?;
    let quota = match unit.trim() {
        "s" | "sec" | "second" => Quota::per_second(n),
        "m" | "min" | "minute" => Quota::per_minute(n),
        "h" | "hour" => Quota::per_hour(n),
        _ => return Err(err()),
    };
    Ok(RateLimitSetting(Some(quota)))
}

pub struct ClickRateLimit {
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    clock: DefaultClock,
}

impl ClickRateLimit {
    pub fn new(setting: RateLimitSetting) -> Self {
        ClickRateLimit {
            limiter: setting.0.map(DefaultKeyedRateLimiter::keyed),
            clock: DefaultClock::default(),
        }
    }

    /// `None` (a client whose forwarded chain could not be read) shares one budget, so an
    /// unreadable X-Forwarded-For is no way around the limit.
    pub fn check(&self, ip: Option<IpAddr>) -> Result<(), ApiError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        let key = ip.unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            // Rounded up: a client that waits exactly Retry-After must get through.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            ApiError::TooManyRequests {
                retry_after_secs: secs.max(1),
            }
        })
    }

    /// Forgets addresses whose budget is full again, so memory follows the active visitors.
    pub fn prune(&self) {
        if let Some(l) = &self.limiter {
            l.retain_recent();
            l.shrink_to_fit();
        }
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
        let off = ClickRateLimit::new(parse_rate("off").unwrap());
        for _ in 0..100 {
            assert!(off.check(Some(a)).is_ok());
        }
    }
}
