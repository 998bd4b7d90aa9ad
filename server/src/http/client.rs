//! Who is calling: the client's address and whether it reached us over TLS, believing
//! forwarding headers only from trusted proxies.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
};

use app::egress::canonical;
use axum::{
    extract::{ConnectInfo, Request, State},
    http::HeaderMap,
    middleware::Next,
    response::Response,
};
use ipnet::IpNet;

/// Request extension describing the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: IpAddr,
    pub https: bool,
}

pub async fn identify_client(
    State(trusted): State<Arc<[IpNet]>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    let info = client_info(peer, request.headers(), &trusted);
    request.extensions_mut().insert(info);
    next.run(request).await
}

fn client_info(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> ClientInfo {
    let peer = canonical(peer);
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return ClientInfo {
            ip: peer,
            https: false,
        };
    }
    // Walk the chain from the nearest hop back; the first untrusted address is the client.
    // A hop that is not an address ends the chain: what lies beyond it cannot be believed,
    // so the client is the last hop that could be.
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut ip = peer;
    for hop in hops.iter().rev() {
        let Ok(hop) = hop.parse::<IpAddr>().map(canonical) else {
            break;
        };
        ip = hop;
        if !is_trusted(&hop) {
            break;
        }
    }
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
    ClientInfo { ip, https }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::tests::headers;

    #[test]
    fn forwarding_headers_from_untrusted_peers_are_ignored() {
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        let info = client_info(
            peer,
            &headers(&[
                ("x-forwarded-for", "1.2.3.4"),
                ("x-forwarded-proto", "https"),
            ]),
            &["10.0.0.0/8".parse().unwrap()],
        );
        assert_eq!(
            info,
            ClientInfo {
                ip: peer,
                https: false
            }
        );
    }

    #[test]
    fn a_trusted_proxy_chain_yields_the_first_untrusted_hop() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        let info = client_info(
            "10.0.0.2".parse().unwrap(),
            &headers(&[
                ("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.5"),
                ("x-forwarded-proto", "https"),
            ]),
            &trusted,
        );
        assert_eq!(info.ip, "198.51.100.7".parse::<IpAddr>().unwrap());
        assert!(info.https);
    }

    #[test]
    fn a_hop_that_is_not_an_address_ends_the_trusted_chain() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        let info = client_info(
            "10.0.0.2".parse().unwrap(),
            &headers(&[("x-forwarded-for", "6.6.6.6, garbage, 10.0.0.5")]),
            &trusted,
        );
        assert_eq!(info.ip, "10.0.0.5".parse::<IpAddr>().unwrap());
        let info = client_info(
            "10.0.0.2".parse().unwrap(),
            &headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7:443")]),
            &trusted,
        );
        assert_eq!(info.ip, "10.0.0.2".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn mapped_addresses_are_compared_as_ipv4() {
        let peer: IpAddr = "::ffff:203.0.113.9".parse().unwrap();
        let info = client_info(peer, &HeaderMap::new(), &[]);
        assert_eq!(info.ip, "203.0.113.9".parse::<IpAddr>().unwrap());
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        let info = client_info(
            "::ffff:10.0.0.2".parse().unwrap(),
            &headers(&[("x-forwarded-for", "::ffff:198.51.100.7")]),
            &trusted,
        );
        assert_eq!(info.ip, "198.51.100.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_trusted_peer_without_headers_is_the_client() {
        let peer: IpAddr = "::1".parse().unwrap();
        let info = client_info(peer, &HeaderMap::new(), &["::1/128".parse().unwrap()]);
        assert_eq!(
            info,
            ClientInfo {
                ip: peer,
                https: false
            }
        );
    }
}
