//! A conversion's page (the postback as received, the decision, each platform's delivery with
//! its payload and attempts) and the retries, through the same code as the admin API's retry
//! routes.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde_json::Value;

use super::filter::with_query;
use super::list::test_badge;
use crate::domain::PlatformKind;
use crate::ingest::retry::{check_retryable, EventCheck};
use crate::state::AppState;
use crate::storage::conversions;
use crate::storage::conversions::Delivery;
use crate::storage::import_lines;
use crate::ui::days::{when, zone_label};
use crate::ui::session::Session;
use crate::ui::{html_response, layout, UiError};

/// Fields each platform takes unhashed, under its payload's user object: raw personal data
/// and identifiers, never shown on a page (Meta's `user_data`, TikTok's `user`).
const UNHASHED: &[(&str, &[&str])] = &[
    (
        "user_data",
        &["client_ip_address", "client_user_agent", "fbc", "fbp"],
    ),
    ("user", &["ip", "user_agent", "ttclid", "ttp"]),
];

/// The payload as the page shows it: as stored, with each unhashed personal field as "set".
pub fn shown_payload(payload: &Value) -> Value {
    let mut shown = payload.clone();
    for (object, fields) in UNHASHED {
        if let Some(user) = shown.get_mut(*object).and_then(Value::as_object_mut) {
            for field in *fields {
                if let Some(v) = user.get_mut(*field) {
                    *v = Value::String("(set, not shown)".to_owned());
                }
            }
        }
    }
    shown
}

/// What the page says about the fields it hides in a platform's payload.
fn hidden_fields(platform: PlatformKind) -> &'static str {
    match platform {
        PlatformKind::Meta => "IP address, user agent, fbc, fbp",
        PlatformKind::TikTok => "IP address, user agent, ttclid, _ttp",
    }
}

/// The payout parameter as the tracker sent it, under the name its dialect reads first
/// (generic and imports: `value`, then `payout`), so a user can check how it was read.
fn raw_payout<'a>(tracker: &str, params: Option<&'a Value>) -> Option<(&'static str, &'a str)> {
    let names: &[&'static str] = match tracker {
        "generic" => &["value", "payout"],
        "redtrack" => &["sum"],
        _ => &["payout", "revenue"],
    };
    let params = params?.as_object()?;
    names
        .iter()
        .find_map(|n| Some((*n, params.get(*n)?.as_str()?)).filter(|(_, v)| !v.trim().is_empty()))
}

/// "set" or "—": identifiers and digests are never shown raw.
fn set(yes: bool) -> &'static str {
    if yes {
        "set"
    } else {
        "—"
    }
}

/// One platform's event: its state, why, its payload and its attempts.
fn delivery_card(d: &Delivery, zone: chrono_tz::Tz) -> Markup {
    let platform = d.platform.as_str();
    html! {
        section.card.delivery id={ "delivery-" (platform) } {
            h2 { (d.platform.name()) " delivery" }
            dl.facts {
                dt { "State" } dd { span class={ "state state-" (d.state.as_str()) } { (d.state.as_str()) } }
                @if let Some(code) = &d.test_event_code {
                    dt { "Test Events" } dd.test-mode {
                        (test_badge(d.platform)) " sent with test event code " code { (code) }
                        ": it shows in " (d.platform.name()) "'s Test Events and is not used for optimisation."
                    }
                }
                dt { "Event" } dd { (d.event_name) }
                dt { "Event id" } dd { code { (d.event_id) } }
                @if let Some(class) = d.failure_class { dt { "Failure class" } dd { (class.as_str()) } }
                @if let Some(err) = &d.last_error { dt { "Reason" } dd { (err) } }
                dt { "Attempts" } dd { (d.attempts) }
                @if let Some(t) = &d.next_attempt_at { dt { (zone_label("Next attempt", zone)) } dd { (when(t, zone)) } }
                @if let Some(t) = &d.sent_at { dt { (zone_label("Sent", zone)) } dd { (when(t, zone)) } }
            }
            h3 { "Payload for " (d.platform.name()) }
            @match &d.payload {
                Some(serde_json::Value::Null) => {
                    p { "Not built: " (d.platform.name()) " needs data this conversion lacks (see the reason above). Add it (a landing URL, a user agent), then Retry." }
                }
                Some(p) => {
                    p.muted { "The event as sent (or to be sent). Fields " (d.platform.name()) " takes unhashed (" (hidden_fields(d.platform)) ") are not shown." }
                    pre.payload { (serde_json::to_string_pretty(&shown_payload(p)).unwrap_or_default()) }
                }
                None => { p { "No payload: its data was erased." } }
            }
            h3 { "Delivery attempts" }
            table.attempts.list id={ "attempts-" (platform) } {
                thead { tr {
                    th { (zone_label("Time", zone)) } th { "Outcome" } th { "HTTP" } th { "Code" }
                    th { "Subcode" } th { "Message" } th { "Trace id" } th { "Test code" }
                } }
                tbody {
                    @for a in &d.attempts_log {
                        tr {
                            td.c-time data-label=(zone_label("Time", zone)) { (when(&a.attempted_at, zone)) }
                            td.c-state data-label="Outcome" { (a.outcome.as_str()) }
                            td.num data-label="HTTP" { (opt(a.http_status)) }
                            td.num data-label="Code" { (opt(a.error_code)) }
                            td.num data-label="Subcode" { (opt(a.error_subcode)) }
                            td.message data-label="Message" { (a.message.as_deref().unwrap_or("")) }
                            td data-label="Trace id" { @if let Some(t) = &a.fbtrace_id { code { (t) } } }
                            td.test-code data-label="Test code" { @if let Some(t) = &a.test_event_code { code { (t) } } @else { "—" } }
                        }
                    }
                    @if d.attempts_log.is_empty() { tr { td colspan="8" { "No attempts yet." } } }
                }
            }
        }
    }
}

/// Whether `platform` got an event for this conversion: a platform the campaign does not use,
/// or one its send_when kept this conversion from, has no rows on the page.
fn got_event(deliveries: &[Delivery], platform: PlatformKind) -> bool {
    deliveries.iter().any(|d| d.platform == platform)
}

/// "Meta", "TikTok", "Meta and TikTok": the platforms that got an event.
fn platform_names(deliveries: &[Delivery]) -> String {
    let names: Vec<&str> = deliveries.iter().map(|d| d.platform.name()).collect();
    if names.is_empty() {
        "no platform".to_owned()
    } else {
        names.join(" and ")
    }
}

pub(super) fn parse_id(raw: &str) -> Result<i64, UiError> {
    crate::storage::row_id(raw)
        .ok_or_else(|| UiError::NotFound(format!("There is no conversion {raw:?}.")))
}

/// A signed-in page with another status than 200 (a refused retry).
pub(super) fn page_with(
    session: &Session,
    status: StatusCode,
    title: &str,
    body: Markup,
) -> HttpResponse {
    html_response(
        &mut HttpResponse::build(status),
        layout(title, Some(&session.csrf_token), body),
    )
}

pub async fn show(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, UiError> {
    let id = parse_id(&id)?;
    let conv = conversions::view(&state.pool, id)
        .await?
        .ok_or_else(|| UiError::NotFound(format!("There is no conversion {id}.")))?;
    let deliveries = conversions::deliveries(&state.pool, id).await?;
    let import = import_lines::import_of_conversion(&state.pool, id).await?;
    let retried = req.query_string().split('&').any(|p| p == "retried=1");
    let events: Vec<EventCheck> = deliveries
        .iter()
        .map(|d| EventCheck {
            state: d.state,
            failure_class: d.failure_class,
            payload_kept: d.payload.is_some(),
        })
        .collect();
    let refusal = check_retryable(conv.state.as_str(), &events).and_then(|r| r.refusal());
    let title = format!("Conversion {id}");
    let body = html! {
        @if retried {
            p.notice role="status" { "Retried: the failed events are queued again." }
        }
        section.card {
            h2 { "Postback as received" }
            dl.facts {
                dt { (zone_label("Received", state.ui.zone)) } dd { (when(&conv.received_at, state.ui.zone)) }
                dt { "Tracker" } dd { (conv.tracker) }
                dt { "Click id" } dd {
                    a href=(click_link(&conv.click_id, conv.campaign.as_deref())) {
                        code { (conv.click_id) }
                    }
                }
                dt { "Campaign" } dd { (conv.campaign.as_deref().unwrap_or("—")) }
                @if conv.click_ambiguous {
                    dt { "Ambiguous click" } dd #ambiguous-click {
                        "The postback named no campaign and several campaigns have a click with this id: it joined the most recently registered one, which may be the wrong one. Add &campaign=<key> to the postback URL."
                    }
                }
                dt { "Status" } dd { (conv.raw_status) " → " (conv.status) }
                dt { "Transaction id" } dd { @if conv.txid.is_empty() { "—" } @else { code { (conv.txid) } } }
                dt { (zone_label("Event time", state.ui.zone)) } dd { (when(&conv.event_time, state.ui.zone)) }
                @if let Some(import) = &import {
                    dt { "Imported" } dd #imported-from {
                        a href={ "/ui/imports/" (import.id) } { "Import " (import.id) }
                        " · " (crate::ui::import_rows::file_name(import.file_name.as_deref()))
                    }
                }
                @if got_event(&deliveries, PlatformKind::TikTok) {
                    dt { "ttclid" } dd { (set(conv.ttclid_set)) }
                    dt { "TikTok phone digest" } dd { (set(conv.tiktok_ph_set)) }
                    dt { "TikTok external_id digest" } dd { (set(conv.tiktok_external_id_set)) }
                }
            }
            h2 { "Parameters" }
            p.muted { "As the tracker sent them, without the key and personal data." }
            @match conv.params.as_ref().and_then(Value::as_object) {
                Some(params) if !params.is_empty() => {
                    table #params {
                        thead { tr { th { "Name" } th { "Value" } } }
                        tbody {
                            @for (name, value) in params {
                                tr {
                                    td { code { (name) } }
                                    td { code { (value.as_str().map_or_else(|| value.to_string(), str::to_owned)) } }
                                }
                            }
                        }
                    }
                }
                _ => { p { "None kept." } }
            }
        }
        (super::super::dropped::dropped_card(conv.dropped.as_ref().map_or(&[][..], |d| &d.0)))
        section.card {
            h2 { "Decision" }
            dl.facts {
                dt { "State" } dd { span class={ "state state-" (conv.state.as_str()) } { (conv.state.as_str()) } }
                @if let Some(reason) = &conv.reason { dt { "Reason" } dd { (reason) } }
                @if let Some(err) = conv.last_error.as_ref().filter(|e| Some(*e) != conv.reason.as_ref()) {
                    dt { "Last error" } dd {
                        @if let Some(platform) = conv.last_error_platform { (platform.name()) ": " }
                        (err)
                    }
                }
                dt { "Event" } dd { (conv.event_name.as_deref().unwrap_or("—")) }
                @if let Some(v) = conv.value {
                    dt { "Value" } dd #value { (v) " " (conv.currency.as_deref().unwrap_or("")) }
                }
                @if let Some((name, raw)) = raw_payout(&conv.tracker, conv.params.as_ref()) {
                    dt { "Payout as received" } dd #raw-payout { code { (name) "=" (raw) } }
                }
                @if conv.no_payout {
                    dt { "No payout" } dd #no-payout {
                        "This purchase's postback carried no payout, and the campaign's value_source is payout: " (platform_names(&deliveries)) " got value 0. Add the tracker's payout macro to the postback URL, or set a fixed value_source for a fixed-payout offer."
                    }
                }
                dt { "Platforms" } dd {
                    @if deliveries.is_empty() { "— (no event)" }
                    @for (i, d) in deliveries.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href={ "#delivery-" (d.platform.as_str()) } { (d.platform.name()) }
                        " " span class={ "state state-" (d.state.as_str()) } { (d.state.as_str()) }
                        @if d.test_event_code.is_some() { " " (test_badge(d.platform)) }
                    }
                }
                // Platforms the campaign's send_when kept this conversion from: no event.
                @for skip in conv.skipped.as_ref().map_or(&[][..], |s| &s.0) {
                    dt { "Skipped: " (skip.platform.name()) }
                    dd id={ "skipped-" (skip.platform.as_str()) } { (skip.reason) }
                }
            }
            @match &refusal {
                None => {
                    form.inline method="post" action={ "/ui/conversions/" (id) "/retry" } {
                        input type="hidden" name="csrf" value=(session.csrf_token);
                        button type="submit" { "Retry" }
                    }
                }
                Some(why) => { p.muted { "Retry is not available: " (why) "." } }
            }
        }
        @for d in &deliveries { (delivery_card(d, state.ui.zone)) }
        p { a href="/ui/conversions" { "All conversions" } }
    };
    Ok(crate::ui::page(&session, &title, body))
}

fn opt(n: Option<i32>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

/// The click's dashboard page: its campaign's, as one click id may be on several campaigns.
fn click_link(click_id: &str, campaign: Option<&str>) -> String {
    let mut pairs = vec![("click_id", click_id.to_owned())];
    pairs.extend(campaign.map(|k| ("campaign", k.to_owned())));
    with_query("/ui/clicks", &pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_raw_payout_is_read_under_the_dialects_names() {
        let p = json!({"subid": "a", "revenue": "1,500", "status": "sale"});
        assert_eq!(raw_payout("keitaro", Some(&p)), Some(("revenue", "1,500")));
        let p = json!({"payout": "5", "revenue": "7"});
        assert_eq!(raw_payout("keitaro", Some(&p)), Some(("payout", "5")));
        let p = json!({"value": "", "payout": "$40"});
        assert_eq!(raw_payout("generic", Some(&p)), Some(("payout", "$40")));
        assert_eq!(
            raw_payout("redtrack", Some(&json!({"sum": "3"}))),
            Some(("sum", "3"))
        );
        assert_eq!(raw_payout("bemob", Some(&json!({"cid": "x"}))), None);
        assert_eq!(raw_payout("bemob", None), None);
    }

    #[test]
    fn unhashed_personal_fields_are_not_shown() {
        let set = "(set, not shown)";
        let cases = [
            (
                json!({"event_name": "Lead", "user_data": {
                    "em": ["a1b2"], "client_ip_address": "203.0.113.9",
                    "client_user_agent": "Mozilla/5.0", "fbc": "fb.1.1.abc", "fbp": "fb.1.2.3"}}),
                json!({"event_name": "Lead", "user_data": {
                    "em": ["a1b2"], "client_ip_address": set,
                    "client_user_agent": set, "fbc": set, "fbp": set}}),
            ),
            (
                json!({"user_data": {"external_id": ["h"]}}),
                json!({"user_data": {"external_id": ["h"]}}),
            ),
            (
                json!({"event_name": "Purchase"}),
                json!({"event_name": "Purchase"}),
            ),
            (json!(null), json!(null)),
        ];
        for (stored, shown) in cases {
            assert_eq!(shown_payload(&stored), shown, "{stored}");
        }
    }
}
