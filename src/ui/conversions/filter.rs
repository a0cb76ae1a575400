//! The list's filters as typed in its form (query parameters) and as checked for the query.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;

use crate::domain::{ClickId, DeliveryStatus, PlatformKind};
use crate::http::params::parse_urlencoded;
use crate::storage::conversion_filter::{instant, instant_text, ListFilter};
use crate::trackers::Tracker;
use crate::ui::days::{day_start, days_bounds, Range};

/// Rows per page of the list.
pub const PAGE_SIZE: i64 = 50;

/// Names the list page answers to: the filters, the form's day inputs (redirected to `since`
/// and `until`), the paging cursor and the notice of a campaign's retry. Anything else is a
/// 400, so a misspelt filter never shows everything.
const KNOWN: &[&str] = &[
    "campaign",
    "state",
    "tracker",
    "click_id",
    "txid",
    "platform",
    "since",
    "until",
    "range",
    "from",
    "to",
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
    pub since: String,
    pub until: String,
    /// The form's day inputs (calendar days in the display zone, `to` included): the list
    /// answers them with a redirect to the same days as `since` and `until`.
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
    /// Received at or after.
    pub since: Option<DateTime<Utc>>,
    /// Received before.
    pub until: Option<DateTime<Utc>>,
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
                "since" => &mut typed.since,
                "until" => &mut typed.until,
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

    /// Whether the query names the form's days, which the list redirects to `since`/`until`.
    pub fn names_days(&self) -> bool {
        !self.from.is_empty() || !self.to.is_empty()
    }

    /// The checked filters; the form's days are whole calendar days in `zone`.
    pub fn check(&self, zone: Tz) -> Result<Filter, String> {
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
        let (since, until) = (bound(&self.since, "since")?, bound(&self.until, "until")?);
        if self.names_days() && (since.is_some() || until.is_some()) {
            return Err(
                "Choose either the days \"from\" and \"to\" or \"since\" and \"until\", not both."
                    .to_owned(),
            );
        }
        // An included last day ends at the next midnight.
        let since = since.or(from.map(|d| day_start(d, zone)));
        let until = until.or(to.map(|d| days_bounds(d, d, zone).1));
        if let (Some(s), Some(u)) = (since, until) {
            if s > u {
                return Err(format!(
                    "\"since\" ({}) is after \"until\" ({}).",
                    instant_text(s),
                    instant_text(u)
                ));
            }
        }
        let range = match self.range.as_str() {
            "" => None,
            r => Some(Range::parse_or_explain(r)?),
        };
        if range.is_some() && (since.is_some() || until.is_some()) {
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
            since,
            until,
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

/// A `since` or `until` as the admin API reads it, within the days a filter may name.
fn bound(value: &str, name: &str) -> Result<Option<DateTime<Utc>>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    instant(value)
        .filter(|t| (FIRST_DAY..=LAST_DAY).contains(&t.date_naive()))
        .map(Some)
        .ok_or_else(|| {
            format!(
                "\"{name}\" ({value:?}) is not a time like 2026-11-30T00:00:00Z or a date like \
                 2026-11-30 (1970 to 9999)."
            )
        })
}

impl Filter {
    /// The form's day inputs for these bounds: the day `since` falls on and the last day
    /// before `until`, in `zone`.
    pub fn days(&self, zone: Tz) -> (String, String) {
        let day = |t: DateTime<Utc>| t.with_timezone(&zone).date_naive().to_string();
        (
            self.since.map(day).unwrap_or_default(),
            self.until
                .map(|u| day(u - TimeDelta::nanoseconds(1)))
                .unwrap_or_default(),
        )
    }

    /// The storage filter; a range is whole calendar days in `zone`, counted from `now`.
    pub fn list_filter(&self, zone: Tz, now: DateTime<Utc>) -> ListFilter<'_> {
        let (since, until) = match self.range {
            Some(r) => {
                let (s, u) = r.bounds(now, zone);
                (Some(s), Some(u))
            }
            None => (self.since, self.until),
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
            since: None,
            until: None,
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
        if let Some(t) = self.since {
            pairs.push(("since", instant_text(t)));
        }
        if let Some(t) = self.until {
            pairs.push(("until", instant_text(t)));
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
#[path = "filter_tests.rs"]
mod tests;
