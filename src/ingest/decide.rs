//! What becomes of a conversion, decided without touching the database: the caller loads the
//! click, the campaign and the event names already used on the click, and persists the result.

use serde_json::Value;

use crate::domain::{
    skip_reason, Campaign, Click, Conversion, ConversionState, EventIds, EventMap, PlatformKind,
    PlatformSkip,
};
use crate::ingest::event_id::{base_event_id, repeat_event_id};
use crate::platforms::{self, EventSource};

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Anything but `Unmatched`: deciding needs the click or the end of the grace period.
    pub state: ConversionState,
    pub campaign_id: Option<i64>,
    /// The conversion's event name: Meta's when Meta sends it, else the first platform's.
    pub event_name: Option<String>,
    pub failure_reason: Option<String>,
    /// One event per platform whose map sends the status.
    pub events: Vec<PlannedEvent>,
    /// Events of platforms that could not be built while another platform's could: stored
    /// failed (with the reason) so a retry builds them once the data is there.
    pub unbuilt: Vec<UnbuiltEvent>,
    /// Platforms whose map sends the status but whose `send_when` keeps the conversion from
    /// them: no event row, listed on the conversion instead.
    pub skipped: Vec<PlatformSkip>,
}

impl Decision {
    /// Writes the decision into the conversion it is about, joined to the click `joined`.
    pub fn apply_to(&self, conv: &mut Conversion, joined: Option<super::join::Joined<'_>>) {
        conv.click_row_id = joined.map(|j| j.click.id);
        conv.click_ambiguous = joined.is_some_and(|j| j.ambiguous);
        conv.campaign_id = self.campaign_id;
        conv.state = self.state;
        conv.event_name = self.event_name.clone();
        conv.failure_reason = self.failure_reason.clone();
        conv.skipped = self.skipped.clone();
    }

    /// A decision to send nothing: the conversion ends in `state`, for `reason`.
    fn unsent(
        state: ConversionState,
        campaign_id: Option<i64>,
        event_name: Option<String>,
        reason: String,
    ) -> Self {
        Decision {
            state,
            campaign_id,
            event_name,
            failure_reason: Some(reason),
            events: Vec::new(),
            unbuilt: Vec::new(),
            skipped: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct UnbuiltEvent {
    pub platform: PlatformKind,
    pub event_name: String,
    pub event_id: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlannedEvent {
    pub platform: PlatformKind,
    pub event_name: String,
    pub event_id: String,
    pub payload: Value,
}

/// `used_events`: per platform, the event names other conversions of the click already have
/// (a rebill must not reuse the first conversion's event id).
pub fn decide(
    campaign: Option<&Campaign>,
    click: Option<&Click>,
    conv: &Conversion,
    used_events: &[(PlatformKind, String)],
) -> Decision {
    let Some(campaign) = campaign else {
        let reason = match &conv.campaign_hint {
            Some(hint) if click.is_none() => {
                format!("the click was never registered and campaign {hint:?} does not exist")
            }
            _ => "the click was never registered and the postback names no campaign \
                  (add &campaign=<key> to the postback URL to send such conversions)"
                .to_owned(),
        };
        return Decision::unsent(ConversionState::Failed, None, None, reason);
    };
    let campaign_id = Some(campaign.id);
    let platforms = campaign.platforms();
    let mut mapped = Vec::new();
    let mut not_sent = Vec::new();
    for (platform, map) in &platforms {
        match map_status(map, conv) {
            Ok(name) => mapped.push((*platform, name)),
            Err(reason) => not_sent.push((*platform, reason)),
        }
    }
    let Some(event_name) = mapped.first().map(|(_, name)| name.clone()) else {
        let reason = reasons(&not_sent, platforms.len());
        return Decision::unsent(ConversionState::Skipped, campaign_id, None, reason);
    };
    if let Some(reason) = refund(conv, &event_name) {
        return Decision::unsent(ConversionState::Skipped, campaign_id, None, reason);
    }
    if campaign.require_consent && click.and_then(|c| c.consent) != Some(true) {
        let reason = "the campaign requires consent and the click has none".into();
        return Decision::unsent(
            ConversionState::Suppressed,
            campaign_id,
            Some(event_name),
            reason,
        );
    }
    let (mapped, skipped) = by_send_when(campaign, click, conv, mapped);
    let Some(event_name) = mapped.first().map(|(_, name)| name.clone()) else {
        let why: Vec<_> = skipped
            .iter()
            .map(|s| (s.platform, s.reason.clone()))
            .collect();
        let reason = reasons(&why, platforms.len());
        return Decision {
            skipped,
            ..Decision::unsent(ConversionState::Skipped, campaign_id, None, reason)
        };
    };
    let mut events = Vec::new();
    let mut unbuilt = Vec::new();
    for (platform, name) in mapped {
        let repeat = used_events
            .iter()
            .any(|(p, n)| *p == platform && *n == name);
        match plan_event(campaign, click, conv, platform, &name, repeat) {
            Ok(event) => events.push(event),
            Err(failed) => unbuilt.push(failed),
        }
    }
    let failures: Vec<_> = unbuilt
        .iter()
        .map(|u| (u.platform, u.reason.clone()))
        .collect();
    let failure_reason = (!failures.is_empty()).then(|| reasons(&failures, platforms.len()));
    if events.is_empty() {
        // Nothing to store: the conversion itself is failed, and a retry decides it again.
        unbuilt.clear();
    }
    Decision {
        state: if events.is_empty() {
            ConversionState::Failed
        } else {
            ConversionState::Queued
        },
        campaign_id,
        event_name: Some(event_name),
        failure_reason,
        events,
        unbuilt,
        skipped,
    }
}

/// Splits the platforms whose map sends the status into those the campaign's `send_when`
/// sends to and those it skips (with the reason).
fn by_send_when(
    campaign: &Campaign,
    click: Option<&Click>,
    conv: &Conversion,
    mapped: Vec<(PlatformKind, String)>,
) -> (Vec<(PlatformKind, String)>, Vec<PlatformSkip>) {
    let mut skipped = Vec::new();
    let sent = mapped
        .into_iter()
        .filter(|(platform, _)| {
            let rule = campaign.send_when(*platform);
            match skip_reason(*platform, rule, click, conv) {
                Some(reason) => {
                    skipped.push(PlatformSkip {
                        platform: *platform,
                        reason,
                    });
                    false
                }
                None => true,
            }
        })
        .collect();
    (sent, skipped)
}

/// One platform's event: the id its pixel got (registered on the click, else the campaign's
/// template rendered with this platform's event name) and its payload.
fn plan_event(
    campaign: &Campaign,
    click: Option<&Click>,
    conv: &Conversion,
    platform: PlatformKind,
    event_name: &str,
    repeat: bool,
) -> Result<PlannedEvent, UnbuiltEvent> {
    let registered = click.map(|c| c.registered_event_ids(platform));
    let base = base_event_id(
        registered.unwrap_or(&EventIds::default()),
        &campaign.event_id_template,
        event_name,
        &conv.click_id,
        &conv.txid,
        campaign.key.as_str(),
    );
    let event_id = if repeat {
        repeat_event_id(&base, &conv.txid, &conv.status)
    } else {
        base
    };
    let source = EventSource {
        campaign,
        click,
        conversion: conv,
        event_name,
        event_id: &event_id,
    };
    let payload = match platforms::build_event(platform, &source) {
        Ok(payload) => payload,
        Err(reason) => {
            return Err(UnbuiltEvent {
                platform,
                event_name: event_name.to_owned(),
                event_id,
                reason,
            })
        }
    };
    Ok(PlannedEvent {
        platform,
        event_name: event_name.to_owned(),
        event_id,
        payload,
    })
}

/// A negative payout is a refund or a chargeback: recorded, never sent. Meta and TikTok take no
/// negative value, and the event would count one more conversion (valued 0) instead of one less.
fn refund(conv: &Conversion, event_name: &str) -> Option<String> {
    let payout = conv.payout.filter(|p| *p < 0.0)?;
    Some(format!(
        "refund: the payout is negative ({payout}); not sent as {event_name} \
         (Meta and TikTok take no negative value)"
    ))
}

/// Why a status is not sent: as it always read for a single platform, each platform named
/// when the campaign has several.
fn reasons(why: &[(PlatformKind, String)], platforms: usize) -> String {
    if platforms <= 1 {
        return why
            .iter()
            .map(|(_, r)| r.as_str())
            .collect::<Vec<_>>()
            .join("; ");
    }
    why.iter()
        .map(|(p, r)| format!("{}: {r}", p.name()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The campaign's event for a status: the network's own word first (so a map can name `ftd`),
/// then the normalised status. `Err`: record but do not send, and why.
fn map_status(map: &EventMap, conv: &Conversion) -> Result<String, String> {
    let raw = conv.raw_status.trim().to_lowercase();
    let shown = if raw == conv.status {
        format!("{:?}", conv.status)
    } else {
        format!("{:?} (read as {:?})", conv.raw_status, conv.status)
    };
    let mapped = map
        .get(&raw)
        .or_else(|| map.get(&conv.status))
        .ok_or_else(|| format!("status {shown} is not in the event map"))?;
    mapped
        .map(|name| name.as_str().to_owned())
        .ok_or_else(|| format!("status {shown} maps to no event (null in the event map)"))
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
