//! A problem as people read it: what is wrong, where, since when, and what fixes it. The words
//! hold no secret and no personal data: campaign keys, platform names, error codes, counts.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::PlatformKind;

/// What is wrong. `as_str` is the stable key alerts are filed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The platform refused the campaign's access token: its events are parked.
    TokenRefused,
    /// The platform refused the campaign's pixel: its events are parked.
    PixelRefused,
    /// The stored token cannot be decrypted (a missing or wrong `SECRETS_KEY`): parked.
    TokenUnreadable,
    /// More of the window's attempted events failed than the rules allow.
    Failing,
    /// Events have waited in the outbox longer than the rules allow.
    OutboxStuck,
    /// Postbacks were refused at the door: the tracker's postback URL is wrong.
    PostbacksRefused,
    /// Postbacks found no click: the landing tag or the click id macro is wrong.
    PostbacksUnmatched,
    /// Clicks arrive but postbacks stopped.
    Silent,
}

impl Condition {
    pub const ALL: &'static [Condition] = &[
        Condition::TokenRefused,
        Condition::PixelRefused,
        Condition::TokenUnreadable,
        Condition::Failing,
        Condition::OutboxStuck,
        Condition::PostbacksRefused,
        Condition::PostbacksUnmatched,
        Condition::Silent,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Condition::TokenRefused => "token_refused",
            Condition::PixelRefused => "pixel_refused",
            Condition::TokenUnreadable => "token_unreadable",
            Condition::Failing => "failing",
            Condition::OutboxStuck => "outbox_stuck",
            Condition::PostbacksRefused => "postbacks_refused",
            Condition::PostbacksUnmatched => "postbacks_unmatched",
            Condition::Silent => "silent",
        }
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The campaign a problem belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignRef {
    pub key: String,
    pub name: String,
}

/// How many of the window's attempted events failed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub failing: i64,
    pub attempted: i64,
    pub window: Duration,
}

/// What to do about a problem: a sentence and a dashboard link (relative, under `/ui`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub text: String,
    pub link: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// `None`: postbacks no campaign can be named for (see `tracker`).
    pub campaign: Option<CampaignRef>,
    /// The tracker whose postbacks are refused or unmatched.
    pub tracker: Option<String>,
    pub platform: Option<PlatformKind>,
    pub condition: Condition,
    /// Since when it is so, as far as the facts tell.
    pub since: DateTime<Utc>,
    /// Events (or postbacks) waiting on it: parked, pending, failed, refused or unmatched.
    pub waiting: i64,
    /// The platform's error code behind a refusal.
    pub error_code: Option<i32>,
    /// For [`Condition::Failing`].
    pub rate: Option<Rate>,
}

impl Problem {
    /// What the problem is about, for alert keys: the campaign's key, or `tracker:NAME`.
    pub fn subject(&self) -> String {
        match (&self.campaign, &self.tracker) {
            (Some(c), _) => c.key.clone(),
            (None, Some(t)) => format!("tracker:{t}"),
            (None, None) => "bridge".to_owned(),
        }
    }

    /// The alert key: (subject, platform, condition).
    pub fn key(&self) -> (String, Option<PlatformKind>, Condition) {
        (self.subject(), self.platform, self.condition)
    }

    fn platform_name(&self) -> &'static str {
        self.platform.map_or("the platform", PlatformKind::name)
    }

    /// `for keto-fb-us`, or `from keitaro`.
    fn whose(&self) -> String {
        match (&self.campaign, &self.tracker) {
            (Some(c), _) => format!("for {}", c.key),
            (None, Some(t)) => format!("from {t}"),
            (None, None) => String::new(),
        }
    }

    /// What is wrong, in one sentence without a full stop:
    /// "Meta refused the token (190) for keto-fb-us".
    pub fn sentence(&self) -> String {
        let p = self.platform_name();
        let whose = self.whose();
        let code = self.error_code.map_or(String::new(), |c| format!(" ({c})"));
        let n = self.waiting;
        match self.condition {
            Condition::TokenRefused => format!("{p} refused the token{code} {whose}"),
            Condition::PixelRefused => format!("{p} refused the pixel{code} {whose}"),
            Condition::TokenUnreadable => {
                format!("The bridge cannot decrypt the {p} access token {whose}")
            }
            Condition::Failing => {
                let (failing, attempted, mins) = self.rate.map_or((n, n, 0), |r| {
                    (r.failing, r.attempted, r.window.as_secs() / 60)
                });
                format!(
                    "{failing} of {attempted} {p} events {whose} failed in the last {}",
                    minutes(mins)
                )
            }
            Condition::OutboxStuck => format!("{n} {p} events {whose} are stuck in the outbox"),
            Condition::PostbacksRefused => format!("{n} postbacks {whose} were refused"),
            Condition::PostbacksUnmatched => {
                format!("{n} postbacks {whose} matched no registered click")
            }
            Condition::Silent => format!("No postback {whose} while clicks keep coming"),
        }
    }

    /// What fixes it, and where.
    pub fn fix(&self) -> Fix {
        let key = self.campaign.as_ref().map(|c| c.key.as_str());
        let page = key.map_or("/ui/".to_owned(), |k| format!("/ui/campaigns/{k}"));
        let edit = |anchor: &str| match key {
            Some(_) => format!("{page}/edit#{anchor}"),
            None => page.clone(),
        };
        let tiktok = self.platform == Some(PlatformKind::TikTok);
        let token_field = if tiktok {
            "tiktok_access_token"
        } else {
            "access_token"
        };
        let pixel_field = if tiktok {
            "tiktok_pixel_code"
        } else {
            "pixel_id"
        };
        let fix = |text: &str, link: String| Fix {
            text: text.to_owned(),
            link,
        };
        match self.condition {
            Condition::TokenRefused => fix("edit the campaign's access token", edit(token_field)),
            Condition::PixelRefused => fix(
                if tiktok {
                    "check the campaign's pixel code and the token's access to it"
                } else {
                    "check the campaign's pixel id and the token's access to it"
                },
                edit(pixel_field),
            ),
            Condition::TokenUnreadable => fix(
                "set SECRETS_KEY to the key the token was saved under (or put that key in \
                 SECRETS_KEY_PREVIOUS), or enter the access token again",
                edit(token_field),
            ),
            Condition::Failing => fix(
                "read the failed conversions' attempts",
                key.map_or("/ui/conversions?state=failed".to_owned(), |k| {
                    format!("/ui/conversions?campaign={k}&state=failed")
                }),
            ),
            Condition::OutboxStuck => fix(
                "check that the bridge's delivery worker runs and reaches the platform",
                key.map_or("/ui/conversions?state=pending".to_owned(), |k| {
                    format!("/ui/conversions?campaign={k}&state=pending")
                }),
            ),
            Condition::PostbacksRefused => fix(
                "fix the tracker's postback URL; the refused postbacks say why",
                "/ui/conversions/refused".to_owned(),
            ),
            Condition::PostbacksUnmatched => fix(
                "check that the landing tag registers clicks and that the postback URL sends \
                 the click id",
                key.map_or("/ui/conversions?state=unmatched".to_owned(), |k| {
                    format!("/ui/conversions?campaign={k}&state=unmatched")
                }),
            ),
            Condition::Silent => fix(
                "check the campaign's postback URL in the tracker",
                format!("{page}#postback-urls"),
            ),
        }
    }
}

fn minutes(m: u64) -> String {
    match m {
        60 => "hour".to_owned(),
        m if m % 60 == 0 => format!("{} hours", m / 60),
        1 => "minute".to_owned(),
        m => format!("{m} minutes"),
    }
}

/// Urgency: a refused token loses every event, a silent campaign may just be quiet.
pub(super) fn rank(c: Condition) -> usize {
    Condition::ALL
        .iter()
        .position(|x| *x == c)
        .unwrap_or(usize::MAX)
}
