//! The plugin side: [`serve`] runs a plugin binary's services with the handshake, health
//! and control services, launched by a host (cookie, handshake line, stdin watch) or
//! standalone (a listen address, for containers and remote deployments).

use std::collections::BTreeMap;
use std::future::Future;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use super::builtin::{PluginHttp, Services};
use super::handshake::{
    CORE_PROTOCOL_VERSION, ENV_APP_VERSIONS, ENV_LISTEN, ENV_NETWORK, ENV_OUTLIVE_HOST,
    ENV_UNIX_DIR, HandshakeLine, MagicCookie, Network, negotiate, parse_versions,
};
use super::set::PluginSet;
use crate::pb::connectplugin::v1 as cp;
use crate::protocol::Protocol;
use crate::rpc::RouteConflict;
use crate::transport::{ListenAddr, RunningServer, Server};

pub use super::builtin::PluginHealth;

/// How a plugin binary serves: the magic cookie its host sets, the plugins for each
/// application protocol version, and the server's interceptors, limits and shutdown grace
/// period. A plugin's `main` passes it to [`serve_main`] (or [`serve`]); a host can also
/// serve it in its own process
/// ([`PluginClientBuilder::in_memory`](super::PluginClientBuilder::in_memory)).
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use connect_plugin::pb::connectplugin::v1 as cp;
/// use connect_plugin::plugin::{MagicCookie, PluginClient, ServeConfig};
/// use connect_plugin::{PluginSet, Request, Response, Status};
///
/// // A plugin's implementation (here of one of the runtime's own services; a plugin
/// // implements the trait generated for its own).
/// struct Broker;
///
/// #[connect_plugin::async_trait]
/// impl cp::CapabilityBroker for Broker {
///     async fn request_capability(
///         &self,
///         _: Request<cp::RequestCapabilityRequest>,
///     ) -> Result<Response<cp::RequestCapabilityResponse>, Status> {
///         Ok(Response::new(cp::RequestCapabilityResponse::default()))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let cookie = MagicCookie::new("MY_APP_PLUGIN", "b5e3f7a1");
/// let plugins = PluginSet::new().with::<cp::CapabilityBrokerPlugin>(Arc::new(Broker));
/// let mut config = ServeConfig::new(cookie.clone(), plugins);
/// config.grace = Duration::from_secs(1);
///
/// // A plugin binary ends its `main` with `connect_plugin::plugin::serve_main(config).await`.
/// // Here the host serves the same config in its own process, with the same protocol:
/// let plugin = PluginClient::builder(cookie).in_memory(config).start().await?;
/// let broker = plugin.dispense::<cp::CapabilityBrokerPlugin>()?;
/// broker.request_capability(Request::new(cp::RequestCapabilityRequest::default())).await?;
/// plugin.kill().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ServeConfig {
    /// The magic cookie a host sets.
    pub cookie: MagicCookie,
    /// The plugins served for each application protocol version.
    pub versions: BTreeMap<u32, PluginSet>,
    /// How long calls in flight may take to finish on shutdown (default 5 s).
    pub grace: Duration,
    /// Serve standalone on this address (`HOST:PORT` or `unix:/path`) instead of being
    /// launched; also taken from `--listen ADDR` or `CONNECT_PLUGIN_LISTEN`.
    pub listen: Option<String>,
    /// Server-side interceptors around every call (auth, rate limits …), the first added
    /// outermost. They also see the handshake, health and control calls: an
    /// authenticator should let those through (`Authenticator::public`) when the host does
    /// not send credentials.
    pub interceptors: Vec<Arc<dyn crate::rpc::Interceptor>>,
    /// Connection limits and timeouts of the server (slow clients, stream and connection
    /// caps, keep-alive).
    pub limits: crate::transport::ServerLimits,
    /// Joins a host platform once serving (self-registration, Model B): keep a clone to
    /// discover other plugins' services and report health. Without one, a plugin whose
    /// environment names a host (`CONNECT_PLUGIN_HOST_URL`, `CONNECT_PLUGIN_JOIN_TOKEN`)
    /// joins it by itself.
    pub join: Option<super::Membership>,
}

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("cookie", &self.cookie)
            .field("versions", &self.versions.keys().collect::<Vec<_>>())
            .field("grace", &self.grace)
            .field("listen", &self.listen)
            .field("interceptors", &self.interceptors.len())
            .field("limits", &self.limits)
            .field("join", &self.join)
            .finish()
    }
}

impl ServeConfig {
    /// One plugin set at application version 1.
    pub fn new(cookie: MagicCookie, plugins: PluginSet) -> Self {
        ServeConfig::versioned(cookie, BTreeMap::from([(1, plugins)]))
    }

    /// Adds a server-side interceptor (see [`ServeConfig::interceptors`]); a shared one (an
    /// `Arc<RateLimit>`, an `Arc<dyn Interceptor>`) is passed the same way.
    pub fn interceptor(mut self, interceptor: impl crate::rpc::Interceptor) -> Self {
        self.interceptors
            .push(crate::rpc::interceptor::shared(interceptor));
        self
    }

    /// Sets the server's connection limits.
    pub fn limits(mut self, limits: crate::transport::ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Several versions of the plugin set; the host and plugin pick the highest common.
    pub fn versioned(cookie: MagicCookie, versions: BTreeMap<u32, PluginSet>) -> Self {
        ServeConfig {
            cookie,
            versions,
            grace: Duration::from_secs(5),
            listen: None,
            interceptors: Vec::new(),
            limits: crate::transport::ServerLimits::default(),
            join: None,
        }
    }
}

/// Why a plugin could not serve.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Started by hand without a host: not an error of the plugin's, but nothing to do.
    #[error(
        "this program is a plugin: it is started by its host application, not by hand \
         (the {0} environment variable is not set as the host sets it). To run it on its own, \
         give it an address: --listen 127.0.0.1:8080 or CONNECT_PLUGIN_LISTEN"
    )]
    NotLaunched(String),
    /// No application version in common with the host.
    #[error("no protocol version in common: the host supports {host:?}, this plugin {plugin:?}")]
    NoCommonVersion {
        /// The host's versions.
        host: Vec<u32>,
        /// The plugin's.
        plugin: Vec<u32>,
    },
    /// The environment is malformed.
    #[error("invalid plugin environment: {0}")]
    Environment(String),
    /// Binding or serving failed.
    #[error("serving failed: {0}")]
    Io(#[from] std::io::Error),
    /// A plugin serves a path of the plugin server's own handshake, health or control
    /// services (`/grpc.health.v1.Health/Check`, say), which would hide one or the other.
    #[error(
        "a plugin serves {}, which the plugin server keeps for its own handshake, health and \
         control services",
        .0.paths().join(", ")
    )]
    ReservedPath(#[source] RouteConflict),
}

/// The plugin's whole HTTP surface (its plugins at `app_version`, handshake, health,
/// control, `/healthz`, `/readyz`), and the shared state behind the built-in services. A
/// plugin that serves a path of the built-in services is refused.
fn plugin_http(
    config: &ServeConfig,
    app_version: u32,
    health: PluginHealth,
) -> Result<(PluginHttp, Arc<Services>), ServeError> {
    let services = Arc::new(Services::new(config, health.clone()));
    let mut router = config
        .versions
        .get(&app_version)
        .map(PluginSet::router)
        .unwrap_or_default();
    router
        .try_merge(services.router())
        .map_err(ServeError::ReservedPath)?;
    for i in &config.interceptors {
        router = router.interceptor(i.clone());
    }
    Ok((PluginHttp { router, health }, services))
}

/// Stops serving: stops accepting, lets calls in flight finish for up to the grace period
/// (the host's, from `PluginControl.Shutdown`, else the configured one), then cancels the
/// rest. Every way of serving a plugin ends here.
async fn drain(server: RunningServer, services: &Services) {
    server.shutdown(services.grace()).await;
}

/// Serves a plugin inside this process over an in-memory link, with the full protocol (what
/// [`super::PluginClientBuilder::in_memory`] uses). It stops on `PluginControl.Shutdown`.
pub(crate) fn serve_in_memory(
    config: &ServeConfig,
    listener: crate::transport::MemoryListener,
) -> std::io::Result<()> {
    let app_version = config.versions.keys().copied().max().unwrap_or(1);
    let (http, services) = plugin_http(config, app_version, PluginHealth::new())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let server = Server::new(http).serve(crate::transport::Listener::Memory(listener))?;
    tokio::spawn(async move {
        services.shutdown_requested().await;
        drain(server, &services).await;
    });
    Ok(())
}

/// Serves the plugin until the host asks it to stop, goes away (stdin closes), or a
/// SIGTERM/SIGINT arrives. Launched by a host it prints the handshake line first.
pub async fn serve(config: ServeConfig) -> Result<(), ServeError> {
    serve_with(config, PluginHealth::new()).await
}

/// [`serve`], reporting health through `health` (from [`PluginHealth::handle`]).
pub async fn serve_with(config: ServeConfig, health: PluginHealth) -> Result<(), ServeError> {
    let mut config = config;
    let launch = Launch::of(&config)?;
    if config.join.is_none() {
        if let Some(join) = super::JoinConfig::from_env() {
            config.join = Some(
                super::Membership::new(join).map_err(|e| ServeError::Environment(e.to_string()))?,
            );
        }
    }
    check_plugin_sets(&config)?;
    let (app_version, address) = launch.version_and_address(&config)?;
    let (http, services) = plugin_http(&config, app_version, health.clone())?;
    let server = Server::new(http).limits(config.limits.clone());
    let (server, cert) = launch.mtls(server, &address)?;
    let server = server.bind(&address).await?;
    launch.announce(&server, app_version, cert)?;
    let membership = config.join.as_ref().map(|member| {
        let listening = match server.local_addr() {
            ListenAddr::Tcp(a) => format!("http://{a}"),
            ListenAddr::Unix(p) => format!("unix:{}", p.display()),
            ListenAddr::Memory => String::new(),
        };
        member.start(super::member::Served {
            plugins: config
                .versions
                .get(&app_version)
                .cloned()
                .unwrap_or_default(),
            app_versions: config.versions.keys().copied().collect(),
            cookie: config.cookie.clone(),
            listening,
        })
    });
    let stop = launch.stop_signals()?;
    tokio::select! {
        _ = services.shutdown_requested() => {}
        _ = stop => {}
    }
    health.set(cp::HealthState::Unhealthy, "shutting down");
    if let (Some(task), Some(member)) = (membership, &config.join) {
        task.abort();
        member.leave("shutting down").await;
    }
    drain(server, &services).await;
    launch.clean_up();
    Ok(())
}

/// A plugin binary with nothing to dispense is a mistake, not a plugin — unless it is a
/// member of a host platform that only uses other plugins' services.
fn check_plugin_sets(config: &ServeConfig) -> Result<(), ServeError> {
    if config.versions.is_empty() {
        return Err(ServeError::Environment("no plugin set to serve".into()));
    }
    if config.join.is_some() {
        return Ok(());
    }
    if let Some((v, _)) = config.versions.iter().find(|(_, set)| set.is_empty()) {
        return Err(ServeError::Environment(format!(
            "the plugin set of protocol version {v} is empty"
        )));
    }
    Ok(())
}

/// How the plugin was started: by a host (which set the magic cookie), with an address to
/// listen on (standalone), or both.
struct Launch {
    /// A host started the plugin and reads its handshake line.
    launched: bool,
    /// The address given in the config, `--listen` or `CONNECT_PLUGIN_LISTEN`.
    listen: Option<String>,
}

impl Launch {
    /// How this process was started; an error if neither by a host nor with an address.
    fn of(config: &ServeConfig) -> Result<Self, ServeError> {
        let launched =
            std::env::var(&config.cookie.key).ok().as_deref() == Some(config.cookie.value.as_str());
        let listen = config
            .listen
            .clone()
            .or_else(listen_arg)
            .or_else(|| std::env::var(ENV_LISTEN).ok());
        if !launched && listen.is_none() {
            return Err(ServeError::NotLaunched(config.cookie.key.clone()));
        }
        Ok(Launch { launched, listen })
    }

    /// The application protocol version and the address to serve on: negotiated with the
    /// host, on the network it asked for, when launched without an address; else the
    /// highest version, on the given address.
    fn version_and_address(&self, config: &ServeConfig) -> Result<(u32, String), ServeError> {
        let ours: Vec<u32> = config.versions.keys().copied().collect();
        if let Some(listen) = &self.listen {
            return Ok((ours.iter().copied().max().unwrap_or(1), listen.clone()));
        }
        let host = parse_versions(&std::env::var(ENV_APP_VERSIONS).unwrap_or_default())
            .map_err(ServeError::Environment)?;
        let v =
            negotiate(&ours, &host).ok_or(ServeError::NoCommonVersion { host, plugin: ours })?;
        let network = std::env::var(ENV_NETWORK).unwrap_or_else(|_| "unix".into());
        let address = match network.as_str() {
            "unix" => {
                let dir = std::env::var(ENV_UNIX_DIR)
                    .unwrap_or_else(|_| std::env::temp_dir().display().to_string());
                format!("unix:{dir}/plugin-{}.sock", std::process::id())
            }
            "tcp" => "127.0.0.1:0".to_owned(),
            other => {
                return Err(ServeError::Environment(format!(
                    "{ENV_NETWORK}={other:?}: want unix or tcp"
                )));
            }
        };
        Ok((v, address))
    }

    /// Automatic mutual TLS: launched, over TCP, with the host's certificate in the
    /// environment, the server trusts only that certificate and presents a one-time one of
    /// its own, returned for the handshake line.
    fn mtls(&self, server: Server, address: &str) -> Result<(Server, Option<Vec<u8>>), ServeError> {
        if !self.launched || address.starts_with("unix:") {
            return Ok((server, None));
        }
        let Ok(encoded) = std::env::var(super::mtls::ENV_HOST_CERT) else {
            return Ok((server, None));
        };
        let host_cert =
            crate::protocol::status::decode_base64_lenient(&encoded).ok_or_else(|| {
                ServeError::Environment(format!("{} is not base64", super::mtls::ENV_HOST_CERT))
            })?;
        let identity = super::mtls::SelfSignedCert::generate("connect-plugin plugin")
            .map_err(|e| ServeError::Environment(format!("making a certificate: {e}")))?;
        let config = super::mtls::server_config(&identity, host_cert)
            .map_err(|e| ServeError::Environment(format!("TLS configuration: {e}")))?;
        Ok((server.tls(config), Some(identity.cert_der().to_vec())))
    }

    /// Says where the plugin serves: the handshake line for the host that launched it, else
    /// `listening on ADDRESS`.
    fn announce(
        &self,
        server: &RunningServer,
        app_version: u32,
        cert: Option<Vec<u8>>,
    ) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        if self.launched {
            let (network, address) = match server.local_addr() {
                ListenAddr::Tcp(a) => (Network::Tcp, a.to_string()),
                ListenAddr::Unix(p) => (Network::Unix, p.display().to_string()),
                ListenAddr::Memory => (Network::Tcp, String::new()),
            };
            let line = HandshakeLine {
                core_version: CORE_PROTOCOL_VERSION,
                app_version,
                network,
                address,
                wire: Protocol::Connect,
                cert,
            };
            writeln!(out, "{line}")?;
            return out.flush();
        }
        let shown = match server.local_addr() {
            ListenAddr::Tcp(a) => format!("http://{a}"),
            other => other.to_string(),
        };
        writeln!(out, "listening on {shown}")?;
        out.flush()?;
        tracing::info!(address = %shown, "plugin serving standalone");
        Ok(())
    }

    /// What stops the plugin besides `PluginControl.Shutdown`: SIGTERM, SIGINT, and for a
    /// launched plugin its host going away (stdin closes) unless the host lets the plugin
    /// outlive it (to reattach after a restart): the plugin then keeps running, and stops
    /// writing to the pipes the host read once nobody reads them.
    fn stop_signals(&self) -> std::io::Result<impl Future<Output = ()> + use<>> {
        let outlive = self.launched && std::env::var(ENV_OUTLIVE_HOST).as_deref() == Ok("1");
        if outlive {
            super::orphan::quiet_when_orphaned();
        }
        let watch_host = self.launched && !outlive;
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        Ok(async move {
            let host_gone = async {
                if watch_host {
                    wait_for_stdin_eof().await;
                    tracing::info!("the host went away (stdin closed); shutting down");
                } else {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM; shutting down"),
                _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT; shutting down"),
                _ = host_gone => {}
            }
        })
    }

    /// After serving: a launched plugin's socket was in a private directory the host made;
    /// once the socket is gone it is empty, and a host that died (or outlived by design)
    /// will not remove it.
    fn clean_up(&self) {
        if self.launched {
            if let Ok(dir) = std::env::var(ENV_UNIX_DIR) {
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
}

fn listen_arg() -> Option<String> {
    let mut args = std::env::args();
    while let Some(a) = args.next() {
        if a == "--listen" {
            return args.next();
        }
        if let Some(v) = a.strip_prefix("--listen=") {
            return Some(v.to_owned());
        }
    }
    None
}

/// Resolves when stdin reaches end of file (the host is gone). Read on a detached thread:
/// tokio's stdin would run on the blocking pool, which the runtime waits for on exit.
async fn wait_for_stdin_eof() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("plugin-stdin-watch".into())
        .spawn(move || {
            use std::io::Read as _;
            let mut stdin = std::io::stdin();
            let mut buf = [0u8; 256];
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = tx.send(());
        });
    if spawned.is_err() {
        // Without the watcher the plugin still stops on Shutdown and signals.
        std::future::pending::<()>().await;
    }
    let _ = rx.await;
}

/// For a plugin's `main`: serves, and on [`ServeError`] prints it and exits non-zero.
pub async fn serve_main(config: ServeConfig) {
    if let Err(e) = serve(config).await {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_empty_plugin_set_is_refused() {
        let mut config = ServeConfig::new(
            MagicCookie::new("CP_TEST_COOKIE_UNSET", "x"),
            PluginSet::new(),
        );
        config.listen = Some("127.0.0.1:0".into());
        let err = serve(config).await.unwrap_err();
        assert!(
            err.to_string().contains("protocol version 1 is empty"),
            "{err}"
        );
        let mut none = ServeConfig::versioned(
            MagicCookie::new("CP_TEST_COOKIE_UNSET", "x"),
            BTreeMap::new(),
        );
        none.listen = Some("127.0.0.1:0".into());
        assert!(
            serve(none)
                .await
                .unwrap_err()
                .to_string()
                .contains("no plugin set")
        );
    }

    /// A stand-in for a plugin that serves the health service itself.
    struct OwnHealth;

    #[crate::async_trait]
    impl crate::pb::grpc::health::v1::Health for OwnHealth {
        async fn check(
            &self,
            _: crate::Request<crate::pb::grpc::health::v1::HealthCheckRequest>,
        ) -> Result<crate::Response<crate::pb::grpc::health::v1::HealthCheckResponse>, crate::Status>
        {
            Err(crate::Status::unimplemented("a stand-in"))
        }

        async fn watch(
            &self,
            _: crate::Request<crate::pb::grpc::health::v1::HealthCheckRequest>,
        ) -> Result<
            crate::Response<crate::Streaming<crate::pb::grpc::health::v1::HealthCheckResponse>>,
            crate::Status,
        > {
            Err(crate::Status::unimplemented("a stand-in"))
        }
    }

    /// A plugin serving a path of the built-in services is refused by name, launched,
    /// standalone or in memory, rather than hidden by (or hiding) the built-in one.
    #[tokio::test]
    async fn a_plugin_serving_a_builtin_path_is_refused() {
        let set =
            PluginSet::new().with::<crate::pb::grpc::health::v1::HealthPlugin>(Arc::new(OwnHealth));
        let mut config = ServeConfig::new(MagicCookie::new("CP_TEST_COOKIE_UNSET", "x"), set);
        config.listen = Some("127.0.0.1:0".into());
        let err = serve(config.clone()).await.unwrap_err();
        let ServeError::ReservedPath(conflict) = &err else {
            panic!("{err}");
        };
        assert_eq!(
            conflict.paths(),
            [
                "/grpc.health.v1.Health/Check",
                "/grpc.health.v1.Health/Watch"
            ]
        );
        assert!(
            err.to_string().starts_with(
                "a plugin serves /grpc.health.v1.Health/Check, /grpc.health.v1.Health/Watch, \
                 which the plugin server keeps"
            ),
            "{err}"
        );

        let (_connector, listener) = crate::transport::memory_link();
        let err = serve_in_memory(&config, listener).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(
            err.to_string().contains("/grpc.health.v1.Health/Check"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn started_by_hand_without_an_address_it_is_not_launched() {
        let config = ServeConfig::new(
            MagicCookie::new("CP_TEST_COOKIE_UNSET", "x"),
            PluginSet::new(),
        );
        assert!(matches!(
            serve(config).await,
            Err(ServeError::NotLaunched(_))
        ));
    }
}
