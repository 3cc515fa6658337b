//! Who is asking: the one place that says which client address a request comes from, for every
//! limit keyed on it (login throttling, the internet reception's rate limits).
//!
//! The address is the TCP peer's. Only when the peer is one of HOTLINE_TRUSTED_PROXIES is
//! `X-Forwarded-For` read, and then from the right: each trusted proxy appends the address it
//! was reached from, so the first entry from the right that is not a trusted proxy is the
//! client. Entries further left were written by the client itself and prove nothing, so a
//! client cannot pick its own address by sending the header.

use std::convert::Infallible;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::config::Settings;

/// The client address of a request, as [`client_addr`] derives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The key limits count by: an IPv4 address as it is; an IPv6 address by its /64, which is
    /// what one subscriber is given, so walking through the addresses of one's own network does
    /// not escape a limit.
    pub fn limit_key(&self) -> String {
        match self.0 {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let s = v6.segments();
                    format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
                }
            },
        }
    }
}

impl fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The client address of a request that arrived from `peer` with `headers`, trusting
/// `X-Forwarded-For` only as far as it was written by `trusted` proxies.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.contains(&canonical(*ip));
    if !is_trusted(&peer) {
        return canonical(peer);
    }
    // Several X-Forwarded-For lines are one list, in order.
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut client = canonical(peer);
    for entry in entries.iter().rev() {
        match parse_entry(entry) {
            Some(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            // A trusted proxy reported something that is not an address: the last proxy that
            // can be believed is the client as far as we can tell.
            None => break,
        }
    }
    client
}

/// An entry of `X-Forwarded-For`: an address, possibly with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let ip = entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| entry.strip_prefix('[').and_then(|e| e.strip_suffix(']')).and_then(|e| e.parse().ok()))?;
    Some(canonical(ip))
}

/// An IPv4 address that reached a dual-stack socket as `::ffff:a.b.c.d` is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client address as an extractor. The server is started with the peer address attached
/// (`into_make_service_with_connect_info`); a request handed to the router some other way (in
/// process) has none, and counts as the unspecified address. The trusted proxies come from the
/// settings of whatever state the router has.
impl<S> FromRequestParts<S> for ClientAddr
where
    S: Send + Sync,
    Arc<Settings>: FromRef<S>,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |ConnectInfo(addr)| addr.ip());
        let settings = Arc::<Settings>::from_ref(state);
        Ok(Self(client_addr(peer, &parts.headers, &settings.trusted_proxies)))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let headers = forwarded(&["203.0.113.7"]);
        assert_eq!(client_addr(ip("198.51.100.1"), &headers, &[]), ip("198.51.100.1"));
        assert_eq!(client_addr(ip("198.51.100.1"), &headers, &[ip("10.0.0.1")]), ip("198.51.100.1"));
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_entry_from_the_right_is_the_client() {
        let proxies = [ip("10.0.0.1"), ip("10.0.0.2")];
        // The client forged the first entry; the outer proxy appended the real one, the inner the outer.
        let headers = forwarded(&["1.1.1.1, 203.0.113.7", "10.0.0.2"]);
        assert_eq!(client_addr(ip("10.0.0.1"), &headers, &proxies), ip("203.0.113.7"));
        assert_eq!(client_addr(ip("10.0.0.1"), &forwarded(&["203.0.113.7:5123"]), &proxies), ip("203.0.113.7"));
        assert_eq!(client_addr(ip("10.0.0.1"), &forwarded(&["[2001:db8::7]:443"]), &proxies), ip("2001:db8::7"));
        // No header: the proxy itself is all there is.
        assert_eq!(client_addr(ip("10.0.0.1"), &HeaderMap::new(), &proxies), ip("10.0.0.1"));
        // Garbage reported by a trusted hop stops the walk at that hop.
        assert_eq!(client_addr(ip("10.0.0.1"), &forwarded(&["unknown, 10.0.0.2"]), &proxies), ip("10.0.0.2"));
    }

    #[test]
    fn mapped_ipv4_is_ipv4_and_ipv6_is_limited_by_its_64() {
        let proxies = [ip("10.0.0.1")];
        assert_eq!(client_addr(ip("::ffff:10.0.0.1"), &forwarded(&["203.0.113.7"]), &proxies), ip("203.0.113.7"));
        assert_eq!(ClientAddr(ip("::ffff:203.0.113.7")).limit_key(), "203.0.113.7");
        assert_eq!(ClientAddr(ip("2001:db8:1:2:aaaa::1")).limit_key(), "2001:db8:1:2::/64");
        assert_eq!(ClientAddr(ip("2001:db8:1:2:bbbb::9")).limit_key(), "2001:db8:1:2::/64");
    }
}
