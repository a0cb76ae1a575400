//! Clicks: registering them (here) and reading them ([`read`]). A click is one campaign's: the
//! same click id on two campaigns is two clicks.

mod read;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Transaction};

use super::group_commit::BatchWriter;
use crate::domain::caps::PIXEL_EVENT_IDS_MAX;
use crate::domain::{
    ClickId, CookieValue, CustomerData, DropReport, EventIds, HttpUrl, PixelFiredAt,
    UpdateTokenHash, UserAgent,
};

pub use read::{dropped_of, find_all, find_by_row, find_many, lookup, owned, Lookup};

/// Who registers a click, which decides what a registration of a stored click may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registrant {
    /// A server-side caller with the postback key: merges into any click.
    Key,
    /// A browser: merges only into a click whose update token it presents. Otherwise it may
    /// only withdraw consent (see [`Written::Ignored`]).
    Public,
}

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
    pub registrant: Registrant,
    /// The hash of the update token the registration offered or was given: stored when it
    /// creates the click, compared with the stored one when it does not.
    pub update_token: UpdateTokenHash,
}

/// What a registration did to the stored click.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// A new click.
    Inserted,
    /// Merged into the stored click: stored values and the first-seen time win, missing values
    /// are filled in, and the latest consent answer counts.
    Merged,
    /// The click exists and the registration may not change it (a public one without its
    /// token): nothing was stored, except `consent: false`, which anyone may set.
    Ignored,
}

#[derive(Debug)]
pub struct Upserted {
    pub written: Written,
    /// The event ids after the write (the first registration of each event wins); for an
    /// ignored registration its own, as if the click had been new.
    pub event_ids: EventIds,
    /// TikTok's, likewise.
    pub tiktok_event_ids: EventIds,
}

/// Group-commit writer for clicks: one transaction per batch. A click is stored, or merged
/// into the stored one when the registrant may change it.
pub struct ClickBatches(pub PgPool);

impl BatchWriter<NewClick, Upserted> for ClickBatches {
    async fn batch(&self, clicks: &[NewClick]) -> Result<Vec<Upserted>, sqlx::Error> {
        let mut tx = self.0.begin().await?;
        let answers = upsert_many(&mut tx, clicks).await?;
        tx.commit().await?;
        Ok(answers)
    }
}

type Key = (String, i64);

fn key_of(c: &NewClick) -> Key {
    (c.click_id.as_str().to_owned(), c.campaign_id)
}

/// Stores or merges many clicks, a few statements per round; the answers are in input order.
/// One statement cannot touch a row twice, so a click repeated in the batch goes into a later
/// round, applied in arrival order.
pub async fn upsert_many(
    tx: &mut Transaction<'_, Postgres>,
    clicks: &[NewClick],
) -> Result<Vec<Upserted>, sqlx::Error> {
    let mut answers: Vec<Option<Upserted>> = (0..clicks.len()).map(|_| None).collect();
    let mut pending: Vec<usize> = (0..clicks.len()).collect();
    while !pending.is_empty() {
        let mut seen = HashSet::new();
        let (round, later): (Vec<usize>, Vec<usize>) = pending
            .into_iter()
            .partition(|&i| seen.insert(key_of(&clicks[i])));
        let batch: Vec<&NewClick> = round.iter().map(|&i| &clicks[i]).collect();
        let mut written = write_round(tx, &batch).await?;
        for i in round {
            let c = &clicks[i];
            answers[i] = Some(written.remove(&key_of(c)).unwrap_or_else(|| ignored(c)));
        }
        pending = later;
    }
    Ok(answers
        .into_iter()
        .map(|a| a.expect("every click answered"))
        .collect())
}

/// The answer to a registration that changed nothing: what a new click would have answered.
fn ignored(c: &NewClick) -> Upserted {
    Upserted {
        written: Written::Ignored,
        event_ids: c.event_ids.clone(),
        tiktok_event_ids: c.tiktok_event_ids.clone(),
    }
}

type StoredIds = Json<BTreeMap<String, String>>;
/// click_id, campaign_id, Meta's event ids, TikTok's event ids.
type WrittenRow = (String, i64, StoredIds, StoredIds);

/// One round: insert the new clicks, merge into the stored ones the registrant may change, and
/// let the others withdraw consent. Clicks absent from the answer were ignored.
async fn write_round(
    tx: &mut Transaction<'_, Postgres>,
    round: &[&NewClick],
) -> Result<HashMap<Key, Upserted>, sqlx::Error> {
    let mut out = HashMap::new();
    let take = |out: &mut HashMap<Key, Upserted>, rows: Vec<WrittenRow>, written| {
        for (click_id, campaign_id, ids, tiktok_ids) in rows {
            let answer = Upserted {
                written,
                event_ids: EventIds::from_stored(ids.0),
                tiktok_event_ids: EventIds::from_stored(tiktok_ids.0),
            };
            out.insert((click_id, campaign_id), answer);
        }
    };
    let inserted = insert_new(tx, &Columns::of(round.iter().copied())).await?;
    take(&mut out, inserted, Written::Inserted);
    let stored: Vec<&NewClick> = round
        .iter()
        .copied()
        .filter(|c| !out.contains_key(&key_of(c)))
        .collect();
    if stored.is_empty() {
        return Ok(out);
    }
    let merged = merge_allowed(tx, &Columns::of(stored.iter().copied())).await?;
    take(&mut out, merged, Written::Merged);
    let (ids, campaigns): (Vec<String>, Vec<i64>) = stored
        .iter()
        .filter(|c| c.consent == Some(false) && !out.contains_key(&key_of(c)))
        .map(|c| key_of(c))
        .unzip();
    if !ids.is_empty() {
        withdraw_consent(tx, &ids, &campaigns).await?;
    }
    Ok(out)
}

async fn insert_new(
    tx: &mut Transaction<'_, Postgres>,
    cols: &Columns,
) -> Result<Vec<WrittenRow>, sqlx::Error> {
    let [em, ph, fn_, ln, ge, db, ct, st, zp, country, external_id] = &cols.customer;
    // The UNNEST alias names every argument's column, in the order of the arguments below.
    let rows = sqlx::query!(
        r#"INSERT INTO clicks (click_id, campaign_id, fbclid, fbc, fbp, event_source_url,
            referrer_url, client_ip_address, client_user_agent, consent, event_ids,
            em, ph, fn, ln, ge, db, ct, st, zp, country, external_id, pixel_fired_at,
            ttclid, ttp, tiktok_event_ids, tiktok_ph, tiktok_external_id, dropped,
            update_token_sha256)
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[],
            $6::text[], $7::text[], $8::text[], $9::text[], $10::bool[], $11::jsonb[],
            $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[],
            $18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::jsonb[],
            $24::text[], $25::text[], $26::jsonb[], $27::text[], $28::text[], $29::jsonb[],
            $30::bytea[])
            AS u(click_id, campaign_id, fbclid, fbc, fbp, event_source_url, referrer_url,
            client_ip_address, client_user_agent, consent, event_ids,
            em, ph, fn, ln, ge, db, ct, st, zp, country, external_id, pixel_fired_at,
            ttclid, ttp, tiktok_event_ids, tiktok_ph, tiktok_external_id, dropped,
            update_token_sha256)
         ON CONFLICT (click_id, campaign_id) DO NOTHING
         RETURNING click_id, campaign_id,
            event_ids AS "event_ids: Json<BTreeMap<String, String>>",
            tiktok_event_ids AS "tiktok_event_ids: Json<BTreeMap<String, String>>""#,
        &cols.click_id,
        &cols.campaign_id,
        &cols.fbclid as &[Option<String>],
        &cols.fbc as &[Option<String>],
        &cols.fbp as &[Option<String>],
        &cols.event_source_url as &[Option<String>],
        &cols.referrer_url as &[Option<String>],
        &cols.ip as &[Option<String>],
        &cols.ua as &[Option<String>],
        &cols.consent as &[Option<bool>],
        &cols.event_ids as &[Json<BTreeMap<String, String>>],
        em as &[Option<String>],
        ph as &[Option<String>],
        fn_ as &[Option<String>],
        ln as &[Option<String>],
        ge as &[Option<String>],
        db as &[Option<String>],
        ct as &[Option<String>],
        st as &[Option<String>],
        zp as &[Option<String>],
        country as &[Option<String>],
        external_id as &[Option<String>],
        &cols.pixel_fired_at as &[Json<BTreeMap<String, i64>>],
        &cols.ttclid as &[Option<String>],
        &cols.ttp as &[Option<String>],
        &cols.tiktok_event_ids as &[Json<BTreeMap<String, String>>],
        &cols.tiktok_ph as &[Option<String>],
        &cols.tiktok_external_id as &[Option<String>],
        &cols.dropped as &[Option<serde_json::Value>],
        &cols.token as &[Vec<u8>],
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.click_id, r.campaign_id, r.event_ids, r.tiktok_event_ids))
        .collect())
}

/// Merges each registration into its stored click when the registrant has the postback key or
/// presents the click's update token.
async fn merge_allowed(
    tx: &mut Transaction<'_, Postgres>,
    cols: &Columns,
) -> Result<Vec<WrittenRow>, sqlx::Error> {
    let [em, ph, fn_, ln, ge, db, ct, st, zp, country, external_id] = &cols.customer;
    let rows = sqlx::query!(
        r#"UPDATE clicks SET
            fbclid = COALESCE(clicks.fbclid, u.fbclid),
            fbc = COALESCE(clicks.fbc, u.fbc),
            fbp = COALESCE(clicks.fbp, u.fbp),
            event_source_url = COALESCE(clicks.event_source_url, u.event_source_url),
            referrer_url = COALESCE(clicks.referrer_url, u.referrer_url),
            client_ip_address = COALESCE(clicks.client_ip_address, u.client_ip_address),
            client_user_agent = COALESCE(clicks.client_user_agent, u.client_user_agent),
            consent = COALESCE(u.consent, clicks.consent),
            -- A merge adds no event names past the cap ($32): a click stays bounded.
            event_ids = CASE WHEN (SELECT count(*) FROM jsonb_object_keys(
                u.event_ids || clicks.event_ids)) <= $32
                THEN u.event_ids || clicks.event_ids ELSE clicks.event_ids END,
            -- The first firing counts: Meta's window runs from the first pixel event.
            pixel_fired_at = CASE WHEN (SELECT count(*) FROM jsonb_object_keys(
                u.pixel_fired_at || clicks.pixel_fired_at)) <= $32
                THEN u.pixel_fired_at || clicks.pixel_fired_at
                ELSE clicks.pixel_fired_at END,
            em = COALESCE(clicks.em, u.em),
            ph = COALESCE(clicks.ph, u.ph),
            fn = COALESCE(clicks.fn, u.fn),
            ln = COALESCE(clicks.ln, u.ln),
            ge = COALESCE(clicks.ge, u.ge),
            db = COALESCE(clicks.db, u.db),
            ct = COALESCE(clicks.ct, u.ct),
            st = COALESCE(clicks.st, u.st),
            zp = COALESCE(clicks.zp, u.zp),
            country = COALESCE(clicks.country, u.country),
            external_id = COALESCE(clicks.external_id, u.external_id),
            ttclid = COALESCE(clicks.ttclid, u.ttclid),
            ttp = COALESCE(clicks.ttp, u.ttp),
            tiktok_event_ids = CASE WHEN (SELECT count(*) FROM jsonb_object_keys(
                u.tiktok_event_ids || clicks.tiktok_event_ids)) <= $32
                THEN u.tiktok_event_ids || clicks.tiktok_event_ids
                ELSE clicks.tiktok_event_ids END,
            -- TikTok's digests follow the value they were made from (see CustomerData::or).
            tiktok_ph = CASE WHEN clicks.ph IS NULL THEN u.tiktok_ph ELSE clicks.tiktok_ph END,
            tiktok_external_id = CASE WHEN clicks.external_id IS NULL
                THEN u.tiktok_external_id ELSE clicks.tiktok_external_id END,
            -- The latest registration that dropped something tells what to fix (bounded).
            dropped = COALESCE(u.dropped, clicks.dropped),
            updated_at = now()
         FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[],
            $6::text[], $7::text[], $8::text[], $9::text[], $10::bool[], $11::jsonb[],
            $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[],
            $18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::jsonb[],
            $24::text[], $25::text[], $26::jsonb[], $27::text[], $28::text[], $29::jsonb[],
            $30::bytea[], $31::bool[])
            AS u(click_id, campaign_id, fbclid, fbc, fbp, event_source_url, referrer_url,
            client_ip_address, client_user_agent, consent, event_ids,
            em, ph, fn, ln, ge, db, ct, st, zp, country, external_id, pixel_fired_at,
            ttclid, ttp, tiktok_event_ids, tiktok_ph, tiktok_external_id, dropped,
            update_token_sha256, by_key)
         WHERE clicks.click_id = u.click_id AND clicks.campaign_id = u.campaign_id
           AND (u.by_key OR clicks.update_token_sha256 = u.update_token_sha256)
         RETURNING clicks.click_id, clicks.campaign_id,
            clicks.event_ids AS "event_ids: Json<BTreeMap<String, String>>",
            clicks.tiktok_event_ids AS "tiktok_event_ids: Json<BTreeMap<String, String>>""#,
        &cols.click_id,
        &cols.campaign_id,
        &cols.fbclid as &[Option<String>],
        &cols.fbc as &[Option<String>],
        &cols.fbp as &[Option<String>],
        &cols.event_source_url as &[Option<String>],
        &cols.referrer_url as &[Option<String>],
        &cols.ip as &[Option<String>],
        &cols.ua as &[Option<String>],
        &cols.consent as &[Option<bool>],
        &cols.event_ids as &[Json<BTreeMap<String, String>>],
        em as &[Option<String>],
        ph as &[Option<String>],
        fn_ as &[Option<String>],
        ln as &[Option<String>],
        ge as &[Option<String>],
        db as &[Option<String>],
        ct as &[Option<String>],
        st as &[Option<String>],
        zp as &[Option<String>],
        country as &[Option<String>],
        external_id as &[Option<String>],
        &cols.pixel_fired_at as &[Json<BTreeMap<String, i64>>],
        &cols.ttclid as &[Option<String>],
        &cols.ttp as &[Option<String>],
        &cols.tiktok_event_ids as &[Json<BTreeMap<String, String>>],
        &cols.tiktok_ph as &[Option<String>],
        &cols.tiktok_external_id as &[Option<String>],
        &cols.dropped as &[Option<serde_json::Value>],
        &cols.token as &[Vec<u8>],
        &cols.by_key,
        PIXEL_EVENT_IDS_MAX as i64,
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.click_id, r.campaign_id, r.event_ids, r.tiktok_event_ids))
        .collect())
}

/// Anyone may withdraw a click's consent: it can only stop events, never add to them.
async fn withdraw_consent(
    tx: &mut Transaction<'_, Postgres>,
    click_ids: &[String],
    campaign_ids: &[i64],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE clicks SET consent = false, updated_at = now() \
         FROM UNNEST($1::text[], $2::bigint[]) AS u(click_id, campaign_id) \
         WHERE clicks.click_id = u.click_id AND clicks.campaign_id = u.campaign_id \
           AND clicks.consent IS DISTINCT FROM false",
        click_ids,
        campaign_ids
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
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
    token: Vec<Vec<u8>>,
    by_key: Vec<bool>,
}

impl Columns {
    fn of<'a>(clicks: impl Iterator<Item = &'a NewClick>) -> Self {
        let mut cols = Columns::default();
        for c in clicks {
            cols.push(c);
        }
        cols
    }

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
        self.token.push(c.update_token.as_bytes().to_vec());
        self.by_key.push(c.registrant == Registrant::Key);
    }
}
