//! Whether a row recorded without a registered click can ever be sent. Such a row waits
//! `UNMATCHED_GRACE` for its click and is then decided with what it carries; when that decision
//! is already certain to fail (a `website` event without a user agent, no campaign), the user
//! hears it at upload, from the same rule the unmatched sweep applies ([`decide`]).

use crate::domain::{Campaign, Conversion, ConversionState};
use crate::ingest::decide::decide;

/// Why the click-less conversion `conv` (with its action source already settled) cannot be
/// sent, for the import's errors; `None` when it can, or when its status is simply not sent.
pub fn unsendable(campaign: Option<&Campaign>, conv: &Conversion) -> Option<String> {
    let decision = decide(campaign, None, conv, &[]);
    let platforms = campaign.map(|c| c.platforms()).unwrap_or_default();
    let mut why = Vec::new();
    if decision.state == ConversionState::Failed {
        let reason = decision.failure_reason.unwrap_or_default();
        why.push(match platforms.as_slice() {
            [(platform, _)] => format!("cannot be sent to {}: {reason}", platform.name()),
            _ => format!("cannot be sent: {reason}"),
        });
    }
    for u in &decision.unbuilt {
        why.push(format!(
            "cannot be sent to {}: {}",
            u.platform.name(),
            u.reason
        ));
    }
    (!why.is_empty()).then(|| {
        format!(
            "{} (recorded as unmatched: only a click registered within UNMATCHED_GRACE can \
             supply what is missing; give the row action_source, or ua and url)",
            why.join("; ")
        )
    })
}

/// A row naming a campaign key this bridge has no campaign for: recorded like such a postback
/// (unmatched: it joins no click, not even another campaign's), never sendable.
pub fn unknown_campaign(key: &str) -> String {
    format!(
        "campaign {key:?} is no campaign of this bridge: the row is recorded as unmatched and \
         joins no click, so it cannot be sent; put a campaign's key in the campaign column (the \
         key its postback URLs carry as campaign=)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::{campaign, conversion};
    use crate::domain::{ActionSource, HttpUrl};

    #[test]
    fn a_click_less_row_is_judged_by_the_rule_the_sweep_applies() {
        let site = Campaign {
            landing_url: Some(HttpUrl::parse("https://lander.example/").unwrap()),
            ..campaign()
        };
        let no_landing = campaign();
        let conv = |source: Option<ActionSource>, ua: Option<&str>| Conversion {
            action_source: source,
            user_agent: ua.map(str::to_owned),
            campaign_hint: Some(site.key.as_str().to_owned()),
            status: "lead".into(),
            raw_status: "lead".into(),
            ..conversion()
        };
        let ua = Some("Mozilla/5.0");
        for (campaign, conv, want) in [
            (Some(&site), conv(None, None), Some("client_user_agent")),
            (
                Some(&site),
                conv(Some(ActionSource::Website), None),
                Some("client_user_agent"),
            ),
            (Some(&site), conv(None, ua), None),
            (Some(&no_landing), conv(None, ua), Some("event_source_url")),
            (Some(&site), conv(Some(ActionSource::PhoneCall), None), None),
            (
                Some(&no_landing),
                conv(Some(ActionSource::PhysicalStore), None),
                None,
            ),
            (
                None,
                conv(Some(ActionSource::PhoneCall), None),
                Some("does not exist"),
            ),
        ] {
            let got = unsendable(campaign, &conv);
            match want {
                None => assert_eq!(got, None, "{conv:?}"),
                Some(part) => {
                    let got = got.expect("unsendable");
                    assert!(got.contains(part), "{got}");
                    assert!(got.starts_with("cannot be sent"), "{got}");
                }
            }
        }
    }
}
