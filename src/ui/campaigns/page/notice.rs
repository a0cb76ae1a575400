//! What the campaign page says about the last button pressed: the notice read back from a
//! redirect's query, and the test event's verdict.

use maud::{html, Markup};

use crate::http::params::parse_urlencoded;
use crate::platforms::meta::graph::SendResult;

/// What the last button did, read back from the redirect's query (counts and a word only).
#[derive(Debug, Default, PartialEq)]
pub struct Notice {
    toggled: Option<&'static str>,
    retried: Option<(u32, u32, bool)>,
    saved: bool,
    tiktok_removed: bool,
    /// Parked events a new token or pixel re-queued (absent: no credential changed).
    parked: Option<u32>,
}

impl Notice {
    pub fn from_query(query: &str) -> Option<Self> {
        let pairs = parse_urlencoded(query.as_bytes()).ok()?;
        let get = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        let tiktok_removed = get("done") == Some("tiktok_removed");
        let saved = get("done") == Some("saved");
        let toggled = match get("done") {
            Some("enabled") => Some("enabled"),
            Some("disabled") => Some("disabled"),
            _ => None,
        };
        let num = |n: &str| get(n).and_then(|v| v.parse::<u32>().ok());
        let retried = num("requeued")
            .zip(num("still_failed"))
            .map(|(r, s)| (r, s, get("more") == Some("1")));
        let notice = Notice {
            toggled,
            retried,
            saved,
            tiktok_removed,
            parked: num("parked"),
        };
        (notice != Notice::default()).then_some(notice)
    }

    pub fn render(&self) -> Markup {
        html! {
            @if self.saved {
                p.notice #saved role="status" {
                    "Saved"
                    @if let Some(n) = self.parked { "; " (n) " parked " (events(n)) " re-queued" }
                    "."
                }
            }
            @if let (true, Some(n)) = (self.tiktok_removed, self.parked) {
                p.notice #saved role="status" { "Saved; " (n) " parked " (events(n)) " re-queued." }
            }
            @if let Some(word) = self.toggled {
                p.notice role="status" { "The campaign is now " (word) "." }
            }
            @if self.tiktok_removed {
                p.notice role="status" { "Saved. TikTok is removed from this campaign: nothing more is sent there, and its TikTok events still waiting to be sent were cancelled." }
            }
            @if let Some((requeued, still_failed, more)) = self.retried {
                p.notice role="status" {
                    "Retry all failed: " (requeued) " re-queued"
                    @if still_failed > 0 { ", " (still_failed) " still cannot be built" }
                    "."
                    @if more { " More remain: press the button again." }
                }
            }
        }
    }
}

fn events(n: u32) -> &'static str {
    if n == 1 {
        "event"
    } else {
        "events"
    }
}

/// The test event just sent: the verdict, and the event chosen (the form keeps it).
pub struct TestEvent {
    pub verdict: Verdict,
    pub chosen: String,
}

/// Meta's answer to the test event, or why none was asked for.
pub enum Verdict {
    Accepted {
        events_received: Option<u64>,
        fbtrace_id: Option<String>,
    },
    Refused {
        http_status: u16,
        code: Option<i64>,
        subcode: Option<i64>,
        message: String,
        fbtrace_id: Option<String>,
    },
    Unreachable(String),
    NotSent(String),
}

impl Verdict {
    pub fn from_result(result: SendResult) -> Self {
        match result {
            SendResult::Accepted {
                events_received,
                fbtrace_id,
            } => Verdict::Accepted {
                events_received,
                fbtrace_id,
            },
            SendResult::MetaError {
                http_status, error, ..
            } => Verdict::Refused {
                http_status,
                code: error.code,
                subcode: error.error_subcode,
                message: error.readable(),
                fbtrace_id: error.fbtrace_id,
            },
            SendResult::Transport { message, .. } => Verdict::Unreachable(message),
        }
    }

    pub fn render(&self) -> Markup {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".to_owned());
        html! {
            div #test-event-verdict role="status" class=(match self { Verdict::Accepted { .. } => "verdict ok", _ => "verdict bad" }) {
                @match self {
                    Verdict::Accepted { events_received, fbtrace_id } => {
                        strong { "Meta accepted the test event." }
                        " events_received: " (events_received.map_or("none".to_owned(), |n| n.to_string()))
                        ", fbtrace_id: " code { (show(fbtrace_id)) }
                        ". Look for it in Events Manager > Test events."
                    }
                    Verdict::Refused { http_status, code, subcode, message, fbtrace_id } => {
                        strong { "Meta refused the test event" }
                        " (HTTP " (http_status)
                        @if let Some(c) = code { ", code " (c) }
                        @if let Some(s) = subcode { ", subcode " (s) }
                        "): " (message) " fbtrace_id: " code { (show(fbtrace_id)) }
                    }
                    Verdict::Unreachable(message) => {
                        strong { "Meta did not answer: " } (message)
                    }
                    Verdict::NotSent(why) => {
                        strong { "Not sent: " } (why)
                    }
                }
            }
        }
    }
}
