use std::collections::BTreeMap;

use super::caps::{
    CLICK_ID_MAX, COOKIE_MAX, FBCLID_MAX, PIXEL_EVENT_IDS_MAX, PIXEL_EVENT_ID_MAX, TIKTOK_ID_MAX,
    URL_MAX, USER_AGENT_MAX,
};
use super::{EventName, ParseError};

/// A tracker's click id (Keitaro subid, Binom clickid, BeMob cid...): 1-128 URL-safe characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct ClickId(String);

impl ClickId {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = (1..=CLICK_ID_MAX).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'));
        if ok {
            Ok(ClickId(s.to_owned()))
        } else {
            Err(ParseError::new(format!(
                "must be 1-{CLICK_ID_MAX} characters of A-Z a-z 0-9 . _ ~ -"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ClickId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An absolute http(s) URL, as Meta requires for `event_source_url`, without personal data in
/// its query: Meta restricts pixels and datasets whose URLs carry an email or a phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl(String);

impl HttpUrl {
    /// Parses and strips query parameters that hold an email or a phone number (the landing
    /// tag's rule, [`super::url_privacy`]).
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
        let scheme_ok = lower.starts_with("http://") || lower.starts_with("https://");
        if !scheme_ok || s.len() > URL_MAX || s.chars().any(char::is_control) || s.contains(' ') {
            return Err(ParseError::new(format!(
                "must be an absolute http:// or https:// URL of at most {URL_MAX} characters"
            )));
        }
        Ok(HttpUrl(super::url_privacy::without_personal_data(s)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A browser User-Agent header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAgent(String);

impl UserAgent {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.is_empty() || s.len() > USER_AGENT_MAX || s.chars().any(char::is_control) {
            return Err(ParseError::new(format!(
                "must be 1-{USER_AGENT_MAX} characters without control characters"
            )));
        }
        Ok(UserAgent(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An opaque identifier passed to a platform verbatim: `fbclid`, the `_fbc` and `_fbp` cookies,
/// TikTok's `ttclid` and `_ttp`. Never re-cased or encoded: Meta treats the fbclid as
/// case-sensitive, and its own server-side builders keep it byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieValue(String);

/// A [`CookieValue`] read from input, with whether sanitising removed anything.
pub struct Cleaned {
    pub value: CookieValue,
    pub changed: bool,
}

impl Cleaned {
    /// The value, reporting under `field` when sanitising removed something.
    pub fn reported(self, field: &str, report: &mut super::DropReport) -> CookieValue {
        if self.changed {
            report.push(
                field,
                "had surrounding spaces or control characters: removed, the rest kept as given",
            );
        }
        self.value
    }
}

impl CookieValue {
    /// `fbclid`, sanitised ([`super::sanitise_opaque`]), at most [`FBCLID_MAX`] characters.
    pub fn parse_fbclid(s: &str) -> Result<Cleaned, ParseError> {
        Self::parse_opaque(s, FBCLID_MAX)
    }

    /// TikTok's `ttclid` and `_ttp` cookie, sanitised, at most [`TIKTOK_ID_MAX`] characters.
    pub fn parse_tiktok_id(s: &str) -> Result<Cleaned, ParseError> {
        Self::parse_opaque(s, TIKTOK_ID_MAX)
    }

    /// `_fbc` / `_fbp` as Meta checks them: `fb.{subdomain index: one digit}.{creation time: 13
    /// digits of ms}.{value}`, plus the optional fifth segment Meta's parameter builder appends,
    /// kept byte for byte. Anything else would make Meta refuse the whole batch it rides in.
    pub fn parse_cookie(s: &str) -> Result<Cleaned, ParseError> {
        let cleaned = Self::parse_opaque(s, COOKIE_MAX)?;
        let v = cleaned.value.as_str();
        let parts: Vec<&str> = v.splitn(4, '.').collect();
        let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
        // A cookie holds printable ASCII without spaces (the tag percent-encodes the rest):
        // one rule with the tag's `validCookie` (tests/vectors/tag_cookies.json).
        let well_formed = v.bytes().all(|b| b.is_ascii_graphic())
            && parts.len() == 4
            && parts[0] == "fb"
            && digits(parts[1], 1)
            && digits(parts[2], 13)
            && parts[3].split('.').count() <= 2
            && parts[3].split('.').all(|p| !p.is_empty());
        if well_formed {
            Ok(cleaned)
        } else {
            Err(ParseError::new(
                "must look like fb.{digit}.{13-digit creation time ms}.{value}[.{appendix}]",
            ))
        }
    }

    fn parse_opaque(s: &str, max: usize) -> Result<Cleaned, ParseError> {
        let clean = super::sanitise_opaque(s);
        if clean.value.is_empty() {
            return Err(ParseError::new(
                "is empty once control characters are removed",
            ));
        }
        // Bytes, so that a cap bounds what is stored (real ids are ASCII: the same count).
        if clean.value.len() > max {
            return Err(ParseError::new(format!("is longer than {max} bytes")));
        }
        Ok(Cleaned {
            value: CookieValue(clean.value),
            changed: clean.changed,
        })
    }

    /// A value read back from our own database.
    pub fn from_stored(s: String) -> Self {
        CookieValue(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Meta event name -> the `eventID` the landing page gave the pixel for that event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventIds(BTreeMap<String, String>);

impl EventIds {
    pub fn parse(raw: BTreeMap<String, String>) -> Result<Self, ParseError> {
        if raw.len() > PIXEL_EVENT_IDS_MAX {
            return Err(ParseError::new(format!(
                "at most {PIXEL_EVENT_IDS_MAX} event ids"
            )));
        }
        let mut out = BTreeMap::new();
        for (name, id) in raw {
            let name = EventName::parse(&name)?;
            if id.is_empty()
                || id.len() > PIXEL_EVENT_ID_MAX
                || !id.bytes().all(|b| b.is_ascii_graphic())
            {
                return Err(ParseError::new(format!(
                    "event id for {} must be 1-{PIXEL_EVENT_ID_MAX} printable ASCII characters",
                    name.as_str()
                )));
            }
            out.insert(name.as_str().to_owned(), id);
        }
        Ok(EventIds(out))
    }

    /// Values read back from the database, which only ever holds parsed ids.
    pub fn from_stored(map: BTreeMap<String, String>) -> Self {
        EventIds(map)
    }

    pub fn get(&self, event_name: &str) -> Option<&str> {
        self.0.get(event_name).map(String::as_str)
    }

    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn click_id_accepts_tracker_ids_and_refuses_the_rest() {
        assert!(ClickId::parse("3b5fk2a0e1c9.x_y~z-1").is_ok());
        assert!(ClickId::parse(&"a".repeat(128)).is_ok());
        for bad in ["", "a b", "a/b", "ä", "a%20", &"a".repeat(129)] {
            assert!(ClickId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn cookies_must_have_meta_shape() {
        assert!(CookieValue::parse_cookie("fb.1.1596403881668.1116446470").is_ok());
        assert!(CookieValue::parse_cookie(
            "fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890"
        )
        .is_ok());
        // Meta's parameter builder appends a fifth segment: kept as is.
        let appended = "fb.1.1733165018542.IwAR0abc.AQ";
        assert_eq!(
            CookieValue::parse_cookie(appended).unwrap().value.as_str(),
            appended
        );
        for bad in [
            "",
            "fb.1.x.y",
            "fb.1.123",
            "xx.1.123.abc",
            "fb.1.123.a b",
            "fb.1.123.abc",
            "fb.12.1596403881668.abc",
            "fb.1.15964038816680.abc",
            "fb.1.1596403881668.",
            "fb.1.1596403881668.a.b.c",
            "fb.1.1596403881668.a..b",
            "garbage",
        ] {
            assert!(CookieValue::parse_cookie(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn opaque_ids_are_kept_as_given_but_control_characters() {
        for (raw, kept, changed) in [
            ("IwAR1abc", "IwAR1abc", false),
            ("IwAR abc", "IwAR abc", false),
            ("IwAR✓ü", "IwAR✓ü", false),
            (" IwAR1abc\r\n", "IwAR1abc", true),
        ] {
            let c = CookieValue::parse_fbclid(raw).unwrap();
            assert_eq!((c.value.as_str(), c.changed), (kept, changed), "{raw:?}");
        }
        let long = "A".repeat(600);
        assert_eq!(
            CookieValue::parse_fbclid(&long).unwrap().value.as_str(),
            long
        );
        assert!(CookieValue::parse_fbclid(&"A".repeat(FBCLID_MAX + 1)).is_err());
        assert!(CookieValue::parse_fbclid("\u{0}").is_err());
        let fbc = format!("fb.1.1596403881668.{long}");
        assert!(CookieValue::parse_cookie(&fbc).is_ok());
    }

    #[test]
    fn urls_must_be_http() {
        assert!(HttpUrl::parse("https://example.com/lp?a=1").is_ok());
        assert!(HttpUrl::parse("HTTP://EXAMPLE.COM").is_ok());
        for bad in [
            "javascript:alert(1)",
            "example.com",
            "https://a b",
            "ftp://x",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn event_ids_are_keyed_by_valid_event_names() {
        let ok = EventIds::parse([("Lead".to_owned(), "ev-1".to_owned())].into()).unwrap();
        assert_eq!(ok.get("Lead"), Some("ev-1"));
        assert!(EventIds::parse([("Lead".to_owned(), "".to_owned())].into()).is_err());
        assert!(EventIds::parse([("".to_owned(), "x".to_owned())].into()).is_err());
    }
}
