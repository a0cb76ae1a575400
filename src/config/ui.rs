//! The dashboard's settings: the display zone, the session cookie, the public URL.

use std::net::SocketAddr;
use std::time::Duration;

use chrono_tz::Tz;

#[derive(Debug, Clone, clap::Args)]
pub struct UiDisplay {
    /// The time zone the dashboard shows times in and counts calendar days in (the date
    /// presets, the day filters, the daily totals and the chart): an IANA name such as
    /// Europe/Berlin or America/New_York.
    #[arg(
        long,
        env = "UI_TIME_ZONE",
        value_name = "UI_TIME_ZONE",
        default_value = "UTC",
        value_parser = parse_time_zone,
        global = true
    )]
    pub ui_time_zone: Tz,
}

fn parse_time_zone(value: &str) -> Result<Tz, String> {
    value.trim().parse::<Tz>().map_err(|_| {
        format!(
            "{value:?} is not an IANA time zone name (such as UTC, Europe/Berlin or \
             America/New_York; names are case-sensitive)"
        )
    })
}

/// Dashboard settings shared by its handlers.
pub struct UiSettings {
    /// `Secure` on the session cookie (PUBLIC_URL is https).
    pub secure_cookie: bool,
    pub session_ttl: Duration,
    /// PUBLIC_URL (no trailing slash): the base of the postback URLs a campaign page shows.
    pub public_url: Option<String>,
    /// UI_TIME_ZONE: the zone of every time, day and chart the dashboard shows.
    pub zone: chrono_tz::Tz,
}

impl UiSettings {
    pub fn new(public_url: Option<&str>, session_ttl: Duration) -> Self {
        UiSettings {
            secure_cookie: secure_cookie(public_url),
            session_ttl,
            public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
            zone: chrono_tz::Tz::UTC,
        }
    }

    /// The same settings, showing times and days in `zone`.
    pub fn in_zone(self, zone: chrono_tz::Tz) -> Self {
        UiSettings { zone, ..self }
    }
}

/// The session cookie is `Secure` only when PUBLIC_URL says the dashboard is reached over https:
/// a `Secure` cookie is never sent back over plain http, so signing in would not stick.
fn secure_cookie(public_url: Option<&str>) -> bool {
    public_url.is_some_and(|u| u.starts_with("https://"))
}

/// The start-up warning when the dashboard (its admin token, session cookie and postback key)
/// would cross a network in clear: PUBLIC_URL is not https and LISTEN_ADDR is not loopback.
pub fn plain_http_warning(public_url: Option<&str>, listen_addr: SocketAddr) -> Option<String> {
    if secure_cookie(public_url) || listen_addr.ip().to_canonical().is_loopback() {
        return None;
    }
    Some(format!(
        "the dashboard (/ui) is served over plain HTTP on {listen_addr}: the admin token and \
         the session cookie cross the network unencrypted, and the cookie is not marked Secure. \
         Put capi-bridge behind a TLS proxy and set PUBLIC_URL=https://your.host, or listen on \
         127.0.0.1 only"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_names_are_checked() {
        assert_eq!(parse_time_zone("Asia/Tokyo"), Ok(Tz::Asia__Tokyo));
        assert_eq!(parse_time_zone(" UTC "), Ok(Tz::UTC));
        for bad in ["", "Mars/Olympus", "CEST+1", "europe/berlin"] {
            let err = parse_time_zone(bad).unwrap_err();
            assert!(err.contains("not an IANA time zone name"), "{bad}: {err}");
        }
    }
}
