//! Money in view: the value sent per currency (never converted), by day, campaign and event
//! name, over a date preset, on the overview and a campaign's page.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{html, Markup};

use super::days::Range;
use crate::http::params::parse_urlencoded;
use crate::storage::money::{self, ValueRow};
use crate::ui::conversions::with_query;

/// The totals' preset when the URL names none.
const DEFAULT_RANGE: Range = Range::Last7;

/// Conversions and value of one group in one currency.
#[derive(Debug, PartialEq)]
pub struct Line {
    pub label: String,
    pub currency: Option<String>,
    pub conversions: i64,
    pub value: f64,
}

/// The rows summed by a label and currency, in label then currency order (no value last).
fn sum_by(rows: &[ValueRow], label: impl Fn(&ValueRow) -> String) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    for r in rows {
        let l = label(r);
        match lines
            .iter_mut()
            .find(|x| x.label == l && x.currency == r.currency)
        {
            Some(x) => {
                x.conversions += r.conversions;
                x.value += r.value;
            }
            None => lines.push(Line {
                label: l,
                currency: r.currency.clone(),
                conversions: r.conversions,
                value: r.value,
            }),
        }
    }
    lines.sort_by(|a, b| {
        (&a.label, a.currency.is_none(), &a.currency).cmp(&(
            &b.label,
            b.currency.is_none(),
            &b.currency,
        ))
    });
    lines
}

/// The totals a page shows, each a list of lines per currency.
#[derive(Debug, PartialEq)]
pub struct Totals {
    pub all: Vec<Line>,
    pub by_day: Vec<Line>,
    pub by_campaign: Vec<Line>,
    pub by_event: Vec<Line>,
}

impl Totals {
    pub fn shape(rows: &[ValueRow]) -> Totals {
        Totals {
            all: sum_by(rows, |_| String::new()),
            by_day: sum_by(rows, |r| r.day.to_string()),
            by_campaign: sum_by(rows, |r| r.campaign.clone()),
            by_event: sum_by(rows, |r| r.event_name.clone()),
        }
    }
}

/// `12.50 USD`; events without a value say so.
pub fn amount(value: f64, currency: Option<&str>) -> String {
    match currency {
        Some(c) => format!("{value:.2} {c}"),
        None => "no value".to_owned(),
    }
}

/// The preset named by `range=` in a page's query (the default when absent), or why the word
/// was not understood (the page then shows the default and says so).
pub fn range_of(query: &str) -> (Range, Option<String>) {
    let word = parse_urlencoded(query.as_bytes())
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "range"))
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    match word.map(|w| Range::parse_or_explain(&w)) {
        None => (DEFAULT_RANGE, None),
        Some(Ok(r)) => (r, None),
        Some(Err(e)) => (
            DEFAULT_RANGE,
            Some(format!("{e} Showing {}.", DEFAULT_RANGE.label())),
        ),
    }
}

/// The "Value sent" card of `path` (the overview, or one campaign's page with `campaign_id`).
pub async fn card(
    pool: &sqlx::PgPool,
    path: &str,
    query: &str,
    campaign_id: Option<i64>,
    zone: Tz,
    now: DateTime<Utc>,
) -> Result<Markup, sqlx::Error> {
    let (range, problem) = range_of(query);
    let (since, until) = range.bounds(now, zone);
    let rows = money::sent_value(pool, since, until, campaign_id, zone.name()).await?;
    Ok(render(
        &Totals::shape(&rows),
        range,
        problem.as_deref(),
        path,
        zone,
        campaign_id.is_none(),
    ))
}

fn render(
    t: &Totals,
    range: Range,
    problem: Option<&str>,
    path: &str,
    zone: Tz,
    per_campaign: bool,
) -> Markup {
    html! {
        section.card #value-sent {
            h2 { "Value sent · " (range.label()) }
            nav.ranges aria-label="Date range" {
                @for r in Range::ALL {
                    a href=(with_query(path, &[("range", r.as_str().to_owned())]))
                        aria-current=[(*r == range).then_some("page")] { (r.label()) }
                }
            }
            @if let Some(p) = problem { p.error role="alert" { (p) } }
            p.hint {
                "Days are calendar days in " (zone.name()) ", by when the postback arrived. "
                "Each conversion counts once however many platforms got it; only events sent "
                "in production count (test-mode events are left out); currencies are never converted."
            }
            @if t.all.is_empty() {
                p #value-none { "No conversion sent in this range." }
            } @else {
                (lines_table("value-totals", "Total", &t.all))
                (lines_table("value-by-day", &super::days::zone_label("Day", zone), &t.by_day))
                @if per_campaign { (lines_table("value-by-campaign", "Campaign", &t.by_campaign)) }
                (lines_table("value-by-event", "Event", &t.by_event))
            }
        }
    }
}

fn lines_table(id: &str, heading: &str, lines: &[Line]) -> Markup {
    html! {
        table id=(id) {
            thead { tr { th { (heading) } th.num { "Conversions" } th.num { "Value sent" } } }
            tbody {
                @for l in lines {
                    tr data-currency=[l.currency.as_deref()] {
                        th scope="row" { (l.label) }
                        td.num { (l.conversions) }
                        td.num { (amount(l.value, l.currency.as_deref())) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn row(day: u32, campaign: &str, event: &str, cur: Option<&str>, n: i64, v: f64) -> ValueRow {
        ValueRow {
            day: NaiveDate::from_ymd_opt(2026, 12, day).unwrap(),
            campaign: campaign.into(),
            event_name: event.into(),
            currency: cur.map(Into::into),
            conversions: n,
            value: v,
        }
    }

    fn line(label: &str, cur: Option<&str>, n: i64, v: f64) -> Line {
        Line {
            label: label.into(),
            currency: cur.map(Into::into),
            conversions: n,
            value: v,
        }
    }

    #[test]
    fn totals_stay_per_currency_and_group_by_day_campaign_and_event() {
        let rows = [
            row(1, "a", "Purchase", Some("USD"), 2, 30.0),
            row(1, "b", "Purchase", Some("EUR"), 1, 10.0),
            row(2, "a", "Lead", None, 3, 0.0),
            row(2, "a", "Purchase", Some("USD"), 1, 5.5),
        ];
        let t = Totals::shape(&rows);
        assert_eq!(
            t.all,
            vec![
                line("", Some("EUR"), 1, 10.0),
                line("", Some("USD"), 3, 35.5),
                line("", None, 3, 0.0),
            ]
        );
        assert_eq!(
            t.by_day,
            vec![
                line("2026-12-01", Some("EUR"), 1, 10.0),
                line("2026-12-01", Some("USD"), 2, 30.0),
                line("2026-12-02", Some("USD"), 1, 5.5),
                line("2026-12-02", None, 3, 0.0),
            ]
        );
        assert_eq!(t.by_campaign[0], line("a", Some("USD"), 3, 35.5));
        assert_eq!(
            t.by_event,
            vec![
                line("Lead", None, 3, 0.0),
                line("Purchase", Some("EUR"), 1, 10.0),
                line("Purchase", Some("USD"), 3, 35.5),
            ]
        );
    }

    #[test]
    fn the_range_word_is_read_or_explained() {
        let cases = [
            ("", Range::Last7, false),
            ("range=today", Range::Today, false),
            ("x=1&range=this_month", Range::ThisMonth, false),
            ("range=", Range::Last7, false),
            ("range=week", Range::Last7, true),
        ];
        for (query, want, problem) in cases {
            let (r, p) = range_of(query);
            assert_eq!((r, p.is_some()), (want, problem), "{query}");
        }
        assert_eq!(amount(12.5, Some("USD")), "12.50 USD");
        assert_eq!(amount(-3.0, Some("EUR")), "-3.00 EUR");
        assert_eq!(amount(0.0, None), "no value");
    }
}
