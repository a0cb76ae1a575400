//! The conversion list's filters, one type for the admin API, the dashboard and both CSV
//! exports: `since` is the first instant included, `until` the first one excluded, everywhere.

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::{CampaignKey, DeliveryStatus, PlatformKind};

/// The list's filters; `None` matches everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListFilter<'a> {
    pub campaign: Option<&'a str>,
    pub state: Option<DeliveryStatus>,
    /// The tracker the postback came through (`keitaro`, `binom`...).
    pub tracker: Option<&'a str>,
    pub click_id: Option<&'a str>,
    /// The transaction id, exactly.
    pub txid: Option<&'a str>,
    /// Conversions with an event for this platform.
    pub platform: Option<PlatformKind>,
    /// Received at or after.
    pub since: Option<DateTime<Utc>>,
    /// Received before.
    pub until: Option<DateTime<Utc>>,
    /// Ids below this one (the next page).
    pub before: Option<i64>,
    pub limit: i64,
}

impl ListFilter<'_> {
    /// A filter that cannot be a campaign key matches nothing.
    pub fn matches_nothing(&self) -> bool {
        self.campaign
            .is_some_and(|c| CampaignKey::parse(c).is_err())
    }
}

/// A `since` or `until` as the query gives it: an RFC 3339 time, or a date meaning its UTC
/// midnight. `None`: neither.
pub fn instant(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(value, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        })
}

/// How a bound is written in a link: RFC 3339 in UTC, which [`instant`] reads back.
pub fn instant_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_instants_and_dates_and_writes_them_back() {
        let cases = [
            ("2026-11-30T15:00:00Z", Some("2026-11-30T15:00:00Z")),
            ("2026-12-01T00:00:00+09:00", Some("2026-11-30T15:00:00Z")),
            ("2026-11-30", Some("2026-11-30T00:00:00Z")),
            ("30.11.2026", None),
            ("", None),
        ];
        for (value, want) in cases {
            let got = instant(value).map(instant_text);
            assert_eq!(got.as_deref(), want, "{value}");
            if let Some(t) = instant(value) {
                assert_eq!(instant(&instant_text(t)), Some(t), "round trip");
            }
        }
    }
}
