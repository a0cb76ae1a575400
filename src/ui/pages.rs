//! The dashboard's handlers: thin, reading through `crate::storage` like the admin API.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use maud::html;
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::health::banners;
use super::overview::{chart_svg, hourly_series, Overview};
use super::session::{same_origin, set_cookie, Session};
use super::{html_response, layout, page, see_other, UiError};
use crate::health;
use crate::http::auth::secret_matches;
use crate::http::auth_limit::Credential;
use crate::http::client_ip::client_ip;
use crate::http::ApiError;
use crate::state::AppState;
use crate::storage::{outbox_stats, overview};

type State = web::Data<AppState>;

pub async fn login_form(req: HttpRequest, state: State) -> Result<HttpResponse, UiError> {
    // Already signed in: straight to the overview.
    match Session::require(&req, &state.pool).await {
        Ok(_) => return Ok(see_other("/ui/")),
        Err(UiError::SignIn) => {}
        Err(e) => return Err(e),
    }
    Ok(login_page(HttpResponse::Ok(), false))
}

fn login_page(mut res: actix_web::HttpResponseBuilder, wrong: bool) -> HttpResponse {
    let body = html! {
        form.card method="post" action="/ui/login" {
            @if wrong { p.error role="alert" { "That is not the admin token." } }
            label for="token" { "Admin token" }
            input #token type="password" name="token" autocomplete="current-password" required autofocus;
            button type="submit" { "Sign in" }
        }
    };
    html_response(&mut res, layout("Sign in", None, body))
}

#[derive(Deserialize)]
pub struct SignInForm {
    token: String,
}

pub async fn sign_in(
    req: HttpRequest,
    state: State,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, UiError> {
    same_origin(&req)?;
    // Wrong tokens count against the address's failed-authentication limit (shared with every
    // other credential); the right one always signs in.
    if !secret_matches(
        form.token.trim().as_bytes(),
        state.admin_token.expose_secret().as_bytes(),
    ) {
        let ip = client_ip(&req, &state.trusted_proxies);
        return match state.auth_failures.failed(ip, Credential::DashboardSignIn) {
            ApiError::TooManyFailures { retry_after_secs } => {
                Err(UiError::Throttled { retry_after_secs })
            }
            _ => Ok(login_page(HttpResponse::Unauthorized(), true)),
        };
    }
    let (_, id) = Session::start(&state.pool, &state.ui, state.admin_token.expose_secret()).await?;
    let mut res = see_other("/ui/");
    res.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(Some(&id), &state.ui)
            .parse()
            .expect("a cookie of hex digits and fixed words is a valid header"),
    );
    Ok(res)
}

pub async fn sign_out(state: State, session: Session) -> Result<HttpResponse, UiError> {
    session.end(&state.pool).await?;
    Ok(signed_out(&state))
}

/// Ends every dashboard session, in every browser: after a lost laptop, or to be sure no one
/// else is signed in (rotating ADMIN_TOKEN does the same).
pub async fn sign_out_everywhere(state: State, session: Session) -> Result<HttpResponse, UiError> {
    let ended = session.end_all(&state.pool).await?;
    tracing::info!(sessions = ended, "every dashboard session signed out");
    Ok(signed_out(&state))
}

/// To the sign-in page, with the cookie cleared.
fn signed_out(state: &State) -> HttpResponse {
    let mut res = see_other("/ui/login");
    res.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(None, &state.ui)
            .parse()
            .expect("a cookie of fixed words is a valid header"),
    );
    res
}

pub async fn overview(
    req: HttpRequest,
    state: State,
    session: Session,
) -> Result<HttpResponse, UiError> {
    let now = Utc::now();
    let day = overview::window(&state.pool, now - chrono::Duration::hours(24)).await?;
    let week = overview::window(&state.pool, now - chrono::Duration::days(7)).await?;
    let zone = state.ui.zone;
    let hourly =
        overview::events_per_hour(&state.pool, now - chrono::Duration::hours(24), zone.name())
            .await?;
    let money = super::money::card(&state.pool, "/ui", req.query_string(), None, zone, now).await?;
    let outbox = outbox_stats::read(&state.pool).await?;
    let view = Overview::shape(&day, &week, &outbox);
    let series = hourly_series(now, &hourly, zone);
    let problems = health::problems(&state.pool, &state.health, now).await?;
    let f = &view.failures;
    let body = html! {
        (banners(&problems))
        // Failures first: on a phone this is the first screen.
        section.card #failures {
            h2 { "Failures" }
            @if f.none() {
                p { "Nothing failed in the last 7 days." }
            } @else {
                p.big {
                    span.state-failed { (f.events.0) " failed events" } " in 24 h"
                    span.muted { " · " (f.events.1) " in 7 days" }
                }
                ul {
                    @for (platform, day, week) in &f.errors {
                        li { (platform.name()) " failed delivery attempts: " (day) " in 24 h, " (week) " in 7 days" }
                    }
                }
                p { a href="/ui/conversions?state=failed" { "The failed conversions" } ", each with the platform's answer." }
            }
        }
        section.card {
            h2 { "Outbox" }
            p.big {
                (outbox.depth()) " pending"
                @if let Some(age) = view.oldest_pending {
                    span.muted { " · oldest " (age) }
                }
            }
        }
        section.card {
            h2 { "Events per hour, last 24 h (" (zone.name()) ")" }
            (chart_svg(&series, zone))
        }
        (money)
        section.card {
            h2 { "Totals" }
            table {
                thead { tr { th { "" } th.num { "24 h" } th.num { "7 days" } } }
                tbody {
                    @for row in &view.rows {
                        tr class=(if row.group { "group" } else { "" }) {
                            th scope="row" { (row.label) }
                            td.num { (row.day) }
                            td.num { (row.week) }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&session, "Overview", body))
}
