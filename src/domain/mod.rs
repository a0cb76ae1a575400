//! Domain types that parse, not validate: once a value has one of these types it is known good.

mod address;
mod alert;
pub mod amount;
mod campaign;
pub mod caps;
mod click;
mod currency;
mod customer;
mod dropped;
pub mod meta_quality;
pub mod params;
mod pixel_twin;
mod records;
mod send_when;
mod state;
mod tiktok;
mod update_token;
pub mod url_privacy;

#[cfg(test)]
pub mod fixtures;

pub use address::{is_public, parse_public_ip};
pub use alert::{AlertChannel, AlertKey, AlertKind, AlertRecord, AlertState};
pub use campaign::{
    ActionSource, CampaignKey, EventIdTemplate, EventMap, EventName, PixelId, TikTokPixelCode,
    ValueSource,
};
pub use caps::{PIXEL_EVENT_IDS_MAX, PIXEL_EVENT_ID_MAX, TIKTOK_ID_MAX};
pub use click::{Cleaned, ClickId, CookieValue, EventIds, HttpUrl, UserAgent};
pub use currency::Currency;
pub use customer::{Country, CustomerData, CustomerField, DateOrder, Region, Sha256Hash};
pub use dropped::{sanitise_opaque, DropReport, Dropped, Sanitised, DROP_REPORT_MAX};
pub use pixel_twin::{twin_check, LatePixelTwin, PixelFiredAt, TwinCheck, PIXEL_DEDUP_WINDOW};
pub use records::{
    AccessToken, AttemptRecord, Campaign, CampaignFields, Click, Conversion, MetaSettings,
    TikTokSettings,
};
pub use send_when::{has_platform_signal, skip_reason, PlatformSkip, SendWhen};
pub use state::{
    AttemptOutcome, ConversionState, DeliveryStatus, EventState, FailureClass, PlatformKind,
};
pub use tiktok::normalise_phone as tiktok_phone;
pub use update_token::{UpdateToken, UpdateTokenHash, UPDATE_TOKEN_MAX, UPDATE_TOKEN_MIN};

/// Why a value was refused; the message is written for the integrator who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub fn new(msg: impl Into<String>) -> Self {
        ParseError(msg.into())
    }
}
