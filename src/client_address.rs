//! The address of the client behind a request, for the limits that count per client (SPEC §7):
//! the TCP peer, or what `X-Forwarded-For` says only when that peer is one of
//! HOTLINE_TRUSTED_PROXIES. Anyone can write the header; only our own proxy's word counts.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::app::AppState;

/// The client of a request as the limits see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    /// The key a limit counts under: an IPv4 address as it is, an IPv6 address by its /64
    /// network, since one subscriber is usually handed a whole /64 and could otherwise step
    /// through it.
    pub fn limit_key(self) -> String {
        match self.0 {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        }
    }
}

/// The client address of a request that came from `peer` with `headers`. When `peer` is a
/// trusted proxy, `X-Forwarded-For` is read from the right (each proxy appends the address it
/// got the request from): trusted proxies are skipped, and the first address that is not one
/// is the client. An entry that is not an address ends the walk at the last good one, since
/// everything left of it may be the client's own invention.
// To be merged with the shared derivation of the client address (login throttling needs the
// same): one function, one reading of HOTLINE_TRUSTED_PROXIES.
pub fn client_address_from(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpAddr]) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        let Some(address) = parse_entry(entry) else { return client };
        client = address;
        if !trusted_proxies.contains(&address) {
            break;
        }
    }
    client
}

/// `203.0.113.7`, `2001:db8::1`, `[2001:db8::1]:4711` or `203.0.113.7:4711`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    entry.parse::<IpAddr>().or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip())).ok().map(|ip| ip.to_canonical())
}

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // The server always runs with connection info; a router driven without it (a test
        // calling it directly) counts every request as one unknown client.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(addr)| addr.ip());
        Ok(Self(client_address_from(peer, &parts.headers, &state.settings.trusted_proxies)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let forged = headers(&["198.51.100.9"]);
        assert_eq!(client_address_from(ip("203.0.113.7"), &forged, &[]), ip("203.0.113.7"));
        assert_eq!(client_address_from(ip("203.0.113.7"), &forged, &[ip("10.0.0.1")]), ip("203.0.113.7"));
        assert_eq!(client_address_from(ip("10.0.0.1"), &forged, &[ip("10.0.0.1")]), ip("198.51.100.9"));
    }

    #[test]
    fn the_rightmost_address_that_is_not_a_trusted_proxy_is_the_client() {
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        // The client wrote its own first entry; our two proxies appended the rest.
        let chain = headers(&["1.1.1.1, 203.0.113.7", "10.0.0.2"]);
        assert_eq!(client_address_from(ip("10.0.0.1"), &chain, &trusted), ip("203.0.113.7"));
        // Garbage left of the real client changes nothing; garbage appended by nobody we trust
        // stops the walk at the last address a trusted proxy vouched for.
        let garbage = headers(&["not-an-address, 203.0.113.7"]);
        assert_eq!(client_address_from(ip("10.0.0.1"), &garbage, &trusted), ip("203.0.113.7"));
        let garbage_last = headers(&["203.0.113.7, unknown"]);
        assert_eq!(client_address_from(ip("10.0.0.1"), &garbage_last, &trusted), ip("10.0.0.1"));
        // No header from the proxy: the proxy itself is all we know.
        assert_eq!(client_address_from(ip("10.0.0.1"), &HeaderMap::new(), &trusted), ip("10.0.0.1"));
        assert_eq!(client_address_from(ip("10.0.0.1"), &headers(&["[2001:db8::5]:4711"]), &trusted), ip("2001:db8::5"));
        assert_eq!(client_address_from(ip("::ffff:10.0.0.1"), &headers(&["203.0.113.8"]), &trusted), ip("203.0.113.8"));
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_network() {
        assert_eq!(ClientAddress(ip("2001:db8:1:2:aaaa::1")).limit_key(), "2001:db8:1:2::/64");
        assert_eq!(
            ClientAddress(ip("2001:db8:1:2:aaaa::1")).limit_key(),
            ClientAddress(ip("2001:db8:1:2:ffff::9")).limit_key()
        );
        assert_eq!(ClientAddress(ip("203.0.113.7")).limit_key(), "203.0.113.7");
    }
}
