//! The overview's shaping: raw counts in, rows with every known state (zeros included) and a
//! 24-bar chart out. Pure, so the table tests below pin it without a database.

use chrono::{DateTime, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;
use maud::{html, Markup};

use crate::domain::{EventState, PlatformKind};
use crate::storage::outbox_stats::OutboxStats;
use crate::storage::overview::WindowCounts;

/// A conversion's own state, as the overview names it, in display order.
const POSTBACK_STATES: &[(&str, &str)] = &[
    ("queued", "made an event"),
    ("unmatched", "unmatched (no click)"),
    ("skipped", "skipped (status not mapped)"),
    ("suppressed", "suppressed (no consent)"),
    ("failed", "failed"),
];

#[derive(Debug, PartialEq)]
pub struct Row {
    pub label: String,
    pub day: i64,
    pub week: i64,
    /// A heading row (a total), the others are its parts.
    pub group: bool,
}

#[derive(Debug, PartialEq)]
pub struct Overview {
    pub rows: Vec<Row>,
    pub oldest_pending: Option<String>,
    /// What the page leads with: failed events, and each platform's errors with any.
    pub failures: Failures,
}

/// Counts over 24 hours and 7 days.
#[derive(Debug, Default, PartialEq)]
pub struct Failures {
    pub events: (i64, i64),
    pub errors: Vec<(PlatformKind, i64, i64)>,
}

impl Failures {
    pub fn none(&self) -> bool {
        self.events.1 == 0 && self.errors.is_empty()
    }
}

fn row(label: impl Into<String>, day: i64, week: i64, group: bool) -> Row {
    Row {
        label: label.into(),
        day,
        week,
        group,
    }
}

fn count<K: PartialEq>(counts: &[(K, i64)], key: &K) -> i64 {
    counts
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, n)| n)
        .sum()
}

fn total<K>(counts: &[(K, i64)]) -> i64 {
    counts.iter().map(|(_, n)| n).sum()
}

impl Overview {
    pub fn shape(day: &WindowCounts, week: &WindowCounts, outbox: &OutboxStats) -> Self {
        let mut rows = vec![row("Clicks registered", day.clicks, week.clicks, true)];

        rows.push(row(
            "Postbacks",
            total(&day.postbacks),
            total(&week.postbacks),
            true,
        ));
        for (state, label) in POSTBACK_STATES {
            let key = (*state).to_owned();
            rows.push(row(
                *label,
                count(&day.postbacks, &key),
                count(&week.postbacks, &key),
                false,
            ));
        }

        let mut failures = Failures {
            events: (
                count(&day.events, &EventState::Failed),
                count(&week.events, &EventState::Failed),
            ),
            errors: Vec::new(),
        };
        rows.push(row("Events", total(&day.events), total(&week.events), true));
        for state in EventState::ALL {
            rows.push(row(
                state.as_str(),
                count(&day.events, state),
                count(&week.events, state),
                false,
            ));
        }

        // Error codes mean something else on each platform: one group per platform.
        for &platform in PlatformKind::ALL {
            let of = |w: &WindowCounts| -> Vec<(Option<i32>, i64)> {
                w.errors
                    .iter()
                    .filter(|(p, ..)| *p == platform)
                    .map(|(_, c, n)| (*c, *n))
                    .collect()
            };
            let (day_errors, week_errors) = (of(day), of(week));
            if total(&week_errors) > 0 || total(&day_errors) > 0 {
                failures
                    .errors
                    .push((platform, total(&day_errors), total(&week_errors)));
            }
            let group = format!("{} errors", platform.name());
            rows.push(row(group, total(&day_errors), total(&week_errors), true));
            let mut codes: Vec<Option<i32>> = week_errors
                .iter()
                .chain(&day_errors)
                .map(|(c, _)| *c)
                .collect();
            codes.sort_unstable();
            codes.dedup();
            for code in codes {
                let label = code.map_or("without a code".to_owned(), |c| format!("code {c}"));
                rows.push(row(
                    label,
                    count(&day_errors, &code),
                    count(&week_errors, &code),
                    false,
                ));
            }
        }

        Overview {
            rows,
            oldest_pending: outbox.oldest_pending_seconds().map(age),
            failures,
        }
    }
}

/// `42 s`, `12 min`, `3 h 5 min`, `2 d 4 h`.
pub fn age(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86400, s % 86400 / 3600),
    }
}

/// The 24 hours ending with the current one (hours of the display zone), oldest first, zeros
/// where nothing happened.
pub fn hourly_series(
    now: DateTime<Utc>,
    rows: &[(DateTime<Utc>, i64)],
    zone: Tz,
) -> Vec<(DateTime<Utc>, i64)> {
    let hour = TimeDelta::hours(1);
    let local = now.with_timezone(&zone);
    // The zone's offset may be a whole number of hours or not (India: +05:30).
    let into_hour = TimeDelta::minutes(i64::from(local.minute()))
        + TimeDelta::seconds(i64::from(local.second()))
        + TimeDelta::nanoseconds(i64::from(local.nanosecond()));
    let current = now - into_hour;
    (0..24)
        .rev()
        .map(|back| {
            let start = current - hour * back;
            (start, count(rows, &start))
        })
        .collect()
}

/// A bar per hour, scaled to the busiest one, with the count in each bar's tooltip; the hours
/// are the display zone's, and the axis names it.
pub fn chart_svg(series: &[(DateTime<Utc>, i64)], zone: Tz) -> Markup {
    const W: i64 = 20;
    const H: i64 = 100;
    let max = series.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let width = W * series.len() as i64;
    html! {
        svg.chart viewBox=(format!("0 0 {width} {}", H + 30)) role="img"
            aria-label=(format!("events per hour, {} in all, hours in {}", total(series), zone.name())) {
            line.axis x1="0" y1=(H) x2=(width) y2=(H) {}
            @for (i, (start, n)) in series.iter().enumerate() {
                @let start = start.with_timezone(&zone);
                @let h = (n * H / max).max(if *n > 0 { 2 } else { 0 });
                rect.bar x=(i as i64 * W + 2) y=(H - h) width=(W - 4) height=(h) {
                    title { (start.format("%H:%M")) " " (zone.name()) ": " (n) }
                }
                @if i % 6 == 0 {
                    text.tick x=(i as i64 * W + 2) y=(H + 13) { (start.format("%H:%M")) }
                }
            }
            text.tick.zone x=(width) y=(H + 27) text-anchor="end" { "hours in " (zone.name()) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn counts(
        clicks: i64,
        postbacks: &[(&str, i64)],
        errors: &[(PlatformKind, Option<i32>, i64)],
    ) -> WindowCounts {
        WindowCounts {
            clicks,
            postbacks: postbacks
                .iter()
                .map(|(s, n)| ((*s).to_owned(), *n))
                .collect(),
            events: vec![(EventState::Sent, 2), (EventState::Failed, 1)],
            errors: errors.to_vec(),
        }
    }

    fn outbox(oldest: Option<f64>) -> OutboxStats {
        OutboxStats {
            events: vec![],
            conversions: vec![],
            pending: oldest
                .map(|s| crate::storage::outbox_stats::Pending {
                    platform: PlatformKind::TikTok,
                    depth: 1,
                    oldest_seconds: Some(s),
                })
                .into_iter()
                .collect(),
        }
    }

    fn find<'a>(o: &'a Overview, label: &str) -> &'a Row {
        o.rows.iter().find(|r| r.label == label).unwrap()
    }

    #[test]
    fn shows_every_state_with_zeros_and_totals() {
        let day = counts(3, &[("queued", 1)], &[]);
        let errors = [
            (PlatformKind::Meta, Some(190), 1),
            (PlatformKind::TikTok, Some(40001), 2),
        ];
        let week = counts(9, &[("queued", 4), ("unmatched", 2)], &errors);
        let o = Overview::shape(&day, &week, &outbox(None));
        let cases = [
            ("Clicks registered", 3, 9),
            ("Postbacks", 1, 6),
            ("made an event", 1, 4),
            ("unmatched (no click)", 0, 2),
            ("suppressed (no consent)", 0, 0),
            ("Events", 3, 3),
            ("sent", 2, 2),
            ("pending", 0, 0),
            ("expired", 0, 0),
            ("Meta errors", 0, 1),
            ("code 190", 0, 1),
            ("TikTok errors", 0, 2),
            ("code 40001", 0, 2),
        ];
        for (label, d, w) in cases {
            let r = find(&o, label);
            assert_eq!((r.day, r.week), (d, w), "{label}");
        }
        // Each platform's codes sit under its own heading.
        let labels: Vec<&str> = o.rows.iter().map(|r| r.label.as_str()).collect();
        let at = |l| labels.iter().position(|x| *x == l).unwrap();
        assert!(at("Meta errors") < at("code 190") && at("code 190") < at("TikTok errors"));
        assert!(at("TikTok errors") < at("code 40001"));
        assert_eq!(o.oldest_pending, None);
        let failures = Failures {
            events: (1, 1),
            errors: vec![(PlatformKind::Meta, 0, 1), (PlatformKind::TikTok, 0, 2)],
        };
        assert_eq!(o.failures, failures);
        assert!(!o.failures.none());
        let quiet = Overview::shape(&day, &counts(0, &[], &[]), &outbox(None));
        assert_eq!(quiet.failures.errors, vec![]);
        let waiting = Overview::shape(&day, &week, &outbox(Some(125.0)));
        assert_eq!(waiting.oldest_pending.as_deref(), Some("2 min"));
    }

    #[test]
    fn ages_read_naturally() {
        let cases = [
            (0.0, "0 s"),
            (59.9, "59 s"),
            (60.0, "1 min"),
            (3_725.0, "1 h 2 min"),
            (2.0 * 86_400.0 + 7_200.0, "2 d 2 h"),
            (-3.0, "0 s"),
        ];
        for (secs, want) in cases {
            assert_eq!(age(secs), want, "{secs}");
        }
    }

    #[test]
    fn the_series_has_24_hours_ending_now_with_zeros() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 10, 30, 0).unwrap();
        let at = |h| Utc.with_ymd_and_hms(2026, 12, 1, h, 0, 0).unwrap();
        let s = hourly_series(now, &[(at(10), 5), (at(8), 2)], Tz::UTC);
        assert_eq!(s.len(), 24);
        assert_eq!(s[23], (at(10), 5));
        assert_eq!(s[22], (at(9), 0));
        assert_eq!(s[21], (at(8), 2));
        assert_eq!(
            s[0].0,
            Utc.with_ymd_and_hms(2026, 11, 30, 11, 0, 0).unwrap()
        );
    }

    #[test]
    fn hours_are_the_display_zones() {
        // India is 5:30 ahead of UTC: its hours start at :30 UTC.
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 10, 45, 0).unwrap();
        let start = Utc.with_ymd_and_hms(2026, 12, 1, 10, 30, 0).unwrap();
        let s = hourly_series(now, &[(start, 3)], Tz::Asia__Kolkata);
        assert_eq!(s[23], (start, 3));
        let svg = chart_svg(&s, Tz::Asia__Kolkata).into_string();
        assert!(svg.contains("16:00 Asia/Kolkata: 3"), "{svg}");
        assert!(svg.contains("hours in Asia/Kolkata"), "{svg}");
    }

    #[test]
    fn the_chart_scales_to_the_busiest_hour() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 10, 30, 0).unwrap();
        let at = |h| Utc.with_ymd_and_hms(2026, 12, 1, h, 0, 0).unwrap();
        let svg = chart_svg(
            &hourly_series(now, &[(at(10), 4), (at(9), 2)], Tz::UTC),
            Tz::UTC,
        )
        .into_string();
        assert_eq!(svg.matches("<rect").count(), 24);
        assert!(svg.contains(r#"y="0" width="16" height="100""#), "{svg}");
        assert!(svg.contains(r#"y="50" width="16" height="50""#), "{svg}");
        assert!(svg.contains("10:00 UTC: 4"));
        assert!(svg.contains("hours in UTC"), "the axis names the zone");
        assert!(svg.contains("6 in all"));
    }
}
