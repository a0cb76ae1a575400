//! Alert state per key and the log of alerts sent (migration 25). The loop of every process
//! decides under one transaction-scoped advisory lock, so a start is sent by one process only.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::domain::{AlertChannel, AlertKey, AlertKind, AlertRecord, AlertState};

/// Opens the deciding transaction: it waits for another process's pass to commit, and then
/// sees what that pass stored.
pub async fn begin_decision(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtextextended('capi-bridge alerts', 7002))")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Every key's row (one per campaign, platform and condition ever seen: few).
pub async fn load(conn: &mut PgConnection) -> Result<Vec<(AlertKey, AlertRecord)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT subject, platform, condition, state AS "state: AlertState", started_at,
                  start_sent_at, last_fired_at, cleared_at
           FROM alerts"#
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let key = AlertKey {
                subject: r.subject,
                platform: r.platform,
                condition: r.condition,
            };
            let record = AlertRecord {
                state: r.state,
                started_at: r.started_at,
                start_sent_at: r.start_sent_at,
                last_fired_at: r.last_fired_at,
                cleared_at: r.cleared_at,
            };
            (key, record)
        })
        .collect())
}

pub async fn save(
    conn: &mut PgConnection,
    key: &AlertKey,
    record: &AlertRecord,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO alerts (subject, platform, condition, state, started_at, start_sent_at, \
                             last_fired_at, cleared_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (subject, platform, condition) DO UPDATE SET state = EXCLUDED.state, \
             started_at = EXCLUDED.started_at, start_sent_at = EXCLUDED.start_sent_at, \
             last_fired_at = EXCLUDED.last_fired_at, cleared_at = EXCLUDED.cleared_at",
        key.subject,
        key.platform,
        key.condition,
        record.state as AlertState,
        record.started_at,
        record.start_sent_at,
        record.last_fired_at,
        record.cleared_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One message on one channel, as the dashboard lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct SentAlert {
    pub sent_at: DateTime<Utc>,
    pub key: AlertKey,
    pub kind: AlertKind,
    pub channel: AlertChannel,
    pub delivered: bool,
    pub text: String,
    /// Why it was not delivered.
    pub error: Option<String>,
}

pub async fn record_sent(pool: &PgPool, sent: &SentAlert) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO alerts_sent (sent_at, subject, platform, condition, kind, channel, \
                                  delivered, text, error) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        sent.sent_at,
        sent.key.subject,
        sent.key.platform,
        sent.key.condition,
        sent.kind as AlertKind,
        sent.channel as AlertChannel,
        sent.delivered,
        sent.text,
        sent.error,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The newest `limit` messages, newest first.
pub async fn recent(pool: &PgPool, limit: i64) -> Result<Vec<SentAlert>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT sent_at, subject, platform, condition, kind AS "kind: AlertKind",
                  channel AS "channel: AlertChannel", delivered, text, error
           FROM alerts_sent ORDER BY sent_at DESC, id DESC LIMIT $1"#,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SentAlert {
            sent_at: r.sent_at,
            key: AlertKey {
                subject: r.subject,
                platform: r.platform,
                condition: r.condition,
            },
            kind: r.kind,
            channel: r.channel,
            delivered: r.delivered,
            text: r.text,
            error: r.error,
        })
        .collect())
}

/// Forgets messages older than `before` (the list shows recent ones; the table stays small).
pub async fn prune_sent(pool: &PgPool, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM alerts_sent WHERE sent_at < $1", before)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
