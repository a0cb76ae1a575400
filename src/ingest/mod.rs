//! Turning postbacks into conversions and conversions into outbound events. Everything for one
//! conversion happens in one transaction: the conversion row and its event row commit together
//! (the transactional outbox), and the caller answers only after that commit.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgPool, Postgres, Transaction};

use crate::capi::event::{build_event, EventInput};
use crate::capi::event_id::{base_event_id, repeat_event_id};
use crate::domain::EventIds;
use crate::storage::conversions::{self, Resolution, StoredConversion};
use crate::storage::{campaigns, clicks, events, Campaign};
use crate::trackers::Postback;

/// What happened to a postback.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// An event is queued for Meta.
    Accepted {
        conversion_id: i64,
        events: Vec<QueuedEvent>,
    },
    /// The same click, status and transaction id were reported before.
    Duplicate,
    /// The status maps to no Meta event (e.g. rejected): recorded, never sent.
    Skipped { conversion_id: i64 },
    /// The campaign requires consent the click did not give: recorded, never sent.
    Suppressed { conversion_id: i64 },
    /// The click is not registered (yet): recorded, joined when it arrives.
    Unmatched { conversion_id: i64 },
    /// Recorded, but it cannot become a valid event (reason stored with it).
    Failed { conversion_id: i64, reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueuedEvent {
    pub event_name: String,
    pub event_id: String,
}

/// Records a postback and, when its click is known, its event, in one transaction.
pub async fn record_postback(
    pool: &PgPool,
    postback: &Postback,
    received_at: DateTime<Utc>,
) -> Result<Outcome, sqlx::Error> {
    let mut tx = pool.begin().await?;
    conversions::lock_click_id(&mut tx, postback.click_id.as_str()).await?;
    let Some(conversion) = conversions::insert(&mut tx, postback, received_at).await? else {
        return Ok(Outcome::Duplicate);
    };
    // Conversions of this click that arrived before it was registered are joined first, so
    // event ids follow arrival order (the first sale gets the pixel's eventID, a rebill the
    // suffixed one) whichever postback happens to find the click.
    let earlier =
        conversions::unmatched_before(&mut tx, &conversion.click_id, conversion.id).await?;
    if !earlier.is_empty()
        && clicks::find(&mut *tx, &conversion.click_id)
            .await?
            .is_some()
    {
        for conv in &earlier {
            resolve(&mut tx, conv, false).await?;
        }
    }
    let outcome = resolve(&mut tx, &conversion, false).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Joins unmatched conversions whose click has arrived since, and settles those whose grace
/// period is over. Returns how many were resolved.
pub async fn resolve_unmatched(
    pool: &PgPool,
    grace: std::time::Duration,
    limit: i64,
) -> Result<usize, sqlx::Error> {
    let cutoff = Utc::now() - chrono::Duration::from_std(grace).unwrap_or_default();
    let ids = conversions::unmatched_due(pool, cutoff, limit).await?;
    let mut resolved = 0;
    for id in ids {
        let Some(conv) = conversions::find(pool, id).await? else {
            continue;
        };
        let mut tx = pool.begin().await?;
        conversions::lock_click_id(&mut tx, &conv.click_id).await?;
        // Another process may have resolved it between the two reads.
        let Some(conv) = conversions::find_unmatched_for_update(&mut tx, id).await? else {
            continue;
        };
        let grace_over = conv.received_at < cutoff;
        let outcome = resolve(&mut tx, &conv, grace_over).await?;
        tx.commit().await?;
        if !matches!(outcome, Outcome::Unmatched { .. }) {
            resolved += 1;
            tracing::info!(conversion_id = id, outcome = ?outcome_name(&outcome), "unmatched conversion resolved");
        }
    }
    Ok(resolved)
}

fn outcome_name(o: &Outcome) -> &'static str {
    match o {
        Outcome::Accepted { .. } => "accepted",
        Outcome::Duplicate => "duplicate",
        Outcome::Skipped { .. } => "skipped",
        Outcome::Suppressed { .. } => "suppressed",
        Outcome::Unmatched { .. } => "unmatched",
        Outcome::Failed { .. } => "failed",
    }
}

/// Decides a conversion's fate, writing the event row when there is one. Without a click it
/// waits (`Unmatched`) unless `grace_over`, when it goes out with what the postback carried.
async fn resolve(
    tx: &mut Transaction<'_, Postgres>,
    conv: &StoredConversion,
    grace_over: bool,
) -> Result<Outcome, sqlx::Error> {
    let conversion_id = conv.id;
    let click = clicks::find(&mut **tx, &conv.click_id).await?;
    let campaign = match (&click, &conv.campaign_hint) {
        (Some(click), _) => campaigns::find_by_id(&mut **tx, click.campaign_id).await?,
        (None, _) if !grace_over => return Ok(Outcome::Unmatched { conversion_id }),
        (None, Some(hint)) => campaigns::find_by_key(&mut **tx, hint).await?,
        (None, None) => None,
    };
    let Some(campaign) = campaign else {
        let reason = match &conv.campaign_hint {
            Some(hint) if click.is_none() => {
                format!("the click was never registered and campaign {hint:?} does not exist")
            }
            _ => "the click was never registered and the postback names no campaign \
                  (add &campaign=<key> to the postback URL to send such conversions)"
                .to_owned(),
        };
        return fail(tx, conv, None, None, None, reason).await;
    };
    let click_row_id = click.as_ref().map(|c| c.id);

    let Some(event_name) = map_status(&campaign, conv) else {
        let r = Resolution {
            state: "skipped",
            click_row_id,
            campaign_id: Some(campaign.id),
            event_name: None,
            failure_reason: None,
        };
        conversions::set_resolution(tx, conversion_id, &r).await?;
        return Ok(Outcome::Skipped { conversion_id });
    };

    let consent = click.as_ref().and_then(|c| c.consent);
    if campaign.require_consent && consent != Some(true) {
        let r = Resolution {
            state: "suppressed",
            click_row_id,
            campaign_id: Some(campaign.id),
            event_name: Some(&event_name),
            failure_reason: Some("the campaign requires consent and the click has none".into()),
        };
        conversions::set_resolution(tx, conversion_id, &r).await?;
        return Ok(Outcome::Suppressed { conversion_id });
    }

    let registered = click.as_ref().map(|c| c.event_ids()).unwrap_or_default();
    let event_id = event_id_for(tx, &campaign, &registered, conv, &event_name).await?;
    let input = EventInput {
        campaign: &campaign,
        click: click.as_ref(),
        conversion: conv,
        event_name: &event_name,
        event_id: event_id.clone(),
    };
    let event = match build_event(input) {
        Ok(e) => e,
        Err(missing) => {
            return fail(
                tx,
                conv,
                click_row_id,
                Some(campaign.id),
                Some(&event_name),
                missing.to_string(),
            )
            .await
        }
    };
    let payload = serde_json::to_value(&event).map_err(|e| sqlx::Error::Encode(e.into()))?;
    events::insert(
        tx,
        conversion_id,
        campaign.id,
        &event_name,
        &event_id,
        conv.event_time,
        &payload,
    )
    .await?;
    let r = Resolution {
        state: "queued",
        click_row_id,
        campaign_id: Some(campaign.id),
        event_name: Some(&event_name),
        failure_reason: None,
    };
    conversions::set_resolution(tx, conversion_id, &r).await?;
    Ok(Outcome::Accepted {
        conversion_id,
        events: vec![QueuedEvent {
            event_name,
            event_id,
        }],
    })
}

/// The campaign's event for a status: the network's own word first (so a map can name `ftd`),
/// then the normalised status. `None`: record but do not send.
fn map_status(campaign: &Campaign, conv: &StoredConversion) -> Option<String> {
    let raw = conv.raw_status.trim().to_lowercase();
    let mapped = campaign
        .event_map
        .get(&raw)
        .or_else(|| campaign.event_map.get(&conv.status))?;
    mapped.map(|name| name.as_str().to_owned())
}

async fn event_id_for(
    tx: &mut Transaction<'_, Postgres>,
    campaign: &Campaign,
    registered: &EventIds,
    conv: &StoredConversion,
    event_name: &str,
) -> Result<String, sqlx::Error> {
    let base = base_event_id(
        registered,
        &campaign.event_id_template,
        event_name,
        &conv.click_id,
        &conv.txid,
        campaign.key.as_str(),
    );
    let repeat = conversions::has_other_with_event(tx, &conv.click_id, event_name, conv.id).await?;
    Ok(if repeat {
        repeat_event_id(&base, &conv.txid, &conv.status)
    } else {
        base
    })
}

async fn fail(
    tx: &mut Transaction<'_, Postgres>,
    conv: &StoredConversion,
    click_row_id: Option<i64>,
    campaign_id: Option<i64>,
    event_name: Option<&str>,
    reason: String,
) -> Result<Outcome, sqlx::Error> {
    let r = Resolution {
        state: "failed",
        click_row_id,
        campaign_id,
        event_name,
        failure_reason: Some(reason.clone()),
    };
    conversions::set_resolution(tx, conv.id, &r).await?;
    Ok(Outcome::Failed {
        conversion_id: conv.id,
        reason,
    })
}
