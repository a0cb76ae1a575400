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

impl Retried {
    /// Why nothing was retried, as the admin API and the dashboard both say it.
    pub fn refusal(&self) -> Option<String> {
        match self {
            Retried::Queued => None,
            Retried::StillFailed(reason) => {
                Some(format!("the event still cannot be built: {reason}"))
            }
            Retried::NotFailed(now) => Some(format!(
                "only failed events can be retried; this conversion is {now}"
            )),
            Retried::NotFound => Some("no such conversion".to_owned()),
        }
    }
}

/// Whether a conversion may be retried: one with events when some event failed and kept its
/// data (`events`: each event's state and whether its payload is kept; the others are left as
/// they are), one without (it failed before an event was built) when its own state, `shown`,
/// is failed. `Some(NotFailed)` says why not.
pub fn check_retryable(shown: &str, events: &[(EventState, bool)]) -> Option<Retried> {
    let failed: Vec<bool> = events
        .iter()
        .filter(|(state, _)| *state == EventState::Failed)
        .map(|(_, kept)| *kept)
        .collect();
    if events.is_empty() && shown == EventState::Failed.as_str() || failed.contains(&true) {
        return None;
    }
    if failed.is_empty() {
        return Some(Retried::NotFailed(shown.to_owned()));
    }
    Some(Retried::NotFailed(
        "failed, and its data was erased by retention".to_owned(),
    ))
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
    // `to_string`: the event's state is a word or an `EventState`, and both display alike
    // (`ConversionState::Failed` and `EventState::Failed` are both "failed").
    let state = event
        .as_ref()
        .map_or(conv.state.to_string(), |e| e.state.to_string());
    let states: Vec<_> = event.iter().map(|e| (e.state, e.has_payload)).collect();
    if let Some(refused) = check_retryable(&state, &states) {
        return Ok(refused);
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
    // The retried event's own platform; the per-platform retry is in `retry_conversion`'s
    // callers' hands once a conversion has several events.
    let planned = event
        .as_ref()
        .and_then(|e| decision.events.iter().find(|p| p.platform == e.platform));
    let outcome = match (&event, planned) {
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
            match decision.events.first() {
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

/// What retrying a campaign's failed conversions did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CampaignRetry {
    pub requeued: u64,
    pub still_failed: u64,
    /// More failed conversions are left than one call retries: call again.
    pub more: bool,
}

/// A campaign's failed conversions are retried oldest first, at most this many per call.
pub const RETRY_BATCH: i64 = 1000;

/// Retries every failed conversion of a campaign (up to [`RETRY_BATCH`]), and wakes the
/// delivery worker (`delivery`) when some were queued again.
pub async fn retry_campaign(
    pool: &PgPool,
    campaigns: &CampaignCache,
    delivery: &tokio::sync::Notify,
    campaign_id: i64,
) -> Result<CampaignRetry, sqlx::Error> {
    let ids = conversions::failed_of_campaign(pool, campaign_id, RETRY_BATCH).await?;
    let mut done = CampaignRetry {
        requeued: 0,
        still_failed: 0,
        more: ids.len() as i64 == RETRY_BATCH,
    };
    for id in &ids {
        match retry_conversion(pool, campaigns, *id).await? {
            Retried::Queued => done.requeued += 1,
            Retried::StillFailed(_) => done.still_failed += 1,
            Retried::NotFailed(_) | Retried::NotFound => {}
        }
    }
    if done.requeued > 0 {
        delivery.notify_one();
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_conversions_with_a_failed_event_and_its_data_are_retryable() {
        use EventState::*;
        let erased = "failed, and its data was erased by retention";
        // (shown state, each event's state and whether its payload is kept, refusal)
        type Case = (
            &'static str,
            &'static [(EventState, bool)],
            Option<&'static str>,
        );
        let cases: &[Case] = &[
            // Failed before an event was built: retried by building it.
            ("failed", &[], None),
            ("skipped", &[], Some("skipped")),
            ("unmatched", &[], Some("unmatched")),
            ("failed", &[(Failed, true)], None),
            ("failed", &[(Failed, false)], Some(erased)),
            ("sent", &[(Sent, true)], Some("sent")),
            ("pending", &[(Pending, true)], Some("pending")),
            ("expired", &[(Expired, true)], Some("expired")),
            // One platform failed while another is sent or still pending: that one is retried.
            ("failed", &[(Sent, true), (Failed, true)], None),
            ("pending", &[(Pending, true), (Failed, true)], None),
            ("failed", &[(Failed, false), (Failed, true)], None),
            ("failed", &[(Sent, true), (Failed, false)], Some(erased)),
            ("expired", &[(Sent, true), (Expired, true)], Some("expired")),
        ];
        for (shown, events, want) in cases {
            let got = check_retryable(shown, events);
            assert_eq!(
                got,
                want.map(|w| Retried::NotFailed(w.to_owned())),
                "{shown} {events:?}"
            );
        }
    }

    #[test]
    fn refusals_say_why() {
        let cases = [
            (Retried::Queued, None),
            (
                Retried::NotFailed("sent".into()),
                Some("only failed events can be retried; this conversion is sent"),
            ),
            (
                Retried::StillFailed("no click".into()),
                Some("the event still cannot be built: no click"),
            ),
            (Retried::NotFound, Some("no such conversion")),
        ];
        for (retried, want) in cases {
            assert_eq!(retried.refusal().as_deref(), want, "{retried:?}");
        }
    }
}
