//! Campaigns: list, create, edit, and a campaign's page (postback URLs, landing tag, quality,
//! test event, recent conversions). Thin handlers over [`CampaignService`] and the admin API's
//! shared functions.

pub(super) mod disable;
mod form;
pub(super) mod meta_quality;
mod page;
mod stats;

use actix_web::http::StatusCode;
use actix_web::web;
use actix_web::{HttpRequest, HttpResponse};
use chrono::Utc;
use maud::html;

use self::form::{FormError, FormValues, Mode};
use self::page::{Notice, TestEvent, Verdict};
use super::confirm::{confirmed, refused_retry, ConfirmForm};
use super::health::banners;
use super::session::Session;
use super::{html_response, layout, page as signed_in_page, see_other, UiError};
use crate::campaigns::test_event;
use crate::campaigns::{service, CampaignError, CampaignInput};
use crate::domain::{Campaign, CampaignKey, EventName};
use crate::health;
use crate::state::AppState;
use crate::storage::{campaign_stats, money};
use crate::ui::days::Range;

type State = web::Data<AppState>;

/// The campaign named in the path; a key that cannot be one is the same 404 as an unknown one.
async fn find(state: &AppState, raw: &str) -> Result<Campaign, UiError> {
    let not_found = || UiError::NotFound(format!("There is no campaign with key \"{raw}\"."));
    if CampaignKey::parse(raw).is_err() {
        return Err(not_found());
    }
    match service(state).get(raw).await {
        Ok(c) => Ok(c),
        Err(CampaignError::NotFound(_)) => Err(not_found()),
        Err(CampaignError::Storage(e)) => Err(e.into()),
        Err(e) => Err(UiError::NotFound(e.to_string())),
    }
}

/// The campaign form's fields in order (its event map repeats names), already past the guard.
pub(super) type Fields = web::Form<Vec<(String, String)>>;

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn campaign_url(key: &str) -> String {
    format!("/ui/campaigns/{key}")
}

pub(super) async fn list(state: State, session: Session) -> Result<HttpResponse, UiError> {
    let campaigns = service(&state).list().await.map_err(storage)?;
    let now = Utc::now();
    let problems = health::problems(&state.pool, &state.health, now).await?;
    // Calendar days of UI_TIME_ZONE, as on every page; value sent by the money totals' rule.
    let zone = state.ui.zone;
    let (today, until) = Range::Today.bounds(now, zone);
    let week = Range::Last7.bounds(now, zone).0;
    let numbers = campaign_stats::read(&state.pool, today, week).await?;
    let value_sent = money::sent_value(&state.pool, week, until, None, zone.name()).await?;
    let troubled = |key: &str| {
        problems
            .iter()
            .any(|p| p.campaign.as_ref().is_some_and(|c| c.key == key))
    };
    let body = html! {
        (banners(&problems))
        p { a.button href="/ui/campaigns/new" { "New campaign" } }
        @if campaigns.is_empty() {
            p.notice { "No campaigns yet. Create one to get its postback URLs." }
        } @else {
            section.card {
                table.list #campaigns {
                    thead { tr {
                        th { "Key" } th { "Name" } th { "Meta pixel" } th { "TikTok pixel" }
                        th { "State" } (stats::head()) th { "Access tokens" } th { "Test events" }
                    } }
                    tbody {
                        @for c in &campaigns {
                            tr {
                                td.c-event data-label="Key" { a href=(campaign_url(c.key.as_str())) { (c.key.as_str()) } }
                                td data-label="Name" { @if c.name != c.key.as_str() { (c.name) } }
                                td.pixel-id data-label="Meta pixel" { (c.meta.as_ref().map_or("—", |m| m.pixel_id.as_str())) }
                                td.pixel-id data-label="TikTok pixel" { (c.tiktok.as_ref().map_or("—", |t| t.pixel_code.as_str())) }
                                td.c-state data-label="State" {
                                    @if c.enabled { span.badge.ok { "enabled" } } @else { span.badge { "disabled" } }
                                    @if troubled(c.key.as_str()) { " " span.badge.bad { "needs attention" } }
                                }
                                (stats::cells(&stats::Row::shape(&numbers, &value_sent, c)))
                                td data-label="Access tokens" { "Meta " (set_word(c.meta.is_some())) ", TikTok " (set_word(c.tiktok.is_some())) }
                                td data-label="Test events" {
                                    @if c.meta.is_some() && c.test_event_code.is_some() { span.badge.warn title="Meta events go to Test Events, not to optimisation" { "Meta test_event_code set" } }
                                    " "
                                    @if c.tiktok.as_ref().is_some_and(|t| t.test_event_code.is_some()) { span.badge.warn title="TikTok events go to Test Events, not to optimisation" { "TikTok test_event_code set" } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(signed_in_page(&session, "Campaigns", body))
}

/// A token is stored exactly when its platform is set up; it is never shown.
fn set_word(set: bool) -> &'static str {
    if set {
        "set"
    } else {
        "not set"
    }
}

/// The service's storage failure as the dashboard's; other refusals cannot come from reads.
fn storage(e: CampaignError) -> UiError {
    match e {
        CampaignError::Storage(db) => UiError::Database(db),
        other => UiError::NotFound(other.to_string()),
    }
}

fn form_page(
    session: &Session,
    status: StatusCode,
    title: &str,
    values: &FormValues,
    mode: Mode<'_>,
    error: Option<&FormError>,
) -> HttpResponse {
    let action = match mode {
        Mode::Create => "/ui/campaigns".to_owned(),
        Mode::Edit { key, .. } => format!("/ui/campaigns/{key}/edit"),
    };
    let body = form::render(values, mode, error, &session.csrf_token, &action);
    html_response(
        &mut HttpResponse::build(status),
        layout(title, Some(&session.csrf_token), body),
    )
}

pub(super) async fn new_form(session: Session) -> Result<HttpResponse, UiError> {
    let values = FormValues::new_campaign();
    Ok(form_page(
        &session,
        StatusCode::OK,
        "New campaign",
        &values,
        Mode::Create,
        None,
    ))
}

pub(super) async fn create(
    state: State,
    session: Session,
    pairs: Fields,
) -> Result<HttpResponse, UiError> {
    let values = FormValues::from_pairs(&pairs);
    let refused = |status, e: FormError| {
        form_page(
            &session,
            status,
            "New campaign",
            &values,
            Mode::Create,
            Some(&e),
        )
    };
    let tokens = (
        field(&pairs, "access_token"),
        field(&pairs, "tiktok_access_token"),
    );
    let input = match values.to_input(tokens.0, tokens.1, Mode::Create) {
        Ok(i) => i,
        Err(e) => return Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, e)),
    };
    match service(&state).create(input).await {
        Ok(c) => Ok(see_other(&campaign_url(c.key.as_str()))),
        Err(CampaignError::Storage(db)) => Err(db.into()),
        Err(e) => {
            let status = match e {
                CampaignError::Exists => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            Ok(refused(status, FormError::from_campaign(&e)))
        }
    }
}

pub(super) async fn edit_form(
    state: State,
    session: Session,
    key: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let campaign = find(&state, &key).await?;
    let mode = Mode::edit(&campaign);
    let title = format!("Edit {}", campaign.key.as_str());
    let values = FormValues::from_campaign(&campaign);
    Ok(form_page(
        &session,
        StatusCode::OK,
        &title,
        &values,
        mode,
        None,
    ))
}

pub(super) async fn update(
    state: State,
    session: Session,
    key: web::Path<String>,
    pairs: Fields,
) -> Result<HttpResponse, UiError> {
    let campaign = find(&state, &key).await?;
    let key = campaign.key.as_str();
    let mode = Mode::edit(&campaign);
    let title = format!("Edit {key}");
    let values = FormValues::from_pairs(&pairs);
    let refused = |e: FormError| {
        form_page(
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            &title,
            &values,
            mode,
            Some(&e),
        )
    };
    let tokens = (
        field(&pairs, "access_token"),
        field(&pairs, "tiktok_access_token"),
    );
    let input = match values.to_input(tokens.0, tokens.1, mode) {
        Ok(i) => i,
        Err(e) => return Ok(refused(e)),
    };
    // The page then says that TikTok's pending events were cancelled with it.
    let removing_tiktok = matches!(input.tiktok, Some(None));
    match service(&state).update_counted(key, input).await {
        Ok(done) => {
            let word = if removing_tiktok {
                "tiktok_removed"
            } else {
                "saved"
            };
            // A new token or pixel says how many parked events it re-queued, even none.
            let parked = match done.credentials_changed {
                true => format!("&parked={}", done.requeued),
                false => String::new(),
            };
            Ok(see_other(&format!(
                "{}?done={word}{parked}",
                campaign_url(key)
            )))
        }
        Err(CampaignError::Storage(db)) => Err(db.into()),
        Err(e @ CampaignError::NotFound(_)) => Err(UiError::NotFound(e.to_string())),
        Err(e) => Ok(refused(FormError::from_campaign(&e))),
    }
}

pub(super) async fn show(
    req: HttpRequest,
    state: State,
    session: Session,
    key: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let campaign = find(&state, &key).await?;
    let notice = Notice::from_query(req.query_string());
    page::render(
        &req,
        &state,
        &session,
        &campaign,
        notice,
        None,
        StatusCode::OK,
    )
    .await
}

#[derive(serde::Deserialize)]
pub(super) struct EnabledForm {
    #[serde(default)]
    enabled: String,
    #[serde(default)]
    confirm: String,
}

pub(super) async fn set_enabled(
    state: State,
    key: web::Path<String>,
    form: web::Form<EnabledForm>,
) -> Result<HttpResponse, UiError> {
    let campaign = find(&state, &key).await?;
    let enabled = form.enabled == "true";
    if !enabled && campaign.enabled && !confirmed(&form.confirm) {
        return Ok(see_other(&format!(
            "{}/disable",
            campaign_url(campaign.key.as_str())
        )));
    }
    let input = CampaignInput {
        enabled: Some(enabled),
        ..CampaignInput::default()
    };
    service(&state)
        .update(campaign.key.as_str(), input)
        .await
        .map_err(storage)?;
    let word = if enabled { "enabled" } else { "disabled" };
    Ok(see_other(&format!(
        "{}?done={word}",
        campaign_url(campaign.key.as_str())
    )))
}

pub(super) async fn retry_failed(
    state: State,
    session: Session,
    key: web::Path<String>,
    form: web::Form<ConfirmForm>,
) -> Result<HttpResponse, UiError> {
    let campaign = find(&state, &key).await?;
    if !confirmed(&form.confirm) {
        let url = campaign_url(campaign.key.as_str());
        let action = format!("{url}/retry-failed");
        let warning = refused_retry(&state, &session, &campaign, None, &action, vec![], &url);
        if let Some(warning) = warning.await? {
            return Ok(warning);
        }
    }
    let done = crate::ingest::retry::retry_campaign(
        &state.pool,
        &state.campaigns,
        &state.delivery_signal,
        campaign.id,
    )
    .await?;
    // Counts only: nothing secret travels in the URL.
    Ok(see_other(&format!(
        "{}?requeued={}&still_failed={}&more={}",
        campaign_url(campaign.key.as_str()),
        done.requeued,
        done.still_failed,
        u8::from(done.more)
    )))
}

/// Sends the synthetic event and shows the campaign page with Meta's verdict (rendered, not
/// redirected: the verdict is for this click only and never lands in a URL).
#[derive(serde::Deserialize)]
pub(super) struct TestEventForm {
    #[serde(default)]
    event_name: String,
}

pub(super) async fn send_test_event(
    req: HttpRequest,
    state: State,
    session: Session,
    key: web::Path<String>,
    form: web::Form<TestEventForm>,
) -> Result<HttpResponse, UiError> {
    let campaign = find(&state, &key).await?;
    let name = match form.event_name.as_str() {
        "" => "Lead",
        n => n,
    };
    let chosen = name.to_owned();
    let (verdict, status) = match EventName::parse(name) {
        Err(e) => (
            Verdict::NotSent(format!("event name {name:?} {e}")),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Ok(_) if campaign.meta.is_none() => (
            Verdict::NotSent(
                "This campaign does not send to Meta: the test event is Meta's (TikTok's test \
                 events: set the TikTok test event code with Edit)."
                    .to_owned(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Ok(_) if campaign.test_event_code.is_none() => (
            Verdict::NotSent(
                "This campaign has no test event code: copy it from Events Manager > Test events \
                 and set it with Edit, then send the test event."
                    .to_owned(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Ok(event_name) => {
            let visitor = test_event::visitor(&req, &state);
            match test_event::run(&state, &campaign, &event_name, visitor).await {
                Ok(sent) => (Verdict::from_result(sent.result), StatusCode::OK),
                Err(e) => (
                    Verdict::NotSent(e.to_string()),
                    StatusCode::UNPROCESSABLE_ENTITY,
                ),
            }
        }
    };
    let test = TestEvent { verdict, chosen };
    page::render(&req, &state, &session, &campaign, None, Some(test), status).await
}
