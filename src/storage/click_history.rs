//! What deciding a conversion needs to know about the other conversions of its click: whether
//! some still wait for it, and the event names each platform already got on it. Click ids are
//! unique per campaign, so the names are kept per campaign: another campaign's click with the
//! same id is another click.

use std::collections::HashMap;

use sqlx::{Postgres, Transaction};

use crate::domain::PlatformKind;

/// What deciding a conversion needs to know about the other conversions of its click id.
#[derive(Debug, Default)]
pub struct ClickHistory {
    /// Conversions still waiting for a click with this id (of any campaign).
    pub has_unmatched: bool,
    /// Event names other conversions were given: campaign, platform, name.
    used: Vec<(i64, PlatformKind, String)>,
}

impl ClickHistory {
    /// The names used on the click of `campaign_id`, per platform (none without a campaign).
    pub fn used_events(&self, campaign_id: Option<i64>) -> Vec<(PlatformKind, String)> {
        self.used
            .iter()
            .filter(|(c, ..)| Some(*c) == campaign_id)
            .map(|(_, p, n)| (*p, n.clone()))
            .collect()
    }

    /// Records a name given to a conversion of `campaign_id`'s click in this batch.
    pub fn add(&mut self, campaign_id: i64, platform: PlatformKind, name: String) {
        self.used.push((campaign_id, platform, name));
    }
}

/// [`click_history`] of several clicks at once; clicks without conversions are absent.
pub async fn click_histories(
    tx: &mut Transaction<'_, Postgres>,
    click_ids: &[&str],
) -> Result<HashMap<String, ClickHistory>, sqlx::Error> {
    histories(tx, click_ids, 0).await
}

/// The histories of `click_ids` leaving out the conversion `except_id` (0: none).
async fn histories(
    tx: &mut Transaction<'_, Postgres>,
    click_ids: &[&str],
    except_id: i64,
) -> Result<HashMap<String, ClickHistory>, sqlx::Error> {
    // Before autovacuum first analyzes `conversions` the planner guesses each id matches 0.5%
    // of the table and scans all of it per batch; a lookup by click id is a few index entries.
    // One click is looked up by its index anyway: no extra round trips on that path.
    let batch = click_ids.len() > 1;
    if batch {
        sqlx::query!("SET LOCAL enable_seqscan = off")
            .execute(&mut **tx)
            .await?;
    }
    let rows = sqlx::query!(
        r#"SELECT c.click_id, c.campaign_id,
            COALESCE(bool_or(c.state = 'unmatched'), false) AS "has_unmatched!",
            COALESCE(array_agg(DISTINCT c.event_name) FILTER (WHERE c.event_name IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM events o WHERE o.conversion_id = c.id
                    AND o.platform <> 'meta' AND NOT EXISTS (SELECT 1 FROM events m
                        WHERE m.conversion_id = c.id AND m.platform = 'meta'))),
                '{}') AS "used_events!",
            COALESCE(array_agg(DISTINCT e.event_name) FILTER (WHERE e.platform = 'tiktok'), '{}')
                AS "used_tiktok!"
         FROM conversions c LEFT JOIN events e ON e.conversion_id = c.id AND e.platform <> 'meta'
         WHERE c.click_id = ANY($1) AND c.id <> $2 GROUP BY c.click_id, c.campaign_id"#,
        click_ids as &[&str],
        except_id
    )
    .fetch_all(&mut **tx)
    .await?;
    if batch {
        sqlx::query!("SET LOCAL enable_seqscan TO DEFAULT")
            .execute(&mut **tx)
            .await?;
    }
    let mut out: HashMap<String, ClickHistory> = HashMap::new();
    for r in rows {
        let history = out.entry(r.click_id).or_default();
        history.has_unmatched |= r.has_unmatched;
        // Conversions without a campaign (waiting, or failed for want of one) used no name.
        if let Some(campaign_id) = r.campaign_id {
            for (platform, name) in used(r.used_events, r.used_tiktok) {
                history.add(campaign_id, platform, name);
            }
        }
    }
    Ok(out)
}

/// Resolution of one click is serialised by `conversions::lock_click_id`, so the first conversion given an
/// event gets the plain event id and every later one a suffixed id.
pub async fn click_history(
    tx: &mut Transaction<'_, Postgres>,
    click_id: &str,
    except_id: i64,
) -> Result<ClickHistory, sqlx::Error> {
    let mut all = histories(tx, &[click_id], except_id).await?;
    Ok(all.remove(click_id).unwrap_or_default())
}

/// Meta's names are the conversions' own (as before platforms, so a conversion that was never
/// sent still reserves its name), but not of a conversion that went to other platforms only (its
/// name is theirs); TikTok's are its events'.
fn used(meta: Vec<String>, tiktok: Vec<String>) -> Vec<(PlatformKind, String)> {
    let meta = meta.into_iter().map(|n| (PlatformKind::Meta, n));
    meta.chain(tiktok.into_iter().map(|n| (PlatformKind::TikTok, n)))
        .collect()
}
