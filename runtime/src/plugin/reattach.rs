//! What a host needs to reattach to a running plugin, also from another process after a
//! restart: the plugin's handshake line, its process id, and (for a plugin on TCP with
//! automatic mTLS) the host certificate and key the plugin trusts.

use std::fmt;
use std::io::Write as _;
use std::path::Path;
use std::str::FromStr;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::handshake::HandshakeLine;
use super::mtls::SelfSignedCert;

/// Everything needed to reattach to a running plugin. Written as one line of JSON by
/// [`fmt::Display`] and read back by [`FromStr`]; [`ReattachConfig::save`] stores it in a
/// file only its owner can read, since with mTLS it holds the host's private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReattachConfig {
    /// The plugin's handshake line.
    pub line: HandshakeLine,
    /// The plugin's process id, when the host launched it: lets a reattached host wait for
    /// it to exit and kill it after the grace period.
    pub pid: Option<u32>,
    /// The host's certificate (DER) the plugin pins, with mTLS.
    pub host_cert: Option<Vec<u8>>,
    /// The private key (PKCS#8 DER) of that certificate. A secret.
    pub host_key: Option<Vec<u8>>,
}

/// A reattach configuration that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum InvalidReattachConfig {
    /// Not the JSON [`ReattachConfig`] writes.
    #[error("not a reattach configuration: {0}")]
    Json(String),
    /// The handshake line inside is invalid.
    #[error("{0}")]
    Line(#[from] super::handshake::InvalidHandshakeLine),
    /// A field is not base64.
    #[error("{0} is not base64")]
    Base64(&'static str),
    /// The file could not be read or written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

#[derive(Serialize, Deserialize)]
struct Wire {
    line: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host_cert: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host_key: Option<String>,
}

impl ReattachConfig {
    /// A configuration from a handshake line alone (a plugin on a Unix socket or plain TCP).
    pub fn from_line(line: HandshakeLine) -> Self {
        ReattachConfig {
            line,
            pid: None,
            host_cert: None,
            host_key: None,
        }
    }

    pub(crate) fn host_cert(&self) -> Option<SelfSignedCert> {
        match (&self.host_cert, &self.host_key) {
            (Some(cert), Some(key)) => Some(SelfSignedCert::from_der(cert.clone(), key.clone())),
            _ => None,
        }
    }

    /// Writes the configuration to `path`, readable and writable by its owner only (0600),
    /// replacing the file atomically.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), InvalidReattachConfig> {
        use std::os::unix::fs::OpenOptionsExt as _;
        let path = path.as_ref();
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        writeln!(file, "{self}")?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }

    /// Reads a configuration [`ReattachConfig::save`] wrote.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, InvalidReattachConfig> {
        std::fs::read_to_string(path)?.trim().parse()
    }
}

impl From<HandshakeLine> for ReattachConfig {
    fn from(line: HandshakeLine) -> Self {
        ReattachConfig::from_line(line)
    }
}

impl fmt::Display for ReattachConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b64 = |b: &Vec<u8>| base64::engine::general_purpose::STANDARD.encode(b);
        let wire = Wire {
            line: self.line.to_string(),
            pid: self.pid,
            host_cert: self.host_cert.as_ref().map(b64),
            host_key: self.host_key.as_ref().map(b64),
        };
        let json = serde_json::to_string(&wire).map_err(|_| fmt::Error)?;
        f.write_str(&json)
    }
}

impl FromStr for ReattachConfig {
    type Err = InvalidReattachConfig;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wire: Wire =
            serde_json::from_str(s).map_err(|e| InvalidReattachConfig::Json(e.to_string()))?;
        let unb64 = |v: Option<String>, what: &'static str| {
            v.map(|v| {
                base64::engine::general_purpose::STANDARD
                    .decode(v)
                    .map_err(|_| InvalidReattachConfig::Base64(what))
            })
            .transpose()
        };
        Ok(ReattachConfig {
            line: wire.line.parse()?,
            pid: wire.pid,
            host_cert: unb64(wire.host_cert, "host_cert")?,
            host_key: unb64(wire.host_key, "host_key")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text_and_a_private_file() {
        let line: HandshakeLine = "1|2|unix|/tmp/x/plugin.sock|connect|".parse().unwrap();
        let config = ReattachConfig {
            line,
            pid: Some(4242),
            host_cert: Some(vec![1, 2, 3]),
            host_key: Some(vec![4, 5, 6]),
        };
        let text = config.to_string();
        assert_eq!(text.parse::<ReattachConfig>().unwrap(), config);

        let dir = std::env::temp_dir().join(format!("cp-reattach-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("plugin.json");
        config.save(&path).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the file holds a private key");
        assert_eq!(ReattachConfig::load(&path).unwrap(), config);
        std::fs::remove_dir_all(&dir).unwrap();

        let minimal = ReattachConfig::from_line(config.line.clone());
        assert!(!minimal.to_string().contains("host_key"));
        assert_eq!(
            minimal.to_string().parse::<ReattachConfig>().unwrap(),
            minimal
        );
    }

    #[test]
    fn bad_text_is_a_clear_error() {
        assert!(matches!(
            "garbage".parse::<ReattachConfig>(),
            Err(InvalidReattachConfig::Json(_))
        ));
        assert!(matches!(
            r#"{"line":"1|2|unix||connect|"}"#.parse::<ReattachConfig>(),
            Err(InvalidReattachConfig::Line(_))
        ));
        assert!(matches!(
            r#"{"line":"1|2|unix|/s|connect|","host_key":"%%"}"#.parse::<ReattachConfig>(),
            Err(InvalidReattachConfig::Base64("host_key"))
        ));
    }
}
