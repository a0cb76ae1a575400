//! The conversion list with its filter form, and the refused postbacks.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono_tz::Tz;
use maud::{html, Markup};

use super::filter::{with_query, Typed};
use crate::domain::{DeliveryStatus, PlatformKind};
use crate::export;
use crate::state::AppState;
use crate::storage::conversions::{self, ConversionView};
use crate::storage::{campaigns, conversion_count, refused};
use crate::trackers::Tracker;
use crate::ui::days::{when, zone_label, Range};
use crate::ui::money::amount;
use crate::ui::session::Session;
use crate::ui::{html_response, layout, see_other, UiError};

/// The conversions table (also on a click's page): each row links to the conversion's page.
/// Times are in the display zone, which the heading names.
pub fn table(items: &[ConversionView], zone: Tz) -> Markup {
    html! {
        // On a phone each row is a card (app.css): cells carry their column's name.
        table.list #conversions {
            thead { tr {
                th { (zone_label("Received", zone)) } th { "Campaign" } th { "Tracker" } th { "Click id" }
                th { "Status" } th { "State" } th { "Event" } th.num { "Value" } th { "Why" } th { "Details" }
            } }
            tbody {
                @for c in items {
                    tr {
                        td.c-time data-label=(zone_label("Received", zone)) { (when(&c.received_at, zone)) }
                        td data-label="Campaign" { (c.campaign.as_deref().unwrap_or("—")) }
                        td data-label="Tracker" { (c.tracker) }
                        td data-label="Click id" { code { (c.click_id) } }
                        td data-label="Status" { (c.status) }
                        td.c-state data-label="State" {
                            span class={ "state state-" (c.state.as_str()) } { (c.state.as_str()) }
                            @for p in &c.test_platforms { " " (test_badge(*p)) }
                        }
                        td.c-event data-label="Event" { (c.event_name.as_deref().unwrap_or("—")) }
                        td.num.value.c-value data-label="Value" { (value_cell(c)) }
                        td.why data-label="Why" { (why(c)) }
                        td data-label="Details" { a href={ "/ui/conversions/" (c.id) } { "Details" } }
                    }
                }
                @if items.is_empty() {
                    tr { td colspan="10" { "No conversions match." } }
                }
            }
        }
    }
}

/// The conversion's one value, as its events carried it to Meta or TikTok.
fn value_cell(c: &ConversionView) -> String {
    c.value
        .map_or("—".to_owned(), |v| amount(v, c.currency.as_deref()))
}

/// Marks an event that went to the platform's Test Events, not to optimisation.
pub fn test_badge(platform: PlatformKind) -> Markup {
    html! {
        span.badge.warn.test data-platform=(platform.as_str())
            title={ "Sent to " (platform.name()) "'s Test Events (a test event code): not used for optimisation" } {
            (platform.name()) " test"
        }
    }
}

/// Why a row is not (yet) sent, naming the platform whose event failed (a conversion on Meta
/// and TikTok is `failed` when either is).
fn why(c: &ConversionView) -> Markup {
    html! {
        @if let Some(err) = &c.last_error {
            @if let Some(platform) = c.last_error_platform { strong { (platform.name()) } ": " }
            (err)
        } @else { "—" }
    }
}

/// The outcome of "Retry all failed", read back from its redirect: counts only, so the notice
/// never says words the query chose.
#[derive(Debug, PartialEq)]
struct Retried {
    requeued: u64,
    still_failed: u64,
    more: bool,
}

impl Retried {
    fn from_typed(t: &Typed) -> Option<Self> {
        let count = |v: &str| match v {
            "" => Some(0),
            v => v.parse::<u64>().ok(),
        };
        Some(Retried {
            requeued: t.retried.parse().ok()?,
            still_failed: count(&t.still_failed)?,
            more: t.more == "1",
        })
    }
}

pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, UiError> {
    let keys: Vec<String> = campaigns::list(&state.pool)
        .await?
        .into_iter()
        .map(|c| c.key.as_str().to_owned())
        .collect();
    let zone = state.ui.zone;
    let (mut typed, checked) = match Typed::from_query(req.query_string()) {
        Ok(typed) => {
            let checked = typed.check(zone);
            (typed, checked)
        }
        Err(e) => (Typed::default(), Err(e)),
    };
    let filter = match checked {
        // The form's days (and old links) become the same days as `since` and `until`.
        Ok(f) if typed.names_days() => return Ok(see_other(&f.url(f.before))),
        Ok(f) => f,
        Err(message) => {
            let body = html! {
                p.error role="alert" { (message) }
                (form(&typed, &keys, zone))
            };
            let mut res = HttpResponse::build(StatusCode::BAD_REQUEST);
            return Ok(html_response(
                &mut res,
                layout("Conversions", Some(&session.csrf_token), body),
            ));
        }
    };
    (typed.from, typed.to) = filter.days(zone);
    let list_filter = filter.list_filter(zone, chrono::Utc::now());
    let page = conversions::page(&state.pool, &list_filter).await?;
    let place = conversion_count::placement(&state.pool, &list_filter).await?;
    let campaign = match &filter.campaign {
        Some(key) => campaigns::find_by_key(&state.pool, key).await?,
        None => None,
    };
    let body = html! {
        @if let Some(r) = Retried::from_typed(&typed) {
            p.notice role="status" {
                "Retried the failed conversions of " (filter.campaign.as_deref().unwrap_or("the campaign"))
                ": " (r.requeued) " queued again"
                @if r.still_failed > 0 { ", " (r.still_failed) " still cannot be built" }
                "."
                @if r.more { " More are left: retry again." }
            }
        }
        nav.ranges aria-label="Date range" {
            @for r in Range::ALL {
                a href=(filter.range_url(*r)) aria-current=[(filter.range == Some(*r)).then_some("page")] { (r.label()) }
            }
        }
        (form(&typed, &keys, zone))
        @if let Some(c) = &campaign {
            form.inline method="post" action="/ui/conversions/retry-failed" {
                input type="hidden" name="csrf" value=(session.csrf_token);
                input type="hidden" name="campaign" value=(c.key.as_str());
                button type="submit" { "Retry all failed of " (c.key.as_str()) }
            }
        }
        section.card {
            p.export {
                a #export-csv href=(filter.export_url()) download {
                    "Download CSV"
                }
                " of every conversion these filters match (up to " (crate::export::EXPORT_CAP) " rows)."
            }
            (table(&page.items, zone))
            (super::pager::pager(&filter, &page, &place))
        }
        p { a href="/ui/conversions/refused" { "Refused postbacks" } ": what trackers sent that was not accepted, and why." }
    };
    Ok(crate::ui::page(&session, "Conversions", body))
}

/// `GET /ui/conversions/export.csv?<the list's filters>`: the matching conversions as CSV.
pub async fn export_csv(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, UiError> {
    let zone = state.ui.zone;
    let typed = Typed::from_query(req.query_string());
    let filter = match typed
        .as_ref()
        .map_err(String::clone)
        .and_then(|t| t.check(zone))
    {
        Ok(f) if typed.as_ref().is_ok_and(Typed::names_days) => {
            return Ok(see_other(&f.export_url()))
        }
        Ok(f) => f,
        Err(message) => {
            let body = html! { p.error role="alert" { (message) } p { a href="/ui/conversions" { "Conversions" } } };
            let mut res = HttpResponse::build(StatusCode::BAD_REQUEST);
            return Ok(html_response(
                &mut res,
                layout("Conversions", Some(&session.csrf_token), body),
            ));
        }
    };
    let filter = filter.list_filter(zone, chrono::Utc::now());
    let csv = export::conversions(&state.pool, &filter, export::EXPORT_CAP).await?;
    Ok(csv.response("conversions"))
}

fn form(typed: &Typed, keys: &[String], zone: Tz) -> Markup {
    let states: Vec<&str> = DeliveryStatus::ALL.iter().map(|s| s.as_str()).collect();
    let trackers: Vec<&str> = Tracker::ALL.iter().map(|t| t.as_str()).collect();
    let platforms: Vec<&str> = PlatformKind::ALL.iter().map(|p| p.as_str()).collect();
    // Folded behind a button on a phone (app.css), open while a filter is set.
    let filtering = *typed != Typed::default();
    html! {
        details.fold #filters open[filtering] {
        summary { "Filters" }
        form.card.filters method="get" action="/ui/conversions" {
            div {
                label for="f-campaign" { "Campaign" }
                select #f-campaign name="campaign" {
                    option value="" { "Any" }
                    @for k in keys {
                        option value=(k) selected[*k == typed.campaign] { (k) }
                    }
                    // A campaign typed in the URL that no longer exists stays selected.
                    @if !typed.campaign.is_empty() && !keys.contains(&typed.campaign) {
                        option value=(typed.campaign) selected { (typed.campaign) }
                    }
                }
            }
            div {
                label for="f-state" { "State" }
                (select("f-state", "state", &states, &typed.state))
            }
            div {
                label for="f-tracker" { "Tracker" }
                (select("f-tracker", "tracker", &trackers, &typed.tracker))
            }
            div {
                label for="f-click" { "Click id" }
                input #f-click type="text" name="click_id" value=(typed.click_id);
            }
            div {
                label for="f-range" { "Range" }
                select #f-range name="range" {
                    option value="" { "Any" }
                    @for r in Range::ALL {
                        option value=(r.as_str()) selected[typed.range == r.as_str()] { (r.label()) }
                    }
                }
            }
            div {
                label for="f-txid" { "Transaction id" }
                input #f-txid type="text" name="txid" value=(typed.txid);
            }
            div {
                label for="f-platform" { "Platform" }
                (select("f-platform", "platform", &platforms, &typed.platform))
            }
            div {
                label for="f-from" { (zone_label("From", zone)) }
                input #f-from type="date" name="from" value=(typed.from);
            }
            div {
                label for="f-to" { (zone_label("To, included", zone)) }
                input #f-to type="date" name="to" value=(typed.to);
            }
            div.actions {
                button type="submit" { "Filter" }
                a href="/ui/conversions" { "Clear" }
            }
        }
        }
    }
}

fn select(id: &str, name: &str, words: &[&str], chosen: &str) -> Markup {
    html! {
        select id=(id) name=(name) {
            option value="" { "Any" }
            @for w in words {
                option value=(w) selected[*w == chosen] { (w) }
            }
            @if !chosen.is_empty() && !words.contains(&chosen) {
                option value=(chosen) selected { (chosen) }
            }
        }
    }
}

/// `GET /ui/conversions/refused?before=`: postbacks that carried the key but were refused.
pub async fn refused(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, UiError> {
    let typed = Typed::from_query(req.query_string()).and_then(|t| {
        // Only the cursor applies here.
        let only_cursor = Typed {
            before: t.before.clone(),
            ..Typed::default()
        };
        if t != only_cursor {
            return Err("This page takes no filters, only the page cursor \"before\".".to_owned());
        }
        t.check(state.ui.zone)
    });
    let before = match typed {
        Ok(f) => f.before,
        Err(message) => {
            let body = html! { p.error role="alert" { (message) } p { a href="/ui/conversions/refused" { "Newest refused postbacks" } } };
            let mut res = HttpResponse::build(StatusCode::BAD_REQUEST);
            return Ok(html_response(
                &mut res,
                layout("Refused postbacks", Some(&session.csrf_token), body),
            ));
        }
    };
    let limit = super::filter::PAGE_SIZE;
    let items = refused::list(&state.pool, before, limit).await?;
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(|r| r.id))
        .flatten();
    let body = html! {
        p.muted {
            "Postbacks that carried the key but were not accepted: fix the postback URL in the tracker. "
            "The key and personal data are not kept."
        }
        section.card {
            table.list #refused {
                thead { tr { th { (zone_label("Received", state.ui.zone)) } th { "Tracker" } th { "Why" } th { "Parameters" } } }
                tbody {
                    @for r in &items {
                        tr {
                            td.c-time data-label=(zone_label("Received", state.ui.zone)) { (when(&r.received_at, state.ui.zone)) }
                            td data-label="Tracker" { (r.tracker) }
                            td.c-state.message data-label="Why" { code { (r.code) } br; (r.detail) }
                            td.message data-label="Parameters" { code.params { (r.params.to_string()) } }
                        }
                    }
                    @if items.is_empty() {
                        tr { td colspan="4" { "No refused postbacks." } }
                    }
                }
            }
            nav.pager aria-label="Pages" {
                @if before.is_some() { a href="/ui/conversions/refused" { "Newest" } }
                @if let Some(n) = next {
                    a href=(with_query("/ui/conversions/refused", &[("before", n.to_string())])) rel="next" { "Older" }
                }
            }
        }
        p { a href="/ui/conversions" { "All conversions" } }
    };
    Ok(crate::ui::page(&session, "Refused postbacks", body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_notice_is_counts_only() {
        let read = |q: &str| Retried::from_typed(&Typed::from_query(q).unwrap());
        let notice = |requeued, still_failed, more| {
            Some(Retried {
                requeued,
                still_failed,
                more,
            })
        };
        assert_eq!(read("retried=3&still_failed=1&more=1"), notice(3, 1, true));
        assert_eq!(read("retried=0"), notice(0, 0, false));
        for query in [
            "",
            "retried=call%20us",
            "retried=2&still_failed=x",
            "retried=-1",
        ] {
            assert_eq!(read(query), None, "{query}");
        }
    }
}
