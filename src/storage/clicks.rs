use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgExecutor, PgPool};

use crate::domain::{ClickId, CookieValue, CustomerData, EventIds, HttpUrl, UserAgent};

/// A parsed click registration, ready to store: customer data is hashed already.
#[derive(Debug, Clone)]
pub struct NewClick {
    pub click_id: ClickId,
    pub campaign_id: i64,
    pub fbclid: Option<CookieValue>,
    pub fbc: Option<CookieValue>,
    pub fbp: Option<CookieValue>,
    pub event_source_url: Option<HttpUrl>,
    pub referrer_url: Option<HttpUrl>,
    pub client_ip_address: Option<IpAddr>,
    pub client_user_agent: Option<UserAgent>,
    pub consent: Option<bool>,
    pub event_ids: EventIds,
    pub customer: CustomerData,
}

/// A click as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredClick {
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
    pub event_ids: Json<BTreeMap<String, String>>,
    pub em: Option<String>,
    pub ph: Option<String>,
    #[sqlx(rename = "fn")]
    pub fn_: Option<String>,
    pub ln: Option<String>,
    pub ge: Option<String>,
    pub db: Option<String>,
    pub ct: Option<String>,
    pub st: Option<String>,
    pub zp: Option<String>,
    pub country: Option<String>,
    pub external_id: Option<String>,
}

impl StoredClick {
    pub fn customer(&self) -> CustomerData {
        CustomerData::from_columns([
            self.em.clone(),
            self.ph.clone(),
            self.fn_.clone(),
            self.ln.clone(),
            self.ge.clone(),
            self.db.clone(),
            self.ct.clone(),
            self.st.clone(),
            self.zp.clone(),
            self.country.clone(),
            self.external_id.clone(),
        ])
    }

    pub fn event_ids(&self) -> EventIds {
        EventIds::from_stored(self.event_ids.0.clone())
    }
}

#[derive(Debug)]
pub struct Upserted {
    /// True for a new click, false when merged into an existing one.
    pub inserted: bool,
    /// The event ids after the merge (the first registration of each event wins).
    pub event_ids: EventIds,
}

/// Stores a click, or merges it into the stored one: stored values and the first-seen time win,
/// missing values are filled in, and the latest consent answer counts (a visitor may accept or
/// withdraw after landing). `None` when the click id belongs to another campaign.
pub async fn upsert(pool: &PgPool, c: &NewClick) -> Result<Option<Upserted>, sqlx::Error> {
    let [em, ph, fn_, ln, ge, db, ct, st, zp, country, external_id] = c.customer.to_columns();
    let row: Option<(bool, Json<BTreeMap<String, String>>)> = sqlx::query_as(
        "INSERT INTO clicks (click_id, campaign_id, fbclid, fbc, fbp, event_source_url, \
            referrer_url, client_ip_address, client_user_agent, consent, event_ids, \
            em, ph, fn, ln, ge, db, ct, st, zp, country, external_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
            $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) \
         ON CONFLICT (click_id) DO UPDATE SET \
            fbclid = COALESCE(clicks.fbclid, EXCLUDED.fbclid), \
            fbc = COALESCE(clicks.fbc, EXCLUDED.fbc), \
            fbp = COALESCE(clicks.fbp, EXCLUDED.fbp), \
            event_source_url = COALESCE(clicks.event_source_url, EXCLUDED.event_source_url), \
            referrer_url = COALESCE(clicks.referrer_url, EXCLUDED.referrer_url), \
            client_ip_address = COALESCE(clicks.client_ip_address, EXCLUDED.client_ip_address), \
            client_user_agent = COALESCE(clicks.client_user_agent, EXCLUDED.client_user_agent), \
            consent = COALESCE(EXCLUDED.consent, clicks.consent), \
            event_ids = EXCLUDED.event_ids || clicks.event_ids, \
            em = COALESCE(clicks.em, EXCLUDED.em), \
            ph = COALESCE(clicks.ph, EXCLUDED.ph), \
            fn = COALESCE(clicks.fn, EXCLUDED.fn), \
            ln = COALESCE(clicks.ln, EXCLUDED.ln), \
            ge = COALESCE(clicks.ge, EXCLUDED.ge), \
            db = COALESCE(clicks.db, EXCLUDED.db), \
            ct = COALESCE(clicks.ct, EXCLUDED.ct), \
            st = COALESCE(clicks.st, EXCLUDED.st), \
            zp = COALESCE(clicks.zp, EXCLUDED.zp), \
            country = COALESCE(clicks.country, EXCLUDED.country), \
            external_id = COALESCE(clicks.external_id, EXCLUDED.external_id), \
            updated_at = now() \
         WHERE clicks.campaign_id = EXCLUDED.campaign_id \
         RETURNING (xmax = 0), event_ids",
    )
    .bind(c.click_id.as_str())
    .bind(c.campaign_id)
    .bind(c.fbclid.as_ref().map(CookieValue::as_str))
    .bind(c.fbc.as_ref().map(CookieValue::as_str))
    .bind(c.fbp.as_ref().map(CookieValue::as_str))
    .bind(c.event_source_url.as_ref().map(HttpUrl::as_str))
    .bind(c.referrer_url.as_ref().map(HttpUrl::as_str))
    .bind(c.client_ip_address.map(|ip| ip.to_string()))
    .bind(c.client_user_agent.as_ref().map(UserAgent::as_str))
    .bind(c.consent)
    .bind(Json(c.event_ids.as_map()))
    .bind(em)
    .bind(ph)
    .bind(fn_)
    .bind(ln)
    .bind(ge)
    .bind(db)
    .bind(ct)
    .bind(st)
    .bind(zp)
    .bind(country)
    .bind(external_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(inserted, ids)| Upserted {
        inserted,
        event_ids: EventIds::from_stored(ids.0),
    }))
}

const SELECT: &str = "SELECT k.id, k.click_id, k.campaign_id, c.key AS campaign_key, \
    k.first_seen_at, k.updated_at, k.fbclid, k.fbc, k.fbp, k.event_source_url, k.referrer_url, \
    k.client_ip_address, k.client_user_agent, k.consent, k.event_ids, k.em, k.ph, k.fn, k.ln, \
    k.ge, k.db, k.ct, k.st, k.zp, k.country, k.external_id \
    FROM clicks k JOIN campaigns c ON c.id = k.campaign_id";

pub async fn find<'e>(
    db: impl PgExecutor<'e>,
    click_id: &str,
) -> Result<Option<StoredClick>, sqlx::Error> {
    sqlx::query_as::<_, StoredClick>(&format!("{SELECT} WHERE k.click_id = $1"))
        .bind(click_id)
        .fetch_optional(db)
        .await
}
