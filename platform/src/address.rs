//! Where a self-registering plugin says it serves, and which such addresses the host
//! accepts: an allow-list of patterns (`http://10.0.0.*:8080`, `http://127.0.0.1:*`,
//! `unix:/run/plugins/*`). Nothing is allowed until the host is told what is. Pure.

use std::fmt;

use crate::registry::names::clip;

/// Longest address accepted.
pub const MAX_ADDRESS_LEN: usize = 512;

/// A declared address, normalised: `http://HOST:PORT` or `https://HOST:PORT` (host in
/// lower case, the port explicit) or `unix:/ABSOLUTE/PATH`. The host calls `https`
/// addresses with its TLS settings for providers (`PlatformConfig::provider_tls`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address(String);

/// Why an address is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// It does not parse as an address this host can call.
    #[error("invalid address {address:?}: {why}")]
    Invalid {
        /// The address (clipped).
        address: String,
        /// Why.
        why: &'static str,
    },
    /// It parses, and the allow-list does not allow it.
    #[error("address {0:?} is not on this host's allow-list")]
    NotAllowed(String),
}

impl AddressError {
    fn invalid(address: &str, why: &'static str) -> Self {
        AddressError::Invalid {
            address: clip(address),
            why,
        }
    }
}

impl Address {
    /// Parses and normalises a declared address.
    ///
    /// ```
    /// use connect_plugin_platform::address::Address;
    ///
    /// assert_eq!(Address::parse("HTTP://LocalHost:8080/").unwrap().as_str(), "http://localhost:8080");
    /// assert_eq!(Address::parse("unix:///run/p.sock").unwrap().as_str(), "unix:/run/p.sock");
    /// assert!(Address::parse("http://example.com").is_err(), "the port must be explicit");
    /// assert!(Address::parse("unix:/run/../etc/x").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Address, AddressError> {
        if text.len() > MAX_ADDRESS_LEN || text.chars().any(char::is_control) {
            return Err(AddressError::invalid(
                text,
                "too long or with control characters",
            ));
        }
        if let Some(rest) = text.strip_prefix("unix:") {
            let path = rest.trim_start_matches('/');
            if path.is_empty()
                || path
                    .split('/')
                    .any(|s| s.is_empty() || s == "." || s == "..")
            {
                return Err(AddressError::invalid(
                    text,
                    "a unix address needs a clean absolute path",
                ));
            }
            return Ok(Address(format!("unix:/{path}")));
        }
        let uri: http::Uri = text
            .parse()
            .map_err(|_| AddressError::invalid(text, "not a URL"))?;
        let scheme = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("http") => "http",
            Some("https") => "https",
            _ => {
                return Err(AddressError::invalid(
                    text,
                    "the scheme must be http, https or unix",
                ));
            }
        };
        let (Some(host), Some(port)) = (uri.host(), uri.port_u16()) else {
            return Err(AddressError::invalid(
                text,
                "a host and an explicit port are needed",
            ));
        };
        if uri.path() != "/" && !uri.path().is_empty() || uri.query().is_some() {
            return Err(AddressError::invalid(text, "no path or query"));
        }
        if port == 0 {
            return Err(AddressError::invalid(text, "port 0"));
        }
        Ok(Address(format!(
            "{scheme}://{}:{port}",
            host.to_ascii_lowercase()
        )))
    }

    /// Whether the provider serves TLS at this address.
    pub fn is_tls(&self) -> bool {
        self.0.starts_with("https://")
    }

    /// The normalised address, as a URL a channel connects to.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The addresses a host accepts from self-registering plugins: patterns over the
/// normalised address, where `*` matches one label — in an `http://` pattern a run of
/// characters without `.`, `:` or `/` (`10.0.0.*` does not match `10.0.0.7.evil.com`), in
/// a `unix:` pattern a run without `/` (one file of a directory).
///
/// ```
/// use connect_plugin_platform::address::{Address, AllowList};
///
/// let allow = AllowList::new().with("http://127.0.0.1:*").unwrap().with("unix:/run/plugins/*").unwrap();
/// assert!(allow.check(&Address::parse("http://127.0.0.1:7001").unwrap()).is_ok());
/// assert!(allow.check(&Address::parse("http://10.0.0.1:7001").unwrap()).is_err());
/// assert!(allow.check(&Address::parse("unix:/run/plugins/cache.sock").unwrap()).is_ok());
/// assert!(allow.check(&Address::parse("unix:/run/plugins/x/y.sock").unwrap()).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    patterns: Vec<String>,
}

impl AllowList {
    /// Allows nothing.
    pub fn new() -> Self {
        AllowList::default()
    }

    /// Allows addresses matching `pattern` (normalised like an address: lower-case scheme
    /// and host).
    pub fn with(mut self, pattern: &str) -> Result<Self, AddressError> {
        self.insert(pattern)?;
        Ok(self)
    }

    /// [`AllowList::with`] in place.
    pub fn insert(&mut self, pattern: &str) -> Result<(), AddressError> {
        if pattern.len() > MAX_ADDRESS_LEN || pattern.chars().any(char::is_control) {
            return Err(AddressError::invalid(
                pattern,
                "too long or with control characters",
            ));
        }
        let lower = match pattern.strip_prefix("unix:") {
            Some(path) => format!("unix:/{}", path.trim_start_matches('/')),
            None => pattern.to_ascii_lowercase(),
        };
        if !(lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with("unix:/"))
        {
            return Err(AddressError::invalid(
                pattern,
                "a pattern starts with http://, https:// or unix:/",
            ));
        }
        self.patterns.push(lower);
        Ok(())
    }

    /// Whether nothing is allowed.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Refuses `address` unless a pattern matches it.
    pub fn check(&self, address: &Address) -> Result<(), AddressError> {
        if self.patterns.iter().any(|p| {
            let stops: &[u8] = if p.starts_with("unix:") { b"/" } else { b"./:" };
            glob(p.as_bytes(), address.0.as_bytes(), stops)
        }) {
            Ok(())
        } else {
            Err(AddressError::NotAllowed(address.0.clone()))
        }
    }
}

/// `*` matches any run of bytes other than those in `stops`.
fn glob(pattern: &[u8], text: &[u8], stops: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => {
            let mut i = 0;
            loop {
                if glob(rest, &text[i..], stops) {
                    return true;
                }
                if i == text.len() || stops.contains(&text[i]) {
                    return false;
                }
                i += 1;
            }
        }
        Some((c, rest)) => text.first() == Some(c) && glob(rest, &text[1..], stops),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised_or_refused() {
        assert_eq!(
            Address::parse("http://[::1]:9").unwrap().as_str(),
            "http://[::1]:9"
        );
        for bad in [
            "",
            "ftp://x:1",
            "http://x",
            "http://x:0",
            "http://x:1/path",
            "http://x:1/?q=1",
            "unix:",
            "unix:/a//b",
            "unix:/a/./b",
            "http://x:1\0",
            &format!("http://{}:1", "a".repeat(600)),
        ] {
            assert!(Address::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn nothing_is_allowed_by_default() {
        let a = Address::parse("http://127.0.0.1:1").unwrap();
        assert!(matches!(
            AllowList::new().check(&a),
            Err(AddressError::NotAllowed(_))
        ));
    }

    #[test]
    fn patterns_match_whole_addresses() {
        let allow = AllowList::new()
            .with("HTTP://10.0.0.*:8080")
            .unwrap()
            .with("unix:///run/p/*")
            .unwrap();
        let ok = |s| allow.check(&Address::parse(s).unwrap()).is_ok();
        assert!(ok("http://10.0.0.7:8080"));
        assert!(!ok("http://10.0.0.7:8081"));
        assert!(!ok("http://10.0.0.7.evil.com:8080"), "* is one label");
        let any_port = AllowList::new().with("http://127.0.0.1:*").unwrap();
        assert!(
            any_port
                .check(&Address::parse("http://127.0.0.1:7001").unwrap())
                .is_ok()
        );
        assert!(
            any_port
                .check(&Address::parse("http://127.0.0.10:7001").unwrap())
                .is_err()
        );
        assert!(!ok("http://110.0.0.7:8080"));
        assert!(ok("unix:/run/p/a.sock"));
        assert!(!ok("unix:/run/p/a/b.sock"));
        assert!(!ok("unix:/run/pp/a.sock"));
        assert!(AllowList::new().with("tcp://x").is_err());
        let tls = AllowList::new().with("https://127.0.0.1:*").unwrap();
        let a = Address::parse("HTTPS://127.0.0.1:8443").unwrap();
        assert_eq!(a.as_str(), "https://127.0.0.1:8443");
        assert!(a.is_tls());
        assert!(tls.check(&a).is_ok());
        assert!(
            tls.check(&Address::parse("http://127.0.0.1:8443").unwrap())
                .is_err(),
            "TLS only"
        );
    }
}
