//! `GET /metrics`: Prometheus/OpenMetrics text. On the main listener it needs METRICS_TOKEN (the
//! admin token does not grant it, so a scraper holds no admin rights); on the METRICS_ADDR
//! listener it is open.

use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::ExposeSecret;

use crate::http::auth::{bearer_token, secret_matches};
use crate::http::auth_limit::Credential;
use crate::http::client_ip::client_ip;
use crate::http::ApiError;
use crate::metrics::MetricsAccess;
use crate::state::AppState;

/// On the main listener.
pub async fn guarded(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    match &state.metrics_access {
        MetricsAccess::Token(token) => {
            if !bearer_token(&req)
                .is_some_and(|t| secret_matches(t, token.expose_secret().as_bytes()))
            {
                let ip = client_ip(&req, &state.trusted_proxies);
                return Err(state.auth_failures.failed(ip, Credential::MetricsToken));
            }
        }
        MetricsAccess::SeparateListener => {
            return Err(ApiError::Forbidden {
                code: "metrics_not_enabled",
                detail: "metrics are served on the METRICS_ADDR listener; set METRICS_TOKEN to \
                         scrape them here with a bearer token"
                    .to_owned(),
            })
        }
        MetricsAccess::Off => {
            return Err(ApiError::Forbidden {
                code: "metrics_not_enabled",
                detail: "metrics are off: set METRICS_TOKEN (scrape with Authorization: Bearer) \
                         or METRICS_ADDR (a separate listener without authentication, e.g. \
                         127.0.0.1:9090)"
                    .to_owned(),
            })
        }
    }
    render(&state).await
}

/// On the METRICS_ADDR listener, which serves nothing else.
pub async fn open(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    render(&state).await
}

async fn render(state: &AppState) -> Result<HttpResponse, ApiError> {
    let text = state.metrics.render(&state.pool).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(text))
}
