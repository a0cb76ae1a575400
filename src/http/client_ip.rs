use std::net::IpAddr;

use actix_web::HttpRequest;

use crate::config::TrustedProxies;

/// The visitor's address: the TCP peer, unless the peer is a trusted proxy. Then
/// `X-Forwarded-For` is walked from the right (the end our proxies append to, so a client cannot
/// forge it): trusted proxies are skipped and the first other entry is the client. An entry that
/// is not an address, reached before that, means the chain cannot be believed: the client is
/// unknown (`None`), never the proxy itself, which an allow list may well contain.
/// IPv4-mapped IPv6 addresses are canonicalised so `::ffff:10.0.0.1` matches `10.0.0.0/8`.
pub fn client_ip(req: &HttpRequest, trusted: &TrustedProxies) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip().to_canonical();
    if !trusted.contains(peer) {
        return Some(peer);
    }
    let mut entries: Vec<&str> = Vec::new();
    for value in req.headers().get_all("x-forwarded-for") {
        entries.extend(value.to_str().ok()?.split(','));
    }
    let mut leftmost = peer;
    for entry in entries.iter().rev() {
        let ip = entry.trim().parse::<IpAddr>().ok()?.to_canonical();
        if !trusted.contains(ip) {
            return Some(ip);
        }
        leftmost = ip;
    }
    // Every hop is one of ours: the request started inside (or at the proxy, without a header).
    Some(leftmost)
}

/// Where the request was addressed, as `scheme://host`: the base of the postback URLs and the
/// tag line a page shows when PUBLIC_URL is unset. `Forwarded` and `X-Forwarded-Host`/`-Proto`
/// are believed only from a trusted proxy: from anyone else they would choose the host that the
/// page's URLs, postback key included, point to. Without a proxy the server speaks plain HTTP.
pub fn request_base_url(req: &HttpRequest, trusted: &TrustedProxies) -> String {
    let via_proxy = req
        .peer_addr()
        .is_some_and(|peer| trusted.contains(peer.ip().to_canonical()));
    if via_proxy {
        let info = req.connection_info();
        return format!("{}://{}", info.scheme(), info.host());
    }
    let host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or_else(|| req.app_config().host());
    format!("http://{host}")
}

pub use crate::domain::is_public;

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn proxies(s: &[&str]) -> TrustedProxies {
        TrustedProxies(s.iter().map(|p| p.parse().unwrap()).collect())
    }

    #[test]
    fn untrusted_peer_is_the_client() {
        let req = TestRequest::default()
            .peer_addr("203.0.113.9:1234".parse().unwrap())
            .insert_header(("x-forwarded-for", "1.2.3.4"))
            .to_http_request();
        assert_eq!(
            client_ip(&req, &proxies(&[])).unwrap().to_string(),
            "203.0.113.9"
        );
    }

    #[test]
    fn trusted_proxy_forwards_the_rightmost_untrusted_address() {
        let req = TestRequest::default()
            .peer_addr("10.0.0.2:1234".parse().unwrap())
            .insert_header(("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.1"))
            .to_http_request();
        let ip = client_ip(&req, &proxies(&["10.0.0.0/8"])).unwrap();
        assert_eq!(ip.to_string(), "198.51.100.7");
    }

    fn via(peer: &str, xff: &str) -> Option<String> {
        let req = TestRequest::default()
            .peer_addr(format!("{peer}:1234").parse().unwrap())
            .insert_header(("x-forwarded-for", xff))
            .to_http_request();
        client_ip(&req, &proxies(&["10.0.0.0/8"])).map(|ip| ip.to_string())
    }

    #[test]
    fn garbage_before_the_first_untrusted_entry_makes_the_client_unknown() {
        assert_eq!(via("10.0.0.2", "not-an-ip"), None);
        assert_eq!(via("10.0.0.2", "198.51.100.9, junk"), None);
        assert_eq!(via("10.0.0.2", "198.51.100.9, , 10.0.0.3"), None);
        // Garbage to the left of the real client is the client's own forgery: ignored.
        assert_eq!(
            via("10.0.0.2", "junk, 198.51.100.9").as_deref(),
            Some("198.51.100.9")
        );
    }

    #[test]
    fn ipv4_mapped_addresses_are_canonicalised_before_matching() {
        assert_eq!(
            via("10.0.0.2", "198.51.100.9, ::ffff:10.0.0.7").as_deref(),
            Some("198.51.100.9")
        );
        assert_eq!(
            via("10.0.0.2", "::ffff:198.51.100.9").as_deref(),
            Some("198.51.100.9")
        );
        // A mapped peer is a trusted proxy too.
        assert_eq!(
            via("[::ffff:10.0.0.2]", "198.51.100.9").as_deref(),
            Some("198.51.100.9")
        );
    }

    #[test]
    fn only_public_addresses_are_public() {
        for ip in [
            "203.0.113.7",
            "198.51.100.9",
            "8.8.8.8",
            "2001:db8::1",
            "2a00:1450::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip} refused");
        }
        for ip in [
            "0.0.0.0",
            "10.0.0.1",
            "127.0.0.1",
            "169.254.1.1",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.255",
            "198.18.0.1",
            "198.19.255.1",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} accepted");
        }
        assert!(is_public("100.128.0.1".parse().unwrap()));
        assert!(is_public("198.20.0.1".parse().unwrap()));
    }

    #[test]
    fn forwarded_hosts_are_believed_only_from_trusted_proxies() {
        let base = |peer: &str, headers: &[(&str, &str)]| {
            let mut req = TestRequest::default()
                .peer_addr(format!("{peer}:1234").parse().unwrap())
                .insert_header(("host", "10.0.0.5:8080"));
            for h in headers {
                req = req.insert_header(*h);
            }
            request_base_url(&req.to_http_request(), &proxies(&["10.0.0.0/8"]))
        };
        let xfh = [
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "https"),
        ];
        let fwd = [("forwarded", "host=evil.example;proto=https")];
        let cases = [
            ("203.0.113.9", &[][..], "http://10.0.0.5:8080"),
            ("203.0.113.9", &xfh[..], "http://10.0.0.5:8080"),
            ("203.0.113.9", &fwd[..], "http://10.0.0.5:8080"),
            ("10.0.0.2", &[][..], "http://10.0.0.5:8080"),
            ("10.0.0.2", &xfh[..], "https://evil.example"),
            ("10.0.0.2", &fwd[..], "https://evil.example"),
        ];
        for (peer, headers, want) in cases {
            assert_eq!(base(peer, headers), want, "{peer} {headers:?}");
        }
    }

    #[test]
    fn an_all_internal_chain_is_its_leftmost_hop() {
        assert_eq!(
            via("10.0.0.2", "10.0.0.9, 10.0.0.3").as_deref(),
            Some("10.0.0.9")
        );
    }
}
