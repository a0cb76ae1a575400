//! Tracker postback dialects. Each tracker names the same facts differently (Keitaro `subid`,
//! Binom `cnv_id`, BeMob `cid`...); a dialect reads its names into one [`Postback`].

mod dialect;
mod postback_urls;
mod status;

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::domain::url_privacy;
use crate::domain::{
    ActionSource, CampaignKey, ClickId, CookieValue, Currency, CustomerData, CustomerField,
    DropReport, HttpUrl, ParseError, UserAgent,
};

pub use dialect::{is_payout_name, parse, parse_in};
pub use postback_urls::{PostbackUrl, POSTBACK_URLS, SAMPLE_CLICK_ID};
pub use status::normalise_status;

/// Every postback parameter name some dialect reads, with `key` and Keitaro's `return`: the
/// vocabulary of the property tests, the fuzz targets and the abuse run.
pub const PARAMETER_NAMES: &[&str] = &[
    "subid",
    "cnv_id",
    "clickid",
    "cid",
    "click_id",
    "status",
    "cnv_status",
    "et",
    "type",
    "event",
    "payout",
    "revenue",
    "sum",
    "value",
    "currency",
    "cnv_currency",
    "tid",
    "txid",
    "event_time",
    "campaign",
    "ip",
    "user_agent",
    "ua",
    "fbclid",
    "ttclid",
    "external_id",
    "em",
    "ph",
    "fn",
    "ln",
    "ge",
    "db",
    "ct",
    "st",
    "zp",
    "country",
    "lead_status",
    "sale_status",
    "rejected_status",
    "ignore_status",
    "return",
    "url",
    "event_source_url",
    "key",
];

/// The status a postback without any status parameter takes, in every dialect: a bare
/// postback is a sale for each of these trackers.
pub const DEFAULT_STATUS: &str = "sale";

/// Parameters never kept with a conversion: the secret, and personal data (hashed into its own
/// columns, where retention and erasure find it).
const NOT_KEPT: &[&str] = &["key", "ip", "user_agent", "ua", "fbclid", "ttclid"];
/// At most this many parameters, each value cut to this many characters, are kept.
const KEPT_MAX: usize = 64;
const KEPT_VALUE_MAX: usize = 256;

/// The received parameters as a user may see them: without the key and personal data, and
/// URLs without the query parameters that hold an email or a phone number.
pub fn kept_params(p: &crate::domain::params::Params) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> = p
        .iter()
        .filter_map(|(name, value)| Some((clean(name), kept_value(name, value)?)))
        .take(KEPT_MAX)
        .map(|(name, value)| (name, serde_json::Value::String(value)))
        .collect();
    serde_json::Value::Object(map)
}

/// A received parameter's value as a user may see it (the kept parameters, an import's bad
/// lines): `None` for the key and personal data; a URL without its personal query parameters.
pub fn kept_value(name: &str, value: &str) -> Option<String> {
    let personal = NOT_KEPT.contains(&name)
        || CustomerField::ALL.iter().any(|f| f.name() == name)
        || url_privacy::personal(name, value);
    if personal {
        return None;
    }
    if value
        .get(..4)
        .is_some_and(|h| h.eq_ignore_ascii_case("http"))
    {
        Some(clean(&url_privacy::without_personal_data(value)))
    } else {
        Some(clean(value))
    }
}

/// Control characters go (PostgreSQL's jsonb refuses NUL, and a log line or a page showing the
/// value should not carry terminal escapes), and the text is cut to [`KEPT_VALUE_MAX`].
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(KEPT_VALUE_MAX)
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracker {
    Keitaro,
    Binom,
    Bemob,
    Voluum,
    Redtrack,
    Clickflare,
    Generic,
}

impl Tracker {
    pub const ALL: [Tracker; 7] = [
        Tracker::Keitaro,
        Tracker::Binom,
        Tracker::Bemob,
        Tracker::Voluum,
        Tracker::Redtrack,
        Tracker::Clickflare,
        Tracker::Generic,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Every tracker's word, for messages: `keitaro, binom, ...`.
    pub fn names() -> String {
        Self::ALL.map(Tracker::as_str).join(", ")
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tracker::Keitaro => "keitaro",
            Tracker::Binom => "binom",
            Tracker::Bemob => "bemob",
            Tracker::Voluum => "voluum",
            Tracker::Redtrack => "redtrack",
            Tracker::Clickflare => "clickflare",
            Tracker::Generic => "generic",
        }
    }
}

/// One conversion as a tracker reported it; customer data is hashed already.
#[derive(Debug, Clone)]
pub struct Postback {
    pub tracker: Tracker,
    pub click_id: ClickId,
    /// The word the network sent (or the dialect's default), as sent.
    pub raw_status: String,
    /// Lowercased and mapped onto lead / sale / rejected / rebill where the word is known.
    pub status: String,
    /// Transaction id; empty when the tracker sent none.
    pub txid: String,
    pub payout: Option<f64>,
    pub currency: Option<Currency>,
    /// The conversion time the tracker reported (generic dialect), never in the future.
    pub event_time: Option<DateTime<Utc>>,
    /// `campaign=<key>`: where to send the conversion if its click is never registered.
    pub campaign: Option<CampaignKey>,
    pub ip: Option<IpAddr>,
    pub user_agent: Option<UserAgent>,
    pub fbclid: Option<CookieValue>,
    /// TikTok's click id, when the tracker passes it on (Keitaro `{sub_id_N}`).
    pub ttclid: Option<CookieValue>,
    /// `url` / `event_source_url`: the page the conversion happened on, when the tracker knows it.
    pub event_source_url: Option<HttpUrl>,
    /// `action_source`: Meta's channel when it is not the campaign's (`phone_call`, ...).
    pub action_source: Option<ActionSource>,
    pub customer: CustomerData,
    /// The received parameters without the key and personal data ([`kept_params`]).
    pub params: serde_json::Value,
    /// The fields that were dropped or changed, and why.
    pub dropped: DropReport,
}

#[derive(Debug, Clone)]
pub enum Parsed {
    Conversion(Box<Postback>),
    /// The status is in Keitaro's `ignore_status` list: accept and record nothing.
    Ignored {
        raw_status: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostbackError {
    #[error("{0} is required (the click id)")]
    MissingClickId(&'static str),
    /// The status parameter is present but holds a macro the tracker did not fill: never
    /// guess a status (a guessed sale would be a false Purchase).
    #[error("{0} holds an unfilled macro or is empty: the tracker did not fill its status macro")]
    UnfilledStatus(&'static str),
    #[error("{field} {error}")]
    Invalid {
        field: &'static str,
        error: ParseError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::params::{parse_urlencoded, Params};

    fn params(q: &str) -> Params {
        Params::from_pairs(parse_urlencoded(q.as_bytes()).unwrap())
    }

    fn conv(t: Tracker, q: &str) -> Postback {
        match parse(t, &params(q), Utc::now()).unwrap() {
            Parsed::Conversion(p) => *p,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_dialect_takes_ttclid_as_an_identifier_not_a_kept_param() {
        for t in Tracker::ALL {
            let q = match t {
                Tracker::Generic => "click_id=a&ttclid=E.C.P.Tt-1&ph=%2B16505551212&s1=x",
                _ => "subid=a&clickid=a&cid=a&click_id=a&ttclid=E.C.P.Tt-1&ph=%2B16505551212&s1=x",
            };
            let p = conv(t, q);
            assert_eq!(p.ttclid.unwrap().as_str(), "E.C.P.Tt-1", "{t:?}");
            assert_eq!(p.params.get("s1").and_then(|v| v.as_str()), Some("x"));
            assert!(p.params.get("ttclid").is_none(), "{t:?} kept ttclid");
            // sha256("+16505551212"): TikTok's digest, next to Meta's.
            assert_eq!(
                p.customer.tiktok_ph().unwrap().as_str(),
                "1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8"
            );
        }
        // A space is kept as given (TikTok's id is opaque); a control character is removed.
        let p = conv(Tracker::Keitaro, "subid=a&ttclid=a%20b%01c");
        assert_eq!(p.ttclid.clone().unwrap().as_str(), "a bc");
        assert_eq!(p.dropped.fields().collect::<Vec<_>>(), ["ttclid"]);
    }
}
