//! Dialing: the endpoint a channel connects to (TCP, TLS, Unix socket or in-memory link),
//! parsed from a URL, and the [`ChannelBuilder`] that turns it into a [`Channel`].

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Uri;
use tokio::net::{TcpStream, UnixStream};

use super::{Channel, ChannelInner, HttpVersion};
use crate::protocol::Status;
use crate::transport::io::Io;
use crate::transport::memory::MemoryConnector;

/// Where a channel connects.
#[derive(Clone)]
pub(super) enum Target {
    Tcp {
        host: String,
        port: u16,
    },
    Tls {
        host: String,
        port: u16,
        config: Arc<rustls::ClientConfig>,
    },
    Unix(std::path::PathBuf),
    Memory(MemoryConnector),
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Tcp { host, port } => write!(f, "tcp {host}:{port}"),
            Target::Tls { host, port, .. } => write!(f, "tls {host}:{port}"),
            Target::Unix(p) => write!(f, "unix {}", p.display()),
            Target::Memory(_) => f.write_str("memory"),
        }
    }
}

impl Target {
    /// Opens a connection, within `timeout`; a failure is unavailable and unprocessed.
    pub(super) async fn connect(&self, timeout: Duration) -> Result<Io, Status> {
        let fut = async {
            match self {
                Target::Tcp { host, port } => {
                    let s = TcpStream::connect((host.as_str(), *port)).await?;
                    s.set_nodelay(true)?;
                    Ok(Io::Tcp(s))
                }
                Target::Tls { host, port, config } => {
                    let s = TcpStream::connect((host.as_str(), *port)).await?;
                    s.set_nodelay(true)?;
                    let name = rustls::pki_types::ServerName::try_from(host.clone())
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
                    let tls = tokio_rustls::TlsConnector::from(config.clone())
                        .connect(name, s)
                        .await?;
                    Ok(Io::TlsClient(Box::new(tls)))
                }
                Target::Unix(p) => Ok(Io::Unix(UnixStream::connect(p).await?)),
                Target::Memory(m) => m.connect(),
            }
        };
        match tokio::time::timeout(timeout, fut).await {
            Ok(Ok(io)) => Ok(io),
            Ok(Err(e)) => {
                Err(Status::unavailable(format!("connecting to {self:?}: {e}")).into_unprocessed())
            }
            Err(_) => Err(Status::unavailable(format!(
                "connecting to {self:?}: timed out after {timeout:?}"
            ))
            .into_unprocessed()),
        }
    }
}

/// Builds a [`Channel`]: from [`Channel::builder`] (a URL) or [`Channel::memory`], then the
/// HTTP version, the connect timeout and TLS, then [`build`](ChannelBuilder::build).
///
/// ```
/// use std::time::Duration;
/// use connect_plugin::Channel;
/// use connect_plugin::transport::HttpVersion;
///
/// // Calls go to http://127.0.0.1:8080/services/kv/<service>/<method>, over a pool of
/// // HTTP/1.1 connections; none is made before the first call.
/// let channel = Channel::builder("http://127.0.0.1:8080/services/kv/")?
///     .http_version(HttpVersion::Http1)
///     .connect_timeout(Duration::from_secs(1))
///     .build();
/// assert_eq!(channel.http_version(), HttpVersion::Http1);
/// assert_eq!(
///     channel.uri_for("/kv.v1.KVService/Get", None)?,
///     "http://127.0.0.1:8080/services/kv/kv.v1.KVService/Get"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ChannelBuilder {
    target: Target,
    base: Uri,
    version: HttpVersion,
    connect_timeout: Duration,
}

impl ChannelBuilder {
    /// HTTP/2 (default) or HTTP/1.1.
    pub fn http_version(mut self, version: HttpVersion) -> Self {
        self.version = version;
        self
    }

    /// How long to wait for a connection (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Uses TLS with this configuration (for `https://` URLs this replaces the default).
    pub fn tls(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        if let Target::Tcp { host, port } | Target::Tls { host, port, .. } = self.target.clone() {
            let mut config = (*config).clone();
            if config.alpn_protocols.is_empty() {
                config.alpn_protocols = match self.version {
                    HttpVersion::Http2 => vec![b"h2".to_vec()],
                    HttpVersion::Http1 => vec![b"http/1.1".to_vec()],
                };
            }
            self.target = Target::Tls {
                host,
                port,
                config: Arc::new(config),
            };
        }
        self
    }

    /// Builds the channel. It connects lazily, on the first call.
    pub fn build(self) -> Channel {
        let h1 = (self.version == HttpVersion::Http1)
            .then(|| super::http1::pool(self.target.clone(), self.connect_timeout));
        let scheme = if matches!(self.target, Target::Tls { .. }) {
            http::uri::Scheme::HTTPS
        } else {
            http::uri::Scheme::HTTP
        };
        let authority = self
            .base
            .authority()
            .cloned()
            .unwrap_or_else(|| http::uri::Authority::from_static("localhost"));
        let prefix = self.base.path().trim_end_matches('/').to_owned();
        Channel {
            inner: Arc::new(ChannelInner {
                target: self.target,
                scheme,
                authority,
                prefix,
                version: self.version,
                connect_timeout: self.connect_timeout,
                h2: Mutex::new(None),
                connecting: tokio::sync::Mutex::new(()),
                h1,
            }),
        }
    }
}

/// The error for a URL this runtime cannot connect to.
#[derive(Debug, thiserror::Error)]
#[error("invalid endpoint {url:?}: {why}")]
pub struct InvalidEndpoint {
    url: String,
    why: String,
}

impl Channel {
    /// A channel builder from a URL: `http://host:port`, `https://host:port` (TLS with the
    /// platform's usual web roots is not bundled: pass a config with
    /// [`ChannelBuilder::tls`]), or `unix:/path/to.sock`. A path after the authority
    /// becomes a prefix of every call's path.
    pub fn builder(url: &str) -> Result<ChannelBuilder, InvalidEndpoint> {
        let bad = |why: &str| InvalidEndpoint {
            url: url.to_owned(),
            why: why.to_owned(),
        };
        if let Some(path) = url.strip_prefix("unix:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(bad("empty socket path"));
            }
            return Ok(ChannelBuilder {
                target: Target::Unix(path.into()),
                base: Uri::from_static("http://localhost"),
                version: HttpVersion::Http2,
                connect_timeout: Duration::from_secs(5),
            });
        }
        let uri: Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| bad(&e.to_string()))?;
        let host = uri.host().ok_or_else(|| bad("no host"))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let tls = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(bad("the scheme must be http, https or unix")),
        };
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let target = if tls {
            Target::Tls {
                host,
                port,
                config: Arc::new(
                    rustls::ClientConfig::builder_with_provider(Arc::new(
                        rustls::crypto::ring::default_provider(),
                    ))
                    .with_safe_default_protocol_versions()
                    .map_err(|e| bad(&e.to_string()))?
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth(),
                ),
            }
        } else {
            Target::Tcp { host, port }
        };
        Ok(ChannelBuilder {
            target,
            base: uri,
            version: HttpVersion::Http2,
            connect_timeout: Duration::from_secs(5),
        })
    }

    /// A channel over an in-memory link.
    pub fn memory(connector: MemoryConnector) -> ChannelBuilder {
        ChannelBuilder {
            target: Target::Memory(connector),
            base: Uri::from_static("http://memory"),
            version: HttpVersion::Http2,
            connect_timeout: Duration::from_secs(5),
        }
    }
}
