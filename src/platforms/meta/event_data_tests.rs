//! `build_event`'s user data: the click's and the postback's match keys, and what a
//! conversion without a click sends.

use super::*;

#[test]
fn click_values_win_over_postback_values() {
    let conv = Conversion {
        ip: Some("198.51.100.4".into()),
        user_agent: Some(POSTBACK_UA.into()),
        fbclid: Some("IwAR_PostbackFbclid".into()),
        customer: customer(&[(
            CustomerField::Em,
            &hash(CustomerField::Em, "other@example.com"),
        )]),
        ..conversion()
    };
    let event = ok(&campaign(), Some(&click()), &conv, "Lead");
    assert_eq!(
        event.user_data.client_ip_address.as_deref(),
        Some("203.0.113.7")
    );
    assert_eq!(event.user_data.client_user_agent.as_deref(), Some(CLICK_UA));
    assert_eq!(
        event.user_data.fbc,
        Some(format!("fb.1.{FIRST_SEEN_MS}.IwAR_ClickFbclid"))
    );
    assert_eq!(
        event.user_data.hashed.get("em"),
        Some(&vec![EM_JOHN.to_owned()])
    );
    assert_eq!(event.user_data.hashed.len(), 1);
}

#[test]
fn postback_data_fills_what_the_click_lacks() {
    let conv = Conversion {
        ip: Some("198.51.100.4".into()),
        user_agent: Some(POSTBACK_UA.into()),
        customer: customer(&[
            (
                CustomerField::Em,
                &hash(CustomerField::Em, "other@example.com"),
            ),
            (CustomerField::Ph, PH_US),
            (CustomerField::Fn, FN_MARY),
            (
                CustomerField::ExternalId,
                &hash(CustomerField::ExternalId, "user-42"),
            ),
        ]),
        ..conversion()
    };
    // The click has an email but no address, no user agent and no other customer data.
    let click = Click {
        client_ip_address: None,
        client_user_agent: None,
        ..click()
    };
    let event = ok(&campaign(), Some(&click), &conv, "Lead");
    let user = serde_json::to_value(&event.user_data).unwrap();
    assert_eq!(
        user,
        json!({
            "client_ip_address": "198.51.100.4",
            "client_user_agent": POSTBACK_UA,
            "fbc": format!("fb.1.{FIRST_SEEN_MS}.IwAR_ClickFbclid"),
            "fbp": "fb.1.1596403881668.1116446470",
            "em": [EM_JOHN],
            "ph": [PH_US],
            "fn": [FN_MARY],
            "external_id": [hash(CustomerField::ExternalId, "user-42")],
        })
    );
}

#[test]
fn without_a_click_the_postback_data_is_all_there_is() {
    let conv = Conversion {
        ip: Some("198.51.100.4".into()),
        user_agent: Some(POSTBACK_UA.into()),
        customer: customer(&[(CustomerField::Em, EM_JOHN)]),
        payout: Some(3.0),
        txid: "G1".into(),
        event_source_url: Some("https://shop.example.com/thanks".into()),
        ..conversion()
    };
    let event = ok(&campaign(), None, &conv, "Lead");
    assert_eq!(
        serde_json::to_value(&event).unwrap(),
        json!({
            "event_name": "Lead",
            "event_time": CONVERSION_SECS,
            "event_id": "Lead-clk1",
            "action_source": "website",
            "event_source_url": "https://shop.example.com/thanks",
            "user_data": {
                "client_ip_address": "198.51.100.4",
                "client_user_agent": POSTBACK_UA,
                "em": [EM_JOHN],
            },
            "custom_data": {"value": 3.0, "currency": "USD", "order_id": "G1"},
        })
    );
}

#[test]
fn limited_data_use_campaigns_send_ldu_with_country_and_state_zero() {
    let c = Campaign {
        limited_data_use: true,
        ..campaign()
    };
    let event = ok(&c, Some(&click()), &conversion(), "Lead");
    assert_eq!(event.data_processing_options, Some(vec!["LDU"]));
    assert_eq!(event.data_processing_options_country, Some(0));
    assert_eq!(event.data_processing_options_state, Some(0));
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(json["data_processing_options"], json!(["LDU"]));
    assert_eq!(json["data_processing_options_country"], json!(0));
    assert_eq!(json["data_processing_options_state"], json!(0));

    let event = ok(&campaign(), Some(&click()), &conversion(), "Lead");
    let json = serde_json::to_value(&event).unwrap();
    for key in [
        "data_processing_options",
        "data_processing_options_country",
        "data_processing_options_state",
    ] {
        assert!(json.get(key).is_none(), "{key} sent without LDU: {json}");
    }
}

#[test]
fn without_a_click_the_postbacks_fbclid_is_sent_as_fbc_at_the_event_time() {
    // A direct link or a blocked tag: only the postback carries the fbclid (cases in fbc.rs).
    let conv = Conversion {
        fbclid: Some("IwAR_PostbackFbclid".into()),
        user_agent: Some(POSTBACK_UA.into()),
        event_time: Utc
            .timestamp_millis_opt(CONVERSION_SECS * 1000 + 640)
            .unwrap(),
        ..conversion()
    };
    let event = ok(&landing(), None, &conv, "Lead");
    assert_eq!(event.event_time, CONVERSION_SECS);
    assert_eq!(
        event.user_data.fbc,
        Some(format!("fb.1.{}000.IwAR_PostbackFbclid", CONVERSION_SECS))
    );
    assert_eq!(event.user_data.fbp, None);
}

#[test]
fn same_second_click_and_postback_build_an_fbc_no_later_than_the_event() {
    let conv = Conversion {
        event_time: Utc.timestamp_millis_opt(FIRST_SEEN_MS + 500).unwrap(),
        ..conversion()
    };
    let event = ok(&campaign(), Some(&click()), &conv, "Lead");
    assert_eq!(event.event_time, FIRST_SEEN_MS / 1000);
    assert_eq!(
        event.user_data.fbc,
        Some(format!(
            "fb.1.{}.IwAR_ClickFbclid",
            FIRST_SEEN_MS / 1000 * 1000
        ))
    );
}

#[test]
fn a_nonpublic_address_is_never_sent() {
    let cases = [
        (
            Some("127.0.0.1"),
            Some("198.51.100.4"),
            Some("198.51.100.4"),
        ),
        (Some("10.0.0.2"), None, None),
        (None, Some("192.168.1.20"), None),
        (Some("::1"), Some("fc00::1"), None),
        (Some("203.0.113.7"), Some("10.0.0.2"), Some("203.0.113.7")),
    ];
    for (click_ip, postback_ip, sent) in cases {
        let click = Click {
            client_ip_address: click_ip.map(str::to_owned),
            ..click()
        };
        let conv = Conversion {
            ip: postback_ip.map(str::to_owned),
            ..conversion()
        };
        let event = ok(&campaign(), Some(&click), &conv, "Lead");
        assert_eq!(
            event.user_data.client_ip_address.as_deref(),
            sent,
            "{click_ip:?} {postback_ip:?}"
        );
    }
}

#[test]
fn event_time_is_the_conversions_and_urls_come_from_the_click() {
    let when = Utc.timestamp_opt(1_700_001_234, 0).unwrap();
    let conv = Conversion {
        event_time: when,
        ..conversion()
    };
    let event = ok(&campaign(), Some(&click()), &conv, "Lead");
    assert_eq!(event.event_time, 1_700_001_234);
    assert_eq!(event.event_id, "Lead-clk1");
    assert_eq!(event.event_name, "Lead");
    assert_eq!(
        event.event_source_url.as_deref(),
        Some("https://lp.example.com/offer?utm_source=fb")
    );
    assert_eq!(
        event.referrer_url.as_deref(),
        Some("https://l.facebook.com/")
    );

    let bare = Click {
        client_user_agent: Some(CLICK_UA.into()),
        ..bare_click()
    };
    let json = serde_json::to_value(ok(&landing(), Some(&bare), &conv, "Lead")).unwrap();
    assert_eq!(json["event_source_url"], "https://lp.example.com/landing");
    assert!(json.get("referrer_url").is_none(), "{json}");
}

fn landing() -> Campaign {
    Campaign {
        landing_url: Some(HttpUrl::parse("https://lp.example.com/landing").unwrap()),
        ..campaign()
    }
}

#[test]
fn a_website_event_without_any_page_url_is_a_missing_field() {
    let bare = Click {
        client_user_agent: Some(CLICK_UA.into()),
        ..bare_click()
    };
    let err = build(&campaign(), Some(&bare), &conversion(), "Lead").unwrap_err();
    assert_eq!(
        (err.field, err.action_source),
        ("event_source_url", "website")
    );
    assert!(err.to_string().contains("landing_url"), "{err}");
    // Without a click, the postback's url, else the campaign's landing page.
    let conv = Conversion {
        user_agent: Some(POSTBACK_UA.into()),
        ..conversion()
    };
    assert_eq!(
        build(&campaign(), None, &conv, "Lead").unwrap_err().field,
        "event_source_url"
    );
    let event = ok(&landing(), None, &conv, "Lead");
    assert_eq!(
        event.event_source_url.as_deref(),
        Some("https://lp.example.com/landing")
    );
    let with_url = Conversion {
        event_source_url: Some("https://shop.example.com/thanks".into()),
        ..conv
    };
    let event = ok(&landing(), None, &with_url, "Lead");
    assert_eq!(
        event.event_source_url.as_deref(),
        Some("https://shop.example.com/thanks")
    );
    // The click's own page comes first.
    let event = ok(&landing(), Some(&click()), &with_url, "Lead");
    assert_eq!(
        event.event_source_url.as_deref(),
        Some("https://lp.example.com/offer?utm_source=fb")
    );
    // Other action sources need no page.
    let c = Campaign {
        action_source: ActionSource::SystemGenerated,
        ..campaign()
    };
    assert_eq!(
        ok(&c, Some(&bare), &conversion(), "Lead").event_source_url,
        None
    );
}
