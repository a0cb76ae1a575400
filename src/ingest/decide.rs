//! What becomes of a conversion, decided without touching the database: the caller loads the
//! click, the campaign and the event names already used on the click, and persists the result.

use serde_json::Value;

use crate::capi::event::{build_event, EventInput};
use crate::capi::event_id::{base_event_id, repeat_event_id};
use crate::domain::{Campaign, Click, Conversion, ConversionState};

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Anything but `Unmatched`: deciding needs the click or the end of the grace period.
    pub state: ConversionState,
    pub campaign_id: Option<i64>,
    pub event_name: Option<String>,
    pub failure_reason: Option<String>,
    pub event: Option<PlannedEvent>,
}

impl Decision {
    /// Writes the decision into the conversion it is about, joined to `click_row_id`.
    pub fn apply_to(&self, conv: &mut Conversion, click_row_id: Option<i64>) {
        conv.click_row_id = click_row_id;
        conv.campaign_id = self.campaign_id;
        conv.state = self.state;
        conv.event_name = self.event_name.clone();
        conv.failure_reason = self.failure_reason.clone();
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlannedEvent {
    pub event_id: String,
    pub payload: Value,
}

impl Decision {
    fn failed(campaign_id: Option<i64>, event_name: Option<String>, reason: String) -> Self {
        Decision {
            state: ConversionState::Failed,
            campaign_id,
            event_name,
            failure_reason: Some(reason),
            event: None,
        }
    }
}

/// `used_events`: event names other conversions of the click already have (a rebill must not
/// reuse the first conversion's event id).
pub fn decide(
    campaign: Option<&Campaign>,
    click: Option<&Click>,
    conv: &Conversion,
    used_events: &[String],
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
        return Decision::failed(None, None, reason);
    };
    let campaign_id = Some(campaign.id);
    let event_name = match map_status(campaign, conv) {
        Ok(name) => name,
        Err(reason) => {
            return Decision {
                state: ConversionState::Skipped,
                campaign_id,
                event_name: None,
                failure_reason: Some(reason),
                event: None,
            }
        }
    };
    if campaign.require_consent && click.and_then(|c| c.consent) != Some(true) {
        return Decision {
            state: ConversionState::Suppressed,
            campaign_id,
            event_name: Some(event_name),
            failure_reason: Some("the campaign requires consent and the click has none".into()),
            event: None,
        };
    }
    let registered = click.map(|c| c.event_ids.clone()).unwrap_or_default();
    let base = base_event_id(
        &registered,
        &campaign.event_id_template,
        &event_name,
        &conv.click_id,
        &conv.txid,
        campaign.key.as_str(),
    );
    let event_id = if used_events.contains(&event_name) {
        repeat_event_id(&base, &conv.txid, &conv.status)
    } else {
        base
    };
    let input = EventInput {
        campaign,
        click,
        conversion: conv,
        event_name: &event_name,
        event_id: event_id.clone(),
    };
    match build_event(input).map(|e| serde_json::to_value(&e)) {
        Ok(Ok(payload)) => Decision {
            state: ConversionState::Queued,
            campaign_id,
            event_name: Some(event_name),
            failure_reason: None,
            event: Some(PlannedEvent { event_id, payload }),
        },
        Ok(Err(e)) => Decision::failed(
            campaign_id,
            Some(event_name),
            format!("event could not be encoded: {e}"),
        ),
        Err(missing) => Decision::failed(campaign_id, Some(event_name), missing.to_string()),
    }
}

/// The campaign's event for a status: the network's own word first (so a map can name `ftd`),
/// then the normalised status. `Err`: record but do not send, and why.
fn map_status(campaign: &Campaign, conv: &Conversion) -> Result<String, String> {
    let raw = conv.raw_status.trim().to_lowercase();
    let shown = if raw == conv.status {
        format!("{:?}", conv.status)
    } else {
        format!("{:?} (read as {:?})", conv.raw_status, conv.status)
    };
    let mapped = campaign
        .event_map
        .get(&raw)
        .or_else(|| campaign.event_map.get(&conv.status))
        .ok_or_else(|| format!("status {shown} is not in the event map"))?;
    mapped
        .map(|name| name.as_str().to_owned())
        .ok_or_else(|| format!("status {shown} maps to no event (null in the event map)"))
}
