//! The dashboard under `/ui/`: server-rendered pages (maud templates compiled into the binary)
//! over the same storage code as the admin API, behind a sign-in with the admin token.

mod alerts;
mod campaigns;
mod clicks;
mod confirm;
mod conversions;
mod days;
mod dropped;
mod guard;
mod guide;
mod health;
mod import_rows;
mod imports;
mod money;
mod overview;
mod pages;
mod session;
mod table;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use maud::{html, Markup, DOCTYPE};

pub use overview::{chart_svg, hourly_series, Overview};
pub use table::{configure, Access, UiRoute, Verb, ROUTES};

const CSS: &str = include_str!("app.css");
/// The dashboard's only script: copy buttons. Pages work without it.
const JS: &str = include_str!("app.js");

pub use crate::config::ui::{plain_http_warning, UiSettings};

async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(JS)
}

/// A signed-in page: the layout with the session's sign-out form, as a 200.
fn page(session: &session::Session, title: &str, body: Markup) -> HttpResponse {
    html_response(
        &mut HttpResponse::Ok(),
        layout(title, Some(&session.csrf_token), body),
    )
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(CSS)
}

/// A relative redirect: the dashboard works behind any host name or proxy.
fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The dashboard's one error type: each case is an HTML page (or a redirect), never data.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    #[error("not signed in")]
    SignIn,
    #[error("the form is stale or came from another site")]
    Csrf,
    #[error("too many sign-in attempts")]
    Throttled { retry_after_secs: u64 },
    /// A page about something that does not exist (a campaign key, a conversion id...).
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl ResponseError for UiError {
    fn status_code(&self) -> StatusCode {
        match self {
            UiError::SignIn => StatusCode::SEE_OTHER,
            UiError::Csrf => StatusCode::FORBIDDEN,
            UiError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            UiError::NotFound(_) => StatusCode::NOT_FOUND,
            UiError::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (title, text) = match self {
            UiError::SignIn => return see_other("/ui/login"),
            UiError::Csrf => (
                "Refused",
                "This form is out of date or was sent from another site. Reload the page and try again.",
            ),
            UiError::Throttled { .. } => (
                "Too many attempts",
                "Too many sign-in attempts from your address. Wait a minute and try again.",
            ),
            UiError::NotFound(what) => ("Not found", what.as_str()),
            UiError::Database(e) => {
                tracing::error!(error = %e, "dashboard page failed");
                ("Error", "The database could not be read; the error has been logged.")
            }
        };
        let mut res = HttpResponse::build(self.status_code());
        if let UiError::Throttled { retry_after_secs } = self {
            res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        html_response(&mut res, layout(title, None, html! { p.notice { (text) } }))
    }
}

fn html_response(res: &mut actix_web::HttpResponseBuilder, page: Markup) -> HttpResponse {
    res.content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("x-frame-options", "DENY"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'",
        ))
        .body(page.into_string())
}

/// A signed-in page that reloads itself every second (an import in progress): no script needed.
fn refreshing_page(session: &session::Session, title: &str, body: Markup) -> HttpResponse {
    let head = html! { meta http-equiv="refresh" content="1"; };
    html_response(
        &mut HttpResponse::Ok(),
        layout_with_head(title, Some(&session.csrf_token), head, body),
    )
}

/// The frame of every page; `csrf` is the signed-in session's token (a sign-out button).
fn layout(title: &str, csrf: Option<&str>, body: Markup) -> Markup {
    layout_with_head(title, csrf, html! {}, body)
}

/// [`layout`] with extra elements in the head.
fn layout_with_head(title: &str, csrf: Option<&str>, head: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · capi-bridge" }
                link rel="stylesheet" href="/ui/app.css";
                script src="/ui/app.js" defer {}
                (head)
            }
            body {
                header.top {
                    a.brand href="/ui/" { "capi-bridge" }
                    @if let Some(token) = csrf {
                        nav {
                            a href="/ui/" { "Overview" }
                            a href="/ui/campaigns" { "Campaigns" }
                            a href="/ui/conversions" { "Conversions" }
                            a href="/ui/clicks" { "Clicks" }
                            a href="/ui/imports" { "Import" }
                            a href="/ui/alerts" { "Alerts" }
                        }
                        form.signout method="post" action="/ui/logout" {
                            input type="hidden" name="csrf" value=(token);
                            button type="submit" { "Sign out" }
                        }
                        form.signout.everywhere method="post" action="/ui/logout-everywhere" {
                            input type="hidden" name="csrf" value=(token);
                            button type="submit" title="End every dashboard session, in every browser" { "Sign out everywhere" }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_when_the_dashboard_crosses_a_network_in_clear() {
        let cases = [
            (None, "0.0.0.0:8080", true),
            (None, "[::]:8080", true),
            (None, "192.0.2.10:8080", true),
            (Some("http://bridge.example"), "0.0.0.0:8080", true),
            (Some("https://bridge.example"), "0.0.0.0:8080", false),
            (None, "127.0.0.1:8080", false),
            (None, "[::1]:8080", false),
            (None, "[::ffff:127.0.0.1]:8080", false),
            (Some("http://localhost:8080"), "127.0.0.1:8080", false),
        ];
        for (public_url, listen, warns) in cases {
            let warning = plain_http_warning(public_url, listen.parse().unwrap());
            assert_eq!(warning.is_some(), warns, "{public_url:?} on {listen}");
            if let Some(w) = warning {
                assert!(w.contains("PUBLIC_URL=https://"), "{w}");
                assert!(w.contains(listen), "{w}");
            }
        }
    }
}
