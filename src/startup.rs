//! Building and running the application: HTTP server plus delivery worker.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::middleware::ErrorHandlers;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::PgPool;
use tokio::sync::{watch, Notify};
use tracing_actix_web::TracingLogger;

use crate::alerts::{Alerts, Channels};
use crate::config::Config;
use crate::delivery::worker::{WorkerDeps, WorkerSettings};
use crate::delivery::{sender, DeliveryWorker, RetryPolicy};
use crate::http::request_id;
use crate::http::request_span::RequestSpan;
use crate::loops;
use crate::metrics::Metrics;
use crate::platforms::meta::dataset_quality::DatasetQualityClient;
use crate::platforms::meta::graph::GraphClient;
use crate::platforms::tiktok::{client::TikTokClient, TikTok};
use crate::platforms::{meta::Meta, Platforms};
use crate::routes;
use crate::secrets::{KeySetting, TokenCipher};
use crate::state::{AppState, Shared};
use crate::storage;
use crate::storage::campaign_cache::CampaignCache;

mod database;
mod metrics_listener;
mod middleware;
mod tokens;
pub use database::{connect, warn_when_autovacuum_off};

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
    /// Tells the background loops to stop; they also stop when it is dropped.
    stop: watch::Sender<bool>,
    stopped: watch::Receiver<bool>,
    /// The loops started with the application (interrupted imports, pruning).
    always: Vec<tokio::task::JoinHandle<()>>,
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
        let settled = tokens::settle(&cipher, &pool).await?;
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
        // The Graph clients sign each token with it (appsecret_proof).
        let app_secret = config
            .meta_app_secret
            .as_ref()
            .map(|s| s.expose_secret().to_owned());
        let graph = GraphClient::new(
            &config.meta_graph_url,
            &config.meta_api_version,
            app_secret.clone(),
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
                app_secret.clone(),
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
        let state = web::Data::new(AppState::build(
            &config,
            secrets,
            Shared {
                pool: pool.clone(),
                signal: Arc::clone(&signal),
                campaigns: Arc::clone(&campaigns),
                metrics,
                cipher: cipher.clone(),
                graph,
                alerts: Arc::clone(&alerts),
            },
        )?);
        let metrics_server = match config.metrics_addr {
            Some(addr) => Some(metrics_listener::start(addr, state.clone())?),
            None => None,
        };
        // The loops that run in every process (the others only with RUN_DELIVERY_WORKER) start
        // now, so a test's server has them too; they stop with the stop signal or when the
        // application is dropped.
        let (stop, stopped) = watch::channel(false);
        let always = vec![
            tokio::spawn(loops::interrupted_imports::run(
                pool.clone(),
                stopped.clone(),
            )),
            tokio::spawn(loops::pruning::run(
                state.clone().into_inner(),
                stopped.clone(),
            )),
        ];
        let mut server =
            HttpServer::new(move || {
                App::new()
                    .wrap(ErrorHandlers::new().default_handler(
                        crate::http::framework_errors::problem_for_framework_errors,
                    ))
                    .wrap(actix_web::middleware::from_fn(middleware::deadline))
                    .wrap(actix_web::middleware::from_fn(middleware::count_requests))
                    .wrap(actix_web::middleware::from_fn(request_id::stamp))
                    .wrap(TracingLogger::<RequestSpan>::new())
                    // Outermost, so errors and 404s get it too; ApiError adds it to errors raised
                    // by middleware, which bypass this one.
                    .wrap(
                        actix_web::middleware::DefaultHeaders::new()
                            .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")),
                    )
                    .app_data(state.clone())
                    .app_data(web::PayloadConfig::new(crate::http::BODY_LIMIT))
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
            stop,
            stopped,
            always,
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
        let (stop_tx, stop_rx) = (self.stop, self.stopped);
        let worker = self
            .config
            .run_delivery_worker
            .then(|| tokio::spawn(sender::run(self.worker.clone(), stop_rx.clone())));
        let meta_quality = self
            .config
            .run_delivery_worker
            .then(|| tokio::spawn(self.meta_quality.run(stop_rx.clone())));
        let retention = self.config.run_delivery_worker.then(|| {
            let retention = loops::retention::Retention {
                pool: self.pool.clone(),
                clicks: self.config.click_retention,
                events: self.config.event_retention,
                meta_quality: self.config.meta_quality.meta_quality_retention,
            };
            tokio::spawn(retention.run(stop_rx.clone()))
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
        if let Some(a) = alerts {
            a.abort();
        }
        let _ = stop_tx.send(true);
        // Each finishes the pass it is in; none waits on the network for long.
        for handle in self.always.into_iter().chain(retention) {
            let _ = handle.await;
        }
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
        config.health_rules(),
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
        platforms: Platforms {
            meta: Arc::new(Meta::new(graph)),
            tiktok: Arc::new(TikTok::new(tiktok)),
        },
        policy: RetryPolicy::new(config.delivery_retry_delays.0.clone()),
        campaigns,
        metrics,
        cipher,
        signal,
    };
    Ok(DeliveryWorker::new(deps, settings))
}
