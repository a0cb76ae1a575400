//! What to do with the events one pass claimed: pure, from the events, each campaign's target
//! (pixel and token) and its status. Send, park, postpone or expire, and group what is sent
//! into requests.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use super::outcome::Tally;
use crate::domain::{twin_check, EventState, FailureClass, LatePixelTwin, TwinCheck};
use crate::domain::{AccessToken, PlatformKind};
use crate::platforms::Limits;
use crate::storage::events::{CampaignPlatform, CampaignStatus, ClaimedEvent, Transition};

/// Where a campaign's events go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub pixel_id: String,
    pub access_token: AccessToken,
    pub test_event_code: Option<String>,
    /// The campaign's choice for events past their pixel twin's dedup window.
    pub late_pixel_twin: LatePixelTwin,
}

/// Events going to one platform's pixel with one token in one request.
#[derive(Debug, Clone)]
pub struct Request {
    pub platform: PlatformKind,
    pub target: Target,
    pub events: Vec<ClaimedEvent>,
}

/// Why a campaign's events for a platform have nowhere to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoTarget {
    /// The stored token cannot be decrypted (wrong or missing `SECRETS_KEY`): parked.
    Unreadable(String),
    /// The campaign no longer advertises on the platform (an event written from a stale cache,
    /// or one that was being sent when the platform was removed): cancelled like the rest.
    Removed,
}

/// Why events are parked (failed as `auth`) instead of sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Park {
    /// The platform refused the campaign's token or pixel before: these would be refused the
    /// same way.
    Refused(PlatformKind),
    /// The stored token cannot be decrypted (wrong or missing `SECRETS_KEY`).
    Unreadable(String),
}

impl Park {
    /// Says which of the campaign's settings to change (Meta's are its top-level fields).
    pub fn why(&self) -> String {
        match self {
            Park::Refused(PlatformKind::Meta) => {
                "not sent: Meta refused this campaign's access token or pixel; \
                 waiting for a new access_token or pixel_id"
                    .to_owned()
            }
            Park::Refused(PlatformKind::TikTok) => {
                "not sent: TikTok refused this campaign's access token or pixel code; \
                 waiting for a new tiktok.access_token or tiktok.pixel_code"
                    .to_owned()
            }
            Park::Unreadable(e) => format!("not sent: {e}"),
        }
    }
}

/// Why events expire unsent: older than their platform takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expiry {
    pub platform: PlatformKind,
    pub max_age_days: i64,
}

impl Expiry {
    pub fn why(&self) -> String {
        format!(
            "event_time is older than {} accepts ({} days); never sent",
            self.platform.name(),
            self.max_age_days
        )
    }
}

#[derive(Debug, Default)]
pub struct Plan {
    /// Older than their platform accepts: expired without a request.
    pub expire: Vec<(Expiry, Vec<ClaimedEvent>)>,
    pub park: Vec<(Park, Vec<ClaimedEvent>)>,
    /// New events of a campaign backing off wait for its next retry, unsent.
    pub postpone: Vec<(DateTime<Utc>, Vec<ClaimedEvent>)>,
    /// Events of deleted campaigns (deleted with them by the database): left alone.
    pub orphaned: Vec<ClaimedEvent>,
    /// Past their pixel twin's dedup window, of a campaign that skips those: failed, unsent.
    pub skip_late_twin: Vec<ClaimedEvent>,
    /// Of a platform removed from their campaign: cancelled, unsent.
    pub removed: Vec<ClaimedEvent>,
    pub send: Vec<Request>,
}

/// Claimed events settled without a request, and how.
#[derive(Debug, Clone)]
pub struct Unsent<'a> {
    pub events: &'a [ClaimedEvent],
    pub transition: Transition,
    /// A new retry time (postponed events), else unchanged.
    pub next_attempt: Option<DateTime<Utc>>,
    /// The report counter they add to, if any.
    pub tally: Option<Tally>,
}

impl Plan {
    /// The events this pass does not send, with their new state.
    pub fn unsent(&self) -> Vec<Unsent<'_>> {
        let settled = |events, state, failure_class, why: String, next_attempt, tally| Unsent {
            events,
            transition: Transition {
                state,
                failure_class,
                last_error: Some(why),
            },
            next_attempt,
            tally,
        };
        let mut out = Vec::new();
        for (expiry, evs) in &self.expire {
            let t = Some(Tally::Expired);
            let (state, why) = (EventState::Expired, expiry.why());
            out.push(settled(evs, state, None, why, None, t));
        }
        for (park, evs) in &self.park {
            let class = Some(FailureClass::Auth);
            let t = Some(Tally::Failed);
            out.push(settled(evs, EventState::Failed, class, park.why(), None, t));
        }
        if !self.skip_late_twin.is_empty() {
            let why = format!(
                "not sent: the pixel fired this event on this click more than {} hours earlier, \
                 past Meta's deduplication window, so Meta would count it twice; the campaign's \
                 late_pixel_twin is skip",
                crate::domain::PIXEL_DEDUP_WINDOW.num_hours()
            );
            out.push(settled(
                &self.skip_late_twin[..],
                EventState::Failed,
                Some(FailureClass::LatePixelTwin),
                why,
                None,
                Some(Tally::Failed),
            ));
        }
        if let Some(platform) = self.removed.first().map(|e| e.platform) {
            let why = format!(
                "cancelled: {} was removed from the campaign",
                platform.name()
            );
            out.push(settled(
                &self.removed[..],
                EventState::Failed,
                Some(FailureClass::PlatformRemoved),
                why,
                None,
                Some(Tally::Failed),
            ));
        }
        for (until, evs) in &self.postpone {
            let platform = evs.first().map_or("the platform", |e| e.platform.name());
            let why = format!(
                "waiting: {platform} failed recently for this campaign; sent with its next retry"
            );
            out.push(settled(
                evs,
                EventState::Pending,
                None,
                why,
                Some(*until),
                None,
            ));
        }
        out
    }
}

/// The plan for `claimed`. `targets` holds each campaign still existing with each platform it
/// sends to (`Err`: why its events cannot go there); `status` the campaigns and platforms with parked
/// or backing-off events; `limits` each platform's (a request holds at most the smaller of
/// its `max_events` and `batch_max`).
pub fn plan(
    claimed: Vec<ClaimedEvent>,
    targets: &HashMap<CampaignPlatform, Result<Target, NoTarget>>,
    status: &HashMap<CampaignPlatform, CampaignStatus>,
    limits: &dyn Fn(PlatformKind) -> Limits,
    batch_max: usize,
    now: DateTime<Utc>,
) -> Plan {
    let mut plan = Plan::default();
    let mut by_campaign: BTreeMap<(i64, PlatformKind), Vec<ClaimedEvent>> = BTreeMap::new();
    let mut expired: BTreeMap<Expiry, Vec<ClaimedEvent>> = BTreeMap::new();
    for e in claimed {
        if let Some(expiry) = too_old(&e, limits(e.platform), now) {
            expired.entry(expiry).or_default().push(e);
        } else {
            by_campaign
                .entry((e.campaign_id, e.platform))
                .or_default()
                .push(e);
        }
    }
    type TargetKey = (PlatformKind, String, String, Option<String>);
    let mut by_target: BTreeMap<TargetKey, Request> = BTreeMap::new();
    for ((campaign_id, platform), mut evs) in by_campaign {
        let Some(target) = targets.get(&(campaign_id, platform)) else {
            plan.orphaned.extend(evs);
            continue;
        };
        // Before parking and backoff: nothing of a removed platform waits, and events whose
        // token cannot be opened say so (start-up re-queues them once it opens).
        let target = match target {
            Ok(t) => t,
            Err(NoTarget::Unreadable(e)) => {
                plan.park.push((Park::Unreadable(e.clone()), evs));
                continue;
            }
            Err(NoTarget::Removed) => {
                plan.removed.extend(evs);
                continue;
            }
        };
        let status = status
            .get(&(campaign_id, platform))
            .copied()
            .unwrap_or_default();
        if status.auth_parked {
            plan.park.push((Park::Refused(platform), evs));
            continue;
        }
        if let Some(until) = status.backoff_until {
            let (fresh, retries): (Vec<_>, Vec<_>) = evs.into_iter().partition(|e| e.attempts == 0);
            if !fresh.is_empty() {
                plan.postpone.push((until, fresh));
            }
            evs = retries;
            if evs.is_empty() {
                continue;
            }
        }
        // Checked when it would be sent: the window runs out while an event waits.
        let (late, evs): (Vec<_>, Vec<_>) = evs.into_iter().partition(|e| {
            twin_check(target.late_pixel_twin, e.pixel_fired_at(), now) == TwinCheck::Skip
        });
        plan.skip_late_twin.extend(late);
        if evs.is_empty() {
            continue;
        }
        let key = (
            platform,
            target.pixel_id.clone(),
            target.access_token.expose().to_owned(),
            target.test_event_code.clone(),
        );
        by_target
            .entry(key)
            .or_insert_with(|| Request {
                platform,
                target: target.clone(),
                events: Vec::new(),
            })
            .events
            .extend(evs);
    }
    for (_, mut req) in by_target {
        req.events.sort_by_key(|e| e.id);
        let size = batch_max.min(limits(req.platform).max_events).max(1);
        let mut events = req.events.into_iter().peekable();
        while events.peek().is_some() {
            plan.send.push(Request {
                platform: req.platform,
                target: req.target.clone(),
                events: events.by_ref().take(size).collect(),
            });
        }
    }
    plan.expire = expired.into_iter().collect();
    plan
}

/// `Some` when the event is older than its platform takes it (the platform reads its own
/// limit from the payload).
fn too_old(e: &ClaimedEvent, limits: Limits, now: DateTime<Utc>) -> Option<Expiry> {
    let max_age = (limits.max_age)(&e.payload);
    (e.event_time < now - max_age).then_some(Expiry {
        platform: e.platform,
        max_age_days: max_age.num_days(),
    })
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
