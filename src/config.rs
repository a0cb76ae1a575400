//! Command line and environment. Every option is a flag and an environment variable of the same
//! name; secrets are hidden from `--help` so the help text never prints a token.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

mod alerts;
pub mod limits;
pub mod meta_quality;
pub mod ui;
mod values;
mod weak;

pub use alerts::{AlertConfig, Silence};
use values::*;
pub use values::{RetryDelays, TrustedProxies};

#[derive(Debug, Parser)]
#[command(
    name = "capi-bridge",
    version,
    about = "Sends affiliate tracker conversions to Meta's Conversions API",
    long_about = "Captures ad clicks from landing pages, receives conversion postbacks from \
                  trackers (Keitaro, Binom, BeMob, ...) and delivers them to Meta's Conversions \
                  API as hashed, deduplicable server events.\n\nEvery option can also be set by \
                  the environment variable shown next to it."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Clone, Copy, Subcommand, PartialEq, Eq)]
pub enum Command {
    /// Apply migrations, then serve HTTP and deliver events (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// GET /healthz on LISTEN_ADDR; exit 0 when healthy, 1 otherwise.
    Healthcheck,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone, Parser)]
pub struct Config {
    /// Postgres connection string. Required by serve and migrate.
    #[arg(
        long,
        env = "DATABASE_URL",
        value_name = "DATABASE_URL",
        hide_env_values = true,
        global = true
    )]
    pub database_url: Option<String>,

    /// Maximum number of Postgres connections in the pool.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 16, value_parser = clap::value_parser!(u32).range(2..=1000), global = true)]
    pub database_max_connections: u32,

    /// HTTP listen address: IP:port, host:port (localhost:8080), or :port for 0.0.0.0.
    #[arg(
        long,
        env = "LISTEN_ADDR",
        value_name = "LISTEN_ADDR",
        default_value = "0.0.0.0:8080",
        value_parser = parse_listen_addr,
        global = true
    )]
    pub listen_addr: SocketAddr,

    /// Bearer token for /admin/v1 (at least 24 characters, hard to guess). Required by serve.
    #[arg(long, env = "ADMIN_TOKEN", value_name = "ADMIN_TOKEN", hide_env_values = true, value_parser = secret("ADMIN_TOKEN"), global = true)]
    pub admin_token: Option<SecretString>,

    /// The service's public base URL (https://capi.example.com); when https, the dashboard's
    /// session cookie is marked Secure.
    #[arg(long, env = "PUBLIC_URL", value_name = "PUBLIC_URL", value_parser = parse_public_url, global = true)]
    pub public_url: Option<String>,

    /// How long a dashboard sign-in lasts.
    #[arg(long, env = "UI_SESSION_TTL", value_name = "UI_SESSION_TTL", default_value = "12h", value_parser = humantime::parse_duration, global = true)]
    pub ui_session_ttl: Duration,

    #[command(flatten)]
    pub ui_display: ui::UiDisplay,

    /// Bearer token for GET /metrics (at least 24 characters, hard to guess). Without it and without
    /// METRICS_ADDR, /metrics is off.
    #[arg(long, env = "METRICS_TOKEN", value_name = "METRICS_TOKEN", hide_env_values = true, value_parser = secret("METRICS_TOKEN"), global = true)]
    pub metrics_token: Option<SecretString>,

    /// A second listener serving only GET /metrics, without authentication (for example
    /// 127.0.0.1:9090: keep it off the internet).
    #[arg(long, env = "METRICS_ADDR", value_name = "METRICS_ADDR", value_parser = parse_metrics_addr, global = true)]
    pub metrics_addr: Option<SocketAddr>,

    /// Secret every postback must carry as key=... or X-Postback-Key (at least 24 characters, hard to guess).
    /// Required by serve.
    #[arg(long, env = "POSTBACK_KEY", value_name = "POSTBACK_KEY", hide_env_values = true, value_parser = secret("POSTBACK_KEY"), global = true)]
    pub postback_key: Option<SecretString>,

    /// The former POSTBACK_KEY while trackers are being switched to a new one: both are accepted,
    /// and capi_bridge_postback_key_total{key} says when the old one stops arriving.
    #[arg(long, env = "POSTBACK_KEY_PREVIOUS", value_name = "POSTBACK_KEY_PREVIOUS", hide_env_values = true, value_parser = secret("POSTBACK_KEY_PREVIOUS"), global = true)]
    pub postback_key_previous: Option<SecretString>,

    /// Failed authentications per client address (IPv6: per /64) on every credential, before
    /// further failures get 429: N/s, N/m, N/h, or off. A valid credential always passes.
    #[arg(long, env = "AUTH_FAILURE_LIMIT", value_name = "AUTH_FAILURE_LIMIT", default_value = "10/m", value_parser = limits::parse_rate, global = true)]
    pub auth_failure_limit: limits::RateLimitSetting,

    /// Graph API base URL (tests point it at a fake).
    #[arg(long, env = "META_GRAPH_URL", value_name = "META_GRAPH_URL", default_value = "https://graph.facebook.com", value_parser = parse_base_url, global = true)]
    pub meta_graph_url: String,

    /// TikTok Business API base URL (tests point it at a fake).
    #[arg(long, env = "TIKTOK_API_URL", value_name = "TIKTOK_API_URL", default_value = "https://business-api.tiktok.com", value_parser = parse_base_url, global = true)]
    pub tiktok_api_url: String,

    /// Graph API version.
    #[arg(long, env = "META_API_VERSION", value_name = "META_API_VERSION", default_value = "v26.0", value_parser = parse_api_version, global = true)]
    pub meta_api_version: String,

    /// Meta app secret; when set, requests carry appsecret_proof.
    #[arg(
        long,
        env = "META_APP_SECRET",
        value_name = "META_APP_SECRET",
        hide_env_values = true,
        value_parser = any_secret,
        global = true
    )]
    pub meta_app_secret: Option<SecretString>,

    /// 32-byte key (64 hex digits or base64) encrypting access tokens at rest (AES-256-GCM), or
    /// `none` to store them unencrypted. Required by serve.
    #[arg(long, env = "SECRETS_KEY", value_name = "SECRETS_KEY", hide_env_values = true, value_parser = crate::secrets::parse_key_setting, global = true)]
    pub secrets_key: Option<crate::secrets::KeySetting>,

    /// Former SECRETS_KEY values (comma-separated) while rotating: tokens are re-encrypted
    /// under SECRETS_KEY at start-up.
    #[arg(long, env = "SECRETS_KEY_PREVIOUS", value_name = "SECRETS_KEY_PREVIOUS", hide_env_values = true, default_value = "", value_parser = crate::secrets::parse_keys, global = true)]
    pub secrets_key_previous: crate::secrets::Keys,

    /// Comma-separated CIDRs of reverse proxies whose X-Forwarded-For, X-Forwarded-Host/Proto and
    /// Forwarded headers are trusted.
    #[arg(long, env = "TRUSTED_PROXIES", value_name = "TRUSTED_PROXIES", default_value = "", value_parser = parse_cidrs, global = true)]
    pub trusted_proxies: TrustedProxies,

    /// Comma-separated CIDRs allowed to send postbacks (empty: any address with the key).
    #[arg(long, env = "POSTBACK_ALLOWED_IPS", value_name = "POSTBACK_ALLOWED_IPS", default_value = "", value_parser = parse_cidrs, global = true)]
    pub postback_allowed_ips: TrustedProxies,

    /// Click requests per client address, new or not (N/s, N/m, N/h, or off): bounds the work a
    /// flood costs; the disk is bounded by the three below.
    #[arg(long, env = "CLICK_RATE_LIMIT", value_name = "CLICK_RATE_LIMIT", default_value = "6000/m", value_parser = limits::parse_rate, global = true)]
    pub click_rate_limit: limits::RateLimitSetting,

    /// New click ids per client address (an IPv6 /64 is one), N/m, N/h, N/d or off;
    /// re-registrations of a stored click do not count. Callers with the postback key are exempt.
    #[arg(long, env = "CLICK_ADDRESS_NEW_LIMIT", value_name = "CLICK_ADDRESS_NEW_LIMIT", default_value = "1000/h", value_parser = limits::parse_count, global = true)]
    pub click_address_new_limit: limits::BudgetSetting,

    /// Bytes of clicks one client address may store (4MB/h; KB, MB, GB; or off): at most this
    /// per period, plus one period's worth at once.
    #[arg(long, env = "CLICK_ADDRESS_BYTES_LIMIT", value_name = "CLICK_ADDRESS_BYTES_LIMIT", default_value = "4MB/h", value_parser = limits::parse_bytes, global = true)]
    pub click_address_bytes_limit: limits::BudgetSetting,

    /// Bytes of clicks one campaign stores from public callers, all addresses together (or
    /// off): a public campaign key can store at most this per period, plus two periods' worth
    /// at once. Over it the heaviest addresses are refused first.
    #[arg(long, env = "CLICK_CAMPAIGN_BYTES_LIMIT", value_name = "CLICK_CAMPAIGN_BYTES_LIMIT", default_value = "100MB/h", value_parser = limits::parse_bytes, global = true)]
    pub click_campaign_bytes_limit: limits::BudgetSetting,

    /// Replaced by CLICK_CAMPAIGN_BYTES_LIMIT; a value is ignored with a warning.
    #[arg(
        long,
        env = "CLICK_CAMPAIGN_RATE_LIMIT",
        value_name = "CLICK_CAMPAIGN_RATE_LIMIT",
        hide = true,
        global = true
    )]
    pub click_campaign_rate_limit: Option<String>,

    /// Clicks older than this are deleted.
    #[arg(long, env = "CLICK_RETENTION", value_name = "CLICK_RETENTION", default_value = "30d", value_parser = humantime::parse_duration, global = true)]
    pub click_retention: Duration,

    /// Event payloads and conversions' personal data older than this are erased.
    #[arg(long, env = "EVENT_RETENTION", value_name = "EVENT_RETENTION", default_value = "30d", value_parser = humantime::parse_duration, global = true)]
    pub event_retention: Duration,

    /// Log format.
    #[arg(
        long,
        env = "LOG_FORMAT",
        value_name = "LOG_FORMAT",
        default_value = "json",
        global = true
    )]
    pub log_format: LogFormat,

    /// How long a postback for an unknown click waits for the click to be registered.
    #[arg(long, env = "UNMATCHED_GRACE", value_name = "UNMATCHED_GRACE", default_value = "15m", value_parser = humantime::parse_duration, global = true)]
    pub unmatched_grace: Duration,

    /// Most events in one request to Meta (Meta's limit is 1000).
    #[arg(long, env = "DELIVERY_BATCH_MAX", value_name = "DELIVERY_BATCH_MAX", default_value_t = 1000, value_parser = clap::value_parser!(u16).range(1..=1000), global = true)]
    pub delivery_batch_max: u16,

    /// Fallback interval at which the delivery worker looks for due events.
    #[arg(long, env = "DELIVERY_POLL_INTERVAL", value_name = "DELIVERY_POLL_INTERVAL", default_value = "1s", value_parser = humantime::parse_duration, global = true)]
    pub delivery_poll_interval: Duration,

    /// After a new event wakes the worker, how long it waits for more to fill the request.
    #[arg(long, env = "DELIVERY_BATCH_WINDOW", value_name = "DELIVERY_BATCH_WINDOW", default_value = "50ms", value_parser = humantime::parse_duration, global = true)]
    pub delivery_batch_window: Duration,

    /// Retry schedule after transient failures; the last delay repeats.
    #[arg(long, env = "DELIVERY_RETRY_DELAYS", value_name = "DELIVERY_RETRY_DELAYS", default_value = "10s,1m,5m,15m,1h,3h,6h,12h,24h", value_parser = parse_delays, global = true)]
    pub delivery_retry_delays: RetryDelays,

    /// Timeout of one request to Meta.
    #[arg(long, env = "DELIVERY_TIMEOUT", value_name = "DELIVERY_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration, global = true)]
    pub delivery_timeout: Duration,

    /// Requests in flight at once to each platform (per process): a hung platform holds only
    /// its own.
    #[arg(long, env = "DELIVERY_CONCURRENCY", value_name = "DELIVERY_CONCURRENCY", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64), global = true)]
    pub delivery_concurrency: u16,

    /// Requests in flight at once for one campaign on one platform (at most
    /// DELIVERY_CONCURRENCY): a hung pixel leaves the rest to the other campaigns.
    #[arg(long, env = "DELIVERY_TARGET_CONCURRENCY", value_name = "DELIVERY_TARGET_CONCURRENCY", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64), global = true)]
    pub delivery_target_concurrency: u16,

    /// Longest a request may take, body included (slow or stalled clients get 408).
    #[arg(long, env = "REQUEST_TIMEOUT", value_name = "REQUEST_TIMEOUT", default_value = "15s", value_parser = humantime::parse_duration, global = true)]
    pub request_timeout: Duration,

    /// Longest a CSV import upload may take (POST /admin/v1/imports, /ui/imports).
    #[arg(long, env = "IMPORT_UPLOAD_TIMEOUT", value_name = "IMPORT_UPLOAD_TIMEOUT", default_value = "120s", value_parser = humantime::parse_duration, global = true)]
    pub import_upload_timeout: Duration,

    /// How long shutdown waits for in-flight requests and deliveries.
    #[arg(long, env = "SHUTDOWN_TIMEOUT", value_name = "SHUTDOWN_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration, global = true)]
    pub shutdown_timeout: Duration,

    /// Most clicks written in one transaction (group commit).
    #[arg(long, env = "CLICK_BATCH_MAX", value_name = "CLICK_BATCH_MAX", default_value_t = 500, value_parser = clap::value_parser!(u16).range(1..=5000), global = true)]
    pub click_batch_max: u16,

    /// Clicks or postbacks waiting to be written before new ones are refused with 503.
    #[arg(long, env = "WRITE_QUEUE_MAX", value_name = "WRITE_QUEUE_MAX", default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000), global = true)]
    pub write_queue_max: u32,

    /// Most postbacks recorded in one transaction (group commit).
    #[arg(long, env = "POSTBACK_BATCH_MAX", value_name = "POSTBACK_BATCH_MAX", default_value_t = 200, value_parser = clap::value_parser!(u16).range(1..=5000), global = true)]
    pub postback_batch_max: u16,

    /// Postback-recording transactions in flight at once.
    #[arg(long, env = "POSTBACK_WRITERS", value_name = "POSTBACK_WRITERS", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64), global = true)]
    pub postback_writers: u16,

    /// Click-writing transactions in flight at once. Two keep PostgreSQL busy while the next
    /// batch forms; more make smaller batches, which cost PostgreSQL more per click (measured
    /// 50 us per click with two writers, 65-75 us with four).
    #[arg(long, env = "CLICK_WRITERS", value_name = "CLICK_WRITERS", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64), global = true)]
    pub click_writers: u16,

    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, env = "HTTP_WORKERS", value_name = "HTTP_WORKERS", global = true)]
    pub http_workers: Option<usize>,

    #[command(flatten)]
    pub alerts: AlertConfig,
    #[command(flatten)]
    pub meta_quality: meta_quality::MetaQualityConfig,

    /// Tests drive the delivery worker themselves, step by step.
    #[arg(skip = true)]
    pub run_delivery_worker: bool,
}

/// Settings `serve` cannot run without, checked once at start-up.
#[derive(Debug, Clone)]
pub struct Secrets {
    pub database_url: String,
    pub admin_token: SecretString,
    pub postback_key: SecretString,
    pub postback_key_previous: Option<SecretString>,
}

impl Config {
    /// One set of rules for the banners and the alerts.
    pub fn health_rules(&self) -> crate::health::HealthRules {
        self.alerts.health_rules(self.unmatched_grace)
    }

    pub fn click_budget(&self) -> limits::ClickBudgetSettings {
        limits::ClickBudgetSettings {
            new_per_address: self.click_address_new_limit,
            bytes_per_address: self.click_address_bytes_limit,
            bytes_per_campaign: self.click_campaign_bytes_limit,
        }
    }

    pub fn database_url(&self) -> Result<&str, String> {
        let url = self
            .database_url
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| "DATABASE_URL is required (a Postgres connection string)".to_owned())?;
        let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("postgres" | "postgresql") => Ok(url),
            // Echo the scheme only when it looks like one, never a piece of a password.
            Some(s) if s.len() <= 16 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+') => Err(format!(
                "DATABASE_URL must be a postgres:// URL, not {s}://: capi-bridge runs on PostgreSQL only"
            )),
            _ => Err(
                "DATABASE_URL must be a postgres:// URL (postgres://user:password@host:5432/database)"
                    .to_owned(),
            ),
        }
    }

    pub fn secrets(&self) -> Result<Secrets, String> {
        let required = |v: &Option<SecretString>, name: &str| {
            v.clone()
                .ok_or_else(|| format!("{name} is required; {}", weak::GENERATE))
        };
        let secrets = Secrets {
            database_url: self.database_url()?.to_owned(),
            admin_token: required(&self.admin_token, "ADMIN_TOKEN")?,
            postback_key: required(&self.postback_key, "POSTBACK_KEY")?,
            postback_key_previous: self.postback_key_previous.clone(),
        };
        // Only serve exposes these, so only serve refuses guessable ones (migrate and
        // healthcheck run in the same container with the same environment).
        let (admin, postback) = (
            secrets.admin_token.expose_secret(),
            secrets.postback_key.expose_secret(),
        );
        weak::check("ADMIN_TOKEN", admin)?;
        weak::check("POSTBACK_KEY", postback)?;
        weak::check_distinct(admin, postback)?;
        if let Some(previous) = &secrets.postback_key_previous {
            weak::check("POSTBACK_KEY_PREVIOUS", previous.expose_secret())?;
            weak::check_distinct(admin, previous.expose_secret())?;
        }
        if let Some(token) = &self.metrics_token {
            let token = token.expose_secret();
            weak::check("METRICS_TOKEN", token)?;
            // Equal to ADMIN_TOKEN is allowed: the user then chooses one secret for both.
            if token.eq_ignore_ascii_case(postback) {
                return Err(format!(
                    "METRICS_TOKEN and POSTBACK_KEY must differ (postback URLs are seen by \
                     trackers and networks); {}",
                    weak::GENERATE
                ));
            }
        }
        weak::check_database_password(&secrets.database_url)?;
        self.alerts.telegram()?;
        crate::secrets::check_setting(self.secrets_key.as_ref())?;
        Ok(secrets)
    }
}

#[cfg(test)]
mod tests;
