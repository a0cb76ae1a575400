//! `/ui/alerts`: where alerts go, a button that sends a test alert, and the alerts sent. Thin
//! over the alert loop's service ([`crate::alerts::Alerts`]).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use maud::{html, Markup};

use super::session::Session;
use super::{html_response, layout, UiError};
use crate::alerts::Delivery;
use crate::domain::{AlertChannel, AlertKind};
use crate::state::AppState;

/// How many alerts sent the page lists.
const LISTED: i64 = 100;

pub(super) async fn show(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, UiError> {
    render(&state, &session, None, StatusCode::OK).await
}

/// Sends the test alert and shows the page with what each channel made of it (rendered, not
/// redirected, so the outcome is this click's).
pub(super) async fn send_test(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, UiError> {
    let deliveries = state.alerts.send_test().await?;
    let status = if deliveries.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(&state, &session, Some(deliveries), status).await
}

async fn render(
    state: &AppState,
    session: &Session,
    tested: Option<Vec<Delivery>>,
    status: StatusCode,
) -> Result<HttpResponse, UiError> {
    let alerts = &state.alerts;
    let sent = alerts.recent(LISTED).await?;
    let configured = alerts.channels().configured();
    let body = html! {
        section.card #alert-channels {
            h2 { "Channels" }
            @if configured.is_empty() {
                p.banner.warn {
                    "No alert channel is set, so nobody is told when a token is refused or events \
                     pile up. Set ALERT_WEBHOOK_URL (Slack or any webhook) or TELEGRAM_BOT_TOKEN \
                     and TELEGRAM_CHAT_ID, and restart (see the README's Alerts section)."
                }
            } @else {
                ul {
                    @for c in &configured {
                        li { (channel_line(*c, alerts.channels().webhook_host().as_deref())) }
                    }
                }
            }
            @if let Some(deliveries) = &tested { (test_outcome(deliveries)) }
            form.inline method="post" action="/ui/alerts/test" {
                input type="hidden" name="csrf" value=(session.csrf_token);
                button type="submit" { "Send a test alert" }
            }
        }
        section.card {
            h2 { "Alerts sent" }
            @if sent.is_empty() {
                p.muted { "None yet." }
            } @else {
                table #alerts-sent {
                    thead { tr { th { "Sent" } th { "Alert" } th { "Campaign" } th { "Channel" } th { "Outcome" } } }
                    tbody {
                        @for a in &sent {
                            tr {
                                td { (a.sent_at.format("%Y-%m-%d %H:%M:%S UTC")) }
                                td {
                                    (kind_badge(a.kind)) " "
                                    @if a.kind != AlertKind::Test {
                                        (a.key.condition.replace('_', " "))
                                        @if !a.key.platform.is_empty() { " · " (a.key.platform) }
                                    }
                                }
                                td {
                                    @if !a.key.subject.is_empty() {
                                        a href={ "/ui/campaigns/" (a.key.subject) } { (a.key.subject) }
                                    }
                                }
                                td { (a.channel) }
                                td {
                                    @match &a.error {
                                        None => span.badge.ok { "delivered" },
                                        Some(e) => { span.badge.warn { "not delivered" } " " span.hint { (e) } },
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let mut res = HttpResponse::build(status);
    Ok(html_response(
        &mut res,
        layout("Alerts", Some(&session.csrf_token), body),
    ))
}

fn channel_line(channel: AlertChannel, webhook_host: Option<&str>) -> Markup {
    match channel {
        // The host only: a webhook's path is its credential.
        AlertChannel::Webhook => html! { "Webhook to " code { (webhook_host.unwrap_or("?")) } },
        AlertChannel::Telegram => html! { "Telegram (TELEGRAM_CHAT_ID)" },
    }
}

fn kind_badge(kind: AlertKind) -> Markup {
    match kind {
        AlertKind::Firing => html! { span.badge.warn { "firing" } },
        AlertKind::Resolved => html! { span.badge.ok { "resolved" } },
        AlertKind::Test => html! { span.badge { "test" } },
    }
}

fn test_outcome(deliveries: &[Delivery]) -> Markup {
    html! {
        @if deliveries.is_empty() {
            p.verdict.bad #test-alert-outcome { "Nothing was sent: no alert channel is set." }
        }
        @for d in deliveries {
            @match &d.error {
                None => p.verdict.ok.test-alert-outcome { "Test alert sent to " (d.channel) "." },
                Some(e) => p.verdict.bad.test-alert-outcome {
                    "Test alert not delivered to " (d.channel) ": " (e)
                },
            }
        }
    }
}
