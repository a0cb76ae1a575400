//! A campaign's page: what to paste into the tracker and the lander, the match-quality report,
//! the test-event button with Meta's verdict, and the latest conversions.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use chrono::Utc;
use maud::{html, Markup};
use secrecy::ExposeSecret;

use super::super::guide::{lead_form_snippet, LANDING_GUIDE_URL};
use super::super::health::banners;
use super::super::session::Session;
use super::super::{html_response, layout, UiError};
use crate::domain::{Campaign, EventMap};
use crate::health;
use crate::quality::{match_keys, PlatformQuality, QualityReport};
use crate::quality::{report_for, DEFAULT_DAYS};
use crate::state::AppState;
use crate::storage::conversions::{self, ListFilter};
use crate::trackers::{POSTBACK_URLS, SAMPLE_CLICK_ID};

/// How many conversions the page lists; the conversions page has the rest.
const RECENT: i64 = 20;

mod base;
mod notice;

pub use notice::{Notice, TestEvent, Verdict};

fn copy_field(id: &str, label: &str, value: &str) -> Markup {
    html! {
        div.copyrow {
            label for=(id) { (label) }
            div.copybox {
                input id=(id) type="text" readonly value=(value);
                button type="button" data-copy=(id) { "Copy" }
            }
            (copy_status())
        }
    }
}

/// Where app.js says whether the copy worked (announced by screen readers); empty until then.
fn copy_status() -> Markup {
    html! { p.copy-status role="status" aria-live="polite" {} }
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

fn quality_table(report: &QualityReport) -> Markup {
    html! {
        @if report.platforms.iter().all(|p| p.events.is_empty()) {
            p.muted { "No events in the last " (report.days) " days." }
        }
        @for p in report.platforms.iter().filter(|p| !p.events.is_empty()) {
            (platform_quality(p))
        }
    }
}

/// One platform's part of the report, on that platform's match keys.
fn platform_quality(p: &PlatformQuality) -> Markup {
    let name = p.platform.name();
    html! {
        h3 { (name) }
        table id={ "quality-" (p.platform.as_str()) } {
            thead { tr {
                th { "Event" } th.num { "Sent" } th.num { "Pending" } th.num { "Failed" }
                th.num { "Expired" } th.num { "Event id registered" } th.num { "Pixel fired with this id" }
            } }
            tbody {
                @for e in &p.events {
                    tr.group {
                        th scope="row" { (e.event_name) }
                        td.num { (e.sent) } td.num { (e.pending) } td.num { (e.failed) }
                        td.num { (e.expired) } td.num { (percent(e.event_ids.pixel.share)) }
                        td.num { (e.event_ids.pixel_fired.map_or("—".to_owned(), |f| percent(f.share))) }
                    }
                }
            }
        }
        h4 { "Share of sent " (name) " events carrying each match key" }
        table {
            thead { tr {
                th { "Key" }
                @for e in &p.events { th.num { (e.event_name) } }
            } }
            tbody {
                @for key in match_keys(p.platform) {
                    tr {
                        th scope="row" { (key) }
                        @for e in &p.events {
                            td.num { (e.keys.get(key).map_or("0%".to_owned(), |s| percent(s.share))) }
                        }
                    }
                }
            }
        }
        @for e in p.events.iter().filter(|e| !e.top_failure_reasons.is_empty()) {
            h4 { "Why " (name) " " (e.event_name) " failed" }
            ul {
                @for r in &e.top_failure_reasons {
                    li { (r.count) " × " (r.state) ": " (r.reason) }
                }
            }
        }
    }
}

/// The platforms a campaign sends to, Meta first.
pub(super) fn platforms(c: &Campaign) -> &'static str {
    match (c.meta.is_some(), c.tiktok.is_some()) {
        (true, true) => "Meta and TikTok",
        (true, false) => "Meta",
        (false, true) => "TikTok",
        (false, false) => "nowhere",
    }
}

/// The distinct events a map sends, or that it sends none.
fn mapped(map: &EventMap) -> String {
    let names: Vec<&str> = map.event_names().into_iter().map(|n| n.as_str()).collect();
    if names.is_empty() {
        "none mapped".to_owned()
    } else {
        names.join(", ")
    }
}

/// The campaign page, with the last action's notice or the test event's verdict.
pub async fn render(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    campaign: &Campaign,
    notice: Option<Notice>,
    test: Option<TestEvent>,
    status: StatusCode,
) -> Result<HttpResponse, UiError> {
    let key = campaign.key.as_str();
    let base = base::base_url(req, state);
    let base_warning = base::warning(state.ui.public_url.is_some(), base::Host::of(&base));
    let report = report_for(&state.pool, campaign, DEFAULT_DAYS).await?;
    let meta_view =
        super::meta_quality::card(state, campaign, &report, &session.csrf_token).await?;
    let recent = conversions::list(
        &state.pool,
        &ListFilter {
            campaign: Some(key),
            state: None,
            tracker: None,
            click_id: None,
            since: None,
            until: None,
            before: None,
            limit: RECENT,
            ..ListFilter::default()
        },
    )
    .await?;
    let no_payout =
        conversions::no_payout_count(&state.pool, campaign.id, DEFAULT_DAYS as i32).await?;
    let money = crate::ui::money::card(
        &state.pool,
        &format!("/ui/campaigns/{key}"),
        req.query_string(),
        Some(campaign.id),
        state.ui.zone,
        chrono::Utc::now(),
    )
    .await?;
    let tag = format!(r#"<script async src="{base}/v1/tag.js" data-campaign="{key}"></script>"#);
    let events: Vec<&str> = campaign
        .event_map
        .event_names()
        .into_iter()
        .map(|n| n.as_str())
        .collect();
    let csrf = session.csrf_token.as_str();
    // The event the last test was sent with stays chosen.
    let chosen = test.as_ref().map_or("Lead", |t| t.chosen.as_str());
    let tiktok = campaign.tiktok.as_ref();
    let problems =
        health::campaign_problems(&state.pool, &state.health, Utc::now(), campaign.id).await?;
    let body = html! {
        (banners(&problems))
        @if let Some(code) = campaign.test_event_code.as_ref().filter(|_| campaign.meta.is_some()) {
            p.banner.warn role="alert" {
                strong { "Test mode: " }
                "test_event_code " code { (code) } " is set, so every event of this campaign goes to Meta's Test Events, not to optimisation. Clear it (Edit) for production."
            }
        }
        @if let Some(code) = tiktok.and_then(|t| t.test_event_code.as_ref()) {
            p.banner.warn role="alert" {
                strong { "TikTok test mode: " }
                "TikTok test_event_code " code { (code) } " is set, so every TikTok event of this campaign goes to TikTok's Test Events, not to optimisation. Clear it (Edit) for production."
            }
        }
        @if let Some(n) = &notice { (n.render()) }
        div.actions {
            a.button href=(format!("/ui/campaigns/{key}/edit")) { "Edit" }
            @if campaign.enabled {
                // Disabling asks first: its page says what stops and what goes on.
                a.button #disable href=(format!("/ui/campaigns/{key}/disable")) { "Disable" }
            } @else {
                form method="post" action=(format!("/ui/campaigns/{key}/enabled")) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="enabled" value="true";
                    button type="submit" { "Enable" }
                }
            }
            form method="post" action=(format!("/ui/campaigns/{key}/retry-failed")) {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" { "Retry all failed" }
            }
        }
        section.card {
            h2 { "Settings" }
            dl.facts {
                dt { "State" } dd { (if campaign.enabled { "enabled" } else { "disabled" }) }
                dt { "Name" } dd { (campaign.name) }
                dt { "Sends to" } dd { (platforms(campaign)) }
                dt { "Meta pixel" } dd #meta-pixel .pixel-id { (campaign.meta.as_ref().map_or("—", |m| m.pixel_id.as_str())) }
                dt { "Meta access token" } dd { (if campaign.meta.is_some() { "set" } else { "not set" }) }
                @if campaign.meta.is_some() {
                    dt { "Meta events" } dd { @if events.is_empty() { "none mapped" } @else { (events.join(", ")) } }
                }
                dt { "Value source" } dd { (campaign.value_source.to_db()) }
                dt { "Purchases without payout, last " (DEFAULT_DAYS) " days" } dd #no-payout-count {
                    (no_payout)
                    @if no_payout > 0 {
                        " — their postbacks carried no payout, so Meta and TikTok got value 0. Add the tracker's payout macro to the postback URL, or, for a fixed-payout offer, set value_source to that amount (Edit)."
                    }
                }
                dt { "TikTok pixel code" } dd #tiktok-pixel .pixel-id { (tiktok.map_or("—", |t| t.pixel_code.as_str())) }
                dt { "TikTok access token" } dd { (if tiktok.is_some() { "set" } else { "not set" }) }
                @if let Some(t) = tiktok {
                    dt { "TikTok events" } dd #tiktok-events { (mapped(&t.event_map)) }
                    dt { "TikTok test event code" } dd { (t.test_event_code.as_deref().unwrap_or("none (production)")) }
                }
            }
        }
        @if let Some(w) = base_warning { (w.render(&base)) }
        section.card #postback-urls {
            h2 { "Postback URLs" }
            p.hint { "Paste your tracker's line into its S2S postback setting. REPLACE / OPTIONAL: put your tracker's or network's macro for that value there. Each URL names this campaign (campaign=" (key) "), so a conversion whose click the lander never registered still reaches it. Which one matches for your traffic, and what happens without a transaction id: docs/trackers.md." }
            @for u in POSTBACK_URLS {
                (copy_field(&format!("postback-{}", u.id), u.label, &u.campaign_url(&base, state.postback_key.expose_secret(), key)))
            }
            h3 { "Test before pasting" }
            p.hint #postback-test-hint {
                "Each test URL below is the URL above with a sample click id (" code { (SAMPLE_CLICK_ID) } ") and every other macro unfilled, its braces encoded so curl and browsers send them as written. Open it or run "
                code { "curl -s '<test URL>'" } ": it must answer "
                strong { "422 unfilled_status" } " (the status macro was not filled: refused, never taken for a sale; nothing is recorded but the refusal). "
                "The copied URL itself, with every macro unfilled, answers " strong { "400 missing_click_id" } " when sent as written ("
                code { "curl -g" } "). Plain " code { "curl" } " turns " code { "{status}" } " into " code { "status" } " and " code { "{revenue}" } " into " code { "revenue" } " (its URL globbing): the bridge then reads made-up values (with a payout macro, " code { "422 invalid_field" } "), not what a tracker sends, so test with these URLs instead."
            }
            @for u in POSTBACK_URLS {
                (copy_field(&format!("postback-test-{}", u.id), &format!("{} (test)", u.label), &u.test_url(&base, state.postback_key.expose_secret(), key)))
            }
        }
        section.card {
            h2 { "Landing page" }
            div.copyrow {
                label for="landing-tag" { "Add this line to the lander" }
                div.copybox {
                    textarea #landing-tag readonly rows="2" { (tag) }
                    button type="button" data-copy="landing-tag" { "Copy" }
                }
                (copy_status())
            }
            div.copyrow {
                label for="lead-form-snippet" { "Then, on a lead form, hash its fields in the browser and fire the pixel (a field the form lacks is left out)" }
                div.copybox {
                    textarea #lead-form-snippet readonly rows="8" { (lead_form_snippet()) }
                    button type="button" data-copy="lead-form-snippet" { "Copy" }
                }
                (copy_status())
            }
            p { a #landing-guide href=(LANDING_GUIDE_URL) { "The landing page guide" } ": options, consent, the thank-you page, TikTok, what identify() sends." }
        }
        section.card #test-event {
            h2 { "Test event" }
            @if let Some(t) = &test { (t.verdict.render()) }
            @if campaign.meta.is_none() {
                p.hint #no-meta-test { "The test event button sends to Meta only, and this campaign does not send to Meta. To test TikTok, set a TikTok test event code (Edit) and send a click and a postback: they show in TikTok Events Manager > Test events." }
            } @else {
            @if tiktok.is_some() { p.hint { "Sent to Meta only; TikTok has no test button here." } }
            // The fragment brings the answer page back to this card, not to the top.
            form.inline method="post" action=(format!("/ui/campaigns/{key}/test-event#test-event")) {
                input type="hidden" name="csrf" value=(csrf);
                label for="event_name" { "Event" }
                select #event_name name="event_name" {
                    @if events.is_empty() { option value="Lead" { "Lead" } }
                    @for e in &events { option value=(e) selected[*e == chosen] { (e) } }
                }
                button type="submit" { "Send a test event" }
            }
            @if campaign.test_event_code.is_none() {
                p.hint { "Needs a test event code (Edit): the event goes to Events Manager > Test events." }
            }
            }
        }
        (money)
        section.card {
            h2 { "Match quality, last " (report.days) " days" }
            (quality_table(&report))
        }
        (meta_view)
        section.card {
            h2 { "Recent conversions" }
            (crate::ui::conversions::table(&recent, state.ui.zone))
            p { a href=(format!("/ui/conversions?campaign={key}")) { "All conversions of this campaign" } }
        }
    };
    let title = format!("Campaign {key}");
    Ok(html_response(
        &mut HttpResponse::build(status),
        layout(&title, Some(csrf), body),
    ))
}
