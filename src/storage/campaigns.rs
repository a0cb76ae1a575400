use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgExecutor, PgPool, Postgres, Transaction};

use crate::domain::{
    ActionSource, CampaignKey, Currency, EventIdTemplate, EventMap, HttpUrl, PixelId, ValueSource,
};

/// A Meta access token. Its `Debug` is redacted so it cannot reach a log line by accident.
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
    pub pixel_id: PixelId,
    pub access_token: AccessToken,
    pub test_event_code: Option<String>,
    pub action_source: ActionSource,
    pub event_map: EventMap,
    pub currency: Currency,
    pub value_source: ValueSource,
    pub event_id_template: EventIdTemplate,
    /// The landing page: `event_source_url` of events whose click and postback carry none.
    pub landing_url: Option<HttpUrl>,
    pub require_consent: bool,
    pub limited_data_use: bool,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What the admin API writes: everything but the identity and timestamps.
#[derive(Debug, Clone)]
pub struct CampaignFields {
    pub key: CampaignKey,
    pub name: String,
    pub pixel_id: PixelId,
    pub access_token: AccessToken,
    pub test_event_code: Option<String>,
    pub action_source: ActionSource,
    pub event_map: EventMap,
    pub currency: Currency,
    pub value_source: ValueSource,
    pub event_id_template: EventIdTemplate,
    /// The landing page: `event_source_url` of events whose click and postback carry none.
    pub landing_url: Option<HttpUrl>,
    pub require_consent: bool,
    pub limited_data_use: bool,
    pub enabled: bool,
}

impl Campaign {
    pub fn fields(&self) -> CampaignFields {
        CampaignFields {
            key: self.key.clone(),
            name: self.name.clone(),
            pixel_id: self.pixel_id.clone(),
            access_token: self.access_token.clone(),
            test_event_code: self.test_event_code.clone(),
            action_source: self.action_source,
            event_map: self.event_map.clone(),
            currency: self.currency,
            value_source: self.value_source,
            event_id_template: self.event_id_template.clone(),
            landing_url: self.landing_url.clone(),
            require_consent: self.require_consent,
            limited_data_use: self.limited_data_use,
            enabled: self.enabled,
        }
    }
}

#[derive(sqlx::FromRow)]
struct CampaignRow {
    id: i64,
    key: String,
    name: String,
    pixel_id: String,
    access_token: String,
    test_event_code: Option<String>,
    action_source: String,
    event_map: Json<BTreeMap<String, Option<String>>>,
    currency: String,
    value_source: String,
    event_id_template: String,
    landing_url: Option<String>,
    require_consent: bool,
    limited_data_use: bool,
    enabled: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<CampaignRow> for Campaign {
    type Error = sqlx::Error;

    fn try_from(r: CampaignRow) -> Result<Self, Self::Error> {
        let corrupt = |what: &str, e: crate::domain::ParseError| {
            sqlx::Error::Decode(format!("campaign {}: stored {what} is invalid: {e}", r.id).into())
        };
        Ok(Campaign {
            id: r.id,
            key: CampaignKey::parse(&r.key).map_err(|e| corrupt("key", e))?,
            name: r.name.clone(),
            pixel_id: PixelId::parse(&r.pixel_id).map_err(|e| corrupt("pixel_id", e))?,
            access_token: AccessToken(r.access_token.clone()),
            test_event_code: r.test_event_code.clone(),
            action_source: ActionSource::parse(&r.action_source)
                .map_err(|e| corrupt("action_source", e))?,
            event_map: EventMap::parse(r.event_map.0.clone())
                .map_err(|e| corrupt("event_map", e))?,
            currency: Currency::parse(&r.currency).map_err(|e| corrupt("currency", e))?,
            value_source: ValueSource::from_db(&r.value_source),
            event_id_template: EventIdTemplate::from_stored(r.event_id_template.clone()),
            landing_url: r
                .landing_url
                .as_deref()
                .map(HttpUrl::parse)
                .transpose()
                .map_err(|e| corrupt("landing_url", e))?,
            require_consent: r.require_consent,
            limited_data_use: r.limited_data_use,
            enabled: r.enabled,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "id, key, name, pixel_id, access_token, test_event_code, action_source, \
    event_map, currency, value_source, event_id_template, require_consent, limited_data_use, \
    enabled, created_at, updated_at, landing_url";

pub async fn insert(pool: &PgPool, f: &CampaignFields) -> Result<Campaign, sqlx::Error> {
    let sql = format!(
        "INSERT INTO campaigns (key, name, pixel_id, access_token, test_event_code, \
         action_source, event_map, currency, value_source, event_id_template, require_consent, \
         limited_data_use, enabled, landing_url) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING {COLUMNS}"
    );
    bind_fields(sqlx::query_as::<_, CampaignRow>(&sql), f)
        .fetch_one(pool)
        .await?
        .try_into()
}

/// Rewrites every field of the campaign `id`.
pub async fn update(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    f: &CampaignFields,
) -> Result<Campaign, sqlx::Error> {
    let sql = format!(
        "UPDATE campaigns SET key = $1, name = $2, pixel_id = $3, access_token = $4, \
         test_event_code = $5, action_source = $6, event_map = $7, currency = $8, \
         value_source = $9, event_id_template = $10, require_consent = $11, \
         limited_data_use = $12, enabled = $13, landing_url = $14, updated_at = now() \
         WHERE id = $15 RETURNING {COLUMNS}"
    );
    bind_fields(sqlx::query_as::<_, CampaignRow>(&sql), f)
        .bind(id)
        .fetch_one(&mut **tx)
        .await?
        .try_into()
}

fn bind_fields<'q>(
    q: sqlx::query::QueryAs<'q, Postgres, CampaignRow, sqlx::postgres::PgArguments>,
    f: &'q CampaignFields,
) -> sqlx::query::QueryAs<'q, Postgres, CampaignRow, sqlx::postgres::PgArguments> {
    q.bind(f.key.as_str())
        .bind(&f.name)
        .bind(f.pixel_id.as_str())
        .bind(f.access_token.expose())
        .bind(&f.test_event_code)
        .bind(f.action_source.as_str())
        .bind(Json(&f.event_map))
        .bind(f.currency.as_str())
        .bind(f.value_source.to_db())
        .bind(f.event_id_template.as_str())
        .bind(f.require_consent)
        .bind(f.limited_data_use)
        .bind(f.enabled)
        .bind(f.landing_url.as_ref().map(HttpUrl::as_str))
}

pub async fn find_by_key<'e>(
    db: impl PgExecutor<'e>,
    key: &str,
) -> Result<Option<Campaign>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM campaigns WHERE key = $1");
    sqlx::query_as::<_, CampaignRow>(&sql)
        .bind(key)
        .fetch_optional(db)
        .await?
        .map(Campaign::try_from)
        .transpose()
}

/// Locks the campaign row for a read-modify-write.
pub async fn find_by_key_for_update(
    tx: &mut Transaction<'_, Postgres>,
    key: &str,
) -> Result<Option<Campaign>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM campaigns WHERE key = $1 FOR UPDATE");
    sqlx::query_as::<_, CampaignRow>(&sql)
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?
        .map(Campaign::try_from)
        .transpose()
}

pub async fn find_by_id<'e>(
    db: impl PgExecutor<'e>,
    id: i64,
) -> Result<Option<Campaign>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM campaigns WHERE id = $1");
    sqlx::query_as::<_, CampaignRow>(&sql)
        .bind(id)
        .fetch_optional(db)
        .await?
        .map(Campaign::try_from)
        .transpose()
}

pub async fn list(pool: &PgPool) -> Result<Vec<Campaign>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM campaigns ORDER BY key");
    sqlx::query_as::<_, CampaignRow>(&sql)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(Campaign::try_from)
        .collect()
}

/// Deletes the campaign with its clicks, conversions and events. Returns whether it existed.
pub async fn delete(pool: &PgPool, key: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM campaigns WHERE key = $1")
        .bind(key)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}
