//! Value sent, for the dashboard's money totals: each conversion once, whichever of its
//! platforms' events carried it, and only what reached a platform in production.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

/// Conversions and their value sent, for one day, campaign, event name and currency.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueRow {
    /// The calendar day the conversion was received on, in the display zone.
    pub day: NaiveDate,
    pub campaign: String,
    pub event_name: String,
    /// `None`: the events carried no value (the campaign's `value_source` is `none`).
    pub currency: Option<String>,
    pub conversions: i64,
    pub value: f64,
}

/// Conversions received in `[since, until)` of which at least one event was sent to its
/// platform outside test mode (its sending attempt carried no test event code), grouped by day
/// in `zone` (an IANA name), campaign, event name and currency. A conversion that went to Meta
/// and TikTok counts once, with its Meta event's value and name (else its first event's).
pub async fn sent_value(
    pool: &PgPool,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    campaign_id: Option<i64>,
    zone: &str,
) -> Result<Vec<ValueRow>, sqlx::Error> {
    sqlx::query_as!(
        ValueRow,
        r#"SELECT (c.received_at AT TIME ZONE $3)::date AS "day!", k.key AS campaign,
            v.event_name, v.currency, count(*) AS "conversions!",
            COALESCE(sum(v.value), 0) AS "value!"
         FROM conversions c
         JOIN campaigns k ON k.id = c.campaign_id
         JOIN LATERAL (SELECT e.event_name, e.value, e.currency FROM events e
                       WHERE e.conversion_id = c.id AND e.state = 'sent'
                         AND event_test_event_code(e.id) IS NULL
                       ORDER BY e.platform <> 'meta', e.id LIMIT 1) v ON true
         WHERE c.received_at >= $1 AND c.received_at < $2
           AND ($4::bigint IS NULL OR c.campaign_id = $4)
         GROUP BY 1, 2, 3, 4
         ORDER BY 1, 2, 3, 4"#,
        since,
        until,
        zone,
        campaign_id,
    )
    .fetch_all(pool)
    .await
}
