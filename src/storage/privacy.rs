//! Deleting personal data: the retention job and erasure of one click on request.

use std::future::Future;
use std::time::Duration;

use sqlx::PgPool;

/// What one retention pass removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RetentionReport {
    pub clicks_deleted: u64,
    pub payloads_erased: u64,
    pub conversions_scrubbed: u64,
    pub refused_postbacks_deleted: u64,
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Deletes clicks older than `click_retention` and erases event payloads and the personal data
/// of conversions older than `event_retention`, `batch` rows per statement so no statement
/// holds many locks or runs long. Events still waiting for delivery are never touched.
pub async fn apply_retention(
    pool: &PgPool,
    click_retention: Duration,
    event_retention: Duration,
    batch: i64,
) -> Result<RetentionReport, sqlx::Error> {
    let clicks_deleted = in_batches(batch, || async move {
        let done = sqlx::query!(
            "DELETE FROM clicks WHERE id IN (SELECT id FROM clicks \
             WHERE first_seen_at < now() - make_interval(secs => $1) LIMIT $2)",
            secs(click_retention),
            batch
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    })
    .await?;
    let payloads_erased = in_batches(batch, || async move {
        let done = sqlx::query!(
            "UPDATE events SET payload = NULL WHERE id IN (SELECT id FROM events \
             WHERE payload IS NOT NULL AND state <> 'pending' \
               AND created_at < now() - make_interval(secs => $1) LIMIT $2)",
            secs(event_retention),
            batch
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    })
    .await?;
    let conversions_scrubbed = in_batches(batch, || async move {
        // The SET list and the personal-data test are the same in erase_click below.
        let done = sqlx::query!(
            "UPDATE conversions SET ip = NULL, user_agent = NULL, fbclid = NULL, em = NULL, \
                ph = NULL, fn = NULL, ln = NULL, ge = NULL, db = NULL, ct = NULL, st = NULL, \
                zp = NULL, country = NULL, external_id = NULL, event_source_url = NULL, \
                ttclid = NULL, tiktok_ph = NULL, tiktok_external_id = NULL \
             WHERE id IN (SELECT c.id FROM conversions c \
             WHERE c.received_at < now() - make_interval(secs => $1) \
               AND (ip IS NOT NULL OR user_agent IS NOT NULL OR fbclid IS NOT NULL \
                 OR em IS NOT NULL OR ph IS NOT NULL OR fn IS NOT NULL OR ln IS NOT NULL \
                 OR ge IS NOT NULL OR db IS NOT NULL OR ct IS NOT NULL OR st IS NOT NULL \
                 OR zp IS NOT NULL OR country IS NOT NULL OR external_id IS NOT NULL \
                 OR event_source_url IS NOT NULL \
                 OR ttclid IS NOT NULL OR tiktok_ph IS NOT NULL \
                 OR tiktok_external_id IS NOT NULL) \
               AND NOT EXISTS (SELECT 1 FROM events e WHERE e.conversion_id = c.id \
                               AND e.state = 'pending') \
             LIMIT $2)",
            secs(event_retention),
            batch
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    })
    .await?;
    let cutoff = chrono::Utc::now()
        - chrono::Duration::from_std(event_retention).unwrap_or(chrono::Duration::MAX);
    let refused_postbacks_deleted = in_batches(batch, || {
        super::refused::delete_older_than(pool, cutoff, batch)
    })
    .await?;
    Ok(RetentionReport {
        clicks_deleted,
        payloads_erased,
        conversions_scrubbed,
        refused_postbacks_deleted,
    })
}

/// Runs `step`, one statement touching at most `batch` rows, until a run touches fewer; the
/// rows touched in all.
async fn in_batches<F, Fut>(batch: i64, mut step: F) -> Result<u64, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<u64, sqlx::Error>>,
{
    let mut total = 0;
    loop {
        let n = step().await?;
        total += n;
        if n < batch as u64 {
            return Ok(total);
        }
    }
}

/// What an erasure removed.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Erasure {
    pub clicks_deleted: u64,
    pub conversions_scrubbed: u64,
    pub events_erased: u64,
    /// Events that had not reached Meta yet and now never will.
    pub events_cancelled: u64,
}

impl Erasure {
    /// Nothing was there to erase: no click and no conversion has that click id.
    pub fn is_nothing(&self) -> bool {
        *self == Erasure::default()
    }
}

/// Erases a click's personal data: the click row, the personal fields of its conversions and
/// the payloads of their events. Unsent events are cancelled (`failed`, never sent): without
/// the visitor's data they could not be sent correctly anyway. With `campaign_id`, only that
/// campaign's click and conversions, and conversions not joined to a campaign yet (they may be
/// this visitor's); without, everything under the click id.
pub async fn erase_click(
    pool: &PgPool,
    click_id: &str,
    campaign_id: Option<i64>,
) -> Result<Erasure, sqlx::Error> {
    let mut tx = pool.begin().await?;
    crate::storage::conversions::lock_click_id(&mut tx, click_id).await?;
    let events_cancelled = sqlx::query!(
        "UPDATE events SET state = 'failed', failure_class = 'erased', payload = NULL, \
            last_error = 'personal data erased on request; never sent', \
            lease_owner = NULL, lease_until = NULL \
         WHERE state IN ('pending', 'failed') AND payload IS NOT NULL AND conversion_id IN \
            (SELECT id FROM conversions WHERE click_id = $1 \
             AND ($2::bigint IS NULL OR campaign_id = $2 OR campaign_id IS NULL))",
        click_id,
        campaign_id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let events_erased = sqlx::query!(
        "UPDATE events SET payload = NULL WHERE payload IS NOT NULL AND conversion_id IN \
            (SELECT id FROM conversions WHERE click_id = $1 \
             AND ($2::bigint IS NULL OR campaign_id = $2 OR campaign_id IS NULL))",
        click_id,
        campaign_id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let conversions_scrubbed = sqlx::query!(
        "UPDATE conversions SET ip = NULL, user_agent = NULL, fbclid = NULL, em = NULL, \
            ph = NULL, fn = NULL, ln = NULL, ge = NULL, db = NULL, ct = NULL, st = NULL, \
            zp = NULL, country = NULL, external_id = NULL, event_source_url = NULL, \
            ttclid = NULL, tiktok_ph = NULL, tiktok_external_id = NULL \
         WHERE click_id = $1 \
           AND ($2::bigint IS NULL OR campaign_id = $2 OR campaign_id IS NULL) \
           AND (ip IS NOT NULL OR user_agent IS NOT NULL OR fbclid IS NOT NULL \
             OR em IS NOT NULL OR ph IS NOT NULL OR fn IS NOT NULL OR ln IS NOT NULL \
             OR ge IS NOT NULL OR db IS NOT NULL OR ct IS NOT NULL OR st IS NOT NULL \
             OR zp IS NOT NULL OR country IS NOT NULL OR external_id IS NOT NULL \
             OR event_source_url IS NOT NULL \
             OR ttclid IS NOT NULL OR tiktok_ph IS NOT NULL \
             OR tiktok_external_id IS NOT NULL)",
        click_id,
        campaign_id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let clicks_deleted = sqlx::query!(
        "DELETE FROM clicks WHERE click_id = $1 AND ($2::bigint IS NULL OR campaign_id = $2)",
        click_id,
        campaign_id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(Erasure {
        clicks_deleted,
        conversions_scrubbed,
        events_erased: events_erased + events_cancelled,
        events_cancelled,
    })
}
