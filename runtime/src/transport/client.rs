//! The HTTP client side: a [`Channel`] to one endpoint (TCP, TLS, Unix socket or in-memory),
//! speaking HTTP/2 with prior knowledge over one multiplexed connection (re-established on
//! failure), or HTTP/1.1 over a pool of connections.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::{TcpStream, UnixStream};

use super::body::Body;
use super::io::Io;
use super::memory::MemoryConnector;
use crate::protocol::Status;

/// The HTTP version a channel speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpVersion {
    /// HTTP/2; over plaintext with prior knowledge (h2c). Needed for bidi streaming.
    Http2,
    /// HTTP/1.1 with a connection pool.
    Http1,
}

#[derive(Clone)]
enum Target {
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
    async fn connect(&self, timeout: Duration) -> Result<Io, Status> {
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

/// Builds a [`Channel`].
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
        let h1 = (self.version == HttpVersion::Http1).then(|| {
            hyper_util::client::legacy::Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(90))
                .pool_timer(TokioTimer::new())
                .build(Connector {
                    target: self.target.clone(),
                    timeout: self.connect_timeout,
                })
        });
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

/// A client connection to one endpoint, cheap to clone and share.
#[derive(Clone)]
pub struct Channel {
    inner: Arc<ChannelInner>,
}

struct ChannelInner {
    target: Target,
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
    prefix: String,
    version: HttpVersion,
    connect_timeout: Duration,
    h2: Mutex<Option<http2::SendRequest<Body>>>,
    connecting: tokio::sync::Mutex<()>,
    h1: Option<hyper_util::client::legacy::Client<Connector, Body>>,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("target", &self.inner.target)
            .field("version", &self.inner.version)
            .finish()
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

    /// The URI for a call path (`/pkg.Service/Method`).
    pub fn uri_for(&self, path: &str, query: Option<&str>) -> Result<Uri, Status> {
        let bad = |e: &dyn std::fmt::Display| {
            Status::internal(format!("cannot build a request URI for {path}: {e}"))
        };
        let pq = match query {
            Some(q) => format!("{}{path}?{q}", self.inner.prefix),
            None => format!("{}{path}", self.inner.prefix),
        };
        let pq = http::uri::PathAndQuery::try_from(pq).map_err(|e| bad(&e))?;
        self.uri_from(pq).map_err(|e| bad(&e))
    }

    /// The URI for a static call path without a query: no parsing or copying of the path
    /// when the channel has no path prefix (the hot path of every call).
    pub fn uri_for_static(&self, path: &'static str) -> Result<Uri, Status> {
        if !self.inner.prefix.is_empty() {
            return self.uri_for(path, None);
        }
        let bad = |e: &dyn std::fmt::Display| {
            Status::internal(format!("cannot build a request URI for {path}: {e}"))
        };
        let pq = static_path(path).map_err(|e| bad(&e))?;
        self.uri_from(pq).map_err(|e| bad(&e))
    }

    fn uri_from(&self, pq: http::uri::PathAndQuery) -> Result<Uri, http::uri::InvalidUriParts> {
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.inner.scheme.clone());
        parts.authority = Some(self.inner.authority.clone());
        parts.path_and_query = Some(pq);
        Uri::from_parts(parts)
    }

    /// The HTTP version of this channel.
    pub fn http_version(&self) -> HttpVersion {
        self.inner.version
    }

    /// Sends one request.
    pub async fn send(&self, req: http::Request<Body>) -> Result<http::Response<Body>, Status> {
        if let Some(client) = &self.inner.h1 {
            return client
                .request(req)
                .await
                .map(|r| r.map(Body::incoming))
                .map_err(|e| {
                    let st = Status::unavailable(format!("HTTP/1.1 request failed: {e}"));
                    tracing::debug!(error = ?e, "request failed");
                    // The pool gives a request back unsent only on connect errors.
                    if e.is_connect() {
                        st.into_unprocessed()
                    } else {
                        st
                    }
                });
        }
        // HTTP/2, inline rather than in a second async fn that would carry the request again.
        // A cached sender is open, which for HTTP/2 is all `SendRequest::ready` checks: the
        // usual case needs no await before sending. Connecting, and the retry when a fresh
        // connection is already closed, stay out of line (and out of this future's size).
        let mut sender = match self.cached() {
            Some(s) => s,
            None => Box::pin(self.ready_sender()).await?,
        };
        match sender.try_send_request(req).await {
            Ok(resp) => Ok(resp.map(Body::incoming)),
            Err(mut e) => {
                if sender.is_closed() {
                    self.forget(&sender);
                }
                match e.take_message() {
                    // Never written to the connection (it closed, or a GOAWAY came first):
                    // send it once more on a fresh one. Nothing of it was read, so this is
                    // safe for every method, request streams included.
                    Some(req) => Box::pin(self.resend(req)).await,
                    None => Err(send_error_status(e.error())),
                }
            }
        }
    }

    /// Sends a request that never left on a fresh connection, once.
    async fn resend(&self, req: http::Request<Body>) -> Result<http::Response<Body>, Status> {
        let mut sender = self.ready_sender().await?;
        match sender.try_send_request(req).await {
            Ok(resp) => Ok(resp.map(Body::incoming)),
            Err(e) => {
                if sender.is_closed() {
                    self.forget(&sender);
                }
                let st = send_error_status(e.error());
                Err(if e.message().is_some() {
                    st.into_unprocessed()
                } else {
                    st
                })
            }
        }
    }

    fn forget(&self, dead: &http2::SendRequest<Body>) {
        let mut slot = self.inner.h2.lock().unwrap_or_else(|p| p.into_inner());
        if slot
            .as_ref()
            .is_some_and(|s| s.is_closed() || dead.is_closed())
        {
            *slot = None;
        }
    }

    /// A sender that was open when checked, connecting (once more if the first connection is
    /// found closed) when needed.
    async fn ready_sender(&self) -> Result<http2::SendRequest<Body>, Status> {
        let mut sender = self.h2_sender().await?;
        if sender.ready().await.is_err() {
            self.forget(&sender);
            sender = self.h2_sender().await?;
        }
        Ok(sender)
    }

    async fn h2_sender(&self) -> Result<http2::SendRequest<Body>, Status> {
        if let Some(s) = self.cached() {
            return Ok(s);
        }
        let _guard = self.inner.connecting.lock().await;
        if let Some(s) = self.cached() {
            return Ok(s);
        }
        let io = self
            .inner
            .target
            .connect(self.inner.connect_timeout)
            .await?;
        let (sender, conn) = http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .initial_stream_window_size(1 << 20)
            .initial_connection_window_size(2 << 20)
            .handshake(TokioIo::new(io))
            .await
            .map_err(|e| {
                Status::unavailable(format!(
                    "HTTP/2 handshake with {:?}: {e}",
                    self.inner.target
                ))
                .into_unprocessed()
            })?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "HTTP/2 connection ended");
            }
        });
        *self.inner.h2.lock().unwrap_or_else(|p| p.into_inner()) = Some(sender.clone());
        Ok(sender)
    }

    fn cached(&self) -> Option<http2::SendRequest<Body>> {
        let slot = self.inner.h2.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref().filter(|s| !s.is_closed()).cloned()
    }
}

/// Entries of the per-thread cache of parsed call paths.
const PATH_CACHE: usize = 16;

type PathSlot = Option<(&'static str, http::uri::PathAndQuery)>;

thread_local! {
    /// Parsed `PathAndQuery`s of static call paths, by the path's address: a client calls a
    /// handful of methods over and over, and parsing a path costs more than this look-up.
    /// (Cloning a `PathAndQuery` made from a static string copies no bytes.)
    static PATHS: std::cell::RefCell<[PathSlot; PATH_CACHE]> =
        const { std::cell::RefCell::new([const { None }; PATH_CACHE]) };
}

/// The `PathAndQuery` of a static call path (not `PathAndQuery::from_static`, which panics on
/// a bad path), parsed once per thread.
fn static_path(path: &'static str) -> Result<http::uri::PathAndQuery, http::uri::InvalidUri> {
    let slot = (path.as_ptr() as usize >> 3) % PATH_CACHE;
    let cached = PATHS.with(|cache| {
        cache.try_borrow().ok().and_then(|c| match &c[slot] {
            Some((p, pq)) if std::ptr::eq(*p, path) => Some(pq.clone()),
            _ => None,
        })
    });
    if let Some(pq) = cached {
        return Ok(pq);
    }
    let pq =
        http::uri::PathAndQuery::from_maybe_shared(bytes::Bytes::from_static(path.as_bytes()))?;
    PATHS.with(|cache| {
        if let Ok(mut c) = cache.try_borrow_mut() {
            c[slot] = Some((path, pq.clone()));
        }
    });
    Ok(pq)
}

/// Maps a hyper client error to a status: anything before a response is `unavailable`.
/// The status of a request that failed after it was handed to the connection: unprocessed
/// when the server refused the stream (HTTP/2 `REFUSED_STREAM`: it never reached a handler).
fn send_error_status(e: &hyper::Error) -> Status {
    let st = hyper_error_status(e);
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(h2) = s.downcast_ref::<h2::Error>() {
            if h2.reason() == Some(h2::Reason::REFUSED_STREAM) {
                return st.into_unprocessed();
            }
        }
        src = s.source();
    }
    st
}

pub(crate) fn hyper_error_status(e: &hyper::Error) -> Status {
    if e.is_timeout() {
        return Status::deadline_exceeded(format!("request timed out: {e}"));
    }
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    Status::unavailable(format!("request failed: {msg}"))
}

/// The connector of the HTTP/1.1 pool.
#[derive(Clone)]
struct Connector {
    target: Target,
    timeout: Duration,
}

impl tower_service::Service<Uri> for Connector {
    type Response = TokioIo<Io>;
    type Error = Status;
    type Future = Pin<Box<dyn Future<Output = Result<TokioIo<Io>, Status>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let target = self.target.clone();
        let timeout = self.timeout;
        Box::pin(async move { target.connect(timeout).await.map(TokioIo::new) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_uris_keep_the_channel_prefix() {
        let plain = Channel::builder("http://127.0.0.1:9/").unwrap().build();
        assert_eq!(
            plain.uri_for_static("/a.B/C").unwrap(),
            "http://127.0.0.1:9/a.B/C"
        );
        let nested = Channel::builder("http://127.0.0.1:9/services/kv/p1/")
            .unwrap()
            .build();
        assert_eq!(
            nested.uri_for_static("/kv.v1.KV/Get").unwrap(),
            "http://127.0.0.1:9/services/kv/p1/kv.v1.KV/Get"
        );
        assert_eq!(
            nested.uri_for("/kv.v1.KV/Get", Some("x=1")).unwrap(),
            "http://127.0.0.1:9/services/kv/p1/kv.v1.KV/Get?x=1"
        );
        let unix = Channel::builder("unix:/tmp/x.sock").unwrap().build();
        assert_eq!(
            unix.uri_for_static("/a.B/C").unwrap(),
            "http://localhost/a.B/C"
        );
        assert!(Channel::builder("ftp://x").is_err());
        // A path that is not a valid URI path is an error, not a panic.
        assert!(plain.uri_for_static("/a b\u{7f}").is_err());
        assert!(Channel::builder("unix:").is_err());
    }
}
