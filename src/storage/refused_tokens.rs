//! Which platforms refused a campaign's current access token: a new token or pixel re-queues
//! every parked event, so events still parked after a platform's refusal mean the token it
//! refused is the one stored now, and a retry would only be refused again.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::PlatformKind;

/// A platform's last refusal of the campaign's token, and how many events wait for a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedToken {
    pub platform: PlatformKind,
    pub refused_at: DateTime<Utc>,
    pub error_code: Option<i32>,
    /// The platform's words, as the attempt recorded them.
    pub message: Option<String>,
    pub parked: i64,
}

/// The campaign's platforms whose parked events were refused by the platform itself (an
/// `auth_error` attempt), Meta first; a token the bridge cannot decrypt is not a refusal.
pub async fn of_campaign(
    pool: &PgPool,
    campaign_id: i64,
) -> Result<Vec<RefusedToken>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT p.platform AS "platform!: PlatformKind", p.parked AS "parked!",
                a.attempted_at, a.error_code, a.message
         FROM (SELECT platform, count(*) AS parked FROM events
               WHERE campaign_id = $1 AND state = 'failed' AND failure_class = 'auth'
               GROUP BY platform) p
         JOIN LATERAL (SELECT a.attempted_at, a.error_code, a.message
               FROM events r JOIN delivery_attempts a ON a.event_row_id = r.id
               WHERE r.campaign_id = $1 AND r.platform = p.platform AND r.state = 'failed'
                 AND r.failure_class = 'auth' AND a.outcome = 'auth_error'
               ORDER BY a.attempted_at DESC LIMIT 1) a ON true
         ORDER BY p.platform"#,
        campaign_id,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| RefusedToken {
            platform: r.platform,
            refused_at: r.attempted_at,
            error_code: r.error_code,
            message: r.message,
            parked: r.parked,
        })
        .collect())
}
