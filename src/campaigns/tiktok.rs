//! A campaign's TikTok settings as the admin API and the dashboard send them: the `tiktok`
//! object, parsed into changes and merged over what is stored.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{clearable, parse_test_event_code, parse_token, present, CampaignError};
use crate::domain::{AccessToken, EventMap, ParseError, SendWhen, TikTokPixelCode, TikTokSettings};

/// The `tiktok` object; absent fields are `None`, `test_event_code: null` clears the code.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TikTokInput {
    pub pixel_code: Option<String>,
    pub access_token: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub test_event_code: Option<Option<String>>,
    pub event_map: Option<BTreeMap<String, Option<String>>>,
    /// `always` or `platform_click`: when TikTok gets a conversion; `null`: the default.
    #[serde(default, deserialize_with = "present")]
    pub send_when: Option<Option<String>>,
}

/// The given TikTok fields, parsed; the token in clear (sealed by the service).
#[derive(Debug, Default, PartialEq)]
pub(super) struct TikTokChanges {
    pixel_code: Option<TikTokPixelCode>,
    pub(super) access_token: Option<AccessToken>,
    test_event_code: Option<Option<String>>,
    event_map: Option<EventMap>,
    send_when: Option<Option<SendWhen>>,
}

fn invalid(field: &'static str) -> impl Fn(ParseError) -> CampaignError {
    move |error| CampaignError::Invalid { field, error }
}

impl TikTokChanges {
    pub(super) fn parse(input: TikTokInput) -> Result<Self, CampaignError> {
        let pixel_code = input.pixel_code.as_deref();
        let token = input.access_token.as_deref();
        Ok(TikTokChanges {
            pixel_code: pixel_code
                .map(TikTokPixelCode::parse)
                .transpose()
                .map_err(invalid("tiktok.pixel_code"))?,
            access_token: token
                .map(parse_token)
                .transpose()
                .map_err(invalid("tiktok.access_token"))?,
            test_event_code: match input.test_event_code {
                Some(Some(t)) => {
                    Some(parse_test_event_code(&t).map_err(invalid("tiktok.test_event_code"))?)
                }
                Some(None) => Some(None),
                None => None,
            },
            event_map: input
                .event_map
                .map(EventMap::parse)
                .transpose()
                .map_err(invalid("tiktok.event_map"))?,
            send_when: clearable("tiktok.send_when", input.send_when, SendWhen::parse)?,
        })
    }

    /// The settings after this change. Without `current` (TikTok being added) the pixel code
    /// and the token are required and the map defaults to TikTok's standard events. `sealed`
    /// is the new token already sealed, when one was given.
    pub(super) fn apply(
        self,
        current: Option<TikTokSettings>,
        sealed: Option<AccessToken>,
    ) -> Result<TikTokSettings, CampaignError> {
        let mut s = match current {
            Some(s) => s,
            None => TikTokSettings {
                pixel_code: self
                    .pixel_code
                    .clone()
                    .ok_or(CampaignError::Missing("tiktok.pixel_code"))?,
                access_token: sealed
                    .clone()
                    .ok_or(CampaignError::Missing("tiktok.access_token"))?,
                test_event_code: None,
                event_map: EventMap::tiktok_default(),
                send_when: None,
            },
        };
        if let Some(code) = self.pixel_code {
            s.pixel_code = code;
        }
        if let Some(token) = sealed {
            s.access_token = token;
        }
        if let Some(code) = self.test_event_code {
            s.test_event_code = code;
        }
        if let Some(map) = self.event_map {
            s.event_map = map;
        }
        if let Some(rule) = self.send_when {
            s.send_when = rule;
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: serde_json::Value) -> Result<TikTokChanges, CampaignError> {
        TikTokChanges::parse(serde_json::from_value(v).expect("a TikTokInput"))
    }

    fn field(e: CampaignError) -> &'static str {
        match e {
            CampaignError::Missing(f) | CampaignError::Invalid { field: f, .. } => f,
            other => panic!("not a field fault: {other:?}"),
        }
    }

    #[test]
    fn each_bad_field_is_named_with_its_tiktok_prefix() {
        let cases = [
            (
                serde_json::json!({"pixel_code": "C4 AB"}),
                "tiktok.pixel_code",
            ),
            (
                serde_json::json!({"access_token": "short"}),
                "tiktok.access_token",
            ),
            (
                serde_json::json!({"test_event_code": "TEST-1"}),
                "tiktok.test_event_code",
            ),
            (
                serde_json::json!({"event_map": {"lead": ""}}),
                "tiktok.event_map",
            ),
        ];
        for (body, expected) in cases {
            let err = parse(body.clone()).expect_err(&body.to_string());
            assert_eq!(field(err), expected, "{body}");
        }
    }

    #[test]
    fn adding_tiktok_needs_pixel_code_and_token_and_defaults_the_map() {
        let token = || Some(AccessToken::new("sealed".into()));
        let only_code = parse(serde_json::json!({"pixel_code": "C4ABC"})).unwrap();
        assert_eq!(
            field(only_code.apply(None, None).unwrap_err()),
            "tiktok.access_token"
        );
        let only_token = parse(serde_json::json!({"access_token": "tok-0123456789"})).unwrap();
        assert_eq!(
            field(only_token.apply(None, token()).unwrap_err()),
            "tiktok.pixel_code"
        );
        let both =
            parse(serde_json::json!({"pixel_code": "C4ABC", "access_token": "tok-0123456789"}));
        let s = both.unwrap().apply(None, token()).unwrap();
        assert_eq!(s.pixel_code.as_str(), "C4ABC");
        assert_eq!(s.event_map, EventMap::tiktok_default());
        assert_eq!(s.test_event_code, None);
    }

    #[test]
    fn a_change_keeps_what_it_does_not_name() {
        let current = TikTokSettings {
            pixel_code: TikTokPixelCode::parse("C4OLD").unwrap(),
            access_token: AccessToken::new("old-sealed".into()),
            test_event_code: Some("TEST1".into()),
            event_map: EventMap::tiktok_default(),
            send_when: None,
        };
        let change = parse(serde_json::json!({"test_event_code": null})).unwrap();
        let s = change.apply(Some(current.clone()), None).unwrap();
        assert_eq!(s.test_event_code, None);
        assert_eq!(s.pixel_code, current.pixel_code);
        assert_eq!(s.access_token, current.access_token);
        let map = parse(serde_json::json!({"event_map": {"ftd": "CompletePayment"}})).unwrap();
        let s = map.apply(Some(current), None).unwrap();
        assert_eq!(
            s.event_map.get("ftd").unwrap().unwrap().as_str(),
            "CompletePayment"
        );
        assert_eq!(s.event_map.get("lead"), None, "a map replaces the map");
    }
}
