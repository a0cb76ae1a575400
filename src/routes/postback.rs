//! `GET|POST /v1/postback/{tracker}`: conversions reported by networks and trackers.

use actix_web::http::{Method, StatusCode};
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use chrono::Utc;
use serde_json::json;

use crate::http::auth_limit::Credential;
use crate::http::client_ip::client_ip;
use crate::http::params::{media_type, parse_urlencoded, Params};
use crate::http::ApiError;
use crate::ingest::Outcome;
use crate::state::AppState;
use crate::storage::refused;
use crate::trackers::{self, Parsed, PostbackError, Tracker};

#[tracing::instrument(skip_all, fields(tracker = %path, click_id, outcome, postback_key))]
pub async fn receive(
    req: HttpRequest,
    path: web::Path<String>,
    body: Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let tracker = Tracker::parse(&path).ok_or_else(|| {
        ApiError::not_found(
            "unknown_tracker",
            format!("tracker must be one of {}", Tracker::names()),
        )
    })?;
    if !state.postback_allowed_ips.0.is_empty()
        && !client_ip(&req, &state.trusted_proxies)
            .is_some_and(|ip| state.postback_allowed_ips.contains(ip))
    {
        return Err(ApiError::Forbidden {
            code: "ip_not_allowed",
            detail: "postbacks are not accepted from this address (POSTBACK_ALLOWED_IPS)".into(),
        });
    }
    let mut params = Params::from_pairs(parse_urlencoded(req.query_string().as_bytes())?);
    let key = params.remove("key");
    let presented = req
        .headers()
        .get("x-postback-key")
        .map(|v| v.as_bytes().to_vec())
        .or(key.map(String::into_bytes));
    let Some(used) = presented.and_then(|k| state.postback_key_used(&k)) else {
        let ip = client_ip(&req, &state.trusted_proxies);
        return Err(state.auth_failures.failed(ip, Credential::PostbackKey));
    };
    // Every line of this postback says which key it carried, while both are valid.
    tracing::Span::current().record("postback_key", used.as_str());
    if req.method() == Method::POST && !body.is_empty() {
        params.extend(body_pairs(&req, &body)?);
    }

    let now = Utc::now();
    let region = state.campaigns.region_of(params.get("campaign")).await?;
    let parsed = match trackers::parse_in(tracker, &params, now, &region) {
        Ok(parsed) => parsed,
        Err(e) => return Err(refuse(&state, tracker, &params, e).await),
    };
    // Keitaro's `return=OK`: networks that check the answer's text get exactly that. An
    // unusable text is left out and reported: the default answer applies.
    let mut return_dropped = None;
    let reply_text = match params.get("return").filter(|_| tracker == Tracker::Keitaro) {
        Some(text) if return_text_ok(text) => Some(text.to_owned()),
        Some(_) => {
            return_dropped =
                Some("must be at most 64 printable ASCII characters; the default answer applies");
            None
        }
        None => None,
    };
    let span = tracing::Span::current();

    let mut postback = match parsed {
        Parsed::Ignored { .. } => {
            span.record("outcome", "ignored");
            state.metrics.postback(tracker.as_str(), "ignored");
            return Ok(answer(
                StatusCode::OK,
                json!({ "status": "ignored" }),
                reply_text,
            ));
        }
        Parsed::Conversion(p) => p,
    };
    if let Some(reason) = return_dropped {
        postback.dropped.push("return", reason);
    }
    span.record("click_id", postback.click_id.as_str());
    let dropped = postback.dropped.clone();

    let outcome = state.postback_writer.submit((*postback, now)).await?;
    let status = match &outcome {
        Outcome::Unmatched { .. } => StatusCode::ACCEPTED,
        _ => StatusCode::OK,
    };
    let mut body = serde_json::to_value(&outcome).map_err(|e| ApiError::Internal(e.into()))?;
    // Present only when something was dropped, so a clean postback's answer is unchanged.
    if !dropped.is_empty() {
        body["dropped"] = json!(dropped);
    }
    span.record("outcome", outcome.name());
    state.metrics.postback(tracker.as_str(), outcome.name());
    state.metrics.dropped(&dropped);
    // The conversion id links this line to the delivery lines of its events.
    tracing::info!(
        conversion_id = outcome.conversion_id(),
        dropped = ?dropped.fields().collect::<Vec<_>>(),
        "postback recorded"
    );
    Ok(answer(status, body, reply_text))
}

/// The problem for a postback that carried the key but cannot be recorded. It is kept (without
/// the key and personal data) and logged, so the user can see what the tracker sent.
async fn refuse(state: &AppState, tracker: Tracker, params: &Params, e: PostbackError) -> ApiError {
    let error = match e {
        PostbackError::MissingClickId(name) => ApiError::BadRequest {
            code: "missing_click_id",
            detail: format!("{name} is required (the click id)"),
        },
        PostbackError::UnfilledStatus(name) => ApiError::Unprocessable {
            code: "unfilled_status",
            detail: format!(
                "{name} holds an unfilled macro or is empty, so the conversion's status is \
                 unknown; nothing was recorded. Use the tracker's own status macro in the \
                 postback URL, or leave {name} out to mean a sale"
            ),
        },
        PostbackError::Invalid { field, error } => ApiError::invalid_field(field, error),
    };
    let kept = trackers::kept_params(params);
    tracing::warn!(
        code = error.code(),
        detail = %error,
        params = %kept,
        "postback refused"
    );
    if let Err(db) = refused::insert(
        &state.pool,
        tracker.as_str(),
        error.code(),
        &error.to_string(),
        &kept,
    )
    .await
    {
        tracing::warn!(error = %db, "refused postback could not be kept");
    }
    state.metrics.postback(tracker.as_str(), "refused");
    error
}

fn body_pairs(req: &HttpRequest, body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    match media_type(req).as_str() {
        "application/json" => Params::from_json_object(body),
        "application/x-www-form-urlencoded" | "" => parse_urlencoded(body),
        other => Err(ApiError::UnsupportedMediaType(other.to_owned())),
    }
}

/// The text Keitaro's `return` makes us answer is chosen by whoever builds the postback URL:
/// short printable ASCII only, so the answer can never be markup or a large reflected payload.
fn return_text_ok(text: &str) -> bool {
    text.len() <= 64 && text.bytes().all(|b| (0x20..0x7f).contains(&b))
}

fn answer(status: StatusCode, body: serde_json::Value, text: Option<String>) -> HttpResponse {
    match text {
        Some(t) => HttpResponse::build(status)
            .content_type("text/plain; charset=utf-8")
            .body(t),
        None => HttpResponse::build(status).json(body),
    }
}
