//! The campaigns list's counts per campaign: conversions of today and of the last 7 days and
//! the week's events per platform and state (value sent: `storage::money`, one rule). Read for all campaigns at once
//! through the windows' indexes (`conversions_received_idx`, `events_created_brin`).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::{EventState, PlatformKind};

#[derive(Debug, Default, Clone, PartialEq)]
pub struct CampaignStats {
    pub conversions: Vec<ConversionCount>,
    pub events: Vec<EventCount>,
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
    Ok(CampaignStats {
        conversions,
        events,
    })
}
