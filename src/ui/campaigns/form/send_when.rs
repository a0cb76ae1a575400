//! The `send_when` choice of each platform's fieldset: empty is the default (which follows the
//! number of platforms, so it is stored as no choice).

use maud::{html, Markup};

use super::{error_for, label, FormError};
use crate::domain::{PlatformKind, SendWhen};

/// `name`: the form field; `field`: the service's name for it (where its errors show).
pub fn select(
    error: Option<&FormError>,
    (name, field): (&str, &'static str),
    platform: PlatformKind,
    value: &str,
) -> Markup {
    let signals = match platform {
        PlatformKind::Meta => "fbclid, _fbc or _fbp",
        PlatformKind::TikTok => "ttclid or _ttp",
    };
    html! {
        div.field {
            label for=(name) { (label(field)) }
            select #(name) name=(name) {
                option value="" selected[value.is_empty()] {
                    "default: only its own clicks when the campaign has two platforms, else always"
                }
                option value=(SendWhen::PlatformClick.as_str())
                    selected[value == SendWhen::PlatformClick.as_str()] {
                    "only when the click came from " (platform.name()) " (" (signals) ")"
                }
                option value=(SendWhen::Always.as_str()) selected[value == SendWhen::Always.as_str()] {
                    "always"
                }
            }
            p.hint { "A conversion skipped by this rule is listed as skipped on the conversion, with the reason." }
            (error_for(error, field))
        }
    }
}

/// The stored rule as the form shows it.
pub fn value(rule: Option<SendWhen>) -> String {
    rule.map(|r| r.as_str().to_owned()).unwrap_or_default()
}
