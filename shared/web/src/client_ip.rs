//! The caller's IP, for per-IP rate limits.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// How many reverse proxies in front of this edge append to
/// `X-Forwarded-For` (`TRUSTED_PROXY_HOPS`): 1 directly behind Cloud Run,
/// 2 with one more proxy (e.g. a CDN) in front of it, 0 with none.
/// [`apply_edge_layers`](crate::apply_edge_layers) puts it on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxyHops(pub usize);

/// The client's address: the `hops`-th entry from the right of
/// `X-Forwarded-For`, the one the outermost trusted proxy wrote. Entries
/// further left are whatever the client sent, so they are never used.
/// With fewer entries than `hops` (a request that bypassed a proxy) or an
/// unreadable entry there, it is the socket's peer: a trusted proxy's
/// address that such requests share, so a limit gets stricter for them
/// rather than spoofable. IPv4-mapped IPv6 (`::ffff:a.b.c.d`) counts as
/// the IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl std::fmt::Display for ClientIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(ip) => write!(f, "{ip}"),
            None => f.write_str("unknown"),
        }
    }
}

impl ClientIp {
    fn from_parts(parts: &Parts) -> Self {
        let hops = parts
            .extensions
            .get::<TrustedProxyHops>()
            .map_or(1, |hops| hops.0);
        let from_proxy = hops.checked_sub(1).and_then(|skip| {
            parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .nth_back(skip)?
                .trim()
                .parse::<IpAddr>()
                .ok()
        });
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Self(from_proxy.or(peer).map(|ip| ip.to_canonical()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_ip(hops: usize, forwarded: Option<&str>) -> String {
        let mut request = axum::http::Request::builder();
        if let Some(value) = forwarded {
            request = request.header("x-forwarded-for", value);
        }
        let (mut parts, ()) = request.body(()).unwrap().into_parts();
        parts.extensions.insert(TrustedProxyHops(hops));
        parts
            .extensions
            .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 443))));
        ClientIp::from_parts(&parts).to_string()
    }

    #[test]
    fn the_client_is_the_entry_the_outermost_trusted_proxy_wrote() {
        let chain = Some("6.6.6.6, 203.0.113.7, 198.51.100.2");
        assert_eq!(client_ip(1, chain), "198.51.100.2");
        assert_eq!(client_ip(2, chain), "203.0.113.7");
        assert_eq!(client_ip(0, chain), "10.0.0.1", "no proxy trusted");
    }

    #[test]
    fn too_few_entries_or_a_garbled_one_fall_back_to_the_socket_peer() {
        assert_eq!(client_ip(2, Some("203.0.113.7")), "10.0.0.1");
        assert_eq!(client_ip(1, None), "10.0.0.1");
        assert_eq!(client_ip(1, Some("1.2.3.4, not-an-ip")), "10.0.0.1");
    }

    #[test]
    fn an_ipv4_mapped_address_counts_as_the_ipv4_address() {
        assert_eq!(client_ip(1, Some("::ffff:203.0.113.7")), "203.0.113.7");
    }
}
