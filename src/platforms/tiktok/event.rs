//! One `data[]` element of a TikTok web-events request, built from values already hashed on
//! arrival (`shared/reference/tiktok-events.md`). Pure: no clock, no database.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::domain::Sha256Hash;

/// What one TikTok event says. Absent or blank values are left out of the event: TikTok counts
/// an empty string as a (useless) value.
#[derive(Debug, Clone, Default)]
pub struct TikTokEventInput<'a> {
    /// TikTok's event name (`CompletePayment`, `SubmitForm`...).
    pub event: &'a str,
    /// Unix seconds.
    pub event_time: i64,
    /// The id the TikTok pixel got for the same event, for deduplication.
    pub event_id: &'a str,
    pub ttclid: Option<&'a str>,
    /// The `_ttp` cookie.
    pub ttp: Option<&'a str>,
    pub email: Option<&'a Sha256Hash>,
    /// TikTok's phone digest ([`tiktok_phone_digest`]), not Meta's.
    pub phone: Option<&'a Sha256Hash>,
    pub external_id: Option<&'a Sha256Hash>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub page_url: Option<&'a str>,
    pub referrer: Option<&'a str>,
    pub value: Option<f64>,
    pub currency: Option<&'a str>,
}

pub fn tiktok_event(input: &TikTokEventInput<'_>) -> Value {
    let mut user = Map::new();
    put(&mut user, "ttclid", input.ttclid);
    put(&mut user, "ttp", input.ttp);
    put(&mut user, "email", input.email.map(Sha256Hash::as_str));
    put(&mut user, "phone", input.phone.map(Sha256Hash::as_str));
    put(
        &mut user,
        "external_id",
        input.external_id.map(Sha256Hash::as_str),
    );
    put(&mut user, "ip", input.ip);
    put(&mut user, "user_agent", input.user_agent);

    let mut page = Map::new();
    put(&mut page, "url", input.page_url);
    put(&mut page, "referrer", input.referrer);

    let mut properties = Map::new();
    // NaN or infinity would serialise as null: no value is better than a wrong one.
    if let Some(v) = input.value.filter(|v| v.is_finite()) {
        properties.insert("value".into(), json!(v));
    }
    put(&mut properties, "currency", input.currency);

    let mut event = Map::new();
    event.insert("event".into(), json!(input.event));
    event.insert("event_time".into(), json!(input.event_time));
    event.insert("event_id".into(), json!(input.event_id));
    for (key, object) in [("user", user), ("page", page), ("properties", properties)] {
        if !object.is_empty() {
            event.insert(key.into(), Value::Object(object));
        }
    }
    Value::Object(event)
}

fn put(object: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
        object.insert(key.into(), json!(v));
    }
}

/// TikTok's phone digest: SHA-256 hex of the number in E.164 *with* the leading `+`
/// (`+12133734253`), where Meta hashes the digits alone. Separators (spaces, `-`, `.`, parens)
/// are dropped and a leading `00` is read as `+`; the number must then start with a country
/// code (E.164 has none starting with 0) and have 7 to 15 digits. A value that already is a
/// SHA-256 digest is kept, lowercased. Anything else is `None`: no digest beats a wrong one.
pub fn tiktok_phone_digest(raw: &str) -> Option<Sha256Hash> {
    let s = raw.trim();
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        // `from_stored` is the only public way in for a digest; this one is checked just above.
        return Some(Sha256Hash::from_stored(s.to_ascii_lowercase()));
    }
    let rest = s.strip_prefix('+').unwrap_or(s);
    if !rest
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'))
    {
        return None;
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let digits = match digits.strip_prefix("00") {
        Some(d) if !s.starts_with('+') => d.to_owned(),
        _ => digits,
    };
    if !(7..=15).contains(&digits.len()) || digits.starts_with('0') {
        return None;
    }
    let e164 = format!("+{digits}");
    Some(Sha256Hash::from_stored(hex::encode(Sha256::digest(
        e164.as_bytes(),
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLUS_1_213: &str = "9f7ec22d72092cd3c0b58726ed9c2d91b92e51a3f29837508fb2948bb22dd2fd";
    const PLUS_49: &str = "536afd523e19dc83fccba822ef5e4ca646111314aaf0aa286667c5bea18dd70b";

    #[test]
    fn phone_digests_hash_e164_with_the_plus() {
        let table: [(&str, Option<&str>); 16] = [
            // The reference's example number, written the ways trackers send it.
            ("+12133734253", Some(PLUS_1_213)),
            ("12133734253", Some(PLUS_1_213)),
            (" +1 (213) 373-4253 ", Some(PLUS_1_213)),
            ("+1.213.373.4253", Some(PLUS_1_213)),
            ("0012133734253", Some(PLUS_1_213)),
            ("+49 151 12345678", Some(PLUS_49)),
            ("004915112345678", Some(PLUS_49)),
            // Already a digest: kept, lowercased.
            (
                "9F7EC22D72092CD3C0B58726ED9C2D91B92E51A3F29837508FB2948BB22DD2FD",
                Some(PLUS_1_213),
            ),
            ("", None),
            ("   ", None),
            ("not a phone", None),
            ("+1 213 373 4253 ext 5", None),
            ("0151 12345678", None),
            ("12345", None),
            ("+1234567890123456", None),
            ("1+2133734253", None),
        ];
        for (raw, want) in table {
            assert_eq!(
                tiktok_phone_digest(raw).as_ref().map(Sha256Hash::as_str),
                want,
                "{raw:?}"
            );
        }
    }

    #[test]
    fn the_digest_is_sha256_of_plus_digits() {
        let want = hex::encode(Sha256::digest(b"+12133734253"));
        assert_eq!(
            tiktok_phone_digest("+1 213 373 4253").unwrap().as_str(),
            want
        );
        assert_eq!(want, PLUS_1_213);
    }

    fn digest(c: char) -> Sha256Hash {
        Sha256Hash::from_stored(c.to_string().repeat(64))
    }

    #[test]
    fn a_full_event_carries_every_field_in_tiktoks_places() {
        let (email, phone, ext) = (digest('a'), digest('b'), digest('c'));
        let input = TikTokEventInput {
            event: "CompletePayment",
            event_time: 1_700_000_000,
            event_id: "sale-42",
            ttclid: Some("E.C.P.abc"),
            ttp: Some("ttp-cookie"),
            email: Some(&email),
            phone: Some(&phone),
            external_id: Some(&ext),
            ip: Some("203.0.113.7"),
            user_agent: Some("Mozilla/5.0"),
            page_url: Some("https://lander.example/p"),
            referrer: Some("https://tiktok.com/"),
            value: Some(12.5),
            currency: Some("USD"),
        };
        assert_eq!(
            tiktok_event(&input),
            json!({
                "event": "CompletePayment",
                "event_time": 1_700_000_000,
                "event_id": "sale-42",
                "user": {
                    "ttclid": "E.C.P.abc",
                    "ttp": "ttp-cookie",
                    "email": "a".repeat(64),
                    "phone": "b".repeat(64),
                    "external_id": "c".repeat(64),
                    "ip": "203.0.113.7",
                    "user_agent": "Mozilla/5.0",
                },
                "page": {"url": "https://lander.example/p", "referrer": "https://tiktok.com/"},
                "properties": {"value": 12.5, "currency": "USD"},
            })
        );
    }

    #[test]
    fn absent_and_blank_values_are_left_out() {
        let bare = TikTokEventInput {
            event: "SubmitForm",
            event_time: 1_700_000_000,
            event_id: "lead-1",
            ..TikTokEventInput::default()
        };
        assert_eq!(
            tiktok_event(&bare),
            json!({"event": "SubmitForm", "event_time": 1_700_000_000, "event_id": "lead-1"})
        );
        let blanks = TikTokEventInput {
            ttclid: Some(""),
            ttp: Some("  "),
            ip: Some(""),
            user_agent: Some(""),
            page_url: Some(""),
            referrer: Some(" "),
            value: Some(f64::NAN),
            currency: Some(""),
            ..bare.clone()
        };
        assert_eq!(tiktok_event(&blanks), tiktok_event(&bare));
        let some = TikTokEventInput {
            ttclid: Some("clk"),
            value: Some(0.0),
            page_url: Some("https://lp.example/"),
            ..bare
        };
        assert_eq!(
            tiktok_event(&some),
            json!({
                "event": "SubmitForm", "event_time": 1_700_000_000, "event_id": "lead-1",
                "user": {"ttclid": "clk"},
                "page": {"url": "https://lp.example/"},
                "properties": {"value": 0.0},
            })
        );
    }
}
