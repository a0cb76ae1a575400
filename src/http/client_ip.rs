use std::net::IpAddr;

use actix_web::HttpRequest;

use crate::config::TrustedProxies;

/// The visitor's address: the TCP peer, unless the peer is a trusted proxy, in which case the
/// right-most `X-Forwarded-For` entry that is not itself a trusted proxy. Walking from the right
/// means a client cannot forge its address by sending its own `X-Forwarded-For`.
pub fn client_ip(req: &HttpRequest, trusted: &TrustedProxies) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !trusted.contains(peer) {
        return Some(peer);
    }
    let mut chain: Vec<IpAddr> = Vec::new();
    for value in req.headers().get_all("x-forwarded-for") {
        let Ok(s) = value.to_str() else {
            return Some(peer);
        };
        for part in s.split(',') {
            match part.trim().parse::<IpAddr>() {
                Ok(ip) => chain.push(ip),
                Err(_) => return Some(peer),
            }
        }
    }
    Some(
        chain
            .into_iter()
            .rev()
            .find(|ip| !trusted.contains(*ip))
            .unwrap_or(peer),
    )
}

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

    #[test]
    fn garbage_forwarded_header_falls_back_to_the_peer() {
        let req = TestRequest::default()
            .peer_addr("10.0.0.2:1234".parse().unwrap())
            .insert_header(("x-forwarded-for", "not-an-ip"))
            .to_http_request();
        let ip = client_ip(&req, &proxies(&["10.0.0.0/8"])).unwrap();
        assert_eq!(ip.to_string(), "10.0.0.2");
    }
}
