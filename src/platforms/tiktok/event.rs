//! One `data[]` element of a TikTok web-events request, built from values already hashed on
//! arrival (`docs/reference/tiktok-events.md`). Pure: no clock, no database.

use serde_json::{json, Map, Value};

use crate::domain::{CustomerField, Sha256Hash};
use crate::platforms::address::visitor_ip;
use crate::platforms::EventSource;

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
    /// TikTok's phone digest (stored on arrival, `crate::domain::tiktok_phone`), not Meta's.
    pub phone: Option<&'a Sha256Hash>,
    /// TikTok's digest of the id as given, else Meta's (lowercased; or a digest passed through).
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

/// The TikTok event of a conversion joined with its click (when registered): the click's
/// values first, the postback's where the click has none, the campaign's landing page last.
pub fn conversion_event(source: &EventSource<'_>) -> Value {
    let EventSource {
        campaign,
        click,
        conversion: conv,
        event_name: event,
        event_id,
    } = *source;
    let customer = match click {
        Some(c) => c.customer.clone().or(&conv.customer),
        None => conv.customer.clone(),
    };
    // TikTok's purchase event, under its current and its pre-2025 name.
    let purchase = matches!(event, "Purchase" | "CompletePayment");
    let value = campaign.event_value(conv, purchase);
    let landing = campaign.landing_url.as_ref().map(|u| u.as_str());
    fn or<'a>(a: Option<&'a String>, b: Option<&'a String>) -> Option<&'a str> {
        a.or(b).map(String::as_str)
    }
    tiktok_event(&TikTokEventInput {
        event,
        event_time: conv.event_time.timestamp(),
        event_id,
        ttclid: or(click.and_then(|c| c.ttclid.as_ref()), conv.ttclid.as_ref()),
        ttp: click.and_then(|c| c.ttp.as_deref()),
        email: customer.get(CustomerField::Em),
        phone: customer.tiktok_ph(),
        external_id: customer
            .tiktok_external_id()
            .or(customer.get(CustomerField::ExternalId)),
        ip: visitor_ip(
            click.and_then(|c| c.client_ip_address.as_deref()),
            conv.ip.as_deref(),
        ),
        user_agent: or(
            click.and_then(|c| c.client_user_agent.as_ref()),
            conv.user_agent.as_ref(),
        ),
        page_url: or(
            click.and_then(|c| c.event_source_url.as_ref()),
            conv.event_source_url.as_ref(),
        )
        .or(landing),
        referrer: click.and_then(|c| c.referrer_url.as_deref()),
        value: value.as_ref().map(|(v, _)| *v),
        currency: value.as_ref().map(|(_, c)| c.as_str()),
    })
}

fn put(object: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
        object.insert(key.into(), json!(v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_nonpublic_address_is_never_sent() {
        use crate::domain::fixtures::{bare_click, campaign, conversion};
        use crate::domain::{Click, Conversion};
        // (click's address, postback's ip, sent)
        let cases = [
            (Some("127.0.0.1"), None, None),
            (Some("10.1.2.3"), Some("198.51.100.4"), Some("198.51.100.4")),
            (None, Some("172.16.5.4"), None),
            (Some("fe80::1"), Some("::ffff:192.168.0.1"), None),
            (Some("203.0.113.7"), Some("10.0.0.2"), Some("203.0.113.7")),
            (None, Some("2001:db8::7"), Some("2001:db8::7")),
        ];
        for (click_ip, postback_ip, sent) in cases {
            let click = Click {
                client_ip_address: click_ip.map(str::to_owned),
                ..bare_click()
            };
            let conv = Conversion {
                ip: postback_ip.map(str::to_owned),
                ..conversion()
            };
            let event = conversion_event(&EventSource {
                campaign: &campaign(),
                click: Some(&click),
                conversion: &conv,
                event_name: "SubmitForm",
                event_id: "lead-1",
            });
            assert_eq!(
                event.pointer("/user/ip").and_then(Value::as_str),
                sent,
                "{click_ip:?} {postback_ip:?}"
            );
        }
    }
}
