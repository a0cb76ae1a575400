//! A manual retry of a failed conversion. The event is decided and built again from the click
//! and campaign as they are now, so a landing URL or user agent added since the failure reaches
//! Meta; an event that exists keeps its event id, so Meta still deduplicates it.

use sqlx::PgPool;

use super::decide::decide;
use super::write_event;
use crate::domain::{ConversionState, EventState};
use crate::storage::campaign_cache::CampaignCache;
use crate::storage::{clicks, conversions, events};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retried {
    /// The event is queued again.
    Queued,
    /// Still cannot be sent, and why (the conversion keeps that reason).
    StillFailed(String),
    /// Only failed conversions are retried; this one is in the given state.
    NotFailed(String),
    NotFound,
}

pub async fn retry_conversion(
    pool: &PgPool,
    campaigns: &CampaignCache,
    id: i64,
) -> Result<Retried, sqlx::Error> {
    let Some(conv) = conversions::find(pool, id).await? else {
        return Ok(Retried::NotFound);
    };
    let mut tx = pool.begin().await?;
    conversions::lock_click_id(&mut tx, &conv.click_id).await?;
    let Some(conv) = conversions::find_for_update(&mut tx, id).await? else {
        return Ok(Retried::NotFound);
    };
    let event = events::of_conversion(&mut tx, id).await?;
    // `to_string`: the event's state is a word or an `EventState`, and both display alike.
    let state = event
        .as_ref()
        .map_or(conv.state.to_string(), |e| e.state.to_string());
    let failed = match &event {
        Some(_) => state == EventState::Failed.as_str(),
        None => conv.state == ConversionState::Failed,
    };
    if !failed {
        return Ok(Retried::NotFailed(state));
    }
    if event.as_ref().is_some_and(|e| !e.has_payload) {
        return Ok(Retried::NotFailed(
            "failed, and its data was erased by retention".to_owned(),
        ));
    }
    let click = clicks::find(&mut *tx, &conv.click_id).await?;
    let campaign = match (&click, conv.campaign_id, &conv.campaign_hint) {
        (Some(c), ..) => campaigns.get_by_id(c.campaign_id).await?,
        (None, Some(id), _) => campaigns.get_by_id(id).await?,
        (None, None, Some(hint)) => campaigns.get(hint).await?,
        (None, None, None) => None,
    };
    let history = conversions::click_history(&mut tx, &conv.click_id, conv.id).await?;
    let decision = decide(
        campaign.as_deref(),
        click.as_ref(),
        &conv,
        &history.used_events,
    );
    let outcome = match (&event, &decision.event) {
        (Some(existing), Some(planned)) => {
            let mut payload = planned.payload.clone();
            payload["event_id"] = serde_json::Value::String(existing.event_id.clone());
            events::requeue_rebuilt(&mut tx, existing.id, &payload).await?;
            Retried::Queued
        }
        (Some(_), None) => Retried::StillFailed(decision.failure_reason.unwrap_or_default()),
        (None, _) => {
            let mut decided = conv.clone();
            decision.apply_to(&mut decided, click.as_ref().map(|c| c.id));
            conversions::set_decision(&mut tx, &decided).await?;
            write_event(&mut tx, id, &conv, &decision).await?;
            match decision.event {
                Some(_) => Retried::Queued,
                None if decision.state == ConversionState::Failed => {
                    Retried::StillFailed(decision.failure_reason.unwrap_or_default())
                }
                None => Retried::NotFailed(decision.state.as_str().to_owned()),
            }
        }
    };
    tx.commit().await?;
    Ok(outcome)
}
