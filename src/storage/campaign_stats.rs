//! The campaigns list's counts per campaign: conversions of today and of the last 7 days, the
//! week's events per platform and state, and the value sent. Read for all campaigns at once
//! through the windows' indexes (`conversions_received_idx`, `events_created_brin`).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::{EventState, PlatformKind};

#[derive(Debug, Default, Clone, PartialEq)]
pub struct CampaignStats {
    pub conversions: Vec<ConversionCount>,
    pub events: Vec<EventCount>,
    pub value_sent: Vec<ValueSent>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConversionCount {
    pub campaign_id: i64,
    pub today: i64,
    pub week: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventCount {
    pub campaign_id: i64,
    pub platform: PlatformKind,
    pub state: EventState,
    pub n: i64,
}

/// The value of the week's conversions some platform accepted outside test mode, per
/// currency: each conversion once, however many platforms got it.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueSent {
    pub campaign_id: i64,
    pub currency: String,
    pub value: f64,
}

/// `today` and `week` are the windows' starts (`today` within the week).
pub async fn read(
    pool: &PgPool,
    today: DateTime<Utc>,
    week: DateTime<Utc>,
) -> Result<CampaignStats, sqlx::Error> {
    let conversions = sqlx::query_as!(
        ConversionCount,
        r#"SELECT campaign_id AS "campaign_id!",
            count(*) FILTER (WHERE received_at >= $1) AS "today!",
            count(*) AS "week!"
         FROM conversions WHERE received_at >= $2 AND campaign_id IS NOT NULL
         GROUP BY campaign_id"#,
        today,
        week
    )
    .fetch_all(pool)
    .await?;
    let events = sqlx::query_as!(
        EventCount,
        r#"SELECT campaign_id, platform AS "platform: PlatformKind",
            state AS "state: EventState", count(*) AS "n!"
         FROM events WHERE created_at >= $1
         GROUP BY 1, 2, 3"#,
        week
    )
    .fetch_all(pool)
    .await?;
    // The value each platform's payload carries (Meta: custom_data, TikTok: properties); the
    // first sent event of a conversion speaks for it. Test Events sends are not revenue.
    let value_sent = sqlx::query_as!(
        ValueSent,
        r#"SELECT campaign_id AS "campaign_id!", currency AS "currency!",
            sum(value)::float8 AS "value!"
         FROM (SELECT DISTINCT ON (e.conversion_id) e.campaign_id,
                  COALESCE(e.payload->'custom_data'->>'currency',
                           e.payload->'properties'->>'currency') AS currency,
                  COALESCE(e.payload->'custom_data'->>'value',
                           e.payload->'properties'->>'value')::float8 AS value
               FROM events e
               WHERE e.created_at >= $1 AND e.state = 'sent'
                 AND event_test_event_code(e.id) IS NULL
                 AND COALESCE(e.payload->'custom_data'->>'value',
                              e.payload->'properties'->>'value') IS NOT NULL
               ORDER BY e.conversion_id, e.id) s
         WHERE currency IS NOT NULL
         GROUP BY 1, 2
         ORDER BY 1, 2"#,
        week
    )
    .fetch_all(pool)
    .await?;
    Ok(CampaignStats {
        conversions,
        events,
        value_sent,
    })
}
