//! The handshake line a launched plugin prints (see `docs/handshake.md`) and the version
//! negotiation both sides share.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;

use crate::protocol::Protocol;

/// The connect-plugin protocol version of this runtime.
pub const CORE_PROTOCOL_VERSION: u32 = 1;

/// Environment variable: the host's core protocol version.
pub const ENV_CORE_VERSION: &str = "CONNECT_PLUGIN_CORE_VERSION";
/// Environment variable: the application versions the host supports (`1,2`).
pub const ENV_APP_VERSIONS: &str = "CONNECT_PLUGIN_APP_VERSIONS";
/// Environment variable: `unix` or `tcp`.
pub const ENV_NETWORK: &str = "CONNECT_PLUGIN_NETWORK";
/// Environment variable: the private directory for the plugin's Unix socket.
pub const ENV_UNIX_DIR: &str = "CONNECT_PLUGIN_UNIX_DIR";
/// Environment variable: a standalone plugin's listen address.
pub const ENV_LISTEN: &str = "CONNECT_PLUGIN_LISTEN";
/// Set to `1` by a host that lets the plugin outlive it (so a later host can reattach): the
/// plugin then does not stop when its stdin closes.
pub const ENV_OUTLIVE_HOST: &str = "CONNECT_PLUGIN_OUTLIVE_HOST";

/// What proves a plugin was started by a host of this application: an environment variable
/// and its value, chosen by the application. Not a secret; a guard against running a plugin
/// by mistake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MagicCookie {
    /// The variable's name.
    pub key: String,
    /// Its value.
    pub value: String,
}

impl MagicCookie {
    /// A cookie.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        MagicCookie {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// Where a plugin listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// A Unix domain socket in a private directory: the default for launched plugins, and
    /// the fastest link.
    Unix,
    /// TCP on loopback.
    Tcp,
}

impl Network {
    /// `unix` or `tcp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Network::Unix => "unix",
            Network::Tcp => "tcp",
        }
    }
}

/// The one line a launched plugin prints on stdout: `CORE|APP|NETWORK|ADDRESS|WIRE|CERT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeLine {
    /// The core protocol version.
    pub core_version: u32,
    /// The negotiated application protocol version.
    pub app_version: u32,
    /// Unix socket or TCP.
    pub network: Network,
    /// The socket path or `IP:PORT`.
    pub address: String,
    /// The wire protocol the plugin prefers.
    pub wire: Protocol,
    /// With mTLS: the plugin's certificate (DER).
    pub cert: Option<Vec<u8>>,
}

/// Why a handshake line does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a handshake line ({why}): {line:?}")]
pub struct InvalidHandshakeLine {
    /// The line.
    pub line: String,
    /// What is wrong.
    pub why: String,
}

impl HandshakeLine {
    /// The URL a client connects to.
    pub fn url(&self) -> String {
        match (self.network, self.cert.is_some()) {
            (Network::Unix, _) => format!("unix:{}", self.address),
            (Network::Tcp, false) => format!("http://{}", self.address),
            (Network::Tcp, true) => format!("https://{}", self.address),
        }
    }
}

impl fmt::Display for HandshakeLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let wire = match self.wire {
            Protocol::Grpc => "grpc",
            _ => "connect",
        };
        let cert = self
            .cert
            .as_ref()
            .map(|c| base64::engine::general_purpose::STANDARD_NO_PAD.encode(c))
            .unwrap_or_default();
        write!(
            f,
            "{}|{}|{}|{}|{}|{}",
            self.core_version,
            self.app_version,
            self.network.as_str(),
            self.address,
            wire,
            cert
        )
    }
}

impl FromStr for HandshakeLine {
    type Err = InvalidHandshakeLine;

    fn from_str(line: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| InvalidHandshakeLine {
            line: line.chars().take(200).collect(),
            why: why.to_owned(),
        };
        let trimmed = line.trim_end_matches(['\r', '\n']);
        let parts: Vec<&str> = trimmed.split('|').collect();
        if parts.len() != 6 {
            return Err(bad(&format!("{} fields, want 6", parts.len())));
        }
        let core_version = parts[0].parse().map_err(|_| bad("CORE is not a number"))?;
        let app_version = parts[1].parse().map_err(|_| bad("APP is not a number"))?;
        let network = match parts[2] {
            "unix" => Network::Unix,
            "tcp" => Network::Tcp,
            _ => return Err(bad("NETWORK must be unix or tcp")),
        };
        let address = parts[3].to_owned();
        if address.is_empty() {
            return Err(bad("ADDRESS is empty"));
        }
        if network == Network::Tcp && address.parse::<std::net::SocketAddr>().is_err() {
            return Err(bad("ADDRESS is not IP:PORT"));
        }
        let wire = match parts[4] {
            "connect" => Protocol::Connect,
            "grpc" => Protocol::Grpc,
            _ => return Err(bad("WIRE must be connect or grpc")),
        };
        let cert = if parts[5].is_empty() {
            None
        } else {
            Some(
                crate::protocol::status::decode_base64_lenient(parts[5])
                    .ok_or_else(|| bad("CERT is not base64"))?,
            )
        };
        Ok(HandshakeLine {
            core_version,
            app_version,
            network,
            address,
            wire,
            cert,
        })
    }
}

/// The highest version both sides support.
pub(crate) fn negotiate(ours: &[u32], theirs: &[u32]) -> Option<u32> {
    ours.iter().copied().filter(|v| theirs.contains(v)).max()
}

/// Parses a comma-separated version list.
pub(crate) fn parse_versions(s: &str) -> Result<Vec<u32>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse()
                .map_err(|_| format!("{v:?} is not a version number"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_round_trip() {
        for line in [
            "1|1|unix|/tmp/cp-x/plugin.sock|connect|",
            "1|7|tcp|127.0.0.1:4000|grpc|AQID",
            "1|2|tcp|[::1]:80|connect|",
        ] {
            let parsed: HandshakeLine = line.parse().unwrap();
            assert_eq!(parsed.to_string(), line);
        }
        let l: HandshakeLine = "1|1|tcp|127.0.0.1:1|connect|AQID\n".parse().unwrap();
        assert_eq!(l.cert.as_deref(), Some(&[1u8, 2, 3][..]));
        assert_eq!(l.url(), "https://127.0.0.1:1");
    }

    #[test]
    fn bad_lines_say_why() {
        for (line, why) in [
            ("hello world", "1 fields"),
            ("1|1|udp|x|connect|", "NETWORK"),
            ("x|1|unix|/s|connect|", "CORE"),
            ("1|1|tcp|localhost|connect|", "IP:PORT"),
            ("1|1|unix||connect|", "empty"),
            ("1|1|unix|/s|soap|", "WIRE"),
            ("1|1|unix|/s|connect|!!", "base64"),
        ] {
            let e = line.parse::<HandshakeLine>().unwrap_err();
            assert!(e.why.contains(why), "{line}: {e}");
        }
    }

    #[test]
    fn negotiation_picks_the_highest_common() {
        assert_eq!(negotiate(&[1, 2, 3], &[2, 3, 4]), Some(3));
        assert_eq!(negotiate(&[1], &[2]), None);
        assert_eq!(parse_versions("1, 2,3").unwrap(), vec![1, 2, 3]);
        assert!(parse_versions("1,x").is_err());
    }
}
