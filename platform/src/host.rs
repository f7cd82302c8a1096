//! Serving a [`Platform`]: its HTTP surface on a listener, plus the periodic sweep, with one
//! lifetime. [`RunningHost::shutdown`] turns the health to NOT_SERVING, stops the sweep,
//! then shuts the server down gracefully; dropping a `RunningHost` stops both at once.

use std::io;
use std::time::Duration;

use connect_plugin::Server;
use connect_plugin::transport::{ListenAddr, Listener, RunningServer, ShutdownHandle};
use tokio::sync::watch;

use crate::Platform;
use crate::sweep::{Sweeper, Swept, default_interval};

/// How a [`Platform`] is served: built by [`Platform::serve`], started by
/// [`HostServer::bind`] or [`HostServer::listen`].
///
/// ```
/// use std::time::Duration;
/// use connect_plugin_platform::Platform;
/// use connect_plugin_platform::control::PlatformConfig;
/// use connect_plugin::transport::ServerLimits;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let platform = Platform::new(PlatformConfig::default());
/// let host = platform
///     .serve()
///     .sweep_every(Duration::from_secs(10))
///     .server(|s| s.limits(ServerLimits::default().idle_timeout(Some(Duration::from_secs(300)))))
///     .bind("127.0.0.1:0")
///     .await?;
/// println!("listening on http://{}", host.local_addr());
/// host.shutdown(Duration::from_secs(5)).await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct HostServer {
    platform: Platform,
    server: Server,
    sweep_every: Option<Duration>,
}

impl HostServer {
    pub(crate) fn new(platform: Platform) -> Self {
        HostServer {
            server: Server::new(platform.http()),
            platform,
            sweep_every: None,
        }
    }

    /// Sweeps expired tokens and the plugins left without one at this interval (default
    /// [`default_interval`] of the token lifetime: a quarter of it, between 10 ms and
    /// 30 s).
    pub fn sweep_every(mut self, interval: Duration) -> Self {
        self.sweep_every = Some(interval);
        self
    }

    /// Adjusts the runtime `Server` the platform is served by: its limits, or TLS
    /// (`|s| s.tls(rustls_config)`).
    pub fn server(mut self, configure: impl FnOnce(Server) -> Server) -> Self {
        self.server = configure(self.server);
        self
    }

    /// Binds `addr` (`HOST:PORT`, port 0 for any free one, or `unix:/path`) and starts
    /// serving and sweeping on the current tokio runtime.
    pub async fn bind(self, addr: &str) -> io::Result<RunningHost> {
        let listener = Listener::bind(addr).await?;
        self.listen(listener)
    }

    /// Starts serving connections from `listener`, and sweeping, on the current tokio
    /// runtime.
    pub fn listen(self, listener: Listener) -> io::Result<RunningHost> {
        let server = self.server.serve(listener)?;
        self.platform.health().serving();
        let interval = self
            .sweep_every
            .unwrap_or_else(|| default_interval(self.platform.control_plane().tokens.limits().ttl));
        let sweeper = Sweeper::spawn(self.platform.control_plane().clone(), interval);
        tracing::debug!(?interval, "sweeping expired tokens");
        Ok(RunningHost {
            platform: self.platform,
            server,
            sweeper,
        })
    }
}

/// A platform being served. Dropping it stops the sweep and the server at once; prefer
/// [`RunningHost::shutdown`], which first tells health watchers.
#[derive(Debug)]
pub struct RunningHost {
    platform: Platform,
    server: RunningServer,
    sweeper: Sweeper,
}

impl RunningHost {
    /// Where the host listens.
    pub fn local_addr(&self) -> &ListenAddr {
        self.server.local_addr()
    }

    /// The platform served.
    pub fn platform(&self) -> &Platform {
        &self.platform
    }

    /// The sweeps' running totals, updated after every round: wait on it to see expired
    /// plugins go.
    pub fn sweeps(&self) -> watch::Receiver<Swept> {
        self.sweeper.events()
    }

    /// A handle that stops the server from elsewhere (the sweep stops with
    /// [`RunningHost::shutdown`] or when this value is dropped).
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.server.shutdown_handle()
    }

    /// Shuts down gracefully: health turns NOT_SERVING (health watchers are told and their
    /// streams end), the sweep stops, the server stops accepting and lets calls in flight
    /// finish for up to `grace`, then cancels the rest. Returns once every connection is
    /// closed.
    pub async fn shutdown(self, grace: Duration) {
        self.platform.health().begin_shutdown();
        self.sweeper.stop().await;
        self.server.shutdown(grace).await;
    }
}
