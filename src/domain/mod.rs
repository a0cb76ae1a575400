//! Domain types that parse, not validate: once a value has one of these types it is known good.

mod address;
mod campaign;
mod click;
mod currency;
mod customer;
mod pixel_twin;
mod records;
mod state;
mod tiktok;

#[cfg(test)]
pub mod fixtures;

pub use address::is_public;
pub use campaign::{
    ActionSource, CampaignKey, EventIdTemplate, EventMap, EventName, PixelId, TikTokPixelCode,
    ValueSource,
};
pub use click::{
    ClickId, CookieValue, EventIds, HttpUrl, UserAgent, PIXEL_EVENT_IDS_MAX, PIXEL_EVENT_ID_MAX,
    TIKTOK_ID_MAX,
};
pub use currency::Currency;
pub use customer::{CustomerData, CustomerField, Sha256Hash};
pub use pixel_twin::{twin_check, LatePixelTwin, PixelFiredAt, TwinCheck, PIXEL_DEDUP_WINDOW};
pub use records::{
    AccessToken, AttemptRecord, Campaign, CampaignFields, Click, Conversion, MetaSettings,
    TikTokSettings,
};
pub use state::{
    AttemptOutcome, ConversionState, DeliveryStatus, EventState, FailureClass, PlatformKind,
};
pub use tiktok::normalise_phone as tiktok_phone;

/// Why a value was refused; the message is written for the integrator who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub fn new(msg: impl Into<String>) -> Self {
        ParseError(msg.into())
    }
}
