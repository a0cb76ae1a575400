//! Prometheus metrics. Counters are kept in memory by the code that does the work; the outbox
//! gauges are read from the database at scrape time, so every process reports the same truth.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use sqlx::PgPool;

use crate::domain::{DeliveryStatus, EventState, PlatformKind};
use crate::http::auth::KeyUsed;
use crate::storage::outbox_stats;

type Labels = Vec<(&'static str, String)>;
/// Request durations, one histogram per platform.
type Durations = Family<Labels, Histogram, fn() -> Histogram>;

fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 12))
}

/// How the main listener answers `/metrics`.
#[derive(Debug, Clone)]
pub enum MetricsAccess {
    /// Bearer METRICS_TOKEN.
    Token(secrecy::SecretString),
    /// Only on the METRICS_ADDR listener.
    SeparateListener,
    /// Neither is configured.
    Off,
}

/// The `route` label of requests that matched no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

pub struct Metrics {
    registry: Registry,
    http_requests: Family<Labels, Counter>,
    clicks_stored: Family<Labels, Counter>,
    clicks_refused: Family<Labels, Counter>,
    postbacks: Family<Labels, Counter>,
    postback_keys: Family<Labels, Counter>,
    dropped_fields: Family<Labels, Counter>,
    delivery_attempts: Family<Labels, Counter>,
    delivery_seconds: Durations,
    meta_errors: Family<Labels, Counter>,
    platform_errors: Family<Labels, Counter>,
    events: Family<Labels, Gauge>,
    conversions: Family<Labels, Gauge>,
    outbox_depth: Family<Labels, Gauge>,
    outbox_oldest_seconds: Family<Labels, Gauge<f64, AtomicU64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("capi_bridge");
        let http_requests = Family::<Labels, Counter>::default();
        let clicks_stored = Family::<Labels, Counter>::default();
        let clicks_refused = Family::<Labels, Counter>::default();
        let postbacks = Family::<Labels, Counter>::default();
        let postback_keys = Family::<Labels, Counter>::default();
        let dropped_fields = Family::<Labels, Counter>::default();
        let delivery_attempts = Family::<Labels, Counter>::default();
        let delivery_seconds = Durations::new_with_constructor(duration_histogram);
        let meta_errors = Family::<Labels, Counter>::default();
        let platform_errors = Family::<Labels, Counter>::default();
        let events = Family::<Labels, Gauge>::default();
        let conversions = Family::<Labels, Gauge>::default();
        let outbox_depth = Family::<Labels, Gauge>::default();
        let outbox_oldest_seconds = Family::<Labels, Gauge<f64, AtomicU64>>::default();
        let r = &mut registry;
        r.register(
            "http_requests",
            "HTTP requests by route, method and status",
            http_requests.clone(),
        );
        r.register(
            "clicks_stored",
            "Click registrations: new, merged, or ignored (a known click without its token)",
            clicks_stored.clone(),
        );
        r.register(
            "clicks_refused",
            "Public click registrations refused by a disk budget, by budget",
            clicks_refused.clone(),
        );
        r.register(
            "postbacks",
            "Postbacks by tracker and outcome",
            postbacks.clone(),
        );
        r.register(
            "postback_key",
            "Requests that carried a valid postback key, by key (current or previous: \
             POSTBACK_KEY_PREVIOUS can go once previous stops growing)",
            postback_keys.clone(),
        );
        r.register(
            "auth_failures",
            "Requests with a missing or wrong credential, by route",
            crate::http::auth_limit::AUTH_FAILURES.clone(),
        );
        r.register(
            "dropped_fields",
            "Fields of clicks, postbacks and import rows dropped or changed, by field",
            dropped_fields.clone(),
        );
        r.register(
            "delivery_attempts",
            "Events carried by requests to the ad platforms, by platform and outcome",
            delivery_attempts.clone(),
        );
        r.register(
            "delivery_request_seconds",
            "Duration of requests to the ad platforms, by platform",
            delivery_seconds.clone(),
        );
        r.register(
            "meta_errors",
            "Error answers from Meta by error code",
            meta_errors.clone(),
        );
        r.register(
            "platform_errors",
            "Error answers from the ad platforms by platform and the platform's error code",
            platform_errors.clone(),
        );
        r.register(
            "events",
            "Outbound events by platform and state",
            events.clone(),
        );
        r.register("conversions", "Conversions by fate", conversions.clone());
        r.register(
            "outbox_depth",
            "Events waiting to be delivered, by platform",
            outbox_depth.clone(),
        );
        r.register(
            "outbox_oldest_pending_seconds",
            "Age of the oldest event waiting to be delivered, by platform",
            outbox_oldest_seconds.clone(),
        );
        r.register(
            "nonpublic_ip",
            "Loopback or private visitor addresses left out of events, by platform and source \
             (click or postback)",
            crate::platforms::address::NONPUBLIC_IP.clone(),
        );
        r.register(
            "platform_skipped",
            "Conversions a platform's send_when kept from it, by platform and reason",
            crate::ingest::PLATFORM_SKIPPED.clone(),
        );
        // Both keys' series exist from the start: "previous 0" is the answer the user waits for.
        for key in [KeyUsed::Current, KeyUsed::Previous] {
            let _ = postback_keys.get_or_create(&vec![("key", key.as_str().to_owned())]);
        }
        // Every platform's histogram exists from the start: a count of 0 is an answer.
        for &platform in PlatformKind::ALL {
            let _ =
                delivery_seconds.get_or_create(&vec![("platform", platform.as_str().to_owned())]);
        }
        Metrics {
            registry,
            http_requests,
            clicks_stored,
            clicks_refused,
            postbacks,
            postback_keys,
            dropped_fields,
            delivery_attempts,
            delivery_seconds,
            meta_errors,
            platform_errors,
            events,
            conversions,
            outbox_depth,
            outbox_oldest_seconds,
        }
    }
}

/// The `method` label: any token is a valid HTTP method, so a client could mint a new label (and
/// a new series held in memory forever) per request; only the standard ones get their own.
pub fn method_label(method: &actix_web::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "OPTIONS" => "OPTIONS",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => "other",
    }
}

impl Metrics {
    /// `route` must be a registered route pattern or [`UNMATCHED_ROUTE`], never a raw path.
    pub fn http_request(&self, route: &str, method: &'static str, status: u16) {
        self.http_requests
            .get_or_create(&vec![
                ("route", route.to_owned()),
                ("method", method.to_owned()),
                ("status", status.to_string()),
            ])
            .inc();
    }

    pub fn click_stored(&self, written: crate::storage::clicks::Written) {
        use crate::storage::clicks::Written;
        let result = match written {
            Written::Inserted => "new",
            Written::Merged => "merged",
            // A registration of a known click without its token: only consent may have changed.
            Written::Ignored => "ignored",
        };
        self.clicks_stored
            .get_or_create(&vec![("result", result.to_owned())])
            .inc();
    }

    /// `budget`: `address_new_clicks`, `address_bytes` or `campaign_bytes`.
    pub fn click_refused(&self, budget: &'static str) {
        self.clicks_refused
            .get_or_create(&vec![("budget", budget.to_owned())])
            .inc();
    }

    pub fn postback(&self, tracker: &str, outcome: &str) {
        self.postbacks
            .get_or_create(&vec![
                ("tracker", tracker.to_owned()),
                ("outcome", outcome.to_owned()),
            ])
            .inc();
    }

    pub fn postback_key(&self, key: KeyUsed) {
        self.postback_keys
            .get_or_create(&vec![("key", key.as_str().to_owned())])
            .inc();
    }

    /// The fields one click, postback or import row had dropped or changed.
    pub fn dropped(&self, report: &crate::domain::DropReport) {
        for field in report.fields() {
            self.dropped_fields
                .get_or_create(&vec![("field", field.to_owned())])
                .inc();
        }
    }

    /// One request to `platform` that carried `events`; `code` is the platform's error code.
    pub fn delivery_attempt(
        &self,
        platform: PlatformKind,
        outcome: &str,
        events: usize,
        seconds: f64,
        code: Option<i32>,
    ) {
        let on = || ("platform", platform.as_str().to_owned());
        self.delivery_attempts
            .get_or_create(&vec![on(), ("outcome", outcome.to_owned())])
            .inc_by(events as u64);
        self.delivery_seconds
            .get_or_create(&vec![on()])
            .observe(seconds);
        if let Some(code) = code {
            // Meta's own counter keeps Meta's codes only: TikTok's mean something else.
            if platform == PlatformKind::Meta {
                self.meta_errors
                    .get_or_create(&vec![("code", code.to_string())])
                    .inc();
            }
            self.platform_errors
                .get_or_create(&vec![on(), ("code", code.to_string())])
                .inc();
        }
    }

    /// The text exposition, with the outbox gauges read now.
    pub async fn render(&self, pool: &PgPool) -> Result<String, sqlx::Error> {
        let stats = outbox_stats::read(pool).await?;
        // Every platform and state gets a series, zeros included, so a rate never has gaps.
        for &platform in PlatformKind::ALL {
            let on = || ("platform", platform.as_str().to_owned());
            for &state in EventState::ALL {
                let n = stats
                    .events
                    .iter()
                    .find(|(p, s, _)| (*p, *s) == (platform, state))
                    .map_or(0, |(.., n)| *n);
                self.events
                    .get_or_create(&vec![on(), ("state", state.as_str().to_owned())])
                    .set(n);
            }
            let pending = stats.pending.iter().find(|p| p.platform == platform);
            self.outbox_depth
                .get_or_create(&vec![on()])
                .set(pending.map_or(0, |p| p.depth));
            self.outbox_oldest_seconds
                .get_or_create(&vec![on()])
                .set(pending.and_then(|p| p.oldest_seconds).unwrap_or(0.0));
        }
        for &state in DeliveryStatus::ALL {
            let n = stats
                .conversions
                .iter()
                .find(|(s, _)| *s == state)
                .map_or(0, |(_, n)| *n);
            self.conversions
                .get_or_create(&vec![("state", state.as_str().to_owned())])
                .set(n);
        }
        let mut out = String::new();
        encode(&mut out, &self.registry).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        Ok(out)
    }
}
