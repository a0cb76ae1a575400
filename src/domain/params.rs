//! Strict `application/x-www-form-urlencoded` parsing. The usual decoders replace invalid UTF-8
//! with U+FFFD and pass malformed `%` escapes through; a hashed email built from such a value would
//! silently never match, so malformed input is refused (`http` answers it with a 400).

use std::collections::HashMap;

/// Parameters that cannot be read: a problem code and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct BadParams {
    pub code: &'static str,
    pub detail: String,
}

impl BadParams {
    fn new(code: &'static str, detail: impl Into<String>) -> Self {
        BadParams {
            code,
            detail: detail.into(),
        }
    }
}

/// Most parameters one request may carry.
const MAX_PAIRS: usize = 256;

pub fn parse_urlencoded(input: &[u8]) -> Result<Vec<(String, String)>, BadParams> {
    let mut pairs = Vec::new();
    for part in input.split(|&b| b == b'&') {
        if part.is_empty() {
            continue;
        }
        if pairs.len() == MAX_PAIRS {
            return Err(BadParams::new(
                "too_many_parameters",
                format!("at most {MAX_PAIRS} parameters"),
            ));
        }
        let (name, value) = match part.iter().position(|&b| b == b'=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &b""[..]),
        };
        pairs.push((decode(name)?, decode(value)?));
    }
    Ok(pairs)
}

fn decode(raw: &[u8]) -> Result<String, BadParams> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => {
                // Two hex digits exactly: from_str_radix alone would take "+5".
                let hex = raw
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
                match hex {
                    Some(byte) => out.push(byte),
                    None => {
                        return Err(BadParams::new(
                            "bad_percent_encoding",
                            "a % in the parameters is not followed by two hex digits",
                        ))
                    }
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|_| BadParams::new("invalid_utf8", "the parameters are not valid UTF-8"))
}

/// A value a tracker or network left unfilled: blank, or a macro it did not replace (`{payout}`,
/// `{{txid}}`, `[cid]`, `#status#`, `%status%`, `REPLACE`, `OPTIONAL`).
pub fn is_unfilled(v: &str) -> bool {
    let v = v.trim();
    let wrapped =
        |open: char, close: char| v.len() >= 2 && v.starts_with(open) && v.ends_with(close);
    v.is_empty()
        || wrapped('{', '}')
        || wrapped('[', ']')
        || wrapped('#', '#')
        || wrapped('%', '%')
        || v == "REPLACE"
        || v == "OPTIONAL"
}

/// Postback parameters by name. A name given twice keeps its first value, as trackers put the
/// real value first and appended macros later.
#[derive(Debug, Default, Clone)]
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut map = HashMap::new();
        for (k, v) in pairs {
            map.entry(k).or_insert(v);
        }
        Params(map)
    }

    /// Adds pairs whose names are not present yet.
    pub fn extend(&mut self, pairs: impl IntoIterator<Item = (String, String)>) {
        for (k, v) in pairs {
            self.0.entry(k).or_insert(v);
        }
    }

    /// A non-blank value, trimmed. Unfilled tracker macros (see [`is_unfilled`]) count as
    /// absent: networks send them when a value is unknown.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.raw(name).filter(|v| !is_unfilled(v))
    }

    /// The value as sent, trimmed, even when blank or an unfilled macro: tells a parameter
    /// that is present but unfilled from one that is truly absent.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim())
    }

    /// Every pair, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut pairs: Vec<_> = self
            .0
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        pairs.sort_unstable();
        pairs.into_iter()
    }

    /// The first of several alternative names that is present.
    pub fn first_of(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| self.get(n))
    }

    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.0.remove(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_escapes() {
        let pairs = parse_urlencoded(b"a=1+2&b=%C3%A9&c&&d=x%3Dy").unwrap();
        assert_eq!(
            pairs,
            vec![
                ("a".into(), "1 2".into()),
                ("b".into(), "é".into()),
                ("c".into(), "".into()),
                ("d".into(), "x=y".into())
            ]
        );
    }

    #[test]
    fn refuses_malformed_input() {
        for bad in [&b"a=%zz"[..], b"a=%4", b"a=%", b"a=%FF", b"a=\xff"] {
            let err = parse_urlencoded(bad).unwrap_err();
            assert!(!err.code.is_empty() && !err.detail.is_empty(), "{bad:?}");
        }
    }

    #[test]
    fn caps_the_number_of_parameters() {
        let many = "a=1&".repeat(MAX_PAIRS + 1);
        assert!(parse_urlencoded(many.as_bytes()).is_err());
    }

    #[test]
    fn unfilled_macros_are_absent_and_first_value_wins() {
        let p = Params::from_pairs([
            ("payout".to_owned(), "{payout}".to_owned()),
            ("txid".to_owned(), " t1 ".to_owned()),
            ("txid".to_owned(), "t2".to_owned()),
            ("cid".to_owned(), "REPLACE".to_owned()),
        ]);
        assert_eq!(p.get("payout"), None);
        assert_eq!(p.get("txid"), Some("t1"));
        assert_eq!(p.get("cid"), None);
        assert_eq!(p.raw("cid"), Some("REPLACE"));
        assert_eq!(p.raw("nope"), None);
        for unfilled in [
            "", " ", "{status}", "[cid]", "#status#", "%status%", "OPTIONAL",
        ] {
            assert!(is_unfilled(unfilled), "{unfilled:?}");
        }
        for filled in ["sale", "#", "%", "{", "100%", "#1"] {
            assert!(!is_unfilled(filled), "{filled:?}");
        }
        assert_eq!(p.first_of(&["nope", "txid"]), Some("t1"));
    }
}
