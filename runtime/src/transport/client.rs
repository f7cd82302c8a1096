//! The HTTP client side: a [`Channel`] to one endpoint (TCP, TLS, Unix socket or in-memory),
//! speaking HTTP/2 with prior knowledge over one multiplexed connection (re-established on
//! failure), or HTTP/1.1 over a pool of connections.
//!
//! HTTP/2 goes through the `h2` crate directly rather than hyper's client: a complete request
//! body (every unary call) is queued with its headers, so one write carries the whole request
//! and no task is spawned per call; only streamed request bodies get a task of their own.

use futures_util::FutureExt as _;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::Uri;
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
    h2: Mutex<Option<Arc<H2Conn>>>,
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
        self.wait(self.start(req)).await
    }

    /// [`Channel::send`], with the request started when the future is made: the future
    /// then holds only what the wait for the response needs (every call moves it, and
    /// behind interceptors allocates it).
    pub(crate) fn send_started(
        &self,
        req: http::Request<Body>,
    ) -> impl Future<Output = Result<http::Response<Body>, Status>> + Send + '_ {
        self.wait(self.start(req))
    }

    /// Waits for the response to a started request.
    async fn wait(&self, start: Start) -> Result<http::Response<Body>, Status> {
        match start {
            Start::Sent(sent) => self.answer(sent).await,
            Start::H1(response) => response
                .await
                .map(|r| r.map(Body::incoming))
                .map_err(h1_error),
            Start::Connect(unsent) => {
                let (head, body) = *unsent;
                Box::pin(self.send_fresh(head, body)).await
            }
            Start::Failed(status) => Err(status),
        }
    }

    /// The response to a request queued on an HTTP/2 connection. A request that provably
    /// never left (the connection wrote nothing since it was queued: it was found closed or
    /// reset first) is sent once more on a fresh connection if it kept a copy to send
    /// (complete and not resent already): nothing of it was read, so this is safe for every
    /// method. Otherwise (a streamed body may have been read from) that failure goes back
    /// as unprocessed and the caller decides.
    async fn answer(&self, sent: Sent) -> Result<http::Response<Body>, Status> {
        let Sent {
            conn,
            response,
            guard,
            written,
            copy,
        } = sent;
        match response.await {
            Ok(resp) => Ok(resp.map(|stream| Body::h2(stream, guard))),
            Err(e) if conn.writes.load(Ordering::Relaxed) == written => {
                self.forget(&conn);
                match copy {
                    Some(copy) => {
                        let (head, body) = *copy;
                        Box::pin(self.resend(head, body)).await
                    }
                    None => Err(send_error_status(&e).into_unprocessed()),
                }
            }
            Err(e) => Err(send_error_status(&e)),
        }
    }

    /// Starts sending `req` without waiting: on HTTP/1.1, hands it to the pool; on HTTP/2,
    /// queues it on the cached connection when that has room for another stream (the usual
    /// case), else gives it back for [`Channel::send_fresh`].
    fn start(&self, req: http::Request<Body>) -> Start {
        if let Some(client) = &self.inner.h1 {
            return Start::H1(client.request(req));
        }
        let (parts, body) = req.into_parts();
        let mut head = http::Request::from_parts(parts, ());
        strip_connection_headers(head.headers_mut());
        let body = match body.into_complete() {
            Ok((data, trailers)) => Outgoing::Complete(data, trailers),
            Err(body) => Outgoing::Stream(body),
        };
        let Some(conn) = self.cached() else {
            return Start::Connect(Box::new((head, body)));
        };
        let sender = match conn.sender.clone().ready().now_or_never() {
            Some(Ok(sender)) => sender,
            Some(Err(e)) => {
                tracing::debug!(error = %e, "HTTP/2 connection unusable, reconnecting");
                self.forget(&conn);
                return Start::Connect(Box::new((head, body)));
            }
            // At its limit of concurrent streams: wait for room, out of line.
            None => return Start::Connect(Box::new((head, body))),
        };
        match send_on(conn, sender, head, body, true) {
            Ok(sent) => Start::Sent(sent),
            Err(status) => Start::Failed(status),
        }
    }

    /// Sends a request on a connection made (or found ready) for it, once more on a fresh
    /// one if it never left.
    async fn send_fresh(
        &self,
        head: http::Request<()>,
        body: Outgoing,
    ) -> Result<http::Response<Body>, Status> {
        let (conn, sender) = self.ready_sender().await?;
        self.answer(send_on(conn, sender, head, body, true)?).await
    }

    /// Sends a request that never left on a fresh connection, once.
    async fn resend(
        &self,
        head: http::Request<()>,
        body: Outgoing,
    ) -> Result<http::Response<Body>, Status> {
        let (conn, sender) = self.ready_sender().await?;
        self.answer(send_on(conn, sender, head, body, false)?).await
    }

    /// Drops the cached connection if it is `dead`.
    fn forget(&self, dead: &Arc<H2Conn>) {
        let mut slot = self.inner.h2.lock().unwrap_or_else(|p| p.into_inner());
        if slot.as_ref().is_some_and(|c| Arc::ptr_eq(c, dead)) {
            *slot = None;
        }
    }

    /// A sender on a connection that was usable when checked, connecting when needed and once
    /// more if that connection is found unusable. Nothing was sent when this fails.
    async fn ready_sender(&self) -> Result<(Arc<H2Conn>, H2Sender), Status> {
        let mut retried = false;
        loop {
            let conn = self.h2_conn().await?;
            match conn.sender.clone().ready().await {
                Ok(sender) => return Ok((conn, sender)),
                Err(e) => {
                    self.forget(&conn);
                    if retried {
                        return Err(Status::unavailable(format!(
                            "HTTP/2 connection to {:?} unusable: {e}",
                            self.inner.target
                        ))
                        .into_unprocessed());
                    }
                    retried = true;
                }
            }
        }
    }

    async fn h2_conn(&self) -> Result<Arc<H2Conn>, Status> {
        if let Some(c) = self.cached() {
            return Ok(c);
        }
        let _guard = self.inner.connecting.lock().await;
        if let Some(c) = self.cached() {
            return Ok(c);
        }
        let io = self
            .inner
            .target
            .connect(self.inner.connect_timeout)
            .await?;
        let writes = Arc::new(AtomicU64::new(0));
        let io = CountWrites {
            io,
            writes: writes.clone(),
        };
        // hyper's client settings where h2's defaults differ (the limits on what the server
        // may send, and the send buffer), and the runtime's windows.
        let (sender, conn) = h2::client::Builder::new()
            .enable_push(false)
            .initial_window_size(1 << 20)
            .initial_connection_window_size(2 << 20)
            .max_frame_size(16 << 10)
            .max_header_list_size(16 << 10)
            .max_send_buffer_size(1 << 20)
            .initial_max_send_streams(100)
            .max_local_error_reset_streams(Some(1024))
            .handshake::<_, Bytes>(io)
            .await
            .map_err(|e| {
                Status::unavailable(format!(
                    "HTTP/2 handshake with {:?}: {e}",
                    self.inner.target
                ))
                .into_unprocessed()
            })?;
        let closed = Arc::new(AtomicBool::new(false));
        let ended = closed.clone();
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "HTTP/2 connection ended");
            }
            ended.store(true, Ordering::Release);
        });
        let conn = Arc::new(H2Conn {
            sender,
            closed,
            writes,
        });
        *self.inner.h2.lock().unwrap_or_else(|p| p.into_inner()) = Some(conn.clone());
        Ok(conn)
    }

    fn cached(&self) -> Option<Arc<H2Conn>> {
        let slot = self.inner.h2.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref()
            .filter(|c| !c.closed.load(Ordering::Acquire))
            .cloned()
    }
}

/// The client half of an HTTP/2 connection, as one sends requests on it.
type H2Sender = h2::client::SendRequest<Bytes>;

/// The cached HTTP/2 connection of a channel.
struct H2Conn {
    sender: H2Sender,
    /// Set when the connection's task ended.
    closed: Arc<AtomicBool>,
    /// How many writes to the connection succeeded (see [`CountWrites`]).
    writes: Arc<AtomicU64>,
}

/// A client connection's byte stream, counting the writes that succeed: a request queued
/// while the count stood at `n` has provably not left if the count is still `n` when the
/// request fails (h2 does not tell).
struct CountWrites {
    io: Io,
    writes: Arc<AtomicU64>,
}

impl CountWrites {
    fn count(&self, written: &Poll<io::Result<usize>>) {
        if let Poll::Ready(Ok(n)) = written {
            if *n > 0 {
                // The connection's task is the only writer.
                let now = self.writes.load(Ordering::Relaxed);
                self.writes.store(now.wrapping_add(1), Ordering::Relaxed);
            }
        }
    }
}

impl tokio::io::AsyncRead for CountWrites {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for CountWrites {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        self.count(&r);
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.count(&r);
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Headers HTTP/2 forbids (RFC 9113 section 8.2.2), dropped as hyper does rather than
/// failing the call. One pass over the names finds none in the usual case: cheaper than
/// looking each up (which hashes it).
fn strip_connection_headers(headers: &mut http::HeaderMap) {
    use http::header::{CONNECTION, TE, TRANSFER_ENCODING, UPGRADE};
    let forbidden = |name: &http::HeaderName| {
        name == CONNECTION
            || name == TRANSFER_ENCODING
            || name == UPGRADE
            || name == TE
            || name == "keep-alive"
            || name == "proxy-connection"
    };
    if !headers.keys().any(forbidden) {
        return;
    }
    if let Some(c) = headers.remove(CONNECTION) {
        if let Ok(names) = c.to_str() {
            for name in names.split(',') {
                headers.remove(name.trim());
            }
        }
    }
    for name in [TRANSFER_ENCODING, UPGRADE] {
        headers.remove(name);
    }
    for name in ["keep-alive", "proxy-connection"] {
        headers.remove(name);
    }
    if headers.get(TE).is_some_and(|te| te != "trailers") {
        headers.remove(TE);
    }
}

/// A copy of a request head for h2 (which reads the method, URI and headers only).
fn copy_head(head: &http::Request<()>) -> http::Request<()> {
    let mut copy = http::Request::new(());
    *copy.method_mut() = head.method().clone();
    *copy.uri_mut() = head.uri().clone();
    *copy.headers_mut() = head.headers().clone();
    copy
}

/// How [`Channel::start`] left a request.
enum Start {
    /// With the HTTP/1.1 pool.
    H1(hyper_util::client::legacy::ResponseFuture),
    /// Queued on an HTTP/2 connection.
    Sent(Sent),
    /// Not sent: it needs a new connection, or room on the cached one.
    Connect(Box<(http::Request<()>, Outgoing)>),
    /// Refused before it left.
    Failed(Status),
}

/// A request queued on an HTTP/2 connection.
struct Sent {
    conn: Arc<H2Conn>,
    response: h2::client::ResponseFuture,
    guard: Option<tokio::sync::oneshot::Sender<()>>,
    /// The connection's write count when the request was queued.
    written: u64,
    /// What it takes to send a complete request once more, should the connection turn out
    /// to have been dead before it left: cheap next to a call (the header values and body
    /// are shared, not copied), and boxed, so that the future waiting for the response
    /// stays small.
    copy: Option<Box<(http::Request<()>, Outgoing)>>,
}

/// Queues a request on a ready sender of `conn`, keeping a copy to send it again with if
/// `resendable` and the body is complete.
fn send_on(
    conn: Arc<H2Conn>,
    sender: H2Sender,
    head: http::Request<()>,
    body: Outgoing,
    resendable: bool,
) -> Result<Sent, Status> {
    let copy = match &body {
        Outgoing::Complete(data, trailers) if resendable => Some(Box::new((
            copy_head(&head),
            Outgoing::Complete(data.clone(), trailers.clone()),
        ))),
        _ => None,
    };
    let written = conn.writes.load(Ordering::Relaxed);
    let (response, guard) = start_request(sender, head, body)?;
    Ok(Sent {
        conn,
        response,
        guard,
        written,
        copy,
    })
}

/// The status of a failed HTTP/1.1 request.
fn h1_error(e: hyper_util::client::legacy::Error) -> Status {
    let st = Status::unavailable(format!("HTTP/1.1 request failed: {e}"));
    tracing::debug!(error = ?e, "request failed");
    // The pool gives a request back unsent only on connect errors.
    if e.is_connect() {
        st.into_unprocessed()
    } else {
        st
    }
}

/// A request body as the HTTP/2 client sends it.
enum Outgoing {
    /// Complete already (every unary call): data and trailers, if any.
    Complete(Option<Bytes>, Option<http::HeaderMap>),
    /// Streamed.
    Stream(Body),
}

/// Starts a request on a ready sender. A complete body goes out with its headers, in the
/// same write; a streamed one is sent by a task of its own, which stops, and cancels the
/// stream, when the returned guard is dropped (with the response body).
fn start_request(
    mut sender: H2Sender,
    mut head: http::Request<()>,
    body: Outgoing,
) -> Result<
    (
        h2::client::ResponseFuture,
        Option<tokio::sync::oneshot::Sender<()>>,
    ),
    Status,
> {
    let not_sent = |e: h2::Error| {
        // h2's own errors carry a reason or an I/O error; the rest are misuses (such as a
        // malformed header), which no retry mends.
        if e.reason().is_none() && !e.is_io() {
            Status::internal(format!("cannot send the request: {e}"))
        } else {
            // It never left: whoever retries unprocessed calls may send it again.
            Status::unavailable(format!("request failed: {e}")).into_unprocessed()
        }
    };
    match body {
        Outgoing::Complete(data, trailers) => {
            // The length, as hyper gives it: of a body without trailers, and for an empty one
            // only where the method defines a body.
            let len = data.as_ref().map_or(0, Bytes::len);
            let method = head.method();
            let payload = len > 0
                || !matches!(
                    *method,
                    http::Method::GET
                        | http::Method::HEAD
                        | http::Method::DELETE
                        | http::Method::CONNECT
                );
            if trailers.is_none()
                && payload
                && !head.headers().contains_key(http::header::CONTENT_LENGTH)
            {
                head.headers_mut()
                    .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(len));
            }
            let end = data.is_none() && trailers.is_none();
            let (response, mut stream) = sender.send_request(head, end).map_err(not_sent)?;
            // Errors past this point come out of `response`: the stream was reset or the
            // connection failed.
            if let Some(data) = data {
                let _ = stream.send_data(data, trailers.is_none());
            }
            if let Some(trailers) = trailers {
                let _ = stream.send_trailers(trailers);
            }
            Ok((response, None))
        }
        Outgoing::Stream(body) => {
            let end = http_body::Body::is_end_stream(&body);
            let (response, stream) = sender.send_request(head, end).map_err(not_sent)?;
            if end {
                return Ok((response, None));
            }
            let (guard, stop) = tokio::sync::oneshot::channel();
            tokio::spawn(pump(stream, body, stop));
            Ok((response, Some(guard)))
        }
    }
}

/// Why the pump of a request body stops early.
fn stopped(
    stream: &mut h2::SendStream<Bytes>,
    stop: &mut tokio::sync::oneshot::Receiver<()>,
    cx: &mut Context<'_>,
) -> bool {
    // The guard is never sent on, only dropped: ready means the response is gone.
    Pin::new(stop).poll(cx).is_ready() || stream.poll_reset(cx).is_ready()
}

/// Sends a streamed request body: its data as HTTP/2 flow control allows, then its end or
/// trailers. A failing body resets the stream with CANCEL (the server sees the call
/// cancelled); so does dropping the response (`stop`). A reset by the server ends it quietly.
async fn pump(
    mut stream: h2::SendStream<Bytes>,
    mut body: Body,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    use http_body::Body as _;
    loop {
        let frame = std::future::poll_fn(|cx| {
            if stopped(&mut stream, &mut stop, cx) {
                return Poll::Ready(None);
            }
            Pin::new(&mut body).poll_frame(cx).map(Some)
        })
        .await;
        let frame = match frame {
            None => break stream.send_reset(h2::Reason::CANCEL),
            Some(None) => {
                let _ = stream.send_data(Bytes::new(), true);
                return;
            }
            Some(Some(Err(e))) => {
                tracing::debug!(error = %e, "the request body failed; cancelling the call");
                break stream.send_reset(h2::Reason::CANCEL);
            }
            Some(Some(Ok(frame))) => frame,
        };
        let mut data = match frame.into_data() {
            Ok(data) => data,
            Err(frame) => {
                if let Ok(trailers) = frame.into_trailers() {
                    let _ = stream.send_trailers(trailers);
                    return;
                }
                continue;
            }
        };
        let end = body.is_end_stream();
        if data.is_empty() && !end {
            continue;
        }
        // Send it as the peer's window allows: h2 would buffer it all otherwise.
        loop {
            let want = data.len();
            if want == 0 {
                if end {
                    let _ = stream.send_data(data, true);
                    return;
                }
                break;
            }
            stream.reserve_capacity(want);
            let granted = std::future::poll_fn(|cx| {
                if stopped(&mut stream, &mut stop, cx) {
                    return Poll::Ready(None);
                }
                let now = stream.capacity();
                if now > 0 {
                    return Poll::Ready(Some(now));
                }
                match stream.poll_capacity(cx) {
                    Poll::Ready(Some(Ok(n))) => Poll::Ready(Some(n)),
                    Poll::Ready(Some(Err(_)) | None) => Poll::Ready(None),
                    Poll::Pending => Poll::Pending,
                }
            })
            .await;
            let Some(granted) = granted else {
                return stream.send_reset(h2::Reason::CANCEL);
            };
            if granted == 0 {
                continue;
            }
            let chunk = data.split_to(granted.min(want));
            let last = data.is_empty() && end;
            if stream.send_data(chunk, last).is_err() {
                return;
            }
            if last {
                return;
            }
        }
    }
}

/// The status of a request that failed after it was handed to the connection: unprocessed
/// when the server refused the stream (HTTP/2 `REFUSED_STREAM`: it never reached a handler).
fn send_error_status(e: &h2::Error) -> Status {
    let st = Status::unavailable(format!("request failed: {e}"));
    if e.reason() == Some(h2::Reason::REFUSED_STREAM) {
        st.into_unprocessed()
    } else {
        st
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

    /// A bare HTTP/2 server answering every request with the request's body. Its first
    /// connection serves one request, then closes without a GOAWAY (as a crashed peer's
    /// would) and notifies `closed`. Counts the connections.
    async fn flaky_server() -> (
        String,
        Arc<std::sync::atomic::AtomicUsize>,
        Arc<tokio::sync::Notify>,
    ) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let closed = Arc::new(tokio::sync::Notify::new());
        let (count, notify) = (accepted.clone(), closed.clone());
        tokio::spawn(async move {
            while let Ok((io, _)) = listener.accept().await {
                let first = count.fetch_add(1, Ordering::SeqCst) == 0;
                let notify = notify.clone();
                tokio::spawn(async move {
                    let mut conn = h2::server::handshake(io).await.unwrap();
                    while let Some(Ok((req, respond))) = conn.accept().await {
                        let echo = tokio::spawn(echo(req, respond));
                        if first {
                            // Flush the answer, then go.
                            let _ = echo.await;
                            let _ = tokio::time::timeout(Duration::from_millis(50), conn.accept())
                                .await;
                            drop(conn);
                            notify.notify_one();
                            return;
                        }
                    }
                });
            }
        });
        (url, accepted, closed)
    }

    async fn echo(
        req: http::Request<h2::RecvStream>,
        mut respond: h2::server::SendResponse<Bytes>,
    ) {
        let mut body = req.into_body();
        let mut all = Vec::new();
        while let Some(Ok(d)) = body.data().await {
            let _ = body.flow_control().release_capacity(d.len());
            all.extend_from_slice(&d);
        }
        let mut tx = respond
            .send_response(http::Response::new(()), false)
            .unwrap();
        let _ = tx.send_data(all.into(), true);
    }

    async fn read_all(resp: http::Response<Body>) -> Vec<u8> {
        use http_body_util::BodyExt as _;
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec()
    }

    #[tokio::test]
    async fn a_request_on_a_closed_connection_goes_out_again_on_a_fresh_one() {
        let (url, accepted, closed) = flaky_server().await;
        let channel = Channel::builder(&url).unwrap().build();
        let uri = channel.uri_for("/a.B/C", None).unwrap();
        let call = |text: &'static str| {
            let req = http::Request::post(uri.clone())
                .body(Body::full(text))
                .unwrap();
            let channel = channel.clone();
            async move { read_all(channel.send(req).await.unwrap()).await }
        };
        assert_eq!(call("one").await, b"one");
        closed.notified().await;
        // The cached connection is closed (whether the channel noticed yet or not): the call
        // goes out on a fresh one, with no retry policy in sight.
        assert_eq!(call("two").await, b"two");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);

        // A streamed body, large enough to wait for flow control, arrives whole.
        let chunks: Vec<Result<http_body::Frame<Bytes>, BoxErr>> = (0..64u8)
            .map(|i| Ok(http_body::Frame::data(Bytes::from(vec![i; 64 * 1024]))))
            .collect();
        let body = http_body_util::StreamBody::new(futures_util::stream::iter(chunks));
        let req = http::Request::post(uri.clone())
            .body(Body::new(body))
            .unwrap();
        let got = read_all(channel.send(req).await.unwrap()).await;
        assert_eq!(got.len(), 64 * 64 * 1024);
        assert!(
            got.chunks(64 * 1024)
                .enumerate()
                .all(|(i, c)| c.iter().all(|&b| b == i as u8))
        );
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            2,
            "one connection serves both"
        );
    }

    type BoxErr = crate::transport::body::BoxError;

    #[tokio::test]
    async fn dropping_the_response_cancels_a_streamed_request() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let (io, _) = listener.accept().await.unwrap();
            let mut conn = h2::server::handshake(io).await.unwrap();
            let Some(Ok((req, mut respond))) = conn.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let _tx = respond
                    .send_response(http::Response::new(()), false)
                    .unwrap();
                let mut body = req.into_body();
                // What the server reads: the first message, then how the stream ends.
                while let Some(d) = body.data().await {
                    let failed = d.is_err();
                    let _ = seen_tx.send(d.map(|d| d.len()).map_err(|e| e.reason()));
                    if failed {
                        break;
                    }
                }
            });
            while conn.accept().await.is_some() {}
        });
        let channel = Channel::builder(&url).unwrap().build();
        // A request stream that sends one message and then never ends.
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
        let frames = futures_util::stream::unfold(rx, |mut rx| async move {
            let d = rx.recv().await?;
            Some((Ok::<_, BoxErr>(http_body::Frame::data(d)), rx))
        });
        tx.send(Bytes::from_static(b"hello")).unwrap();
        let req = http::Request::post(channel.uri_for("/a.B/C", None).unwrap())
            .body(Body::new(http_body_util::StreamBody::new(frames)))
            .unwrap();
        let resp = channel.send(req).await.unwrap();
        assert_eq!(seen.recv().await, Some(Ok(5)));
        drop(resp);
        let end = tokio::time::timeout(Duration::from_secs(5), seen.recv())
            .await
            .expect("the server sees the stream end");
        assert_eq!(end, Some(Err(Some(h2::Reason::CANCEL))));
        drop(tx);
    }

    #[test]
    fn connection_specific_headers_are_dropped() {
        let mut h = http::HeaderMap::new();
        h.insert("content-type", "application/proto".parse().unwrap());
        h.insert("te", "trailers".parse().unwrap());
        let before = h.clone();
        strip_connection_headers(&mut h);
        assert_eq!(h, before, "nothing to drop");
        h.insert("connection", "x-hop, keep-alive".parse().unwrap());
        h.insert("x-hop", "1".parse().unwrap());
        h.insert("keep-alive", "5".parse().unwrap());
        h.insert("transfer-encoding", "chunked".parse().unwrap());
        h.insert("te", "gzip".parse().unwrap());
        strip_connection_headers(&mut h);
        let left: Vec<_> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(left, ["content-type"]);
    }
}
