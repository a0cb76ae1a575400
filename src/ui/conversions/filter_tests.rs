//! The list's filters: reading, checking, the zone's days and the links they make.

use super::*;

fn at(s: &str) -> DateTime<Utc> {
    instant(s).unwrap()
}

fn checked(query: &str, zone: Tz) -> Result<Filter, String> {
    Typed::from_query(query).and_then(|t| t.check(zone))
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
        since: Some(at("2026-11-01T00:00:00Z")),
        until: Some(at("2026-12-01T00:00:00Z")),
        range: None,
        before: Some(77),
    };
    let ok: [(&str, Filter); 6] = [
        ("", Filter::default()),
        (
            "campaign=&state=&tracker=&click_id=&from=&to=",
            Filter::default(),
        ),
        (
            "campaign=shop&state=failed&tracker=binom&click_id=clk-1&txid=tx%201&platform=tiktok&from=2026-11-01&to=2026-11-30&before=77",
            all.clone(),
        ),
        (
            "campaign=shop&state=failed&tracker=binom&click_id=clk-1&txid=tx%201&platform=tiktok&since=2026-11-01&until=2026-12-01T00:00:00Z&before=77",
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
        assert_eq!(checked(query, Tz::UTC), Ok(want), "{query}");
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
        ("range=today&until=2026-12-01", "either a range"),
        ("since=yesterday", "\"since\" (\"yesterday\") is not a time"),
        ("until=+262142-01-01", "is not a time"),
        ("since=2026-12-02&until=2026-12-01", "is after"),
        ("from=2026-12-01&since=2026-12-01", "either the days"),
    ];
    for (query, want) in bad {
        let err = checked(query, Tz::UTC).expect_err(query);
        assert!(err.contains(want), "{query}: {err}");
    }
}

#[test]
fn days_are_whole_and_inclusive_in_the_display_zone() {
    let cases = [
        (Tz::UTC, "2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z"),
        (
            Tz::Asia__Tokyo,
            "2026-11-29T15:00:00Z",
            "2026-11-30T15:00:00Z",
        ),
    ];
    for (zone, since, until) in cases {
        let f = checked("from=2026-11-30&to=2026-11-30", zone).unwrap();
        let l = f.list_filter(zone, Utc::now());
        assert_eq!(l.since, Some(at(since)), "{zone}");
        assert_eq!(l.until, Some(at(until)), "{zone}: the next midnight");
        assert_eq!(l.limit, PAGE_SIZE);
        assert_eq!(f.days(zone), ("2026-11-30".into(), "2026-11-30".into()));
        let query = f.url(None);
        assert_eq!(
            query,
            format!(
                "/ui/conversions?since={}&until={}",
                since.replace(':', "%3A"),
                until.replace(':', "%3A")
            )
        );
        let again = checked(query.split_once('?').unwrap().1, zone).unwrap();
        assert_eq!(again, f, "the redirect's link reads back the same days");
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
                since: Some(at("2026-01-02")),
                ..Filter::default()
            },
            Some(9),
            "/ui/conversions?campaign=a%20b%26c&state=pending&since=2026-01-02T00%3A00%3A00Z&before=9",
        ),
    ];
    for (filter, before, want) in cases {
        assert_eq!(filter.url(before), want);
    }
    let f = Filter {
        state: Some(DeliveryStatus::Failed),
        until: Some(at("2026-01-02T15:00:00Z")),
        before: Some(9),
        ..Filter::default()
    };
    assert_eq!(
        f.export_url(),
        "/ui/conversions/export.csv?state=failed&until=2026-01-02T15%3A00%3A00Z",
        "every filter, no cursor"
    );
}
