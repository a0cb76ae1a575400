//! Client addresses: which ones can be a visitor's on the public internet.

use std::net::IpAddr;

use super::ParseError;

/// A client address given as text (a postback's `ip`, a server-side click's
/// `client_ip_address`), kept only when [`is_public`]: a platform can use no other.
pub fn parse_public_ip(s: &str) -> Result<IpAddr, ParseError> {
    let ip: IpAddr = s
        .trim()
        .parse()
        .map_err(|_| ParseError::new("is not an IPv4 or IPv6 address"))?;
    if !is_public(ip) {
        return Err(ParseError::new(
            "is not a public address (private, loopback, link-local, CGNAT and other \
             special-purpose ranges are never sent)",
        ));
    }
    Ok(ip.to_canonical())
}

/// Whether an address can be a visitor's on the public internet: checked for `client_ip_address`
/// given by a server-side caller, and before any address goes to an ad platform. Refused: unspecified, loopback, private, link-local, CGNAT
/// (100.64/10), benchmarking (198.18/15), multicast, reserved (240/4, broadcast), IPv6 ULA
/// (fc00::/7), link-local and site-local (fe80::/9), and the IPv4-mapped forms of all of these.
/// Documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32) are accepted:
/// they never reach a real server, and examples and tests use them as public addresses.
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(a == 0
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (18..20).contains(&b))
                || v4.is_multicast()
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_unspecified()
                || v6.is_loopback()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xff80) == 0xfe80
                || v6.is_multicast())
        }
    }
}
