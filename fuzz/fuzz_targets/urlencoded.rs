//! `parse_urlencoded` on arbitrary bytes: never panics, never returns more than 256 pairs, and
//! whatever it accepts survives being encoded again and re-parsed unchanged.

#![no_main]

use capi_bridge::http::params::parse_urlencoded;
use libfuzzer_sys::fuzz_target;

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(pairs) = parse_urlencoded(data) else {
        return;
    };
    assert!(pairs.len() <= 256, "{} pairs", pairs.len());
    let parts = data.split(|&b| b == b'&').filter(|p| !p.is_empty()).count();
    assert_eq!(pairs.len(), parts);
    let again: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    let reparsed = parse_urlencoded(again.join("&").as_bytes()).expect("re-encoded pairs parse");
    assert_eq!(reparsed, pairs);
});
