//! The HTTP server side: serves an [`HttpHandler`] (the rpc layer's router, typically) on TCP (HTTP/1.1 and h2c on one port, or TLS
//! with ALPN), Unix sockets and in-memory links, with graceful shutdown: stop accepting,
//! let calls in flight finish within a grace period, then cancel them.

use std::future::Future;
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
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::body::{Body, HttpHandler, PeerAddr, PeerCertificates};
use super::io::Io;
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

/// Serves an [`HttpHandler`].
pub struct Server {
    handler: Arc<dyn HttpHandler>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    tls_handshake_timeout: Duration,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").finish_non_exhaustive()
    }
}

impl Server {
    /// A server for `handler` (a `connect_plugin::rpc::Router`, typically).
    pub fn new(handler: impl HttpHandler) -> Self {
        Server {
            handler: Arc::new(handler),
            tls: None,
            tls_handshake_timeout: Duration::from_secs(10),
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

    /// Binds `addr` (see [`Listener::bind`]) and starts serving.
    pub async fn bind(self, addr: &str) -> io::Result<RunningServer> {
        let listener = Listener::bind(addr).await?;
        self.serve(listener)
    }

    /// Starts serving connections from `listener` on the current tokio runtime.
    pub fn serve(self, listener: Listener) -> io::Result<RunningServer> {
        let local_addr = listener.local_addr()?;
        let (stop_tx, stop_rx) = watch::channel(None::<Duration>);
        let task = tokio::spawn(accept_loop(self, listener, stop_rx));
        Ok(RunningServer {
            local_addr,
            stop: stop_tx,
            task,
        })
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

async fn accept_loop(
    server: Server,
    mut listener: Listener,
    mut stop: watch::Receiver<Option<Duration>>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30));
    builder
        .http2()
        .timer(TokioTimer::new())
        .initial_stream_window_size(1 << 20)
        .initial_connection_window_size(2 << 20)
        .max_concurrent_streams(1000);
    let builder = Arc::new(builder);
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
            accepted = listener.accept() => {
                let (io, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        // Out of descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let conn = serve_connection(&server, builder.clone(), drain_rx.clone(), io, peer);
                conns.spawn(conn);
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

fn serve_connection(
    server: &Server,
    builder: Arc<auto::Builder<TokioExecutor>>,
    mut drain: watch::Receiver<bool>,
    io: Io,
    peer: PeerAddr,
) -> ConnFuture {
    let handler = server.handler.clone();
    let tls = server.tls.clone();
    let handshake_timeout = server.tls_handshake_timeout;
    Box::pin(async move {
        let mut certs = None;
        let io = match (tls, io) {
            (Some(acceptor), Io::Tcp(tcp)) => {
                match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await {
                    Ok(Ok(s)) => {
                        certs = verified_client_certificates(&s);
                        Io::TlsServer(Box::new(s))
                    }
                    Ok(Err(e)) => {
                        tracing::debug!(error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!("TLS handshake timed out");
                        return;
                    }
                }
            }
            (_, io) => io,
        };
        let service = ConnService {
            handler,
            peer,
            certs,
        };
        let conn = builder.serve_connection(TokioIo::new(io), service);
        tokio::pin!(conn);
        tokio::select! {
            res = conn.as_mut() => {
                if let Err(e) = res {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = drain.wait_for(|d| *d) => {}
        }
        conn.as_mut().graceful_shutdown();
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "connection ended with an error while draining");
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
    peer: PeerAddr,
    /// The verified client certificates of a mutual-TLS connection, added to every request.
    certs: Option<PeerCertificates>,
}

impl hyper::service::Service<http::Request<Incoming>> for ConnService {
    type Response = http::Response<Body>;
    type Error = std::convert::Infallible;
    type Future = Answer;

    fn call(&self, req: http::Request<Incoming>) -> Self::Future {
        let mut req = req.map(Body::incoming);
        if let Some(certs) = &self.certs {
            req.extensions_mut().insert(certs.clone());
        }
        Answer(self.handler.call_from(req, &self.peer))
    }
}

/// The handler's future, answering `Ok` (the handler's own box, not boxed a second time).
struct Answer(BoxFuture<'static, http::Response<Body>>);

impl Future for Answer {
    type Output = Result<http::Response<Body>, std::convert::Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx).map(Ok)
    }
}
