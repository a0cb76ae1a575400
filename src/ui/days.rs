//! Days and times as the dashboard shows them: in the display zone (`UI_TIME_ZONE`), with the
//! date presets (`range=today`...) as calendar days of that zone. Pure, so table tests pin the
//! day boundaries, daylight-saving days included.

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use maud::{html, Markup};

/// A time as the dashboard shows it: in the display zone, to the second. The column or label
/// around it names the zone ([`zone_label`]); the `datetime` attribute keeps the offset.
pub fn when(t: &DateTime<Utc>, tz: Tz) -> Markup {
    let local = t.with_timezone(&tz);
    html! { time datetime=(local.to_rfc3339()) { (local.format("%Y-%m-%d %H:%M:%S")) } }
}

/// `Received (Europe/Berlin)`: a heading that names the zone its times are in.
pub fn zone_label(what: &str, tz: Tz) -> String {
    format!("{what} ({})", tz.name())
}

/// The calendar day a moment falls on in the zone.
pub fn day_of(t: DateTime<Utc>, tz: Tz) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

/// The first moment of a calendar day in the zone. Where the clocks skip midnight (a zone
/// whose daylight saving starts at 00:00), the day starts at its first existing minute.
pub fn day_start(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight is a valid time");
    // Clocks never skip more than a few hours; look minute by minute over a day at most.
    for minutes in 0..(24 * 60) {
        let local = midnight + TimeDelta::minutes(minutes);
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(first, _) => return first.with_timezone(&Utc),
            LocalResult::None => continue,
        }
    }
    midnight.and_utc()
}

/// A date preset, as its word in the URL (`range=today`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    Today,
    Yesterday,
    Last7,
    ThisMonth,
}

impl Range {
    pub const ALL: &'static [Range] = &[
        Range::Today,
        Range::Yesterday,
        Range::Last7,
        Range::ThisMonth,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Range::Today => "today",
            Range::Yesterday => "yesterday",
            Range::Last7 => "last7",
            Range::ThisMonth => "this_month",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Range::Today => "Today",
            Range::Yesterday => "Yesterday",
            Range::Last7 => "Last 7 days",
            Range::ThisMonth => "This month",
        }
    }

    pub fn parse(word: &str) -> Option<Range> {
        Range::ALL.iter().copied().find(|r| r.as_str() == word)
    }

    /// The word, or a sentence naming the words there are.
    pub fn parse_or_explain(word: &str) -> Result<Range, String> {
        Range::parse(word).ok_or_else(|| {
            let all: Vec<_> = Range::ALL.iter().map(|r| r.as_str()).collect();
            format!(
                "Unknown range {word:?}: it must be one of {}.",
                all.join(", ")
            )
        })
    }

    /// The first and last calendar day (included) of the preset, seen from `now` in the zone.
    /// "Last 7 days" is today and the six days before it.
    pub fn days(self, now: DateTime<Utc>, tz: Tz) -> (NaiveDate, NaiveDate) {
        let today = day_of(now, tz);
        let before = |n: u64| {
            today
                .checked_sub_days(chrono::Days::new(n))
                .unwrap_or(today)
        };
        match self {
            Range::Today => (today, today),
            Range::Yesterday => (before(1), before(1)),
            Range::Last7 => (before(6), today),
            Range::ThisMonth => (today.with_day(1).unwrap_or(today), today),
        }
    }

    /// The preset as a half-open span of moments: `[start of the first day, start of the day
    /// after the last)`, each a calendar day in the zone (23 or 25 hours on a clock change).
    pub fn bounds(self, now: DateTime<Utc>, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let (first, last) = self.days(now, tz);
        days_bounds(first, last, tz)
    }
}

/// Whole calendar days `first..=last` in the zone, as a half-open span of moments.
pub fn days_bounds(first: NaiveDate, last: NaiveDate, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let end = last
        .succ_opt()
        .map_or(DateTime::<Utc>::MAX_UTC, |d| day_start(d, tz));
    (day_start(first, tz), end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn tz(name: &str) -> Tz {
        name.parse().unwrap()
    }

    #[test]
    fn presets_are_calendar_days_in_the_zone() {
        // (zone, now, preset, start, end)
        let cases = [
            // 23:30 UTC is already the next morning in Tokyo.
            (
                "Asia/Tokyo",
                "2026-12-01T23:30:00Z",
                Range::Today,
                "2026-12-01T15:00:00Z",
                "2026-12-02T15:00:00Z",
            ),
            (
                "UTC",
                "2026-12-01T23:30:00Z",
                Range::Today,
                "2026-12-01T00:00:00Z",
                "2026-12-02T00:00:00Z",
            ),
            (
                "America/New_York",
                "2026-12-01T03:00:00Z",
                Range::Yesterday,
                "2026-11-29T05:00:00Z",
                "2026-11-30T05:00:00Z",
            ),
            (
                "Asia/Kolkata",
                "2026-12-10T12:00:00Z",
                Range::Last7,
                "2026-12-03T18:30:00Z",
                "2026-12-10T18:30:00Z",
            ),
            (
                "Europe/Berlin",
                "2026-12-10T12:00:00Z",
                Range::ThisMonth,
                "2026-11-30T23:00:00Z",
                "2026-12-10T23:00:00Z",
            ),
            // The last Sunday of March: Berlin's clocks go 02:00 -> 03:00, a 23-hour day.
            (
                "Europe/Berlin",
                "2026-03-29T12:00:00Z",
                Range::Today,
                "2026-03-28T23:00:00Z",
                "2026-03-29T22:00:00Z",
            ),
            // The day after it starts at the summer offset.
            (
                "Europe/Berlin",
                "2026-03-30T12:00:00Z",
                Range::Yesterday,
                "2026-03-28T23:00:00Z",
                "2026-03-29T22:00:00Z",
            ),
            // The last Sunday of October: 03:00 -> 02:00, a 25-hour day.
            (
                "Europe/Berlin",
                "2026-10-25T12:00:00Z",
                Range::Today,
                "2026-10-24T22:00:00Z",
                "2026-10-25T23:00:00Z",
            ),
            // Seven days across the spring change: 7 * 24 - 1 hours.
            (
                "Europe/Berlin",
                "2026-04-01T10:00:00Z",
                Range::Last7,
                "2026-03-25T23:00:00Z",
                "2026-04-01T22:00:00Z",
            ),
            // A month starting on the first, late evening UTC of the last day before.
            (
                "Asia/Tokyo",
                "2026-11-30T16:00:00Z",
                Range::ThisMonth,
                "2026-11-30T15:00:00Z",
                "2026-12-01T15:00:00Z",
            ),
        ];
        for (zone, now, range, start, end) in cases {
            let (s, e) = range.bounds(utc(now), tz(zone));
            assert_eq!((s, e), (utc(start), utc(end)), "{zone} {now} {range:?}");
        }
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_starts_at_its_first_minute() {
        // Havana springs forward at midnight: 2026-03-08 00:00 does not exist, 01:00 CDT does.
        let start = day_start(
            NaiveDate::from_ymd_opt(2026, 3, 8).unwrap(),
            tz("America/Havana"),
        );
        assert_eq!(start, utc("2026-03-08T05:00:00Z"));
        // Ambiguous local times take the earlier instant (never happens at midnight in Berlin,
        // but the rule holds for any zone).
        let berlin = day_start(
            NaiveDate::from_ymd_opt(2026, 10, 25).unwrap(),
            tz("Europe/Berlin"),
        );
        assert_eq!(berlin, utc("2026-10-24T22:00:00Z"));
    }

    #[test]
    fn range_words_round_trip_and_unknown_words_are_explained() {
        for r in Range::ALL {
            assert_eq!(Range::parse(r.as_str()), Some(*r));
        }
        let err = Range::parse_or_explain("week").unwrap_err();
        assert!(
            err.contains("\"week\"") && err.contains("today, yesterday, last7, this_month"),
            "{err}"
        );
    }

    #[test]
    fn times_are_shown_in_the_zone() {
        let t = utc("2026-12-01T23:30:00Z");
        let shown = when(&t, tz("Asia/Tokyo")).into_string();
        assert!(shown.contains(">2026-12-02 08:30:00<"), "{shown}");
        assert!(shown.contains("2026-12-02T08:30:00+09:00"), "{shown}");
        assert_eq!(
            zone_label("Received", tz("Asia/Tokyo")),
            "Received (Asia/Tokyo)"
        );
        assert_eq!(day_of(t, tz("UTC")).to_string(), "2026-12-01");
    }
}
