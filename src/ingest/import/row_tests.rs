use super::*;
use chrono::TimeZone;

fn header() -> Header {
    Header::parse(b"click_id,status,payout,currency,txid,event_time,em\r\n").unwrap()
}

#[test]
fn headers() {
    let cases: &[(&[u8], Result<(), &str>)] = &[
        (b"click_id,status\n", Ok(())),
        (b"\xef\xbb\xbfClick_ID, Status ,payout\r\n", Ok(())),
        (b"\"click_id\",\"status\"", Ok(())),
        (b"click_id,payout\n", Err("missing: status")),
        (b"subid,status\n", Ok(())),
        (b"sub_id,status\n", Err("missing: click_id")),
        (b"Subid,Status,click_id\n", Err("both click_id and subid")),
        (b"click_id,status,txid,Tid\n", Err("both txid and tid")),
        (b"click_id,status,status\n", Err("twice")),
        (b"click_id,\"status\n", Err("malformed quoting")),
        (b"", Err("missing: click_id, status")),
    ];
    for (line, want) in cases {
        let got = Header::parse(line);
        match want {
            Ok(()) => assert!(got.is_ok(), "{line:?}: {got:?}"),
            Err(part) => {
                let e = got.unwrap_err();
                assert!(e.contains(part), "{line:?}: {e}");
            }
        }
    }
}

/// Keitaro's names are read as ours; with both Revenue and Payout, Revenue is the payout and
/// the Payout column is reported as not read.
#[test]
fn keitaro_headers_are_aliases() {
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
    let cases: &[(&[u8], &str, f64, &[&str])] = &[
        (
            b"Subid,Status,Payout,Currency,Tid\n",
            "k1,sale,7.5,EUR,t1",
            7.5,
            &[],
        ),
        (b"SUBID,STATUS,REVENUE\n", "k1,sale,7.5", 7.5, &[]),
        (
            b"Subid,Status,Revenue,Payout,Tid\n",
            "k1,sale,7.5,3,t1",
            7.5,
            &["payout"],
        ),
        (
            b"subid,status,payout,revenue,tid\n",
            "k1,sale,3,7.5,t1",
            7.5,
            &["payout"],
        ),
    ];
    for (line, row, payout, ignored) in cases {
        let h = Header::parse(line).unwrap();
        let names: Vec<&str> = h.ignored.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, *ignored, "{line:?}");
        assert!(h
            .ignored
            .iter()
            .all(|i| i.reason.contains("revenue column is read as the payout")));
        let p = read(&h, row, None, now).unwrap();
        assert_eq!(p.click_id.as_str(), "k1", "{line:?}");
        assert_eq!(p.status, "sale");
        assert_eq!(p.payout, Some(*payout), "{line:?}");
        if line.to_ascii_lowercase().windows(3).any(|w| w == b"tid") {
            assert_eq!(p.txid, "t1", "{line:?}");
        }
        if line.starts_with(b"Subid,Status,Payout,Currency") {
            assert_eq!(p.currency.unwrap().as_str(), "EUR");
        }
        assert!(p.dropped.is_empty(), "{line:?}: {:?}", p.dropped);
    }
}

#[test]
fn quoting() {
    let cases: &[(&str, Option<&str>)] = &[
        ("a,b,c", None),
        ("\"a,1\",b", None),
        ("\"say \"\"hi\"\"\",b", None),
        ("a,,", None),
        ("", None),
        ("\"\"", None),
        ("\"a\"b,c", Some("text follows a closing quote")),
        ("a\"b,c", Some("a quote inside an unquoted field")),
        ("a,\"b", Some("a quoted field is not closed")),
        ("a, \"b\"", Some("a quote inside an unquoted field")),
    ];
    for (line, want) in cases {
        assert_eq!(quoting_error(line.as_bytes()), *want, "{line}");
    }
    assert_eq!(fields(b"\"a,1\",\"x\"\"y\"").unwrap(), ["a,1", "x\"y"]);
    assert!(fields(b"a,\xff").unwrap_err().contains("UTF-8"));
    assert!(fields(b"a,b\rc,d").unwrap_err().contains("carriage return"));
    assert_eq!(fields(b"a,\"b\rc\"").unwrap(), ["a", "b\rc"]);
}

/// A line as the importer reads it, in international rules (no campaign region).
fn read(
    h: &Header,
    line: &str,
    default_source: Option<ActionSource>,
    now: DateTime<Utc>,
) -> Result<Postback, String> {
    postback(
        params(h, line.as_bytes())?,
        &Region::default(),
        default_source,
        now,
    )
    .map_err(|e| e.reason)
}

#[test]
fn a_physical_store_row_may_be_62_days_old_as_meta_takes_it() {
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
    let h = Header::parse(b"click_id,status,event_time,action_source").unwrap();
    let month_ago = "2026-11-01T12:00:00Z";
    // The row's own source, then the import's default for rows naming none.
    assert!(read(
        &h,
        &format!("c1,sale,{month_ago},physical_store"),
        None,
        now
    )
    .is_ok());
    let store = Some(ActionSource::PhysicalStore);
    assert!(read(&h, &format!("c1,sale,{month_ago},"), store, now).is_ok());
    let e = read(&h, &format!("c1,sale,{month_ago},"), None, now).unwrap_err();
    assert!(e.contains("website events (7 days)"), "{e}");
    let e = read(&h, &format!("c1,sale,{month_ago},phone_call"), store, now).unwrap_err();
    assert!(e.contains("phone_call events (7 days)"), "{e}");
    let e = read(&h, "c1,sale,2026-09-01T12:00:00Z,", store, now).unwrap_err();
    assert!(e.contains("physical_store events (62 days)"), "{e}");
}

#[test]
fn a_row_is_read_in_its_campaigns_region() {
    use crate::domain::{Country, CustomerField};
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
    let h = Header::parse(b"click_id,status,ph").unwrap();
    let line = "c1,sale,07911 123456";
    let gb = Region::new(Some(Country::parse_code("gb").unwrap()), None);
    let national = postback(params(&h, line.as_bytes()).unwrap(), &gb, None, now).unwrap();
    let international = read(&h, line, None, now).unwrap();
    let ph = |p: &Postback| p.customer.get(CustomerField::Ph).cloned();
    assert!(ph(&national).is_some() && ph(&international).is_some());
    assert_ne!(ph(&national), ph(&international), "+44 read only in gb");
}

#[test]
fn rows() {
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
    let h = header();
    let ok = |line: &str| read(&h, line, None, now).unwrap();
    let err = |line: &str| read(&h, line, None, now).unwrap_err();

    let p = ok("c1,sale,12.5,EUR,t1,2026-11-30T12:00:00Z,A@b.com\r\n");
    assert_eq!(p.click_id.as_str(), "c1");
    assert_eq!(p.status, "sale");
    assert_eq!(p.payout, Some(12.5));
    assert_eq!(p.txid, "t1");
    assert_eq!(p.event_time, Some(now - Duration::days(1)));
    assert!(
        p.customer.get(crate::domain::CustomerField::Em).is_some(),
        "email hashed like a postback's"
    );
    let hour_ago = now.timestamp() - 3600;
    let p = ok(&format!("c1,lead,,,,{hour_ago},"));
    assert_eq!(p.event_time.unwrap().timestamp(), hour_ago);
    assert_eq!(
        ok("c1,sale,,,,2026-11-30 12:00:00,").event_time,
        Some(now - Duration::days(1))
    );
    assert_eq!(ok("c1,sale,,,,,").event_time, None);

    for (line, want) in [
        (",sale,1,,,,", "click_id is required"),
        ("c1,sale,1,,,", "has 6 fields, the header has 7"),
        ("c1,\"sale,1,,,,", "malformed quoting"),
        (
            "c1,sale,1,,,2026-11-23T11:00:00Z,",
            "older than Meta accepts for website events (7 days)",
        ),
    ] {
        let e = err(line);
        assert!(e.contains(want), "{line}: {e}");
    }
    // A bad payout, currency, event time or match key costs the field, not the row.
    for (line, field) in [
        ("c1,sale,abc,,,,", "payout"),
        ("c1,sale,1,XX,,,", "currency"),
        ("c1,sale,1,,,yesterday,", "event_time"),
        ("c1,sale,1,,,,not-an-email", "em"),
    ] {
        let p = ok(line);
        assert_eq!(p.dropped.fields().collect::<Vec<_>>(), [field], "{line}");
    }
}
