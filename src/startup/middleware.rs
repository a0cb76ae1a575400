//! The two middlewares every request passes: the request counter and the whole-request deadline.
//! They read `AppState` (the timeouts, the metrics), which sits above `http`, so they live with the
//! server they wrap.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::http::ApiError;

/// Counts every request by its route pattern (never the raw path: ids would explode the
/// label set), method and status.
pub async fn count_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let route = req
        .match_pattern()
        .unwrap_or_else(|| crate::metrics::UNMATCHED_ROUTE.to_owned());
    let method = crate::metrics::method_label(req.method());
    let metrics = req
        .app_data::<web::Data<crate::state::AppState>>()
        .map(|s| std::sync::Arc::clone(&s.metrics));
    let res = next.call(req).await;
    if let Some(m) = metrics {
        let status = match &res {
            Ok(r) => r.status().as_u16(),
            Err(e) => e.as_response_error().status_code().as_u16(),
        };
        m.http_request(&route, method, status);
    }
    res
}

/// Bounds a whole request, body included: actix's own timeout covers only the request head,
/// and a client that sends a head and then a body that never ends would hold its connection
/// (and a file descriptor) forever.
pub async fn deadline(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // An import upload may be 50 MB: it has its own, longer limit.
    let upload = crate::upload::is_upload(req.request());
    let limit = req
        .app_data::<web::Data<crate::state::AppState>>()
        .map(|s| {
            if upload {
                s.import_upload_timeout
            } else {
                s.request_timeout
            }
        })
        .unwrap_or(std::time::Duration::from_secs(15));
    match tokio::time::timeout(limit, next.call(req)).await {
        Ok(res) => res,
        Err(_) => Err(ApiError::RequestTimeout.into()),
    }
}
