//! The form's values as the admin API would get them.

use super::*;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn reads_map_rows_in_order_and_checkboxes_by_presence() {
    let v = FormValues::from_pairs(&pairs(&[
        ("status_1", "sale"),
        ("event_1", "Purchase"),
        ("status_0", " lead "),
        ("event_0", ""),
        ("status_2", ""),
        ("event_2", ""),
        ("enabled", "on"),
        ("status_x", "ignored"),
    ]));
    assert_eq!(
        v.rows,
        vec![
            ("lead".to_owned(), String::new()),
            ("sale".to_owned(), "Purchase".to_owned()),
        ],
        "the blank row is the editor's own, not kept: shown again, the form adds one"
    );
    assert!(v.enabled && !v.require_consent && !v.limited_data_use);
    let input = v.to_input("", "", Mode::Create).unwrap();
    let map = input.event_map.unwrap();
    assert_eq!(map.len(), 2);
    assert_eq!(map["lead"], None);
    assert_eq!(map["sale"].as_deref(), Some("Purchase"));
    assert_eq!(input.access_token, None, "empty keeps the token");
    assert_eq!(input.key, Some(String::new()), "create sends the key");
    assert_eq!(input.test_event_code, Some(None), "empty clears the code");
}

#[test]
fn value_source_choices() {
    let cases = [
        ("payout", "", Ok(Value::from("payout"))),
        ("none", "3", Ok(Value::from("none"))),
        ("fixed", "12.5", Ok(Value::from(12.5))),
        ("fixed", "abc", Err("value_source")),
        ("fixed", "inf", Err("value_source")),
    ];
    for (source, fixed, want) in cases {
        let v = FormValues {
            value_source: source.to_owned(),
            value_fixed: fixed.to_owned(),
            ..FormValues::new_campaign()
        };
        let got = v
            .to_input("token-0123456789", "", Mode::Create)
            .map(|i| i.value_source.unwrap())
            .map_err(|e| e.field);
        assert_eq!(got, want, "{source} {fixed}");
    }
}

#[test]
fn meta_stays_empty_when_not_typed_and_cannot_be_emptied_once_set() {
    let v = FormValues {
        key: "tt".to_owned(),
        tiktok: TikTokValues {
            pixel_code: "C4ABC".to_owned(),
            ..TikTokValues::from_settings(None)
        },
        ..FormValues::new_campaign()
    };
    let input = v.to_input("", "tok-0123456789", Mode::Create).unwrap();
    assert_eq!((input.pixel_id, input.access_token), (None, None));
    assert!(matches!(input.tiktok, Some(Some(_))));
    let edit = |meta| Mode::Edit {
        key: "tt",
        meta,
        tiktok: false,
    };
    let without = v.to_input("", "", edit(false)).unwrap();
    assert_eq!(without.pixel_id, None, "a campaign without Meta stays so");
    assert_eq!(without.key, None, "edit sends no key");
    let err = v.to_input("", "", edit(true)).unwrap_err();
    assert_eq!(err.field, "pixel_id");
}

/// A refusal names the field by its label on the form, with the platform when it has one.
#[test]
fn refusals_name_the_fields_label_not_its_id() {
    use crate::domain::ParseError;
    let cases = [
        (
            CampaignError::Missing("access_token"),
            "access_token",
            "Meta access token is required",
        ),
        (
            CampaignError::Missing("tiktok.pixel_code"),
            "tiktok.pixel_code",
            "TikTok pixel code is required",
        ),
        (
            CampaignError::Invalid {
                field: "currency",
                error: ParseError::new("must be ISO 4217"),
            },
            "currency",
            "Currency: must be ISO 4217",
        ),
        (
            CampaignError::Invalid {
                field: "tiktok.event_map",
                error: ParseError::new("bad"),
            },
            "tiktok.event_map",
            "TikTok event map: bad",
        ),
        (
            CampaignError::Exists,
            "key",
            "a campaign with this key already exists",
        ),
    ];
    for (e, field, message) in cases {
        let got = FormError::from_campaign(&e);
        assert_eq!((got.field, got.message.as_str()), (field, message));
    }
    let none = FormError::from_campaign(&CampaignError::NoPlatform).message;
    assert!(
        none.contains("Meta pixel id") && none.contains("TikTok access token"),
        "{none}"
    );
    assert!(!none.contains("pixel_id"), "{none}");
    let v = FormValues {
        value_source: "fixed".to_owned(),
        value_fixed: "x".to_owned(),
        ..FormValues::new_campaign()
    };
    let e = v.to_input("", "", Mode::Create).unwrap_err();
    assert!(e.message.starts_with("Event value: "), "{}", e.message);
}
