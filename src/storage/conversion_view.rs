//! The admin API's view of conversions: each with its delivery state, the least advanced of its
//! events' (one per platform; the `least_advanced_state` aggregate of migration 14).

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::PgPool;

pub use super::conversion_filter::ListFilter;
use super::events::AttemptView;
use crate::domain::{
    DeliveryStatus, Dropped, EventState, FailureClass, PlatformKind, PlatformSkip,
};

/// One row of the admin conversion list. `state` is the conversion's delivery state (the least
/// advanced of its events'), and `last_error` with `last_error_platform` say why, whichever
/// platform's event it is; the other event fields describe its Meta event when there is one,
/// else its first, as before a conversion had several (`deliveries` in the detail has each).
// Not closed: the detail flattens it with more fields (`allOf`).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = Conversion)]
pub struct ConversionView {
    pub id: i64,
    pub click_id: String,
    /// The postback named no campaign and several campaigns held its click id: it joined the
    /// most recently registered of those clicks, which may be the wrong one.
    pub click_ambiguous: bool,
    #[schema(required = true)]
    pub campaign: Option<String>,
    pub tracker: String,
    pub raw_status: String,
    pub status: String,
    pub txid: String,
    #[schema(required = true)]
    pub event_name: Option<String>,
    #[schema(required = true)]
    pub event_id: Option<String>,
    #[schema(required = true)]
    pub value: Option<f64>,
    #[schema(required = true)]
    pub currency: Option<String>,
    #[schema(value_type = String)]
    pub state: DeliveryStatus,
    pub attempts: i32,
    /// Why the conversion is not (yet) sent: the last error of its least advanced event that has
    /// one (of whichever platform), else the conversion's own failure reason.
    #[schema(required = true)]
    pub last_error: Option<String>,
    /// The platform whose event `last_error` is; `None` when it is the conversion's own.
    #[schema(required = true)]
    pub last_error_platform: Option<PlatformKind>,
    /// Why the conversion was skipped, suppressed or not built.
    #[schema(required = true)]
    pub reason: Option<String>,
    /// The postback as received, without the key and personal data.
    #[schema(required = true)]
    pub params: Option<serde_json::Value>,
    pub received_at: DateTime<Utc>,
    pub event_time: DateTime<Utc>,
    #[schema(required = true)]
    pub sent_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub payload: Option<serde_json::Value>,
    /// TikTok's click id is known (on the conversion or its click); never shown raw.
    pub ttclid_set: bool,
    /// A TikTok phone digest is stored (on the conversion or its click).
    pub tiktok_ph_set: bool,
    /// A TikTok external_id digest (the id as given) is stored (on the conversion or its click).
    pub tiktok_external_id_set: bool,
    /// A purchase whose postback carried no (readable) payout, of a campaign whose
    /// `value_source` is `payout`: Meta and TikTok got value 0.
    pub no_payout: bool,
    /// The postback's fields that were dropped or changed, and why (empty when none).
    #[serde(serialize_with = "list_or_empty")]
    #[schema(value_type = Vec<Dropped>)]
    pub dropped: Option<Json<Vec<Dropped>>>,
    /// The campaign's platforms whose `send_when` kept this conversion from them, and why
    /// (empty when none): such a platform has no event.
    #[serde(serialize_with = "list_or_empty")]
    #[schema(value_type = Vec<PlatformSkip>)]
    pub skipped: Option<Json<Vec<PlatformSkip>>>,
    /// The platforms whose event went to their Test Events (its latest attempt carried a test
    /// event code), Meta's first; empty in production.
    pub test_platforms: Vec<PlatformKind>,
}

/// A stored JSON list; absent and empty read the same: `[]`.
fn list_or_empty<T: serde::Serialize, S: serde::Serializer>(
    v: &Option<Json<Vec<T>>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    v.as_ref()
        .map(|j| j.0.as_slice())
        .unwrap_or(&[])
        .serialize(s)
}

pub async fn view(pool: &PgPool, id: i64) -> Result<Option<ConversionView>, sqlx::Error> {
    sqlx::query_as!(
        ConversionView,
        r#"SELECT c.id, c.click_id, c.click_ambiguous,
            COALESCE(k.key, c.campaign_hint) AS campaign, c.tracker, c.raw_status, c.status, c.txid, c.event_name, e.event_id AS "event_id?",
            e.value AS "value?", COALESCE(e.currency, c.currency) AS currency,
            COALESCE(d.state, c.state) AS "state!: DeliveryStatus",
            COALESCE(e.attempts, 0) AS "attempts!",
            COALESCE(f.last_error, c.failure_reason) AS last_error,
            f.platform AS "last_error_platform?: PlatformKind", c.failure_reason AS reason,
            c.params, c.received_at, c.event_time, e.sent_at AS "sent_at?",
            CASE WHEN e.state = 'pending' THEN e.next_attempt_at END AS next_attempt_at,
            e.payload AS "payload?",
            (c.ttclid IS NOT NULL OR ck.ttclid IS NOT NULL) AS "ttclid_set!",
            (c.tiktok_ph IS NOT NULL OR ck.tiktok_ph IS NOT NULL) AS "tiktok_ph_set!",
            (c.tiktok_external_id IS NOT NULL OR ck.tiktok_external_id IS NOT NULL)
                AS "tiktok_external_id_set!",
            COALESCE(c.payout IS NULL AND k.value_source = 'payout'
                AND (c.event_name IN ('Purchase', 'CompletePayment')
                     OR EXISTS (SELECT 1 FROM events x WHERE x.conversion_id = c.id
                                AND x.event_name IN ('Purchase', 'CompletePayment'))),
                false) AS "no_payout!",
            c.dropped AS "dropped: Json<Vec<Dropped>>",
            c.skipped_platforms AS "skipped: Json<Vec<PlatformSkip>>",
            ARRAY(SELECT x.platform FROM events x WHERE x.conversion_id = c.id
                    AND event_test_event_code(x.id) IS NOT NULL
                  ORDER BY x.platform <> 'meta', x.id) AS "test_platforms!: Vec<PlatformKind>"
         FROM conversions c
         LEFT JOIN LATERAL (SELECT least_advanced_state(x.state, x.failure_class) AS state FROM events x
                            WHERE x.conversion_id = c.id) d ON true
         LEFT JOIN LATERAL (SELECT * FROM events x WHERE x.conversion_id = c.id
                            ORDER BY x.platform <> 'meta', x.id LIMIT 1) e ON true
         LEFT JOIN LATERAL (SELECT x.platform, x.last_error FROM events x
                            WHERE x.conversion_id = c.id AND x.last_error IS NOT NULL
                              AND x.state <> 'sent'
                            ORDER BY x.failure_class IS NOT DISTINCT FROM 'platform_removed',
                                     array_position(ARRAY['pending', 'failed', 'expired'], x.state),
                                     x.platform <> 'meta', x.id LIMIT 1) f ON true
         LEFT JOIN campaigns k ON k.id = c.campaign_id
         LEFT JOIN clicks ck ON ck.id = c.click_row_id
         WHERE c.id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await
}

/// How many conversions of a campaign received in the last `days` days are
/// [`ConversionView::no_payout`] (the same rule as its query's).
pub async fn no_payout_count(
    pool: &PgPool,
    campaign_id: i64,
    days: i32,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM conversions c
           JOIN campaigns k ON k.id = c.campaign_id
           WHERE c.campaign_id = $1 AND c.received_at >= now() - make_interval(days => $2)
             AND c.payout IS NULL AND k.value_source = 'payout'
             AND (c.event_name IN ('Purchase', 'CompletePayment')
                  OR EXISTS (SELECT 1 FROM events x WHERE x.conversion_id = c.id
                             AND x.event_name IN ('Purchase', 'CompletePayment')))"#,
        campaign_id,
        days
    )
    .fetch_one(pool)
    .await
}

/// Newest first; `before` pages backwards through ids.
pub async fn list(pool: &PgPool, f: &ListFilter<'_>) -> Result<Vec<ConversionView>, sqlx::Error> {
    sqlx::query_as!(
        ConversionView,
        r#"SELECT c.id, c.click_id, c.click_ambiguous,
            COALESCE(k.key, c.campaign_hint) AS campaign, c.tracker, c.raw_status, c.status, c.txid, c.event_name, e.event_id AS "event_id?",
            e.value AS "value?", COALESCE(e.currency, c.currency) AS currency,
            COALESCE(d.state, c.state) AS "state!: DeliveryStatus",
            COALESCE(e.attempts, 0) AS "attempts!",
            COALESCE(f.last_error, c.failure_reason) AS last_error,
            f.platform AS "last_error_platform?: PlatformKind", c.failure_reason AS reason,
            c.params, c.received_at, c.event_time, e.sent_at AS "sent_at?",
            CASE WHEN e.state = 'pending' THEN e.next_attempt_at END AS next_attempt_at,
            e.payload AS "payload?",
            (c.ttclid IS NOT NULL OR ck.ttclid IS NOT NULL) AS "ttclid_set!",
            (c.tiktok_ph IS NOT NULL OR ck.tiktok_ph IS NOT NULL) AS "tiktok_ph_set!",
            (c.tiktok_external_id IS NOT NULL OR ck.tiktok_external_id IS NOT NULL)
                AS "tiktok_external_id_set!",
            COALESCE(c.payout IS NULL AND k.value_source = 'payout'
                AND (c.event_name IN ('Purchase', 'CompletePayment')
                     OR EXISTS (SELECT 1 FROM events x WHERE x.conversion_id = c.id
                                AND x.event_name IN ('Purchase', 'CompletePayment'))),
                false) AS "no_payout!",
            c.dropped AS "dropped: Json<Vec<Dropped>>",
            c.skipped_platforms AS "skipped: Json<Vec<PlatformSkip>>",
            ARRAY(SELECT x.platform FROM events x WHERE x.conversion_id = c.id
                    AND event_test_event_code(x.id) IS NOT NULL
                  ORDER BY x.platform <> 'meta', x.id) AS "test_platforms!: Vec<PlatformKind>"
         FROM conversions c
         LEFT JOIN LATERAL (SELECT least_advanced_state(x.state, x.failure_class) AS state FROM events x
                            WHERE x.conversion_id = c.id) d ON true
         LEFT JOIN LATERAL (SELECT * FROM events x WHERE x.conversion_id = c.id
                            ORDER BY x.platform <> 'meta', x.id LIMIT 1) e ON true
         LEFT JOIN LATERAL (SELECT x.platform, x.last_error FROM events x
                            WHERE x.conversion_id = c.id AND x.last_error IS NOT NULL
                              AND x.state <> 'sent'
                            ORDER BY x.failure_class IS NOT DISTINCT FROM 'platform_removed',
                                     array_position(ARRAY['pending', 'failed', 'expired'], x.state),
                                     x.platform <> 'meta', x.id LIMIT 1) f ON true
         LEFT JOIN campaigns k ON k.id = c.campaign_id
         LEFT JOIN clicks ck ON ck.id = c.click_row_id
         WHERE ($1::text IS NULL OR COALESCE(k.key, c.campaign_hint) = $1)
           AND ($2::text IS NULL OR COALESCE(d.state, c.state) = $2)
           AND ($3::bigint IS NULL OR c.id < $3)
           AND ($5::text IS NULL OR c.click_id = $5)
           AND ($6::timestamptz IS NULL OR c.received_at >= $6)
           AND ($7::timestamptz IS NULL OR c.received_at < $7)
           AND ($8::text IS NULL OR c.tracker = $8)
           AND ($9::text IS NULL OR c.txid = $9)
           AND ($10::text IS NULL OR EXISTS (SELECT 1 FROM events x
                                            WHERE x.conversion_id = c.id AND x.platform = $10))
         ORDER BY c.id DESC LIMIT $4"#,
        f.campaign,
        f.state.map(DeliveryStatus::as_str),
        f.before,
        f.limit,
        f.click_id,
        f.since,
        f.until,
        f.tracker,
        f.txid,
        f.platform.map(PlatformKind::as_str),
    )
    .fetch_all(pool)
    .await
}

/// One page of the list, newest first, and the cursor to the next (older) page.
pub struct Page {
    pub items: Vec<ConversionView>,
    /// `before` for the next page; `None` on the last one.
    pub next_before: Option<i64>,
}

/// The list as the admin API and the dashboard page it.
pub async fn page(pool: &PgPool, f: &ListFilter<'_>) -> Result<Page, sqlx::Error> {
    if f.matches_nothing() {
        return Ok(Page {
            items: Vec::new(),
            next_before: None,
        });
    }
    let items = list(pool, f).await?;
    let next_before = (items.len() as i64 == f.limit)
        .then(|| items.last().map(|c| c.id))
        .flatten();
    Ok(Page { items, next_before })
}

/// One platform's event of a conversion, with that event's attempts.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    pub platform: PlatformKind,
    #[schema(value_type = String)]
    pub state: EventState,
    pub event_name: String,
    pub event_id: String,
    #[schema(value_type = Option<String>, required = true)]
    pub failure_class: Option<FailureClass>,
    /// Why it failed, expired or waits (the last error recorded).
    #[schema(required = true)]
    pub last_error: Option<String>,
    pub attempts: i32,
    #[schema(required = true)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub sent_at: Option<DateTime<Utc>>,
    /// As sent (or to be sent); `None` once erased.
    #[schema(required = true)]
    pub payload: Option<serde_json::Value>,
    /// The test event code its latest attempt carried: it went to the platform's Test Events.
    /// `None`: production, or not attempted yet.
    #[schema(required = true)]
    pub test_event_code: Option<String>,
    pub attempts_log: Vec<AttemptView>,
}

struct DeliveryRow {
    id: i64,
    platform: PlatformKind,
    state: EventState,
    event_name: String,
    event_id: String,
    failure_class: Option<FailureClass>,
    last_error: Option<String>,
    attempts: i32,
    next_attempt_at: Option<DateTime<Utc>>,
    sent_at: Option<DateTime<Utc>>,
    payload: Option<serde_json::Value>,
    test_event_code: Option<String>,
}

/// A conversion's events, Meta's first, each with its own attempts (oldest first).
pub async fn deliveries(pool: &PgPool, conversion_id: i64) -> Result<Vec<Delivery>, sqlx::Error> {
    let rows = sqlx::query_as!(
        DeliveryRow,
        r#"SELECT id, platform AS "platform: PlatformKind", state AS "state: EventState",
            event_name, event_id, failure_class AS "failure_class: FailureClass", last_error,
            attempts, CASE WHEN state = 'pending' THEN next_attempt_at END AS next_attempt_at,
            sent_at, payload, event_test_event_code(id) AS test_event_code
         FROM events WHERE conversion_id = $1 ORDER BY platform <> 'meta', id"#,
        conversion_id
    )
    .fetch_all(pool)
    .await?;
    let mut attempts = super::events::attempts_for_conversion(pool, conversion_id).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (mine, rest) = attempts.drain(..).partition(|a| a.event_row_id == r.id);
            attempts = rest;
            Delivery {
                platform: r.platform,
                state: r.state,
                event_name: r.event_name,
                event_id: r.event_id,
                failure_class: r.failure_class,
                last_error: r.last_error,
                attempts: r.attempts,
                next_attempt_at: r.next_attempt_at,
                sent_at: r.sent_at,
                payload: r.payload,
                test_event_code: r.test_event_code,
                attempts_log: mine,
            }
        })
        .collect())
}
