//! The seam between the outbox and the ad platforms. A platform sends a batch of stored event
//! payloads in its own request format and reads its own answer into a [`Verdict`] and an attempt
//! row; claiming, leases, retries, splitting and metrics around it are shared by `delivery`.
//! Adding a platform is one module here (see docs/architecture.md).

pub mod address;
pub mod http;
pub mod meta;
pub mod tiktok;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::domain::PlatformKind;
use crate::domain::{AccessToken, AttemptOutcome, AttemptRecord, Campaign, Click, Conversion};

/// What a platform's event is built from: a conversion, its click (when registered), its
/// campaign, the platform's event name and the id that platform's pixel got.
#[derive(Debug, Clone, Copy)]
pub struct EventSource<'a> {
    pub campaign: &'a Campaign,
    pub click: Option<&'a Click>,
    pub conversion: &'a Conversion,
    pub event_name: &'a str,
    pub event_id: &'a str,
}

/// The payload stored in the outbox for `platform`'s event, or why it cannot be built. Pure but
/// for counting (and logging, hourly) the non-public addresses the event leaves out.
pub fn build_event(platform: PlatformKind, source: &EventSource<'_>) -> Result<Value, String> {
    let built = match platform {
        PlatformKind::Meta => meta::event::conversion_event(source),
        PlatformKind::TikTok => Ok(tiktok::event::conversion_event(source)),
    };
    if built.is_ok() {
        address::observe(
            platform,
            source.click.and_then(|c| c.client_ip_address.as_deref()),
            source.conversion.ip.as_deref(),
        );
    }
    built
}

/// The fate of the events a request carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// Not the events' fault: try again later (no sooner than `retry_after`).
    Retry {
        retry_after: Option<Duration>,
    },
    /// Token or permission problem: park until the campaign's token or pixel changes.
    Auth,
    /// The platform refused some event's content: split the batch to find it.
    Invalid,
    /// The platform says the event is too old: it can never be sent.
    Expired,
}

impl Verdict {
    /// The outcome recorded on the attempt.
    pub fn outcome(&self) -> AttemptOutcome {
        match self {
            Verdict::Delivered => AttemptOutcome::Sent,
            Verdict::Retry { .. } => AttemptOutcome::TransientError,
            Verdict::Auth => AttemptOutcome::AuthError,
            Verdict::Invalid => AttemptOutcome::Invalid,
            Verdict::Expired => AttemptOutcome::Expired,
        }
    }
}

/// A platform's answer read once: its verdict, and the attempt row recorded for each event.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub verdict: Verdict,
    pub attempt: AttemptRecord,
}

/// Where one request goes: a campaign's pixel on the platform, its token, its test code.
#[derive(Debug, Clone, Copy)]
pub struct Destination<'a> {
    pub pixel_id: &'a str,
    pub access_token: &'a AccessToken,
    pub test_event_code: Option<&'a str>,
}

/// What a platform accepts.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Events in one request at most.
    pub max_events: usize,
    /// How old an event's `event_time` may be when it is sent, given the stored payload (Meta's
    /// limit depends on its `action_source`); older events expire unsent.
    pub max_age: fn(&Value) -> chrono::Duration,
}

/// A request in flight; boxed so platforms can sit behind `dyn Platform`.
pub type Sending<'a> = Pin<Box<dyn Future<Output = Answer> + Send + 'a>>;

/// One ad platform's server events API.
pub trait Platform: Send + Sync {
    fn kind(&self) -> PlatformKind;

    fn limits(&self) -> Limits;

    /// Sends `events` (payloads this platform's event builder made) in one request and reads
    /// the answer. Never fails: a transport error is an answer too (a retryable one).
    fn send<'a>(&'a self, to: Destination<'a>, events: &'a [&'a Value]) -> Sending<'a>;
}

/// The platforms this process delivers to: one field per [`PlatformKind`], so a new kind does
/// not compile until it has its platform here.
#[derive(Clone)]
pub struct Platforms {
    pub meta: Arc<dyn Platform>,
    pub tiktok: Arc<dyn Platform>,
}

impl Platforms {
    pub fn get(&self, kind: PlatformKind) -> &dyn Platform {
        match kind {
            PlatformKind::Meta => self.meta.as_ref(),
            PlatformKind::TikTok => self.tiktok.as_ref(),
        }
    }

    /// The limits of a platform the process delivers to.
    pub fn limits(&self, kind: PlatformKind) -> Limits {
        self.get(kind).limits()
    }
}
