//! The outbox: events waiting for Meta, and the record of every attempt to deliver them.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

pub use crate::domain::AttemptRecord;
use crate::domain::{AttemptOutcome, EventState, FailureClass, PlatformKind};

/// An outbox row to write.
pub struct NewEvent<'a> {
    pub conversion_id: i64,
    pub campaign_id: i64,
    pub platform: PlatformKind,
    pub event_name: &'a str,
    pub event_id: &'a str,
    pub event_time: DateTime<Utc>,
    pub payload: &'a serde_json::Value,
    /// Written failed (`invalid`, this reason) instead of pending: it could not be built.
    pub unbuilt: Option<&'a str>,
}

/// Writes outbox rows in one statement.
pub async fn insert_many(
    tx: &mut Transaction<'_, Postgres>,
    rows: &[NewEvent<'_>],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let conversion_ids: Vec<i64> = rows.iter().map(|r| r.conversion_id).collect();
    let campaign_ids: Vec<i64> = rows.iter().map(|r| r.campaign_id).collect();
    let platforms: Vec<&str> = rows.iter().map(|r| r.platform.as_str()).collect();
    let unbuilt: Vec<Option<&str>> = rows.iter().map(|r| r.unbuilt).collect();
    let names: Vec<&str> = rows.iter().map(|r| r.event_name).collect();
    let event_ids: Vec<&str> = rows.iter().map(|r| r.event_id).collect();
    let times: Vec<DateTime<Utc>> = rows.iter().map(|r| r.event_time).collect();
    // Borrowed: the payloads are the large part of a postback and are not copied to be bound.
    let payloads: Vec<Json<&serde_json::Value>> = rows.iter().map(|r| Json(r.payload)).collect();
    sqlx::query!(
        "INSERT INTO events (conversion_id, campaign_id, event_name, event_id, event_time, payload, \
            platform, state, failure_class, last_error) \
         SELECT c, k, n, i, t, p, f, CASE WHEN e IS NULL THEN 'pending' ELSE 'failed' END, \
            CASE WHEN e IS NULL THEN NULL ELSE 'invalid' END, e \
         FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[], \
            $6::jsonb[], $7::text[], $8::text[]) AS r(c, k, n, i, t, p, f, e)",
        &conversion_ids,
        &campaign_ids,
        &names as &[&str],
        &event_ids as &[&str],
        &times,
        &payloads as _,
        &platforms as &[&str],
        &unbuilt as &[Option<&str>],
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedEvent {
    pub id: i64,
    pub conversion_id: i64,
    pub campaign_id: i64,
    /// The platform it goes to.
    #[sqlx(rename = "platform: PlatformKind")]
    pub platform: PlatformKind,
    pub event_id: String,
    pub event_time: DateTime<Utc>,
    pub attempts: i32,
    /// Named as `claim`'s checked statement names it (`!`: never NULL there).
    #[sqlx(rename = "payload!")]
    pub payload: serde_json::Value,
    /// When the pixel fired this event on the event's click (unix ms), read at claim time so
    /// a registration that arrived after the postback still counts.
    pub pixel_fired_ms: Option<i64>,
}

impl ClaimedEvent {
    pub fn pixel_fired_at(&self) -> Option<DateTime<Utc>> {
        self.pixel_fired_ms
            .and_then(DateTime::from_timestamp_millis)
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// The ids and targets of up to `limit` due, unleased events, oldest first, leaving out the
/// events of `busy` (campaign, platform) pairs and of `full` platforms: the sender has as many
/// requests in flight for those as it may, and their backlog must not hide other events.
pub async fn due(
    pool: &PgPool,
    limit: i64,
    busy: &[CampaignPlatform],
    full: &[PlatformKind],
) -> Result<Vec<(i64, CampaignPlatform)>, sqlx::Error> {
    use sqlx::Execute;
    let (busy_campaigns, busy_platforms) = unzip_keys(busy);
    let full: Vec<&str> = full.iter().map(|p| p.as_str()).collect();
    let mut checked = sqlx::query_as!(
        DueEvent,
        r#"SELECT id, campaign_id, platform AS "platform: PlatformKind" FROM events
         WHERE state = 'pending' AND next_attempt_at <= now() AND payload IS NOT NULL
           AND (lease_until IS NULL OR lease_until < now())
           AND platform <> ALL($2::text[])
           AND (campaign_id, platform) NOT IN (SELECT * FROM UNNEST($3::bigint[], $4::text[]))
         ORDER BY next_attempt_at, id
         LIMIT $1"#,
        limit,
        &full as &[&str],
        &busy_campaigns,
        &busy_platforms as &[&str],
    );
    // Planned for each call, as the outbox's size swings from empty to a large backlog. The
    // macro's `Map` cannot be made unprepared, so its checked SQL and arguments are run as is.
    let args = checked.take_arguments().map_err(sqlx::Error::Encode)?;
    let rows: Vec<DueEvent> = sqlx::query_as_with(checked.sql(), args.unwrap_or_default())
        .persistent(false)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, (r.campaign_id, r.platform)))
        .collect())
}

#[derive(sqlx::FromRow)]
struct DueEvent {
    id: i64,
    campaign_id: i64,
    #[sqlx(rename = "platform: PlatformKind")]
    platform: PlatformKind,
}

/// Takes the events `ids` that are still due and unleased for `owner` until `now + lease`. The
/// row locks last only for this statement: the lease, not a lock, keeps other workers away
/// while the platform is called; an event another process leased meanwhile is skipped.
pub async fn claim(
    pool: &PgPool,
    owner: Uuid,
    ids: &[i64],
    lease: Duration,
) -> Result<Vec<ClaimedEvent>, sqlx::Error> {
    sqlx::query_as!(
        ClaimedEvent,
        r#"WITH due AS (
            SELECT id FROM events
            WHERE id = ANY($1) AND state = 'pending' AND next_attempt_at <= now()
              AND payload IS NOT NULL AND (lease_until IS NULL OR lease_until < now())
            FOR UPDATE SKIP LOCKED)
         UPDATE events e SET lease_owner = $2,
            lease_until = now() + make_interval(secs => $3)
         FROM due WHERE e.id = due.id
         RETURNING e.id, e.conversion_id, e.campaign_id, e.platform AS "platform: PlatformKind",
            e.event_id, e.event_time, e.attempts,
            e.payload AS "payload!",
            (SELECT (CASE WHEN e.platform = 'meta' THEN k.pixel_fired_at ->> e.event_name END)::bigint
             FROM conversions c JOIN clicks k ON k.id = c.click_row_id
             WHERE c.id = e.conversion_id) AS pixel_fired_ms"#,
        ids,
        owner,
        secs(lease),
    )
    .fetch_all(pool)
    .await
}

/// Gives back the leases of claimed events the sender could not start a request for.
pub async fn release(pool: &PgPool, owner: Uuid, ids: &[i64]) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE events SET lease_owner = NULL, lease_until = NULL \
         WHERE id = ANY($1) AND lease_owner = $2 AND state = 'pending'",
        ids,
        owner,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Pushes the lease of events still being worked on (a long bisection) further out.
pub async fn extend_lease(
    pool: &PgPool,
    owner: Uuid,
    ids: &[i64],
    lease: Duration,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE events SET lease_until = now() + make_interval(secs => $3) \
         WHERE id = ANY($1) AND lease_owner = $2",
        ids,
        owner,
        secs(lease),
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Gives back every lease `owner` holds (shutdown): the events are due again at once.
pub async fn release_leases(pool: &PgPool, owner: Uuid) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE events SET lease_owner = NULL, lease_until = NULL \
         WHERE lease_owner = $1 AND state = 'pending'",
        owner,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// The new state of a group of events, after an attempt or without one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub state: EventState,
    pub failure_class: Option<FailureClass>,
    pub last_error: Option<String>,
}

/// Records the new state of events this owner holds, and frees their lease. `next_attempts`
/// gives each event its own retry time (events of one batch may be on different attempts).
/// `attempt` is the request that carried them (`None`: settled without being sent), with the
/// test event code it carried (`None`: production).
pub async fn record(
    pool: &PgPool,
    owner: Uuid,
    ids: &[i64],
    next_attempts: &[Option<DateTime<Utc>>],
    t: &Transition,
    attempt: Option<(&AttemptRecord, Option<&str>)>,
) -> Result<u64, sqlx::Error> {
    let (test_event_code, attempt) = (attempt.and_then(|a| a.1), attempt.map(|a| a.0));
    let updated = sqlx::query_scalar!(
        r#"WITH input AS (SELECT * FROM UNNEST($1::bigint[], $2::timestamptz[]) AS t(id, next_at)),
         updated AS (
            UPDATE events e SET state = $4, failure_class = $5, last_error = $6,
                attempts = e.attempts + (CASE WHEN $7 THEN 1 ELSE 0 END),
                next_attempt_at = COALESCE(input.next_at, e.next_attempt_at),
                sent_at = CASE WHEN $4 = 'sent' THEN now() ELSE e.sent_at END,
                lease_owner = NULL, lease_until = NULL
            FROM input WHERE e.id = input.id AND e.lease_owner = $3
            RETURNING e.id),
         logged AS (
            INSERT INTO delivery_attempts (event_row_id, outcome, http_status, error_code,
                error_subcode, message, fbtrace_id, test_event_code)
            SELECT id, $8, $9, $10, $11, $12, $13, $14 FROM updated WHERE $7)
         SELECT count(*) AS "count!" FROM updated"#,
        ids,
        next_attempts as &[Option<DateTime<Utc>>],
        owner,
        t.state as EventState,
        t.failure_class as Option<FailureClass>,
        t.last_error.as_deref(),
        attempt.is_some(),
        attempt.map(|a| a.outcome) as Option<AttemptOutcome>,
        attempt.and_then(|a| a.http_status),
        attempt.and_then(|a| a.error_code),
        attempt.and_then(|a| a.error_subcode),
        attempt.and_then(|a| a.message.as_deref()),
        attempt.and_then(|a| a.fbtrace_id.as_deref()),
        test_event_code,
    )
    .fetch_one(pool)
    .await?;
    Ok(updated as u64)
}

/// What the worker needs to know of a campaign before sending its events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CampaignStatus {
    /// Events are parked on a token or permission error: until its token or pixel changes,
    /// new events would only be refused the same way.
    pub auth_parked: bool,
    /// The earliest retry still to come after transient failures. New events wait for it too,
    /// so an outage is probed by one request, not one per postback.
    pub backoff_until: Option<DateTime<Utc>>,
}

/// A campaign's events on one platform: backoff and parking are per campaign and platform, so
/// one platform's outage or refused token never holds back another's events.
pub type CampaignPlatform = (i64, PlatformKind);

fn unzip_keys(keys: &[CampaignPlatform]) -> (Vec<i64>, Vec<&'static str>) {
    keys.iter().map(|(c, p)| (*c, p.as_str())).unzip()
}

/// [`CampaignStatus`] of each given campaign and platform, in one statement (those with neither
/// parked nor backing-off events are absent).
pub async fn campaign_status(
    pool: &PgPool,
    keys: &[CampaignPlatform],
) -> Result<HashMap<CampaignPlatform, CampaignStatus>, sqlx::Error> {
    let (campaign_ids, platforms) = unzip_keys(keys);
    let rows = sqlx::query!(
        r#"SELECT k.campaign_id AS "campaign_id!", k.platform AS "platform!: PlatformKind",
            EXISTS (SELECT 1 FROM events WHERE campaign_id = k.campaign_id
                    AND platform = k.platform AND state = 'failed' AND failure_class = 'auth')
                AS "auth_parked!",
            (SELECT min(next_attempt_at) FROM events WHERE campaign_id = k.campaign_id
                    AND platform = k.platform AND state = 'pending' AND attempts > 0
                    AND next_attempt_at > now())
                AS backoff_until
         FROM UNNEST($1::bigint[], $2::text[]) AS k(campaign_id, platform)"#,
        &campaign_ids,
        &platforms as &[&str],
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let status = CampaignStatus {
                auth_parked: r.auth_parked,
                backoff_until: r.backoff_until,
            };
            ((r.campaign_id, r.platform), status)
        })
        .filter(|(_, s)| *s != CampaignStatus::default())
        .collect())
}

/// A platform accepted a request again: these campaigns' events on it waiting out a retry
/// delay go now.
pub async fn retry_now(pool: &PgPool, keys: &[CampaignPlatform]) -> Result<u64, sqlx::Error> {
    let (campaign_ids, platforms) = unzip_keys(keys);
    let done = sqlx::query!(
        "UPDATE events e SET next_attempt_at = now() \
         FROM UNNEST($1::bigint[], $2::text[]) AS k(campaign_id, platform) \
         WHERE e.campaign_id = k.campaign_id AND e.platform = k.platform \
           AND e.state = 'pending' AND e.attempts > 0 AND e.next_attempt_at > now()",
        &campaign_ids,
        &platforms as &[&str],
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// A campaign's events on `platform` parked on a token or permission error go back in the
/// queue (that platform's token or pixel changed).
pub async fn requeue_auth_failures(
    tx: &mut Transaction<'_, Postgres>,
    campaign_id: i64,
    platform: PlatformKind,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE events SET state = 'pending', failure_class = NULL, next_attempt_at = now() \
         WHERE campaign_id = $1 AND platform = $2 AND state = 'failed' \
           AND failure_class = 'auth' AND payload IS NOT NULL",
        campaign_id,
        platform.as_str(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// At start-up, for each campaign and platform whose token opens: its events parked on a token
/// error go back in the queue, unless the platform itself refused that token (an `auth_error`
/// attempt among them: those wait for a new token, as before). What is left were parked because
/// the token could not be decrypted (a missing or wrong `SECRETS_KEY`), or behind those.
pub async fn requeue_unrefused(
    tx: &mut Transaction<'_, Postgres>,
    keys: &[CampaignPlatform],
) -> Result<u64, sqlx::Error> {
    let (campaign_ids, platforms) = unzip_keys(keys);
    let done = sqlx::query!(
        "UPDATE events e SET state = 'pending', failure_class = NULL, next_attempt_at = now() \
         FROM UNNEST($1::bigint[], $2::text[]) AS k(campaign_id, platform) \
         WHERE e.campaign_id = k.campaign_id AND e.platform = k.platform \
           AND e.state = 'failed' AND e.failure_class = 'auth' AND e.payload IS NOT NULL \
           AND NOT EXISTS (SELECT 1 FROM events r \
                JOIN delivery_attempts a ON a.event_row_id = r.id \
                WHERE r.campaign_id = k.campaign_id AND r.platform = k.platform \
                  AND r.state = 'failed' AND r.failure_class = 'auth' \
                  AND a.outcome = 'auth_error')",
        &campaign_ids,
        &platforms as &[&str],
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// Cancels the campaign's unsent events for a platform it no longer advertises on: pending ones
/// (but those a worker is sending right now: their answer decides) and those parked on a token.
pub async fn cancel_pending(
    tx: &mut Transaction<'_, Postgres>,
    campaign_id: i64,
    platform: PlatformKind,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE events SET state = 'failed', failure_class = 'platform_removed', \
            last_error = 'cancelled: ' || $3 || ' was removed from the campaign', \
            lease_owner = NULL, lease_until = NULL \
         WHERE campaign_id = $1 AND platform = $2 \
           AND ((state = 'pending' AND (lease_until IS NULL OR lease_until < now())) \
             OR (state = 'failed' AND failure_class = 'auth'))",
        campaign_id,
        platform.as_str(),
        platform.name(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// One delivery attempt of a conversion's event; `fbtrace_id` is the platform's trace id
/// (Meta's fbtrace_id, TikTok's request_id).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Attempt)]
pub struct AttemptView {
    /// The event it was for (the detail groups attempts by event).
    #[serde(skip)]
    pub event_row_id: i64,
    pub platform: PlatformKind,
    pub attempted_at: DateTime<Utc>,
    #[schema(value_type = String)]
    pub outcome: AttemptOutcome,
    pub http_status: Option<i32>,
    pub error_code: Option<i32>,
    pub error_subcode: Option<i32>,
    pub message: Option<String>,
    pub fbtrace_id: Option<String>,
    /// The test event code the attempt carried: the event went to the platform's Test Events.
    pub test_event_code: Option<String>,
}

pub async fn attempts_for_conversion(
    pool: &PgPool,
    conversion_id: i64,
) -> Result<Vec<AttemptView>, sqlx::Error> {
    sqlx::query_as!(
        AttemptView,
        r#"SELECT a.event_row_id, e.platform AS "platform: PlatformKind",
            a.attempted_at, a.outcome AS "outcome: AttemptOutcome", a.http_status,
            a.error_code, a.error_subcode, a.message, a.fbtrace_id, a.test_event_code
         FROM delivery_attempts a JOIN events e ON e.id = a.event_row_id
         WHERE e.conversion_id = $1 ORDER BY a.id"#,
        conversion_id,
    )
    .fetch_all(pool)
    .await
}

/// The outbox rows of a conversion (one per platform), as a manual retry needs them.
#[derive(Debug)]
pub struct EventOfConversion {
    pub id: i64,
    pub state: EventState,
    pub failure_class: Option<FailureClass>,
    pub event_id: String,
    pub has_payload: bool,
    pub platform: PlatformKind,
}

/// A conversion's events, Meta's first, locked for the rest of the transaction.
pub async fn of_conversion(
    tx: &mut Transaction<'_, Postgres>,
    conversion_id: i64,
) -> Result<Vec<EventOfConversion>, sqlx::Error> {
    sqlx::query_as!(
        EventOfConversion,
        r#"SELECT id, state AS "state: EventState",
            failure_class AS "failure_class: FailureClass", event_id,
            payload IS NOT NULL AS "has_payload!", platform AS "platform: PlatformKind"
         FROM events WHERE conversion_id = $1 ORDER BY platform <> 'meta', id
         FOR UPDATE"#,
        conversion_id,
    )
    .fetch_all(&mut **tx)
    .await
}

/// A failed event goes back to the queue with a payload built anew from today's click and
/// campaign (a landing URL added since, a corrected map), keeping its event id.
pub async fn requeue_rebuilt(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    payload: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE events SET state = 'pending', failure_class = NULL, next_attempt_at = now(), \
         payload = $2 WHERE id = $1 AND state = 'failed'",
        id,
        payload,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}
