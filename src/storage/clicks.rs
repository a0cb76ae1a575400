use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgExecutor, PgPool, Postgres, Transaction};

use super::group_commit::BatchWriter;
use crate::domain::caps::PIXEL_EVENT_IDS_MAX;
use crate::domain::{
    Click, ClickId, CookieValue, CustomerData, DropReport, EventIds, HttpUrl, PixelFiredAt,
    UserAgent,
};

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
    pub pixel_fired_at: PixelFiredAt,
    pub customer: CustomerData,
    pub ttclid: Option<CookieValue>,
    pub ttp: Option<CookieValue>,
    pub tiktok_event_ids: EventIds,
    /// The registration's fields that were dropped or changed, and why.
    pub dropped: DropReport,
}

#[derive(Debug)]
pub struct Upserted {
    /// True for a new click, false when merged into an existing one.
    pub inserted: bool,
    /// The event ids after the merge (the first registration of each event wins).
    pub event_ids: EventIds,
    /// TikTok's, likewise.
    pub tiktok_event_ids: EventIds,
}

/// Stores a click, or merges it into the stored one: stored values and the first-seen time win,
/// missing values are filled in, and the latest consent answer counts (a visitor may accept or
/// withdraw after landing). `None` when the click id belongs to another campaign.
pub async fn upsert(pool: &PgPool, c: &NewClick) -> Result<Option<Upserted>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut out = upsert_many(&mut tx, std::slice::from_ref(c)).await?;
    tx.commit().await?;
    Ok(out.pop().flatten())
}

/// Group-commit writer for clicks: one transaction per batch.
pub struct ClickBatches(pub PgPool);

impl BatchWriter<NewClick, Option<Upserted>> for ClickBatches {
    async fn batch(&self, clicks: &[NewClick]) -> Result<Vec<Option<Upserted>>, sqlx::Error> {
        let mut tx = self.0.begin().await?;
        let answers = upsert_many(&mut tx, clicks).await?;
        tx.commit().await?;
        Ok(answers)
    }

    async fn one(&self, click: &NewClick) -> Result<Option<Upserted>, sqlx::Error> {
        upsert(&self.0, click).await
    }
}

/// [`upsert`] for many clicks in one statement per round; the answers are in input order.
/// One statement cannot touch a row twice, so a click id repeated in the batch goes into a
/// later round, applied in arrival order.
pub async fn upsert_many(
    tx: &mut Transaction<'_, Postgres>,
    clicks: &[NewClick],
) -> Result<Vec<Option<Upserted>>, sqlx::Error> {
    let mut answers: Vec<Option<Upserted>> = (0..clicks.len()).map(|_| None).collect();
    let mut pending: Vec<usize> = (0..clicks.len()).collect();
    while !pending.is_empty() {
        let mut seen = HashSet::new();
        let (round, later): (Vec<usize>, Vec<usize>) = pending
            .into_iter()
            .partition(|&i| seen.insert(clicks[i].click_id.as_str()));
        let rows = upsert_round(tx, round.iter().map(|&i| &clicks[i])).await?;
        let mut by_id: HashMap<String, Upserted> = rows
            .into_iter()
            .map(|(id, inserted, ids, tiktok_ids)| {
                (
                    id,
                    Upserted {
                        inserted,
                        event_ids: EventIds::from_stored(ids.0),
                        tiktok_event_ids: EventIds::from_stored(tiktok_ids.0),
                    },
                )
            })
            .collect();
        for i in round {
            answers[i] = by_id.remove(clicks[i].click_id.as_str());
        }
        pending = later;
    }
    Ok(answers)
}

type StoredIds = Json<BTreeMap<String, String>>;
/// click_id, inserted, Meta's event ids, TikTok's event ids.
type UpsertRow = (String, bool, StoredIds, StoredIds);

async fn upsert_round<'a>(
    tx: &mut Transaction<'_, Postgres>,
    clicks: impl Iterator<Item = &'a NewClick>,
) -> Result<Vec<UpsertRow>, sqlx::Error> {
    let mut cols = Columns::default();
    for c in clicks {
        cols.push(c);
    }
    let Columns {
        click_id,
        campaign_id,
        fbclid,
        fbc,
        fbp,
        event_source_url,
        referrer_url,
        ip,
        ua,
        consent,
        event_ids,
        pixel_fired_at,
        customer,
        ttclid,
        ttp,
        tiktok_event_ids,
        tiktok_ph,
        tiktok_external_id,
        dropped,
    } = cols;
    let [em, ph, fn_, ln, ge, db, ct, st, zp, country, external_id] = customer;
    // The UNNEST alias names every argument's column, in the order of the arguments below.
    let rows = sqlx::query!(
        r#"INSERT INTO clicks (click_id, campaign_id, fbclid, fbc, fbp, event_source_url,
            referrer_url, client_ip_address, client_user_agent, consent, event_ids,
            em, ph, fn, ln, ge, db, ct, st, zp, country, external_id, pixel_fired_at,
            ttclid, ttp, tiktok_event_ids, tiktok_ph, tiktok_external_id, dropped)
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[],
            $6::text[], $7::text[], $8::text[], $9::text[], $10::bool[], $11::jsonb[],
            $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[],
            $18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::jsonb[],
            $24::text[], $25::text[], $26::jsonb[], $27::text[], $28::text[], $29::jsonb[])
            AS u(click_id, campaign_id, fbclid, fbc, fbp, event_source_url, referrer_url,
            client_ip_address, client_user_agent, consent, event_ids,
            em, ph, fn, ln, ge, db, ct, st, zp, country, external_id, pixel_fired_at,
            ttclid, ttp, tiktok_event_ids, tiktok_ph, tiktok_external_id, dropped)
         ON CONFLICT (click_id) DO UPDATE SET
            fbclid = COALESCE(clicks.fbclid, EXCLUDED.fbclid),
            fbc = COALESCE(clicks.fbc, EXCLUDED.fbc),
            fbp = COALESCE(clicks.fbp, EXCLUDED.fbp),
            event_source_url = COALESCE(clicks.event_source_url, EXCLUDED.event_source_url),
            referrer_url = COALESCE(clicks.referrer_url, EXCLUDED.referrer_url),
            client_ip_address = COALESCE(clicks.client_ip_address, EXCLUDED.client_ip_address),
            client_user_agent = COALESCE(clicks.client_user_agent, EXCLUDED.client_user_agent),
            consent = COALESCE(EXCLUDED.consent, clicks.consent),
            -- A merge adds no event names past the cap ($30): a click stays bounded.
            event_ids = CASE WHEN (SELECT count(*) FROM jsonb_object_keys(
                EXCLUDED.event_ids || clicks.event_ids)) <= $30
                THEN EXCLUDED.event_ids || clicks.event_ids ELSE clicks.event_ids END,
            -- The first firing counts: Meta's window runs from the first pixel event.
            pixel_fired_at = CASE WHEN (SELECT count(*) FROM jsonb_object_keys(
                EXCLUDED.pixel_fired_at || clicks.pixel_fired_at)) <= $30
                THEN EXCLUDED.pixel_fired_at || clicks.pixel_fired_at
                ELSE clicks.pixel_fired_at END,
            em = COALESCE(clicks.em, EXCLUDED.em),
            ph = COALESCE(clicks.ph, EXCLUDED.ph),
            fn = COALESCE(clicks.fn, EXCLUDED.fn),
            ln = COALESCE(clicks.ln, EXCLUDED.ln),
            ge = COALESCE(clicks.ge, EXCLUDED.ge),
            db = COALESCE(clicks.db, EXCLUDED.db),
            ct = COALESCE(clicks.ct, EXCLUDED.ct),
            st = COALESCE(clicks.st, EXCLUDED.st),
            zp = COALESCE(clicks.zp, EXCLUDED.zp),
            country = COALESCE(clicks.country, EXCLUDED.country),
            external_id = COALESCE(clicks.external_id, EXCLUDED.external_id),
            ttclid = COALESCE(clicks.ttclid, EXCLUDED.ttclid),
            ttp = COALESCE(clicks.ttp, EXCLUDED.ttp),
            tiktok_event_ids = CASE WHEN (SELECT count(*) FROM jsonb_object_keys(
                EXCLUDED.tiktok_event_ids || clicks.tiktok_event_ids)) <= $30
                THEN EXCLUDED.tiktok_event_ids || clicks.tiktok_event_ids
                ELSE clicks.tiktok_event_ids END,
            -- TikTok's digests follow the value they were made from (see CustomerData::or).
            tiktok_ph = CASE WHEN clicks.ph IS NULL THEN EXCLUDED.tiktok_ph
                ELSE clicks.tiktok_ph END,
            tiktok_external_id = CASE WHEN clicks.external_id IS NULL
                THEN EXCLUDED.tiktok_external_id ELSE clicks.tiktok_external_id END,
            -- The latest registration that dropped something tells what to fix (bounded).
            dropped = COALESCE(EXCLUDED.dropped, clicks.dropped),
            updated_at = now()
         WHERE clicks.campaign_id = EXCLUDED.campaign_id
         RETURNING click_id, (xmax = 0) AS "inserted!",
            event_ids AS "event_ids: Json<BTreeMap<String, String>>",
            tiktok_event_ids AS "tiktok_event_ids: Json<BTreeMap<String, String>>""#,
        &click_id,
        &campaign_id,
        &fbclid as &[Option<String>],
        &fbc as &[Option<String>],
        &fbp as &[Option<String>],
        &event_source_url as &[Option<String>],
        &referrer_url as &[Option<String>],
        &ip as &[Option<String>],
        &ua as &[Option<String>],
        &consent as &[Option<bool>],
        &event_ids as &[Json<BTreeMap<String, String>>],
        &em as &[Option<String>],
        &ph as &[Option<String>],
        &fn_ as &[Option<String>],
        &ln as &[Option<String>],
        &ge as &[Option<String>],
        &db as &[Option<String>],
        &ct as &[Option<String>],
        &st as &[Option<String>],
        &zp as &[Option<String>],
        &country as &[Option<String>],
        &external_id as &[Option<String>],
        &pixel_fired_at as &[Json<BTreeMap<String, i64>>],
        &ttclid as &[Option<String>],
        &ttp as &[Option<String>],
        &tiktok_event_ids as &[Json<BTreeMap<String, String>>],
        &tiktok_ph as &[Option<String>],
        &tiktok_external_id as &[Option<String>],
        &dropped as &[Option<serde_json::Value>],
        PIXEL_EVENT_IDS_MAX as i64,
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.click_id, r.inserted, r.event_ids, r.tiktok_event_ids))
        .collect())
}

/// Column arrays for UNNEST.
#[derive(Default)]
struct Columns {
    click_id: Vec<String>,
    campaign_id: Vec<i64>,
    fbclid: Vec<Option<String>>,
    fbc: Vec<Option<String>>,
    fbp: Vec<Option<String>>,
    event_source_url: Vec<Option<String>>,
    referrer_url: Vec<Option<String>>,
    ip: Vec<Option<String>>,
    ua: Vec<Option<String>>,
    consent: Vec<Option<bool>>,
    event_ids: Vec<Json<BTreeMap<String, String>>>,
    pixel_fired_at: Vec<Json<BTreeMap<String, i64>>>,
    customer: [Vec<Option<String>>; 11],
    ttclid: Vec<Option<String>>,
    ttp: Vec<Option<String>>,
    tiktok_event_ids: Vec<Json<BTreeMap<String, String>>>,
    tiktok_ph: Vec<Option<String>>,
    tiktok_external_id: Vec<Option<String>>,
    dropped: Vec<Option<serde_json::Value>>,
}

impl Columns {
    fn push(&mut self, c: &NewClick) {
        let s = |v: Option<&str>| v.map(str::to_owned);
        self.click_id.push(c.click_id.as_str().to_owned());
        self.campaign_id.push(c.campaign_id);
        self.fbclid
            .push(s(c.fbclid.as_ref().map(CookieValue::as_str)));
        self.fbc.push(s(c.fbc.as_ref().map(CookieValue::as_str)));
        self.fbp.push(s(c.fbp.as_ref().map(CookieValue::as_str)));
        self.event_source_url
            .push(s(c.event_source_url.as_ref().map(HttpUrl::as_str)));
        self.referrer_url
            .push(s(c.referrer_url.as_ref().map(HttpUrl::as_str)));
        self.ip.push(c.client_ip_address.map(|ip| ip.to_string()));
        self.ua
            .push(s(c.client_user_agent.as_ref().map(UserAgent::as_str)));
        self.consent.push(c.consent);
        self.event_ids.push(Json(c.event_ids.as_map().clone()));
        self.pixel_fired_at.push(Json(c.pixel_fired_at.to_millis()));
        for (col, v) in self.customer.iter_mut().zip(c.customer.to_columns()) {
            col.push(v);
        }
        self.ttclid
            .push(s(c.ttclid.as_ref().map(CookieValue::as_str)));
        self.ttp.push(s(c.ttp.as_ref().map(CookieValue::as_str)));
        self.tiktok_event_ids
            .push(Json(c.tiktok_event_ids.as_map().clone()));
        self.tiktok_ph
            .push(s(c.customer.tiktok_ph().map(|h| h.as_str())));
        self.tiktok_external_id
            .push(s(c.customer.tiktok_external_id().map(|h| h.as_str())));
        self.dropped.push(
            (!c.dropped.is_empty()).then(|| serde_json::to_value(&c.dropped).unwrap_or_default()),
        );
    }
}

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
pub async fn dropped_of(pool: &PgPool, click_id: &str) -> Result<DropReport, sqlx::Error> {
    let stored = sqlx::query_scalar!(
        r#"SELECT dropped AS "dropped: Json<Vec<crate::domain::Dropped>>"
           FROM clicks WHERE click_id = $1"#,
        click_id
    )
    .fetch_optional(pool)
    .await?
    .flatten();
    Ok(DropReport::from_stored(stored.map(|j| j.0)))
}

pub async fn find<'e>(
    db: impl PgExecutor<'e>,
    click_id: &str,
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
        WHERE k.click_id = $1"#,
        click_id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(Click::from))
}

/// The clicks among `click_ids` that are registered, by click id.
pub async fn find_many(
    tx: &mut Transaction<'_, Postgres>,
    click_ids: &[&str],
) -> Result<HashMap<String, Click>, sqlx::Error> {
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
        WHERE k.click_id = ANY($1)"#,
        click_ids as &[&str]
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.click_id.clone(), Click::from(r)))
        .collect())
}
