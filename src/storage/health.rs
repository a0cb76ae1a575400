//! The facts the health of each campaign and platform is judged from (`crate::health`), read
//! through the small partial and BRIN indexes only: parked and pending events, the last hour's
//! attempts, recent refused and unmatched postbacks, never a scan of all conversions.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::PlatformKind;

/// Everything [`crate::health::assess`] needs, read at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub campaigns: Vec<CampaignFacts>,
    /// One row per campaign and platform that has parked, pending or recently attempted events.
    pub outbox: Vec<OutboxFacts>,
    /// Refused and unmatched postbacks, per campaign when they can be traced to one.
    pub postbacks: Vec<PostbackFacts>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CampaignFacts {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub enabled: bool,
    /// The newest postback of the campaign (read only when the silence rule is on).
    pub last_postback_at: Option<DateTime<Utc>>,
    /// The first click registered within the silence window (only when the rule is on).
    pub first_click_in_window: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutboxFacts {
    pub campaign_id: i64,
    pub platform: PlatformKind,
    /// Events parked on a token or pixel error (`failed` / `auth`), and the oldest one's time.
    pub parked: i64,
    pub parked_since: Option<DateTime<Utc>>,
    /// The platform's refusal behind the parked events: `None` when none of them has an
    /// `auth_error` attempt (parked because the stored token could not be decrypted).
    pub refusal: Option<Refusal>,
    /// Events waiting in the outbox, and the oldest one's creation time.
    pub pending: i64,
    pub oldest_pending: Option<DateTime<Utc>>,
    /// Events attempted within the failure window, and those of them not delivered (failed
    /// or waiting for a retry), with the first failing attempt's time.
    pub attempted: i64,
    pub failing: i64,
    pub first_failure_at: Option<DateTime<Utc>>,
}

/// The platform's answer that parked a campaign's events.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Refusal {
    pub error_code: Option<i32>,
    pub error_subcode: Option<i32>,
    /// The first refusal among the parked events.
    pub since: DateTime<Utc>,
}

/// What went wrong with postbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum PostbackTrouble {
    /// Refused at the door (`refused_postbacks`): the tracker's postback URL is wrong.
    Refused,
    /// Recorded, but no click with its click id was registered.
    Unmatched,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PostbackFacts {
    /// The campaign the postbacks name (their `campaign` parameter), when one does.
    pub campaign_id: Option<i64>,
    pub tracker: String,
    pub trouble: PostbackTrouble,
    pub count: i64,
    pub since: DateTime<Utc>,
}

/// What to read, from [`crate::health::HealthRules`].
#[derive(Debug, Clone, Copy)]
pub struct Windows {
    /// Attempts since then count for the failure rate.
    pub failures_since: DateTime<Utc>,
    /// Refused postbacks since then count.
    pub refused_since: DateTime<Utc>,
    /// Unmatched postbacks received before then have waited too long for their click.
    pub unmatched_before: DateTime<Utc>,
    /// Unmatched postbacks received before then are left to the conversions list.
    pub unmatched_since: DateTime<Utc>,
    /// Clicks since then, without a postback since then, make a campaign silent.
    pub silence_since: Option<DateTime<Utc>>,
}

/// The facts of every campaign, or of one (`campaign_id`; postbacks no campaign can be named
/// for are then left out).
pub async fn read(
    pool: &PgPool,
    windows: Windows,
    campaign_id: Option<i64>,
) -> Result<Facts, sqlx::Error> {
    let campaigns = campaigns(pool, windows, campaign_id).await?;
    let outbox = outbox(pool, windows, campaign_id).await?;
    let mut postbacks = postbacks(pool, windows).await?;
    if campaign_id.is_some() {
        postbacks.retain(|p| p.campaign_id == campaign_id);
    }
    Ok(Facts {
        campaigns,
        outbox,
        postbacks,
    })
}

async fn campaigns(
    pool: &PgPool,
    windows: Windows,
    campaign_id: Option<i64>,
) -> Result<Vec<CampaignFacts>, sqlx::Error> {
    // Without a silence window both sub-reads are skipped: the newest postback through
    // conversions_campaign_idx (one row per campaign), the window's clicks through
    // clicks_first_seen_idx.
    sqlx::query_as!(
        CampaignFacts,
        r#"SELECT c.id, c.key, c.name, c.enabled,
            CASE WHEN $2::timestamptz IS NULL THEN NULL ELSE
                (SELECT v.received_at FROM conversions v WHERE v.campaign_id = c.id
                 ORDER BY v.id DESC LIMIT 1) END AS last_postback_at,
            k.first_click AS first_click_in_window
         FROM campaigns c
         LEFT JOIN (SELECT campaign_id, min(first_seen_at) AS first_click FROM clicks
                    WHERE first_seen_at >= $2 GROUP BY campaign_id) k ON k.campaign_id = c.id
         WHERE $1::bigint IS NULL OR c.id = $1
         ORDER BY c.key"#,
        campaign_id,
        windows.silence_since,
    )
    .fetch_all(pool)
    .await
}

async fn outbox(
    pool: &PgPool,
    windows: Windows,
    campaign_id: Option<i64>,
) -> Result<Vec<OutboxFacts>, sqlx::Error> {
    let mut rows: BTreeMap<(i64, PlatformKind), OutboxFacts> = BTreeMap::new();
    // Parked events are failed ones (events_failed_idx: a handful per campaign), pending ones
    // the outbox (events_due_idx): both partial indexes, never the sent events.
    let waiting = sqlx::query!(
        r#"SELECT campaign_id, platform AS "platform: PlatformKind",
            count(*) FILTER (WHERE state = 'failed') AS "parked!",
            min(created_at) FILTER (WHERE state = 'failed') AS parked_since,
            count(*) FILTER (WHERE state = 'pending') AS "pending!",
            min(created_at) FILTER (WHERE state = 'pending') AS oldest_pending
         FROM events
         WHERE ((state = 'failed' AND failure_class = 'auth') OR state = 'pending')
           AND ($1::bigint IS NULL OR campaign_id = $1)
         GROUP BY 1, 2"#,
        campaign_id
    )
    .fetch_all(pool)
    .await?;
    for w in waiting {
        let r = row(&mut rows, w.campaign_id, w.platform);
        (r.parked, r.parked_since) = (w.parked, w.parked_since);
        (r.pending, r.oldest_pending) = (w.pending, w.oldest_pending);
    }
    let refusals = sqlx::query!(
        r#"SELECT e.campaign_id, e.platform AS "platform: PlatformKind",
            min(a.attempted_at) AS "since!",
            (array_agg(a.error_code ORDER BY a.id DESC))[1] AS error_code,
            (array_agg(a.error_subcode ORDER BY a.id DESC))[1] AS error_subcode
         FROM events e JOIN delivery_attempts a ON a.event_row_id = e.id
         WHERE e.state = 'failed' AND e.failure_class = 'auth' AND a.outcome = 'auth_error'
           AND ($1::bigint IS NULL OR e.campaign_id = $1)
         GROUP BY 1, 2"#,
        campaign_id
    )
    .fetch_all(pool)
    .await?;
    for f in refusals {
        row(&mut rows, f.campaign_id, f.platform).refusal = Some(Refusal {
            error_code: f.error_code,
            error_subcode: f.error_subcode,
            since: f.since,
        });
    }
    // The window's attempts (delivery_attempts_attempted_brin), each event once: failing when
    // it ended failed or expired, or waits for another try.
    let attempted = sqlx::query!(
        r#"SELECT e.campaign_id, e.platform AS "platform: PlatformKind",
            count(DISTINCT e.id) AS "attempted!",
            count(DISTINCT e.id) FILTER (WHERE e.state IN ('failed', 'expired')
                OR (e.state = 'pending' AND e.attempts > 0)) AS "failing!",
            min(a.attempted_at) FILTER (WHERE a.outcome <> 'sent') AS first_failure_at
         FROM delivery_attempts a JOIN events e ON e.id = a.event_row_id
         WHERE a.attempted_at >= $2 AND ($1::bigint IS NULL OR e.campaign_id = $1)
         GROUP BY 1, 2"#,
        campaign_id,
        windows.failures_since
    )
    .fetch_all(pool)
    .await?;
    for a in attempted {
        let r = row(&mut rows, a.campaign_id, a.platform);
        (r.attempted, r.failing, r.first_failure_at) = (a.attempted, a.failing, a.first_failure_at);
    }
    Ok(rows.into_values().collect())
}

fn row(
    rows: &mut BTreeMap<(i64, PlatformKind), OutboxFacts>,
    campaign_id: i64,
    platform: PlatformKind,
) -> &mut OutboxFacts {
    rows.entry((campaign_id, platform))
        .or_insert_with(|| OutboxFacts::empty(campaign_id, platform))
}

impl OutboxFacts {
    /// Nothing parked, pending or attempted.
    pub fn empty(campaign_id: i64, platform: PlatformKind) -> Self {
        OutboxFacts {
            campaign_id,
            platform,
            parked: 0,
            parked_since: None,
            refusal: None,
            pending: 0,
            oldest_pending: None,
            attempted: 0,
            failing: 0,
            first_failure_at: None,
        }
    }
}

/// Refused postbacks of the window and unmatched ones past their grace, per tracker and the
/// campaign their `campaign` parameter names (refused_postbacks_received_idx and
/// conversions_unmatched_idx: both read only the window).
async fn postbacks(pool: &PgPool, windows: Windows) -> Result<Vec<PostbackFacts>, sqlx::Error> {
    let mut piles = sqlx::query_as!(
        PostbackFacts,
        r#"SELECT r.tracker, c.id AS "campaign_id?", 'refused'::text AS "trouble!: PostbackTrouble",
            count(*) AS "count!", min(r.received_at) AS "since!"
         FROM refused_postbacks r LEFT JOIN campaigns c ON c.key = r.params->>'campaign'
         WHERE r.received_at >= $1
         GROUP BY 1, 2"#,
        windows.refused_since
    )
    .fetch_all(pool)
    .await?;
    piles.extend(
        sqlx::query_as!(
            PostbackFacts,
            r#"SELECT v.tracker, c.id AS "campaign_id?",
                'unmatched'::text AS "trouble!: PostbackTrouble",
                count(*) AS "count!", min(v.received_at) AS "since!"
             FROM conversions v LEFT JOIN campaigns c ON c.key = v.campaign_hint
             WHERE v.state = 'unmatched' AND v.received_at >= $1 AND v.received_at < $2
             GROUP BY 1, 2"#,
            windows.unmatched_since,
            windows.unmatched_before
        )
        .fetch_all(pool)
        .await?,
    );
    Ok(piles)
}
