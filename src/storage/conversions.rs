use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};

use super::customer_columns::CustomerColumns;
use crate::domain::CustomerData;
use crate::ingest::decide::Decision;
use crate::trackers::Postback;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredConversion {
    pub id: i64,
    pub click_id: String,
    pub click_row_id: Option<i64>,
    pub campaign_id: Option<i64>,
    pub campaign_hint: Option<String>,
    pub tracker: String,
    pub raw_status: String,
    pub status: String,
    pub txid: String,
    pub payout: Option<f64>,
    pub currency: Option<String>,
    pub received_at: DateTime<Utc>,
    pub event_time: DateTime<Utc>,
    pub state: String,
    pub event_name: Option<String>,
    pub failure_reason: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub fbclid: Option<String>,
    pub event_source_url: Option<String>,
    /// The received parameters without the key and personal data.
    pub params: Option<serde_json::Value>,
    #[sqlx(flatten)]
    pub customer_columns: CustomerColumns,
}

impl StoredConversion {
    /// The row a postback will become, before it is stored (`id` 0, state `unmatched`).
    pub fn from_postback(p: &Postback, received_at: DateTime<Utc>) -> Self {
        StoredConversion {
            id: 0,
            click_id: p.click_id.as_str().to_owned(),
            click_row_id: None,
            campaign_id: None,
            campaign_hint: p.campaign.as_ref().map(|c| c.as_str().to_owned()),
            tracker: p.tracker.as_str().to_owned(),
            raw_status: p.raw_status.clone(),
            status: p.status.clone(),
            txid: p.txid.clone(),
            payout: p.payout,
            currency: p.currency.map(|c| c.as_str().to_owned()),
            received_at,
            event_time: p.event_time.unwrap_or(received_at),
            state: "unmatched".into(),
            event_name: None,
            failure_reason: None,
            ip: p.ip.map(|ip| ip.to_string()),
            user_agent: p.user_agent.as_ref().map(|u| u.as_str().to_owned()),
            fbclid: p.fbclid.as_ref().map(|f| f.as_str().to_owned()),
            event_source_url: p.event_source_url.as_ref().map(|u| u.as_str().to_owned()),
            params: Some(p.params.clone()),
            customer_columns: CustomerColumns::from_data(&p.customer),
        }
    }

    pub fn customer(&self) -> CustomerData {
        self.customer_columns.data()
    }
}

const COLUMNS: &str = "id, click_id, click_row_id, campaign_id, campaign_hint, tracker, \
    raw_status, status, txid, payout, currency, received_at, event_time, state, event_name, \
    failure_reason, ip, user_agent, fbclid, event_source_url, params, em, ph, fn, ln, ge, db, ct, \
    st, zp, country, external_id";

/// Serialises all work on one click id for the rest of the transaction, so two concurrent
/// postbacks for a click cannot both believe they are its first Purchase.
pub async fn lock_click_id(
    tx: &mut Transaction<'_, Postgres>,
    click_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7001))")
        .bind(click_id)
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
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended(id, 7001)) \
         FROM unnest($1::text[]) WITH ORDINALITY AS t(id, n) ORDER BY n",
    )
    .bind(sorted_click_ids)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Stores a conversion in its decided state. `None` when the same click, status and
/// transaction id are already recorded: the tracker is repeating itself.
pub async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    c: &StoredConversion,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO conversions (click_id, click_row_id, campaign_id, campaign_hint, tracker, \
            raw_status, status, txid, payout, currency, received_at, event_time, state, \
            event_name, failure_reason, ip, user_agent, fbclid, \
            em, ph, fn, ln, ge, db, ct, st, zp, country, external_id, event_source_url, params) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
            $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31) \
         ON CONFLICT ON CONSTRAINT conversions_dedup_key DO NOTHING \
         RETURNING id",
    )
    .bind(&c.click_id)
    .bind(c.click_row_id)
    .bind(c.campaign_id)
    .bind(&c.campaign_hint)
    .bind(&c.tracker)
    .bind(&c.raw_status)
    .bind(&c.status)
    .bind(&c.txid)
    .bind(c.payout)
    .bind(&c.currency)
    .bind(c.received_at)
    .bind(c.event_time)
    .bind(&c.state)
    .bind(&c.event_name)
    .bind(&c.failure_reason)
    .bind(&c.ip)
    .bind(&c.user_agent)
    .bind(&c.fbclid)
    .bind(&c.customer_columns.em)
    .bind(&c.customer_columns.ph)
    .bind(&c.customer_columns.fn_)
    .bind(&c.customer_columns.ln)
    .bind(&c.customer_columns.ge)
    .bind(&c.customer_columns.db)
    .bind(&c.customer_columns.ct)
    .bind(&c.customer_columns.st)
    .bind(&c.customer_columns.zp)
    .bind(&c.customer_columns.country)
    .bind(&c.customer_columns.external_id)
    .bind(&c.event_source_url)
    .bind(&c.params)
    .fetch_optional(&mut **tx)
    .await
}

/// What deciding a conversion needs to know about the other conversions of its click.
pub struct ClickHistory {
    /// Conversions still waiting for this click.
    pub has_unmatched: bool,
    /// Event names other conversions of the click were given.
    pub used_events: Vec<String>,
}

/// [`click_history`] of several clicks at once; clicks without conversions are absent.
pub async fn click_histories(
    tx: &mut Transaction<'_, Postgres>,
    click_ids: &[&str],
) -> Result<HashMap<String, ClickHistory>, sqlx::Error> {
    // Until autovacuum first analyzes `conversions`, the planner has no statistics for
    // `click_id` and guesses that each of the ~30 ids matches 0.5% of the table: it then
    // scans the whole table for every batch. Measured on a fresh database taking 100,000
    // postbacks: 1,706 sequential scans reading 80 million rows, 12 ms per batch and half of
    // PostgreSQL's time, before any autoanalyze ran. A lookup by click id is always a few
    // index entries, so sequential scans are ruled out for this statement only.
    sqlx::query("SET LOCAL enable_seqscan = off")
        .execute(&mut **tx)
        .await?;
    let rows: Vec<(String, bool, Vec<String>)> = sqlx::query_as(
        "SELECT click_id, COALESCE(bool_or(state = 'unmatched'), false), \
            COALESCE(array_agg(DISTINCT event_name) FILTER (WHERE event_name IS NOT NULL), '{}') \
         FROM conversions WHERE click_id = ANY($1) GROUP BY click_id",
    )
    .bind(click_ids)
    .fetch_all(&mut **tx)
    .await?;
    sqlx::query("SET LOCAL enable_seqscan TO DEFAULT")
        .execute(&mut **tx)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, has_unmatched, used_events)| {
            (
                id,
                ClickHistory {
                    has_unmatched,
                    used_events,
                },
            )
        })
        .collect())
}

/// [`insert`] for many conversions in one statement. Returns the new ids by dedup key
/// (click id, status, txid); a key absent from the answer was already recorded.
pub async fn insert_many(
    tx: &mut Transaction<'_, Postgres>,
    rows: &[StoredConversion],
) -> Result<HashMap<(String, String, String), i64>, sqlx::Error> {
    let col = |f: fn(&StoredConversion) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let text =
        |f: fn(&StoredConversion) -> &String| rows.iter().map(|r| f(r).clone()).collect::<Vec<_>>();
    let found: Vec<(i64, String, String, String)> = sqlx::query_as(
        "INSERT INTO conversions (click_id, click_row_id, campaign_id, campaign_hint, tracker, \
            raw_status, status, txid, payout, currency, received_at, event_time, state, \
            event_name, failure_reason, ip, user_agent, fbclid, \
            em, ph, fn, ln, ge, db, ct, st, zp, country, external_id, event_source_url, params) \
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], \
            $6::text[], $7::text[], $8::text[], $9::float8[], $10::text[], $11::timestamptz[], \
            $12::timestamptz[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], \
            $18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::text[], \
            $24::text[], $25::text[], $26::text[], $27::text[], $28::text[], $29::text[], \
            $30::text[], $31::jsonb[]) \
         ON CONFLICT ON CONSTRAINT conversions_dedup_key DO NOTHING \
         RETURNING id, click_id, status, txid",
    )
    .bind(text(|r| &r.click_id))
    .bind(rows.iter().map(|r| r.click_row_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.campaign_id).collect::<Vec<_>>())
    .bind(col(|r| r.campaign_hint.clone()))
    .bind(text(|r| &r.tracker))
    .bind(text(|r| &r.raw_status))
    .bind(text(|r| &r.status))
    .bind(text(|r| &r.txid))
    .bind(rows.iter().map(|r| r.payout).collect::<Vec<_>>())
    .bind(col(|r| r.currency.clone()))
    .bind(rows.iter().map(|r| r.received_at).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.event_time).collect::<Vec<_>>())
    .bind(text(|r| &r.state))
    .bind(col(|r| r.event_name.clone()))
    .bind(col(|r| r.failure_reason.clone()))
    .bind(col(|r| r.ip.clone()))
    .bind(col(|r| r.user_agent.clone()))
    .bind(col(|r| r.fbclid.clone()))
    .bind(col(|r| r.customer_columns.em.clone()))
    .bind(col(|r| r.customer_columns.ph.clone()))
    .bind(col(|r| r.customer_columns.fn_.clone()))
    .bind(col(|r| r.customer_columns.ln.clone()))
    .bind(col(|r| r.customer_columns.ge.clone()))
    .bind(col(|r| r.customer_columns.db.clone()))
    .bind(col(|r| r.customer_columns.ct.clone()))
    .bind(col(|r| r.customer_columns.st.clone()))
    .bind(col(|r| r.customer_columns.zp.clone()))
    .bind(col(|r| r.customer_columns.country.clone()))
    .bind(col(|r| r.customer_columns.external_id.clone()))
    .bind(col(|r| r.event_source_url.clone()))
    .bind(rows.iter().map(|r| r.params.clone()).collect::<Vec<_>>())
    .fetch_all(&mut **tx)
    .await?;
    Ok(found
        .into_iter()
        .map(|(id, click_id, status, txid)| ((click_id, status, txid), id))
        .collect())
}

/// Resolution of one click is serialised by [`lock_click_id`], so the first conversion given an
/// event gets the plain event id and every later one a suffixed id.
pub async fn click_history(
    tx: &mut Transaction<'_, Postgres>,
    click_id: &str,
    except_id: i64,
) -> Result<ClickHistory, sqlx::Error> {
    let (has_unmatched, used_events): (bool, Vec<String>) = sqlx::query_as(
        "SELECT COALESCE(bool_or(state = 'unmatched'), false), \
            COALESCE(array_agg(DISTINCT event_name) FILTER (WHERE event_name IS NOT NULL), '{}') \
         FROM conversions WHERE click_id = $1 AND id <> $2",
    )
    .bind(click_id)
    .bind(except_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(ClickHistory {
        has_unmatched,
        used_events,
    })
}

pub async fn find(pool: &PgPool, id: i64) -> Result<Option<StoredConversion>, sqlx::Error> {
    sqlx::query_as::<_, StoredConversion>(&format!(
        "SELECT {COLUMNS} FROM conversions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Re-reads an unmatched conversion under the click lock; `None` if someone resolved it.
pub async fn find_unmatched_for_update(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
) -> Result<Option<StoredConversion>, sqlx::Error> {
    sqlx::query_as::<_, StoredConversion>(&format!(
        "SELECT {COLUMNS} FROM conversions WHERE id = $1 AND state = 'unmatched' FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

/// Unmatched conversions of a click recorded before `id`, oldest first.
pub async fn unmatched_before(
    tx: &mut Transaction<'_, Postgres>,
    click_id: &str,
    id: i64,
) -> Result<Vec<StoredConversion>, sqlx::Error> {
    sqlx::query_as::<_, StoredConversion>(&format!(
        "SELECT {COLUMNS} FROM conversions WHERE click_id = $1 AND id < $2 \
         AND state = 'unmatched' ORDER BY id"
    ))
    .bind(click_id)
    .bind(id)
    .fetch_all(&mut **tx)
    .await
}

/// Records the decision about a conversion that was waiting for its click.
pub async fn set_decision(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    click_row_id: Option<i64>,
    d: &Decision,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE conversions SET state = $2, click_row_id = $3, campaign_id = $4, \
         event_name = $5, failure_reason = $6 WHERE id = $1",
    )
    .bind(id)
    .bind(d.state)
    .bind(click_row_id)
    .bind(d.campaign_id)
    .bind(&d.event_name)
    .bind(&d.failure_reason)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Unmatched conversions whose click has arrived, and those whose grace period is over.
pub async fn unmatched_due(
    pool: &PgPool,
    grace_cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT c.id FROM conversions c WHERE c.state = 'unmatched' \
         AND (c.received_at < $1 OR EXISTS (SELECT 1 FROM clicks k WHERE k.click_id = c.click_id)) \
         ORDER BY c.id LIMIT $2",
    )
    .bind(grace_cutoff)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// A conversion's state as the admin API and the metrics show it: its event's state once it
/// has an event, else its own.
pub const VIEW_STATES: [&str; 7] = [
    "pending",
    "sent",
    "failed",
    "expired",
    "skipped",
    "suppressed",
    "unmatched",
];

/// One row of the admin conversion list: the conversion with its event's delivery state.
#[derive(Debug, sqlx::FromRow, serde::Serialize)]
pub struct ConversionView {
    pub id: i64,
    pub click_id: String,
    pub campaign: Option<String>,
    pub tracker: String,
    pub raw_status: String,
    pub status: String,
    pub txid: String,
    pub event_name: Option<String>,
    pub event_id: Option<String>,
    pub value: Option<f64>,
    pub currency: Option<String>,
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// Why the conversion was skipped, suppressed or not built.
    pub reason: Option<String>,
    /// The postback as received, without the key and personal data.
    pub params: Option<serde_json::Value>,
    pub received_at: DateTime<Utc>,
    pub event_time: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub payload: Option<serde_json::Value>,
}

const VIEW: &str = "SELECT c.id, c.click_id, COALESCE(k.key, c.campaign_hint) AS campaign, \
    c.tracker, c.raw_status, c.status, c.txid, c.event_name, e.event_id, \
    (e.payload -> 'custom_data' ->> 'value')::float8 AS value, \
    COALESCE(e.payload -> 'custom_data' ->> 'currency', c.currency) AS currency, \
    COALESCE(e.state, c.state) AS state, COALESCE(e.attempts, 0) AS attempts, \
    COALESCE(e.last_error, c.failure_reason) AS last_error, c.failure_reason AS reason, \
    c.params, c.received_at, c.event_time, \
    e.sent_at, CASE WHEN e.state = 'pending' THEN e.next_attempt_at END AS next_attempt_at, \
    e.payload \
    FROM conversions c LEFT JOIN events e ON e.conversion_id = c.id \
    LEFT JOIN campaigns k ON k.id = c.campaign_id";

pub async fn view(pool: &PgPool, id: i64) -> Result<Option<ConversionView>, sqlx::Error> {
    sqlx::query_as::<_, ConversionView>(&format!("{VIEW} WHERE c.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// The admin list's filters; `None` matches everything.
pub struct ListFilter<'a> {
    pub campaign: Option<&'a str>,
    pub state: Option<&'a str>,
    pub click_id: Option<&'a str>,
    /// Received at or after.
    pub since: Option<DateTime<Utc>>,
    /// Received before.
    pub until: Option<DateTime<Utc>>,
    /// Ids below this one (the next page).
    pub before: Option<i64>,
    pub limit: i64,
}

/// Newest first; `before` pages backwards through ids.
pub async fn list(pool: &PgPool, f: &ListFilter<'_>) -> Result<Vec<ConversionView>, sqlx::Error> {
    sqlx::query_as::<_, ConversionView>(&format!(
        "{VIEW} WHERE ($1::text IS NULL OR COALESCE(k.key, c.campaign_hint) = $1) \
         AND ($2::text IS NULL OR COALESCE(e.state, c.state) = $2) \
         AND ($3::bigint IS NULL OR c.id < $3) \
         AND ($5::text IS NULL OR c.click_id = $5) \
         AND ($6::timestamptz IS NULL OR c.received_at >= $6) \
         AND ($7::timestamptz IS NULL OR c.received_at < $7) \
         ORDER BY c.id DESC LIMIT $4"
    ))
    .bind(f.campaign)
    .bind(f.state)
    .bind(f.before)
    .bind(f.limit)
    .bind(f.click_id)
    .bind(f.since)
    .bind(f.until)
    .fetch_all(pool)
    .await
}

/// Re-reads a conversion under the click lock, for a manual retry.
pub async fn find_for_update(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
) -> Result<Option<StoredConversion>, sqlx::Error> {
    sqlx::query_as::<_, StoredConversion>(&format!(
        "SELECT {COLUMNS} FROM conversions WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

/// Conversions of a campaign whose event failed, or that failed before an event existed;
/// oldest first.
pub async fn failed_of_campaign(
    pool: &PgPool,
    campaign_id: i64,
    limit: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT c.id FROM conversions c LEFT JOIN events e ON e.conversion_id = c.id \
         WHERE c.campaign_id = $1 AND COALESCE(e.state, c.state) = 'failed' \
         ORDER BY c.id LIMIT $2",
    )
    .bind(campaign_id)
    .bind(limit)
    .fetch_all(pool)
    .await
}
