use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgExecutor, PgPool, Postgres, Transaction};

use crate::domain::{
    AccessToken, ActionSource, Campaign, CampaignFields, CampaignKey, Country, Currency, DateOrder,
    EventIdTemplate, EventMap, HttpUrl, LatePixelTwin, MetaSettings, PixelId, PlatformKind,
    SendWhen, TikTokPixelCode, TikTokSettings, ValueSource,
};

/// A `campaigns` row as stored; [`Campaign`] once every field parses.
struct CampaignRow {
    id: i64,
    key: String,
    name: String,
    pixel_id: Option<String>,
    access_token: Option<String>,
    test_event_code: Option<String>,
    action_source: String,
    event_map: Json<BTreeMap<String, Option<String>>>,
    currency: String,
    value_source: String,
    event_id_template: String,
    landing_url: Option<String>,
    late_pixel_twin: String,
    require_consent: bool,
    limited_data_use: bool,
    enabled: bool,
    tiktok_pixel_code: Option<String>,
    tiktok_access_token: Option<String>,
    tiktok_test_event_code: Option<String>,
    tiktok_event_map: Option<Json<BTreeMap<String, Option<String>>>>,
    default_country: Option<String>,
    date_order: Option<String>,
    meta_send_when: Option<String>,
    tiktok_send_when: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<CampaignRow> for Campaign {
    type Error = sqlx::Error;

    fn try_from(r: CampaignRow) -> Result<Self, Self::Error> {
        let corrupt = |what: &str, e: crate::domain::ParseError| {
            sqlx::Error::Decode(format!("campaign {}: stored {what} is invalid: {e}", r.id).into())
        };
        let send_when = |what: &str, v: &Option<String>| {
            v.as_deref()
                .map(SendWhen::parse)
                .transpose()
                .map_err(|e| corrupt(what, e))
        };
        Ok(Campaign {
            id: r.id,
            key: CampaignKey::parse(&r.key).map_err(|e| corrupt("key", e))?,
            name: r.name.clone(),
            meta: match (&r.pixel_id, &r.access_token) {
                (Some(pixel), Some(token)) => Some(MetaSettings {
                    pixel_id: PixelId::parse(pixel).map_err(|e| corrupt("pixel_id", e))?,
                    access_token: AccessToken::new(token.clone()),
                    send_when: send_when("meta_send_when", &r.meta_send_when)?,
                }),
                _ => None,
            },
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
            late_pixel_twin: LatePixelTwin::parse(&r.late_pixel_twin)
                .map_err(|e| corrupt("late_pixel_twin", e))?,
            require_consent: r.require_consent,
            limited_data_use: r.limited_data_use,
            enabled: r.enabled,
            tiktok: match (
                &r.tiktok_pixel_code,
                &r.tiktok_access_token,
                &r.tiktok_event_map,
            ) {
                (Some(code), Some(token), Some(map)) => Some(TikTokSettings {
                    pixel_code: TikTokPixelCode::parse(code)
                        .map_err(|e| corrupt("tiktok_pixel_code", e))?,
                    access_token: AccessToken::new(token.clone()),
                    test_event_code: r.tiktok_test_event_code.clone(),
                    event_map: EventMap::parse(map.0.clone())
                        .map_err(|e| corrupt("tiktok_event_map", e))?,
                    send_when: send_when("tiktok_send_when", &r.tiktok_send_when)?,
                }),
                _ => None,
            },
            default_country: r
                .default_country
                .as_deref()
                .map(Country::parse_code)
                .transpose()
                .map_err(|e| corrupt("default_country", e))?,
            date_order: r
                .date_order
                .as_deref()
                .map(DateOrder::parse)
                .transpose()
                .map_err(|e| corrupt("date_order", e))?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// The values of [`CampaignFields`] as bound, in the order of the INSERT and UPDATE columns.
struct Bound<'a> {
    key: &'a str,
    name: &'a str,
    pixel_id: Option<&'a str>,
    access_token: Option<&'a str>,
    test_event_code: Option<&'a str>,
    action_source: &'a str,
    event_map: Json<&'a EventMap>,
    currency: &'a str,
    value_source: String,
    event_id_template: &'a str,
    landing_url: Option<&'a str>,
    tiktok_pixel_code: Option<&'a str>,
    tiktok_access_token: Option<&'a str>,
    tiktok_test_event_code: Option<&'a str>,
    tiktok_event_map: Option<Json<&'a EventMap>>,
    meta_send_when: Option<&'static str>,
    tiktok_send_when: Option<&'static str>,
}

impl<'a> Bound<'a> {
    fn of(f: &'a CampaignFields) -> Self {
        Bound {
            key: f.key.as_str(),
            name: &f.name,
            pixel_id: f.meta.as_ref().map(|m| m.pixel_id.as_str()),
            access_token: f.meta.as_ref().map(|m| m.access_token.expose()),
            test_event_code: f.test_event_code.as_deref(),
            action_source: f.action_source.as_str(),
            event_map: Json(&f.event_map),
            currency: f.currency.as_str(),
            value_source: f.value_source.to_db(),
            event_id_template: f.event_id_template.as_str(),
            landing_url: f.landing_url.as_ref().map(HttpUrl::as_str),
            tiktok_pixel_code: f.tiktok.as_ref().map(|t| t.pixel_code.as_str()),
            tiktok_access_token: f.tiktok.as_ref().map(|t| t.access_token.expose()),
            tiktok_test_event_code: f.tiktok.as_ref().and_then(|t| t.test_event_code.as_deref()),
            tiktok_event_map: f.tiktok.as_ref().map(|t| Json(&t.event_map)),
            meta_send_when: f
                .meta
                .as_ref()
                .and_then(|m| m.send_when)
                .map(SendWhen::as_str),
            tiktok_send_when: f
                .tiktok
                .as_ref()
                .and_then(|t| t.send_when)
                .map(SendWhen::as_str),
        }
    }
}

pub async fn insert(pool: &PgPool, f: &CampaignFields) -> Result<Campaign, sqlx::Error> {
    let b = Bound::of(f);
    sqlx::query_as!(
        CampaignRow,
        r#"INSERT INTO campaigns (key, name, pixel_id, access_token, test_event_code,
            action_source, event_map, currency, value_source, event_id_template, require_consent,
            limited_data_use, enabled, landing_url, late_pixel_twin, tiktok_pixel_code,
            tiktok_access_token, tiktok_test_event_code, tiktok_event_map, default_country,
            date_order, meta_send_when, tiktok_send_when)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
            $18, $19, $20, $21, $22, $23)
         RETURNING id, key, name, pixel_id, access_token, test_event_code, action_source,
            event_map AS "event_map: Json<BTreeMap<String, Option<String>>>", currency,
            value_source, event_id_template, require_consent, limited_data_use, enabled,
            created_at, updated_at, landing_url, late_pixel_twin, tiktok_pixel_code,
            tiktok_access_token, tiktok_test_event_code,
            tiktok_event_map AS "tiktok_event_map: Json<BTreeMap<String, Option<String>>>",
            default_country, date_order, meta_send_when, tiktok_send_when"#,
        b.key,
        b.name,
        b.pixel_id,
        b.access_token,
        b.test_event_code,
        b.action_source,
        b.event_map as _,
        b.currency,
        b.value_source,
        b.event_id_template,
        f.require_consent,
        f.limited_data_use,
        f.enabled,
        b.landing_url,
        f.late_pixel_twin.as_str(),
        b.tiktok_pixel_code,
        b.tiktok_access_token,
        b.tiktok_test_event_code,
        b.tiktok_event_map as _,
        f.default_country.as_ref().map(Country::as_str),
        f.date_order.map(DateOrder::as_str),
        b.meta_send_when,
        b.tiktok_send_when,
    )
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
    let b = Bound::of(f);
    sqlx::query_as!(
        CampaignRow,
        r#"UPDATE campaigns SET key = $1, name = $2, pixel_id = $3, access_token = $4,
            test_event_code = $5, action_source = $6, event_map = $7, currency = $8,
            value_source = $9, event_id_template = $10, require_consent = $11,
            limited_data_use = $12, enabled = $13, landing_url = $14, late_pixel_twin = $15,
            tiktok_pixel_code = $16, tiktok_access_token = $17, tiktok_test_event_code = $18,
            tiktok_event_map = $19, default_country = $20, date_order = $21,
            meta_send_when = $22, tiktok_send_when = $23, updated_at = now()
         WHERE id = $24
         RETURNING id, key, name, pixel_id, access_token, test_event_code, action_source,
            event_map AS "event_map: Json<BTreeMap<String, Option<String>>>", currency,
            value_source, event_id_template, require_consent, limited_data_use, enabled,
            created_at, updated_at, landing_url, late_pixel_twin, tiktok_pixel_code,
            tiktok_access_token, tiktok_test_event_code,
            tiktok_event_map AS "tiktok_event_map: Json<BTreeMap<String, Option<String>>>",
            default_country, date_order, meta_send_when, tiktok_send_when"#,
        b.key,
        b.name,
        b.pixel_id,
        b.access_token,
        b.test_event_code,
        b.action_source,
        b.event_map as _,
        b.currency,
        b.value_source,
        b.event_id_template,
        f.require_consent,
        f.limited_data_use,
        f.enabled,
        b.landing_url,
        f.late_pixel_twin.as_str(),
        b.tiktok_pixel_code,
        b.tiktok_access_token,
        b.tiktok_test_event_code,
        b.tiktok_event_map as _,
        f.default_country.as_ref().map(Country::as_str),
        f.date_order.map(DateOrder::as_str),
        b.meta_send_when,
        b.tiktok_send_when,
        id,
    )
    .fetch_one(&mut **tx)
    .await?
    .try_into()
}

pub async fn find_by_key<'e>(
    db: impl PgExecutor<'e>,
    key: &str,
) -> Result<Option<Campaign>, sqlx::Error> {
    sqlx::query_as!(
        CampaignRow,
        r#"SELECT id, key, name, pixel_id, access_token, test_event_code, action_source,
            event_map AS "event_map: Json<BTreeMap<String, Option<String>>>", currency,
            value_source, event_id_template, require_consent, limited_data_use, enabled,
            created_at, updated_at, landing_url, late_pixel_twin, tiktok_pixel_code,
            tiktok_access_token, tiktok_test_event_code,
            tiktok_event_map AS "tiktok_event_map: Json<BTreeMap<String, Option<String>>>",
            default_country, date_order, meta_send_when, tiktok_send_when
         FROM campaigns WHERE key = $1"#,
        key
    )
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
    sqlx::query_as!(
        CampaignRow,
        r#"SELECT id, key, name, pixel_id, access_token, test_event_code, action_source,
            event_map AS "event_map: Json<BTreeMap<String, Option<String>>>", currency,
            value_source, event_id_template, require_consent, limited_data_use, enabled,
            created_at, updated_at, landing_url, late_pixel_twin, tiktok_pixel_code,
            tiktok_access_token, tiktok_test_event_code,
            tiktok_event_map AS "tiktok_event_map: Json<BTreeMap<String, Option<String>>>",
            default_country, date_order, meta_send_when, tiktok_send_when
         FROM campaigns WHERE key = $1 FOR UPDATE"#,
        key
    )
    .fetch_optional(&mut **tx)
    .await?
    .map(Campaign::try_from)
    .transpose()
}

pub async fn find_by_id<'e>(
    db: impl PgExecutor<'e>,
    id: i64,
) -> Result<Option<Campaign>, sqlx::Error> {
    sqlx::query_as!(
        CampaignRow,
        r#"SELECT id, key, name, pixel_id, access_token, test_event_code, action_source,
            event_map AS "event_map: Json<BTreeMap<String, Option<String>>>", currency,
            value_source, event_id_template, require_consent, limited_data_use, enabled,
            created_at, updated_at, landing_url, late_pixel_twin, tiktok_pixel_code,
            tiktok_access_token, tiktok_test_event_code,
            tiktok_event_map AS "tiktok_event_map: Json<BTreeMap<String, Option<String>>>",
            default_country, date_order, meta_send_when, tiktok_send_when
         FROM campaigns WHERE id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?
    .map(Campaign::try_from)
    .transpose()
}

/// The campaigns with these ids (one statement for a delivery pass); deleted ones are absent.
pub async fn find_many(pool: &PgPool, ids: &[i64]) -> Result<Vec<Campaign>, sqlx::Error> {
    sqlx::query_as!(
        CampaignRow,
        r#"SELECT id, key, name, pixel_id, access_token, test_event_code, action_source,
            event_map AS "event_map: Json<BTreeMap<String, Option<String>>>", currency,
            value_source, event_id_template, require_consent, limited_data_use, enabled,
            created_at, updated_at, landing_url, late_pixel_twin, tiktok_pixel_code,
            tiktok_access_token, tiktok_test_event_code,
            tiktok_event_map AS "tiktok_event_map: Json<BTreeMap<String, Option<String>>>",
            default_country, date_order, meta_send_when, tiktok_send_when
         FROM campaigns WHERE id = ANY($1)"#,
        ids
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(Campaign::try_from)
    .collect()
}

pub async fn list(pool: &PgPool) -> Result<Vec<Campaign>, sqlx::Error> {
    sqlx::query_as!(
        CampaignRow,
        r#"SELECT id, key, name, pixel_id, access_token, test_event_code, action_source,
            event_map AS "event_map: Json<BTreeMap<String, Option<String>>>", currency,
            value_source, event_id_template, require_consent, limited_data_use, enabled,
            created_at, updated_at, landing_url, late_pixel_twin, tiktok_pixel_code,
            tiktok_access_token, tiktok_test_event_code,
            tiktok_event_map AS "tiktok_event_map: Json<BTreeMap<String, Option<String>>>",
            default_country, date_order, meta_send_when, tiktok_send_when
         FROM campaigns ORDER BY key"#
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(Campaign::try_from)
    .collect()
}

/// Deletes the campaign with its clicks, conversions and events. Returns whether it existed.
pub async fn delete(pool: &PgPool, key: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM campaigns WHERE key = $1", key)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// One stored access token of a campaign (Meta's or TikTok's), locked for re-encryption.
pub struct StoredToken {
    pub id: i64,
    pub key: String,
    pub platform: PlatformKind,
    pub access_token: String,
}

pub async fn tokens_for_update(
    tx: &mut Transaction<'_, Postgres>,
) -> Result<Vec<StoredToken>, sqlx::Error> {
    // The rows themselves are locked and read, so a token changed meanwhile is read as changed.
    let rows = sqlx::query!(
        "SELECT id, key, access_token, tiktok_access_token FROM campaigns ORDER BY id FOR UPDATE"
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut tokens = Vec::new();
    for r in rows {
        let stored = [
            (PlatformKind::Meta, r.access_token),
            (PlatformKind::TikTok, r.tiktok_access_token),
        ];
        for (platform, token) in stored {
            if let Some(access_token) = token {
                let (id, key) = (r.id, r.key.clone());
                tokens.push(StoredToken {
                    id,
                    key,
                    platform,
                    access_token,
                });
            }
        }
    }
    Ok(tokens)
}

/// Replaces the stored form of a campaign's token for `platform` (sealed by the caller).
pub async fn set_stored_token(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    platform: PlatformKind,
    stored: &str,
) -> Result<(), sqlx::Error> {
    let tiktok = platform == PlatformKind::TikTok;
    sqlx::query!(
        "UPDATE campaigns SET access_token = CASE WHEN $3 THEN access_token ELSE $2 END,
            tiktok_access_token = CASE WHEN $3 THEN $2 ELSE tiktok_access_token END
         WHERE id = $1",
        id,
        stored,
        tiktok
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}
