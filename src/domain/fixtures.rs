//! Hand-built records for unit tests: a Meta campaign, a bare click and a bare conversion that
//! tests change field by field. No database involved.

use chrono::{TimeZone, Utc};

use super::*;

/// 2023-11-14T22:13:20.123Z: the click's first-seen time, with milliseconds that matter.
pub const FIRST_SEEN_MS: i64 = 1_700_000_000_123;
/// The conversion time, an hour and a bit later.
pub const CONVERSION_SECS: i64 = 1_700_003_700;

pub fn campaign() -> Campaign {
    let t = Utc.timestamp_opt(1_690_000_000, 0).unwrap();
    Campaign {
        id: 7,
        key: CampaignKey::parse("offer1").unwrap(),
        name: "Offer 1".into(),
        meta: Some(MetaSettings {
            pixel_id: PixelId::parse("1234567890").unwrap(),
            access_token: AccessToken::new("EAAunit-test-token".into()),
            send_when: None,
        }),
        test_event_code: None,
        action_source: ActionSource::Website,
        event_map: EventMap::default(),
        currency: Currency::USD,
        value_source: ValueSource::Payout,
        event_id_template: EventIdTemplate::default(),
        landing_url: None,
        late_pixel_twin: Default::default(),
        require_consent: false,
        limited_data_use: false,
        enabled: true,
        tiktok: None,
        default_country: None,
        date_order: None,
        created_at: t,
        updated_at: t,
    }
}

/// A click with nothing but its identity, campaign and first-seen time.
pub fn bare_click() -> Click {
    let first_seen = Utc.timestamp_millis_opt(FIRST_SEEN_MS).unwrap();
    Click {
        id: 11,
        click_id: "clk1".into(),
        campaign_id: 7,
        campaign_key: "offer1".into(),
        first_seen_at: first_seen,
        updated_at: first_seen,
        fbclid: None,
        fbc: None,
        fbp: None,
        event_source_url: None,
        referrer_url: None,
        client_ip_address: None,
        client_user_agent: None,
        consent: None,
        event_ids: EventIds::default(),
        pixel_fired_at: Default::default(),
        customer: CustomerData::default(),
        ttclid: None,
        ttp: None,
        tiktok_event_ids: EventIds::default(),
    }
}

/// A postback with a click id and a status, nothing else.
pub fn conversion() -> Conversion {
    let received = Utc.timestamp_opt(CONVERSION_SECS, 0).unwrap();
    Conversion {
        id: 21,
        click_id: "clk1".into(),
        click_row_id: None,
        click_ambiguous: false,
        campaign_id: None,
        campaign_hint: None,
        tracker: "keitaro".into(),
        raw_status: "sale".into(),
        status: "sale".into(),
        txid: String::new(),
        payout: None,
        currency: None,
        received_at: received,
        event_time: received,
        state: ConversionState::Unmatched,
        event_name: None,
        failure_reason: None,
        ip: None,
        user_agent: None,
        fbclid: None,
        event_source_url: None,
        params: None,
        customer: CustomerData::default(),
        ttclid: None,
        dropped: Default::default(),
        skipped: Vec::new(),
        action_source: None,
        import_id: None,
    }
}
