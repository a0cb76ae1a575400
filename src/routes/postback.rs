//! `GET|POST /v1/postback/{tracker}`: conversions reported by networks and trackers.

use actix_web::http::{Method, StatusCode};
use actix_web::web;
// Named apart: utoipa would document a `Bytes` argument as a body, which GET has none of.
use actix_web::web::Bytes as Body;
use actix_web::{HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{DropReport, PlatformSkip};
use crate::http::auth_limit::Credential;
use crate::http::client_ip::client_ip;
use crate::http::params::{media_type, parse_urlencoded, Params};
use crate::http::ApiError;
use crate::ingest::{Outcome, QueuedEvent};
use crate::openapi::problems::{problems, Public};
use crate::openapi::schemas::{ReturnText, TrackerName};
use crate::state::AppState;
use crate::storage::refused;
use crate::trackers::{self, Parsed, PostbackError, Tracker};

problems! {
    /// What a postback may be answered instead of its outcome.
    PostbackProblem: Public {
        MissingClickId = (400, "missing_click_id"),
        IpNotAllowed = (403, "ip_not_allowed"),
        UnknownTracker = (404, "unknown_tracker"),
        UnfilledStatus = (422, "unfilled_status"),
    }
}

/// What a postback did.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PostbackStatus {
    /// Events are queued for the campaign's platforms.
    Accepted,
    /// The same click, status and transaction id were reported before.
    Duplicate,
    /// The status maps to no event (e.g. rejected), or `send_when` kept it from every platform.
    Skipped,
    /// The campaign requires consent the click did not give.
    Suppressed,
    /// The click is not registered (yet): recorded, joined when it arrives.
    Unmatched,
    /// Recorded, but it cannot become a valid event.
    Failed,
    /// The tracker's status is one it sends for no conversion: nothing was recorded.
    Ignored,
}

/// The answer to a postback (unless Keitaro's `return` asks for a text).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostbackAnswer {
    status: PostbackStatus,
    /// The recorded conversion; absent for `duplicate` and `ignored`.
    #[serde(skip_serializing_if = "Option::is_none")]
    conversion_id: Option<i64>,
    /// `accepted`: each platform's event and the event id its pixel should share.
    #[serde(skip_serializing_if = "Option::is_none")]
    events: Option<Vec<QueuedEvent>>,
    /// `skipped`, `failed`: why it is not sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// The campaign's platforms whose `send_when` kept the conversion from them, each with the
    /// reason. Absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    skipped: Vec<PlatformSkip>,
    /// Each field dropped or cleaned, and why; the conversion was recorded without it. Absent
    /// when none.
    #[serde(skip_serializing_if = "DropReport::is_empty")]
    #[schema(value_type = Vec<crate::domain::Dropped>)]
    dropped: DropReport,
}

impl PostbackAnswer {
    fn bare(status: PostbackStatus, conversion_id: Option<i64>) -> Self {
        PostbackAnswer {
            status,
            conversion_id,
            events: None,
            reason: None,
            skipped: Vec::new(),
            dropped: DropReport::default(),
        }
    }

    fn of(outcome: Outcome, dropped: DropReport) -> Self {
        let bare = Self::bare;
        let mut answer = match outcome {
            Outcome::Accepted {
                conversion_id,
                events,
                skipped,
            } => PostbackAnswer {
                events: Some(events),
                skipped,
                ..bare(PostbackStatus::Accepted, Some(conversion_id))
            },
            Outcome::Duplicate => bare(PostbackStatus::Duplicate, None),
            Outcome::Skipped {
                conversion_id,
                reason,
                skipped,
            } => PostbackAnswer {
                reason: Some(reason),
                skipped,
                ..bare(PostbackStatus::Skipped, Some(conversion_id))
            },
            Outcome::Suppressed { conversion_id } => {
                bare(PostbackStatus::Suppressed, Some(conversion_id))
            }
            Outcome::Unmatched { conversion_id } => {
                bare(PostbackStatus::Unmatched, Some(conversion_id))
            }
            Outcome::Failed {
                conversion_id,
                reason,
            } => PostbackAnswer {
                reason: Some(reason),
                ..bare(PostbackStatus::Failed, Some(conversion_id))
            },
        };
        answer.dropped = dropped;
        answer
    }
}

/// `POST`: the same as `GET`, with the parameters in a form or JSON body.
#[utoipa::path(
    post, path = "/v1/postback/{tracker}", tag = "public", operation_id = "postback_post",
    description = "The same as GET, with the parameters in a form or JSON body.",
    params(("tracker" = TrackerName, Path, example = "keitaro")),
    request_body(content(
        (BTreeMap<String, String> = "application/x-www-form-urlencoded",
            example = json!({"subid": "st-click-1", "status": "sale", "payout": "12.5"})),
        (BTreeMap<String, String> = "application/json",
            example = json!({"subid": "st-click-1", "status": "sale", "payout": "12.5"})),
    )),
    security(("postback_key" = []), ("postback_key_header" = [])),
    responses(
        (status = 200, description = "Recorded (or ignored)", content(
            (PostbackAnswer = "application/json"), (ReturnText = "text/plain"))),
        (status = 202, description = "Recorded, the click is not known yet", content(
            (PostbackAnswer = "application/json"), (ReturnText = "text/plain"))),
        PostbackProblem,
    )
)]
pub async fn receive_post(
    req: HttpRequest,
    path: web::Path<String>,
    body: Body,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    receive(req, path, body, state).await
}

#[utoipa::path(
    get, path = "/v1/postback/{tracker}", tag = "public", operation_id = "postback_get",
    description = "A conversion from a tracker. Parameters are the tracker's own (Keitaro: \
                   `subid`, `status`, `payout`, ...); the postback key as `key` or \
                   `X-Postback-Key`.",
    params(
        ("tracker" = TrackerName, Path, example = "keitaro"),
        ("subid" = Option<String>, Query, example = "st-click-1",
            description = "Keitaro's click id; other trackers name it their way"),
        ("status" = Option<String>, Query, example = "lead"),
        ("payout" = Option<String>, Query, example = "12.5"),
    ),
    security(("postback_key" = []), ("postback_key_header" = [])),
    responses(
        (status = 200, description = "Recorded (or ignored)", content(
            (PostbackAnswer = "application/json"), (ReturnText = "text/plain"))),
        (status = 202, description = "Recorded, the click is not known yet", content(
            (PostbackAnswer = "application/json"), (ReturnText = "text/plain"))),
        PostbackProblem,
    )
)]
#[tracing::instrument(skip_all, fields(tracker = %path, click_id, outcome, postback_key))]
pub async fn receive(
    req: HttpRequest,
    path: web::Path<String>,
    body: Body,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let tracker = Tracker::parse(&path).ok_or_else(|| {
        ApiError::not_found(
            PostbackProblem::UnknownTracker.code(),
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
            let ignored = PostbackAnswer::bare(PostbackStatus::Ignored, None);
            return Ok(answer(StatusCode::OK, &ignored, reply_text));
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
    span.record("outcome", outcome.name());
    state.metrics.postback(tracker.as_str(), outcome.name());
    state.metrics.dropped(&dropped);
    // The conversion id links this line to the delivery lines of its events.
    tracing::info!(
        conversion_id = outcome.conversion_id(),
        dropped = ?dropped.fields().collect::<Vec<_>>(),
        "postback recorded"
    );
    Ok(answer(
        status,
        &PostbackAnswer::of(outcome, dropped),
        reply_text,
    ))
}

/// The problem for a postback that carried the key but cannot be recorded. It is kept (without
/// the key and personal data) and logged, so the user can see what the tracker sent.
async fn refuse(state: &AppState, tracker: Tracker, params: &Params, e: PostbackError) -> ApiError {
    let error = match e {
        PostbackError::MissingClickId(name) => ApiError::BadRequest {
            code: PostbackProblem::MissingClickId.code(),
            detail: format!("{name} is required (the click id)"),
        },
        PostbackError::UnfilledStatus(name) => ApiError::Unprocessable {
            code: PostbackProblem::UnfilledStatus.code(),
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

fn answer(status: StatusCode, body: &PostbackAnswer, text: Option<String>) -> HttpResponse {
    match text {
        Some(t) => HttpResponse::build(status)
            .content_type("text/plain; charset=utf-8")
            .body(t),
        None => HttpResponse::build(status).json(body),
    }
}
