//! Generators and checks shared by the property tests (proptest): tricky text, tracker\nparameters and dialects, encodings, digests.

use capi_bridge::domain::{CustomerField, Region};
use capi_bridge::trackers::Tracker;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

/// 256 cases per property; `PROPTEST_CASES=10000 cargo test --test api properties` digs deeper.
pub fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

/// Characters that break naive parsers: controls, Unicode whitespace, case-mapping oddities
/// (`İ`, `ß`, `ǅ`), combining marks, the urlencoded and macro delimiters, quotes.
pub const TRICKY: &[char] = &[
    '\0', '\t', '\n', '\r', '\u{7f}', '\u{85}', '\u{a0}', '\u{2028}', '\u{feff}', '\u{200b}', ' ',
    '{', '}', '[', ']', '%', '+', '&', '=', '@', '.', '-', '_', '~', '\'', '"', ';', '\\', '/',
    ',', 'İ', 'ı', 'ß', 'ǅ', 'ẞ', 'Σ', 'ς', 'ﬃ', '\u{301}', '\u{307}', 'é', 'Å', '\u{212b}', '😀',
    'K', '\u{212a}',
];

pub fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => any::<char>(),
        4 => proptest::char::range(' ', '~'),
        3 => select(TRICKY),
    ]
}

/// Any text up to `max` characters, biased towards the characters above.
pub fn text(max: usize) -> impl Strategy<Value = String> {
    vec(tricky_char(), 0..=max).prop_map(|cs| cs.into_iter().collect())
}

pub fn tracker() -> impl Strategy<Value = Tracker> {
    select(Tracker::ALL.to_vec())
}

pub fn click_id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._~-]{1,128}"
}

/// Every parameter name some dialect reads (README, "Postbacks").
pub const KNOWN_NAMES: &[&str] = capi_bridge::trackers::PARAMETER_NAMES;

/// Values that are valid for some parameter, almost valid, or hostile.
pub const INTERESTING_VALUES: &[&str] = &[
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

pub fn param_name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(KNOWN_NAMES).prop_map(String::from),
        1 => text(12),
    ]
}

pub fn param_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => text(40),
        2 => select(INTERESTING_VALUES).prop_map(String::from),
        2 => click_id(),
        1 => "-?[0-9]{1,14}([.,][0-9]{1,4})?",
        1 => "[0-9a-fA-F]{64}",
        1 => "[ -~]{60,140}",
    ]
}

pub fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    vec((param_name(), param_value()), 0..24)
}

/// The dialect table of the README: click id, status, payout, currency and txid names.
pub fn dialect(t: Tracker) -> [&'static [&'static str]; 5] {
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
pub fn encode(s: &str, form_style: bool) -> String {
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

pub fn is_lower_hex_digest(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The digest `f.hash` gives, as text; `None` for blank or refused input.
pub fn digest(f: CustomerField, raw: &str) -> Option<String> {
    f.hash(raw, &Region::default())
        .ok()
        .flatten()
        .map(|h| h.as_str().to_owned())
}

pub fn whitespace() -> impl Strategy<Value = String> {
    vec(
        select(&[' ', '\t', '\n', '\r', '\u{a0}', '\u{2003}'][..]),
        0..4,
    )
    .prop_map(|cs| cs.into_iter().collect())
}
