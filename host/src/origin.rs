//! Origins a connector may call: scheme, host and port, exactly. Manifests list them; every
//! outbound request is compared against them before any name is resolved.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The scheme of an origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheme {
    /// Plain HTTP (for test providers and private networks a platform allows).
    Http,
    /// HTTP over TLS.
    Https,
}

impl Scheme {
    /// The port used when an origin names none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    /// The scheme as URLs spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// `scheme://host:port`, with the host in lowercase and the port always known.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// A DNS name or an IP literal (IPv6 without brackets).
    pub host: String,
    /// The TCP port.
    pub port: u16,
}

/// Why an origin was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{text}` is not an origin like https://api.example.com or http://127.0.0.1:8080: {problem}"
)]
pub struct OriginError {
    /// What was given (capped).
    pub text: String,
    /// What is wrong.
    pub problem: &'static str,
}

impl Origin {
    /// Parse `scheme://host[:port]` (a trailing `/` is allowed; paths, queries and user info
    /// are not: an approval covers a whole origin, never part of one).
    pub fn parse(text: &str) -> Result<Origin, OriginError> {
        let fail = |problem| OriginError {
            text: text.chars().take(120).collect(),
            problem,
        };
        let (scheme, rest) = if let Some(rest) = text.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = text.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else {
            return Err(fail("it must start with https:// or http://"));
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#']) {
            return Err(fail("give only scheme, host and port, no path or query"));
        }
        if authority.contains('@') {
            return Err(fail("user names and passwords do not belong in an origin"));
        }
        let (host, port) = split_host_port(authority).ok_or_else(|| fail("the port is invalid"))?;
        let host = host.to_ascii_lowercase();
        let valid_name = !host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if host.parse::<IpAddr>().is_err() && !valid_name {
            return Err(fail("the host is not a DNS name or an IP address"));
        }
        Ok(Origin {
            scheme,
            port: port.unwrap_or(scheme.default_port()),
            host,
        })
    }

    /// The origin of an absolute URI, or `None` when it has no scheme or host (a relative
    /// URI) or a scheme other than http(s).
    pub fn of_uri(uri: &http::Uri) -> Option<Origin> {
        let scheme = match uri.scheme_str()? {
            "https" => Scheme::Https,
            "http" => Scheme::Http,
            _ => return None,
        };
        let authority = uri.authority()?;
        if authority.as_str().contains('@') {
            return None;
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if host.is_empty() {
            return None;
        }
        Some(Origin {
            scheme,
            host,
            port: authority.port_u16().unwrap_or(scheme.default_port()),
        })
    }

    /// The host as an IP address, when it is a literal.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }
}

/// Split `host[:port]` and `[v6][:port]`; `None` for a malformed port.
fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(port) => Some((host, Some(port.parse().ok()?))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host, Some(port.parse().ok().filter(|p| *p != 0)?))),
        None => Some((authority, None)),
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == self.scheme.default_port() {
            write!(f, "{}://{host}", self.scheme.as_str())
        } else {
            write!(f, "{}://{host}:{}", self.scheme.as_str(), self.port)
        }
    }
}

impl Serialize for Origin {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Origin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Origin::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse_with_default_ports_and_lowercase_hosts() {
        let o = Origin::parse("https://API.Gateway.example/").unwrap();
        assert_eq!(
            (o.scheme, o.host.as_str(), o.port),
            (Scheme::Https, "api.gateway.example", 443)
        );
        assert_eq!(o.to_string(), "https://api.gateway.example");
        let o = Origin::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(o.port, 8080);
        assert_eq!(o.to_string(), "http://127.0.0.1:8080");
        let o = Origin::parse("https://[::1]:8443").unwrap();
        assert_eq!(o.host, "::1");
        assert_eq!(o.to_string(), "https://[::1]:8443");
    }

    #[test]
    fn anything_but_a_bare_origin_is_refused() {
        for bad in [
            "api.example.com",
            "ftp://api.example.com",
            "https://api.example.com/v1",
            "https://api.example.com?x=1",
            "https://user:pw@api.example.com",
            "https://api.example.com:0",
            "https://api.example.com:99999",
            "https://",
            "https://bad_host!.com",
            "https://-lead.example.com",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_uri_has_an_origin_only_when_absolute() {
        let uri: http::Uri = "http://Gateway.test:8080/v1/pay?x=1".parse().unwrap();
        assert_eq!(
            Origin::of_uri(&uri),
            Some(Origin::parse("http://gateway.test:8080").unwrap())
        );
        let relative: http::Uri = "/v1/pay".parse().unwrap();
        assert_eq!(Origin::of_uri(&relative), None);
        let v6: http::Uri = "https://[::1]/".parse().unwrap();
        assert_eq!(Origin::of_uri(&v6).unwrap().host, "::1");
    }
}
