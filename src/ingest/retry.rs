//! A manual retry of a failed conversion. Each failed event (one per platform) is decided and
//! built again from the click and campaign as they are now, so a landing URL or user agent
//! added since the failure reaches the platform; it keeps its event id, so the platform still
//! deduplicates it.

use sqlx::PgPool;

use super::decide::decide;
use super::join::{join, Joined};
use super::write_event;
use crate::domain::{ConversionState, EventState, FailureClass, PlatformKind};
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

/// One event of a conversion as the retry check reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventCheck {
    pub state: EventState,
    pub failure_class: Option<FailureClass>,
    /// Its payload is kept (retention erases it after a while).
    pub payload_kept: bool,
}

impl EventCheck {
    /// Failed, and not because its platform left the campaign (nothing to retry there).
    fn retryable(&self) -> bool {
        self.state == EventState::Failed
            && self.failure_class != Some(FailureClass::PlatformRemoved)
    }
}

/// Whether a conversion may be retried: one with events when some event failed (on any
/// platform, whatever the others' state) and kept its data; one without (it failed before an
/// event was built) when its own state, `shown`, is failed. `Some(NotFailed)` says why not.
pub fn check_retryable(shown: &str, events: &[EventCheck]) -> Option<Retried> {
    let failed: Vec<&EventCheck> = events.iter().filter(|e| e.retryable()).collect();
    if events.is_empty() && shown == EventState::Failed.as_str()
        || failed.iter().any(|e| e.payload_kept)
    {
        return None;
    }
    let why = if !failed.is_empty() {
        "failed, and its data was erased by retention"
    } else if events.iter().any(|e| e.state == EventState::Failed) {
        "failed only on a platform removed from the campaign"
    } else {
        shown
    };
    Some(Retried::NotFailed(why.to_owned()))
}

/// Retries a conversion: each of its failed events is built again from the click and campaign
/// as they are now and queued, keeping its event id (so the platform still deduplicates it);
/// its other events are left alone. A conversion that failed before it had events is decided
/// again and gets them.
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
    let events = events::of_conversion(&mut tx, id).await?;
    let checks: Vec<EventCheck> = events
        .iter()
        .map(|e| EventCheck {
            state: e.state,
            failure_class: e.failure_class,
            payload_kept: e.has_payload,
        })
        .collect();
    let shown = EventState::least_advanced(checks.iter().map(|c| c.state))
        .map_or(conv.state.to_string(), |s| s.to_string());
    if let Some(refused) = check_retryable(&shown, &checks) {
        return Ok(refused);
    }
    // The click it joined, else the one it would join now (registered since it went out).
    let known = match conv.click_row_id {
        Some(row) => clicks::find_by_row(&mut *tx, row)
            .await?
            .into_iter()
            .collect(),
        None => clicks::find_all(&mut *tx, &conv.click_id).await?,
    };
    let joined = match conv.click_row_id {
        Some(_) => known.first().map(|click| Joined {
            click,
            ambiguous: conv.click_ambiguous,
        }),
        None => join(conv.campaign_hint.as_deref(), &known),
    };
    let click = joined.map(|j| j.click);
    let campaign = match (click, conv.campaign_id, &conv.campaign_hint) {
        (Some(c), ..) => campaigns.get_by_id(c.campaign_id).await?,
        (None, Some(id), _) => campaigns.get_by_id(id).await?,
        (None, None, Some(hint)) => campaigns.get(hint).await?,
        (None, None, None) => None,
    };
    let history = conversions::click_history(&mut tx, &conv.click_id, conv.id).await?;
    let decision = decide(
        campaign.as_deref(),
        click,
        &conv,
        &history.used_events(campaign.as_ref().map(|c| c.id)),
    );
    let outcome = if events.is_empty() {
        let mut decided = conv.clone();
        decision.apply_to(&mut decided, joined);
        conversions::set_decision(&mut tx, &decided).await?;
        write_event(&mut tx, id, &conv, &decision).await?;
        match decision.events.first() {
            Some(_) => Retried::Queued,
            None if decision.state == ConversionState::Failed => {
                Retried::StillFailed(decision.failure_reason.unwrap_or_default())
            }
            None => Retried::NotFailed(decision.state.as_str().to_owned()),
        }
    } else {
        let mut requeued = 0;
        let mut still = Vec::new();
        let failed = events.iter().zip(&checks);
        for (existing, _) in failed.filter(|(e, c)| c.retryable() && e.has_payload) {
            match decision
                .events
                .iter()
                .find(|p| p.platform == existing.platform)
            {
                Some(planned) => {
                    // Both platforms' payloads carry the id at `event_id`.
                    let mut payload = planned.payload.clone();
                    payload["event_id"] = serde_json::Value::String(existing.event_id.clone());
                    events::requeue_rebuilt(&mut tx, existing.id, &payload).await?;
                    requeued += 1;
                }
                None => still.push(not_rebuilt(existing.platform, &decision)),
            }
        }
        if requeued > 0 {
            // The conversion's reason now says what still fails, if anything.
            let mut decided = conv.clone();
            decision.apply_to(&mut decided, joined);
            conversions::set_decision(&mut tx, &decided).await?;
            Retried::Queued
        } else {
            Retried::StillFailed(still.join("; "))
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Why a platform's failed event could not be built again.
fn not_rebuilt(platform: PlatformKind, decision: &super::decide::Decision) -> String {
    match &decision.failure_reason {
        Some(reason) if decision.events.is_empty() => reason.clone(),
        Some(reason) if reason.contains(platform.name()) => reason.clone(),
        _ => format!(
            "the campaign no longer sends this status to {}",
            platform.name()
        ),
    }
}

/// What retrying a campaign's failed conversions did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CampaignRequeued)]
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
        let ev = |state, kept| EventCheck {
            state,
            failure_class: (state == Failed).then_some(FailureClass::Invalid),
            payload_kept: kept,
        };
        let removed = EventCheck {
            failure_class: Some(FailureClass::PlatformRemoved),
            ..ev(Failed, true)
        };
        let erased = "failed, and its data was erased by retention";
        let gone = "failed only on a platform removed from the campaign";
        let cases: Vec<(&str, Vec<EventCheck>, Option<&str>)> = vec![
            // Failed before an event was built: retried by building it.
            ("failed", vec![], None),
            ("skipped", vec![], Some("skipped")),
            ("unmatched", vec![], Some("unmatched")),
            ("failed", vec![ev(Failed, true)], None),
            ("failed", vec![ev(Failed, false)], Some(erased)),
            ("sent", vec![ev(Sent, true)], Some("sent")),
            ("pending", vec![ev(Pending, true)], Some("pending")),
            ("expired", vec![ev(Expired, true)], Some("expired")),
            // One platform failed while another is sent or still pending: that one is retried.
            ("failed", vec![ev(Sent, true), ev(Failed, true)], None),
            ("pending", vec![ev(Pending, true), ev(Failed, true)], None),
            ("failed", vec![ev(Failed, false), ev(Failed, true)], None),
            (
                "failed",
                vec![ev(Sent, true), ev(Failed, false)],
                Some(erased),
            ),
            (
                "expired",
                vec![ev(Sent, true), ev(Expired, true)],
                Some("expired"),
            ),
            // Cancelled because TikTok left the campaign: nothing to retry there.
            ("failed", vec![ev(Sent, true), removed], Some(gone)),
            ("failed", vec![removed, ev(Failed, true)], None),
        ];
        for (shown, events, want) in cases {
            let got = check_retryable(shown, &events);
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
