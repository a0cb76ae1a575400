//! `build_event` from hand-built campaigns, clicks and conversions: no database involved.

use chrono::{TimeZone, Utc};
use serde_json::json;

use super::*;
use crate::domain::fixtures::{bare_click, campaign, conversion, CONVERSION_SECS, FIRST_SEEN_MS};
use crate::domain::{Currency, CustomerField, HttpUrl, Sha256Hash, ValueSource};

const CLICK_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148";
const POSTBACK_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Network/1.0";
/// `John_Smith@gmail.com`, Meta's published vector.
const EM_JOHN: &str = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";
/// `+1 (650) 555-1212`, Meta's published vector.
const PH_US: &str = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176";
/// `Mary`, Meta's published vector.
const FN_MARY: &str = "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec";

fn hash(field: CustomerField, raw: &str) -> String {
    field
        .hash(raw, &crate::domain::Region::default())
        .unwrap()
        .unwrap()
        .as_str()
        .to_owned()
}

/// Customer data from stored digests.
fn customer(digests: &[(CustomerField, &str)]) -> CustomerData {
    let mut data = CustomerData::default();
    for (field, digest) in digests {
        data.set(*field, Some(Sha256Hash::from_stored((*digest).to_owned())));
    }
    data
}

/// A click as a landing page registers it.
fn click() -> Click {
    Click {
        fbclid: Some("IwAR_ClickFbclid".into()),
        fbp: Some("fb.1.1596403881668.1116446470".into()),
        event_source_url: Some("https://lp.example.com/offer?utm_source=fb".into()),
        referrer_url: Some("https://l.facebook.com/".into()),
        client_ip_address: Some("203.0.113.7".into()),
        client_user_agent: Some(CLICK_UA.into()),
        customer: customer(&[(CustomerField::Em, EM_JOHN)]),
        ..bare_click()
    }
}

fn build(
    campaign: &Campaign,
    click: Option<&Click>,
    conversion: &Conversion,
    event_name: &str,
) -> Result<ServerEvent, MissingField> {
    build_event(EventInput {
        campaign,
        click,
        conversion,
        event_name,
        event_id: format!("{event_name}-{}", conversion.click_id),
    })
}

fn ok(
    campaign: &Campaign,
    click: Option<&Click>,
    conversion: &Conversion,
    event_name: &str,
) -> ServerEvent {
    build(campaign, click, conversion, event_name).expect("event builds")
}

fn custom(
    value: Option<f64>,
    currency: Option<&str>,
    order_id: Option<&str>,
) -> Option<CustomData> {
    Some(CustomData {
        value,
        currency: currency.map(str::to_owned),
        order_id: order_id.map(str::to_owned),
    })
}

#[test]
fn a_click_and_a_postback_serialise_to_the_exact_server_event() {
    let conv = Conversion {
        payout: Some(12.5),
        currency: Some("EUR".into()),
        txid: "T1".into(),
        raw_status: "lead".into(),
        status: "lead".into(),
        ..conversion()
    };
    let event = ok(&campaign(), Some(&click()), &conv, "Lead");
    assert_eq!(
        serde_json::to_value(&event).unwrap(),
        json!({
            "event_name": "Lead",
            "event_time": CONVERSION_SECS,
            "event_id": "Lead-clk1",
            "action_source": "website",
            "event_source_url": "https://lp.example.com/offer?utm_source=fb",
            "referrer_url": "https://l.facebook.com/",
            "user_data": {
                "client_ip_address": "203.0.113.7",
                "client_user_agent": CLICK_UA,
                "fbc": format!("fb.1.{FIRST_SEEN_MS}.IwAR_ClickFbclid"),
                "fbp": "fb.1.1596403881668.1116446470",
                "em": [EM_JOHN],
            },
            "custom_data": {"value": 12.5, "currency": "EUR", "order_id": "T1"},
        })
    );
}

#[test]
fn value_source_payout_sends_the_payout_with_the_postbacks_currency() {
    let conv = Conversion {
        payout: Some(7.25),
        currency: Some("GBP".into()),
        ..conversion()
    };
    let event = ok(&campaign(), Some(&click()), &conv, "Purchase");
    assert_eq!(event.custom_data, custom(Some(7.25), Some("GBP"), None));
}

#[test]
fn value_source_payout_falls_back_to_the_campaign_currency() {
    let c = Campaign {
        currency: Currency::parse("EUR").unwrap(),
        ..campaign()
    };
    let conv = Conversion {
        payout: Some(3.0),
        ..conversion()
    };
    let event = ok(&c, Some(&click()), &conv, "Lead");
    assert_eq!(event.custom_data, custom(Some(3.0), Some("EUR"), None));
}

#[test]
fn value_source_none_sends_no_value() {
    let c = Campaign {
        value_source: ValueSource::None,
        ..campaign()
    };
    let conv = Conversion {
        payout: Some(40.0),
        currency: Some("EUR".into()),
        ..conversion()
    };
    let event = ok(&c, Some(&click()), &conv, "Lead");
    assert_eq!(event.custom_data, None);
    let json = serde_json::to_value(&event).unwrap();
    assert!(json.get("custom_data").is_none(), "{json}");

    // With a transaction id only the order id goes out.
    let conv = Conversion {
        txid: "T5".into(),
        ..conv
    };
    let event = ok(&c, Some(&click()), &conv, "Lead");
    assert_eq!(event.custom_data, custom(None, None, Some("T5")));

    // A Purchase still needs a value and a currency.
    let event = ok(&c, Some(&click()), &conv, "Purchase");
    assert_eq!(
        event.custom_data,
        custom(Some(0.0), Some("EUR"), Some("T5"))
    );
}

#[test]
fn value_source_fixed_replaces_the_payout() {
    let c = Campaign {
        value_source: ValueSource::Fixed(25.0),
        ..campaign()
    };
    let conv = Conversion {
        payout: Some(3.0),
        ..conversion()
    };
    let event = ok(&c, Some(&click()), &conv, "Lead");
    assert_eq!(event.custom_data, custom(Some(25.0), Some("USD"), None));
    // Also without any payout.
    let event = ok(&c, Some(&click()), &conversion(), "Lead");
    assert_eq!(event.custom_data, custom(Some(25.0), Some("USD"), None));
}

#[test]
fn a_purchase_without_payout_gets_value_zero_and_a_currency() {
    let event = ok(&campaign(), Some(&click()), &conversion(), "Purchase");
    assert_eq!(event.custom_data, custom(Some(0.0), Some("USD"), None));
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(
        json["custom_data"],
        json!({"value": 0.0, "currency": "USD"})
    );

    let conv = Conversion {
        currency: Some("EUR".into()),
        txid: "T2".into(),
        ..conversion()
    };
    let event = ok(&campaign(), Some(&click()), &conv, "Purchase");
    assert_eq!(
        event.custom_data,
        custom(Some(0.0), Some("EUR"), Some("T2"))
    );
}

#[test]
fn a_lead_without_payout_or_txid_has_no_custom_data() {
    let event = ok(&campaign(), Some(&click()), &conversion(), "Lead");
    assert_eq!(event.custom_data, None);
}

#[test]
fn a_negative_payout_is_omitted() {
    let conv = Conversion {
        payout: Some(-5.0),
        currency: Some("EUR".into()),
        ..conversion()
    };
    let event = ok(&campaign(), Some(&click()), &conv, "Lead");
    assert_eq!(event.custom_data, None);

    let conv = Conversion {
        txid: "T3".into(),
        ..conv
    };
    let event = ok(&campaign(), Some(&click()), &conv, "Lead");
    assert_eq!(event.custom_data, custom(None, None, Some("T3")));
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(json["custom_data"], json!({"order_id": "T3"}));
}

#[test]
fn a_zero_payout_is_no_value_except_on_a_purchase() {
    // Trackers send payout=0 when the network reported none: a Lead is sent without a value.
    let conv = Conversion {
        payout: Some(0.0),
        ..conversion()
    };
    let event = ok(&campaign(), Some(&click()), &conv, "Lead");
    assert_eq!(event.custom_data, None);
    let json = serde_json::to_value(&event).unwrap();
    assert!(json.get("custom_data").is_none(), "{json}");
    // Meta refuses a Purchase without a value: 0 it is.
    let event = ok(&campaign(), Some(&click()), &conv, "Purchase");
    assert_eq!(event.custom_data, custom(Some(0.0), Some("USD"), None));
}

#[test]
fn a_website_event_without_a_user_agent_is_a_missing_field() {
    let click = Click {
        client_user_agent: None,
        ..click()
    };
    let err = build(&campaign(), Some(&click), &conversion(), "Lead").unwrap_err();
    assert_eq!(
        (err.field, err.action_source),
        ("client_user_agent", "website")
    );
    assert!(err.to_string().contains("client_user_agent"), "{err}");

    // Without a click at all, too.
    let err = build(&campaign(), None, &conversion(), "Lead").unwrap_err();
    assert_eq!(err.field, "client_user_agent");

    // The postback's user agent is enough.
    let conv = Conversion {
        user_agent: Some(POSTBACK_UA.into()),
        ..conversion()
    };
    let event = ok(&campaign(), Some(&click), &conv, "Lead");
    assert_eq!(
        event.user_data.client_user_agent.as_deref(),
        Some(POSTBACK_UA)
    );
}

#[test]
fn other_action_sources_do_not_need_a_user_agent() {
    let c = Campaign {
        action_source: ActionSource::SystemGenerated,
        ..campaign()
    };
    let event = ok(&c, None, &conversion(), "Lead");
    assert_eq!(event.action_source, ActionSource::SystemGenerated);
    assert_eq!(event.event_source_url, None);
    assert_eq!(event.user_data.client_user_agent, None);
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(json["action_source"], "system_generated");
    assert_eq!(json["user_data"], json!({}));
}

/// Which side's match keys win when the click and the postback both carry them, and what a
/// conversion without a click sends.
#[path = "event_data_tests.rs"]
mod data;
