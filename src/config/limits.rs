//! The settings of the public endpoints' limits: parsed here with the rest of the configuration,
//! applied by `http::rate_limit` and `http::click_budget`.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::Quota;

/// `off`, or `N/s`, `N/m`, `N/h` (requests per client address; bursts up to N).
#[derive(Debug, Clone, Copy)]
pub struct RateLimitSetting(pub Option<Quota>);

pub fn parse_rate(s: &str) -> Result<RateLimitSetting, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("off") || s == "0" {
        return Ok(RateLimitSetting(None));
    }
    let err = || format!("{s:?} is not like 6000/m, 100/s or off");
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

/// An amount per period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub amount: f64,
    pub per: Duration,
}

impl Rate {
    pub fn per_sec(&self) -> f64 {
        self.amount / self.per.as_secs_f64()
    }
}

/// `off`, or an amount per `s`, `m`, `h` or `d` (bucket: one period's amount).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetSetting(pub Option<Rate>);

/// A count per period: `1000/h`, or `off`.
pub fn parse_count(s: &str) -> Result<BudgetSetting, String> {
    parse(s, "1000/h", |n| n.parse::<u64>().ok())
}

/// Bytes per period: `4MB/h` (KB, MB, GB are powers of 1000; KiB, MiB, GiB of 1024), or `off`.
pub fn parse_bytes(s: &str) -> Result<BudgetSetting, String> {
    parse(s, "4MB/h", |n| {
        let digits = n.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let unit: u64 = match n[digits.len()..].to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kb" => 1000,
            "mb" => 1000_u64.pow(2),
            "gb" => 1000_u64.pow(3),
            "kib" => 1 << 10,
            "mib" => 1 << 20,
            "gib" => 1 << 30,
            _ => return None,
        };
        digits.trim().parse::<u64>().ok()?.checked_mul(unit)
    })
}

fn parse(
    s: &str,
    example: &str,
    amount: impl Fn(&str) -> Option<u64>,
) -> Result<BudgetSetting, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("off") {
        return Ok(BudgetSetting(None));
    }
    let err = || format!("{s:?} is not like {example} or off");
    let (n, unit) = s.split_once('/').ok_or_else(err)?;
    let amount = amount(n.trim()).filter(|&n| n > 0).ok_or_else(err)?;
    let secs = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(err()),
    };
    Ok(BudgetSetting(Some(Rate {
        amount: amount as f64,
        per: Duration::from_secs(secs),
    })))
}

#[derive(Debug, Clone, Copy)]
pub struct ClickBudgetSettings {
    pub new_per_address: BudgetSetting,
    pub bytes_per_address: BudgetSetting,
    pub bytes_per_campaign: BudgetSetting,
}
