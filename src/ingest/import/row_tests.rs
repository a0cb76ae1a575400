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
        (b"subid,status\n", Err("missing: click_id")),
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

#[test]
fn rows() {
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
    let h = header();
    let ok = |line: &str| postback(&h, line.as_bytes(), now).unwrap();
    let err = |line: &str| postback(&h, line.as_bytes(), now).unwrap_err();

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
            "older than Meta accepts (7 days)",
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
