//! When a campaign's platform gets a conversion (issue 20, item 10b): a Facebook click's lead
//! sent to TikTok too only adds noise to TikTok's optimisation, and the reverse.

use serde::Serialize;

use super::{Click, Conversion, ParseError, PlatformKind};

/// A platform's rule: `always`, or only when the conversion's click carries the platform's own
/// signal. Stored as NULL when not set, so the default follows the number of platforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SendWhen {
    Always,
    PlatformClick,
}

impl SendWhen {
    pub const ALL: [SendWhen; 2] = [SendWhen::Always, SendWhen::PlatformClick];

    pub const fn as_str(self) -> &'static str {
        match self {
            SendWhen::Always => "always",
            SendWhen::PlatformClick => "platform_click",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|w| w.as_str() == s.trim())
            .ok_or_else(|| ParseError::new("must be \"always\" or \"platform_click\""))
    }

    /// The rule that applies: the one set, else `platform_click` for a campaign on several
    /// platforms and `always` for a campaign on one.
    pub fn effective(set: Option<SendWhen>, platforms: usize) -> SendWhen {
        set.unwrap_or(if platforms > 1 {
            SendWhen::PlatformClick
        } else {
            SendWhen::Always
        })
    }
}

/// The signals that show a click came from `platform`'s ad, as people read them in a reason.
pub fn signal_names(platform: PlatformKind) -> &'static str {
    match platform {
        PlatformKind::Meta => "fbclid/fbc/fbp",
        PlatformKind::TikTok => "ttclid/ttp",
    }
}

/// Whether the click (or the postback itself, which may carry the click id) has `platform`'s
/// own signal.
pub fn has_platform_signal(
    platform: PlatformKind,
    click: Option<&Click>,
    conv: &Conversion,
) -> bool {
    let some = |v: Option<&String>| v.is_some_and(|s| !s.trim().is_empty());
    match platform {
        PlatformKind::Meta => {
            some(conv.fbclid.as_ref())
                || click.is_some_and(|c| {
                    some(c.fbclid.as_ref()) || some(c.fbc.as_ref()) || some(c.fbp.as_ref())
                })
        }
        PlatformKind::TikTok => {
            some(conv.ttclid.as_ref())
                || click.is_some_and(|c| some(c.ttclid.as_ref()) || some(c.ttp.as_ref()))
        }
    }
}

/// Why `platform` gets no event for this conversion, or `None` when it gets one.
pub fn skip_reason(
    platform: PlatformKind,
    rule: SendWhen,
    click: Option<&Click>,
    conv: &Conversion,
) -> Option<String> {
    if rule == SendWhen::Always || has_platform_signal(platform, click, conv) {
        return None;
    }
    Some(format!(
        "no {} click signal ({}) on the click: send_when platform_click",
        platform.name(),
        signal_names(platform)
    ))
}

/// A platform a conversion was not sent to, and why (shown in the answer and the views).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PlatformSkip {
    pub platform: PlatformKind,
    pub reason: String,
}
