//! Building and running the application: HTTP server plus delivery worker.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::middleware::ErrorHandlers;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use sqlx::PgPool;
use tokio::sync::{watch, Notify};
use tracing_actix_web::TracingLogger;

use crate::alerts::{Alerts, Channels};
use crate::config::{Config, TrustedProxies};
use crate::delivery::worker::{WorkerDeps, WorkerSettings};
use crate::delivery::{sender, DeliveryWorker, RetryPolicy};
use crate::http::auth::{postback_key_used, KeyUsed};
use crate::http::auth_limit::FailedAuthLimit;
use crate::http::click_budget::ClickBudget;
use crate::http::proxy_hint::SourceConcentration;
use crate::http::rate_limit::ClickRateLimit;
use crate::http::request_id;
use crate::http::request_span::RequestSpan;
use crate::ingest::{self, PostbackWriter};
use crate::metrics::Metrics;
use crate::platforms::meta::dataset_quality::DatasetQualityClient;
use crate::platforms::meta::graph::GraphClient;
use crate::platforms::tiktok::{client::TikTokClient, TikTok};
use crate::platforms::{meta::Meta, Platforms};
use crate::routes;
use crate::routes::metrics::MetricsAccess;
use crate::secrets::{KeySetting, TokenCipher};
use crate::storage;
use crate::storage::campaign_cache::CampaignCache;
use crate::storage::clicks::{ClickBatches, NewClick, Upserted};
use crate::storage::group_commit::{write_with_fallback, GroupCommit, GroupCommitSettings};
use crate::storage::{meta_quality, privacy};

mod database;
pub use database::{connect, warn_when_autovacuum_off};

/// Largest request body any endpoint takes.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Shared by every request handler.
pub struct AppState {
    pub pool: PgPool,
    pub admin_token: String,
    pub postback_key: String,
    /// Also accepted while trackers switch to `postback_key`.
    pub postback_key_previous: Option<String>,
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
    pub ui: crate::ui::UiSettings,
    /// The alert loop's service: the dashboard's test alert and list of alerts sent.
    pub alerts: Arc<Alerts>,
    /// When a campaign counts as in trouble: the dashboard's banners and the alerts.
    pub health: crate::health::HealthRules,
}

impl AppState {
    /// Which postback key `presented` is, if either; counted by key, so the user sees when
    /// trackers stop sending the previous one.
    pub fn postback_key_used(&self, presented: &[u8]) -> Option<KeyUsed> {
        let used = postback_key_used(
            presented,
            &self.postback_key,
            self.postback_key_previous.as_deref(),
        );
        if let Some(key) = used {
            self.metrics.postback_key(key);
        }
        used
    }
}

pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    /// The METRICS_ADDR listener and its port, when configured.
    metrics_server: Option<(actix_web::dev::Server, u16)>,
    pool: PgPool,
    worker: DeliveryWorker,
    alerts: Arc<Alerts>,
    meta_quality: crate::meta_quality::QualityFetcher,
    config: Config,
}

impl Application {
    /// Connects, migrates and binds. `LISTEN_ADDR` with port 0 picks a free port (tests).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let secrets = config.secrets().map_err(anyhow::Error::msg)?;
        let pool = connect(&secrets.database_url, config.database_max_connections).await?;
        storage::migrate(&pool)
            .await
            .context("applying database migrations failed")?;
        warn_when_autovacuum_off(&pool).await;

        let key = config.secrets_key.as_ref().and_then(KeySetting::key);
        if key.is_none() {
            // Once per start-up: the database (and its backups) hold usable tokens.
            tracing::warn!(
                "SECRETS_KEY is none: access tokens are stored unencrypted; set SECRETS_KEY \
                 (openssl rand -hex 32) and restart to encrypt them"
            );
        }
        let cipher = TokenCipher::new(key.cloned(), config.secrets_key_previous.clone());
        let settled = cipher.settle_at_start_up(&pool).await?;
        if settled.resealed > 0 {
            tracing::info!(
                tokens = settled.resealed,
                "access tokens re-sealed under the current SECRETS_KEY"
            );
        }
        if settled.requeued > 0 {
            tracing::info!(
                events = settled.requeued,
                "events parked on an unreadable access token re-queued: the token opens now"
            );
        }
        if let Some(warning) =
            crate::ui::plain_http_warning(config.public_url.as_deref(), config.listen_addr)
        {
            tracing::warn!("{warning}");
        }
        let signal = Arc::new(Notify::new());
        let campaigns = Arc::new(CampaignCache::new(pool.clone(), Duration::from_secs(2)));
        let metrics = Arc::new(Metrics::default());
        let graph = GraphClient::new(
            &config.meta_graph_url,
            &config.meta_api_version,
            config.meta_app_secret.clone(),
            config.delivery_timeout,
        )
        .context("building the HTTP client for Meta failed")?;
        let worker = build_worker(
            &config,
            graph.clone(),
            pool.clone(),
            Arc::clone(&metrics),
            cipher.clone(),
            Arc::clone(&campaigns),
            Arc::clone(&signal),
        )?;

        let alerts = Arc::new(build_alerts(&config, pool.clone())?);
        let meta_quality = crate::meta_quality::QualityFetcher::new(
            pool.clone(),
            DatasetQualityClient::new(
                &config.meta_graph_url,
                &config.meta_api_version,
                config.meta_app_secret.clone(),
                config.delivery_timeout,
            )
            .context("building the HTTP client for Meta's quality figures failed")?,
            cipher.clone(),
            &config.meta_quality,
        );

        let listener = TcpListener::bind(config.listen_addr)
            .with_context(|| format!("cannot listen on LISTEN_ADDR {}", config.listen_addr))?;
        let port = listener.local_addr()?.port();
        if config.click_campaign_rate_limit.is_some() {
            tracing::warn!(
                "CLICK_CAMPAIGN_RATE_LIMIT is ignored: campaigns are limited by the bytes their \
                 clicks store, CLICK_CAMPAIGN_BYTES_LIMIT (see docs/operations.md)"
            );
        }
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            admin_token: secrets.admin_token,
            postback_key: secrets.postback_key,
            postback_key_previous: secrets.postback_key_previous,
            auth_failures: FailedAuthLimit::new(config.auth_failure_limit),
            trusted_proxies: config.trusted_proxies.clone(),
            postback_allowed_ips: config.postback_allowed_ips.clone(),
            click_rate_limit: ClickRateLimit::new(config.click_rate_limit),
            click_budget: ClickBudget::new(config.click_budget()),
            click_sources: SourceConcentration::default(),
            delivery_signal: Arc::clone(&signal),
            campaigns: Arc::clone(&campaigns),
            click_writer: GroupCommit::start(
                GroupCommitSettings {
                    max_batch: usize::from(config.click_batch_max),
                    queue: config.write_queue_max as usize,
                    writers: usize::from(config.click_writers),
                },
                {
                    let writer = Arc::new(ClickBatches(pool.clone()));
                    move |batch| {
                        let writer = Arc::clone(&writer);
                        async move { write_with_fallback(&*writer, batch).await }
                    }
                },
            ),
            postback_writer: ingest::start_writer(
                pool.clone(),
                Arc::clone(&campaigns),
                GroupCommitSettings {
                    max_batch: usize::from(config.postback_batch_max),
                    queue: config.write_queue_max as usize,
                    writers: usize::from(config.postback_writers),
                },
                Arc::clone(&signal),
            ),
            metrics,
            cipher: cipher.clone(),
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
            ui: crate::ui::UiSettings::new(config.public_url.as_deref(), config.ui_session_ttl)
                .in_zone(config.ui_display.ui_time_zone),
            alerts: Arc::clone(&alerts),
            health: health_rules(&config),
        });
        let metrics_server = match config.metrics_addr {
            Some(addr) => Some(metrics_server(addr, state.clone())?),
            None => None,
        };
        // Imports whose process died (kill -9, a crash) show failed with how far they got.
        tokio::spawn(ingest::import::sweep_interrupted(pool.clone()));
        let pruning = state.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(60));
            loop {
                every.tick().await;
                pruning.click_rate_limit.prune();
                pruning.click_budget.prune();
                pruning.auth_failures.prune();
            }
        });
        let mut server =
            HttpServer::new(move || {
                App::new()
                    .wrap(ErrorHandlers::new().default_handler(
                        crate::http::framework_errors::problem_for_framework_errors,
                    ))
                    .wrap(actix_web::middleware::from_fn(
                        crate::http::middleware::deadline,
                    ))
                    .wrap(actix_web::middleware::from_fn(
                        crate::http::middleware::count_requests,
                    ))
                    .wrap(actix_web::middleware::from_fn(request_id::stamp))
                    .wrap(TracingLogger::<RequestSpan>::new())
                    // Outermost, so errors and 404s get it too; ApiError adds it to errors raised
                    // by middleware, which bypass this one.
                    .wrap(
                        actix_web::middleware::DefaultHeaders::new()
                            .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")),
                    )
                    .app_data(state.clone())
                    .app_data(web::PayloadConfig::new(BODY_LIMIT))
                    .configure(routes::configure)
                    .configure(crate::ui::configure)
                    .default_service(web::to(routes::not_found))
            })
            .listen(listener)?
            // The request head must arrive within this; `deadline` bounds the rest.
            .client_request_timeout(Duration::from_secs(5))
            .shutdown_timeout(config.shutdown_timeout.as_secs().max(1));
        if let Some(n) = config.http_workers {
            server = server.workers(n.max(1));
        }
        let server = server.run();
        Ok(Application {
            port,
            server,
            metrics_server,
            pool,
            worker,
            alerts,
            meta_quality,
            config,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The METRICS_ADDR listener's port, when there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_server.as_ref().map(|(_, port)| *port)
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A handle on the delivery worker, for tests that drive it pass by pass.
    pub fn worker(&self) -> DeliveryWorker {
        self.worker.clone()
    }

    /// The alert loop's service, for tests that run its passes at chosen times.
    pub fn alerts(&self) -> Arc<Alerts> {
        Arc::clone(&self.alerts)
    }

    /// Serves until SIGTERM or SIGINT: actix stops accepting, finishes in-flight requests
    /// within the shutdown timeout; then the worker finishes its pass and gives back its leases.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let worker = self
            .config
            .run_delivery_worker
            .then(|| tokio::spawn(sender::run(self.worker.clone(), stop_rx.clone())));
        let meta_quality = self
            .config
            .run_delivery_worker
            .then(|| tokio::spawn(self.meta_quality.run(stop_rx.clone())));
        let retention = self.config.run_delivery_worker.then(|| {
            let (pool, clicks, events) = (
                self.pool.clone(),
                self.config.click_retention,
                self.config.event_retention,
            );
            let quality = self.config.meta_quality.meta_quality_retention;
            tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(600));
                loop {
                    every.tick().await;
                    match privacy::apply_retention(&pool, clicks, events, 1000).await {
                        Ok(r) if r != privacy::RetentionReport::default() => {
                            tracing::info!(?r, "retention applied")
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "retention pass failed"),
                    }
                    if let Err(e) = meta_quality::apply_retention(&pool, quality, 1000).await {
                        tracing::warn!(error = %e, "Meta quality retention failed");
                    }
                }
            })
        });
        // Without a channel there is no one to tell, so nothing is decided or stored either.
        let alerts = (!self.alerts.channels().configured().is_empty())
            .then(|| tokio::spawn(Arc::clone(&self.alerts).run(stop_rx.clone())));
        let metrics = self.metrics_server.map(|(server, _)| {
            let handle = server.handle();
            tokio::spawn(server);
            handle
        });
        let served = self.server.await;
        if let Some(handle) = metrics {
            handle.stop(true).await;
        }
        if let Some(r) = retention {
            r.abort();
        }
        if let Some(a) = alerts {
            a.abort();
        }
        let _ = stop_tx.send(true);
        if let Some(handle) = meta_quality {
            let _ = handle.await;
        }
        if let Some(handle) = worker {
            let abort = handle.abort_handle();
            if tokio::time::timeout(self.config.shutdown_timeout, handle)
                .await
                .is_err()
            {
                tracing::warn!("delivery did not finish within the shutdown timeout");
                abort.abort();
                self.worker.release().await;
            }
        }
        self.pool.close().await;
        tracing::info!("stopped");
        served.context("HTTP server failed")
    }
}

/// The METRICS_ADDR listener: `/metrics` without authentication, nothing else. It stops with
/// the main server, which owns the signal handling.
fn metrics_server(
    addr: std::net::SocketAddr,
    state: web::Data<AppState>,
) -> anyhow::Result<(actix_web::dev::Server, u16)> {
    let listener =
        TcpListener::bind(addr).with_context(|| format!("cannot listen on METRICS_ADDR {addr}"))?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(
                ErrorHandlers::new()
                    .default_handler(crate::http::framework_errors::problem_for_framework_errors),
            )
            .wrap(actix_web::middleware::from_fn(request_id::stamp))
            .wrap(TracingLogger::<RequestSpan>::new())
            .wrap(
                actix_web::middleware::DefaultHeaders::new()
                    .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")),
            )
            .app_data(state.clone())
            .service(web::resource("/metrics").get(routes::metrics::open))
            .default_service(web::to(routes::not_found))
    })
    .listen(listener)?
    .workers(1)
    .disable_signals()
    .client_request_timeout(Duration::from_secs(5))
    .run();
    Ok((server, port))
}

/// One set of rules for the banners and the alerts.
fn health_rules(config: &Config) -> crate::health::HealthRules {
    config.alerts.health_rules(config.unmatched_grace)
}

fn build_alerts(config: &Config, pool: PgPool) -> anyhow::Result<Alerts> {
    let a = &config.alerts;
    let channels = Channels::new(
        a.alert_webhook_url.clone(),
        a.telegram().map_err(anyhow::Error::msg)?,
        &a.telegram_api_url,
        config.delivery_timeout,
    )
    .context("building the HTTP client for alerts failed")?;
    Ok(Alerts::new(
        pool,
        channels,
        health_rules(config),
        config.public_url.as_deref(),
        a.alert_interval,
    ))
}

fn build_worker(
    config: &Config,
    graph: GraphClient,
    pool: PgPool,
    metrics: Arc<Metrics>,
    cipher: TokenCipher,
    campaigns: Arc<CampaignCache>,
    signal: Arc<Notify>,
) -> anyhow::Result<DeliveryWorker> {
    let settings = WorkerSettings {
        batch_max: usize::from(config.delivery_batch_max),
        concurrency: usize::from(config.delivery_concurrency),
        target_concurrency: usize::from(config.delivery_target_concurrency),
        poll_interval: config.delivery_poll_interval,
        request_timeout: config.delivery_timeout,
        unmatched_grace: config.unmatched_grace,
        batch_window: config.delivery_batch_window,
    };
    let tiktok = TikTokClient::new(&config.tiktok_api_url, config.delivery_timeout)
        .context("building the HTTP client for TikTok failed")?;
    let deps = WorkerDeps {
        pool,
        platforms: Platforms::new(vec![
            Arc::new(Meta::new(graph)),
            Arc::new(TikTok::new(tiktok)),
        ]),
        policy: RetryPolicy::new(config.delivery_retry_delays.0.clone()),
        campaigns,
        metrics,
        cipher,
        signal,
    };
    Ok(DeliveryWorker::new(deps, settings))
}
