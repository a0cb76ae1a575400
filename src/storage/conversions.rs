//! Conversions: what each postback became. Deciding is the ingest layer's work; this module
//! stores and reads the result.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};

use crate::domain::{ActionSource, Conversion, ConversionState, CustomerData, DropReport};

pub use super::click_history::{click_histories, click_history, ClickHistory};
pub use super::conversion_dedup::{delete_failed_twins, DedupKey};

pub use super::conversion_view::{
    deliveries, list, no_payout_count, page, view, ConversionView, Delivery, ListFilter, Page,
};

/// A `conversions` row as read (`fn` is a Rust keyword, hence `fn_`).
struct ConversionRow {
    id: i64,
    click_id: String,
    click_row_id: Option<i64>,
    click_ambiguous: bool,
    campaign_id: Option<i64>,
    campaign_hint: Option<String>,
    tracker: String,
    raw_status: String,
    status: String,
    txid: String,
    payout: Option<f64>,
    currency: Option<String>,
    received_at: DateTime<Utc>,
    event_time: DateTime<Utc>,
    state: ConversionState,
    event_name: Option<String>,
    failure_reason: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    fbclid: Option<String>,
    event_source_url: Option<String>,
    params: Option<serde_json::Value>,
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
    tiktok_ph: Option<String>,
    tiktok_external_id: Option<String>,
    action_source: Option<String>,
    import_id: Option<i64>,
}

impl From<ConversionRow> for Conversion {
    fn from(r: ConversionRow) -> Self {
        Conversion {
            id: r.id,
            click_id: r.click_id,
            click_row_id: r.click_row_id,
            click_ambiguous: r.click_ambiguous,
            campaign_id: r.campaign_id,
            campaign_hint: r.campaign_hint,
            tracker: r.tracker,
            raw_status: r.raw_status,
            status: r.status,
            txid: r.txid,
            payout: r.payout,
            currency: r.currency,
            received_at: r.received_at,
            event_time: r.event_time,
            state: r.state,
            event_name: r.event_name,
            failure_reason: r.failure_reason,
            ip: r.ip,
            user_agent: r.user_agent,
            fbclid: r.fbclid,
            event_source_url: r.event_source_url,
            params: r.params,
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
            // Read by the conversion view only; delivery never needs it.
            dropped: DropReport::default(),
            // Each decision makes it afresh.
            skipped: Vec::new(),
            // Written by us through the same enum (and checked by the column's constraint).
            action_source: r.action_source.and_then(|a| ActionSource::parse(&a).ok()),
            import_id: r.import_id,
        }
    }
}

/// Serialises all work on one click id for the rest of the transaction, so two concurrent
/// postbacks for a click cannot both believe they are its first Purchase.
pub async fn lock_click_id(
    tx: &mut Transaction<'_, Postgres>,
    click_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 7001))",
        click_id
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// [`lock_click_id`] for many click ids, taken in the given order. Every batch passes them
/// sorted, so two batches never wait on each other in a cycle.
pub async fn lock_click_ids(
    tx: &mut Transaction<'_, Postgres>,
    sorted_click_ids: &[&str],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended(id, 7001)) \
         FROM unnest($1::text[]) WITH ORDINALITY AS t(id, n) ORDER BY n",
        sorted_click_ids as &[&str]
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Stores a conversion in its decided state. `None` when the same click, status and
/// transaction id are already recorded: the tracker is repeating itself.
pub async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    c: &Conversion,
) -> Result<Option<i64>, sqlx::Error> {
    let ids = insert_many(tx, std::slice::from_ref(c)).await?;
    Ok(ids.into_values().next())
}

/// Column arrays of [`insert_many`], one field per column so each argument names its column.
#[derive(Default)]
struct Columns {
    click_id: Vec<String>,
    click_row_id: Vec<Option<i64>>,
    click_ambiguous: Vec<bool>,
    campaign_id: Vec<Option<i64>>,
    campaign_hint: Vec<Option<String>>,
    tracker: Vec<String>,
    raw_status: Vec<String>,
    status: Vec<String>,
    txid: Vec<String>,
    payout: Vec<Option<f64>>,
    currency: Vec<Option<String>>,
    received_at: Vec<DateTime<Utc>>,
    event_time: Vec<DateTime<Utc>>,
    state: Vec<&'static str>,
    event_name: Vec<Option<String>>,
    failure_reason: Vec<Option<String>>,
    ip: Vec<Option<String>>,
    user_agent: Vec<Option<String>>,
    fbclid: Vec<Option<String>>,
    event_source_url: Vec<Option<String>>,
    params: Vec<Option<serde_json::Value>>,
    customer: [Vec<Option<String>>; 11],
    ttclid: Vec<Option<String>>,
    tiktok_ph: Vec<Option<String>>,
    tiktok_external_id: Vec<Option<String>>,
    dropped: Vec<Option<serde_json::Value>>,
    skipped_platforms: Vec<Option<serde_json::Value>>,
    action_source: Vec<Option<&'static str>>,
    import_id: Vec<Option<i64>>,
}

impl Columns {
    fn push(&mut self, c: &Conversion) {
        self.click_id.push(c.click_id.clone());
        self.click_row_id.push(c.click_row_id);
        self.click_ambiguous.push(c.click_ambiguous);
        self.campaign_id.push(c.campaign_id);
        self.campaign_hint.push(c.campaign_hint.clone());
        self.tracker.push(c.tracker.clone());
        self.raw_status.push(c.raw_status.clone());
        self.status.push(c.status.clone());
        self.txid.push(c.txid.clone());
        self.payout.push(c.payout);
        self.currency.push(c.currency.clone());
        self.received_at.push(c.received_at);
        self.event_time.push(c.event_time);
        self.state.push(c.state.as_str());
        self.event_name.push(c.event_name.clone());
        self.failure_reason.push(c.failure_reason.clone());
        self.ip.push(c.ip.clone());
        self.user_agent.push(c.user_agent.clone());
        self.fbclid.push(c.fbclid.clone());
        self.event_source_url.push(c.event_source_url.clone());
        self.params.push(c.params.clone());
        for (col, v) in self.customer.iter_mut().zip(c.customer.to_columns()) {
            col.push(v);
        }
        self.ttclid.push(c.ttclid.clone());
        self.tiktok_ph
            .push(c.customer.tiktok_ph().map(|h| h.as_str().to_owned()));
        self.tiktok_external_id.push(
            c.customer
                .tiktok_external_id()
                .map(|h| h.as_str().to_owned()),
        );
        self.dropped.push(
            (!c.dropped.is_empty()).then(|| serde_json::to_value(&c.dropped).unwrap_or_default()),
        );
        self.skipped_platforms.push(skipped_json(c));
        self.action_source
            .push(c.action_source.map(ActionSource::as_str));
        self.import_id.push(c.import_id);
    }
}

/// [`insert`] for many conversions in one statement. Returns the new ids by [`DedupKey`]; a key
/// absent from the answer was already recorded.
pub async fn insert_many(
    tx: &mut Transaction<'_, Postgres>,
    rows: &[Conversion],
) -> Result<HashMap<DedupKey, i64>, sqlx::Error> {
    let mut cols = Columns::default();
    for r in rows {
        cols.push(r);
    }
    let Columns {
        click_id,
        click_row_id,
        click_ambiguous,
        campaign_id,
        campaign_hint,
        tracker,
        raw_status,
        status,
        txid,
        payout,
        currency,
        received_at,
        event_time,
        state,
        event_name,
        failure_reason,
        ip,
        user_agent,
        fbclid,
        event_source_url,
        params,
        customer,
        ttclid,
        tiktok_ph,
        tiktok_external_id,
        dropped,
        skipped_platforms,
        action_source,
        import_id,
    } = cols;
    let [em, ph, fn_, ln, ge, db, ct, st, zp, country, external_id] = customer;
    // The UNNEST alias names every argument's column, in the order of the arguments below.
    let found = sqlx::query!(
        r#"INSERT INTO conversions (click_id, click_row_id, campaign_id, campaign_hint, tracker,
            raw_status, status, txid, payout, currency, received_at, event_time, state,
            event_name, failure_reason, ip, user_agent, fbclid, event_source_url, params,
            em, ph, fn, ln, ge, db, ct, st, zp, country, external_id, ttclid, tiktok_ph,
            tiktok_external_id, dropped, skipped_platforms, action_source, import_id,
            click_ambiguous)
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[],
            $6::text[], $7::text[], $8::text[], $9::float8[], $10::text[], $11::timestamptz[],
            $12::timestamptz[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[],
            $18::text[], $19::text[], $20::jsonb[], $21::text[], $22::text[], $23::text[],
            $24::text[], $25::text[], $26::text[], $27::text[], $28::text[], $29::text[],
            $30::text[], $31::text[], $32::text[], $33::text[], $34::text[], $35::jsonb[],
            $36::jsonb[], $37::text[], $38::bigint[], $39::bool[])
            AS u(click_id, click_row_id, campaign_id, campaign_hint, tracker,
            raw_status, status, txid, payout, currency, received_at, event_time, state,
            event_name, failure_reason, ip, user_agent, fbclid, event_source_url, params,
            em, ph, fn, ln, ge, db, ct, st, zp, country, external_id, ttclid, tiktok_ph,
            tiktok_external_id, dropped, skipped_platforms, action_source, import_id,
            click_ambiguous)
         ON CONFLICT ON CONSTRAINT conversions_dedup_key DO NOTHING
         RETURNING id, click_id, campaign_hint, status, txid"#,
        &click_id,
        &click_row_id as &[Option<i64>],
        &campaign_id as &[Option<i64>],
        &campaign_hint as &[Option<String>],
        &tracker,
        &raw_status,
        &status,
        &txid,
        &payout as &[Option<f64>],
        &currency as &[Option<String>],
        &received_at,
        &event_time,
        &state as &[&str],
        &event_name as &[Option<String>],
        &failure_reason as &[Option<String>],
        &ip as &[Option<String>],
        &user_agent as &[Option<String>],
        &fbclid as &[Option<String>],
        &event_source_url as &[Option<String>],
        &params as &[Option<serde_json::Value>],
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
        &ttclid as &[Option<String>],
        &tiktok_ph as &[Option<String>],
        &tiktok_external_id as &[Option<String>],
        &dropped as &[Option<serde_json::Value>],
        &skipped_platforms as &[Option<serde_json::Value>],
        &action_source as &[Option<&str>],
        &import_id as &[Option<i64>],
        &click_ambiguous,
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(found
        .into_iter()
        .map(|r| {
            (
                DedupKey::new(r.click_id, r.campaign_hint, r.status, r.txid),
                r.id,
            )
        })
        .collect())
}

pub async fn find(pool: &PgPool, id: i64) -> Result<Option<Conversion>, sqlx::Error> {
    let row = sqlx::query_as!(
        ConversionRow,
        r#"SELECT id, click_id, click_row_id, click_ambiguous, campaign_id, campaign_hint,
            tracker, raw_status, status, txid, payout, currency, received_at, event_time,
            state AS "state: ConversionState", event_name, failure_reason, ip, user_agent,
            fbclid, event_source_url, params, em, ph, fn AS fn_, ln, ge, db, ct, st, zp, country,
            external_id, ttclid, tiktok_ph, tiktok_external_id, action_source, import_id
         FROM conversions WHERE id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(Conversion::from))
}

/// Unmatched conversions of a click recorded before `id`, oldest first.
pub async fn unmatched_before(
    tx: &mut Transaction<'_, Postgres>,
    click_id: &str,
    id: i64,
) -> Result<Vec<Conversion>, sqlx::Error> {
    let rows = sqlx::query_as!(
        ConversionRow,
        r#"SELECT id, click_id, click_row_id, click_ambiguous, campaign_id, campaign_hint,
            tracker, raw_status, status, txid, payout, currency, received_at, event_time,
            state AS "state: ConversionState", event_name, failure_reason, ip, user_agent,
            fbclid, event_source_url, params, em, ph, fn AS fn_, ln, ge, db, ct, st, zp, country,
            external_id, ttclid, tiktok_ph, tiktok_external_id, action_source, import_id
         FROM conversions WHERE click_id = $1 AND id < $2 AND state = 'unmatched' ORDER BY id"#,
        click_id,
        id
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(Conversion::from).collect())
}

/// Re-reads a conversion under the click lock (a manual retry, the unmatched sweep).
pub async fn find_for_update(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
) -> Result<Option<Conversion>, sqlx::Error> {
    let row = sqlx::query_as!(
        ConversionRow,
        r#"SELECT id, click_id, click_row_id, click_ambiguous, campaign_id, campaign_hint,
            tracker, raw_status, status, txid, payout, currency, received_at, event_time,
            state AS "state: ConversionState", event_name, failure_reason, ip, user_agent,
            fbclid, event_source_url, params, em, ph, fn AS fn_, ln, ge, db, ct, st, zp, country,
            external_id, ttclid, tiktok_ph, tiktok_external_id, action_source, import_id
         FROM conversions WHERE id = $1 FOR UPDATE"#,
        id
    )
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(Conversion::from))
}

/// Records the decision about a conversion that was waiting for its click: its state, click,
/// campaign, event name and failure reason.
pub async fn set_decision(
    tx: &mut Transaction<'_, Postgres>,
    c: &Conversion,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE conversions SET state = $2, click_row_id = $3, campaign_id = $4, \
         event_name = $5, failure_reason = $6, skipped_platforms = $7, click_ambiguous = $8 \
         WHERE id = $1",
        c.id,
        c.state.as_str(),
        c.click_row_id,
        c.campaign_id,
        c.event_name.as_deref(),
        c.failure_reason.as_deref(),
        skipped_json(c),
        c.click_ambiguous,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The platforms `send_when` skipped, NULL when none.
fn skipped_json(c: &Conversion) -> Option<serde_json::Value> {
    (!c.skipped.is_empty()).then(|| serde_json::to_value(&c.skipped).unwrap_or_default())
}

/// Unmatched conversions whose click has arrived, and those whose grace period is over. The
/// click is [`crate::ingest::join`]'s: of the campaign the postback named, else any.
pub async fn unmatched_due(
    pool: &PgPool,
    grace_cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT c.id FROM conversions c WHERE c.state = 'unmatched' \
         AND (c.received_at < $1 OR EXISTS (SELECT 1 FROM clicks k \
              JOIN campaigns m ON m.id = k.campaign_id \
              WHERE k.click_id = c.click_id \
                AND (c.campaign_hint IS NULL OR m.key = c.campaign_hint))) \
         ORDER BY c.id LIMIT $2",
        grace_cutoff,
        limit
    )
    .fetch_all(pool)
    .await
}

/// Conversions of a campaign with a failed event on any platform (retried even while another
/// platform's event is pending; not one cancelled because its platform left the campaign), or
/// that failed before an event existed; oldest first.
pub async fn failed_of_campaign(
    pool: &PgPool,
    campaign_id: i64,
    limit: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT c.id FROM conversions c WHERE c.campaign_id = $1 \
         AND (EXISTS (SELECT 1 FROM events e WHERE e.conversion_id = c.id AND e.state = 'failed' \
                      AND e.failure_class IS DISTINCT FROM 'platform_removed') \
           OR (c.state = 'failed' AND NOT EXISTS (SELECT 1 FROM events e \
                                                  WHERE e.conversion_id = c.id))) \
         ORDER BY c.id LIMIT $2",
        campaign_id,
        limit
    )
    .fetch_all(pool)
    .await
}
