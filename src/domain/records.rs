//! The records the service keeps: a campaign with its access token, a click, a conversion, a
//! delivery attempt. The
//! storage layer reads and writes them; the event builder and the decisions read them.

use chrono::{DateTime, Utc};

use super::{
    ActionSource, AttemptOutcome, CampaignKey, ConversionState, Country, Currency, CustomerData,
    DateOrder, DropReport, EventIdTemplate, EventIds, EventMap, HttpUrl, LatePixelTwin,
    PixelFiredAt, PixelId, PlatformKind, PlatformSkip, Region, SendWhen, TikTokPixelCode,
    ValueSource,
};

/// A platform's access token (Meta's or TikTok's). Its `Debug` is redacted so it cannot reach a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    pub fn new(s: String) -> Self {
        AccessToken(s)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessToken(***)")
    }
}

#[derive(Debug, Clone)]
pub struct Campaign {
    pub id: i64,
    pub key: CampaignKey,
    pub name: String,
    /// Absent for a campaign that advertises on TikTok only.
    pub meta: Option<MetaSettings>,
    /// Meta's Test Events code.
    pub test_event_code: Option<String>,
    pub action_source: ActionSource,
    pub event_map: EventMap,
    pub currency: Currency,
    pub value_source: ValueSource,
    pub event_id_template: EventIdTemplate,
    /// The landing page: `event_source_url` of events whose click and postback carry none.
    pub landing_url: Option<HttpUrl>,
    /// What to do with an event that would reach Meta after its pixel twin's dedup window.
    pub late_pixel_twin: LatePixelTwin,
    pub require_consent: bool,
    pub limited_data_use: bool,
    pub enabled: bool,
    pub tiktok: Option<TikTokSettings>,
    /// Where the visitors are: national phone numbers get its calling code. Never sent as
    /// `user_data.country`.
    pub default_country: Option<Country>,
    /// How to read slashed dates of birth; `None` derives it from `default_country`.
    pub date_order: Option<DateOrder>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What the admin API writes: everything but the identity and timestamps.
#[derive(Debug, Clone)]
pub struct CampaignFields {
    pub key: CampaignKey,
    pub name: String,
    /// Absent for a campaign that advertises on TikTok only.
    pub meta: Option<MetaSettings>,
    /// Meta's Test Events code.
    pub test_event_code: Option<String>,
    pub action_source: ActionSource,
    pub event_map: EventMap,
    pub currency: Currency,
    pub value_source: ValueSource,
    pub event_id_template: EventIdTemplate,
    /// The landing page: `event_source_url` of events whose click and postback carry none.
    pub landing_url: Option<HttpUrl>,
    /// What to do with an event that would reach Meta after its pixel twin's dedup window.
    pub late_pixel_twin: LatePixelTwin,
    pub require_consent: bool,
    pub limited_data_use: bool,
    pub enabled: bool,
    pub tiktok: Option<TikTokSettings>,
    /// Where the visitors are: national phone numbers get its calling code. Never sent as
    /// `user_data.country`.
    pub default_country: Option<Country>,
    /// How to read slashed dates of birth; `None` derives it from `default_country`.
    pub date_order: Option<DateOrder>,
}

/// One platform's pixel, sealed token and test code of a campaign.
#[derive(Debug, Clone, Copy)]
pub struct CampaignDestination<'a> {
    pub platform: PlatformKind,
    pub pixel: &'a str,
    pub access_token: &'a AccessToken,
    pub test_event_code: Option<&'a str>,
    /// Tracker status -> this platform's event.
    pub event_map: &'a EventMap,
}

impl Click {
    /// The event ids the page gave `platform`'s pixel on this click, by event name.
    pub fn registered_event_ids(&self, platform: PlatformKind) -> &EventIds {
        match platform {
            PlatformKind::Meta => &self.event_ids,
            PlatformKind::TikTok => &self.tiktok_event_ids,
        }
    }
}

/// A campaign's Meta pixel and the token that may send to it (sealed as stored).
#[derive(Debug, Clone, PartialEq)]
pub struct MetaSettings {
    pub pixel_id: PixelId,
    pub access_token: AccessToken,
    /// When Meta gets a conversion; `None`: the default for the number of platforms.
    pub send_when: Option<SendWhen>,
}

/// A campaign's TikTok pixel, token (sealed as stored), test code and status map.
#[derive(Debug, Clone, PartialEq)]
pub struct TikTokSettings {
    pub pixel_code: TikTokPixelCode,
    pub access_token: AccessToken,
    pub test_event_code: Option<String>,
    pub event_map: EventMap,
    /// When TikTok gets a conversion; `None`: the default for the number of platforms.
    pub send_when: Option<SendWhen>,
}

impl Campaign {
    pub fn fields(&self) -> CampaignFields {
        CampaignFields {
            key: self.key.clone(),
            name: self.name.clone(),
            meta: self.meta.clone(),
            test_event_code: self.test_event_code.clone(),
            action_source: self.action_source,
            event_map: self.event_map.clone(),
            currency: self.currency,
            value_source: self.value_source,
            event_id_template: self.event_id_template.clone(),
            landing_url: self.landing_url.clone(),
            late_pixel_twin: self.late_pixel_twin,
            require_consent: self.require_consent,
            limited_data_use: self.limited_data_use,
            enabled: self.enabled,
            tiktok: self.tiktok.clone(),
            default_country: self.default_country,
            date_order: self.date_order,
        }
    }

    /// The context customer data of this campaign is read in.
    pub fn region(&self) -> Region {
        Region::new(self.default_country, self.date_order)
    }

    /// An event's value and currency by the value source; `purchase`: the platform refuses its
    /// purchase event without them, so it gets 0 rather than nothing.
    pub fn event_value(&self, conv: &Conversion, purchase: bool) -> Option<(f64, String)> {
        let value = match self.value_source {
            // Trackers send payout=0 when the network gave none: a Lead worth 0 is not a value.
            ValueSource::Payout => conv.payout.filter(|v| *v > 0.0 || (*v == 0.0 && purchase)),
            ValueSource::None => None,
            ValueSource::Fixed(v) => Some(v),
        };
        let value = value.or(purchase.then_some(0.0))?;
        let currency = conv.currency.clone();
        Some((
            value,
            currency.unwrap_or_else(|| self.currency.as_str().to_owned()),
        ))
    }

    /// Where this campaign's events go, per platform (tokens as stored, sealed).
    pub fn destinations(&self) -> Vec<CampaignDestination<'_>> {
        let meta = self.meta.as_ref().map(|m| CampaignDestination {
            platform: PlatformKind::Meta,
            pixel: m.pixel_id.as_str(),
            access_token: &m.access_token,
            test_event_code: self.test_event_code.as_deref(),
            event_map: &self.event_map,
        });
        let tiktok = self.tiktok.as_ref().map(|t| CampaignDestination {
            platform: PlatformKind::TikTok,
            pixel: t.pixel_code.as_str(),
            access_token: &t.access_token,
            test_event_code: t.test_event_code.as_deref(),
            event_map: &t.event_map,
        });
        meta.into_iter().chain(tiktok).collect()
    }

    /// The rule each platform of this campaign follows (its own, else the default for the
    /// number of platforms).
    pub fn send_when(&self, platform: PlatformKind) -> SendWhen {
        let set = match platform {
            PlatformKind::Meta => self.meta.as_ref().and_then(|m| m.send_when),
            PlatformKind::TikTok => self.tiktok.as_ref().and_then(|t| t.send_when),
        };
        SendWhen::effective(set, self.destinations().len())
    }

    /// The platforms this campaign advertises on, each with its status map.
    pub fn platforms(&self) -> Vec<(PlatformKind, &EventMap)> {
        self.destinations()
            .into_iter()
            .map(|d| (d.platform, d.event_map))
            .collect()
    }
}

/// A registered click: what the landing page or the click redirect saw of the visitor.
#[derive(Debug, Clone)]
pub struct Click {
    pub id: i64,
    pub click_id: String,
    pub campaign_id: i64,
    pub campaign_key: String,
    pub first_seen_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub fbclid: Option<String>,
    pub fbc: Option<String>,
    pub fbp: Option<String>,
    pub event_source_url: Option<String>,
    pub referrer_url: Option<String>,
    pub client_ip_address: Option<String>,
    pub client_user_agent: Option<String>,
    pub consent: Option<bool>,
    pub event_ids: EventIds,
    /// When the pixel fired each event on this click (the landing tag's `pixel_fired_at`).
    pub pixel_fired_at: PixelFiredAt,
    pub customer: CustomerData,
    /// TikTok's click id and `_ttp` cookie, as given.
    pub ttclid: Option<String>,
    pub ttp: Option<String>,
    /// TikTok event name -> the `event_id` the landing page gave the TikTok pixel.
    pub tiktok_event_ids: EventIds,
}

/// A postback as recorded: before it is stored `id` is 0 and the state `Unmatched`.
#[derive(Debug, Clone)]
pub struct Conversion {
    pub id: i64,
    pub click_id: String,
    pub click_row_id: Option<i64>,
    /// The postback named no campaign and several campaigns held its click id: it joined the
    /// most recently registered click ([`crate::ingest::join`]).
    pub click_ambiguous: bool,
    pub campaign_id: Option<i64>,
    pub campaign_hint: Option<String>,
    pub tracker: String,
    pub raw_status: String,
    pub status: String,
    pub txid: String,
    pub payout: Option<f64>,
    pub currency: Option<String>,
    pub received_at: DateTime<Utc>,
    pub event_time: DateTime<Utc>,
    pub state: ConversionState,
    pub event_name: Option<String>,
    pub failure_reason: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub fbclid: Option<String>,
    pub event_source_url: Option<String>,
    /// The received parameters without the key and personal data.
    pub params: Option<serde_json::Value>,
    pub customer: CustomerData,
    /// The postback's `ttclid`, as given.
    pub ttclid: Option<String>,
    /// The postback's fields that were dropped or changed, and why.
    pub dropped: DropReport,
    /// The campaign's platforms its `send_when` kept this conversion from, and why.
    pub skipped: Vec<PlatformSkip>,
    /// Meta's `action_source` for this conversion; `None`: the campaign's.
    pub action_source: Option<super::ActionSource>,
    /// The import that recorded it, if an import did.
    pub import_id: Option<i64>,
}

/// A platform's answer to one request, as recorded for each event it carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub outcome: AttemptOutcome,
    pub http_status: Option<i32>,
    pub error_code: Option<i32>,
    pub error_subcode: Option<i32>,
    pub message: Option<String>,
    pub fbtrace_id: Option<String>,
}

impl AttemptRecord {
    /// An attempt with nothing but its outcome known yet.
    pub fn bare(outcome: AttemptOutcome) -> Self {
        AttemptRecord {
            outcome,
            http_status: None,
            error_code: None,
            error_subcode: None,
            message: None,
            fbtrace_id: None,
        }
    }
}
