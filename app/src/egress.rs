//! Where calls to addresses a tenant chose may go: webhooks, HTTP SMS providers and SMSCs reach
//! only the public Internet (unless the operator allows private addresses for local use), and
//! a tenant's auth header cannot take over how a request is framed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `ip` is on the public Internet: not loopback, private, link-local (cloud metadata
/// services live there), shared, reserved, documentation, multicast or unspecified, and not an
/// IPv6 form that carries such an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v6(v6: Ipv6Addr) -> bool {
    let segments = v6.segments();
    let octets = v6.octets();
    let v4_at =
        |at: usize| Ipv4Addr::new(octets[at], octets[at + 1], octets[at + 2], octets[at + 3]);
    // ::/96: unspecified, loopback and the deprecated IPv4-compatible addresses.
    if segments[..6] == [0; 6] {
        return false;
    }
    if let Some(v4) = v6.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    // NAT64, 64:ff9b::/96, reaches the IPv4 address in its last 32 bits.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(v4_at(12));
    }
    // 6to4, 2002::/16, tunnels to the IPv4 address in bits 16..48.
    if segments[0] == 0x2002 {
        return is_public_v4(v4_at(2));
    }
    // Teredo, 2001::/32, ends at its server and a client address nobody should reach from here.
    if segments[0] == 0x2001 && segments[1] == 0 {
        return false;
    }
    !(v6.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local, fc00::/7
        || (segments[0] & 0xffc0) == 0xfe80 // link-local, fe80::/10
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated), fec0::/10
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || segments[0] == 0x0100 && segments[1..4] == [0, 0, 0]) // discard-only, 100::/64
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space, 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

/// `ip` as the address a socket sees: an IPv4-mapped IPv6 address is its IPv4 address, so
/// allow-lists of IPv4 networks match clients of a dual-stack listener.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Header names a tenant may not set, because they frame the request or the connection: a
/// second `Host` or `Content-Length` could smuggle another request through the provider's proxy.
const FRAMING_HEADERS: [&str; 12] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-authenticate",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "content-type",
];

/// Whether `name` is a valid HTTP header name (a token of at most 100 characters).
pub fn is_header_name(name: &str) -> bool {
    (1..=100).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// Whether `name` frames the request or the connection, which a tenant may not set.
pub fn is_framing_header(name: &str) -> bool {
    FRAMING_HEADERS
        .iter()
        .any(|framing| framing.eq_ignore_ascii_case(name))
}

/// Why a call to a tenant's address may not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Blocked {
    #[error("{0} URLs are not allowed: use http or https")]
    Scheme(String),
    #[error("the URL has no host")]
    NoHost,
    #[error("{0} is a private or reserved address, which this server does not call")]
    Private(String),
    #[error("{0} resolves only to private or reserved addresses, which this server does not call")]
    ResolvesPrivate(String),
}

/// What may be called: only public addresses, or (for local development and tests, the
/// operator's `[webhooks] allow_private`) any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Egress {
    pub allow_private: bool,
}

impl Egress {
    pub fn allows(self, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip)
    }

    /// Checks a URL before any connection: http(s) only, and a host that is an address
    /// literal (in any of the forms a URL parser accepts, such as `2130706433` or
    /// `[::ffff:127.0.0.1]`) must be allowed. Names are checked when they are resolved.
    pub fn check_url(self, url: &url::Url) -> Result<(), Blocked> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Blocked::Scheme(url.scheme().into()));
        }
        match url.host() {
            Some(url::Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => Ok(()),
            None => Err(Blocked::NoHost),
        }
    }

    fn check_ip(self, ip: IpAddr) -> Result<(), Blocked> {
        if self.allows(ip) {
            Ok(())
        } else {
            Err(Blocked::Private(ip.to_string()))
        }
    }
}

#[cfg(feature = "ssr")]
impl Egress {
    /// The allowed addresses of `host` (a name or an address literal) at `port`, resolved
    /// once: connect to these and nothing else, so a name cannot resolve to a public address
    /// when checked and a private one when used.
    pub async fn resolve(
        self,
        host: &str,
        port: u16,
    ) -> Result<Vec<std::net::SocketAddr>, ResolveError> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            self.check_ip(ip).map_err(ResolveError::Blocked)?;
            return Ok(vec![std::net::SocketAddr::new(ip, port)]);
        }
        let found: Vec<std::net::SocketAddr> = tokio::net::lookup_host((bare, port))
            .await
            .map_err(|error| ResolveError::Lookup(host.to_string(), error.to_string()))?
            .collect();
        let allowed: Vec<std::net::SocketAddr> = found
            .iter()
            .copied()
            .filter(|addr| self.allows(addr.ip()))
            .collect();
        if allowed.is_empty() {
            return Err(ResolveError::Blocked(Blocked::ResolvesPrivate(host.into())));
        }
        Ok(allowed)
    }

    /// Checks a URL a tenant saves, as [`Egress::check_url`] and [`Egress::check_saved`] do.
    pub async fn check_saved_url(self, url: &str) -> Result<(), Blocked> {
        // A URL that is not one is the form's validation to explain.
        let Ok(url) = url.parse::<url::Url>() else {
            return Ok(());
        };
        if !matches!(url.scheme(), "http" | "https") {
            return Ok(());
        }
        self.check_url(&url)?;
        match (url.host(), url.port_or_known_default()) {
            (Some(url::Host::Domain(name)), Some(port)) => self.check_saved(name, port).await,
            _ => Ok(()),
        }
    }

    /// Checks an address a tenant saves: literals must be allowed, and a name that resolves
    /// must resolve to an allowed address. A name that does not resolve (yet) is kept; it is
    /// checked again at every call.
    pub async fn check_saved(self, host: &str, port: u16) -> Result<(), Blocked> {
        let resolved =
            tokio::time::timeout(std::time::Duration::from_secs(3), self.resolve(host, port)).await;
        match resolved {
            Ok(Err(ResolveError::Blocked(blocked))) => Err(blocked),
            Ok(Ok(_) | Err(ResolveError::Lookup(..))) | Err(_) => Ok(()),
        }
    }
}

/// Why a host has no address to call.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, thiserror::Error)]
pub enum ResolveError {
    #[error(transparent)]
    Blocked(Blocked),
    #[error("{0} could not be resolved: {1}")]
    Lookup(String, String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        let blocked = [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "::127.0.0.1",
            "::8.8.8.8",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::10.0.0.1",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:db8::1",
            "100::1",
        ];
        for ip in blocked {
            assert!(!is_public(ip.parse().unwrap()), "{ip} passed");
        }
        for ip in [
            "93.184.215.14",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2a00:1450:4001::200e",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip} blocked");
        }
    }

    #[test]
    fn every_literal_form_of_loopback_is_refused() {
        let strict = Egress::default();
        let check = |url: &str, egress: Egress| egress.check_url(&url.parse().unwrap());
        for url in [
            "http://127.0.0.1:8080/in",
            "http://2130706433:8080/in",
            "http://0x7f000001:8080/in",
            "http://0177.0.0.1/in",
            "http://127.1/in",
            "http://[::ffff:127.0.0.1]:8080/in",
            "http://[::1]/in",
            "http://169.254.169.254/latest/meta-data",
        ] {
            assert!(check(url, strict).is_err(), "{url} passed");
        }
        assert!(check("https://hooks.example.com/in", strict).is_ok());
        let open = Egress {
            allow_private: true,
        };
        assert!(check("http://127.0.0.1:8080/in", open).is_ok());
        assert!(check("ftp://example.com/x", open).is_err());
    }

    #[test]
    fn framing_headers_cannot_carry_a_secret() {
        for name in ["Authorization", "X-Api-Key", "apikey"] {
            assert!(is_header_name(name) && !is_framing_header(name), "{name}");
        }
        for name in [
            "Host",
            "content-length",
            "Transfer-Encoding",
            "Connection",
            "TE",
            "Upgrade",
            "Proxy-Authorization",
        ] {
            assert!(is_framing_header(name), "{name}");
        }
        assert!(!is_header_name("X Api") && !is_header_name(""));
    }

    #[test]
    fn mapped_addresses_are_their_ipv4_address() {
        assert_eq!(
            canonical("::ffff:203.0.113.9".parse().unwrap()),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            canonical("2001:db8::1".parse().unwrap()),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
    }

    #[cfg(feature = "ssr")]
    #[tokio::test]
    async fn names_resolve_only_to_allowed_addresses() {
        let strict = Egress::default();
        assert!(matches!(
            strict.resolve("localhost", 80).await,
            Err(ResolveError::Blocked(_))
        ));
        assert!(strict.resolve("[::1]", 80).await.is_err());
        let open = Egress {
            allow_private: true,
        };
        let found = open.resolve("localhost", 80).await.unwrap();
        assert!(found.iter().all(|addr| addr.port() == 80));
        assert!(strict.check_saved("no-such-host.invalid", 80).await.is_ok());
    }
}
