//! Parsers of the option values that are more than a number or a duration.

use std::net::SocketAddr;
use std::time::Duration;

use ipnet::IpNet;
use secrecy::SecretString;

/// The shape every secret must have; how strong it must be is judged by `serve` alone
/// ([`super::weak`]), so `migrate` and `healthcheck` run with any value.
pub(super) fn secret(name: &'static str) -> impl Fn(&str) -> Result<SecretString, String> + Clone {
    move |s: &str| {
        if s.is_empty() {
            Err(format!("{name} is empty"))
        } else if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Err(format!(
                "{name} must not contain spaces or control characters"
            ))
        } else {
            Ok(SecretString::from(s))
        }
    }
}

/// Any value, kept out of `Debug` and logs.
pub(super) fn any_secret(s: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(s))
}

pub(super) fn parse_metrics_addr(s: &str) -> Result<SocketAddr, String> {
    parse_listen_addr(s).map_err(|e| e.replacen("LISTEN_ADDR", "METRICS_ADDR", 1))
}

/// `:8080` is every IPv4 interface (Go's and many tools' shorthand); a name is resolved once,
/// IPv4 first, since `localhost` often resolves to `::1` before `127.0.0.1`.
pub(super) fn parse_public_url(s: &str) -> Result<String, String> {
    let s = s.trim().trim_end_matches('/');
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(|| format!("{s:?} must start with https:// or http://"))?;
    if rest.is_empty() {
        return Err(format!("{s:?} has no host"));
    }
    Ok(s.to_owned())
}

pub(super) fn parse_listen_addr(s: &str) -> Result<SocketAddr, String> {
    let bad =
        || format!("LISTEN_ADDR must be IP:port, host:port or :port (0.0.0.0:8080), not {s:?}");
    if let Some(port) = s.strip_prefix(':') {
        let port: u16 = port.parse().map_err(|_| bad())?;
        return Ok(SocketAddr::from(([0, 0, 0, 0], port)));
    }
    if let Ok(addr) = s.parse() {
        return Ok(addr);
    }
    let addrs: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(s)
        .map_err(|e| format!("LISTEN_ADDR {s:?} does not resolve: {e}"))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(bad)
}

pub(super) fn parse_base_url(s: &str) -> Result<String, String> {
    if (s.starts_with("http://") || s.starts_with("https://")) && reqwest::Url::parse(s).is_ok() {
        Ok(s.trim_end_matches('/').to_owned())
    } else {
        Err("META_GRAPH_URL must be an http:// or https:// URL".into())
    }
}

pub(super) fn parse_api_version(s: &str) -> Result<String, String> {
    let ok = s
        .strip_prefix('v')
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        });
    if ok {
        Ok(s.to_owned())
    } else {
        Err("META_API_VERSION must look like v26.0".into())
    }
}

/// Reverse proxies whose `X-Forwarded-For`, `X-Forwarded-Host`/`-Proto` and `Forwarded` headers
/// are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }
}

pub(super) fn parse_cidrs(s: &str) -> Result<TrustedProxies, String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{p:?} is not a CIDR such as 10.0.0.0/8"))
        })
        .collect::<Result<_, _>>()
        .map(TrustedProxies)
}

#[derive(Debug, Clone)]
pub struct RetryDelays(pub Vec<Duration>);

pub(super) fn parse_delays(s: &str) -> Result<RetryDelays, String> {
    let delays = s
        .split(',')
        .map(|d| humantime::parse_duration(d.trim()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("DELIVERY_RETRY_DELAYS: {e}; expected a list like 10s,1m,1h"))?;
    if delays.is_empty() {
        return Err("DELIVERY_RETRY_DELAYS needs at least one delay".into());
    }
    Ok(RetryDelays(delays))
}
