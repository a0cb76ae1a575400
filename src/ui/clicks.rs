//! Clicks: look up a click by id (hashes only), erase it, through the admin API's storage.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};

use super::confirm::{confirmed, Confirm};
use super::conversions::table;
use super::days::{when, zone_label};
use super::session::Session;
use super::{html_response, layout, see_other, UiError};
use crate::domain::{CampaignKey, Click, ClickId};
use crate::http::params::parse_urlencoded;
use crate::state::AppState;
use crate::storage::clicks::{self, Lookup};
use crate::storage::conversions::{self, ListFilter};
use crate::storage::{campaigns, privacy};

/// The query or form value `name` ("" when absent or unreadable).
fn value(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map_or(String::new(), |(_, v)| v.trim().to_owned())
}

/// What an erasure removed, said in words (the notice after the redirect): a click id and
/// counts, or nothing when the query holds anything else.
fn erased_words(pairs: &[(String, String)]) -> Option<String> {
    let id = ClickId::parse(&value(pairs, "erased")).ok()?;
    let n = |name: &str| value(pairs, name).parse::<u64>().ok();
    Some(format!(
        "Erased click {}: {} click deleted, {} conversions scrubbed of personal data, {} event \
         payloads erased ({} of them not sent yet, now never sent).",
        id.as_str(),
        n("clicks")?,
        n("conversions")?,
        n("events")?,
        n("cancelled")?,
    ))
}

fn lookup_form(click_id: &str, campaign: &str) -> Markup {
    html! {
        form.card method="get" action="/ui/clicks" {
            label for="click-id" { "Click id" }
            input #click-id type="text" name="click_id" value=(click_id) required autocomplete="off";
            label for="click-campaign" { "Campaign key (when several campaigns use the id)" }
            input #click-campaign type="text" name="campaign" value=(campaign) autocomplete="off";
            button type="submit" { "Look up" }
        }
    }
}

/// "set" or "—": raw personal data and identifiers are never shown.
fn set(v: &Option<String>) -> &'static str {
    if v.is_some() {
        "set"
    } else {
        "—"
    }
}

pub async fn lookup(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, UiError> {
    let pairs = parse_urlencoded(req.query_string().as_bytes()).unwrap_or_default();
    let click_id = value(&pairs, "click_id");
    let campaign = value(&pairs, "campaign");
    let notice = erased_words(&pairs);
    let scope = Some(campaign.as_str()).filter(|k| !k.is_empty());
    let lookup = match ClickId::parse(&click_id) {
        Ok(id) => clicks::lookup(&state.pool, id.as_str(), scope).await?,
        Err(_) => Lookup::NotFound,
    };
    let (found, several) = match lookup {
        Lookup::Found(c) => (Some(*c), Vec::new()),
        Lookup::NotFound => (None, Vec::new()),
        Lookup::Ambiguous(keys) => (None, keys),
    };
    let dropped = match &found {
        Some(c) => clicks::dropped_of(&state.pool, c.id).await?.into_vec(),
        None => Vec::new(),
    };
    let convs = match &found {
        Some(c) => {
            let filter = ListFilter {
                campaign: None,
                state: None,
                tracker: None,
                click_id: Some(&c.click_id),
                since: None,
                until: None,
                before: None,
                limit: 50,
                ..ListFilter::default()
            };
            conversions::page(&state.pool, &filter).await?.items
        }
        None => Vec::new(),
    };
    let missing = !click_id.is_empty() && found.is_none() && several.is_empty();
    let body = html! {
        @if let Some(words) = &notice { p.notice role="status" { (words) } }
        (lookup_form(&click_id, &campaign))
        @if missing {
            p.error role="alert" { "No click with id " code { (click_id) } "." }
        }
        @if !several.is_empty() {
            section.card #several {
                p { "Several campaigns have a click with id " code { (click_id) } ": pick one." }
                ul {
                    // Keys and click ids are URL-safe characters only, so no encoding is needed.
                    @for key in &several {
                        li { a href={ "/ui/clicks?click_id=" (click_id) "&campaign=" (key) } { (key) } }
                    }
                }
            }
        }
        @if let Some(c) = &found {
            (click_card(c, state.ui.zone))
            (super::dropped::dropped_card(&dropped))
            section.card {
                h2 { "Its conversions" }
                (table(&convs, state.ui.zone))
            }
        }
    };
    let status = if missing {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    Ok(html_response(
        &mut HttpResponse::build(status),
        layout("Clicks", Some(&session.csrf_token), body),
    ))
}

fn click_card(c: &Click, zone: chrono_tz::Tz) -> Markup {
    let hashes: Vec<_> = c.customer.iter().collect();
    html! {
        section.card {
            h2 { "Click " code { (c.click_id) } }
            dl.facts {
                dt { "Campaign" } dd {
                    a href={ "/ui/conversions?campaign=" (c.campaign_key) } { (c.campaign_key) }
                }
                dt { (zone_label("First seen", zone)) } dd { (when(&c.first_seen_at, zone)) }
                dt { (zone_label("Updated", zone)) } dd { (when(&c.updated_at, zone)) }
                dt { "Consent" } dd { (c.consent.map_or("—", |y| if y { "given" } else { "refused" })) }
                dt { "fbclid" } dd { (set(&c.fbclid)) }
                dt { "fbc" } dd { (set(&c.fbc)) }
                dt { "fbp" } dd { (set(&c.fbp)) }
                dt { "IP address" } dd { (set(&c.client_ip_address)) }
                dt { "User agent" } dd { (set(&c.client_user_agent)) }
                dt { "Landing page" } dd { (set(&c.event_source_url)) }
                dt { "Referrer" } dd { (set(&c.referrer_url)) }
            }
            h2 { "Customer data (SHA-256)" }
            @if hashes.is_empty() {
                p { "None." }
            } @else {
                table #hashes {
                    thead { tr { th { "Field" } th { "Hash" } } }
                    tbody {
                        @for (field, hash) in &hashes {
                            tr { td { (field.name()) } td { code.hash { (hash.as_str()) } } }
                        }
                    }
                }
            }
            @if !c.event_ids.as_map().is_empty() {
                h2 { "Event ids" }
                table #event-ids {
                    thead { tr { th { "Event" } th { "Event id" } th { (zone_label("Pixel fired", zone)) } } }
                    tbody {
                        @for (event, id) in c.event_ids.as_map() {
                            tr {
                                td { (event) }
                                td { code { (id) } }
                                td { @if let Some(t) = c.pixel_fired_at.as_map().get(event) { (when(t, zone)) } }
                            }
                        }
                    }
                }
            }
            // Asks first: the confirmation page says what goes and what stays.
            form.inline method="get" action="/ui/clicks/erase" {
                input type="hidden" name="click_id" value=(c.click_id);
                input type="hidden" name="campaign" value=(c.campaign_key);
                p.muted {
                    "Erasing deletes the click, removes the personal data of its conversions and "
                    "the payloads of their events; events not sent yet are never sent."
                }
                button.danger type="submit" { "Erase this click's personal data" }
            }
        }
    }
}

/// `/ui/clicks/erase?click_id=&campaign=` (the confirmation page's address). Click ids and
/// keys that pass their parsers are URL-safe characters only, so they need no encoding.
fn erase_url(id: &str, key: &str) -> String {
    match (ClickId::parse(id), CampaignKey::parse(key)) {
        (Ok(id), Ok(key)) => format!(
            "/ui/clicks/erase?click_id={}&campaign={}",
            id.as_str(),
            key.as_str()
        ),
        (Ok(id), Err(_)) => format!("/ui/clicks/erase?click_id={}", id.as_str()),
        _ => "/ui/clicks".to_owned(),
    }
}

/// `GET /ui/clicks/erase?click_id=&campaign=`: what erasing the click removes and keeps, and
/// the button that does it.
pub async fn confirm_erase(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, UiError> {
    let pairs = parse_urlencoded(req.query_string().as_bytes()).unwrap_or_default();
    let raw = value(&pairs, "click_id");
    let key = value(&pairs, "campaign");
    let scope = Some(key.as_str()).filter(|k| !k.is_empty());
    let click = match ClickId::parse(&raw) {
        Ok(id) => clicks::lookup(&state.pool, id.as_str(), scope).await?,
        Err(_) => Lookup::NotFound,
    };
    let Lookup::Found(click) = click else {
        return Err(UiError::NotFound(format!(
            "There is no click with id {raw:?}."
        )));
    };
    let back = format!(
        "/ui/clicks?click_id={}&campaign={}",
        click.click_id, click.campaign_key
    );
    let confirm = Confirm {
        title: "Erase this click's personal data?",
        lead: html! {
            "Erase click " code { (click.click_id) } " of " strong { (click.campaign_key) } "? This cannot be undone."
        },
        stops: vec![
            html! { "The click is deleted, with its hashes, address and user agent." },
            html! { "Its conversions lose their personal data, and their events' payloads are erased." },
            html! { "Events of its conversions not sent yet are never sent." },
        ],
        goes_on: vec![
            html! { "The conversions stay listed (state, time, payout) for your reports." },
            html! { "What Meta or TikTok already received stays with them: erase it there too if asked to." },
        ],
        action: "/ui/clicks/erase",
        fields: vec![
            ("click_id", click.click_id.clone()),
            ("campaign", click.campaign_key.clone()),
        ],
        button: "Erase",
        cancel: &back,
    };
    Ok(confirm.page(&session))
}

#[derive(serde::Deserialize)]
pub struct EraseForm {
    #[serde(default)]
    click_id: String,
    #[serde(default)]
    campaign: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /ui/clicks/erase` (`click_id`, `campaign`, `confirm=yes`): the erasure of
/// `DELETE /admin/v1/clicks/{click_id}?campaign=`.
pub async fn erase(
    form: web::Form<EraseForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let (raw, key) = (form.click_id.trim(), form.campaign.trim());
    if !confirmed(&form.confirm) {
        return Ok(see_other(&erase_url(raw, key)));
    }
    let not_found = || UiError::NotFound(format!("There is no click with id {raw:?}."));
    let id = ClickId::parse(raw).map_err(|_| not_found())?;
    let campaign = match key {
        "" => None,
        key => Some(
            campaigns::find_by_key(&state.pool, key)
                .await?
                .ok_or_else(not_found)?
                .id,
        ),
    };
    let erased = privacy::erase_click(&state.pool, id.as_str(), campaign).await?;
    if erased.is_nothing() {
        return Err(not_found());
    }
    tracing::info!(
        click_id = id.as_str(),
        ?erased,
        "click erased from the dashboard"
    );
    // Click ids are URL-safe characters only (ClickId::parse), so the query needs no encoding.
    Ok(see_other(&format!(
        "/ui/clicks?erased={}&clicks={}&conversions={}&events={}&cancelled={}",
        id.as_str(),
        erased.clicks_deleted,
        erased.conversions_scrubbed,
        erased.events_erased,
        erased.events_cancelled
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notice_says_what_was_erased() {
        let pairs = |q: &str| parse_urlencoded(q.as_bytes()).unwrap();
        let cases = [
            ("", None),
            ("click_id=x", None),
            (
                "erased=clk-1&clicks=1&conversions=2&events=2&cancelled=1",
                Some("Erased click clk-1: 1 click deleted, 2 conversions scrubbed of personal data, 2 event payloads erased (1 of them not sent yet, now never sent)."),
            ),
            ("erased=clk-2&clicks=nonsense", None),
            ("erased=a%20b&clicks=1&conversions=0&events=0&cancelled=0", None),
        ];
        for (query, want) in cases {
            assert_eq!(erased_words(&pairs(query)).as_deref(), want, "{query}");
        }
    }
}
