//! Property tests (proptest) of the tracker dialects: no panic on any parameters, and\nevery conversion they make is well formed. No server and no database.

use crate::helpers::properties::*;
use capi_bridge::domain::{CampaignKey, ClickId};
use capi_bridge::http::params::Params;
use capi_bridge::trackers::{self, normalise_status, Parsed, PostbackError, Tracker};
use chrono::{DateTime, TimeZone, Utc};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

fn now() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..4_000_000_000).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

// ---------------------------------------------------------------------------------------------
// Tracker dialects
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// Arbitrary parameters never panic any dialect, and whatever comes out as a conversion holds
    /// only values that passed their rules.
    #[test]
    fn dialects_never_panic_and_conversions_are_well_formed(
        t in tracker(),
        pairs in params(),
        now in now(),
    ) {
        let p = Params::from_pairs(pairs);
        let [click_names, ..] = dialect(t);
        match trackers::parse(t, &p, now) {
            Ok(Parsed::Conversion(c)) => {
                let id = c.click_id.as_str();
                prop_assert!((1..=128).contains(&id.len()));
                prop_assert!(id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-')));
                prop_assert!(ClickId::parse(id).is_ok());
                prop_assert_eq!(Some(id), p.first_of(click_names));
                prop_assert_eq!(c.tracker, t);

                prop_assert!(!c.status.is_empty());
                prop_assert_eq!(&c.status, &c.status.to_lowercase(), "status not lowercase");
                prop_assert_eq!(c.status.trim(), c.status.as_str());
                prop_assert!(c.raw_status.len() <= 64);
                prop_assert!(!c.raw_status.chars().any(char::is_control));

                prop_assert!(c.txid.len() <= 128);
                prop_assert!(!c.txid.chars().any(char::is_control));
                if let Some(v) = c.payout {
                    prop_assert!(v.is_finite() && v.abs() < 1e12);
                }
                if let Some(cur) = c.currency {
                    prop_assert!(cur.as_str().len() == 3);
                    prop_assert!(cur.as_str().bytes().all(|b| b.is_ascii_uppercase()));
                }
                if let Some(et) = c.event_time {
                    prop_assert_eq!(t, Tracker::Generic);
                    prop_assert!(et <= now);
                }
                if let Some(ua) = &c.user_agent {
                    prop_assert!(!ua.as_str().is_empty() && ua.as_str().len() <= 1024);
                    prop_assert!(!ua.as_str().chars().any(char::is_control));
                }
                if let Some(f) = &c.fbclid {
                    let s = f.as_str();
                    prop_assert!(!s.is_empty() && !s.chars().any(char::is_control));
                    prop_assert_eq!(s.trim(), s);
                }
                if let Some(k) = &c.campaign {
                    prop_assert!(CampaignKey::parse(k.as_str()).is_ok());
                }
                for (_, digest) in c.customer.iter() {
                    prop_assert!(is_lower_hex_digest(digest.as_str()), "{:?}", digest);
                }
            }
            Ok(Parsed::Ignored { raw_status }) => {
                prop_assert_eq!(t, Tracker::Keitaro);
                prop_assert!(p.get("ignore_status").is_some());
                prop_assert!(raw_status.len() <= 64);
            }
            Err(PostbackError::UnfilledStatus(name)) => {
                // Refused only when the status is present but unfilled, never when absent.
                prop_assert!(p.raw(name).is_some());
                prop_assert!(p.get(name).is_none());
            }
            Err(PostbackError::MissingClickId(name)) => {
                prop_assert_eq!(name, click_names[0]);
                prop_assert!(p.first_of(click_names).is_none());
            }
            Err(PostbackError::Invalid { field, error }) => {
                prop_assert!(!field.is_empty());
                prop_assert!(!error.0.is_empty());
            }
        }
    }

    /// A well-formed postback in each dialect's own names is read back exactly.
    #[test]
    fn dialects_read_their_own_names(
        t in tracker(),
        click in click_id(),
        status in prop_oneof![
            select(&["lead", "Approved", "HOLD", " trash ", "rebill", "FTD", "deposit_2"][..])
                .prop_map(String::from),
            "[A-Za-z][A-Za-z0-9_ -]{0,40}[A-Za-z0-9]",
        ],
        payout in proptest::option::of((0u32..1_000_000, 0u32..100)),
        currency in proptest::option::of(select(&["usd", "EUR", "Gbp", "jpy"][..])),
        txid in proptest::option::of("[A-Za-z0-9_.-]{1,128}"),
        alt in any::<bool>(),
        now in now(),
    ) {
        let [clicks, statuses, payouts, currencies, txids] = dialect(t);
        let pick = |names: &[&'static str]| if alt { names[names.len() - 1] } else { names[0] };
        let mut pairs = vec![(pick(clicks).to_owned(), click.clone())];
        pairs.push((pick(statuses).to_owned(), status.clone()));
        if let Some((units, cents)) = payout {
            pairs.push((pick(payouts).to_owned(), format!("{units},{cents:02}")));
        }
        if let Some(c) = currency {
            pairs.push((currencies[0].to_owned(), c.to_owned()));
        }
        if let Some(x) = &txid {
            pairs.push((txids[0].to_owned(), x.clone()));
        }
        // Noise a network may append: unfilled macros and repeated names (the first value wins).
        pairs.push((clicks[0].to_owned(), "{subid}".to_owned()));
        pairs.push((statuses[0].to_owned(), "REPLACE".to_owned()));

        let parsed = trackers::parse(t, &Params::from_pairs(pairs), now);
        let Ok(Parsed::Conversion(c)) = parsed else {
            return Err(TestCaseError::fail(format!("{parsed:?}")));
        };
        prop_assert_eq!(c.click_id.as_str(), click.as_str());
        prop_assert_eq!(c.raw_status.as_str(), status.trim());
        prop_assert_eq!(&c.status, &normalise_status(&status));
        prop_assert_eq!(&c.status, &c.status.to_lowercase());
        prop_assert_eq!(
            c.payout,
            payout.map(|(u, ct)| format!("{u}.{ct:02}").parse::<f64>().unwrap())
        );
        prop_assert_eq!(
            c.currency.map(|x| x.as_str().to_owned()),
            currency.map(str::to_ascii_uppercase)
        );
        prop_assert_eq!(c.txid, txid.unwrap_or_default());
        prop_assert!(c.event_time.is_none());
    }

    /// Keitaro's lists map words case-insensitively, and `ignore_status` wins over them.
    #[test]
    fn keitaro_status_lists(
        word in "[A-Za-z]{1,12}",
        others in vec("[a-z]{1,8}", 0..4),
        list in select(&["lead_status", "sale_status", "rejected_status", "ignore_status"][..]),
    ) {
        let mut entries = others.clone();
        entries.push(format!(" {} ", word.to_uppercase()));
        let pairs = vec![
            ("subid".to_owned(), "c1".to_owned()),
            ("status".to_owned(), word.clone()),
            (list.to_owned(), entries.join(",")),
        ];
        let parsed = trackers::parse(Tracker::Keitaro, &Params::from_pairs(pairs), Utc::now())
            .unwrap();
        match (list, parsed) {
            ("ignore_status", Parsed::Ignored { raw_status }) => prop_assert_eq!(raw_status, word),
            (list, Parsed::Conversion(c)) => {
                prop_assert_eq!(c.status.as_str(), list.trim_end_matches("_status"));
            }
            (list, other) => prop_assert!(false, "{} gave {:?}", list, other),
        }
    }

    #[test]
    fn generic_event_time_is_never_in_the_future(
        click in click_id(),
        secs in prop_oneof![any::<i64>(), 0i64..4_000_000_000],
        now in now(),
    ) {
        let pairs = vec![
            ("click_id".to_owned(), click),
            ("event_time".to_owned(), secs.to_string()),
        ];
        match trackers::parse(Tracker::Generic, &Params::from_pairs(pairs), now) {
            // An unreadable time is dropped and reported: the arrival time applies.
            Ok(Parsed::Conversion(c)) if c.event_time.is_none() => {
                prop_assert_eq!(c.dropped.fields().collect::<Vec<_>>(), ["event_time"]);
            }
            Ok(Parsed::Conversion(c)) => {
                let et = c.event_time.unwrap();
                prop_assert!(et <= now);
                if secs <= now.timestamp() {
                    prop_assert_eq!(et.timestamp(), secs);
                }
            }
            Ok(other) => prop_assert!(false, "{:?}", other),
            Err(e) => prop_assert!(
                Utc.timestamp_opt(secs, 0).single().is_none(),
                "{} refused: {}", secs, e
            ),
        }
    }

    #[test]
    fn normalised_status_is_lowercase_and_trimmed(raw in text(64)) {
        let s = normalise_status(&raw);
        prop_assert_eq!(&s, &s.to_lowercase());
        prop_assert_eq!(s.trim(), s.as_str());
        prop_assert_eq!(normalise_status(&s), s.clone(), "not idempotent");
    }
}
