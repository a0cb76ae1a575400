//! The match-quality report's numbers: what the campaign's events on one platform carried and
//! how they fared, counted in SQL over the events created in the window (their payloads,
//! conversions, clicks).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::PlatformKind;

/// One event name's counts. Medians are `None` when no event had both times.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventStats {
    pub event_name: String,
    pub sent: i64,
    pub pending: i64,
    pub failed: i64,
    pub expired: i64,
    /// Sent with the eventID the page registered for the platform's pixel on that click.
    pub pixel_event_id: i64,
    /// Of those, the ones whose click also says the pixel fired that event (`pixel_fired_at`,
    /// recorded for Meta's pixel only): an id registered is not a pixel that ran.
    pub pixel_fired: i64,
    /// Sent for a postback whose click was never registered.
    pub no_click: i64,
    pub median_click_to_conversion_secs: Option<f64>,
    pub median_conversion_to_accepted_secs: Option<f64>,
    /// Sent later than the dedup window after the pixel fired the same event on the click
    /// (Meta's pixel: the only one whose firing is recorded).
    pub late_twin_sent: i64,
    /// Not sent for that reason (the campaign's `late_pixel_twin` is `skip`).
    pub late_twin_skipped: i64,
}

/// How many sent events of `event_name` carried `key` in their user object (Meta's
/// `user_data`, TikTok's `user`).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyCount {
    pub event_name: String,
    pub key: String,
    pub count: i64,
}

/// Failed or expired events of `event_name` with the same last error.
#[derive(Debug, Clone, PartialEq)]
pub struct ReasonCount {
    pub event_name: String,
    pub state: String,
    pub reason: String,
    pub count: i64,
}

pub struct QualityRows {
    pub stats: Vec<EventStats>,
    pub keys: Vec<KeyCount>,
    pub reasons: Vec<ReasonCount>,
}

impl QualityRows {
    /// No event in the window.
    pub fn is_empty(&self) -> bool {
        self.stats.is_empty() && self.reasons.is_empty()
    }
}

/// Events of campaign `campaign_id` on `platform` created at or after `since`; `dedup_window`
/// is how long after the pixel Meta still deduplicates.
pub async fn rows(
    pool: &PgPool,
    campaign_id: i64,
    platform: PlatformKind,
    since: DateTime<Utc>,
    dedup_window: std::time::Duration,
) -> Result<QualityRows, sqlx::Error> {
    let stats = sqlx::query_as!(
        EventStats,
        r#"SELECT e.event_name,
            count(*) FILTER (WHERE e.state = 'sent') AS "sent!",
            count(*) FILTER (WHERE e.state = 'pending') AS "pending!",
            count(*) FILTER (WHERE e.state = 'failed') AS "failed!",
            count(*) FILTER (WHERE e.state = 'expired') AS "expired!",
            count(*) FILTER (WHERE e.state = 'sent'
                AND CASE e.platform WHEN 'tiktok' THEN k.tiktok_event_ids ELSE k.event_ids END
                    ->> e.event_name = e.event_id) AS "pixel_event_id!",
            count(*) FILTER (WHERE e.state = 'sent' AND e.platform = 'meta'
                AND k.event_ids ->> e.event_name = e.event_id
                AND k.pixel_fired_at ? e.event_name) AS "pixel_fired!",
            count(*) FILTER (WHERE e.state = 'sent' AND c.click_row_id IS NULL) AS "no_click!",
            percentile_cont(0.5) WITHIN GROUP (
                ORDER BY extract(epoch FROM c.event_time - k.first_seen_at)::float8)
                FILTER (WHERE e.state = 'sent' AND k.id IS NOT NULL)
                AS median_click_to_conversion_secs,
            percentile_cont(0.5) WITHIN GROUP (
                ORDER BY extract(epoch FROM e.sent_at - c.event_time)::float8)
                FILTER (WHERE e.state = 'sent' AND e.sent_at IS NOT NULL)
                AS median_conversion_to_accepted_secs,
            count(*) FILTER (WHERE e.state = 'sent' AND e.platform = 'meta' AND e.sent_at
                > to_timestamp((k.pixel_fired_at ->> e.event_name)::bigint / 1000.0)
                  + make_interval(secs => $3)) AS "late_twin_sent!",
            count(*) FILTER (WHERE e.state = 'failed'
                AND e.failure_class = 'late_pixel_twin') AS "late_twin_skipped!"
         FROM events e
         JOIN conversions c ON c.id = e.conversion_id
         LEFT JOIN clicks k ON k.id = c.click_row_id
         WHERE e.campaign_id = $1 AND e.created_at >= $2 AND e.platform = $4
         GROUP BY e.event_name"#,
        campaign_id,
        since,
        dedup_window.as_secs_f64(),
        platform.as_str(),
    )
    .fetch_all(pool)
    .await?;

    let keys = sqlx::query_as!(
        KeyCount,
        r#"SELECT e.event_name, u.key AS "key!", count(*) AS "count!"
         FROM events e, LATERAL (SELECT e.payload -> CASE e.platform WHEN 'tiktok' THEN 'user'
                                                      ELSE 'user_data' END) AS p(user_data),
             jsonb_object_keys(
                 CASE jsonb_typeof(p.user_data) WHEN 'object' THEN p.user_data END) AS u(key)
         WHERE e.campaign_id = $1 AND e.created_at >= $2 AND e.state = 'sent'
           AND e.platform = $3
         GROUP BY e.event_name, u.key"#,
        campaign_id,
        since,
        platform.as_str(),
    )
    .fetch_all(pool)
    .await?;

    let reasons = sqlx::query_as!(
        ReasonCount,
        r#"SELECT e.event_name, e.state, COALESCE(e.last_error, 'no reason recorded') AS "reason!",
            count(*) AS "count!"
         FROM events e
         WHERE e.campaign_id = $1 AND e.created_at >= $2 AND e.state IN ('failed', 'expired')
           AND e.platform = $3
         GROUP BY e.event_name, e.state, 3"#,
        campaign_id,
        since,
        platform.as_str(),
    )
    .fetch_all(pool)
    .await?;

    Ok(QualityRows {
        stats,
        keys,
        reasons,
    })
}

/// How many times each field was dropped from the campaign's postbacks and import rows
/// received, and its clicks first seen, at or after `since` (see `domain::DropReport`).
pub async fn dropped_counts(
    pool: &PgPool,
    campaign_id: i64,
    since: DateTime<Utc>,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT d.field AS "field!", count(*) AS "count!"
         FROM (SELECT x ->> 'field' AS field
               FROM conversions c, jsonb_array_elements(c.dropped) x
               WHERE c.campaign_id = $1 AND c.received_at >= $2 AND c.dropped IS NOT NULL
               UNION ALL
               SELECT x ->> 'field'
               FROM clicks k, jsonb_array_elements(k.dropped) x
               WHERE k.campaign_id = $1 AND k.first_seen_at >= $2 AND k.dropped IS NOT NULL) d
         WHERE d.field IS NOT NULL
         GROUP BY d.field"#,
        campaign_id,
        since,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.field, r.count)).collect())
}
