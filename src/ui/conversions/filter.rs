//! The list's filters as typed in its form (query parameters) and as checked for the query.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::domain::{ClickId, DeliveryStatus, PlatformKind};
use crate::http::params::parse_urlencoded;
use crate::storage::conversions::ListFilter;
use crate::trackers::Tracker;
use crate::ui::days::{day_start, days_bounds, Range};

/// Rows per page of the list.
pub const PAGE_SIZE: i64 = 50;

/// Names the list page answers to: the filters, the paging cursor and the notice of a
/// campaign's retry. Anything else is a 400, so a misspelt filter never shows everything.
const KNOWN: &[&str] = &[
    "campaign",
    "state",
    "tracker",
    "click_id",
    "txid",
    "platform",
    "from",
    "to",
    "range",
    "before",
    "retried",
    "still_failed",
    "more",
];

/// How many of [`KNOWN`] are filters (the rest are the cursor and the retry notice).
const FILTERS: usize = 9;

/// The longest transaction id searched for: longer ones are not a tracker's.
const TXID_MAX: usize = 256;

/// The query as typed (trimmed; blank means "any"), to fill the form back in.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Typed {
    pub campaign: String,
    pub state: String,
    pub tracker: String,
    pub click_id: String,
    pub txid: String,
    pub platform: String,
    pub from: String,
    pub to: String,
    pub range: String,
    pub before: String,
    /// The outcome of "Retry all failed", carried by its redirect.
    pub retried: String,
    pub still_failed: String,
    pub more: String,
}

/// The checked filters.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Filter {
    pub campaign: Option<String>,
    pub state: Option<DeliveryStatus>,
    pub tracker: Option<Tracker>,
    pub click_id: Option<String>,
    /// The transaction id, exactly.
    pub txid: Option<String>,
    /// Conversions with an event for this platform.
    pub platform: Option<PlatformKind>,
    /// Received on or after this day (a calendar day in the display zone).
    pub from: Option<NaiveDate>,
    /// Received on or before this day (in the display zone).
    pub to: Option<NaiveDate>,
    /// A date preset (`range=today`), counted from the moment the list is read.
    pub range: Option<Range>,
    pub before: Option<i64>,
}

/// Days a date filter may name: PostgreSQL's timestamps end long before chrono's dates do.
const FIRST_DAY: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
const LAST_DAY: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 30).expect("a valid date");

impl Typed {
    pub fn from_query(query: &str) -> Result<Typed, String> {
        let pairs = parse_urlencoded(query.as_bytes()).map_err(|e| e.to_string())?;
        let mut typed = Typed::default();
        for (name, value) in pairs {
            let slot = match name.as_str() {
                "campaign" => &mut typed.campaign,
                "state" => &mut typed.state,
                "tracker" => &mut typed.tracker,
                "click_id" => &mut typed.click_id,
                "txid" => &mut typed.txid,
                "platform" => &mut typed.platform,
                "from" => &mut typed.from,
                "to" => &mut typed.to,
                "range" => &mut typed.range,
                "before" => &mut typed.before,
                "retried" => &mut typed.retried,
                "still_failed" => &mut typed.still_failed,
                "more" => &mut typed.more,
                other => {
                    return Err(format!(
                        "Unknown filter {other:?}. The filters are: {}.",
                        KNOWN[..FILTERS].join(", ")
                    ))
                }
            };
            *slot = value.trim().to_owned();
        }
        Ok(typed)
    }

    pub fn check(&self) -> Result<Filter, String> {
        let some = |s: &String| (!s.is_empty()).then(|| s.clone());
        let state = match self.state.as_str() {
            "" => None,
            s => Some(DeliveryStatus::parse(s).ok_or_else(|| {
                let all: Vec<_> = DeliveryStatus::ALL.iter().map(|s| s.as_str()).collect();
                format!("Unknown state {s:?}: it must be one of {}.", all.join(", "))
            })?),
        };
        let tracker = match self.tracker.as_str() {
            "" => None,
            t => Some(Tracker::parse(t).ok_or_else(|| {
                let all: Vec<_> = Tracker::ALL.iter().map(|t| t.as_str()).collect();
                format!(
                    "Unknown tracker {t:?}: it must be one of {}.",
                    all.join(", ")
                )
            })?),
        };
        if !self.click_id.is_empty() {
            ClickId::parse(&self.click_id)
                .map_err(|e| format!("The click id {:?} {e}.", self.click_id))?;
        }
        if self.campaign.chars().any(char::is_control) {
            return Err("The campaign holds control characters.".to_owned());
        }
        if self.txid.chars().any(char::is_control) || self.txid.len() > TXID_MAX {
            return Err(format!(
                "The transaction id must be at most {TXID_MAX} bytes, without control characters."
            ));
        }
        let platform = match self.platform.as_str() {
            "" => None,
            p => Some(PlatformKind::parse(p).ok_or_else(|| {
                let all: Vec<_> = PlatformKind::ALL.iter().map(|p| p.as_str()).collect();
                format!(
                    "Unknown platform {p:?}: it must be one of {}.",
                    all.join(", ")
                )
            })?),
        };
        let from = day(&self.from, "from")?;
        let to = day(&self.to, "to")?;
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(format!("The day \"from\" ({f}) is after \"to\" ({t})."));
            }
        }
        let range = match self.range.as_str() {
            "" => None,
            r => Some(Range::parse_or_explain(r)?),
        };
        if range.is_some() && (from.is_some() || to.is_some()) {
            return Err(
                "Choose either a range or the days \"from\" and \"to\", not both.".to_owned(),
            );
        }
        let before = match self.before.as_str() {
            "" => None,
            b => Some(
                crate::storage::row_id(b)
                    .ok_or_else(|| format!("The page cursor {b:?} is not a positive number."))?,
            ),
        };
        Ok(Filter {
            campaign: some(&self.campaign),
            state,
            tracker,
            click_id: some(&self.click_id),
            txid: some(&self.txid),
            platform,
            from,
            to,
            range,
            before,
        })
    }
}

fn day(value: &str, name: &str) -> Result<Option<NaiveDate>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .filter(|d| (FIRST_DAY..=LAST_DAY).contains(d))
        .map(Some)
        .ok_or_else(|| {
            format!("The day \"{name}\" ({value:?}) is not a date like 2026-11-30 (1970 to 9999).")
        })
}

impl Filter {
    /// The storage filter: whole calendar days in `zone`, `to` included; a range is counted
    /// from `now`.
    pub fn list_filter(&self, zone: Tz, now: DateTime<Utc>) -> ListFilter<'_> {
        let (since, until) = match self.range {
            Some(r) => {
                let (s, u) = r.bounds(now, zone);
                (Some(s), Some(u))
            }
            None => (
                self.from.map(|d| day_start(d, zone)),
                self.to.map(|d| days_bounds(d, d, zone).1),
            ),
        };
        ListFilter {
            campaign: self.campaign.as_deref(),
            state: self.state,
            tracker: self.tracker.map(Tracker::as_str),
            click_id: self.click_id.as_deref(),
            txid: self.txid.as_deref(),
            platform: self.platform,
            since,
            until,
            before: self.before,
            limit: PAGE_SIZE,
        }
    }

    /// The list's URL with these filters and the cursor `before`.
    pub fn url(&self, before: Option<i64>) -> String {
        let mut pairs = self.pairs();
        if let Some(b) = before {
            pairs.push(("before", b.to_string()));
        }
        with_query("/ui/conversions", &pairs)
    }

    /// The list with these filters but the days of the preset `range` instead of theirs.
    pub fn range_url(&self, range: Range) -> String {
        let f = Filter {
            from: None,
            to: None,
            range: Some(range),
            ..self.clone()
        };
        f.url(None)
    }

    /// The CSV download of every row these filters match (no page cursor).
    pub fn export_url(&self) -> String {
        with_query(EXPORT_PATH, &self.pairs())
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(c) = &self.campaign {
            pairs.push(("campaign", c.clone()));
        }
        if let Some(s) = self.state {
            pairs.push(("state", s.as_str().to_owned()));
        }
        if let Some(t) = self.tracker {
            pairs.push(("tracker", t.as_str().to_owned()));
        }
        if let Some(c) = &self.click_id {
            pairs.push(("click_id", c.clone()));
        }
        if let Some(t) = &self.txid {
            pairs.push(("txid", t.clone()));
        }
        if let Some(p) = self.platform {
            pairs.push(("platform", p.as_str().to_owned()));
        }
        if let Some(d) = self.from {
            pairs.push(("from", d.to_string()));
        }
        if let Some(d) = self.to {
            pairs.push(("to", d.to_string()));
        }
        if let Some(r) = self.range {
            pairs.push(("range", r.as_str().to_owned()));
        }
        pairs
    }
}

/// Where the list's CSV download lives.
pub const EXPORT_PATH: &str = "/ui/conversions/export.csv";

/// `path?name=value&...`, each value percent-encoded.
pub fn with_query(path: &str, pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return path.to_owned();
    }
    let query: Vec<String> = pairs
        .iter()
        .map(|(name, value)| format!("{name}={}", encode(value)))
        .collect();
    format!("{path}?{}", query.join("&"))
}

fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn reads_and_checks_the_query() {
        let all = Filter {
            campaign: Some("shop".into()),
            state: Some(DeliveryStatus::Failed),
            tracker: Some(Tracker::Binom),
            click_id: Some("clk-1".into()),
            txid: Some("tx 1".into()),
            platform: Some(PlatformKind::TikTok),
            from: Some(date("2026-11-01")),
            to: Some(date("2026-11-30")),
            range: None,
            before: Some(77),
        };
        let ok: [(&str, Filter); 5] = [
            ("", Filter::default()),
            (
                "campaign=&state=&tracker=&click_id=&from=&to=",
                Filter::default(),
            ),
            (
                "campaign=shop&state=failed&tracker=binom&click_id=clk-1&txid=tx%201&platform=tiktok&from=2026-11-01&to=2026-11-30&before=77",
                all,
            ),
            (
                "range=last7&from=&to=",
                Filter {
                    range: Some(Range::Last7),
                    ..Filter::default()
                },
            ),
            (
                "state=sent&retried=3&still_failed=0&more=1",
                Filter {
                    state: Some(DeliveryStatus::Sent),
                    ..Filter::default()
                },
            ),
        ];
        for (query, want) in ok {
            let got = Typed::from_query(query).and_then(|t| t.check());
            assert_eq!(got, Ok(want), "{query}");
        }
        let bad = [
            ("state=queued", "Unknown state \"queued\""),
            ("tracker=adsterra", "Unknown tracker \"adsterra\""),
            ("from=30.11.2026", "\"from\" (\"30.11.2026\") is not a date"),
            ("to=2026-02-30", "\"to\" (\"2026-02-30\") is not a date"),
            ("to=+262142-01-01", "is not a date"),
            ("from=2026-12-02&to=2026-12-01", "is after"),
            ("click_id=a%20b", "The click id \"a b\" must be"),
            ("before=-1", "not a positive number"),
            (
                "platform=facebook",
                "Unknown platform \"facebook\": it must be one of meta, tiktok",
            ),
            ("txid=a%01b", "without control characters"),
            ("stat=failed", "Unknown filter \"stat\""),
            ("campaign=%ZZ", "%"),
            ("range=week", "Unknown range \"week\""),
            ("range=today&from=2026-12-01", "either a range"),
        ];
        for (query, want) in bad {
            let got = Typed::from_query(query).and_then(|t| t.check());
            let err = got.expect_err(query);
            assert!(err.contains(want), "{query}: {err}");
        }
    }

    #[test]
    fn days_are_whole_and_inclusive_in_the_display_zone() {
        let f = Filter {
            from: Some(date("2026-11-30")),
            to: Some(date("2026-11-30")),
            ..Filter::default()
        };
        let now = Utc::now();
        let cases = [
            (
                Tz::UTC,
                "2026-11-30T00:00:00+00:00",
                "2026-12-01T00:00:00+00:00",
            ),
            (
                Tz::Asia__Tokyo,
                "2026-11-29T15:00:00+00:00",
                "2026-11-30T15:00:00+00:00",
            ),
        ];
        for (zone, since, until) in cases {
            let l = f.list_filter(zone, now);
            assert_eq!(l.since.unwrap().to_rfc3339(), since, "{zone}");
            assert_eq!(l.until.unwrap().to_rfc3339(), until, "{zone}");
            assert_eq!(l.limit, PAGE_SIZE);
        }
        // A preset is counted from now, in the zone.
        let now = DateTime::parse_from_rfc3339("2026-12-01T23:30:00Z")
            .unwrap()
            .to_utc();
        let today = Filter {
            range: Some(Range::Today),
            ..Filter::default()
        };
        let l = today.list_filter(Tz::Asia__Tokyo, now);
        assert_eq!(l.since.unwrap().to_rfc3339(), "2026-12-01T15:00:00+00:00");
        assert_eq!(l.until.unwrap().to_rfc3339(), "2026-12-02T15:00:00+00:00");
        assert_eq!(today.url(None), "/ui/conversions?range=today");
    }

    #[test]
    fn builds_the_next_page_url() {
        let cases = [
            (Filter::default(), None, "/ui/conversions"),
            (Filter::default(), Some(5), "/ui/conversions?before=5"),
            (
                Filter {
                    campaign: Some("a b&c".into()),
                    state: Some(DeliveryStatus::Pending),
                    from: Some(date("2026-01-02")),
                    ..Filter::default()
                },
                Some(9),
                "/ui/conversions?campaign=a%20b%26c&state=pending&from=2026-01-02&before=9",
            ),
        ];
        for (filter, before, want) in cases {
            assert_eq!(filter.url(before), want);
        }
        let f = Filter {
            state: Some(DeliveryStatus::Failed),
            to: Some(date("2026-01-02")),
            before: Some(9),
            ..Filter::default()
        };
        assert_eq!(
            f.export_url(),
            "/ui/conversions/export.csv?state=failed&to=2026-01-02",
            "every filter, no cursor"
        );
    }
}
