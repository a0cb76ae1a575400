use std::time::Duration;

use actix_web::{web, HttpResponse};

use crate::http::ApiError;
use crate::routes::admin::Admin;
use crate::startup::AppState;

/// Alive: answers without touching the database (the container healthcheck).
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// Ready: the database answers within two seconds.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let ping = crate::storage::ping(&state.pool);
    match tokio::time::timeout(Duration::from_secs(2), ping).await {
        Ok(Ok(_)) => Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ready" }))),
        Ok(Err(e)) => Err(ApiError::Unavailable(e.into())),
        Err(_) => Err(ApiError::Unavailable(anyhow::anyhow!(
            "database ping timed out"
        ))),
    }
}

/// Prometheus metrics, behind the admin token (they reveal business volume).
pub async fn metrics(_: Admin, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let text = state.metrics.render(&state.pool).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(text))
}
