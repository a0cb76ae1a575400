//! Every tracker dialect over fuzzed `name=value` pairs: never panics, and a conversion carries
//! only values that passed their rules (click id alphabet, lowercase status, bounded fields,
//! 64-hex customer digests, `event_time` not in the future).

#![no_main]

use arbitrary::Arbitrary;
use capi_bridge::domain::ClickId;
use capi_bridge::http::params::Params;
use capi_bridge::trackers::{self, Parsed, PostbackError, Tracker};
use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;

/// Every parameter name some dialect reads: most fuzzed pairs use one of them.
const NAMES: &[&str] = capi_bridge::trackers::PARAMETER_NAMES;

#[derive(Debug, Arbitrary)]
enum Name {
    Known(u8),
    Other(String),
}

#[derive(Debug, Arbitrary)]
struct Input {
    now_secs: u32,
    pairs: Vec<(Name, String)>,
}

fn click_names(t: Tracker) -> &'static [&'static str] {
    match t {
        Tracker::Keitaro => &["subid"],
        Tracker::Binom => &["cnv_id", "clickid"],
        Tracker::Bemob | Tracker::Voluum => &["cid"],
        Tracker::Redtrack => &["clickid"],
        Tracker::Clickflare => &["cid", "click_id"],
        Tracker::Generic => &["click_id"],
    }
}

fuzz_target!(|input: Input| {
    let now = Utc.timestamp_opt(i64::from(input.now_secs), 0).unwrap();
    let params = Params::from_pairs(input.pairs.into_iter().map(|(n, v)| {
        let name = match n {
            Name::Known(i) => NAMES[usize::from(i) % NAMES.len()].to_owned(),
            Name::Other(s) => s,
        };
        (name, v)
    }));
    for t in Tracker::ALL {
        match trackers::parse(t, &params, now) {
            Ok(Parsed::Conversion(c)) => {
                let id = c.click_id.as_str();
                assert!(ClickId::parse(id).is_ok());
                assert_eq!(Some(id), params.first_of(click_names(t)));
                assert!(!c.status.is_empty());
                assert_eq!(c.status, c.status.to_lowercase(), "status not lowercase");
                assert!(c.raw_status.len() <= 64 && !c.raw_status.chars().any(char::is_control));
                assert!(c.txid.len() <= 128 && !c.txid.chars().any(char::is_control));
                if let Some(v) = c.payout {
                    assert!(v.is_finite() && v.abs() < 1e12, "payout {v}");
                }
                if let Some(et) = c.event_time {
                    assert_eq!(t, Tracker::Generic);
                    assert!(et <= now);
                }
                for (_, h) in c.customer.iter() {
                    let h = h.as_str();
                    assert!(
                        h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                    );
                }
            }
            Ok(Parsed::Ignored { .. }) => assert_eq!(t, Tracker::Keitaro),
            Err(PostbackError::MissingClickId(name)) => {
                assert_eq!(name, click_names(t)[0]);
                assert!(params.first_of(click_names(t)).is_none());
            }
            Err(PostbackError::Invalid { .. }) => {}
        }
    }
});
