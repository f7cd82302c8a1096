//! The plugin side: [`serve`] runs a plugin binary's services with the handshake, health
//! and control services, launched by a host (cookie, handshake line, stdin watch) or
//! standalone (a listen address, for containers and remote deployments).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::{Notify, watch};

use super::handshake::{
    CORE_PROTOCOL_VERSION, ENV_APP_VERSIONS, ENV_LISTEN, ENV_NETWORK, ENV_OUTLIVE_HOST,
    ENV_UNIX_DIR, HandshakeLine, MagicCookie, Network, negotiate, parse_versions,
};
use super::set::PluginSet;
use crate::pb::connectplugin::v1 as cp;
use crate::pb::grpc::health::v1 as hv1;
use crate::protocol::{Protocol, Status};
use crate::rpc::{Request, Response, RouteConflict, Router, Streaming};
use crate::transport::{Body, HttpHandler, ListenAddr, Server};

/// How a plugin binary serves.
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
            .push(crate::rpc::router::shared(interceptor));
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

/// Health of the plugin as reported by [`PluginHealth`] and served on
/// `grpc.health.v1.Health`, `PluginControl.GetHealth`, `/healthz` and `/readyz`.
#[derive(Debug, Clone)]
pub struct PluginHealth {
    state: Arc<watch::Sender<(cp::HealthState, String)>>,
}

impl PluginHealth {
    fn new() -> Self {
        let (tx, _) = watch::channel((cp::HealthState::Healthy, String::new()));
        PluginHealth {
            state: Arc::new(tx),
        }
    }

    /// Reports a new state (and why).
    pub fn set(&self, state: cp::HealthState, reason: impl Into<String>) {
        self.state.send_replace((state, reason.into()));
    }

    /// The current state.
    pub fn get(&self) -> (cp::HealthState, String) {
        self.state.borrow().clone()
    }

    fn serving(state: cp::HealthState) -> hv1::health_check_response::ServingStatus {
        use hv1::health_check_response::ServingStatus;
        match state {
            cp::HealthState::Healthy | cp::HealthState::Degraded => ServingStatus::Serving,
            _ => ServingStatus::NotServing,
        }
    }
}

struct Services {
    cookie: MagicCookie,
    versions: BTreeMap<u32, Vec<cp::PluginDescriptor>>,
    health: PluginHealth,
    shutdown: Arc<Notify>,
    grace: Duration,
    requested_grace: std::sync::Mutex<Option<Duration>>,
}

impl Services {
    fn known_service(&self, name: &str) -> bool {
        name.is_empty()
            || self
                .versions
                .values()
                .flatten()
                .any(|d| d.service_name == name)
    }
}

#[crate::async_trait]
impl cp::HandshakeService for Arc<Services> {
    async fn handshake(
        &self,
        request: Request<cp::HandshakeRequest>,
    ) -> Result<Response<cp::HandshakeResponse>, Status> {
        let r = request.into_inner();
        if r.core_protocol_version != CORE_PROTOCOL_VERSION {
            return Err(Status::invalid_argument(format!(
                "core protocol version {} is not supported: this plugin speaks {CORE_PROTOCOL_VERSION}",
                r.core_protocol_version
            )));
        }
        if r.magic_cookie_key != self.cookie.key || r.magic_cookie_value != self.cookie.value {
            return Err(Status::invalid_argument(
                "wrong magic cookie: this plugin belongs to another application",
            ));
        }
        let ours: Vec<u32> = self.versions.keys().copied().collect();
        let Some(v) = negotiate(&ours, &r.app_protocol_versions) else {
            return Err(Status::failed_precondition(format!(
                "no protocol version in common: the host supports {:?}, this plugin {ours:?}",
                r.app_protocol_versions
            )));
        };
        let all = self.versions.get(&v).cloned().unwrap_or_default();
        for name in &r.requested_plugins {
            if !all.iter().any(|d| &d.name == name) {
                return Err(Status::not_found(format!(
                    "plugin {name:?} is not served at version {v}; served: {:?}",
                    all.iter().map(|d| d.name.as_str()).collect::<Vec<_>>()
                )));
            }
        }
        let plugins = all
            .into_iter()
            .filter(|d| r.requested_plugins.is_empty() || r.requested_plugins.contains(&d.name))
            .collect();
        Ok(Response::new(cp::HandshakeResponse {
            core_protocol_version: CORE_PROTOCOL_VERSION,
            app_protocol_version: v,
            plugins,
            ..Default::default()
        }))
    }
}

#[crate::async_trait]
impl hv1::Health for Arc<Services> {
    async fn check(
        &self,
        request: Request<hv1::HealthCheckRequest>,
    ) -> Result<Response<hv1::HealthCheckResponse>, Status> {
        let service = request.into_inner().service;
        if !self.known_service(&service) {
            return Err(Status::not_found(format!("unknown service {service:?}")));
        }
        let status = PluginHealth::serving(self.health.get().0);
        Ok(Response::new(hv1::HealthCheckResponse {
            status: status as i32,
        }))
    }

    async fn watch(
        &self,
        request: Request<hv1::HealthCheckRequest>,
    ) -> Result<Response<Streaming<hv1::HealthCheckResponse>>, Status> {
        use hv1::health_check_response::ServingStatus;
        let service = request.into_inner().service;
        if !self.known_service(&service) {
            let unknown = hv1::HealthCheckResponse {
                status: ServingStatus::ServiceUnknown as i32,
            };
            return Ok(Response::new(Streaming::from_messages(
                futures_util::stream::iter([unknown]),
            )));
        }
        let rx = self.health.state.subscribe();
        let updates =
            futures_util::stream::unfold((rx, None::<i32>), |(mut rx, last)| async move {
                loop {
                    let status = PluginHealth::serving(rx.borrow_and_update().0) as i32;
                    if last != Some(status) {
                        return Some((Ok(hv1::HealthCheckResponse { status }), (rx, Some(status))));
                    }
                    if rx.changed().await.is_err() {
                        return None;
                    }
                }
            });
        Ok(Response::new(Streaming::from_stream(updates)))
    }
}

#[crate::async_trait]
impl cp::PluginControl for Arc<Services> {
    async fn get_health(
        &self,
        _request: Request<cp::GetHealthRequest>,
    ) -> Result<Response<cp::GetHealthResponse>, Status> {
        let (state, reason) = self.health.get();
        Ok(Response::new(cp::GetHealthResponse {
            state: state as i32,
            reason,
            unavailable_dependencies: Vec::new(),
        }))
    }

    async fn shutdown(
        &self,
        request: Request<cp::ShutdownRequest>,
    ) -> Result<Response<cp::ShutdownResponse>, Status> {
        let r = request.into_inner();
        let grace = r.grace_period.map(prost_duration).unwrap_or(self.grace);
        if let Ok(mut g) = self.requested_grace.lock() {
            *g = Some(grace);
        }
        tracing::info!(reason = %r.reason, ?grace, "shutdown requested by the host");
        self.shutdown.notify_one();
        Ok(Response::new(cp::ShutdownResponse { accepted: true }))
    }
}

fn prost_duration(d: pbjson_types::Duration) -> std::time::Duration {
    if d.seconds < 0 || d.nanos < 0 {
        return Duration::ZERO;
    }
    Duration::new(d.seconds as u64, d.nanos as u32)
}

/// The plugin's HTTP surface: `/healthz`, `/readyz`, then the RPC router.
struct PluginHttp {
    router: Router,
    health: PluginHealth,
}

impl PluginHttp {
    /// The answer to `/healthz` and `/readyz`, which the plugin gives itself; `None` for
    /// everything else (the router's).
    fn probe(&self, path: &str) -> Option<http::Response<Body>> {
        let plain = |status: u16, text: &'static str| {
            let mut resp = http::Response::new(Body::full(text));
            *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
            resp.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain"),
            );
            resp
        };
        match path {
            "/healthz" => Some(plain(200, "ok\n")),
            "/readyz" => {
                let ready = PluginHealth::serving(self.health.get().0)
                    == hv1::health_check_response::ServingStatus::Serving;
                Some(if ready {
                    plain(200, "ready\n")
                } else {
                    plain(503, "not ready\n")
                })
            }
            _ => None,
        }
    }
}

impl HttpHandler for PluginHttp {
    fn call(&self, req: http::Request<Body>) -> BoxFuture<'static, http::Response<Body>> {
        match self.probe(req.uri().path()) {
            Some(resp) => Box::pin(std::future::ready(resp)),
            None => HttpHandler::call(&self.router, req),
        }
    }

    // The router gets the connection itself, so that what interceptors learn about a
    // connection (a verified token, an mTLS identity) is kept for its later calls.
    fn call_from(
        &self,
        req: http::Request<Body>,
        conn: &Arc<crate::transport::Connection>,
    ) -> BoxFuture<'static, http::Response<Body>> {
        match self.probe(req.uri().path()) {
            Some(resp) => Box::pin(std::future::ready(resp)),
            None => HttpHandler::call_from(&self.router, req, conn),
        }
    }
}

/// The plugin's whole HTTP surface (its plugins at `app_version`, handshake, health,
/// control, `/healthz`, `/readyz`), and the shared state behind the built-in services. A
/// plugin that serves a path of the built-in services is refused.
fn plugin_http(
    config: &ServeConfig,
    app_version: u32,
    health: PluginHealth,
    shutdown: Arc<Notify>,
) -> Result<(PluginHttp, Arc<Services>), RouteConflict> {
    let descriptors: BTreeMap<u32, Vec<cp::PluginDescriptor>> = config
        .versions
        .iter()
        .map(|(v, set)| (*v, set.infos().map(cp::PluginDescriptor::from).collect()))
        .collect();
    let services = Arc::new(Services {
        cookie: config.cookie.clone(),
        versions: descriptors,
        health: health.clone(),
        shutdown,
        grace: config.grace,
        requested_grace: std::sync::Mutex::new(None),
    });
    let mut router = config
        .versions
        .get(&app_version)
        .map(PluginSet::router)
        .unwrap_or_default();
    router.try_merge(
        cp::handshake_service_router(Arc::new(services.clone()))
            .merge(hv1::health_router(Arc::new(services.clone())))
            .merge(cp::plugin_control_router(Arc::new(services.clone()))),
    )?;
    for i in &config.interceptors {
        router = router.interceptor(i.clone());
    }
    Ok((PluginHttp { router, health }, services))
}

/// Serves a plugin inside this process over an in-memory link, with the full protocol (what
/// [`super::PluginClientBuilder::in_memory`] uses). It stops on `PluginControl.Shutdown`.
pub(crate) fn serve_in_memory(
    config: &ServeConfig,
    listener: crate::transport::MemoryListener,
) -> std::io::Result<()> {
    let app_version = config.versions.keys().copied().max().unwrap_or(1);
    let shutdown = Arc::new(Notify::new());
    let (http, services) = plugin_http(config, app_version, PluginHealth::new(), shutdown.clone())
        .map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                ServeError::ReservedPath(e),
            )
        })?;
    let server = Server::new(http).serve(crate::transport::Listener::Memory(listener))?;
    let grace = config.grace;
    tokio::spawn(async move {
        shutdown.notified().await;
        let grace = services
            .requested_grace
            .lock()
            .ok()
            .and_then(|g| *g)
            .unwrap_or(grace);
        server.shutdown(grace).await;
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
    // A plugin binary with nothing to dispense is a mistake, not a plugin.
    if config.versions.is_empty() {
        return Err(ServeError::Environment("no plugin set to serve".into()));
    }
    if let Some((v, _)) = config.versions.iter().find(|(_, set)| set.is_empty()) {
        return Err(ServeError::Environment(format!(
            "the plugin set of protocol version {v} is empty"
        )));
    }
    let ours: Vec<u32> = config.versions.keys().copied().collect();
    let (app_version, address) = if launched && listen.is_none() {
        let host = parse_versions(&std::env::var(ENV_APP_VERSIONS).unwrap_or_default())
            .map_err(ServeError::Environment)?;
        let v = negotiate(&ours, &host).ok_or(ServeError::NoCommonVersion {
            host,
            plugin: ours.clone(),
        })?;
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
        (v, address)
    } else {
        (
            ours.iter().copied().max().unwrap_or(1),
            listen.unwrap_or_default(),
        )
    };

    let shutdown = Arc::new(Notify::new());
    let (http, services) = plugin_http(&config, app_version, health.clone(), shutdown.clone())
        .map_err(ServeError::ReservedPath)?;
    // Over TCP with a host certificate in the environment: mutual TLS, each side trusting
    // only the other's one-time certificate.
    let mut server = Server::new(http).limits(config.limits.clone());
    let mut cert = None;
    if launched && !address.starts_with("unix:") {
        if let Ok(encoded) = std::env::var(super::mtls::ENV_HOST_CERT) {
            let host_cert =
                crate::protocol::status::decode_base64_lenient(&encoded).ok_or_else(|| {
                    ServeError::Environment(format!("{} is not base64", super::mtls::ENV_HOST_CERT))
                })?;
            let identity = super::mtls::Identity::generate("connect-plugin plugin")
                .map_err(|e| ServeError::Environment(format!("making a certificate: {e}")))?;
            let config = super::mtls::server_config(&identity, host_cert)
                .map_err(|e| ServeError::Environment(format!("TLS configuration: {e}")))?;
            server = server.tls(config);
            cert = Some(identity.cert_der().to_vec());
        }
    }
    let server = server.bind(&address).await?;
    let (network, addr) = match server.local_addr() {
        ListenAddr::Tcp(a) => (Network::Tcp, a.to_string()),
        ListenAddr::Unix(p) => (Network::Unix, p.display().to_string()),
        ListenAddr::Memory => (Network::Tcp, String::new()),
    };
    if launched {
        let line = HandshakeLine {
            core_version: CORE_PROTOCOL_VERSION,
            app_version,
            network,
            address: addr,
            wire: Protocol::Connect,
            cert,
        };
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
    } else {
        let shown = match server.local_addr() {
            ListenAddr::Tcp(a) => format!("http://{a}"),
            other => other.to_string(),
        };
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {shown}")?;
        out.flush()?;
        tracing::info!(address = %shown, "plugin serving standalone");
    }

    // A host that lets its plugin outlive it (to reattach after a restart) says so; the
    // plugin then keeps running when the host goes, and stops writing to the pipes the
    // host read once nobody reads them.
    let outlive = launched && std::env::var(ENV_OUTLIVE_HOST).as_deref() == Ok("1");
    if outlive {
        super::orphan::quiet_when_orphaned();
    }
    let host_gone = async {
        if launched && !outlive {
            wait_for_stdin_eof().await;
            tracing::info!("the host went away (stdin closed); shutting down");
        } else {
            std::future::pending::<()>().await;
        }
    };
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = shutdown.notified() => {}
        _ = term.recv() => tracing::info!("SIGTERM; shutting down"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT; shutting down"),
        _ = host_gone => {}
    }
    health.set(cp::HealthState::Unhealthy, "shutting down");
    let grace = services
        .requested_grace
        .lock()
        .ok()
        .and_then(|g| *g)
        .unwrap_or(config.grace);
    server.shutdown(grace).await;
    if launched {
        // The host made a private directory for the socket; once the socket is gone it is
        // empty, and a host that died (or outlived by design) will not remove it.
        if let Ok(dir) = std::env::var(ENV_UNIX_DIR) {
            let _ = std::fs::remove_dir(dir);
        }
    }
    Ok(())
}

impl PluginHealth {
    /// A health handle to pass to [`serve_with`] and keep for reporting.
    pub fn handle() -> Self {
        PluginHealth::new()
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
        let set = PluginSet::new()
            .with::<crate::pb::grpc::health::v1::HealthPlugin>(Arc::new(OwnHealth))
            .unwrap();
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
