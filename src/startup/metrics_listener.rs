//! The METRICS_ADDR listener: a second, small HTTP server beside the main one.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_web::http::header;
use actix_web::middleware::ErrorHandlers;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use tracing_actix_web::TracingLogger;

use crate::http::request_id;
use crate::http::request_span::RequestSpan;
use crate::routes;
use crate::state::AppState;

/// The METRICS_ADDR listener: `/metrics` without authentication, nothing else. It stops with
/// the main server, which owns the signal handling.
pub fn start(
    addr: SocketAddr,
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
