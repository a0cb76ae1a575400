use super::*;

fn params(q: &str) -> Params {
    Params::from_pairs(crate::domain::params::parse_urlencoded(q.as_bytes()).unwrap())
}

fn conv(t: Tracker, q: &str) -> Postback {
    match parse(t, &params(q), Utc::now()).unwrap() {
        Parsed::Conversion(p) => *p,
        other => panic!("{other:?}"),
    }
}

#[test]
fn parameter_names_list_every_name_the_dialects_read() {
    use crate::trackers::PARAMETER_NAMES;
    for t in Tracker::ALL {
        let n = names(t);
        for name in [n.click_id, n.status, n.payout, n.currency, n.txid].concat() {
            assert!(PARAMETER_NAMES.contains(&name), "{name} missing");
        }
    }
    for f in CustomerField::ALL {
        assert!(PARAMETER_NAMES.contains(&f.name()), "{} missing", f.name());
    }
    for name in [
        "event_time",
        "campaign",
        "ip",
        "user_agent",
        "ua",
        "fbclid",
        "ttclid",
        "url",
        "event_source_url",
        "key",
    ] {
        assert!(PARAMETER_NAMES.contains(&name), "{name} missing");
    }
}

#[test]
fn keitaro_defaults_to_sale_and_maps_network_words() {
    let p = conv(
        Tracker::Keitaro,
        "subid=abc&payout=12,5&tid=t1&currency=eur",
    );
    assert_eq!((p.click_id.as_str(), p.status.as_str()), ("abc", "sale"));
    assert_eq!(p.payout, Some(12.5));
    assert_eq!(p.txid, "t1");
    assert_eq!(p.currency.unwrap().as_str(), "EUR");
    let p = conv(
        Tracker::Keitaro,
        "subid=abc&status=Hold2&lead_status=hold1,hold2",
    );
    assert_eq!(
        (p.raw_status.as_str(), p.status.as_str()),
        ("Hold2", "lead")
    );
    let p = conv(
        Tracker::Keitaro,
        "subid=abc&status=trash&rejected_status=trash",
    );
    assert_eq!(p.status, "rejected");
    let p = conv(Tracker::Keitaro, "subid=abc&revenue=3");
    assert_eq!(p.payout, Some(3.0));
    // A thousands separator is not a decimal mark (it read 1.5 before the amount parser).
    let p = conv(Tracker::Keitaro, "subid=abc&revenue=1,500");
    assert_eq!(p.payout, Some(1500.0));
}

#[test]
fn an_unfilled_status_is_refused_and_only_an_absent_one_is_a_sale() {
    for (t, q, name) in [
        (Tracker::Keitaro, "subid=a&status={status}", "status"),
        (Tracker::Keitaro, "subid=a&status=", "status"),
        (
            Tracker::Binom,
            "cnv_id=a&cnv_status={cnv_status}",
            "cnv_status",
        ),
        (Tracker::Bemob, "cid=a&status=%25status%25", "status"),
        (Tracker::Voluum, "cid=a&et=REPLACE", "et"),
        (Tracker::Clickflare, "cid=a&status=OPTIONAL", "status"),
        (Tracker::Redtrack, "clickid=a&type=%23type%23", "type"),
        (Tracker::Generic, "click_id=a&status=[status]", "status"),
    ] {
        let err = parse(t, &params(q), Utc::now()).unwrap_err();
        assert_eq!(err, PostbackError::UnfilledStatus(name), "{q}");
    }
    // Generic's second name fills in for an unfilled first one.
    let p = conv(Tracker::Generic, "click_id=a&status={status}&event=lead");
    assert_eq!(p.status, "lead");
    for t in Tracker::ALL {
        let q = match t {
            Tracker::Keitaro => "subid=a",
            Tracker::Binom => "cnv_id=a",
            Tracker::Redtrack => "clickid=a",
            Tracker::Generic => "click_id=a",
            _ => "cid=a",
        };
        assert_eq!(conv(t, q).status, "sale", "{t:?}");
    }
}

#[test]
fn kept_params_drop_the_key_and_personal_data() {
    let p = conv(
        Tracker::Keitaro,
        "subid=a&status=ftd&key=secret&em=a%40b.com&ip=203.0.113.5&ua=Mozilla&tid=t1&fbclid=x",
    );
    assert_eq!(
        p.params,
        serde_json::json!({"status": "ftd", "subid": "a", "tid": "t1"})
    );
}

#[test]
fn kept_params_hold_no_control_characters() {
    let p = conv(Tracker::Keitaro, "subid=a&%00=x&note=a%00b%1B");
    assert_eq!(
        p.params,
        serde_json::json!({"": "x", "note": "ab", "subid": "a"})
    );
}

#[test]
fn event_source_url_from_either_name() {
    let p = conv(Tracker::Keitaro, "subid=a&url=https%3A%2F%2Flp.example%2Fo");
    assert_eq!(p.event_source_url.unwrap().as_str(), "https://lp.example/o");
    let p = conv(
        Tracker::Keitaro,
        "subid=a&event_source_url=https://a.example/&url=https://b.example/",
    );
    assert_eq!(p.event_source_url.unwrap().as_str(), "https://a.example/");
    let p = conv(Tracker::Keitaro, "subid=a&url=ftp://x");
    assert_eq!((&p.event_source_url, dropped(&p)[0].0), (&None, "url"));
    // Personal data leaves the URL and the kept parameters.
    let p = conv(
        Tracker::Keitaro,
        "subid=a&url=https%3A%2F%2Flp.example%2Fo%3Femail%3Da%2540b.com%26s%3D1",
    );
    assert_eq!(
        p.event_source_url.unwrap().as_str(),
        "https://lp.example/o?s=1"
    );
    assert_eq!(p.params["url"], "https://lp.example/o?s=1");
}

#[test]
fn keitaro_ignore_status() {
    let r = parse(
        Tracker::Keitaro,
        &params("subid=a&status=ping&ignore_status=test,ping"),
        Utc::now(),
    );
    assert!(matches!(r, Ok(Parsed::Ignored { .. })));
}

#[test]
fn binom_bemob_and_the_others() {
    let p = conv(
        Tracker::Binom,
        "cnv_id=c1&cnv_status=approve&payout=5&cnv_currency=usd&txid=x",
    );
    assert_eq!(
        (p.click_id.as_str(), p.status.as_str(), p.txid.as_str()),
        ("c1", "sale", "x")
    );
    assert_eq!(conv(Tracker::Binom, "clickid=c2").click_id.as_str(), "c2");
    let p = conv(Tracker::Bemob, "cid=c3&status=approved&payout=1&txid=t");
    assert_eq!(p.status, "sale");
    let p = conv(Tracker::Voluum, "cid=c4&et=lead&payout=2&currency=GBP");
    assert_eq!(p.status, "lead");
    let p = conv(Tracker::Redtrack, "clickid=c5&type=Lead&sum=3.5");
    assert_eq!((p.status.as_str(), p.payout), ("lead", Some(3.5)));
    assert_eq!(
        conv(Tracker::Clickflare, "click_id=c6&payout=1")
            .click_id
            .as_str(),
        "c6"
    );
    let p = conv(Tracker::Generic, "click_id=c7&event=lead&value=9&txid=z");
    assert_eq!(
        (p.status.as_str(), p.payout, p.txid.as_str()),
        ("lead", Some(9.0), "z")
    );
}

#[test]
fn missing_click_id_names_the_dialects_parameter() {
    for (t, name) in [
        (Tracker::Keitaro, "subid"),
        (Tracker::Binom, "cnv_id"),
        (Tracker::Bemob, "cid"),
        (Tracker::Generic, "click_id"),
    ] {
        let err = parse(
            t,
            &params("status=lead&subid={subid}&cid=REPLACE"),
            Utc::now(),
        )
        .unwrap_err();
        assert_eq!(err, PostbackError::MissingClickId(name));
    }
}

fn dropped(p: &Postback) -> Vec<(&str, &str)> {
    p.dropped
        .iter()
        .map(|d| (d.field.as_str(), d.reason.as_str()))
        .collect()
}

#[test]
fn only_identifying_fields_refuse_a_postback() {
    let refused = |q: &str| parse(Tracker::Keitaro, &params(q), Utc::now()).unwrap_err();
    assert!(matches!(
        refused("subid=a b"),
        PostbackError::Invalid { field: "subid", .. }
    ));
    let long_status = format!("subid=a&status={}", "x".repeat(65));
    assert!(matches!(
        refused(&long_status),
        PostbackError::Invalid {
            field: "status",
            ..
        }
    ));
    assert!(matches!(
        refused("subid=a&campaign=Not%20A%20Key"),
        PostbackError::Invalid {
            field: "campaign",
            ..
        }
    ));
}

#[test]
fn unusable_match_keys_and_values_are_dropped_and_named() {
    // Each would have refused the whole postback before; now the conversion is kept.
    for (q, field) in [
        ("payout=ten", "payout"),
        ("revenue=ten", "revenue"),
        ("currency=XXX1", "currency"),
        ("em=user%40example", "em"),
        ("ph=12345", "ph"),
        ("ge=x", "ge"),
        ("db=1990-02-30", "db"),
        ("country=Atlantis", "country"),
        ("ip=10.1.2.3", "ip"),
        ("ip=%3A%3A1", "ip"),
        ("ip=not-an-ip", "ip"),
        ("ua=a%01b", "user_agent"),
        ("url=ftp%3A%2F%2Fx", "url"),
        ("fbclid=%00", "fbclid"),
    ] {
        let p = conv(Tracker::Keitaro, &format!("subid=a&{q}"));
        assert_eq!(p.click_id.as_str(), "a", "{q}");
        let names: Vec<&str> = dropped(&p).into_iter().map(|(f, _)| f).collect();
        assert_eq!(names, [field], "{q}");
    }
    let p = conv(Tracker::Keitaro, "subid=a&payout=ten&currency=XXX1&em=nope");
    assert_eq!((p.payout, p.currency), (None, None));
    assert!(p.customer.get(CustomerField::Em).is_none());
    assert!(dropped(&p)[1].1.contains("the campaign's currency applies"));
}

#[test]
fn opaque_ids_are_kept_as_given_and_a_cleaned_one_is_reported() {
    let p = conv(
        Tracker::Keitaro,
        "subid=a&fbclid=IwAR%20abc&ttclid=E.C%E2%9C%93",
    );
    assert_eq!(p.fbclid.unwrap().as_str(), "IwAR abc");
    assert_eq!(p.ttclid.unwrap().as_str(), "E.C✓");
    assert!(p.dropped.is_empty());
    let p = conv(Tracker::Keitaro, "subid=a&fbclid=IwAR%01abc");
    assert_eq!(dropped(&p)[0].0, "fbclid");
    assert_eq!(p.fbclid.unwrap().as_str(), "IwARabc");
}

#[test]
fn a_long_txid_becomes_its_digest_and_a_status_never_does() {
    let long = "t".repeat(200);
    let p = conv(Tracker::Bemob, &format!("cid=a&txid={long}"));
    assert_eq!(p.txid, hex::encode(Sha256::digest(long.as_bytes())));
    assert!(dropped(&p)[0].1.contains("SHA-256"));
    // Stable: the same long id is the same txid, so a repeat is still a duplicate.
    assert_eq!(
        conv(Tracker::Bemob, &format!("cid=a&txid={long}")).txid,
        p.txid
    );
    assert_eq!(
        conv(Tracker::Bemob, &format!("cid=a&txid={}", &long[..128]))
            .txid
            .len(),
        128
    );
    let p = conv(Tracker::Bemob, "cid=a&txid=t%001");
    assert_eq!(p.txid, "t1");
}

#[test]
fn generic_event_time_is_never_in_the_future() {
    let now = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
    let p = |q: &str| match parse(Tracker::Generic, &params(q), now).unwrap() {
        Parsed::Conversion(p) => p.event_time,
        _ => unreachable!(),
    };
    assert_eq!(
        p("click_id=a&event_time=1799999000").unwrap().timestamp(),
        1_799_999_000
    );
    assert_eq!(p("click_id=a&event_time=1900000000").unwrap(), now);
    // Unreadable: dropped, and the arrival time applies.
    let p = match parse(Tracker::Generic, &params("click_id=a&event_time=soon"), now) {
        Ok(Parsed::Conversion(p)) => p,
        other => panic!("{other:?}"),
    };
    assert_eq!(p.event_time, None);
    assert_eq!(p.dropped.fields().collect::<Vec<_>>(), ["event_time"]);
}

#[test]
fn common_fields_and_hashing() {
    let p = conv(
        Tracker::Bemob,
        "cid=a&ip=203.0.113.5&ua=Mozilla%2F5.0&em=John_Smith%40gmail.com&fbclid=AbC&campaign=k1",
    );
    assert_eq!(p.ip.unwrap().to_string(), "203.0.113.5");
    assert_eq!(p.user_agent.unwrap().as_str(), "Mozilla/5.0");
    assert_eq!(p.fbclid.unwrap().as_str(), "AbC");
    assert_eq!(p.campaign.unwrap().as_str(), "k1");
    assert_eq!(
        p.customer.get(CustomerField::Em).unwrap().as_str(),
        "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
    );
}
