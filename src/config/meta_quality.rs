//! The options of Meta's quality fetch (`meta_quality`): how often, how long it is kept.

use std::time::Duration;

/// `off`, or a duration of at least a minute (Meta computes EMQ over days; faster is noise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QualityInterval(pub Option<Duration>);

pub fn parse_interval(s: &str) -> Result<QualityInterval, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("off") {
        return Ok(QualityInterval(None));
    }
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("{s:?} is not a duration like 6h or 30m, nor off: {e}"))?;
    if d < Duration::from_secs(60) {
        return Err(format!("{s:?} is shorter than a minute"));
    }
    Ok(QualityInterval(Some(d)))
}

#[derive(Debug, Clone, clap::Args)]
pub struct MetaQualityConfig {
    /// How often every pixel's Event Match Quality and coverage are fetched from Meta's Dataset
    /// Quality API (at least 1m), or `off` (then only on request, from the dashboard or API).
    #[arg(long, env = "META_QUALITY_INTERVAL", value_name = "META_QUALITY_INTERVAL", default_value = "6h", value_parser = parse_interval, global = true)]
    pub meta_quality_interval: QualityInterval,

    /// Snapshots of Meta's quality figures older than this are deleted (they hold no personal
    /// data, only Meta's percentages and texts).
    #[arg(long, env = "META_QUALITY_RETENTION", value_name = "META_QUALITY_RETENTION", default_value = "90d", value_parser = humantime::parse_duration, global = true)]
    pub meta_quality_retention: Duration,

    /// How often the fetch loop looks for due pixels and refresh requests (tests shorten it).
    #[arg(long, env = "META_QUALITY_POLL", value_name = "META_QUALITY_POLL", default_value = "5s", value_parser = humantime::parse_duration, hide = true, global = true)]
    pub meta_quality_poll: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_is_a_duration_or_off() {
        assert_eq!(parse_interval("off"), Ok(QualityInterval(None)));
        assert_eq!(parse_interval("OFF"), Ok(QualityInterval(None)));
        assert_eq!(
            parse_interval("6h"),
            Ok(QualityInterval(Some(Duration::from_secs(6 * 3600))))
        );
        assert!(parse_interval("10s").is_err());
        assert!(parse_interval("soon").is_err());
    }
}
