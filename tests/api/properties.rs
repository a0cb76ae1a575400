//! Property tests (proptest) over everything that reads untrusted input before the database sees
//! it: the strict urlencoded parser, JSON flattening, the tracker dialects, customer-data
//! normalisation and hashing, and the domain value types. No server and no database: the whole
//! file runs in a few seconds.

use std::collections::BTreeMap;

use capi_bridge::domain::{
    CampaignKey, ClickId, CookieValue, Currency, CustomerField, EventIdTemplate, EventIds,
    EventMap, HttpUrl, Region, UserAgent,
};
use capi_bridge::http::params::{parse_urlencoded, Params};
use capi_bridge::trackers::{self, normalise_status, Parsed, PostbackError, Tracker};
use chrono::{DateTime, TimeZone, Utc};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

/// 256 cases per property; `PROPTEST_CASES=10000 cargo test --test api properties` digs deeper.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/// Characters that break naive parsers: controls, Unicode whitespace, case-mapping oddities
/// (`İ`, `ß`, `ǅ`), combining marks, the urlencoded and macro delimiters, quotes.
const TRICKY: &[char] = &[
    '\0', '\t', '\n', '\r', '\u{7f}', '\u{85}', '\u{a0}', '\u{2028}', '\u{feff}', '\u{200b}', ' ',
    '{', '}', '[', ']', '%', '+', '&', '=', '@', '.', '-', '_', '~', '\'', '"', ';', '\\', '/',
    ',', 'İ', 'ı', 'ß', 'ǅ', 'ẞ', 'Σ', 'ς', 'ﬃ', '\u{301}', '\u{307}', 'é', 'Å', '\u{212b}', '😀',
    'K', '\u{212a}',
];

fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => any::<char>(),
        4 => proptest::char::range(' ', '~'),
        3 => select(TRICKY),
    ]
}

/// Any text up to `max` characters, biased towards the characters above.
fn text(max: usize) -> impl Strategy<Value = String> {
    vec(tricky_char(), 0..=max).prop_map(|cs| cs.into_iter().collect())
}

fn tracker() -> impl Strategy<Value = Tracker> {
    select(Tracker::ALL.to_vec())
}

fn now() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..4_000_000_000).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

fn click_id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._~-]{1,128}"
}

/// Every parameter name some dialect reads (README, "Postbacks").
const KNOWN_NAMES: &[&str] = capi_bridge::trackers::PARAMETER_NAMES;

/// Values that are valid for some parameter, almost valid, or hostile.
const INTERESTING_VALUES: &[&str] = &[
    "",
    " ",
    "{payout}",
    "{{txid}}",
    "[cid]",
    "REPLACE",
    "lead",
    "Approved",
    "HOLD",
    "trash",
    "rebill",
    "FTD",
    "usd",
    "EUR",
    "XXX",
    "NaN",
    "inf",
    "-inf",
    "1e308",
    "1e12",
    "-0",
    "12,50",
    "0x10",
    "203.0.113.5",
    "::1",
    "fe80::1%eth0",
    "fb.1.1596403881668.abc",
    "IwAR0abc",
    "John_Smith@Gmail.com",
    "a@b",
    "+1 (650) 555-1212",
    "1990-02-28",
    "1990-13-01",
    "F",
    "SW1A 1AA",
    "940251234",
    "US",
    "1799999000",
    "99999999999999999999",
    "-9223372036854775808",
    "9223372036854775807",
    "ping,test",
    "lead, Hold ,x",
    "offer1",
    "Mozilla/5.0 (iPhone)",
    "' OR '1'='1",
    "'; DROP TABLE clicks; --",
    "\u{0}",
    "İ",
];

fn param_name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(KNOWN_NAMES).prop_map(String::from),
        1 => text(12),
    ]
}

fn param_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => text(40),
        2 => select(INTERESTING_VALUES).prop_map(String::from),
        2 => click_id(),
        1 => "-?[0-9]{1,14}([.,][0-9]{1,4})?",
        1 => "[0-9a-fA-F]{64}",
        1 => "[ -~]{60,140}",
    ]
}

fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    vec((param_name(), param_value()), 0..24)
}

/// The dialect table of the README: click id, status, payout, currency and txid names.
fn dialect(t: Tracker) -> [&'static [&'static str]; 5] {
    match t {
        Tracker::Keitaro => [
            &["subid"],
            &["status"],
            &["payout", "revenue"],
            &["currency"],
            &["tid"],
        ],
        Tracker::Binom => [
            &["cnv_id", "clickid"],
            &["cnv_status"],
            &["payout"],
            &["cnv_currency"],
            &["txid"],
        ],
        Tracker::Bemob => [&["cid"], &["status"], &["payout"], &["currency"], &["txid"]],
        Tracker::Voluum => [&["cid"], &["et"], &["payout"], &["currency"], &["txid"]],
        Tracker::Redtrack => [&["clickid"], &["type"], &["sum"], &["currency"], &["txid"]],
        Tracker::Clickflare => [
            &["cid", "click_id"],
            &["status"],
            &["payout"],
            &["currency"],
            &["txid"],
        ],
        Tracker::Generic => [
            &["click_id"],
            &["status", "event"],
            &["value", "payout"],
            &["currency"],
            &["txid"],
        ],
    }
}

/// `application/x-www-form-urlencoded` as browsers and `form_urlencoded` write it (`+` for space,
/// upper-case escapes), or fully percent-encoded with lower-case hex.
fn encode(s: &str, form_style: bool) -> String {
    let mut out = String::new();
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' if form_style => {
                out.push(b as char)
            }
            b' ' if form_style => out.push('+'),
            _ if form_style => out.push_str(&format!("%{b:02X}")),
            _ => out.push_str(&format!("%{b:02x}")),
        }
    }
    out
}

fn encode_pairs(pairs: &[(String, String)], form_style: bool) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k, form_style), encode(v, form_style)))
        .collect::<Vec<_>>()
        .join("&")
}

fn is_lower_hex_digest(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The digest `f.hash` gives, as text; `None` for blank or refused input.
fn digest(f: CustomerField, raw: &str) -> Option<String> {
    f.hash(raw, &Region::default())
        .ok()
        .flatten()
        .map(|h| h.as_str().to_owned())
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Flips the ASCII case of the characters `mask` selects.
fn recase(s: &str, mask: &[bool]) -> String {
    s.chars()
        .zip(mask.iter().cycle())
        .map(|(c, &flip)| match (flip, c.is_ascii_lowercase()) {
            (false, _) => c,
            (true, true) => c.to_ascii_uppercase(),
            (true, false) => c.to_ascii_lowercase(),
        })
        .collect()
}

fn whitespace() -> impl Strategy<Value = String> {
    vec(
        select(&[' ', '\t', '\n', '\r', '\u{a0}', '\u{2003}'][..]),
        0..4,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

// ---------------------------------------------------------------------------------------------
// parse_urlencoded and Params
// ---------------------------------------------------------------------------------------------

/// Byte fragments that exercise every branch of the decoder.
const URLENCODED_FRAGMENTS: &[&[u8]] = &[
    b"a",
    b"=",
    b"&",
    b"+",
    b"%",
    b"%2",
    b"%20",
    b"%zz",
    b"%C3",
    b"%A9",
    b"%c3%a9",
    b"%FF",
    b"%00",
    b"%+5",
    b"%-1",
    b"\xff",
    b"\xc3",
    b"\xa9",
    b"\0",
    b"event_ids[Lead]",
    b"subid",
    b"%%",
    b"%%%",
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn urlencoded_never_panics_on_arbitrary_bytes(input in vec(any::<u8>(), 0..2048)) {
        if let Ok(pairs) = parse_urlencoded(&input) {
            prop_assert!(pairs.len() <= 256);
            let parts = input.split(|&b| b == b'&').filter(|p| !p.is_empty()).count();
            prop_assert_eq!(pairs.len(), parts);
        }
    }

    #[test]
    fn urlencoded_never_panics_on_escape_soup(
        frags in vec(select(URLENCODED_FRAGMENTS), 0..200),
    ) {
        let input: Vec<u8> = frags.concat();
        if let Ok(pairs) = parse_urlencoded(&input) {
            prop_assert!(pairs.len() <= 256);
        }
    }

    #[test]
    fn urlencoded_round_trips_what_form_encoding_produces(
        pairs in vec((text(24), text(24)), 0..32),
        form_style in any::<bool>(),
    ) {
        let encoded = encode_pairs(&pairs, form_style);
        let decoded = parse_urlencoded(encoded.as_bytes()).unwrap();
        prop_assert_eq!(decoded, pairs);
    }

    /// Up to 256 pairs are taken, the 257th is refused.
    #[test]
    fn urlencoded_takes_at_most_256_pairs(
        n in prop_oneof![0usize..=256, 250usize..=256, 257usize..300],
        name in "[a-z]{1,3}",
        value in text(4),
    ) {
        let pairs = vec![(name, value); n];
        let parsed = parse_urlencoded(encode_pairs(&pairs, true).as_bytes());
        if n <= 256 {
            prop_assert_eq!(parsed.unwrap(), pairs);
        } else {
            prop_assert!(parsed.is_err());
        }
    }

    /// Any `%` not followed by two hex digits is refused, wherever it is. (`%+X` is left out here:
    /// see `percent_followed_by_a_sign_is_refused` below, a known defect.)
    #[test]
    fn urlencoded_refuses_malformed_escapes(
        before in vec((text(8), text(8)), 0..4),
        bad in prop_oneof![
            Just(String::from("%")),
            "%[0-9a-fA-F]",
            "%[g-zG-Z ]",
            "%[0-9a-fA-F][g-zG-Z!]",
            "%-[0-9]",
        ],
        at_end in any::<bool>(),
    ) {
        let mut input = encode_pairs(&before, true);
        if !input.is_empty() {
            input.push('&');
        }
        input.push_str("x=");
        input.push_str(&bad);
        if !at_end {
            input.push_str("&y=1");
        }
        prop_assert!(parse_urlencoded(input.as_bytes()).is_err(), "accepted {:?}", input);
    }

    /// Escapes that decode to bytes that are not UTF-8 are refused.
    #[test]
    fn urlencoded_refuses_invalid_utf8(lead in select(&[0x80u8, 0xbf, 0xc0, 0xc3, 0xf8, 0xff][..])) {
        let input = format!("a=%{lead:02X}");
        prop_assert!(parse_urlencoded(input.as_bytes()).is_err());
    }

    #[test]
    fn params_get_only_returns_trimmed_filled_values(pairs in params(), name in param_name()) {
        let p = Params::from_pairs(pairs.clone());
        if let Some(v) = p.get(&name) {
            prop_assert_eq!(v, v.trim());
            prop_assert!(!v.is_empty());
            prop_assert!(!(v.starts_with('{') && v.ends_with('}')), "macro {:?}", v);
            prop_assert!(!(v.starts_with('[') && v.ends_with(']')), "macro {:?}", v);
            prop_assert_ne!(v, "REPLACE");
            // The first value given for a name wins.
            let first = pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.trim());
            prop_assert_eq!(Some(v), first);
        }
    }

    #[test]
    fn json_flattening_never_panics_on_arbitrary_bytes(body in vec(any::<u8>(), 0..512)) {
        let _ = Params::from_json_object(&body);
    }

    #[test]
    fn json_flattening_keeps_scalars(
        obj in btree_map(
            "[a-z_]{1,10}",
            prop_oneof![
                text(16).prop_map(serde_json::Value::from),
                any::<i64>().prop_map(serde_json::Value::from),
                any::<bool>().prop_map(serde_json::Value::from),
                Just(serde_json::Value::Null),
            ],
            0..20,
        ),
        nest in any::<bool>(),
    ) {
        let mut map: serde_json::Map<String, serde_json::Value> = obj.clone().into_iter().collect();
        if nest {
            map.insert("nested".into(), serde_json::json!({"a": [1]}));
        }
        let body = serde_json::to_vec(&serde_json::Value::Object(map)).unwrap();
        match Params::from_json_object(&body) {
            Ok(pairs) => {
                prop_assert!(!nest);
                let expected: Vec<(String, String)> = obj
                    .into_iter()
                    .filter_map(|(k, v)| match v {
                        serde_json::Value::String(s) => Some((k, s)),
                        serde_json::Value::Null => None,
                        other => Some((k, other.to_string())),
                    })
                    .collect();
                let mut pairs = pairs;
                pairs.sort();
                prop_assert_eq!(pairs, expected);
            }
            Err(_) => prop_assert!(nest),
        }
    }
}

/// `%+5` is not "a % followed by two hex digits", yet it decodes to the byte 0x05 (and `%+0` to
/// NUL): `u8::from_str_radix` accepts a leading `+`. Found by the property tests above; the
/// product code is left as it is, so this stays ignored until `decode` checks for hex digits.
#[test]
fn percent_followed_by_a_sign_is_refused() {
    for bad in [&b"a=%+5"[..], b"a=%+0", b"a=%+f"] {
        let shown = String::from_utf8_lossy(bad);
        assert!(parse_urlencoded(bad).is_err(), "{shown:?} accepted");
    }
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

// ---------------------------------------------------------------------------------------------
// Customer data
// ---------------------------------------------------------------------------------------------

fn customer_field() -> impl Strategy<Value = CustomerField> {
    select(CustomerField::ALL.to_vec())
}

/// Values shaped like each field's input, plus anything at all.
fn customer_raw() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => text(64),
        1 => "[a-zA-Z0-9._%+-]{1,20}@[a-zA-Z0-9-]{1,12}(\\.[a-zA-Z]{2,6}){1,2}",
        1 => "\\+?[0-9 ()-]{4,24}",
        1 => "[12][0-9]{3}[-/.]?[01][0-9][-/.]?[0-3][0-9]",
        1 => "[0-9a-fA-F]{63,65}",
        1 => select(INTERESTING_VALUES).prop_map(String::from),
        1 => "[ -~]{500,530}",
    ]
}

fn email() -> impl Strategy<Value = String> {
    "[a-z0-9._%+-]{1,20}@[a-z0-9-]{1,12}(\\.[a-z]{2,6}){1,2}"
}

proptest! {
    #![proptest_config(config())]

    /// Any input, any field: no panic; a digest is 64 lower-case hex; blank is "not given";
    /// hashing a digest returns it (lower-cased), so hashing is idempotent on its own output.
    #[test]
    fn hash_never_panics_and_is_idempotent(f in customer_field(), raw in customer_raw()) {
        match f.hash(&raw, &Region::default()) {
            Ok(None) => prop_assert!(raw.trim().is_empty()),
            Ok(Some(h)) => {
                let h = h.as_str().to_owned();
                prop_assert!(is_lower_hex_digest(&h), "{}", h);
                prop_assert_eq!(digest(f, &h), Some(h.clone()));
                prop_assert_eq!(digest(f, &h.to_uppercase()), Some(h.clone()));
                prop_assert_eq!(digest(f, &format!(" \t{h}\n")), Some(h.clone()));
                for other in CustomerField::ALL {
                    prop_assert_eq!(digest(other, &h), Some(h.clone()));
                }
            }
            Err(e) => {
                prop_assert!(!raw.trim().is_empty());
                prop_assert!(!e.0.is_empty());
            }
        }
    }

    /// A value that already is a digest (any case, any surrounding whitespace) is kept, lower-cased.
    #[test]
    fn digests_pass_through_lowercased(
        f in customer_field(),
        digest in "[0-9a-fA-F]{64}",
        pad in (whitespace(), whitespace()),
    ) {
        let raw = format!("{}{digest}{}", pad.0, pad.1);
        let h = f.hash(&raw, &Region::default()).unwrap().unwrap();
        prop_assert_eq!(h.as_str(), digest.to_ascii_lowercase());
    }

    /// Email: ASCII case and surrounding whitespace never change the digest, which is the
    /// SHA-256 of the trimmed, lower-cased address.
    #[test]
    fn email_hash_ignores_case_and_whitespace(
        e in email(),
        mask in vec(any::<bool>(), 1..16),
        pad in (whitespace(), whitespace()),
    ) {
        let canonical = CustomerField::Em.hash(&e, &Region::default()).unwrap().unwrap();
        prop_assert_eq!(canonical.as_str(), sha256_hex(&e));
        let variant = format!("{}{}{}", pad.0, recase(&e, &mask), pad.1);
        let h = CustomerField::Em.hash(&variant, &Region::default()).unwrap().unwrap();
        prop_assert_eq!(h, canonical);
    }

    /// Unicode emails: whatever the case of the input, the digest is that of the lower-cased
    /// NFC form, so upper- and lower-case spellings of one address agree.
    #[test]
    fn email_hash_is_case_insensitive_beyond_ascii(
        local in "[a-zà-öø-ÿ0-9]{1,12}",
        domain in "[a-z]{1,10}\\.[a-z]{2,4}",
    ) {
        let lower = format!("{local}@{domain}");
        // Only letters whose upper case lower-cases back (`ß` upper-cases to `SS`).
        prop_assume!(lower.to_uppercase().to_lowercase() == lower);
        let a = CustomerField::Em.hash(&lower, &Region::default()).unwrap().unwrap();
        let b = CustomerField::Em.hash(&lower.to_uppercase(), &Region::default()).unwrap().unwrap();
        prop_assert_eq!(a, b);
    }

    /// Phone: punctuation, spaces, a `+` and leading zeros never change the digest.
    #[test]
    fn phone_hash_ignores_formatting(
        digits in "[1-9][0-9]{5,14}",
        plus in any::<bool>(),
        zeros in 0usize..3,
        seps in vec(select(&["", " ", "-", "(", ")", ".", " / "][..]), 16),
    ) {
        let mut formatted = String::new();
        if plus {
            formatted.push('+');
        }
        formatted.push_str(&"0".repeat(zeros));
        for (i, c) in digits.chars().enumerate() {
            formatted.push_str(seps[i % seps.len()]);
            formatted.push(c);
        }
        let a = CustomerField::Ph.hash(&digits, &Region::default()).unwrap().unwrap();
        prop_assert_eq!(a.as_str(), sha256_hex(&digits));
        let b = CustomerField::Ph.hash(&formatted, &Region::default()).unwrap().unwrap();
        prop_assert_eq!(a, b);
    }

    /// Normalising a normalised value changes nothing (a tracker may send it pre-normalised).
    /// Outputs that are not in NFC are left out: see `zip_normalisation_output_is_nfc`.
    #[test]
    fn normalise_is_idempotent(f in customer_field(), raw in customer_raw()) {
        if let Ok(once) = f.normalise(&raw, &Region::default()) {
            prop_assume!(once.nfc().eq(once.chars()));
            let twice = f.normalise(&once, &Region::default());
            prop_assert_eq!(twice.as_ref(), Ok(&once), "{} {:?}", f.name(), raw);
        }
    }
}

/// Unicode is hashed in the form it arrives, as Meta's SDKs and param builder do (issue 20, item
/// 7): a decomposed `m\u{301}` and a composed `ḿ` are two digests, as they would be at Meta;
/// whitespace between a letter and its mark still goes.
#[test]
fn zips_are_hashed_in_the_unicode_form_they_came_in() {
    let zp = CustomerField::Zp;
    let region = Region::default();
    assert_eq!(
        zp.normalise("m\t\u{301}", &region),
        Ok("m\u{301}".to_owned())
    );
    assert_eq!(zp.normalise("\u{1e3f}", &region), Ok("\u{1e3f}".to_owned()));
    assert_eq!(digest(zp, "m \u{301}"), digest(zp, "m\u{301}"));
}

// ---------------------------------------------------------------------------------------------
// Domain value types
// ---------------------------------------------------------------------------------------------

fn placeholder_template() -> impl Strategy<Value = String> {
    vec(
        prop_oneof![
            "[A-Za-z0-9:_./}-]{0,12}",
            select(&["{event_name}", "{click_id}", "{txid}", "{campaign}"][..])
                .prop_map(String::from),
        ],
        0..6,
    )
    .prop_flat_map(|parts| {
        let n = parts.len();
        (Just(parts), 0..=n)
    })
    .prop_map(|(mut parts, at)| {
        parts.insert(at, "{click_id}".to_owned());
        parts.concat()
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn click_id_accepts_exactly_its_alphabet(s in prop_oneof![text(140), click_id()]) {
        let shape = (1..=128).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'));
        match ClickId::parse(&s) {
            Ok(id) => {
                prop_assert!(shape);
                prop_assert_eq!(id.as_str(), s.as_str());
            }
            Err(_) => prop_assert!(!shape),
        }
    }

    #[test]
    fn campaign_key_accepts_exactly_its_alphabet(s in prop_oneof![text(70), "[a-z0-9_-]{1,64}"]) {
        let shape = (1..=64).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        prop_assert_eq!(CampaignKey::parse(&s).is_ok(), shape);
        if let Ok(k) = CampaignKey::parse(&s) {
            prop_assert_eq!(k.as_str(), s.as_str());
        }
    }

    #[test]
    fn fbclid_is_kept_byte_for_byte_but_control_characters(
        s in prop_oneof![text(40), "[!-~]{1,1000}", "[!-~]{1001,1010}", "\\PC{1,30}"],
    ) {
        let kept: String = s.trim().chars().filter(|c| !c.is_control()).collect();
        let kept = kept.trim();
        let fits = !kept.is_empty() && kept.chars().count() <= 1000;
        match CookieValue::parse_fbclid(&s) {
            Ok(v) => {
                prop_assert!(fits);
                prop_assert_eq!(v.value.as_str(), kept);
                prop_assert_eq!(v.changed, kept != s);
            }
            Err(_) => prop_assert!(!fits),
        }
    }

    #[test]
    fn fb_cookies_have_metas_shape(
        s in prop_oneof![
            text(40),
            "fb\\.[0-9]{1,2}\\.[0-9]{1,13}\\.[!-~]{1,60}",
            "fb\\.[0-9a-z]{0,2}\\.[0-9a-z.]{0,13}\\.?[ -~]{0,10}",
        ],
    ) {
        if let Ok(v) = CookieValue::parse_cookie(&s) {
            prop_assert_eq!(v.value.as_str(), s.trim());
            prop_assert!(s.trim().len() <= 1100 && s.trim().bytes().all(|b| b.is_ascii_graphic()));
            let parts: Vec<&str> = s.splitn(4, '.').collect();
            prop_assert_eq!(parts.len(), 4);
            prop_assert_eq!(parts[0], "fb");
            prop_assert!(!parts[1].is_empty() && parts[1].bytes().all(|b| b.is_ascii_digit()));
            prop_assert!(!parts[2].is_empty() && parts[2].bytes().all(|b| b.is_ascii_digit()));
            prop_assert!(!parts[3].is_empty());
        }
    }

    #[test]
    fn valid_fb_cookies_are_accepted(
        index in 0u32..10,
        ms in 1_000_000_000_000u64..2_000_000_000_000,
        // No dot: a dot starts the optional appendix segment Meta's parameter builder adds.
        value in "[!-\\-/-~]{1,60}",
    ) {
        let s = format!("fb.{index}.{ms}.{value}");
        prop_assert!(CookieValue::parse_cookie(&s).is_ok(), "{}", s);
    }

    #[test]
    fn http_urls_are_absolute_http(
        s in prop_oneof![
            text(60),
            "(http|https|HTTP|HtTpS|ftp|javascript)://[!-~]{0,80}",
            "https?://[ -~\u{e9}\u{a0}\u{85}]{0,20}",
            "https://[a-z]{1,10}/[a-z]{2040,2050}",
        ],
    ) {
        match HttpUrl::parse(&s) {
            Ok(u) => {
                // Unchanged but for a fragment or personal data in the query.
                let no_fragment = s.split('#').next().unwrap();
                prop_assert!(no_fragment.starts_with(u.as_str().split('?').next().unwrap()));
                let lower = s.to_ascii_lowercase();
                prop_assert!(lower.starts_with("http://") || lower.starts_with("https://"));
                prop_assert!(s.len() <= 2048);
                prop_assert!(!s.chars().any(|c| c.is_control() || c == ' '));
            }
            Err(_) => {
                let lower = s.to_ascii_lowercase();
                let good = (lower.starts_with("http://") || lower.starts_with("https://"))
                    && s.len() <= 2048
                    && !s.chars().any(|c| c.is_control() || c == ' ');
                prop_assert!(!good, "refused {:?}", s);
            }
        }
    }

    #[test]
    fn user_agents_are_trimmed_and_bounded(
        s in prop_oneof![text(60), "[ -~]{1,1030}", "[ -~\u{e9}\u{7f}\u{85}]{0,20}"],
    ) {
        match UserAgent::parse(&s) {
            Ok(ua) => {
                prop_assert_eq!(ua.as_str(), s.trim());
                prop_assert!((1..=1024).contains(&ua.as_str().len()));
                prop_assert!(!ua.as_str().chars().any(char::is_control));
            }
            Err(_) => {
                let t = s.trim();
                prop_assert!(
                    t.is_empty() || t.len() > 1024 || t.chars().any(char::is_control),
                    "refused {:?}", s
                );
            }
        }
    }

    #[test]
    fn currencies_are_three_upper_case_letters(
        s in prop_oneof![text(6), "[A-Za-z]{3}", select(&["usd", " EUR ", "gBp", "jpy\t"][..]).prop_map(String::from)],
    ) {
        if let Ok(c) = Currency::parse(&s) {
            let code = c.as_str();
            prop_assert!(code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()));
            prop_assert!(code.eq_ignore_ascii_case(s.trim()));
            prop_assert_eq!(Currency::parse(code).unwrap(), c);
            prop_assert_eq!(Currency::parse(&code.to_ascii_lowercase()).unwrap(), c);
        }
    }

    #[test]
    fn event_id_templates_keep_the_click_id(
        s in prop_oneof![text(40), placeholder_template(), "[{}a-z_]{0,30}"],
        click in click_id(),
        event in "[A-Za-z]{1,20}",
        txid in "[A-Za-z0-9]{0,20}",
        campaign in "[a-z0-9_-]{1,20}",
    ) {
        if let Ok(t) = EventIdTemplate::parse(&s) {
            prop_assert_eq!(t.as_str(), s.as_str());
            prop_assert!((1..=200).contains(&s.len()));
            prop_assert!(s.contains("{click_id}"), "{:?}", s);
            let rendered = t.render(&event, &click, &txid, &campaign);
            prop_assert!(rendered.contains(click.as_str()));
            prop_assert!(!rendered.contains('{'), "{:?} left a brace in {:?}", s, rendered);
        }
    }

    #[test]
    fn built_event_id_templates_are_accepted(s in placeholder_template()) {
        prop_assume!(s.len() <= 200);
        // Each placeholder at its longest value: ids over 400 characters are refused.
        let worst = s
            .replace("{event_name}", &"e".repeat(50))
            .replace("{click_id}", &"c".repeat(128))
            .replace("{txid}", &"t".repeat(128))
            .replace("{campaign}", &"k".repeat(64));
        prop_assume!(worst.len() <= 400);
        prop_assert!(EventIdTemplate::parse(&s).is_ok(), "{}", s);
    }

    #[test]
    fn event_maps_are_keyed_by_normalised_words(
        raw in btree_map(
            prop_oneof![text(20), "[A-Za-z]{1,10}", "[ -~]{60,70}"],
            proptest::option::of(prop_oneof![text(20), "[A-Za-z0-9_ -]{1,50}"]),
            0..8,
        ),
    ) {
        if let Ok(map) = EventMap::parse(raw.clone()) {
            for (word, event) in &raw {
                let key = word.trim().to_lowercase();
                prop_assert!(!key.is_empty() && key.len() <= 64);
                prop_assert!(!key.chars().any(char::is_control));
                let got = map.get(&key);
                prop_assert!(got.is_some(), "{:?} missing", key);
                // Without two words colliding after lower-casing, the event is the one given.
                let collisions = raw.keys().filter(|w| w.trim().to_lowercase() == key).count();
                if collisions == 1 {
                    prop_assert_eq!(got.unwrap().map(|e| e.as_str()), event.as_deref());
                }
            }
            for name in map.event_names() {
                let n = name.as_str();
                prop_assert!((1..=50).contains(&n.len()));
                prop_assert!(n.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b' ' | b'-')));
            }
        }
    }

    #[test]
    fn event_ids_are_printable(
        raw in btree_map(
            prop_oneof![text(12), "[A-Za-z]{1,10}"],
            prop_oneof![text(12), "[!-~]{1,256}"],
            0..6,
        ),
    ) {
        if let Ok(ids) = EventIds::parse(raw.clone()) {
            prop_assert_eq!(ids.as_map(), &raw);
            for id in raw.values() {
                prop_assert!((1..=256).contains(&id.len()));
                prop_assert!(id.bytes().all(|b| b.is_ascii_graphic()));
            }
        }
    }
}

/// Keeps `BTreeMap` in use for readers: the admin API's `event_map` is exactly this shape.
#[test]
fn default_event_map_round_trips_through_parse() {
    let raw: BTreeMap<String, Option<String>> = BTreeMap::from([
        ("lead".into(), Some("Lead".into())),
        ("sale".into(), Some("Purchase".into())),
        ("rebill".into(), Some("Purchase".into())),
        ("rejected".into(), None),
    ]);
    assert_eq!(EventMap::parse(raw).unwrap(), EventMap::default());
}
