//! Failed authentication, per client address, on every credential: the admin bearer token, the
//! postback key, the metrics token and the dashboard's sign-in. A valid credential always passes,
//! so a tracker that still sends some postbacks with a stale key keeps the ones with the right
//! key; only failures are counted, and past the limit they are answered 429 instead of 401. The
//! log gets a summary per network (/24, /64) at most once a minute, never the address itself.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use super::rate_limit::{RateLimit, RateLimitSetting};
use super::ApiError;

/// The credential a request presented, named by the route that checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Credential {
    AdminToken,
    PostbackKey,
    /// The postback key of a server-side click registration.
    ClickKey,
    MetricsToken,
    DashboardSignIn,
}

impl Credential {
    pub fn route(self) -> &'static str {
        match self {
            Credential::AdminToken => "/admin/v1",
            Credential::PostbackKey => "/v1/postback",
            Credential::ClickKey => "/v1/clicks",
            Credential::MetricsToken => "/metrics",
            Credential::DashboardSignIn => "/ui/login",
        }
    }
}

/// `capi_bridge_auth_failures_total{route}`: wrong or missing credentials, throttled or not.
pub static AUTH_FAILURES: LazyLock<Family<Vec<(&'static str, String)>, Counter>> =
    LazyLock::new(Family::default);

const SUMMARY_EVERY: Duration = Duration::from_secs(60);
/// Networks tallied for the log at once; past that, new ones share one line ("other"). An
/// attacker with many IPv6 /64s so gets at most this many lines a minute into the log.
const MAX_TRACKED: usize = 1_000;

/// What the log names: an address's network, never the address (it may be a visitor's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Network {
    V4([u8; 3]),
    V6([u16; 4]),
    /// A client whose forwarded chain could not be read.
    Unknown,
    /// More networks than are tallied at once.
    Other,
}

impl Network {
    pub fn of(ip: Option<IpAddr>) -> Self {
        match ip.map(|ip| ip.to_canonical()) {
            Some(IpAddr::V4(v4)) => {
                let [a, b, c, _] = v4.octets();
                Network::V4([a, b, c])
            }
            Some(IpAddr::V6(v6)) => {
                let s = v6.segments();
                Network::V6([s[0], s[1], s[2], s[3]])
            }
            None => Network::Unknown,
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Network::V4([a, b, c]) => write!(f, "{}/24", Ipv4Addr::new(a, b, c, 0)),
            Network::V6([a, b, c, d]) => {
                write!(f, "{}/64", Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
            Network::Unknown => f.write_str("unknown address"),
            Network::Other => f.write_str("other addresses"),
        }
    }
}

/// The limiter's key: an IPv4 address, or an IPv6 address's /64 (a client usually holds a whole
/// /64 and can pick any address in it). Unknown clients share one budget.
fn limit_key(ip: Option<IpAddr>) -> IpAddr {
    match ip.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V6(v6)) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u64::MAX as u128))),
        Some(v4) => v4,
        None => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

/// One log line: `failures` since the last line about `network`, on `routes`.
#[derive(Debug, PartialEq, Eq)]
pub struct Summary {
    pub network: Network,
    pub failures: u32,
    pub routes: Vec<&'static str>,
}

#[derive(Default)]
struct Tally {
    failures: u32,
    routes: BTreeSet<Credential>,
    last_logged: Option<Instant>,
}

impl Tally {
    fn take(&mut self, network: Network, now: Instant) -> Summary {
        self.last_logged = Some(now);
        Summary {
            network,
            failures: std::mem::take(&mut self.failures),
            routes: std::mem::take(&mut self.routes)
                .into_iter()
                .map(Credential::route)
                .collect(),
        }
    }
}

pub struct FailedAuthLimit {
    limit: RateLimit<IpAddr>,
    tallies: Mutex<HashMap<Network, Tally>>,
}

impl FailedAuthLimit {
    pub fn new(setting: RateLimitSetting) -> Self {
        FailedAuthLimit {
            limit: RateLimit::new(setting),
            tallies: Mutex::new(HashMap::new()),
        }
    }

    /// The answer to a missing or wrong credential: 401 while the address is under its limit of
    /// failures, 429 past it. Counted and, at most once a minute per network, logged.
    pub fn failed(&self, ip: Option<IpAddr>, credential: Credential) -> ApiError {
        AUTH_FAILURES
            .get_or_create(&vec![("route", credential.route().to_owned())])
            .inc();
        if let Some(s) = self.tally(Network::of(ip), credential, Instant::now()) {
            log(&s);
        }
        match self.limit.check_key(&limit_key(ip)) {
            Ok(()) => ApiError::Unauthorized,
            Err(ApiError::TooManyRequests { retry_after_secs }) => {
                ApiError::TooManyFailures { retry_after_secs }
            }
            Err(other) => other,
        }
    }

    /// Adds a failure; the summary to log now, if one is due.
    fn tally(&self, network: Network, credential: Credential, now: Instant) -> Option<Summary> {
        let mut tallies = self.tallies.lock().unwrap_or_else(|e| e.into_inner());
        let network = if tallies.len() >= MAX_TRACKED && !tallies.contains_key(&network) {
            Network::Other
        } else {
            network
        };
        let tally = tallies.entry(network).or_default();
        tally.failures += 1;
        tally.routes.insert(credential);
        let due = tally
            .last_logged
            .is_none_or(|t| now.duration_since(t) >= SUMMARY_EVERY);
        due.then(|| tally.take(network, now))
    }

    /// The summaries due now (failures since a line logged over a minute ago); forgets networks
    /// quiet for a minute.
    fn due(&self, now: Instant) -> Vec<Summary> {
        let mut tallies = self.tallies.lock().unwrap_or_else(|e| e.into_inner());
        let quiet = |t: &Tally| {
            t.last_logged
                .is_none_or(|at| now.duration_since(at) >= SUMMARY_EVERY)
        };
        let mut out = Vec::new();
        tallies.retain(|network, tally| {
            if !quiet(tally) {
                return true;
            }
            if tally.failures == 0 {
                return false;
            }
            out.push(tally.take(*network, now));
            true
        });
        out
    }

    /// Run once a minute: logs what the last minute's failures left unsaid, and lets the
    /// limiter forget addresses whose budget is full again.
    pub fn prune(&self) {
        for s in self.due(Instant::now()) {
            log(&s);
        }
        self.limit.prune();
    }
}

fn log(s: &Summary) {
    tracing::warn!(
        network = %s.network,
        failures = s.failures,
        route = %s.routes.join(","),
        "{} failed authentication attempt(s) from {} on {}",
        s.failures,
        s.network,
        s.routes.join(", ")
    );
}

#[cfg(test)]
#[path = "auth_limit_tests.rs"]
mod tests;
