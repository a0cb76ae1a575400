//! What every request handler shares, and the one function that builds it. A leaf under `routes`
//! and `ui`: it imports neither (nor `startup`), so both can take it without an arrow up.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use tokio::sync::Notify;

use crate::alerts::Alerts;
use crate::config::ui::UiSettings;
use crate::config::{Config, Secrets, TrustedProxies};
use crate::health::HealthRules;
use crate::http::auth::{postback_key_used, KeyUsed};
use crate::http::auth_limit::FailedAuthLimit;
use crate::http::click_budget::ClickBudget;
use crate::http::proxy_hint::SourceConcentration;
use crate::http::rate_limit::ClickRateLimit;
use crate::ingest::{self, PostbackWriter};
use crate::metrics::{Metrics, MetricsAccess};
use crate::platforms::meta::graph::GraphClient;
use crate::platforms::tiktok::client::TikTokClient;
use crate::secrets::TokenCipher;
use crate::storage::campaign_cache::CampaignCache;
use crate::storage::clicks::{ClickBatches, NewClick, Upserted};
use crate::storage::group_commit::{write_with_fallback, GroupCommit, GroupCommitSettings};

/// Shared by every request handler.
pub struct AppState {
    pub pool: PgPool,
    pub admin_token: SecretString,
    pub postback_key: SecretString,
    /// Also accepted while trackers switch to `postback_key`.
    pub postback_key_previous: Option<SecretString>,
    /// Wrong credentials per client address, on every route that takes one.
    pub auth_failures: FailedAuthLimit,
    pub trusted_proxies: TrustedProxies,
    pub postback_allowed_ips: TrustedProxies,
    pub click_rate_limit: ClickRateLimit,
    /// What public click registrations may store, per address and per campaign.
    pub click_budget: ClickBudget,
    /// Warns when most clicks come from one address (a proxy missing from TRUSTED_PROXIES).
    pub click_sources: SourceConcentration,
    /// Wakes the delivery worker when an event is committed.
    pub delivery_signal: Arc<Notify>,
    pub campaigns: Arc<CampaignCache>,
    pub click_writer: GroupCommit<NewClick, Upserted>,
    pub postback_writer: PostbackWriter,
    pub metrics: Arc<Metrics>,
    pub cipher: TokenCipher,
    pub request_timeout: Duration,
    /// The whole request of an import upload, instead of `request_timeout`.
    pub import_upload_timeout: Duration,
    /// Meta, for the test event; delivery has its own clone.
    pub graph: GraphClient,
    /// TikTok, for its test event.
    pub tiktok: TikTokClient,
    pub metrics_access: MetricsAccess,
    pub ui: UiSettings,
    /// The alert loop's service: the dashboard's test alert and list of alerts sent.
    pub alerts: Arc<Alerts>,
    /// When a campaign counts as in trouble: the dashboard's banners and the alerts.
    pub health: HealthRules,
}

/// What start-up made before the state and shares with delivery and the loops.
pub struct Shared {
    pub pool: PgPool,
    pub signal: Arc<Notify>,
    pub campaigns: Arc<CampaignCache>,
    pub metrics: Arc<Metrics>,
    pub cipher: TokenCipher,
    pub graph: GraphClient,
    pub alerts: Arc<Alerts>,
}

impl AppState {
    /// The handlers' state from the configuration; starts the click and postback writers.
    pub fn build(config: &Config, secrets: Secrets, shared: Shared) -> anyhow::Result<Self> {
        let Shared {
            pool,
            signal,
            campaigns,
            metrics,
            cipher,
            graph,
            alerts,
        } = shared;
        let queue = config.write_queue_max as usize;
        let click_writer = GroupCommit::start(
            GroupCommitSettings {
                max_batch: usize::from(config.click_batch_max),
                queue,
                writers: usize::from(config.click_writers),
            },
            {
                let writer = Arc::new(ClickBatches(pool.clone()));
                move |batch| {
                    let writer = Arc::clone(&writer);
                    async move { write_with_fallback(&*writer, batch).await }
                }
            },
        );
        let postback_writer = ingest::start_writer(
            pool.clone(),
            Arc::clone(&campaigns),
            GroupCommitSettings {
                max_batch: usize::from(config.postback_batch_max),
                queue,
                writers: usize::from(config.postback_writers),
            },
            Arc::clone(&signal),
        );
        Ok(AppState {
            pool,
            admin_token: secrets.admin_token,
            postback_key: secrets.postback_key,
            postback_key_previous: secrets.postback_key_previous,
            auth_failures: FailedAuthLimit::new(config.auth_failure_limit),
            trusted_proxies: config.trusted_proxies.clone(),
            postback_allowed_ips: config.postback_allowed_ips.clone(),
            click_rate_limit: ClickRateLimit::new(config.click_rate_limit),
            click_budget: ClickBudget::new(config.click_budget()),
            click_sources: SourceConcentration::default(),
            delivery_signal: signal,
            campaigns,
            click_writer,
            postback_writer,
            metrics,
            cipher,
            request_timeout: config.request_timeout,
            import_upload_timeout: config.import_upload_timeout,
            graph,
            tiktok: TikTokClient::new(&config.tiktok_api_url, config.delivery_timeout)
                .context("building the HTTP client for TikTok failed")?,
            metrics_access: match (&config.metrics_token, config.metrics_addr) {
                (Some(token), _) => MetricsAccess::Token(token.clone()),
                (None, Some(_)) => MetricsAccess::SeparateListener,
                (None, None) => MetricsAccess::Off,
            },
            ui: UiSettings::new(config.public_url.as_deref(), config.ui_session_ttl)
                .in_zone(config.ui_display.ui_time_zone),
            alerts,
            health: config.health_rules(),
        })
    }

    /// Which postback key `presented` is, if either; counted by key, so the user sees when
    /// trackers stop sending the previous one.
    pub fn postback_key_used(&self, presented: &[u8]) -> Option<KeyUsed> {
        let used = postback_key_used(
            presented,
            self.postback_key.expose_secret(),
            self.postback_key_previous
                .as_ref()
                .map(|k| k.expose_secret()),
        );
        if let Some(key) = used {
            self.metrics.postback_key(key);
        }
        used
    }

    /// Forgets idle entries of the per-address limits; the pruning loop calls it.
    pub fn prune_limits(&self) {
        self.click_rate_limit.prune();
        self.click_budget.prune();
        self.auth_failures.prune();
    }
}
