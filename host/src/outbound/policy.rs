//! The address policy and the TLS set-up every outbound request shares: which addresses a
//! connector may never reach, the platform's exceptions and static names, and the vetted
//! resolution that picks the one address to connect to.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use wasmtime_wasi_http::Error as HttpError;

use super::transport::{Failure, failed, refused};
use crate::origin::Origin;

/// One loopback or private address (IP and port) that one connector may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateAccess {
    /// The connector id, as its manifest names it.
    pub connector: String,
    /// The address and port, exactly.
    pub addr: SocketAddr,
}

/// Platform-wide network rules for connectors.
#[derive(Debug, Clone, Default)]
pub struct NetworkPolicy {
    /// Loopback or private addresses a connector may reach even so (a platform's own sidecar,
    /// or tests' local providers), each for one connector and one port: one connector's
    /// exemption opens nothing to another, nor another port. Empty by default.
    pub allow_private: Vec<PrivateAccess>,
    /// Static name resolution, like curl's `--resolve`: `(host, port)` to the address used
    /// instead of DNS (staging providers, tests). The vetting rules still apply.
    pub resolve: HashMap<(String, u16), SocketAddr>,
    /// Extra trusted root certificates (DER), for providers behind a private CA.
    pub extra_roots: Vec<Vec<u8>>,
    /// No network at all: every request that passes the checks (its secrets filled) is
    /// refused before connecting, with [`super::OFFLINE_REFUSAL`] (how `airlock dev run` runs
    /// by default).
    pub offline: bool,
}

impl NetworkPolicy {
    /// Let `connector` reach `addr` (exact IP and port), which would otherwise be refused as
    /// private or loopback.
    pub fn allow_private(mut self, connector: &str, addr: SocketAddr) -> Self {
        self.allow_private.push(PrivateAccess {
            connector: connector.to_owned(),
            addr,
        });
        self
    }

    /// Whether `connector` may reach `addr`: public, or exempted for it and that port.
    fn reachable(&self, connector: &str, addr: &SocketAddr) -> bool {
        !is_prohibited(addr.ip())
            || self
                .allow_private
                .iter()
                .any(|p| p.connector == connector && p.addr == *addr)
    }

    /// Resolve `host:port` to `addr` instead of asking DNS.
    pub fn resolve(mut self, host: &str, port: u16, addr: SocketAddr) -> Self {
        self.resolve.insert((host.to_ascii_lowercase(), port), addr);
        self
    }

    /// Trust one more root certificate (DER).
    pub fn trust_root(mut self, der: Vec<u8>) -> Self {
        self.extra_roots.push(der);
        self
    }

    /// Refuse every request before connecting, after the usual checks.
    pub fn offline(mut self) -> Self {
        self.offline = true;
        self
    }
}

/// The network side shared by every invocation of a host: the policy and one TLS client
/// configuration.
pub(crate) struct Network {
    policy: NetworkPolicy,
    tls: Arc<rustls::ClientConfig>,
}

/// Why a TLS client could not be configured.
#[derive(Debug, thiserror::Error)]
#[error("cannot configure TLS for outbound requests: {0}")]
pub struct TlsSetupError(String);

impl Network {
    /// The network side of a host under `policy`, with webpki's roots plus the policy's own.
    pub(crate) fn new(policy: NetworkPolicy) -> Result<Network, TlsSetupError> {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.into(),
        };
        for der in &policy.extra_roots {
            roots
                .add(rustls::pki_types::CertificateDer::from(der.clone()))
                .map_err(|e| TlsSetupError(format!("extra root certificate: {e}")))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsSetupError(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Network {
            policy,
            tls: Arc::new(tls),
        })
    }
}

impl Network {
    /// The TLS client configuration every request shares.
    pub(super) fn tls(&self) -> Arc<rustls::ClientConfig> {
        self.tls.clone()
    }

    /// True when no request may connect at all.
    pub(super) fn offline(&self) -> bool {
        self.policy.offline
    }
}

/// The one address `connector` connects to for `origin`: from the platform's static table,
/// the IP literal, or DNS (within `remaining`), vetted here and never resolved again.
pub(super) async fn vetted_address(
    network: &Network,
    connector: &str,
    origin: &Origin,
    remaining: Duration,
) -> Result<SocketAddr, Failure> {
    let policy = &network.policy;
    let key = (origin.host.clone(), origin.port);
    let candidates: Vec<SocketAddr> = if let Some(addr) = policy.resolve.get(&key) {
        vec![*addr]
    } else if let Some(ip) = origin.ip() {
        vec![SocketAddr::new(ip, origin.port)]
    } else {
        let lookup = tokio::net::lookup_host((origin.host.as_str(), origin.port));
        match tokio::time::timeout(remaining, lookup).await {
            Ok(Ok(addrs)) => addrs.collect(),
            Ok(Err(err)) => {
                return Err(failed(
                    HttpError::DnsError {
                        rcode: Some(err.kind().to_string()),
                        info_code: None,
                    },
                    format!("dns: {}", err.kind()),
                ));
            }
            Err(_) => return Err(failed(HttpError::DnsTimeout, "dns: deadline")),
        }
    };
    match candidates.iter().find(|a| policy.reachable(connector, a)) {
        Some(addr) => Ok(*addr),
        None if candidates.is_empty() => {
            Err(failed(HttpError::DestinationNotFound, "dns: no addresses"))
        }
        None => Err(refused(
            HttpError::DestinationIpProhibited,
            format!(
                "{origin} resolves only to prohibited addresses ({})",
                candidates
                    .iter()
                    .map(|a| a.ip().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// Addresses no connector may reach unless the platform allows the exact IP: they belong to
/// the host, its network, or cloud metadata services (169.254.169.254).
pub fn is_prohibited(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || (a == 192 && b == 0 && v4.octets()[2] == 0) // IETF protocol assignments
                || a >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_prohibited(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            // IPv4-compatible (::a.b.c.d) and 6to4 (2002:a.b.c.d::) carry an IPv4 address
            // that must pass the same test.
            if seg[..6].iter().all(|s| *s == 0) {
                let [.., a, b] = seg;
                let embedded =
                    std::net::Ipv4Addr::new((a >> 8) as u8, a as u8, (b >> 8) as u8, b as u8);
                return is_prohibited(IpAddr::V4(embedded));
            }
            if seg[0] == 0x2002 {
                let embedded = std::net::Ipv4Addr::new(
                    (seg[1] >> 8) as u8,
                    seg[1] as u8,
                    (seg[2] >> 8) as u8,
                    seg[2] as u8,
                );
                if is_prohibited(IpAddr::V4(embedded)) {
                    return true;
                }
            }
            let first = seg[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first == 0x64 && v6.segments()[1] == 0xff9b) // NAT64 to any v4
                || (first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
                || (first == 0x2001 && v6.segments()[1] == 0) // Teredo
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (first == 0x0100 && seg[1..4].iter().all(|s| *s == 0)) // discard-only
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_address_is_open_only_to_its_connector_and_port() {
        let sidecar: SocketAddr = "10.0.0.5:8443".parse().unwrap();
        let policy = NetworkPolicy::default().allow_private("acme.sync", sidecar);
        assert!(policy.reachable("acme.sync", &sidecar));
        assert!(
            !policy.reachable("other.app", &sidecar),
            "another connector"
        );
        let other_port: SocketAddr = "10.0.0.5:22".parse().unwrap();
        assert!(!policy.reachable("acme.sync", &other_port), "another port");
        let public: SocketAddr = "93.184.216.34:443".parse().unwrap();
        assert!(policy.reachable("other.app", &public));
    }

    #[test]
    fn host_network_and_metadata_addresses_are_prohibited() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "192.0.0.8",
            "::7f00:1",
            "2002:a9fe:a9fe::1",
            "2001:0:4136:e378::1",
            "fec0::1",
            "100::1",
        ] {
            assert!(is_prohibited(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(!is_prohibited(ip.parse().unwrap()), "{ip}");
        }
    }
}
