//! The "are you sure" step of the dashboard's destructive actions (disable, erase, a retry that
//! would be refused again): a server-rendered page that says what happens and what does not,
//! with a form that posts the action again, confirmed. Works without script.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use maud::{html, Markup};

use super::days::when;
use super::session::Session;
use super::UiError;
use super::{html_response, layout};
use crate::domain::Campaign;
use crate::domain::PlatformKind;
use crate::state::AppState;
use crate::storage::refused_tokens::{self, RefusedToken};

/// The form field that says the person saw the confirmation page.
pub const CONFIRMED: &str = "confirm";

/// Whether a submitted form's [`CONFIRMED`] field carries the confirmation.
pub fn confirmed(value: &str) -> bool {
    value == "yes"
}

/// A destructive action's form with nothing but the confirmation (the guard reads `csrf`).
#[derive(serde::Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    pub confirm: String,
}

pub struct Confirm<'a> {
    pub title: &'a str,
    /// What is about to happen (or why the page warns), first.
    pub lead: Markup,
    /// What stops or is lost.
    pub stops: Vec<Markup>,
    /// What goes on as before.
    pub goes_on: Vec<Markup>,
    /// Where the confirmed form posts, and its fields besides the CSRF token.
    pub action: &'a str,
    pub fields: Vec<(&'a str, String)>,
    pub button: &'a str,
    /// Where "Cancel" leads: back to where the action was started.
    pub cancel: &'a str,
}

impl Confirm<'_> {
    /// The page, as a 200: nothing has been done yet.
    pub fn page(&self, session: &Session) -> HttpResponse {
        let body = html! {
            section.card.confirm #confirm {
                p.lead { (self.lead) }
                @if !self.stops.is_empty() {
                    h2 { "What stops" }
                    ul #confirm-stops { @for s in &self.stops { li { (s) } } }
                }
                @if !self.goes_on.is_empty() {
                    h2 { "What goes on" }
                    ul #confirm-goes-on { @for g in &self.goes_on { li { (g) } } }
                }
                form.inline method="post" action=(self.action) {
                    input type="hidden" name="csrf" value=(session.csrf_token);
                    input type="hidden" name=(CONFIRMED) value="yes";
                    @for (name, value) in &self.fields {
                        input type="hidden" name=(name) value=(value);
                    }
                    button.danger type="submit" { (self.button) }
                    a #confirm-cancel href=(self.cancel) { "Cancel" }
                }
            }
        };
        html_response(
            &mut HttpResponse::build(StatusCode::OK),
            layout(self.title, Some(&session.csrf_token), body),
        )
    }
}

/// A retry while a platform still refuses the campaign's stored token: it would be refused
/// again, so the page says so and offers the fix before the retry.
pub fn retry_warning<'a>(
    campaign: &Campaign,
    refused: &[RefusedToken],
    zone: chrono_tz::Tz,
    action: &'a str,
    fields: Vec<(&'a str, String)>,
    cancel: &'a str,
) -> Confirm<'a> {
    let key = campaign.key.as_str();
    Confirm {
        title: "Retry with a refused token?",
        lead: html! {
            @for r in refused {
                span.refused-token data-platform=(r.platform.as_str()) {
                    (r.platform.name()) " refused " strong { (key) } "'s access token"
                    @if let Some(code) = r.error_code { " (code " (code) ")" }
                    " at " (when(&r.refused_at, zone)) " " (zone.name()) ", and the token has not changed since; "
                    (r.parked) (if r.parked == 1 { " event waits" } else { " events wait" }) " for a new one."
                    @if let Some(m) = &r.message { " " (r.platform.name()) " said: " em { (m) } }
                }
                " "
            }
        },
        stops: vec![html! {
            "A retry now sends with the same token, so it will be refused again. Save a new token instead ("
            a href=(format!("/ui/campaigns/{key}/edit")) { "Edit" }
            "): that re-queues the parked events by itself."
        }],
        goes_on: vec![],
        action,
        fields,
        button: "Retry anyway",
        cancel,
    }
}

/// The warning page when a platform (of `only`, if given) refuses `campaign`'s stored token.
pub async fn refused_retry(
    state: &AppState,
    session: &Session,
    campaign: &Campaign,
    only: Option<&[PlatformKind]>,
    action: &str,
    fields: Vec<(&str, String)>,
    back: &str,
) -> Result<Option<HttpResponse>, UiError> {
    let mut refused = refused_tokens::of_campaign(&state.pool, campaign.id).await?;
    if let Some(only) = only {
        refused.retain(|r| only.contains(&r.platform));
    }
    if refused.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        retry_warning(campaign, &refused, state.ui.zone, action, fields, back).page(session),
    ))
}
