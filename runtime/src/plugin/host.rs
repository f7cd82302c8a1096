//! The host side: [`PluginClient`] launches a plugin (or connects to one, or reattaches to
//! one from its handshake line), handshakes, and dispenses typed clients.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, ChildStdin};

use super::Plugin;
use super::handshake::{
    CORE_PROTOCOL_VERSION, ENV_APP_VERSIONS, ENV_CORE_VERSION, ENV_NETWORK, ENV_OUTLIVE_HOST,
    ENV_UNIX_DIR, HandshakeLine, InvalidHandshakeLine, MagicCookie, Network,
};
use super::orphan::ProcessHandle;
use super::reattach::ReattachConfig;
use crate::interceptors::{BreakerConfig, CircuitBreaker, ClientChain, RetryPolicy};
use crate::pb::connectplugin::v1 as cp;
use crate::pb::connectplugin::v1::{HandshakeService as _, PluginControl as _};
use crate::protocol::Status;
use crate::rpc::{Client, ClientConfig, Request};
use crate::transport::Channel;

/// Why a plugin could not be started, reached or dispensed.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The plugin's program could not be started.
    #[error("cannot start plugin {program:?}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// The plugin printed something other than a handshake line first.
    #[error(
        "plugin {name} printed {line:?} before its handshake line ({why}); its stderr ended with: {stderr:?}"
    )]
    BeforeHandshake {
        /// The plugin.
        name: String,
        /// What it printed.
        line: String,
        /// Why that is not a handshake line.
        why: String,
        /// The last lines it wrote on stderr.
        stderr: Vec<String>,
    },
    /// The plugin exited before its handshake line.
    #[error(
        "plugin {name} exited ({status}) before its handshake line; its stderr ended with: {stderr:?}"
    )]
    Exited {
        /// The plugin.
        name: String,
        /// How it exited.
        status: String,
        /// The last lines it wrote on stderr.
        stderr: Vec<String>,
    },
    /// No handshake within the start timeout.
    #[error(
        "plugin {name} did not complete its handshake within {after:?}; its stderr ended with: {stderr:?}"
    )]
    StartTimeout {
        /// The plugin.
        name: String,
        /// The timeout.
        after: Duration,
        /// The last lines it wrote on stderr.
        stderr: Vec<String>,
    },
    /// The handshake line or call failed on versions.
    #[error("plugin {name}: {why}")]
    Incompatible {
        /// The plugin.
        name: String,
        /// What does not match.
        why: String,
    },
    /// The handshake call failed.
    #[error("plugin {name}: handshake failed: {status}")]
    Handshake {
        /// The plugin.
        name: String,
        /// The error.
        status: Status,
    },
    /// The plugin is not among those the handshake returned.
    #[error("plugin {wanted:?} is not served by {name} ({why}); served: {served:?}")]
    NotServed {
        /// The plugin process.
        name: String,
        /// The plugin asked for.
        wanted: String,
        /// Why.
        why: &'static str,
        /// What is served.
        served: Vec<String>,
    },
    /// The endpoint is malformed.
    #[error("invalid plugin endpoint: {0}")]
    Endpoint(String),
    /// Something went wrong talking to the plugin.
    #[error("plugin {name}: {source}")]
    Io {
        /// The plugin.
        name: String,
        /// Why.
        source: std::io::Error,
    },
}

#[derive(Clone)]
enum Target {
    Launch {
        program: OsString,
        args: Vec<OsString>,
        envs: Vec<(OsString, OsString)>,
    },
    Endpoint(String),
    Reattach(Box<ReattachConfig>),
    InMemory(Box<super::ServeConfig>),
    Direct(super::PluginSet),
}

/// When and how often a crashed plugin is started again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// Restarts allowed over the client's life.
    pub max_restarts: u32,
    /// The wait before the first restart; it doubles on each further one.
    pub initial_backoff: Duration,
    /// The longest wait.
    pub max_backoff: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            max_restarts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
        }
    }
}

/// Builds a [`PluginClient`].
#[derive(Clone)]
pub struct PluginClientBuilder {
    target: Option<Target>,
    name: Option<String>,
    cookie: MagicCookie,
    app_versions: Vec<u32>,
    requested: Vec<String>,
    network: Network,
    start_timeout: Duration,
    grace: Duration,
    config: ClientConfig,
    mtls: bool,
    restart: Option<RestartPolicy>,
    outlive_host: bool,
    interceptors: Vec<Arc<dyn crate::rpc::Interceptor>>,
    retry: Option<RetryPolicy>,
    breaker: Option<BreakerConfig>,
}

impl std::fmt::Debug for PluginClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginClientBuilder")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl PluginClientBuilder {
    /// Launches `program` as the plugin.
    pub fn command(mut self, program: impl Into<OsString>) -> Self {
        self.target = Some(Target::Launch {
            program: program.into(),
            args: Vec::new(),
            envs: Vec::new(),
        });
        self
    }

    /// Adds an argument to the launched program.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        if let Some(Target::Launch { args, .. }) = &mut self.target {
            args.push(arg.into());
        }
        self
    }

    /// Adds an environment variable for the launched program.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        if let Some(Target::Launch { envs, .. }) = &mut self.target {
            envs.push((key.into(), value.into()));
        }
        self
    }

    /// Connects to a plugin already running at `url` (`http://host:port`, `unix:/path`).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.target = Some(Target::Endpoint(url.into()));
        self
    }

    /// Reattaches to a plugin launched earlier, by this or a previous host process, from
    /// its [`ReattachConfig`] ([`PluginClient::reattach_config`]) or just its handshake
    /// line. With the process id in the configuration, [`PluginClient::kill`] can still
    /// kill it after the grace period; with the saved host certificate, a plugin on TCP
    /// with mTLS accepts the new host.
    pub fn reattach(mut self, config: impl Into<ReattachConfig>) -> Self {
        self.target = Some(Target::Reattach(Box::new(config.into())));
        self
    }

    /// Lets a launched plugin outlive this host (off by default): it keeps running when
    /// the [`PluginClient`] is dropped or this process exits or dies, so a restarted host
    /// can [`reattach`](Self::reattach) to it, and it is not in this process's process
    /// group (a Ctrl-C at the terminal does not reach it). It still stops on
    /// [`PluginClient::kill`]; its logs reach this host's `tracing` only while this host
    /// runs. Off, a plugin exits about a second after its host dies.
    pub fn outlive_host(mut self, enabled: bool) -> Self {
        self.outlive_host = enabled;
        self
    }

    /// Serves the plugin inside this process over an in-memory link: the full protocol
    /// (handshake, encoding, interceptors), no process or socket.
    pub fn in_memory(mut self, config: super::ServeConfig) -> Self {
        self.target = Some(Target::InMemory(Box::new(config)));
        self
    }

    /// Uses the implementations themselves: `dispense` returns them, with no protocol in
    /// between (the fastest; for tests and for plugins compiled into the host).
    pub fn direct(mut self, plugins: super::PluginSet) -> Self {
        self.target = Some(Target::Direct(plugins));
        self
    }

    /// A name for logs and errors (default: the program's file name).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The application protocol versions this host supports (default `[1]`).
    pub fn app_versions(mut self, versions: impl IntoIterator<Item = u32>) -> Self {
        self.app_versions = versions.into_iter().collect();
        self
    }

    /// Asks for a plugin by name (default: all the plugin serves).
    pub fn request(mut self, plugin: impl Into<String>) -> Self {
        self.requested.push(plugin.into());
        self
    }

    /// Where a launched plugin listens (default: a Unix socket in a private directory).
    pub fn network(mut self, network: Network) -> Self {
        self.network = network;
        self
    }

    /// Restarts a launched plugin that exits on its own (crashes, is killed), with
    /// exponential backoff, and handshakes again; services dispensed before the crash work
    /// again once it is back.
    pub fn restart(mut self, policy: RestartPolicy) -> Self {
        self.restart = Some(policy);
        self
    }

    /// Mutual TLS for launched plugins over TCP: on by default (a one-time certificate on
    /// each side, each trusting only the other's). `false` makes TCP plaintext, which any
    /// local process could then call.
    pub fn mtls(mut self, enabled: bool) -> Self {
        self.mtls = enabled;
        self
    }

    /// How long launch plus handshake may take (default 10 s).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// How long a plugin has to finish its calls when stopped before it is killed
    /// (default 5 s).
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// How the host's clients call the plugin.
    pub fn client_config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    /// A default timeout for every call of the dispensed clients (a request's own timeout
    /// wins); none by default.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = Some(timeout);
        self
    }

    /// Adds an interceptor to the dispensed clients' chain (auth, tracing …). Yours run
    /// first, in the order added, then the circuit breaker, then retry
    /// ([`ClientChain`]).
    pub fn interceptor(mut self, interceptor: impl crate::rpc::Interceptor) -> Self {
        self.interceptors.push(Arc::new(interceptor));
        self
    }

    /// How dispensed clients retry (default [`RetryPolicy::default`]: 3 attempts, and only
    /// where it is safe).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Dispensed clients do not retry.
    pub fn no_retry(mut self) -> Self {
        self.retry = None;
        self
    }

    /// The plugin's circuit breaker, shared by all its dispensed clients (default
    /// [`BreakerConfig::default`]); it outlives restarts of the plugin.
    pub fn circuit_breaker(mut self, config: BreakerConfig) -> Self {
        self.breaker = Some(config);
        self
    }

    /// No circuit breaker.
    pub fn no_circuit_breaker(mut self) -> Self {
        self.breaker = None;
        self
    }

    /// Launches or connects, then handshakes.
    pub async fn start(self) -> Result<PluginClient, PluginError> {
        let interceptors = self.interceptors.clone();
        let retry = self.retry;
        let breaker = self.breaker;
        let mut plugin = self.start_supervised().await?;
        let mut chain = ClientChain::new();
        for i in interceptors {
            chain = chain.interceptor_arc(i);
        }
        if let Some(config) = breaker {
            chain =
                chain.circuit_breaker(Arc::new(CircuitBreaker::new(plugin.name.clone(), config)));
        }
        if let Some(policy) = retry {
            chain = chain.retry(policy);
        }
        plugin.chain = chain;
        Ok(plugin)
    }

    async fn start_supervised(self) -> Result<PluginClient, PluginError> {
        let Some(policy) = self.restart else {
            return self.start_once().await;
        };
        if !matches!(self.target, Some(Target::Launch { .. })) {
            return self.start_once().await;
        }
        let mut again = self.clone();
        again.restart = None;
        let first = again.clone().start_once().await?;
        let state = Arc::new(Supervised {
            current: std::sync::RwLock::new(first.client.clone()),
            restarts: std::sync::atomic::AtomicU32::new(0),
            reattach: std::sync::RwLock::new(first.reattach_config()),
        });
        let (connector, _) = crate::transport::memory_link();
        let base = Client::with_config(
            Channel::memory(connector).build(),
            first.client.config().clone(),
        );
        let client = base.clone().with_interceptor(Follow(state.clone()));
        let (stop_tx, stop_rx) = tokio::sync::mpsc::channel(1);
        let outer = PluginClient {
            name: first.name.clone(),
            client,
            plugins: first.plugins.clone(),
            app_version: first.app_version,
            requested: first.requested.clone(),
            line: first.line.clone(),
            process: None,
            direct: None,
            grace: first.grace,
            supervisor: Some(Supervisor {
                stop: stop_tx,
                state: state.clone(),
                base,
            }),
            identity: None,
            handle: None,
            chain: ClientChain::new(),
        };
        tokio::spawn(supervise(first, again, policy, state, stop_rx));
        Ok(outer)
    }

    async fn start_once(self) -> Result<PluginClient, PluginError> {
        let deadline = Instant::now() + self.start_timeout;
        let target = self.target.ok_or_else(|| {
            PluginError::Endpoint("no command, endpoint or handshake line given".into())
        })?;
        let mut memory = None;
        let identity = match &target {
            Target::Launch { .. } if self.mtls && self.network == Network::Tcp => Some(Arc::new(
                super::mtls::Identity::generate("connect-plugin host").map_err(|e| {
                    PluginError::Io {
                        name: "host".into(),
                        source: std::io::Error::other(e.to_string()),
                    }
                })?,
            )),
            Target::Reattach(config) => config.host_identity().map(Arc::new),
            _ => None,
        };
        let mut handle = None;
        let (name, line, process, url) = match target {
            Target::Direct(set) => {
                let plugins = set
                    .infos()
                    .filter(|i| {
                        self.requested.is_empty() || self.requested.iter().any(|r| r == i.name)
                    })
                    .map(cp::PluginDescriptor::from)
                    .collect();
                // An unconnected client: direct plugins are called without it.
                let (connector, _) = crate::transport::memory_link();
                return Ok(PluginClient {
                    name: self.name.unwrap_or_else(|| "direct".into()),
                    client: Client::new(Channel::memory(connector).build()),
                    plugins,
                    app_version: self.app_versions.iter().copied().max().unwrap_or(1),
                    requested: self.requested,
                    line: None,
                    process: None,
                    direct: Some(set),
                    grace: self.grace,
                    supervisor: None,
                    identity: None,
                    handle: None,
                    chain: ClientChain::new(),
                });
            }
            Target::InMemory(config) => {
                let (connector, listener) = crate::transport::memory_link();
                super::serve::serve_in_memory(&config, listener).map_err(|source| {
                    PluginError::Io {
                        name: "in-memory".into(),
                        source,
                    }
                })?;
                memory = Some(connector);
                (
                    self.name.unwrap_or_else(|| "in-memory".into()),
                    None,
                    None,
                    String::new(),
                )
            }
            Target::Endpoint(url) => (self.name.unwrap_or_else(|| url.clone()), None, None, url),
            Target::Reattach(config) => {
                let name = self.name.unwrap_or_else(|| config.line.address.clone());
                let url = config.line.url();
                // Held from now on, so a recycled pid can never be signalled by mistake.
                handle = config.pid.and_then(|pid| match ProcessHandle::open(pid) {
                    Ok(h) => Some(h),
                    Err(e) => {
                        tracing::debug!(plugin = %name, pid, error = %e, "cannot open the reattached plugin's process");
                        None
                    }
                });
                (name, Some(config.line), None, url)
            }
            Target::Launch {
                program,
                args,
                envs,
            } => {
                let name = self.name.unwrap_or_else(|| {
                    PathBuf::from(&program)
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_else(|| program.to_string_lossy().into_owned())
                });
                let mut envs = envs;
                if let Some(id) = &identity {
                    use base64::Engine as _;
                    envs.push((
                        super::mtls::ENV_HOST_CERT.into(),
                        base64::engine::general_purpose::STANDARD_NO_PAD
                            .encode(id.cert_der())
                            .into(),
                    ));
                }
                let (process, line) = launch(
                    &name,
                    &program,
                    &args,
                    &envs,
                    &self.cookie,
                    &self.app_versions,
                    self.network,
                    self.outlive_host,
                    deadline,
                    self.start_timeout,
                )
                .await?;
                let url = line.url();
                (name, Some(line), Some(process), url)
            }
        };
        if let Some(l) = &line {
            if l.core_version != CORE_PROTOCOL_VERSION {
                return Err(PluginError::Incompatible {
                    name,
                    why: format!(
                        "core protocol version {} is not supported: this host speaks {CORE_PROTOCOL_VERSION}",
                        l.core_version
                    ),
                });
            }
            if !self.app_versions.contains(&l.app_version) {
                return Err(PluginError::Incompatible {
                    name,
                    why: format!(
                        "the plugin chose protocol version {}, this host supports {:?}",
                        l.app_version, self.app_versions
                    ),
                });
            }
        }
        let mut config = self.config.clone();
        if let Some(l) = &line {
            config.protocol = l.wire;
        }
        let tls = match (&identity, line.as_ref().and_then(|l| l.cert.clone())) {
            (Some(id), Some(plugin_cert)) => {
                Some(super::mtls::client_config(id, plugin_cert).map_err(|e| {
                    PluginError::Incompatible {
                        name: name.clone(),
                        why: format!("TLS configuration: {e}"),
                    }
                })?)
            }
            (Some(_), None) => {
                return Err(PluginError::Incompatible {
                    name,
                    why: "the plugin listens on TCP without mTLS although the host asked for it \
                          (refusing plaintext; turn mTLS off explicitly to allow it)"
                        .into(),
                });
            }
            (None, Some(_)) => {
                return Err(PluginError::Incompatible {
                    name,
                    why: "the plugin requires mTLS but this host has no certificate for it \
                          (a reattaching host cannot present the original host's certificate)"
                        .into(),
                });
            }
            (None, None) => None,
        };
        let channel = match memory {
            Some(connector) => Channel::memory(connector).build(),
            None => {
                let mut b =
                    Channel::builder(&url).map_err(|e| PluginError::Endpoint(e.to_string()))?;
                if let Some(t) = tls {
                    b = b.tls(Arc::new(t));
                }
                b.build()
            }
        };
        let client = Client::with_config(channel, config);
        let handshake = cp::HandshakeServiceClient::new(client.clone());
        let request = cp::HandshakeRequest {
            core_protocol_version: CORE_PROTOCOL_VERSION,
            app_protocol_versions: self.app_versions.clone(),
            magic_cookie_key: self.cookie.key.clone(),
            magic_cookie_value: self.cookie.value.clone(),
            requested_plugins: self.requested.clone(),
            ..Default::default()
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        let response = match handshake
            .handshake(Request::new(request).with_timeout(remaining.max(Duration::from_millis(1))))
            .await
        {
            Ok(r) => r.into_inner(),
            Err(status) => {
                if status.code() == crate::Code::DeadlineExceeded {
                    return Err(PluginError::StartTimeout {
                        name,
                        after: self.start_timeout,
                        stderr: process
                            .as_ref()
                            .map(|p| p.stderr_tail())
                            .unwrap_or_default(),
                    });
                }
                return Err(PluginError::Handshake { name, status });
            }
        };
        tracing::debug!(plugin = %name, version = response.app_protocol_version, plugins = ?response.plugins.iter().map(|p| &p.name).collect::<Vec<_>>(), "plugin handshake done");
        Ok(PluginClient {
            name,
            client,
            plugins: response.plugins,
            app_version: response.app_protocol_version,
            requested: self.requested,
            line,
            process,
            direct: None,
            grace: self.grace,
            supervisor: None,
            identity,
            handle,
            chain: ClientChain::new(),
        })
    }
}

/// A running plugin and the typed clients it dispenses.
pub struct PluginClient {
    name: String,
    client: Client,
    plugins: Vec<cp::PluginDescriptor>,
    app_version: u32,
    requested: Vec<String>,
    line: Option<HandshakeLine>,
    process: Option<Process>,
    direct: Option<super::PluginSet>,
    grace: Duration,
    supervisor: Option<Supervisor>,
    /// The host's mTLS identity, for a reattach configuration.
    identity: Option<Arc<super::mtls::Identity>>,
    /// A reattached plugin's process (not this host's child).
    handle: Option<ProcessHandle>,
    /// The interceptors of dispensed clients.
    chain: ClientChain,
}

impl std::fmt::Debug for PluginClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginClient")
            .field("name", &self.name)
            .field("app_version", &self.app_version)
            .field(
                "plugins",
                &self.plugins.iter().map(|p| &p.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl PluginClient {
    /// A builder; `cookie` must match the plugin's.
    pub fn builder(cookie: MagicCookie) -> PluginClientBuilder {
        PluginClientBuilder {
            target: None,
            name: None,
            cookie,
            app_versions: vec![1],
            requested: Vec::new(),
            network: Network::Unix,
            start_timeout: Duration::from_secs(10),
            grace: Duration::from_secs(5),
            config: ClientConfig::default(),
            mtls: true,
            restart: None,
            outlive_host: false,
            interceptors: Vec::new(),
            retry: Some(RetryPolicy::default()),
            breaker: Some(BreakerConfig::default()),
        }
    }

    /// The plugin `P` as its service trait: `Arc<dyn KvService>` for `KvServicePlugin`.
    pub fn dispense<P: Plugin>(&self) -> Result<Arc<P::Service>, PluginError> {
        self.dispense_with::<P>(&self.chain)
    }

    /// Like [`PluginClient::dispense`], with another chain for this client: start from
    /// [`PluginClient::chain`] and change what differs (`plugin.chain().clone().no_retry()`).
    pub fn dispense_with<P: Plugin>(
        &self,
        chain: &ClientChain,
    ) -> Result<Arc<P::Service>, PluginError> {
        let wanted = P::INFO.name;
        let not_served = |why| PluginError::NotServed {
            name: self.name.clone(),
            wanted: wanted.to_owned(),
            why,
            served: self.plugins.iter().map(|p| p.name.clone()).collect(),
        };
        if !self.requested.is_empty() && !self.requested.iter().any(|r| r == wanted) {
            return Err(not_served("it was not requested at the handshake"));
        }
        if let Some(set) = &self.direct {
            return set
                .implementation::<P>()
                .ok_or_else(|| not_served("the plugin set does not hold it"));
        }
        if !self
            .plugins
            .iter()
            .any(|p| p.name == wanted && p.service_name == P::INFO.service_name)
        {
            return Err(not_served("the plugin does not serve it"));
        }
        // A supervised plugin's calls go to whichever process is current: `Follow` must be
        // the last interceptor, after the chain (breaker, retry), since it does not pass
        // calls on to the rest of the chain but to the current process's client.
        Ok(P::client(match &self.supervisor {
            Some(s) => chain
                .apply(&s.base)
                .with_interceptor(Follow(s.state.clone())),
            None => chain.apply(&self.client),
        }))
    }

    /// The chain dispensed clients get: the builder's interceptors, the circuit breaker,
    /// retry.
    pub fn chain(&self) -> &ClientChain {
        &self.chain
    }

    /// The plugin's circuit breaker (to watch its state), if it has one.
    pub fn circuit_breaker(&self) -> Option<&Arc<CircuitBreaker>> {
        self.chain.breaker()
    }

    /// The plugins the handshake returned.
    pub fn plugins(&self) -> &[cp::PluginDescriptor] {
        &self.plugins
    }

    /// The negotiated application protocol version.
    pub fn app_version(&self) -> u32 {
        self.app_version
    }

    /// The plugin's handshake line (the current process's, after restarts); `None` for
    /// endpoint, in-memory and direct plugins.
    pub fn handshake_line(&self) -> Option<HandshakeLine> {
        match &self.supervisor {
            Some(s) => Some(s.state.reattach.read().ok()?.as_ref()?.line.clone()),
            None => self.line.clone(),
        }
    }

    /// What another [`PluginClient`] (in this or a later host process) needs to
    /// [reattach](PluginClientBuilder::reattach) to this plugin: the handshake line, the
    /// process id and, with mTLS, this host's certificate and private key — so keep it
    /// private ([`ReattachConfig::save`] writes a 0600 file). `None` when there is no
    /// handshake line (endpoint, in-memory and direct plugins).
    pub fn reattach_config(&self) -> Option<ReattachConfig> {
        if let Some(s) = &self.supervisor {
            return s.state.reattach.read().ok().and_then(|l| l.clone());
        }
        let line = self.line.clone()?;
        Some(ReattachConfig {
            line,
            pid: self.pid(),
            host_cert: self.identity.as_ref().map(|i| i.cert_der().to_vec()),
            host_key: self.identity.as_ref().map(|i| i.key_der().to_vec()),
        })
    }

    /// The runtime client the dispensed services call through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The plugin's process id: the launched process (the current one, after restarts), or
    /// a reattached plugin's from its [`ReattachConfig`].
    pub fn pid(&self) -> Option<u32> {
        if let Some(s) = &self.supervisor {
            return s.state.reattach.read().ok()?.as_ref()?.pid;
        }
        if let Some(h) = &self.handle {
            return Some(h.pid());
        }
        self.process.as_ref().and_then(|p| p.child.id())
    }

    /// How many times the restart policy has restarted the plugin.
    pub fn restarts(&self) -> u32 {
        self.supervisor.as_ref().map_or(0, |s| {
            s.state.restarts.load(std::sync::atomic::Ordering::SeqCst)
        })
    }

    /// The plugin's health (`PluginControl.GetHealth`; direct plugins are healthy).
    pub async fn health(&self) -> Result<cp::GetHealthResponse, Status> {
        if self.direct.is_some() {
            return Ok(cp::GetHealthResponse {
                state: cp::HealthState::Healthy as i32,
                ..Default::default()
            });
        }
        cp::PluginControlClient::new(self.client.clone())
            .get_health(cp::GetHealthRequest {}.into())
            .await
            .map(|r| r.into_inner())
    }

    /// Stops the plugin: asks it to shut down (`PluginControl.Shutdown`; if that cannot be
    /// delivered, `SIGTERM`), waits for the grace period, then kills it (`SIGKILL`). Returns
    /// how a launched process exited; `None` for plugins this host did not launch (a
    /// reattached plugin with a known pid is still waited for and killed).
    pub async fn kill(mut self) -> Option<ExitStatus> {
        if self.direct.is_some() {
            return None;
        }
        if let Some(s) = self.supervisor.take() {
            let (reply, answer) = tokio::sync::oneshot::channel();
            if s.stop.send(reply).await.is_err() {
                return None;
            }
            return answer.await.ok().flatten();
        }
        let grace = self.grace;
        let control = cp::PluginControlClient::new(self.client.clone());
        let asked = control
            .shutdown(
                Request::new(cp::ShutdownRequest {
                    grace_period: Some(pbjson_types::Duration {
                        seconds: grace.as_secs() as i64,
                        nanos: grace.subsec_nanos() as i32,
                    }),
                    reason: "the host stops the plugin".into(),
                })
                .with_timeout(Duration::from_secs(2)),
            )
            .await;
        if let Err(e) = &asked {
            tracing::debug!(plugin = %self.name, error = %e, "shutdown request failed; sending SIGTERM");
        }
        // The plugin's own grace, plus a little for it to exit after draining.
        let wait = grace + Duration::from_secs(1);
        if let Some(process) = self.process.take() {
            return Some(process.stop(asked.is_ok(), wait).await);
        }
        if let Some(handle) = self.handle.take() {
            handle.stop(asked.is_ok(), wait).await;
        }
        None
    }
}

/// Sends every call through the client of the plugin's current process. It ends the chain
/// (it never runs the interceptors after it), so it is always added last.
struct Follow(Arc<Supervised>);

impl crate::rpc::Interceptor for Follow {
    fn intercept_client<'a>(
        &'a self,
        call: crate::rpc::ClientCall,
        _next: crate::rpc::ClientNext<'a>,
    ) -> futures_util::future::BoxFuture<'a, Result<crate::rpc::ClientOutput, Status>> {
        let client = self
            .0
            .current
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|p| p.into_inner().clone());
        Box::pin(async move { client.run(call).await })
    }
}

/// The handle of a supervised plugin; dropping it stops the supervisor (and the plugin).
struct Supervisor {
    stop: tokio::sync::mpsc::Sender<tokio::sync::oneshot::Sender<Option<ExitStatus>>>,
    state: Arc<Supervised>,
    /// The client without [`Follow`], for dispensed clients to add their chain to first.
    base: Client,
}

/// What a supervised client and its supervisor share about the current process.
struct Supervised {
    current: std::sync::RwLock<Client>,
    restarts: std::sync::atomic::AtomicU32,
    /// The current process's line and pid (and the host identity).
    reattach: std::sync::RwLock<Option<ReattachConfig>>,
}

/// Owns the plugin process: restarts it when it exits on its own, stops it when asked.
async fn supervise(
    mut inner: PluginClient,
    builder: PluginClientBuilder,
    policy: RestartPolicy,
    state: Arc<Supervised>,
    mut stop: tokio::sync::mpsc::Receiver<tokio::sync::oneshot::Sender<Option<ExitStatus>>>,
) {
    use std::sync::atomic::Ordering;
    let mut backoff = policy.initial_backoff;
    loop {
        let exited = async {
            match inner.process.as_mut() {
                Some(p) => p.child.wait().await.ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            reply = stop.recv() => {
                if reply.is_none() && builder.outlive_host {
                    // The client was dropped, and the plugin outlives it.
                    return;
                }
                let status = inner.kill().await;
                if let Some(reply) = reply {
                    let _ = reply.send(status);
                }
                return;
            }
            status = exited => {
                let done = state.restarts.load(Ordering::SeqCst);
                tracing::warn!(plugin = %inner.name, ?status, restarts = done, "the plugin exited on its own");
                if done >= policy.max_restarts {
                    tracing::error!(plugin = %inner.name, "restart limit reached; the plugin stays down");
                    inner.process = None;
                    continue;
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    reply = stop.recv() => {
                        if let Some(reply) = reply {
                            let _ = reply.send(None);
                        }
                        return;
                    }
                }
                backoff = (backoff * 2).min(policy.max_backoff);
                state.restarts.fetch_add(1, Ordering::SeqCst);
                match builder.clone().start_once().await {
                    Ok(next) => {
                        if let Ok(mut c) = state.current.write() {
                            *c = next.client.clone();
                        }
                        if let Ok(mut l) = state.reattach.write() {
                            *l = next.reattach_config();
                        }
                        tracing::info!(plugin = %next.name, pid = next.pid(), "plugin restarted");
                        inner = next;
                    }
                    Err(e) => {
                        tracing::error!(plugin = %inner.name, error = %e, "restarting the plugin failed");
                    }
                }
            }
        }
    }
}

/// A launched plugin process: killed when dropped, its private directory removed.
struct Process {
    child: Child,
    /// Left running when dropped ([`PluginClientBuilder::outlive_host`]).
    outlive: bool,
    _stdin: Option<ChildStdin>,
    dir: Option<PathBuf>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    stderr_reader: Option<tokio::task::JoinHandle<()>>,
}

impl Process {
    fn stderr_tail(&self) -> Vec<String> {
        self.stderr
            .lock()
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Waits up to `wait` for the process to exit (first sending `SIGTERM` unless it was
    /// asked to shut down), then kills it.
    async fn stop(mut self, asked: bool, wait: Duration) -> ExitStatus {
        if !asked {
            if let Some(pid) = self.child.id().and_then(|p| i32::try_from(p).ok()) {
                if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                    let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
                }
            }
        }
        if let Ok(Ok(status)) = tokio::time::timeout(wait, self.child.wait()).await {
            return status;
        }
        tracing::warn!("the plugin did not stop within its grace period; killing it");
        let _ = self.child.start_kill();
        match self.child.wait().await {
            Ok(s) => s,
            Err(_) => std::os::unix::process::ExitStatusExt::from_raw(9),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.outlive && self.child.try_wait().ok().flatten().is_none() {
            // The plugin removes its private directory when it stops.
            tracing::info!(
                pid = self.child.id(),
                "leaving the plugin running (it outlives this host)"
            );
            return;
        }
        let _ = self.child.start_kill();
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

const STDERR_TAIL: usize = 20;

fn private_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt as _;
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "cp-{}-{}-{nanos:x}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    Ok(dir)
}

/// Logs one line the plugin wrote; a JSON object becomes a structured record.
fn log_line(name: &str, stream: &'static str, line: &str) {
    if let Ok(serde_json::Value::Object(obj)) = serde_json::from_str::<serde_json::Value>(line) {
        let level = obj
            .get("level")
            .and_then(|v| v.as_str())
            .unwrap_or("info")
            .to_ascii_lowercase();
        let message = obj
            .get("msg")
            .or_else(|| obj.get("message"))
            .or_else(|| obj.get("fields").and_then(|f| f.get("message")))
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned();
        let fields = serde_json::Value::Object(obj).to_string();
        match level.as_str() {
            "error" => tracing::error!(plugin = %name, stream, %fields, "{message}"),
            "warn" | "warning" => tracing::warn!(plugin = %name, stream, %fields, "{message}"),
            "debug" => tracing::debug!(plugin = %name, stream, %fields, "{message}"),
            "trace" => tracing::trace!(plugin = %name, stream, %fields, "{message}"),
            _ => tracing::info!(plugin = %name, stream, %fields, "{message}"),
        }
    } else {
        tracing::info!(plugin = %name, stream, "{line}");
    }
}

#[allow(clippy::too_many_arguments)]
async fn launch(
    name: &str,
    program: &OsString,
    args: &[OsString],
    envs: &[(OsString, OsString)],
    cookie: &MagicCookie,
    app_versions: &[u32],
    network: Network,
    outlive: bool,
    deadline: Instant,
    start_timeout: Duration,
) -> Result<(Process, HandshakeLine), PluginError> {
    let io = |source| PluginError::Io {
        name: name.to_owned(),
        source,
    };
    let dir = match network {
        Network::Unix => Some(private_dir().map_err(io)?),
        Network::Tcp => None,
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .env(&cookie.key, &cookie.value)
        .env(ENV_CORE_VERSION, CORE_PROTOCOL_VERSION.to_string())
        .env(
            ENV_APP_VERSIONS,
            app_versions
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(","),
        )
        .env(ENV_NETWORK, network.as_str())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if outlive {
        // No stdin to watch for the host's death; its own process group, so signals meant
        // for the host's (a Ctrl-C at the terminal) do not stop it.
        cmd.env(ENV_OUTLIVE_HOST, "1")
            .stdin(Stdio::null())
            .process_group(0);
    } else {
        // Its stdin closing tells the plugin the host is gone.
        cmd.stdin(Stdio::piped()).kill_on_drop(true);
    }
    if let Some(d) = &dir {
        cmd.env(ENV_UNIX_DIR, d);
    }
    let mut child = cmd.spawn().map_err(|source| {
        if let Some(d) = &dir {
            let _ = std::fs::remove_dir_all(d);
        }
        PluginError::Spawn {
            program: program.to_string_lossy().into_owned(),
            source,
        }
    })?;
    let stderr_tail = Arc::new(Mutex::new(VecDeque::with_capacity(STDERR_TAIL)));
    let mut stderr_reader = None;
    if let Some(err) = child.stderr.take() {
        let tail = stderr_tail.clone();
        let name = name.to_owned();
        stderr_reader = Some(tokio::spawn(async move {
            let mut lines = BufReader::new(err).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                log_line(&name, "stderr", &line);
                if let Ok(mut t) = tail.lock() {
                    if t.len() == STDERR_TAIL {
                        t.pop_front();
                    }
                    t.push_back(line);
                }
            }
        }));
    }
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let mut process = Process {
        child,
        outlive,
        _stdin: stdin,
        dir,
        stderr: stderr_tail,
        stderr_reader,
    };
    let Some(stdout) = stdout else {
        return Err(io(std::io::Error::other("no stdout pipe")));
    };
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout_at(deadline.into(), lines.next_line()).await;
    let line = match first {
        Err(_) => {
            return Err(PluginError::StartTimeout {
                name: name.to_owned(),
                after: start_timeout,
                stderr: process.stderr_tail(),
            });
        }
        Ok(Err(e)) => return Err(io(e)),
        Ok(Ok(None)) => {
            let status = tokio::time::timeout(Duration::from_secs(2), process.child.wait())
                .await
                .ok()
                .and_then(Result::ok)
                .map(|s| s.to_string())
                .unwrap_or_else(|| "closed its stdout".into());
            // The plugin has exited: its stderr reader ends at end of file, having kept
            // everything the plugin wrote.
            if let Some(reader) = process.stderr_reader.take() {
                let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
            }
            return Err(PluginError::Exited {
                name: name.to_owned(),
                status,
                stderr: process.stderr_tail(),
            });
        }
        Ok(Ok(Some(line))) => line,
    };
    let parsed: HandshakeLine =
        line.parse()
            .map_err(|e: InvalidHandshakeLine| PluginError::BeforeHandshake {
                name: name.to_owned(),
                line: e.line.clone(),
                why: e.why.clone(),
                stderr: process.stderr_tail(),
            })?;
    let name = name.to_owned();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            log_line(&name, "stdout", &line);
        }
    });
    Ok((process, parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `script`, which prints a line once its traps are set, and waits for that line.
    async fn process(script: &str) -> Process {
        let mut child = tokio::process::Command::new("sh")
            .args(["-c", script])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("sh runs");
        let mut ready = BufReader::new(child.stdout.take().expect("piped")).lines();
        assert!(
            ready.next_line().await.expect("reads").is_some(),
            "the script starts"
        );
        Process {
            child,
            outlive: false,
            _stdin: None,
            dir: None,
            stderr: Arc::new(Mutex::new(VecDeque::new())),
            stderr_reader: None,
        }
    }

    #[tokio::test]
    async fn a_plugin_that_could_not_be_asked_gets_sigterm_before_sigkill() {
        use std::os::unix::process::ExitStatusExt as _;
        // Exits 7 on SIGTERM; only SIGTERM (not the later SIGKILL) can produce that.
        let p = process("trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done").await;
        let started = Instant::now();
        let status = p.stop(false, Duration::from_secs(10)).await;
        assert_eq!(status.code(), Some(7), "{status:?}");
        assert!(started.elapsed() < Duration::from_secs(5));

        // One that ignores SIGTERM is killed once the wait is over.
        let p = process("trap '' TERM; echo ready; while :; do sleep 0.05; done").await;
        let status = p.stop(false, Duration::from_millis(300)).await;
        assert_eq!(status.signal(), Some(9), "{status:?}");

        // Asked already (Shutdown went through): no SIGTERM, just the wait, then SIGKILL.
        let p = process("trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done").await;
        let status = p.stop(true, Duration::from_millis(300)).await;
        assert_eq!(status.signal(), Some(9), "{status:?}");
    }
}
