//! Where the campaign page's postback URLs and tag line point, and whether trackers and landers
//! can reach that address: a page opened at `localhost` or an IP address hands out URLs that
//! break once pasted elsewhere.

use std::net::IpAddr;

use actix_web::http::Uri;
use actix_web::HttpRequest;
use maud::{html, Markup};

use crate::http::client_ip::request_base_url;
use crate::state::AppState;

/// Where trackers and landers reach this service: PUBLIC_URL, else the address this page was
/// asked for (forwarded headers only from TRUSTED_PROXIES).
pub fn base_url(req: &HttpRequest, state: &AppState) -> String {
    match &state.ui.public_url {
        Some(u) => u.clone(),
        None => request_base_url(req, &state.trusted_proxies),
    }
}

/// What a base URL's host is: only a name outlives a server move and reaches the outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// A host name (`bridge.example.com`).
    Name,
    /// This machine only: `localhost`, `*.localhost` or a loopback address.
    Local,
    /// Any other IP address.
    Address,
    /// Not a URL's host at all (a garbled `Host` header).
    Unreadable,
}

impl Host {
    pub fn of(base: &str) -> Host {
        let Some(host) = base
            .parse::<Uri>()
            .ok()
            .and_then(|u| u.host().map(str::to_owned))
        else {
            return Host::Unreadable;
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = host.parse::<IpAddr>() {
            return if ip.to_canonical().is_loopback() {
                Host::Local
            } else {
                Host::Address
            };
        }
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        if name == "localhost" || name.ends_with(".localhost") {
            Host::Local
        } else {
            Host::Name
        }
    }
}

/// Why the page's URLs may not reach this service, if they may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warning {
    /// No PUBLIC_URL: built from the address this page was opened at.
    NoPublicUrl(Host),
    /// PUBLIC_URL is set, but to this machine or a bare address.
    PublicUrlNotAName(Host),
}

pub fn warning(public_url_set: bool, host: Host) -> Option<Warning> {
    match (public_url_set, host) {
        (true, Host::Name) => None,
        (true, host) => Some(Warning::PublicUrlNotAName(host)),
        (false, host) => Some(Warning::NoPublicUrl(host)),
    }
}

impl Warning {
    pub fn render(self, base: &str) -> Markup {
        let (Warning::NoPublicUrl(host) | Warning::PublicUrlNotAName(host)) = self;
        html! {
            p.banner.warn #base-url-warning role="alert" {
                strong { "These URLs point to " code { (base) } ": " }
                @match self {
                    Warning::NoPublicUrl(_) => "PUBLIC_URL is not set, so they are built from the address this page was opened at. ",
                    Warning::PublicUrlNotAName(_) => "that is what PUBLIC_URL says. ",
                }
                @match host {
                    Host::Local => "That name is this machine's own: a tracker's server and a visitor's browser cannot reach it. ",
                    Host::Address => "That is a bare IP address: the URLs break when the server's address changes. ",
                    Host::Unreadable => "That address could not be read. ",
                    Host::Name => "They work only if trackers and landers reach the bridge at that same address. ",
                }
                "Set " code { "PUBLIC_URL" } " to the bridge's public base URL, the one your tracker and your lander reach it at (e.g. "
                code { "PUBLIC_URL=https://capi.example.com" } "), restart, and copy the URLs from this page again (docs/configuration.md)."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_told_apart() {
        let cases = [
            ("https://capi.example.com", Host::Name),
            ("http://capi.example.com:8080", Host::Name),
            ("http://bridge", Host::Name),
            ("http://localhost:8080", Host::Local),
            ("http://LOCALHOST.", Host::Local),
            ("http://app.localhost", Host::Local),
            ("http://127.0.0.1:8080", Host::Local),
            ("http://[::1]:8080", Host::Local),
            ("http://[::ffff:127.0.0.1]", Host::Local),
            ("http://192.168.1.20:8080", Host::Address),
            ("http://203.0.113.9", Host::Address),
            ("http://[2001:db8::1]:8080", Host::Address),
            ("http://bad host", Host::Unreadable),
            ("http://", Host::Unreadable),
        ];
        for (base, host) in cases {
            assert_eq!(Host::of(base), host, "{base}");
        }
    }

    #[test]
    fn only_a_public_url_naming_a_host_is_trusted() {
        let cases = [
            (true, Host::Name, None),
            (
                true,
                Host::Local,
                Some(Warning::PublicUrlNotAName(Host::Local)),
            ),
            (
                true,
                Host::Address,
                Some(Warning::PublicUrlNotAName(Host::Address)),
            ),
            (false, Host::Name, Some(Warning::NoPublicUrl(Host::Name))),
            (false, Host::Local, Some(Warning::NoPublicUrl(Host::Local))),
            (
                false,
                Host::Address,
                Some(Warning::NoPublicUrl(Host::Address)),
            ),
            (
                false,
                Host::Unreadable,
                Some(Warning::NoPublicUrl(Host::Unreadable)),
            ),
        ];
        for (set, host, expected) in cases {
            assert_eq!(warning(set, host), expected, "{set} {host:?}");
        }
    }
}
