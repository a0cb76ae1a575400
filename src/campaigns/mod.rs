//! Campaign rules and what a change sets off, for the admin API and the dashboard alike: one
//! parser for the fields that creating and updating share, and the side effects (token
//! encryption, re-queue of parked events, cache invalidation, worker wake-up) in one place.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use sqlx::PgPool;
use tokio::sync::Notify;

mod meta;
mod send_when;
pub mod test_event;
mod tiktok;

use tiktok::TikTokChanges;
pub use tiktok::TikTokInput;

use crate::domain::{AccessToken, Campaign, CampaignFields, MetaSettings, PlatformKind};
use crate::domain::{
    ActionSource, CampaignKey, Country, Currency, DateOrder, EventIdTemplate, EventMap, HttpUrl,
    LatePixelTwin, ParseError, PixelId, SendWhen, ValueSource,
};
use crate::secrets::TokenCipher;
use crate::state::AppState;
use crate::storage::campaign_cache::CampaignCache;
use crate::storage::{self, campaigns, events, Taken};

/// The campaign fields as a client sends them; absent fields are `None`. On update, `null`
/// clears the optional texts (`test_event_code`, `landing_url`, `default_country`,
/// `date_order`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignInput {
    pub key: Option<String>,
    pub name: Option<String>,
    pub pixel_id: Option<String>,
    pub access_token: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub test_event_code: Option<Option<String>>,
    pub action_source: Option<String>,
    pub event_map: Option<BTreeMap<String, Option<String>>>,
    pub currency: Option<String>,
    pub value_source: Option<Value>,
    pub event_id_template: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub landing_url: Option<Option<String>>,
    /// `send` or `skip`.
    pub late_pixel_twin: Option<String>,
    pub require_consent: Option<bool>,
    pub limited_data_use: Option<bool>,
    pub enabled: Option<bool>,
    /// TikTok's settings; `null` removes TikTok from the campaign.
    #[serde(default, deserialize_with = "present")]
    pub tiktok: Option<Option<TikTokInput>>,
    /// ISO 3166-1 alpha-2: national phone numbers get its calling code.
    #[serde(default, deserialize_with = "present")]
    pub default_country: Option<Option<String>>,
    /// `mdy` or `dmy`: how slashed dates of birth are read.
    #[serde(default, deserialize_with = "present")]
    pub date_order: Option<Option<String>>,
    /// `always` or `platform_click`: when Meta gets a conversion; `null`: the default.
    #[serde(default, deserialize_with = "present")]
    pub meta_send_when: Option<Option<String>>,
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("{0} is required")]
    Missing(&'static str),
    #[error("{field} {error}")]
    Invalid {
        field: &'static str,
        error: ParseError,
    },
    /// An update naming a key: a campaign's key is its identity in every postback URL.
    #[error("a campaign's key cannot change")]
    KeyChange,
    #[error("no campaign with key {0:?}")]
    NotFound(String),
    #[error("a campaign with this key already exists")]
    Exists,
    /// Every platform would be gone: a campaign sends to Meta, TikTok or both.
    #[error(
        "a campaign needs Meta (pixel_id and access_token) or tiktok; this change leaves neither"
    )]
    NoPlatform,
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

/// The fields given, parsed; `None`: not given.
#[derive(Debug, Default, PartialEq)]
struct Changes {
    pixel_id: Option<PixelId>,
    /// In clear: sealed by the service, which knows the campaign key.
    access_token: Option<AccessToken>,
    name: Option<String>,
    test_event_code: Option<Option<String>>,
    action_source: Option<ActionSource>,
    event_map: Option<EventMap>,
    currency: Option<Currency>,
    value_source: Option<ValueSource>,
    event_id_template: Option<EventIdTemplate>,
    landing_url: Option<Option<HttpUrl>>,
    late_pixel_twin: Option<LatePixelTwin>,
    require_consent: Option<bool>,
    limited_data_use: Option<bool>,
    enabled: Option<bool>,
    tiktok: Option<Option<TikTokChanges>>,
    default_country: Option<Option<Country>>,
    date_order: Option<Option<DateOrder>>,
    meta_send_when: Option<Option<SendWhen>>,
}

/// Whether the fields a new campaign cannot do without must be there.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Create,
    Update,
}

fn parsed<T>(
    field: &'static str,
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, ParseError>,
) -> Result<Option<T>, CampaignError> {
    raw.map(|s| parse(s).map_err(|error| CampaignError::Invalid { field, error }))
        .transpose()
}

impl Changes {
    /// Checks the fields in a fixed order, so a body with several faults names the same one
    /// every time.
    fn parse(input: CampaignInput, mode: Mode) -> Result<Changes, CampaignError> {
        let required = |field, given: bool| match (mode, given) {
            (Mode::Create, false) => Err(CampaignError::Missing(field)),
            _ => Ok(()),
        };
        let invalid = |field| move |error| CampaignError::Invalid { field, error };
        // Meta's two fields are required of a new campaign unless it advertises on TikTok only.
        let tiktok_only = matches!(input.tiktok, Some(Some(_)))
            && input.pixel_id.is_none()
            && input.access_token.is_none();
        let required = |field, given: bool| {
            if tiktok_only {
                Ok(())
            } else {
                required(field, given)
            }
        };
        required("pixel_id", input.pixel_id.is_some())?;
        let pixel_id = parsed("pixel_id", input.pixel_id.as_deref(), PixelId::parse)?;
        required("access_token", input.access_token.is_some())?;
        let access_token = parsed("access_token", input.access_token.as_deref(), parse_token)?;
        let name = parsed("name", input.name.as_deref(), parse_name)?;
        let test_event_code = match input.test_event_code {
            Some(Some(t)) => Some(parse_test_event_code(&t).map_err(invalid("test_event_code"))?),
            Some(None) => Some(None),
            None => None,
        };
        let action_source = input.action_source.as_deref();
        let event_map = match input.event_map {
            Some(m) => Some(EventMap::parse(m).map_err(invalid("event_map"))?),
            None => None,
        };
        let value_source = match &input.value_source {
            Some(v) => Some(ValueSource::parse_json(v).map_err(invalid("value_source"))?),
            None => None,
        };
        let template = input.event_id_template.as_deref();
        Ok(Changes {
            pixel_id,
            access_token,
            name,
            test_event_code,
            action_source: parsed("action_source", action_source, ActionSource::parse)?,
            event_map,
            currency: parsed("currency", input.currency.as_deref(), Currency::parse)?,
            value_source,
            event_id_template: parsed("event_id_template", template, EventIdTemplate::parse)?,
            landing_url: match input.landing_url {
                Some(raw) => Some(parsed("landing_url", raw.as_deref(), HttpUrl::parse)?),
                None => None,
            },
            late_pixel_twin: parsed(
                "late_pixel_twin",
                input.late_pixel_twin.as_deref(),
                LatePixelTwin::parse,
            )?,
            require_consent: input.require_consent,
            limited_data_use: input.limited_data_use,
            enabled: input.enabled,
            tiktok: match input.tiktok {
                Some(Some(t)) => Some(Some(TikTokChanges::parse(t)?)),
                Some(None) => Some(None),
                None => None,
            },
            default_country: clearable(
                "default_country",
                input.default_country,
                Country::parse_code,
            )?,
            date_order: clearable("date_order", input.date_order, DateOrder::parse)?,
            meta_send_when: clearable("meta_send_when", input.meta_send_when, SendWhen::parse)?,
        })
    }

    /// Writes the given campaign-wide fields over `f`; Meta's pixel and token and TikTok's
    /// settings are the caller's (tokens must be sealed).
    fn apply(self, f: &mut CampaignFields) {
        fn set<T>(slot: &mut T, v: Option<T>) {
            if let Some(v) = v {
                *slot = v;
            }
        }
        set(&mut f.name, self.name);
        set(&mut f.test_event_code, self.test_event_code);
        set(&mut f.action_source, self.action_source);
        set(&mut f.event_map, self.event_map);
        set(&mut f.currency, self.currency);
        set(&mut f.value_source, self.value_source);
        set(&mut f.event_id_template, self.event_id_template);
        set(&mut f.landing_url, self.landing_url);
        set(&mut f.late_pixel_twin, self.late_pixel_twin);
        set(&mut f.require_consent, self.require_consent);
        set(&mut f.limited_data_use, self.limited_data_use);
        set(&mut f.enabled, self.enabled);
        set(&mut f.default_country, self.default_country);
        set(&mut f.date_order, self.date_order);
    }
}

/// A setting that `null` or a blank text (the dashboard's empty choice) clears.
fn clearable<T>(
    field: &'static str,
    raw: Option<Option<String>>,
    parse: impl FnOnce(&str) -> Result<T, ParseError>,
) -> Result<Option<Option<T>>, CampaignError> {
    match raw {
        None => Ok(None),
        Some(raw) => {
            let raw = raw.as_deref().map(str::trim).filter(|s| !s.is_empty());
            Ok(Some(parsed(field, raw, parse)?))
        }
    }
}

fn parse_name(s: &str) -> Result<String, ParseError> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > 200 || s.chars().any(char::is_control) {
        return Err(ParseError::new("must be 1-200 characters"));
    }
    Ok(s.to_owned())
}

fn parse_token(s: &str) -> Result<AccessToken, ParseError> {
    if s.len() < 10 || s.len() > 1024 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ParseError::new(
            "must be 10-1024 printable ASCII characters without spaces",
        ));
    }
    Ok(AccessToken::new(s.to_owned()))
}

/// Blank means none (production events).
fn parse_test_event_code(s: &str) -> Result<Option<String>, ParseError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.len() > 64 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ParseError::new(
            "must be 1-64 letters and digits, like TEST12345",
        ));
    }
    Ok(Some(s.to_owned()))
}

/// What campaign changes touch: the database, the token cipher, the process's campaign cache
/// and the delivery worker.
/// What an update did besides saving: whether a platform's token or pixel changed, and how
/// many events parked on a token error that re-queued.
#[derive(Debug)]
pub struct Updated {
    pub campaign: Campaign,
    pub credentials_changed: bool,
    pub requeued: u64,
}

pub struct CampaignService<'a> {
    pub pool: &'a PgPool,
    pub cipher: &'a TokenCipher,
    pub cache: &'a CampaignCache,
    /// Wakes the delivery worker when parked events are re-queued.
    pub delivery_signal: &'a Notify,
}

/// The service over the application's state, as the admin API and the dashboard use it.
pub fn service(state: &AppState) -> CampaignService<'_> {
    CampaignService {
        pool: &state.pool,
        cipher: &state.cipher,
        cache: &state.campaigns,
        delivery_signal: &state.delivery_signal,
    }
}

impl CampaignService<'_> {
    pub async fn create(&self, input: CampaignInput) -> Result<Campaign, CampaignError> {
        let key = match input.key.as_deref() {
            Some(k) => CampaignKey::parse(k).map_err(|error| CampaignError::Invalid {
                field: "key",
                error,
            })?,
            None => return Err(CampaignError::Missing("key")),
        };
        // The caller's span (an admin request) names the campaign from here on, if it has room.
        tracing::Span::current().record("campaign", key.as_str());
        let mut changes = Changes::parse(input, Mode::Create)?;
        let meta = match (changes.pixel_id.take(), changes.access_token.take()) {
            (Some(pixel_id), Some(token)) => Some(MetaSettings {
                access_token: self.seal(&key, PlatformKind::Meta, &token),
                pixel_id,
                send_when: None,
            }),
            _ => None,
        };
        let tiktok = match changes.tiktok.take() {
            Some(Some(mut t)) => {
                let sealed = t
                    .access_token
                    .take()
                    .map(|tok| self.seal(&key, PlatformKind::TikTok, &tok));
                Some(t.apply(None, sealed)?)
            }
            _ => None,
        };
        if meta.is_none() && tiktok.is_none() {
            return Err(CampaignError::Missing("pixel_id"));
        }
        let mut fields = CampaignFields {
            name: key.as_str().to_owned(),
            key,
            meta,
            test_event_code: None,
            action_source: ActionSource::Website,
            event_map: EventMap::default(),
            currency: Currency::USD,
            value_source: ValueSource::Payout,
            event_id_template: EventIdTemplate::default(),
            landing_url: None,
            late_pixel_twin: LatePixelTwin::Send,
            require_consent: false,
            limited_data_use: false,
            enabled: true,
            tiktok,
            default_country: None,
            date_order: None,
        };
        send_when::set_meta(&mut fields, changes.meta_send_when.take())?;
        changes.apply(&mut fields);
        let campaign = campaigns::insert(self.pool, &fields)
            .await
            .map_err(key_taken)?;
        self.cache.invalidate();
        tracing::info!(campaign = campaign.key.as_str(), "campaign created");
        Ok(campaign)
    }

    /// Changes the given fields; see [`CampaignService::update_counted`].
    pub async fn update(&self, key: &str, input: CampaignInput) -> Result<Campaign, CampaignError> {
        Ok(self.update_counted(key, input).await?.campaign)
    }

    /// Changes the given fields. A new access token or pixel re-queues the events that were
    /// parked on a token or permission error, in the same transaction; says how many.
    pub async fn update_counted(
        &self,
        key: &str,
        input: CampaignInput,
    ) -> Result<Updated, CampaignError> {
        if input.key.is_some() {
            return Err(CampaignError::KeyChange);
        }
        let mut tx = self.pool.begin().await?;
        let current = campaigns::find_by_key_for_update(&mut tx, key)
            .await?
            .ok_or_else(|| CampaignError::NotFound(key.to_owned()))?;
        let mut changes = Changes::parse(input, Mode::Update)?;
        let mut f = current.fields();
        let meta_changed = self.change_meta(&current, &mut changes, &mut f)?;
        let tiktok_change = changes.tiktok.take();
        let mut tiktok_changed = false;
        let mut tiktok_removed = false;
        match tiktok_change {
            Some(Some(mut t)) => {
                let token = t.access_token.take();
                let sealed = token
                    .as_ref()
                    .map(|tok| self.seal(&current.key, PlatformKind::TikTok, tok));
                let old = current.tiktok.clone();
                let new = t.apply(old.clone(), sealed)?;
                tiktok_changed =
                    token.is_some() || old.as_ref().map(|o| &o.pixel_code) != Some(&new.pixel_code);
                f.tiktok = Some(new);
            }
            Some(None) => {
                tiktok_removed = current.tiktok.is_some();
                f.tiktok = None;
            }
            None => {}
        }
        if f.meta.is_none() && f.tiktok.is_none() {
            return Err(CampaignError::NoPlatform);
        }
        send_when::set_meta(&mut f, changes.meta_send_when.take())?;
        changes.apply(&mut f);
        let updated = campaigns::update(&mut tx, current.id, &f).await?;
        let mut requeued = 0;
        if meta_changed {
            requeued +=
                events::requeue_auth_failures(&mut tx, current.id, PlatformKind::Meta).await?;
        }
        if tiktok_changed {
            requeued +=
                events::requeue_auth_failures(&mut tx, current.id, PlatformKind::TikTok).await?;
        }
        let cancelled = if tiktok_removed {
            events::cancel_pending(&mut tx, current.id, PlatformKind::TikTok).await?
        } else {
            0
        };
        tx.commit().await?;
        self.cache.invalidate();
        if cancelled > 0 {
            tracing::info!(cancelled, "TikTok removed; its pending events cancelled");
        }
        if requeued > 0 {
            tracing::info!(requeued, "credentials changed; parked events re-queued");
            self.delivery_signal.notify_one();
        }
        Ok(Updated {
            campaign: updated,
            credentials_changed: meta_changed || tiktok_changed,
            requeued,
        })
    }

    pub async fn delete(&self, key: &str) -> Result<(), CampaignError> {
        if !campaigns::delete(self.pool, key).await? {
            return Err(CampaignError::NotFound(key.to_owned()));
        }
        self.cache.invalidate();
        tracing::info!(campaign = %key, "campaign deleted");
        Ok(())
    }

    pub async fn get(&self, key: &str) -> Result<Campaign, CampaignError> {
        campaigns::find_by_key(self.pool, key)
            .await?
            .ok_or_else(|| CampaignError::NotFound(key.to_owned()))
    }

    pub async fn list(&self) -> Result<Vec<Campaign>, CampaignError> {
        Ok(campaigns::list(self.pool).await?)
    }

    /// Stored sealed (encrypted when SECRETS_KEY is set), bound to the campaign and platform.
    fn seal(&self, key: &CampaignKey, platform: PlatformKind, token: &AccessToken) -> AccessToken {
        let sealed = self
            .cipher
            .seal_token(key.as_str(), platform, token.expose());
        AccessToken::new(sealed)
    }
}

fn key_taken(e: sqlx::Error) -> CampaignError {
    match storage::taken(&e) {
        Some(Taken::CampaignKey) => CampaignError::Exists,
        _ => CampaignError::Storage(e),
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
