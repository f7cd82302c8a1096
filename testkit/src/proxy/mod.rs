//! [`FaultProxy`]: a TCP proxy that a test puts between a host and a plugin, and whose
//! faults it changes while calls are running: latency and stalls per direction, bandwidth
//! caps, resets of open connections, and resetting, blackholing or refusing new ones.
//!
//! ```no_run
//! # async fn demo(plugin: std::net::SocketAddr) -> Result<(), connect_plugin_testkit::proxy::Error> {
//! use std::time::Duration;
//! use connect_plugin_testkit::proxy::{Direction, FaultProxy, NewConnections};
//!
//! let proxy = FaultProxy::start(plugin).await?;
//! let url = proxy.url(); // point the host here instead of at the plugin
//! let faults = proxy.handle();
//! faults.set_latency(Direction::Both, Duration::from_millis(50));
//! faults.stall(Direction::Downstream);
//! faults.resume(Direction::Downstream);
//! faults.reset_existing().await;
//! faults.set_new_connections(NewConnections::Refuse).await?;
//! proxy.shutdown().await;
//! # Ok(()) }
//! ```

mod faults;
mod pipe;
mod stats;

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream, UnixStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

pub use faults::{Direction, NewConnections};
pub use stats::{DirectionStats, Stats};

use faults::FaultState;
use stats::Counters;

/// Where a [`FaultProxy`] forwards connections to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A TCP address.
    Tcp(SocketAddr),
    /// A Unix domain socket.
    Unix(PathBuf),
}

impl From<SocketAddr> for Target {
    fn from(addr: SocketAddr) -> Self {
        Target::Tcp(addr)
    }
}

impl From<PathBuf> for Target {
    fn from(path: PathBuf) -> Self {
        Target::Unix(path)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp(addr) => write!(f, "tcp://{addr}"),
            Target::Unix(path) => write!(f, "unix://{}", path.display()),
        }
    }
}

/// Errors of the proxy.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listening socket could not be set up.
    #[error("listening on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The proxy has shut down.
    #[error("the fault proxy has shut down")]
    Closed,
}

/// A running fault-injecting proxy. Dropping it (or [`FaultProxy::shutdown`]) stops
/// accepting and closes every connection; no task outlives it.
#[derive(Debug)]
pub struct FaultProxy {
    handle: FaultHandle,
    task: Option<JoinHandle<()>>,
}

/// Changes the faults of a [`FaultProxy`] and reads its counters. Cheap to clone; changes
/// apply at once to open connections and to new ones.
#[derive(Debug, Clone)]
pub struct FaultHandle {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
}

#[derive(Debug)]
struct Shared {
    addr: SocketAddr,
    target: Target,
    faults: watch::Sender<FaultState>,
    counters: Counters,
    conns: Mutex<HashMap<u64, Arc<ConnCtl>>>,
}

/// Control of one open connection.
#[derive(Debug)]
struct ConnCtl {
    /// Set to ask the connection to reset.
    kill: watch::Sender<bool>,
    /// Set once the connection's sockets are closed.
    done: watch::Sender<bool>,
}

#[derive(Debug)]
enum Command {
    Mode(NewConnections, oneshot::Sender<Result<(), Error>>),
    Shutdown,
}

impl FaultProxy {
    /// Starts a proxy on `127.0.0.1` (an ephemeral port) forwarding to `target`.
    pub async fn start(target: impl Into<Target>) -> Result<Self, Error> {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0)), target).await
    }

    /// Starts a proxy listening on `addr` forwarding to `target`.
    pub async fn bind(addr: SocketAddr, target: impl Into<Target>) -> Result<Self, Error> {
        let listener = listen(addr).map_err(|source| Error::Listen { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| Error::Listen { addr, source })?;
        let shared = Arc::new(Shared {
            addr,
            target: target.into(),
            faults: watch::Sender::new(FaultState::default()),
            counters: Counters::default(),
            conns: Mutex::new(HashMap::new()),
        });
        let (commands, rx) = mpsc::unbounded_channel();
        tracing::debug!(%addr, target = %shared.target, "fault proxy started");
        let task = tokio::spawn(accept_loop(Some(listener), Arc::clone(&shared), rx));
        Ok(FaultProxy {
            handle: FaultHandle { shared, commands },
            task: Some(task),
        })
    }

    /// The address the proxy listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.handle.shared.addr
    }

    /// `http://` and [`FaultProxy::local_addr`]: the URL to give a Connect client.
    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr())
    }

    /// Where the proxy forwards to.
    pub fn target(&self) -> &Target {
        &self.handle.shared.target
    }

    /// The handle that changes this proxy's faults.
    pub fn handle(&self) -> &FaultHandle {
        &self.handle
    }

    /// Stops accepting, closes every connection and waits until all of the proxy's tasks
    /// have ended.
    pub async fn shutdown(mut self) {
        let _ = self.handle.commands.send(Command::Shutdown);
        if let Some(task) = self.task.take()
            && let Err(e) = task.await
            && e.is_panic()
        {
            std::panic::resume_unwind(e.into_panic());
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            let _ = self.handle.commands.send(Command::Shutdown);
            // Aborting drops the accept loop's `JoinSet`, which aborts every connection.
            task.abort();
        }
    }
}

impl FaultHandle {
    fn update(&self, f: impl FnOnce(&mut FaultState)) {
        self.shared.faults.send_modify(f);
    }

    /// Delays every chunk of bytes flowing in `dir` by `latency` after it reached the proxy,
    /// keeping their order (a delay line: throughput is not reduced). Applies to bytes
    /// already waiting too. `Duration::ZERO` removes the delay.
    pub fn set_latency(&self, dir: Direction, latency: Duration) {
        tracing::debug!(?dir, ?latency, "fault: latency");
        self.update(|s| s.update(dir, |d| d.latency = latency));
    }

    /// Stops forwarding in `dir`: bytes are still read (up to 2 MiB per connection and
    /// direction, after which the sender's TCP window fills) but not passed on, until
    /// [`FaultHandle::resume`]. Ends of stream wait too.
    pub fn stall(&self, dir: Direction) {
        tracing::debug!(?dir, "fault: stall");
        self.update(|s| s.update(dir, |d| d.stalled = true));
    }

    /// Ends a [`FaultHandle::stall`] in `dir`; held bytes are forwarded in order.
    pub fn resume(&self, dir: Direction) {
        tracing::debug!(?dir, "fault: resume");
        self.update(|s| s.update(dir, |d| d.stalled = false));
    }

    /// Caps each connection's throughput in `dir` at `bytes_per_sec` (a pacer with no
    /// initial burst: `N` bytes take at least `N / rate`), or removes the cap (`None`).
    /// `Some(0)` forwards nothing.
    pub fn set_bandwidth(&self, dir: Direction, bytes_per_sec: Option<u64>) {
        tracing::debug!(?dir, ?bytes_per_sec, "fault: bandwidth");
        self.update(|s| s.update(dir, |d| d.bandwidth = bytes_per_sec));
    }

    /// Removes every latency, stall and bandwidth cap (not the mode of new connections).
    pub fn clear(&self) {
        tracing::debug!("fault: clear");
        self.update(|s| *s = FaultState::default());
    }

    /// Resets every open connection: both of its sockets (client and target side) are
    /// closed with `SO_LINGER` 0, so each peer gets a TCP RST and sees `ECONNRESET`.
    /// Returns once they are closed, with how many there were.
    pub async fn reset_existing(&self) -> usize {
        let conns: Vec<Arc<ConnCtl>> = self
            .shared
            .conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        tracing::debug!(
            connections = conns.len(),
            "fault: reset existing connections"
        );
        for c in &conns {
            c.kill.send_replace(true);
        }
        for c in &conns {
            let _ = c.done.subscribe().wait_for(|done| *done).await;
        }
        conns.len()
    }

    /// Sets what happens to connections accepted from now on; returns once the proxy
    /// applies it. Leaving [`NewConnections::Refuse`] binds the address again, which fails
    /// only if another socket took the port meanwhile.
    pub async fn set_new_connections(&self, mode: NewConnections) -> Result<(), Error> {
        tracing::debug!(?mode, "fault: new connections");
        let (ack, done) = oneshot::channel();
        self.commands
            .send(Command::Mode(mode, ack))
            .map_err(|_| Error::Closed)?;
        done.await.map_err(|_| Error::Closed)?
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// Waits until `pred` holds for the counters (checked on every change) and returns the
    /// snapshot for which it did. Wrap it in a timeout if the condition may never hold.
    pub async fn wait_until(&self, pred: impl FnMut(&Stats) -> bool) -> Stats {
        self.shared.counters.wait_until(pred).await
    }
}

fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // So that leaving `Refuse` can bind the port again despite connections in TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

async fn accept(listener: Option<&TcpListener>) -> io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

async fn accept_loop(
    mut listener: Option<TcpListener>,
    shared: Arc<Shared>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let mut mode = NewConnections::Forward;
    let mut tasks = JoinSet::new();
    let mut next_id = 0u64;
    loop {
        tokio::select! {
            // Commands first: once a mode change is acknowledged, every later accept obeys it.
            biased;
            command = commands.recv() => match command {
                Some(Command::Mode(m, ack)) => {
                    mode = m;
                    let applied = apply_mode(&mut listener, m, shared.addr);
                    let _ = ack.send(applied);
                }
                Some(Command::Shutdown) | None => break,
            },
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                if let Err(e) = joined
                    && e.is_panic()
                {
                    std::panic::resume_unwind(e.into_panic());
                }
            }
            accepted = accept(listener.as_ref()) => match accepted {
                Ok((stream, peer)) => {
                    tracing::debug!(%peer, ?mode, "accepted");
                    shared.counters.accepted();
                    match mode {
                        NewConnections::Forward | NewConnections::Blackhole => {
                            next_id += 1;
                            let reg = Registered::new(&shared, next_id);
                            if mode == NewConnections::Forward {
                                tasks.spawn(forward(stream, reg));
                            } else {
                                tasks.spawn(blackhole(stream, reg));
                            }
                        }
                        NewConnections::Reset | NewConnections::Refuse => {
                            reset_tcp(stream);
                            shared.counters.reset();
                            shared.counters.closed();
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "accept failed"),
            },
        }
    }
    tracing::debug!(addr = %shared.addr, "fault proxy shutting down");
    drop(listener);
    tasks.shutdown().await;
}

fn apply_mode(
    listener: &mut Option<TcpListener>,
    mode: NewConnections,
    addr: SocketAddr,
) -> Result<(), Error> {
    if mode == NewConnections::Refuse {
        *listener = None;
    } else if listener.is_none() {
        *listener = Some(listen(addr).map_err(|source| Error::Listen { addr, source })?);
    }
    Ok(())
}

/// A connection's entry in the registry [`FaultHandle::reset_existing`] walks. Dropping it
/// (when the connection's task ends or is aborted) removes the entry and reports the
/// connection closed.
struct Registered {
    shared: Arc<Shared>,
    id: u64,
    ctl: Arc<ConnCtl>,
}

impl Registered {
    fn new(shared: &Arc<Shared>, id: u64) -> Self {
        let ctl = Arc::new(ConnCtl {
            kill: watch::Sender::new(false),
            done: watch::Sender::new(false),
        });
        shared
            .conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, Arc::clone(&ctl));
        Registered {
            shared: Arc::clone(shared),
            id,
            ctl,
        }
    }

    /// Resolves when the connection is asked to reset.
    async fn killed(&self) {
        let mut kill = self.ctl.kill.subscribe();
        // The sender lives in `self.ctl`, so this only ends when asked.
        let _ = kill.wait_for(|k| *k).await;
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.shared
            .conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
        self.shared.counters.closed();
        self.ctl.done.send_replace(true);
    }
}

/// Closes a TCP socket with a reset.
fn reset_tcp(stream: TcpStream) {
    if let Err(e) = stream.set_zero_linger() {
        tracing::debug!(error = %e, "SO_LINGER 0 failed");
    }
    drop(stream);
}

/// The proxy's connection to the target.
enum Upstream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Upstream {
    async fn connect(target: &Target) -> io::Result<Self> {
        Ok(match target {
            Target::Tcp(addr) => {
                let s = TcpStream::connect(addr).await?;
                s.set_nodelay(true)?;
                Upstream::Tcp(s)
            }
            Target::Unix(path) => Upstream::Unix(UnixStream::connect(path).await?),
        })
    }

    /// Closes with a reset (for TCP; a Unix socket has no such thing and just closes).
    fn reset(self) {
        match self {
            Upstream::Tcp(s) => reset_tcp(s),
            Upstream::Unix(s) => drop(s),
        }
    }
}

async fn pump(client: &mut TcpStream, upstream: &mut Upstream, shared: &Shared) -> io::Result<()> {
    let (faults, counters) = (&shared.faults, &shared.counters);
    let client = client.split();
    match upstream {
        Upstream::Tcp(s) => pipe::pump(client, s.split(), faults, counters).await,
        Upstream::Unix(s) => pipe::pump(client, s.split(), faults, counters).await,
    }
}

/// Serves one connection in `Forward` mode.
async fn forward(mut client: TcpStream, reg: Registered) {
    let shared = Arc::clone(&reg.shared);
    let _ = client.set_nodelay(true);
    let connected = tokio::select! {
        biased;
        _ = reg.killed() => None,
        up = Upstream::connect(&shared.target) => match up {
            Ok(up) => Some(up),
            Err(e) => {
                tracing::debug!(target = %shared.target, error = %e, "connecting to the target failed");
                None
            }
        },
    };
    let Some(mut upstream) = connected else {
        reset_tcp(client);
        shared.counters.reset();
        return;
    };
    let result = tokio::select! {
        biased;
        _ = reg.killed() => Err(io::Error::other("reset by the fault proxy")),
        r = pump(&mut client, &mut upstream, &shared) => r,
    };
    match result {
        Ok(()) => {
            tracing::debug!("connection closed");
            drop(client);
            drop(upstream);
        }
        Err(e) => {
            tracing::debug!(error = %e, "resetting connection");
            reset_tcp(client);
            upstream.reset();
            shared.counters.reset();
        }
    }
    drop(reg);
}

/// Serves one connection in `Blackhole` mode: reads and discards until the client closes.
async fn blackhole(mut client: TcpStream, reg: Registered) {
    let shared = Arc::clone(&reg.shared);
    let mut buf = vec![0u8; pipe::CHUNK];
    let discard = async {
        loop {
            match client.read(&mut buf).await? {
                0 => return Ok(()),
                n => shared.counters.received(Direction::Upstream, n),
            }
        }
    };
    let result: io::Result<()> = tokio::select! {
        biased;
        _ = reg.killed() => Err(io::Error::other("reset by the fault proxy")),
        r = discard => r,
    };
    if result.is_err() {
        reset_tcp(client);
        shared.counters.reset();
    } else {
        drop(client);
    }
    drop(reg);
}
