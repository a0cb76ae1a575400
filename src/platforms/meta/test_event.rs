//! The synthetic event of `POST /admin/v1/campaigns/{key}/test-event`: built by the same
//! builder as real events, so what Meta's Test Events tool accepts is what delivery sends.

use chrono::{DateTime, Utc};

use super::event::{build_event, EventInput, MissingField, ServerEvent};
use crate::domain::Conversion;
use crate::domain::{Campaign, ConversionState, CustomerData, EventName};

/// Where the synthetic visitor seems to come from: the admin who asked for the test.
pub struct TestVisitor {
    pub ip: Option<String>,
    pub user_agent: String,
}

/// One event named `event_name`, timed `now`, with a fresh `test-` event id; the page URL is the
/// campaign's landing_url (Meta requires one for website events).
pub fn synthetic_event(
    campaign: &Campaign,
    event_name: &EventName,
    now: DateTime<Utc>,
    visitor: TestVisitor,
) -> Result<ServerEvent, MissingField> {
    let conversion = Conversion {
        id: 0,
        click_id: String::new(),
        click_row_id: None,
        click_ambiguous: false,
        campaign_id: Some(campaign.id),
        campaign_hint: None,
        tracker: "test".into(),
        raw_status: "test".into(),
        status: "test".into(),
        txid: String::new(),
        payout: None,
        currency: None,
        received_at: now,
        event_time: now,
        state: ConversionState::Unmatched,
        event_name: Some(event_name.as_str().to_owned()),
        failure_reason: None,
        ip: visitor.ip,
        user_agent: Some(visitor.user_agent),
        fbclid: None,
        event_source_url: None,
        params: None,
        customer: CustomerData::default(),
        ttclid: None,
        dropped: Default::default(),
        skipped: Vec::new(),
        action_source: None,
        import_id: None,
    };
    build_event(EventInput {
        campaign,
        click: None,
        conversion: &conversion,
        event_name: event_name.as_str(),
        event_id: format!("test-{}", uuid::Uuid::new_v4()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        AccessToken, ActionSource, CampaignKey, Currency, EventIdTemplate, EventMap, HttpUrl,
        MetaSettings, PixelId, ValueSource,
    };

    fn campaign(action_source: ActionSource, landing: Option<&str>) -> Campaign {
        Campaign {
            id: 7,
            key: CampaignKey::parse("offer").unwrap(),
            name: "Offer".into(),
            meta: Some(MetaSettings {
                pixel_id: PixelId::parse("123").unwrap(),
                access_token: AccessToken::new("token".into()),
                send_when: None,
            }),
            test_event_code: Some("TEST1".into()),
            action_source,
            event_map: EventMap::default(),
            currency: Currency::parse("EUR").unwrap(),
            value_source: ValueSource::Payout,
            event_id_template: EventIdTemplate::default(),
            landing_url: landing.map(|u| HttpUrl::parse(u).unwrap()),
            late_pixel_twin: Default::default(),
            require_consent: false,
            limited_data_use: false,
            enabled: true,
            tiktok: None,
            default_country: None,
            date_order: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn visitor() -> TestVisitor {
        TestVisitor {
            ip: Some("203.0.113.9".into()),
            user_agent: "curl/8".into(),
        }
    }

    #[test]
    fn website_event_has_what_meta_requires() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let c = campaign(ActionSource::Website, Some("https://lander.example/offer"));
        let lead = EventName::parse("Lead").unwrap();
        let e = synthetic_event(&c, &lead, now, visitor()).unwrap();
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["event_name"], "Lead");
        assert_eq!(v["event_time"], 1_700_000_000);
        assert_eq!(v["action_source"], "website");
        assert_eq!(v["event_source_url"], "https://lander.example/offer");
        assert_eq!(v["user_data"]["client_ip_address"], "203.0.113.9");
        assert_eq!(v["user_data"]["client_user_agent"], "curl/8");
        assert!(v["event_id"].as_str().unwrap().starts_with("test-"));
        assert!(v.get("custom_data").is_none(), "{v}");
        // Two tests are two events, not one deduplicated.
        let again = synthetic_event(&c, &lead, now, visitor()).unwrap();
        assert_ne!(again.event_id, e.event_id);
    }

    #[test]
    fn purchase_carries_value_and_currency() {
        let c = campaign(ActionSource::Website, Some("https://lander.example/"));
        let purchase = EventName::parse("Purchase").unwrap();
        let v =
            serde_json::to_value(synthetic_event(&c, &purchase, Utc::now(), visitor()).unwrap())
                .unwrap();
        assert_eq!(v["custom_data"]["value"], 0.0);
        assert_eq!(v["custom_data"]["currency"], "EUR");
    }

    #[test]
    fn website_without_landing_url_names_the_missing_field() {
        let c = campaign(ActionSource::Website, None);
        let lead = EventName::parse("Lead").unwrap();
        let err = synthetic_event(&c, &lead, Utc::now(), visitor()).unwrap_err();
        assert_eq!(err.field, "event_source_url");
        // Other sources need no page.
        let c = campaign(ActionSource::SystemGenerated, None);
        assert!(synthetic_event(&c, &lead, Utc::now(), visitor()).is_ok());
    }
}
