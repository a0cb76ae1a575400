//! Disabling a campaign takes a confirmation page that says what stops and what goes on.

use actix_web::{web, HttpResponse};
use maud::html;

use super::page::platforms;
use super::{campaign_url, find, State};
use crate::domain::Campaign;
use crate::ui::confirm::Confirm;
use crate::ui::session::Session;
use crate::ui::{see_other, UiError};

/// `GET /ui/campaigns/{key}/disable`: what disabling stops and what goes on, and the button.
pub async fn confirm_disable(
    state: State,
    session: Session,
    key: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let campaign = find(&state, &key).await?;
    let url = campaign_url(campaign.key.as_str());
    if !campaign.enabled {
        return Ok(see_other(&url));
    }
    let action = format!("{url}/enabled");
    Ok(disable(&campaign, &action, &url).page(&session))
}

/// Disabling a campaign, as docs/api.md says it: new clicks are refused, known clicks'
/// conversions still go out.
fn disable<'a>(campaign: &Campaign, action: &'a str, cancel: &'a str) -> Confirm<'a> {
    let key = campaign.key.as_str();
    Confirm {
        title: "Disable this campaign?",
        lead: html! { "Disable " strong { (key) } "? You can enable it again at any time." },
        stops: vec![
            html! { "New clicks: the landing tag's click registrations (" code { "POST /v1/clicks" } ") for " (key) " answer 404, so new visitors are not recorded." },
            html! { "The tag's settings (" code { "GET /v1/campaigns/" (key) "/tag-config" } ") answer 404, so the tag on the lander does nothing." },
        ],
        goes_on: vec![
            html! { "Conversions of clicks already registered still go out: postbacks for them are accepted and sent to " (platforms(campaign)) ", as docs/api.md says." },
            html! { "Events already waiting in the outbox are still sent; nothing is deleted." },
        ],
        action,
        fields: vec![("enabled", "false".to_owned())],
        button: "Disable",
        cancel,
    }
}
