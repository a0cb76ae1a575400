//! The dashboard's retries of failed conversions (one, or all of a campaign), through the same
//! code as the admin API's retry routes. While a platform still refuses the campaign's stored
//! token, a retry would only be refused again: the page warns and asks first.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use maud::html;

use super::detail::{page_with, parse_id};
use super::filter::with_query;
use crate::domain::{CampaignKey, EventState, FailureClass, PlatformKind};
use crate::ingest::retry::{retry_campaign, retry_conversion, Retried};
use crate::state::AppState;
use crate::storage::{campaigns, conversions};
use crate::ui::confirm::{confirmed, refused_retry, ConfirmForm};
use crate::ui::session::Session;
use crate::ui::{see_other, UiError};

/// `POST /ui/conversions/{id}/retry`: the admin API's retry; 303 back with a notice, or a 409
/// page saying why nothing was retried.
pub async fn retry(
    id: web::Path<String>,
    form: web::Form<ConfirmForm>,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, UiError> {
    let id = parse_id(&id)?;
    if !confirmed(&form.confirm) {
        if let Some(warning) = refused_conversion(&state, &session, id).await? {
            return Ok(warning);
        }
    }
    let retried = retry_conversion(&state.pool, &state.campaigns, id).await?;
    match retried {
        Retried::Queued => {
            state.delivery_signal.notify_one();
            Ok(see_other(&format!("/ui/conversions/{id}?retried=1")))
        }
        Retried::NotFound => Err(UiError::NotFound(format!("There is no conversion {id}."))),
        Retried::StillFailed(_) | Retried::NotFailed(_) => {
            let why = retried.refusal().unwrap_or_default();
            let body = html! {
                p.error role="alert" { "Not retried: " (why) "." }
                p { a href={ "/ui/conversions/" (id) } { "Back to conversion " (id) } }
            };
            Ok(page_with(
                &session,
                StatusCode::CONFLICT,
                "Not retried",
                body,
            ))
        }
    }
}

/// `POST /ui/conversions/retry-failed` (`campaign`): the admin API's retry of a campaign's
/// failed conversions; 303 to the list of that campaign with a notice.
#[derive(serde::Deserialize)]
pub struct RetryFailedForm {
    #[serde(default)]
    campaign: String,
    #[serde(default)]
    confirm: String,
}

pub async fn retry_failed(
    form: web::Form<RetryFailedForm>,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, UiError> {
    let raw = form.campaign.as_str();
    let not_found = || UiError::NotFound(format!("There is no campaign {raw:?}."));
    let key = CampaignKey::parse(raw).map_err(|_| not_found())?;
    let campaign = campaigns::find_by_key(&state.pool, key.as_str())
        .await?
        .ok_or_else(not_found)?;
    if !confirmed(&form.confirm) {
        let fields = vec![("campaign", key.as_str().to_owned())];
        let back = with_query("/ui/conversions", &fields);
        let warning =
            refused_retry(&state, &session, &campaign, None, ACTION, fields, &back).await?;
        if let Some(warning) = warning {
            return Ok(warning);
        }
    }
    let done = retry_campaign(
        &state.pool,
        &state.campaigns,
        &state.delivery_signal,
        campaign.id,
    )
    .await?;
    let mut pairs = vec![
        ("campaign", key.as_str().to_owned()),
        ("retried", done.requeued.to_string()),
        ("still_failed", done.still_failed.to_string()),
    ];
    if done.more {
        pairs.push(("more", "1".to_owned()));
    }
    Ok(see_other(&with_query("/ui/conversions", &pairs)))
}

const ACTION: &str = "/ui/conversions/retry-failed";

/// The warning page when a platform refuses the token that conversion `id`'s failed events
/// wait on, else `None`.
async fn refused_conversion(
    state: &AppState,
    session: &Session,
    id: i64,
) -> Result<Option<HttpResponse>, UiError> {
    let Some(key) = conversions::view(&state.pool, id)
        .await?
        .and_then(|c| c.campaign)
    else {
        return Ok(None);
    };
    let Some(campaign) = campaigns::find_by_key(&state.pool, &key).await? else {
        return Ok(None);
    };
    let parked: Vec<PlatformKind> = conversions::deliveries(&state.pool, id)
        .await?
        .iter()
        .filter(|d| d.state == EventState::Failed && d.failure_class == Some(FailureClass::Auth))
        .map(|d| d.platform)
        .collect();
    let back = format!("/ui/conversions/{id}");
    let action = format!("{back}/retry");
    refused_retry(
        state,
        session,
        &campaign,
        Some(&parked),
        &action,
        vec![],
        &back,
    )
    .await
}
