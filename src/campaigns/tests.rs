use serde_json::json;

use super::*;
use crate::domain::MetaSettings;

const TOKEN: &str = "EAAB-test-token";

fn input(v: serde_json::Value) -> CampaignInput {
    serde_json::from_value(v).expect("a CampaignInput")
}

/// The fault a body is refused for, as `(kind, field)`.
fn fault(e: CampaignError) -> (&'static str, &'static str) {
    match e {
        CampaignError::Missing(f) => ("missing", f),
        CampaignError::Invalid { field, .. } => ("invalid", field),
        other => panic!("not a field fault: {other:?}"),
    }
}

#[test]
fn create_and_update_refuse_the_same_fields_and_creation_needs_three() {
    use Mode::{Create, Update};
    let base = json!({"pixel_id": "123", "access_token": TOKEN});
    let with = |field: &str, v: serde_json::Value| {
        let mut b = base.clone();
        b[field] = v;
        b
    };
    // (body, mode, expected fault; None: accepted)
    let cases = [
        (base.clone(), Create, None),
        (json!({}), Update, None),
        (
            json!({"access_token": TOKEN}),
            Create,
            Some(("missing", "pixel_id")),
        ),
        (
            json!({"pixel_id": "1"}),
            Create,
            Some(("missing", "access_token")),
        ),
        // An invalid pixel is named before a missing token, as before the service.
        (
            json!({"pixel_id": "x"}),
            Create,
            Some(("invalid", "pixel_id")),
        ),
        (
            json!({"pixel_id": "12ab"}),
            Update,
            Some(("invalid", "pixel_id")),
        ),
        (
            with("access_token", json!("short")),
            Create,
            Some(("invalid", "access_token")),
        ),
        (
            json!({"access_token": "has space in it"}),
            Update,
            Some(("invalid", "access_token")),
        ),
        (
            with("name", json!("   ")),
            Create,
            Some(("invalid", "name")),
        ),
        (
            json!({"name": "a\u{7}b"}),
            Update,
            Some(("invalid", "name")),
        ),
        (
            json!({"test_event_code": "TEST 1"}),
            Update,
            Some(("invalid", "test_event_code")),
        ),
        (
            json!({"action_source": "web"}),
            Update,
            Some(("invalid", "action_source")),
        ),
        (
            json!({"event_map": {"lead": "Bad/Name"}}),
            Update,
            Some(("invalid", "event_map")),
        ),
        (
            json!({"currency": "XYZ"}),
            Update,
            Some(("invalid", "currency")),
        ),
        (
            json!({"value_source": true}),
            Update,
            Some(("invalid", "value_source")),
        ),
        (
            json!({"event_id_template": "{nope}"}),
            Update,
            Some(("invalid", "event_id_template")),
        ),
        (
            json!({"landing_url": "ftp://x"}),
            Update,
            Some(("invalid", "landing_url")),
        ),
        (
            with("currency", json!("US")),
            Create,
            Some(("invalid", "currency")),
        ),
        // Several faults: the first in the fixed order is named.
        (
            json!({"name": "", "currency": "no"}),
            Update,
            Some(("invalid", "name")),
        ),
    ];
    for (body, mode, want) in cases {
        let got = Changes::parse(input(body.clone()), mode).err().map(fault);
        assert_eq!(got, want, "{mode:?} {body}");
    }
}

#[test]
fn given_fields_overwrite_and_null_clears_the_optional_texts() {
    let mut f = CampaignFields {
        key: CampaignKey::parse("offer1").unwrap(),
        name: "Old".into(),
        meta: Some(MetaSettings {
            pixel_id: PixelId::parse("111").unwrap(),
            access_token: AccessToken::new("sealed".into()),
            send_when: None,
        }),
        test_event_code: Some("TEST1".into()),
        action_source: ActionSource::Website,
        event_map: EventMap::default(),
        currency: Currency::USD,
        value_source: ValueSource::Payout,
        event_id_template: EventIdTemplate::default(),
        landing_url: Some(HttpUrl::parse("https://example.com/").unwrap()),
        late_pixel_twin: Default::default(),
        require_consent: false,
        limited_data_use: false,
        enabled: true,
        tiktok: None,
        default_country: None,
        date_order: None,
    };
    let changes = Changes::parse(
        input(json!({
            "name": "  New ", "currency": "eur", "test_event_code": null,
            "landing_url": null, "enabled": false, "access_token": TOKEN
        })),
        Mode::Update,
    )
    .unwrap();
    assert_eq!(changes.access_token, Some(AccessToken::new(TOKEN.into())));
    changes.apply(&mut f);
    assert_eq!(f.name, "New");
    assert_eq!(f.currency, Currency::parse("EUR").unwrap());
    assert_eq!(f.test_event_code, None);
    assert_eq!(f.landing_url, None);
    assert!(!f.enabled);
    let meta = f.meta.as_ref().unwrap();
    assert_eq!(meta.pixel_id.as_str(), "111", "absent fields are kept");
    assert_eq!(
        meta.access_token.expose(),
        "sealed",
        "the token is sealed by the service"
    );

    let blank = Changes::parse(input(json!({"test_event_code": " "})), Mode::Update).unwrap();
    assert_eq!(blank.test_event_code, Some(None), "a blank code means none");
}
