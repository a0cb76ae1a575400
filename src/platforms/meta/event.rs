//! The server event Meta receives, built from a conversion joined with its click.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::{ActionSource, Campaign, Click, Conversion, CustomerData};
use crate::platforms::address::visitor_ip;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerEvent {
    pub event_name: String,
    pub event_time: i64,
    pub event_id: String,
    pub action_source: ActionSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_source_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referrer_url: Option<String>,
    pub user_data: UserData,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_data: Option<CustomData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_processing_options: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_processing_options_country: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_processing_options_state: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UserData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ip_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fbc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fbp: Option<String>,
    /// `em`, `ph`, ... `external_id`: arrays of SHA-256 hex digests.
    #[serde(flatten)]
    pub hashed: BTreeMap<&'static str, Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CustomData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
}

pub struct EventInput<'a> {
    pub campaign: &'a Campaign,
    pub click: Option<&'a Click>,
    pub conversion: &'a Conversion,
    pub event_name: &'a str,
    pub event_id: String,
}

/// A field Meta requires that neither the click nor the postback supplied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} is required by Meta for action_source {action_source} and {sources} has it")]
pub struct MissingField {
    pub field: &'static str,
    pub action_source: &'static str,
    /// Where it was looked for.
    pub sources: &'static str,
}

/// The stored payload of a conversion's Meta event.
pub fn conversion_event(
    s: &crate::platforms::EventSource<'_>,
) -> Result<serde_json::Value, String> {
    let event = build_event(EventInput {
        campaign: s.campaign,
        click: s.click,
        conversion: s.conversion,
        event_name: s.event_name,
        event_id: s.event_id.to_owned(),
    })
    .map_err(|missing| missing.to_string())?;
    serde_json::to_value(&event).map_err(|e| format!("event could not be encoded: {e}"))
}

/// The conversion's own action source (an import row's, a postback's), else the campaign's.
pub fn action_source(campaign: &Campaign, conv: &Conversion) -> ActionSource {
    conv.action_source.unwrap_or(campaign.action_source)
}

/// What Meta requires of a `website` event and nothing else: the visitor's user agent and the
/// page URL (a strict validator refuses them without). Other sources (a call, a shop, a CRM)
/// need neither. Also asked at import time, so a row that can never be sent is reported then.
pub fn website_requirements(
    action_source: ActionSource,
    has_user_agent: bool,
    has_page_url: bool,
) -> Result<(), MissingField> {
    if action_source != ActionSource::Website {
        return Ok(());
    }
    if !has_user_agent {
        return Err(MissingField {
            field: "client_user_agent",
            action_source: "website",
            sources: "neither the click nor the postback (ua)",
        });
    }
    if !has_page_url {
        return Err(MissingField {
            field: "event_source_url",
            action_source: "website",
            sources: "neither the click, the postback (url) nor the campaign's landing_url",
        });
    }
    Ok(())
}

/// Click values first, then what the postback carried.
pub fn build_event(input: EventInput<'_>) -> Result<ServerEvent, MissingField> {
    let EventInput {
        campaign,
        click,
        conversion: conv,
        event_name,
        event_id,
    } = input;

    let client_ip_address = visitor_ip(
        click.and_then(|c| c.client_ip_address.as_deref()),
        conv.ip.as_deref(),
    )
    .map(str::to_owned);
    let client_user_agent = click
        .and_then(|c| c.client_user_agent.clone())
        .or_else(|| conv.user_agent.clone());
    let action_source = action_source(campaign, conv);
    let event_source_url = click
        .and_then(|c| c.event_source_url.clone())
        .or_else(|| conv.event_source_url.clone())
        .or_else(|| campaign.landing_url.as_ref().map(|u| u.as_str().to_owned()));
    website_requirements(
        action_source,
        client_user_agent.is_some(),
        event_source_url.is_some(),
    )?;

    let customer = match click {
        Some(c) => c.customer.clone().or(&conv.customer),
        None => conv.customer.clone(),
    };
    let user_data = UserData {
        client_ip_address,
        client_user_agent,
        fbc: super::fbc::fbc(click, conv),
        fbp: click.and_then(|c| c.fbp.clone()),
        hashed: hashed(&customer),
    };

    let (value, currency) = campaign.event_value(conv, event_name == "Purchase").unzip();
    let order_id = (!conv.txid.is_empty()).then(|| conv.txid.clone());
    let custom_data = (value.is_some() || order_id.is_some()).then_some(CustomData {
        value,
        currency,
        order_id,
    });

    let ldu = campaign.limited_data_use;
    Ok(ServerEvent {
        event_name: event_name.to_owned(),
        event_time: conv.event_time.timestamp(),
        event_id,
        action_source,
        event_source_url,
        referrer_url: click.and_then(|c| c.referrer_url.clone()),
        user_data,
        custom_data,
        data_processing_options: ldu.then(|| vec!["LDU"]),
        // 0 and 0: Meta geolocates the event.
        data_processing_options_country: ldu.then_some(0),
        data_processing_options_state: ldu.then_some(0),
    })
}

fn hashed(customer: &CustomerData) -> BTreeMap<&'static str, Vec<String>> {
    customer
        .iter()
        .map(|(field, hash)| (field.name(), vec![hash.as_str().to_owned()]))
        .collect()
}

#[cfg(test)]
#[path = "event_tests.rs"]
mod tests;

#[cfg(test)]
mod action_source_tests {
    use super::*;
    use crate::domain::fixtures::{campaign, conversion};

    #[test]
    fn only_website_events_need_a_user_agent_and_a_page() {
        use ActionSource::*;
        for (source, ua, url, missing) in [
            (Website, true, true, None),
            (Website, false, true, Some("client_user_agent")),
            (Website, true, false, Some("event_source_url")),
            (Website, false, false, Some("client_user_agent")),
            (PhoneCall, false, false, None),
            (PhysicalStore, false, false, None),
            (SystemGenerated, false, false, None),
            (Email, false, false, None),
            (Other, false, false, None),
        ] {
            let got = website_requirements(source, ua, url).err().map(|m| m.field);
            assert_eq!(got, missing, "{source:?} ua {ua} url {url}");
        }
    }

    #[test]
    fn the_conversions_action_source_wins_over_the_campaigns() {
        let c = campaign();
        assert_eq!(c.action_source, ActionSource::Website);
        let phone = Conversion {
            action_source: Some(ActionSource::PhoneCall),
            ..conversion()
        };
        let event = build_event(EventInput {
            campaign: &c,
            click: None,
            conversion: &phone,
            event_name: "Lead",
            event_id: "e1".into(),
        })
        .expect("a phone call needs no user agent");
        assert_eq!(event.action_source, ActionSource::PhoneCall);
        assert_eq!(event.user_data.client_user_agent, None);
        assert_eq!(action_source(&c, &conversion()), ActionSource::Website);
    }
}
