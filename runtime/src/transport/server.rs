//! The HTTP server side: serves an [`HttpHandler`] (the rpc layer's router, typically) on TCP (HTTP/1.1 and h2c on one port, or TLS
//! with ALPN), Unix sockets and in-memory links, with graceful shutdown: stop accepting,
//! let calls in flight finish within a grace period, then cancel them.
//!
//! Each connection is held to the server's [`ServerLimits`]: a peer must introduce itself
//! (a request head, or an HTTP/2 preface) within the header read timeout, dead HTTP/2 peers
//! are found by keep-alive pings, idle and old connections are closed gracefully, one
//! connection's streams and the number of connections are capped. So one slow, idle or
//! hostile peer costs at most its own connection slot, and for a bounded time.

use std::future::Future;
use std::hash::{BuildHasher as _, Hasher as _};
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::BoxFuture;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::body::{Body, Connection, HttpHandler, PeerAddr, PeerCertificates};
use super::conn::{ConnTrack, InFlight, TrackedBody, Watched};
use super::io::Io;
use super::limits::ServerLimits;
use super::memory::MemoryListener;

/// Where a server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    /// A TCP address.
    Tcp(SocketAddr),
    /// A Unix socket path.
    Unix(PathBuf),
    /// An in-memory link.
    Memory,
}

impl std::fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListenAddr::Tcp(a) => write!(f, "{a}"),
            ListenAddr::Unix(p) => write!(f, "unix:{}", p.display()),
            ListenAddr::Memory => f.write_str("memory"),
        }
    }
}

/// A source of connections.
pub enum Listener {
    /// TCP.
    Tcp(TcpListener),
    /// Unix domain socket (the path is removed when the server stops).
    Unix(UnixListener, PathBuf),
    /// In-memory.
    Memory(MemoryListener),
}

impl Listener {
    /// Binds `addr`: `HOST:PORT` (port 0 picks a free one) or `unix:/path`.
    pub async fn bind(addr: &str) -> io::Result<Listener> {
        if let Some(path) = addr.strip_prefix("unix:") {
            let path = PathBuf::from(path.strip_prefix("//").unwrap_or(path));
            let listener = match UnixListener::bind(&path) {
                Ok(l) => l,
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                    // A socket file nobody answers on is left from a dead server: replace it.
                    if tokio::net::UnixStream::connect(&path).await.is_ok() {
                        return Err(e);
                    }
                    std::fs::remove_file(&path)?;
                    UnixListener::bind(&path)?
                }
                Err(e) => return Err(e),
            };
            return Ok(Listener::Unix(listener, path));
        }
        Ok(Listener::Tcp(TcpListener::bind(addr).await?))
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<ListenAddr> {
        Ok(match self {
            Listener::Tcp(l) => ListenAddr::Tcp(l.local_addr()?),
            Listener::Unix(_, p) => ListenAddr::Unix(p.clone()),
            Listener::Memory(_) => ListenAddr::Memory,
        })
    }

    async fn accept(&mut self) -> io::Result<(Io, PeerAddr)> {
        match self {
            Listener::Tcp(l) => {
                let (s, a) = l.accept().await?;
                s.set_nodelay(true)?;
                Ok((Io::Tcp(s), PeerAddr::Tcp(a)))
            }
            Listener::Unix(l, _) => {
                let (s, a) = l.accept().await?;
                Ok((Io::Unix(s), PeerAddr::Unix(a.as_pathname().map(Into::into))))
            }
            Listener::Memory(l) => match l.accept().await {
                Some(io) => Ok((io, PeerAddr::Memory)),
                None => std::future::pending().await,
            },
        }
    }
}

/// Serves an [`HttpHandler`] (a [`Router`](crate::rpc::Router), typically) on TCP (HTTP/1.1
/// and h2c on one port), TLS, a Unix socket or an in-memory link, until
/// [`RunningServer::shutdown`].
///
/// ```
/// use std::time::Duration;
/// use connect_plugin::rpc::{self, Idempotency, MethodDescriptor};
/// use connect_plugin::transport::{Server, ServerLimits};
/// use connect_plugin::{Channel, Client, Request, Response, Router, StreamType};
///
/// const PING: MethodDescriptor =
///     MethodDescriptor::new("/ping.v1.Ping/Ping", StreamType::Unary, Idempotency::Unknown);
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pong = rpc::unary(|_: Request<()>| async { Ok(Response::new(())) });
/// let server = Server::new(Router::new().route(PING, pong))
///     .limits(ServerLimits::default().idle_timeout(Some(Duration::from_secs(60))))
///     .bind("127.0.0.1:0") // port 0: any free port
///     .await?;
///
/// let url = format!("http://{}", server.local_addr());
/// let client = Client::new(Channel::builder(&url)?.build());
/// let _: Response<()> = client.unary(&PING, Request::new(())).await?;
///
/// // Stop accepting, give calls in flight a second to finish, then close.
/// server.shutdown(Duration::from_secs(1)).await;
/// # Ok(()) }
/// ```
pub struct Server {
    handler: Arc<dyn HttpHandler>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limits: ServerLimits,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("tls", &self.tls.is_some())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A server for `handler` (a `connect_plugin::rpc::Router`, typically), with the
    /// default [`ServerLimits`].
    pub fn new(handler: impl HttpHandler) -> Self {
        Server {
            handler: Arc::new(handler),
            tls: None,
            limits: ServerLimits::default(),
        }
    }

    /// Serves TLS (TCP listeners only) with this configuration; ALPN defaults to
    /// `h2, http/1.1`.
    pub fn tls(mut self, config: rustls::ServerConfig) -> Self {
        let mut config = config;
        if config.alpn_protocols.is_empty() {
            config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        }
        self.tls = Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)));
        self
    }

    /// Replaces the limits and timeouts connections are held to (see [`ServerLimits`] for
    /// each one and its default). They are checked when the server starts.
    pub fn limits(mut self, limits: ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The limits this server will apply.
    pub fn current_limits(&self) -> &ServerLimits {
        &self.limits
    }

    /// Binds `addr` (see [`Listener::bind`]) and starts serving. Fails with
    /// [`io::ErrorKind::InvalidInput`] (before binding) when the limits cannot work.
    pub async fn bind(self, addr: &str) -> io::Result<RunningServer> {
        self.check_limits()?;
        let listener = Listener::bind(addr).await?;
        self.serve(listener)
    }

    /// Starts serving connections from `listener` on the current tokio runtime. Fails with
    /// [`io::ErrorKind::InvalidInput`] when the limits cannot work
    /// ([`ServerLimits::validate`]).
    pub fn serve(self, listener: Listener) -> io::Result<RunningServer> {
        self.check_limits()?;
        let local_addr = listener.local_addr()?;
        let (stop_tx, stop_rx) = watch::channel(None::<Duration>);
        let task = tokio::spawn(accept_loop(self, listener, stop_rx));
        Ok(RunningServer {
            local_addr,
            stop: stop_tx,
            task,
        })
    }

    fn check_limits(&self) -> io::Result<()> {
        self.limits
            .validate()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
    }
}

/// A server that is running; dropping it stops accepting and cancels calls at once.
#[derive(Debug)]
pub struct RunningServer {
    local_addr: ListenAddr,
    stop: watch::Sender<Option<Duration>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// Where the server listens.
    pub fn local_addr(&self) -> &ListenAddr {
        &self.local_addr
    }

    /// Stops accepting, lets calls in flight finish for up to `grace`, then cancels the
    /// rest; returns once every connection is closed.
    pub async fn shutdown(mut self, grace: Duration) {
        let _ = self.stop.send(Some(grace));
        let _ = (&mut self.task).await;
    }

    /// Waits until the server stops (after [`RunningServer::shutdown`] from elsewhere, or a
    /// fatal accept error).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }

    /// A handle that can trigger shutdown from another task.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            stop: self.stop.clone(),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if !self.task.is_finished() {
            let _ = self.stop.send(Some(Duration::ZERO));
        }
    }
}

/// Triggers a graceful shutdown of a [`RunningServer`].
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    stop: watch::Sender<Option<Duration>>,
}

impl ShutdownHandle {
    /// Begins a graceful shutdown with this grace period.
    pub fn shutdown(&self, grace: Duration) {
        let _ = self.stop.send(Some(grace));
    }
}

type ConnFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// hyper's connection builder, configured from the limits.
fn http_builder(limits: &ServerLimits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .initial_stream_window_size(1 << 20)
        .initial_connection_window_size(2 << 20)
        .max_concurrent_streams(limits.max_concurrent_streams)
        .keep_alive_interval(limits.http2_keepalive_interval)
        .keep_alive_timeout(limits.http2_keepalive_timeout);
    builder
}

/// How often, at most, reaching the connection limit is logged as a warning.
const CAP_WARNING_EVERY: Duration = Duration::from_secs(60);

/// Waits for a free connection slot, then for a connection. Cancel-safe: a slot taken and
/// not used is given back when the future is dropped, and accepting is cancel-safe.
async fn accept_within_cap(
    listener: &mut Listener,
    slots: &Arc<Semaphore>,
    last_warning: &mut Option<Instant>,
) -> (OwnedSemaphorePermit, io::Result<(Io, PeerAddr)>) {
    let permit = match slots.clone().try_acquire_owned() {
        Ok(p) => p,
        Err(_) => {
            if last_warning.is_none_or(|at| at.elapsed() >= CAP_WARNING_EVERY) {
                *last_warning = Some(Instant::now());
                tracing::warn!(
                    "connection limit reached: new connections wait in the accept backlog \
                     until one closes"
                );
            }
            match slots.clone().acquire_owned().await {
                Ok(p) => p,
                // The semaphore is never closed; if it were, accept nothing more.
                Err(_) => std::future::pending().await,
            }
        }
    };
    (permit, listener.accept().await)
}

async fn accept_loop(
    server: Server,
    mut listener: Listener,
    mut stop: watch::Receiver<Option<Duration>>,
) {
    let builder = Arc::new(http_builder(&server.limits));
    // `usize::MAX` and other counts beyond what a semaphore holds mean "no cap".
    let cap = server.limits.max_connections.min(Semaphore::MAX_PERMITS);
    let slots = Arc::new(Semaphore::new(cap));
    let mut last_cap_warning = None;
    // Flipped to true when the server stops: every connection then finishes gracefully
    // (HTTP/2 GOAWAY, HTTP/1.1 closes after the response in flight).
    let (drain_tx, drain_rx) = watch::channel(false);
    let mut conns: JoinSet<()> = JoinSet::new();
    let grace = loop {
        tokio::select! {
            changed = stop.changed() => {
                break match changed {
                    Ok(()) => (*stop.borrow()).unwrap_or(Duration::ZERO),
                    Err(_) => Duration::ZERO,
                };
            }
            (permit, accepted) = accept_within_cap(&mut listener, &slots, &mut last_cap_warning) => {
                let (io, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        // Out of descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        drop(permit);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let conn = serve_connection(&server, builder.clone(), drain_rx.clone(), io, peer);
                conns.spawn(async move {
                    conn.await;
                    drop(permit);
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    };
    listener_cleanup(listener);
    let _ = drain_tx.send(true);
    let drained = async { while conns.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, drained).await.is_err() {
        tracing::debug!(?grace, "grace period over; cancelling calls in flight");
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

fn listener_cleanup(listener: Listener) {
    if let Listener::Unix(l, path) = listener {
        drop(l);
        let _ = std::fs::remove_file(path);
    }
}

/// Why the server closes a connection gracefully.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Close {
    /// The server is shutting down (its own grace applies).
    Shutdown,
    /// No request in flight for the idle timeout.
    Idle,
    /// The connection reached its maximum age.
    Age,
}

/// `d` scaled by a random factor in [0.9, 1.1), so that connections opened together do not
/// all reach their maximum age together.
fn jittered(d: Duration) -> Duration {
    let r = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let per_mille = 900 + u32::try_from(r % 200).unwrap_or(0);
    (d / 1000).saturating_mul(per_mille)
}

/// `from + d`, or about a year from now when that is later (or overflows): a timer that
/// never fires in practice.
fn deadline(from: Instant, d: Duration) -> Instant {
    let far = Instant::now() + Duration::from_secs(86_400 * 365);
    from.checked_add(d).map_or(far, |at| at.min(far))
}

fn serve_connection(
    server: &Server,
    builder: Arc<auto::Builder<TokioExecutor>>,
    mut drain: watch::Receiver<bool>,
    io: Io,
    peer: PeerAddr,
) -> ConnFuture {
    let handler = server.handler.clone();
    let tls = server.tls.clone();
    let limits = server.limits.clone();
    Box::pin(async move {
        let mut certs = None;
        let io = match (tls, io) {
            (Some(acceptor), Io::Tcp(tcp)) => {
                let handshake = acceptor.accept(tcp);
                match tokio::time::timeout(limits.tls_handshake_timeout, handshake).await {
                    Ok(Ok(s)) => {
                        certs = verified_client_certificates(&s);
                        Io::TlsServer(Box::new(s))
                    }
                    Ok(Err(e)) => {
                        tracing::debug!(?peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(?peer, "TLS handshake timed out");
                        return;
                    }
                }
            }
            (_, io) => io,
        };
        let track = ConnTrack::new();
        let service = ConnService {
            handler,
            conn: Arc::new(Connection::new(peer.clone()).with_certificates(certs)),
            track: track.clone(),
        };
        let conn = builder.serve_connection(TokioIo::new(Watched::new(io, track.clone())), service);
        tokio::pin!(conn);

        let start = track.start();
        let never = Duration::MAX;
        let greeting = tokio::time::sleep_until(deadline(start, limits.header_read_timeout));
        let mut greeting_pending = true;
        let idle = tokio::time::sleep_until(deadline(start, limits.idle_timeout.unwrap_or(never)));
        let age = tokio::time::sleep_until(deadline(
            start,
            limits.max_connection_age.map_or(never, jittered),
        ));
        tokio::pin!(greeting, idle, age);
        let reason = loop {
            tokio::select! {
                res = conn.as_mut() => {
                    if let Err(e) = res {
                        tracing::debug!(?peer, error = %e, "connection ended with an error");
                    }
                    return;
                }
                _ = drain.wait_for(|d| *d) => break Close::Shutdown,
                () = greeting.as_mut(), if greeting_pending => {
                    if !track.is_greeted() {
                        tracing::debug!(
                            ?peer,
                            timeout = ?limits.header_read_timeout,
                            "no request head or HTTP/2 preface in time; closing the connection"
                        );
                        return;
                    }
                    greeting_pending = false;
                }
                () = idle.as_mut(), if limits.idle_timeout.is_some() => {
                    let Some(timeout) = limits.idle_timeout else { continue };
                    match track.idle_since().map(|since| deadline(since, timeout)) {
                        Some(at) if at <= Instant::now() => break Close::Idle,
                        Some(at) => idle.as_mut().reset(at),
                        // Busy: `became_idle` sets the timer again.
                        None => idle.as_mut().reset(deadline(Instant::now(), never)),
                    }
                }
                () = track.became_idle(), if limits.idle_timeout.is_some() => {
                    let Some(timeout) = limits.idle_timeout else { continue };
                    if let Some(since) = track.idle_since() {
                        idle.as_mut().reset(deadline(since, timeout));
                    }
                }
                () = age.as_mut(), if limits.max_connection_age.is_some() => break Close::Age,
            }
        };
        tracing::debug!(?peer, ?reason, "closing the connection gracefully");
        conn.as_mut().graceful_shutdown();
        let finished = match reason {
            // The server's shutdown grace bounds this (it aborts the task).
            Close::Shutdown => Ok(conn.await),
            Close::Idle | Close::Age => tokio::time::timeout(limits.close_grace, conn).await,
        };
        match finished {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::debug!(?peer, error = %e, "connection ended with an error while closing");
            }
            Err(_) => tracing::debug!(
                ?peer,
                grace = ?limits.close_grace,
                "connection did not finish closing within the grace; dropping it"
            ),
        }
    })
}

/// The client's certificate chain, which the server's verifier accepted during the handshake
/// (rustls keeps none otherwise).
fn verified_client_certificates(
    tls: &tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
) -> Option<PeerCertificates> {
    let chain = tls.get_ref().1.peer_certificates()?;
    PeerCertificates::new(chain.iter().map(|c| c.clone().into_owned()).collect())
}

#[derive(Clone)]
struct ConnService {
    handler: Arc<dyn HttpHandler>,
    conn: Arc<Connection>,
    track: Arc<ConnTrack>,
}

impl hyper::service::Service<http::Request<Incoming>> for ConnService {
    type Response = http::Response<TrackedBody>;
    type Error = std::convert::Infallible;
    type Future = Answer;

    fn call(&self, req: http::Request<Incoming>) -> Self::Future {
        self.track.greet();
        let req = req.map(Body::incoming);
        Answer {
            fut: self.handler.call_from(req, &self.conn),
            in_flight: Some(InFlight::new(&self.track)),
        }
    }
}

/// The handler's future, answering `Ok` (the handler's own box, not boxed a second time);
/// the request counts as in flight until its response body is finished or dropped.
struct Answer {
    fut: BoxFuture<'static, http::Response<Body>>,
    in_flight: Option<InFlight>,
}

impl Future for Answer {
    type Output = Result<http::Response<TrackedBody>, std::convert::Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let resp = std::task::ready!(self.fut.as_mut().poll(cx));
        let in_flight = self.in_flight.take();
        Poll::Ready(Ok(resp.map(|b| TrackedBody::new(b, in_flight))))
    }
}
