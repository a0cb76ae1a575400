use chrono::{DateTime, TimeZone, Utc};

use super::{normalise_status, Parsed, Postback, PostbackError, Tracker};
use crate::domain::{
    CampaignKey, ClickId, CookieValue, Currency, CustomerData, CustomerField, HttpUrl, ParseError,
    Region, UserAgent,
};
use crate::http::params::Params;

/// The parameter names of one tracker.
struct Names {
    click_id: &'static [&'static str],
    status: &'static [&'static str],
    payout: &'static [&'static str],
    currency: &'static [&'static str],
    txid: &'static [&'static str],
}

fn names(t: Tracker) -> Names {
    match t {
        Tracker::Keitaro => Names {
            click_id: &["subid"],
            status: &["status"],
            payout: &["payout", "revenue"],
            currency: &["currency"],
            txid: &["tid"],
        },
        Tracker::Binom => Names {
            click_id: &["cnv_id", "clickid"],
            status: &["cnv_status"],
            payout: &["payout"],
            currency: &["cnv_currency"],
            txid: &["txid"],
        },
        Tracker::Bemob => Names {
            click_id: &["cid"],
            status: &["status"],
            payout: &["payout"],
            currency: &["currency"],
            txid: &["txid"],
        },
        Tracker::Voluum => Names {
            click_id: &["cid"],
            status: &["et"],
            payout: &["payout"],
            currency: &["currency"],
            txid: &["txid"],
        },
        Tracker::Redtrack => Names {
            click_id: &["clickid"],
            status: &["type"],
            payout: &["sum"],
            currency: &["currency"],
            txid: &["txid"],
        },
        Tracker::Clickflare => Names {
            click_id: &["cid", "click_id"],
            status: &["status"],
            payout: &["payout"],
            currency: &["currency"],
            txid: &["txid"],
        },
        Tracker::Generic => Names {
            click_id: &["click_id"],
            status: &["status", "event"],
            payout: &["value", "payout"],
            currency: &["currency"],
            txid: &["txid"],
        },
    }
}

/// Reads a postback in `tracker`'s dialect. `now` bounds the generic dialect's `event_time`.
pub fn parse(tracker: Tracker, p: &Params, now: DateTime<Utc>) -> Result<Parsed, PostbackError> {
    let n = names(tracker);
    let click_name = n.click_id[0];
    let click_id = p
        .first_of(n.click_id)
        .ok_or(PostbackError::MissingClickId(click_name))?;
    let click_id = ClickId::parse(click_id).map_err(|error| PostbackError::Invalid {
        field: click_name,
        error,
    })?;

    // Only a truly absent status takes the default; `status={status}` means the tracker had no
    // value, and a guessed sale would reach Meta as a false Purchase.
    let raw_status = match p.first_of(n.status) {
        Some(s) => s.to_owned(),
        None => match n.status.iter().find(|name| p.raw(name).is_some()) {
            Some(name) => return Err(PostbackError::UnfilledStatus(name)),
            None => super::DEFAULT_STATUS.to_owned(),
        },
    };
    if raw_status.len() > 64 || raw_status.chars().any(char::is_control) {
        return Err(invalid(
            n.status.first().copied().unwrap_or("status"),
            "must be at most 64 characters without control characters",
        ));
    }
    let mut status = normalise_status(&raw_status);
    if tracker == Tracker::Keitaro {
        let lower = raw_status.trim().to_lowercase();
        if in_list(p.get("ignore_status"), &lower) {
            return Ok(Parsed::Ignored { raw_status });
        }
        for (list, target) in [
            ("lead_status", "lead"),
            ("sale_status", "sale"),
            ("rejected_status", "rejected"),
        ] {
            if in_list(p.get(list), &lower) {
                status = target.to_owned();
            }
        }
    }

    let txid = p.first_of(n.txid).unwrap_or_default().to_owned();
    if txid.len() > 128 || txid.chars().any(char::is_control) {
        return Err(invalid(n.txid[0], "must be at most 128 characters"));
    }
    let payout = p
        .first_of(n.payout)
        .map(parse_amount)
        .transpose()
        .map_err(|e| PostbackError::Invalid {
            field: n.payout[0],
            error: e,
        })?;
    let currency = p
        .first_of(n.currency)
        .map(Currency::parse)
        .transpose()
        .map_err(|error| PostbackError::Invalid {
            field: n.currency[0],
            error,
        })?;
    let event_time = match (tracker, p.get("event_time")) {
        (Tracker::Generic, Some(t)) => Some(parse_event_time(t, now)?),
        _ => None,
    };

    Ok(Parsed::Conversion(Box::new(Postback {
        tracker,
        click_id,
        raw_status,
        status,
        txid,
        payout,
        currency,
        event_time,
        campaign: common(p, "campaign", CampaignKey::parse)?,
        ip: common(p, "ip", |s| {
            s.parse()
                .map_err(|_| ParseError::new("is not an IP address"))
        })?,
        user_agent: p
            .first_of(&["user_agent", "ua"])
            .map(UserAgent::parse)
            .transpose()
            .map_err(|error| PostbackError::Invalid {
                field: "user_agent",
                error,
            })?,
        fbclid: common(p, "fbclid", CookieValue::parse_fbclid)?,
        ttclid: common(p, "ttclid", CookieValue::parse_tiktok_id)?,
        event_source_url: match p.get("event_source_url") {
            Some(_) => common(p, "event_source_url", HttpUrl::parse)?,
            None => common(p, "url", HttpUrl::parse)?,
        },
        customer: customer(p)?,
        params: super::kept_params(p),
    })))
}

fn invalid(field: &'static str, msg: &str) -> PostbackError {
    PostbackError::Invalid {
        field,
        error: ParseError::new(msg),
    }
}

fn in_list(list: Option<&str>, word: &str) -> bool {
    list.is_some_and(|l| l.split(',').any(|w| w.trim().to_lowercase() == word))
}

fn common<T>(
    p: &Params,
    field: &'static str,
    parse: impl FnOnce(&str) -> Result<T, ParseError>,
) -> Result<Option<T>, PostbackError> {
    p.get(field)
        .map(parse)
        .transpose()
        .map_err(|error| PostbackError::Invalid { field, error })
}

fn customer(p: &Params) -> Result<CustomerData, PostbackError> {
    let mut data = CustomerData::default();
    for field in CustomerField::ALL {
        if let Some(raw) = p.get(field.name()) {
            // The campaign is known only after parsing: no region yet (national numbers fall
            // back to Meta's digit rule).
            data.set_raw(field, raw, &Region::default())
                .map_err(|error| PostbackError::Invalid {
                    field: field.name(),
                    error,
                })?;
        }
    }
    Ok(data)
}

/// A payout as networks write it: `12.5`, `12,50`, ` 7 `.
fn parse_amount(s: &str) -> Result<f64, ParseError> {
    let s = s.trim().replace(',', ".");
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v.abs() < 1e12 => Ok(v),
        _ => Err(ParseError::new("must be a number such as 12.50")),
    }
}

fn parse_event_time(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, PostbackError> {
    let secs: i64 = s
        .trim()
        .parse()
        .map_err(|_| invalid("event_time", "must be unix seconds"))?;
    let t = Utc
        .timestamp_opt(secs, 0)
        .single()
        .ok_or_else(|| invalid("event_time", "must be unix seconds"))?;
    // A clock ahead of ours, or milliseconds: Meta refuses future times, use the arrival.
    Ok(t.min(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &str) -> Params {
        Params::from_pairs(crate::http::params::parse_urlencoded(q.as_bytes()).unwrap())
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
        let err = parse(Tracker::Keitaro, &params("subid=a&url=ftp://x"), Utc::now()).unwrap_err();
        assert!(matches!(err, PostbackError::Invalid { field: "url", .. }));
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

    #[test]
    fn bad_values_are_named() {
        let err = parse(Tracker::Keitaro, &params("subid=a&payout=ten"), Utc::now()).unwrap_err();
        assert!(matches!(
            err,
            PostbackError::Invalid {
                field: "payout",
                ..
            }
        ));
        let err = parse(
            Tracker::Keitaro,
            &params("subid=a&currency=XXX1"),
            Utc::now(),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            PostbackError::Invalid {
                field: "currency",
                ..
            }
        ));
        let err = parse(Tracker::Keitaro, &params("subid=a&em=nope"), Utc::now()).unwrap_err();
        assert!(matches!(err, PostbackError::Invalid { field: "em", .. }));
        let err = parse(Tracker::Keitaro, &params("subid=a b"), Utc::now()).unwrap_err();
        assert!(matches!(err, PostbackError::Invalid { field: "subid", .. }));
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
        assert!(parse(Tracker::Generic, &params("click_id=a&event_time=soon"), now).is_err());
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
}
