//! Reading clicks: by click id (every campaign's), by row, and the admin's lookup.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgExecutor, Postgres, Transaction};

use super::{NewClick, Registrant};
use crate::domain::{Click, CustomerData, DropReport, EventIds, PixelFiredAt};

/// A `clicks` row joined with its campaign's key.
struct ClickRow {
    id: i64,
    click_id: String,
    campaign_id: i64,
    campaign_key: String,
    first_seen_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    fbclid: Option<String>,
    fbc: Option<String>,
    fbp: Option<String>,
    event_source_url: Option<String>,
    referrer_url: Option<String>,
    client_ip_address: Option<String>,
    client_user_agent: Option<String>,
    consent: Option<bool>,
    event_ids: Json<BTreeMap<String, String>>,
    pixel_fired_at: Json<BTreeMap<String, i64>>,
    em: Option<String>,
    ph: Option<String>,
    fn_: Option<String>,
    ln: Option<String>,
    ge: Option<String>,
    db: Option<String>,
    ct: Option<String>,
    st: Option<String>,
    zp: Option<String>,
    country: Option<String>,
    external_id: Option<String>,
    ttclid: Option<String>,
    ttp: Option<String>,
    tiktok_event_ids: Json<BTreeMap<String, String>>,
    tiktok_ph: Option<String>,
    tiktok_external_id: Option<String>,
}

impl From<ClickRow> for Click {
    fn from(r: ClickRow) -> Self {
        Click {
            id: r.id,
            click_id: r.click_id,
            campaign_id: r.campaign_id,
            campaign_key: r.campaign_key,
            first_seen_at: r.first_seen_at,
            updated_at: r.updated_at,
            fbclid: r.fbclid,
            fbc: r.fbc,
            fbp: r.fbp,
            event_source_url: r.event_source_url,
            referrer_url: r.referrer_url,
            client_ip_address: r.client_ip_address,
            client_user_agent: r.client_user_agent,
            consent: r.consent,
            event_ids: EventIds::from_stored(r.event_ids.0),
            pixel_fired_at: PixelFiredAt::from_stored(r.pixel_fired_at.0),
            customer: CustomerData::from_columns([
                r.em,
                r.ph,
                r.fn_,
                r.ln,
                r.ge,
                r.db,
                r.ct,
                r.st,
                r.zp,
                r.country,
                r.external_id,
            ])
            .with_tiktok_ph(r.tiktok_ph)
            .with_tiktok_external_id(r.tiktok_external_id),
            ttclid: r.ttclid,
            ttp: r.ttp,
            tiktok_event_ids: EventIds::from_stored(r.tiktok_event_ids.0),
        }
    }
}

/// What the latest registration of a click that dropped something dropped (empty if none).
pub async fn dropped_of<'e>(
    db: impl PgExecutor<'e>,
    click_row_id: i64,
) -> Result<DropReport, sqlx::Error> {
    let stored = sqlx::query_scalar!(
        r#"SELECT dropped AS "dropped: Json<Vec<crate::domain::Dropped>>"
           FROM clicks WHERE id = $1"#,
        click_row_id
    )
    .fetch_optional(db)
    .await?
    .flatten();
    Ok(DropReport::from_stored(stored.map(|j| j.0)))
}

/// Every campaign's click with this id, the most recently registered first.
pub async fn find_all<'e>(
    db: impl PgExecutor<'e>,
    click_id: &str,
) -> Result<Vec<Click>, sqlx::Error> {
    select(db, &[click_id]).await
}

/// The clicks with these ids, every campaign's, by click id (most recently registered first).
pub async fn find_many(
    tx: &mut Transaction<'_, Postgres>,
    click_ids: &[&str],
) -> Result<HashMap<String, Vec<Click>>, sqlx::Error> {
    let mut out: HashMap<String, Vec<Click>> = HashMap::new();
    for click in select(&mut **tx, click_ids).await? {
        out.entry(click.click_id.clone()).or_default().push(click);
    }
    Ok(out)
}

async fn select<'e>(
    db: impl PgExecutor<'e>,
    click_ids: &[&str],
) -> Result<Vec<Click>, sqlx::Error> {
    let rows = sqlx::query_as!(
        ClickRow,
        r#"SELECT k.id, k.click_id, k.campaign_id, c.key AS campaign_key, k.first_seen_at,
            k.updated_at, k.fbclid, k.fbc, k.fbp, k.event_source_url, k.referrer_url,
            k.client_ip_address, k.client_user_agent, k.consent,
            k.event_ids AS "event_ids: Json<BTreeMap<String, String>>",
            k.pixel_fired_at AS "pixel_fired_at: Json<BTreeMap<String, i64>>",
            k.em, k.ph, k.fn AS fn_, k.ln, k.ge, k.db, k.ct, k.st, k.zp, k.country, k.external_id,
            k.ttclid, k.ttp,
            k.tiktok_event_ids AS "tiktok_event_ids: Json<BTreeMap<String, String>>", k.tiktok_ph,
            k.tiktok_external_id
        FROM clicks k JOIN campaigns c ON c.id = k.campaign_id
        WHERE k.click_id = ANY($1)
        ORDER BY k.first_seen_at DESC, k.id DESC"#,
        click_ids as &[&str]
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Click::from).collect())
}

/// The click stored in row `id` (a conversion's `click_row_id`).
pub async fn find_by_row<'e>(
    db: impl PgExecutor<'e>,
    id: i64,
) -> Result<Option<Click>, sqlx::Error> {
    let row = sqlx::query_as!(
        ClickRow,
        r#"SELECT k.id, k.click_id, k.campaign_id, c.key AS campaign_key, k.first_seen_at,
            k.updated_at, k.fbclid, k.fbc, k.fbp, k.event_source_url, k.referrer_url,
            k.client_ip_address, k.client_user_agent, k.consent,
            k.event_ids AS "event_ids: Json<BTreeMap<String, String>>",
            k.pixel_fired_at AS "pixel_fired_at: Json<BTreeMap<String, i64>>",
            k.em, k.ph, k.fn AS fn_, k.ln, k.ge, k.db, k.ct, k.st, k.zp, k.country, k.external_id,
            k.ttclid, k.ttp,
            k.tiktok_event_ids AS "tiktok_event_ids: Json<BTreeMap<String, String>>", k.tiktok_ph,
            k.tiktok_external_id
        FROM clicks k JOIN campaigns c ON c.id = k.campaign_id
        WHERE k.id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(Click::from))
}

/// The stored click that `c` would merge into: its campaign's click with its id, when its
/// registrant may change it (the postback key, or the click's update token). `None` when there
/// is none, or when the registration would be ignored.
pub async fn owned(pool: &sqlx::PgPool, c: &NewClick) -> Result<Option<Click>, sqlx::Error> {
    let stored = find_all(pool, c.click_id.as_str())
        .await?
        .into_iter()
        .find(|k| k.campaign_id == c.campaign_id);
    let Some(stored) = stored else {
        return Ok(None);
    };
    if c.registrant == Registrant::Key {
        return Ok(Some(stored));
    }
    let holds = sqlx::query_scalar!(
        r#"SELECT update_token_sha256 = $2 AS "holds!" FROM clicks
           WHERE id = $1 AND update_token_sha256 IS NOT NULL"#,
        stored.id,
        &c.update_token.as_bytes()[..]
    )
    .fetch_optional(pool)
    .await?;
    Ok(stored).map(|s| holds.unwrap_or(false).then_some(s))
}

/// What an admin's click id (and `?campaign=`) names.
#[derive(Debug)]
pub enum Lookup {
    Found(Box<Click>),
    NotFound,
    /// No campaign was named and several campaigns hold the click id: their keys.
    Ambiguous(Vec<String>),
}

/// The click `click_id` of `campaign` (a key), or of the only campaign that holds it.
pub async fn lookup<'e>(
    db: impl PgExecutor<'e>,
    click_id: &str,
    campaign: Option<&str>,
) -> Result<Lookup, sqlx::Error> {
    let mut all = find_all(db, click_id).await?;
    if let Some(key) = campaign {
        all.retain(|c| c.campaign_key == key);
    }
    Ok(match all.len() {
        0 => Lookup::NotFound,
        1 => Lookup::Found(Box::new(all.remove(0))),
        _ => Lookup::Ambiguous(all.into_iter().map(|c| c.campaign_key).collect()),
    })
}
