//! Property tests (proptest) of the strict urlencoded parser and `Params`: no panic on any\nbytes, round trips, limits, malformed escapes. No server and no database.

use crate::helpers::properties::*;
use capi_bridge::http::params::{parse_urlencoded, Params};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;

fn encode_pairs(pairs: &[(String, String)], form_style: bool) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k, form_style), encode(v, form_style)))
        .collect::<Vec<_>>()
        .join("&")
}

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
