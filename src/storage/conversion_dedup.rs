//! What makes a postback a repeat of a recorded conversion, and the import's replacement of a
//! recorded twin that failed for good.

use sqlx::{Postgres, Transaction};

use crate::domain::Conversion;

/// What makes a postback a repeat of a recorded one: its click id, the campaign it named (none
/// is a value of its own), its status and its transaction id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DedupKey {
    pub click_id: String,
    pub campaign_hint: Option<String>,
    pub status: String,
    pub txid: String,
}

impl DedupKey {
    pub fn new(
        click_id: String,
        campaign_hint: Option<String>,
        status: String,
        txid: String,
    ) -> Self {
        DedupKey {
            click_id,
            campaign_hint,
            status,
            txid,
        }
    }

    pub fn of(c: &Conversion) -> Self {
        Self::new(
            c.click_id.clone(),
            c.campaign_hint.clone(),
            c.status.clone(),
            c.txid.clone(),
        )
    }
}

/// Deletes the recorded conversions with these dedup keys that failed for good, with their
/// events: never built, or every event failed (none sent nor pending). A re-uploaded import row
/// then replaces its failed twin instead of being a duplicate; every other state keeps the
/// dedup. Returns how many were deleted.
pub async fn delete_failed_twins(
    tx: &mut Transaction<'_, Postgres>,
    keys: &[DedupKey],
) -> Result<u64, sqlx::Error> {
    let click_ids: Vec<&str> = keys.iter().map(|k| k.click_id.as_str()).collect();
    let hints: Vec<Option<&str>> = keys.iter().map(|k| k.campaign_hint.as_deref()).collect();
    let statuses: Vec<&str> = keys.iter().map(|k| k.status.as_str()).collect();
    let txids: Vec<&str> = keys.iter().map(|k| k.txid.as_str()).collect();
    let done = sqlx::query!(
        "DELETE FROM conversions c \
         USING UNNEST($1::text[], $2::text[], $3::text[], $4::text[]) \
            AS k(click_id, campaign_hint, status, txid) \
         WHERE c.click_id = k.click_id AND c.status = k.status AND c.txid = k.txid \
           AND c.campaign_hint IS NOT DISTINCT FROM k.campaign_hint \
           AND (c.state = 'failed' \
             OR (c.state = 'queued' \
                 AND EXISTS (SELECT 1 FROM events e WHERE e.conversion_id = c.id) \
                 AND NOT EXISTS (SELECT 1 FROM events e \
                                 WHERE e.conversion_id = c.id AND e.state <> 'failed')))",
        &click_ids as &[&str],
        &hints as &[Option<&str>],
        &statuses as &[&str],
        &txids as &[&str],
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}
