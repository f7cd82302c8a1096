//! [`PluginClientBuilder`]: what plugin to reach and how, and starting it — launch or
//! connect, check the handshake line, handshake.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::process::{Launch, Process, launch};
use super::supervise::start_supervised;
use super::{Backend, PluginClient, PluginError, Served};
use crate::interceptors::ClientChain;
use crate::pb::connectplugin::v1 as cp;
use crate::pb::connectplugin::v1::HandshakeService as _;
use crate::plugin::handshake::{CORE_PROTOCOL_VERSION, HandshakeLine, MagicCookie, Network};
use crate::plugin::mtls;
use crate::plugin::orphan::ProcessHandle;
use crate::plugin::reattach::ReattachConfig;
use crate::rpc::transport::Unconnected;
use crate::rpc::{Client, ClientConfig, Request};
use crate::transport::Channel;

#[derive(Clone)]
enum Target {
    Launch {
        program: OsString,
        args: Vec<OsString>,
        envs: Vec<(OsString, OsString)>,
    },
    Endpoint(String),
    Reattach(Box<ReattachConfig>),
    InMemory(Box<crate::plugin::ServeConfig>),
    Direct(crate::plugin::PluginSet),
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

/// Builds a [`PluginClient`]: what to start or reach (a command, an endpoint, a reattach
/// configuration, an in-memory server or the implementations themselves), and how.
///
/// # Example
///
/// ```no_run
/// use std::time::Duration;
/// use connect_plugin::plugin::{MagicCookie, Network, PluginClient, RestartPolicy};
/// use connect_plugin::ClientConfig;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let plugin = PluginClient::builder(MagicCookie::new("KV_PLUGIN", "kv-7d2c"))
///     .command("./target/debug/kv-plugin")
///     .arg("--verbose")
///     .network(Network::Tcp) // automatic mTLS
///     .restart(RestartPolicy::default())
///     .client_config(ClientConfig { timeout: Some(Duration::from_secs(2)), ..ClientConfig::default() })
///     .start()
///     .await?;
/// # let _ = plugin;
/// # Ok(())
/// # }
/// ```
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
    chain: Option<ClientChain>,
}

impl std::fmt::Debug for PluginClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginClientBuilder")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl PluginClientBuilder {
    /// A builder with the defaults ([`PluginClient::builder`]).
    pub(super) fn new(cookie: MagicCookie) -> PluginClientBuilder {
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
            chain: None,
        }
    }

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
    pub fn in_memory(mut self, config: crate::plugin::ServeConfig) -> Self {
        self.target = Some(Target::InMemory(Box::new(config)));
        self
    }

    /// Uses the implementations themselves: `dispense` returns them, with no protocol in
    /// between (the fastest; for tests and for plugins compiled into the host).
    pub fn direct(mut self, plugins: crate::plugin::PluginSet) -> Self {
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

    /// How the host's clients call the plugin: codec, compression, limits and a default
    /// timeout for every call (a request's own timeout wins). The wire protocol is the one
    /// the plugin's handshake line names, where it names one.
    pub fn client_config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    /// The interceptors every dispensed client gets ([`ClientChain`]: yours — auth, tracing —
    /// then a circuit breaker, then retry). By default [`ClientChain::resilient`], with a
    /// circuit breaker named after the plugin, which outlives its restarts. A chain given
    /// here is the whole chain: start from `ClientChain::resilient(name)` to keep the
    /// breaker and retry.
    ///
    /// ```
    /// # use connect_plugin::plugin::{MagicCookie, PluginClient};
    /// use connect_plugin::interceptors::ClientChain;
    /// use connect_plugin::interceptors::auth::BearerToken;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let cookie = MagicCookie::new("KV_PLUGIN", "kv");
    /// let builder = PluginClient::builder(cookie)
    ///     .command("./kv-plugin")
    ///     .chain(ClientChain::resilient("kv").interceptor(BearerToken::new("s3cret-token")?));
    /// # let _ = builder;
    /// # Ok(())
    /// # }
    /// ```
    pub fn chain(mut self, chain: ClientChain) -> Self {
        self.chain = Some(chain);
        self
    }

    /// Launches or connects, then handshakes.
    pub async fn start(self) -> Result<PluginClient, PluginError> {
        let chain = self.chain.clone();
        let mut plugin = match self.restart {
            Some(policy) if matches!(self.target, Some(Target::Launch { .. })) => {
                start_supervised(self, policy).await?
            }
            _ => self.start_once().await?,
        };
        plugin.chain = chain.unwrap_or_else(|| ClientChain::resilient(plugin.served.name.clone()));
        Ok(plugin)
    }

    /// Whether a restarted plugin outlives this host.
    pub(super) fn outlives_host(&self) -> bool {
        self.outlive_host
    }

    /// Starts the plugin once (no supervision); its clients have no chain yet.
    pub(super) async fn start_once(self) -> Result<PluginClient, PluginError> {
        let deadline = Instant::now() + self.start_timeout;
        let target = self.target.clone().ok_or_else(|| {
            PluginError::Endpoint("no command, endpoint or handshake line given".into())
        })?;
        let reached = match target {
            Target::Direct(set) => return Ok(self.start_direct(set)),
            Target::InMemory(config) => {
                let (connector, listener) = crate::transport::memory_link();
                crate::plugin::serve::serve_in_memory(&config, listener).map_err(|source| {
                    PluginError::Io {
                        name: "in-memory".into(),
                        source,
                    }
                })?;
                Reached {
                    name: self.name.clone().unwrap_or_else(|| "in-memory".into()),
                    channel: Channel::memory(connector).build(),
                    protocol: None,
                    backend: Backend::Connected,
                }
            }
            Target::Endpoint(url) => Reached {
                name: self.name.clone().unwrap_or_else(|| url.clone()),
                channel: Channel::builder(&url)
                    .map_err(|e| PluginError::Endpoint(e.to_string()))?
                    .build(),
                protocol: None,
                backend: Backend::Connected,
            },
            Target::Reattach(config) => self.reattached(*config)?,
            Target::Launch {
                program,
                args,
                envs,
            } => self.launched(&program, &args, envs, deadline).await?,
        };
        self.handshake(reached, deadline).await
    }

    /// A direct plugin: its implementations, and a client that cannot call anything.
    fn start_direct(self, set: crate::plugin::PluginSet) -> PluginClient {
        let plugins = set
            .infos()
            .filter(|i| self.requested.is_empty() || self.requested.iter().any(|r| r == i.name))
            .map(cp::PluginDescriptor::from)
            .collect();
        let client = Client::from_transport(
            Arc::new(Unconnected(
                "a direct plugin has no connection: its services are dispensed as the \
                 implementations themselves",
            )),
            self.config.clone(),
        );
        let served = Served {
            name: self.name.unwrap_or_else(|| "direct".into()),
            plugins,
            app_version: self.app_versions.iter().copied().max().unwrap_or(1),
            requested: self.requested,
            grace: self.grace,
        };
        PluginClient::new(served, client, Backend::Direct(set))
    }

    /// A plugin launched earlier, from its reattach configuration.
    fn reattached(&self, config: ReattachConfig) -> Result<Reached, PluginError> {
        let name = self
            .name
            .clone()
            .unwrap_or_else(|| config.line.address.clone());
        let host_cert = config.host_cert().map(Arc::new);
        // Held from now on, so a recycled pid can never be signalled by mistake.
        let handle = config.pid.and_then(|pid| match ProcessHandle::open(pid) {
            Ok(h) => Some(h),
            Err(e) => {
                tracing::debug!(plugin = %name, pid, error = %e, "cannot open the reattached plugin's process");
                None
            }
        });
        let line = config.line;
        check_line(&name, &line, &self.app_versions)?;
        let channel = line_channel(&name, &line, host_cert.as_deref())?;
        Ok(Reached {
            name,
            channel,
            protocol: Some(line.wire),
            backend: Backend::Reattached {
                line,
                handle,
                host_cert,
            },
        })
    }

    /// Launches the plugin's program and reads its handshake line.
    async fn launched(
        &self,
        program: &OsString,
        args: &[OsString],
        mut envs: Vec<(OsString, OsString)>,
        deadline: Instant,
    ) -> Result<Reached, PluginError> {
        let name = self.name.clone().unwrap_or_else(|| {
            PathBuf::from(program)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| program.to_string_lossy().into_owned())
        });
        let host_cert = if self.mtls && self.network == Network::Tcp {
            let id = mtls::SelfSignedCert::generate("connect-plugin host").map_err(|e| {
                PluginError::Io {
                    name: "host".into(),
                    source: std::io::Error::other(e.to_string()),
                }
            })?;
            use base64::Engine as _;
            envs.push((
                mtls::ENV_HOST_CERT.into(),
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .encode(id.cert_der())
                    .into(),
            ));
            Some(Arc::new(id))
        } else {
            None
        };
        let (process, line) = launch(Launch {
            name: &name,
            program,
            args,
            envs: &envs,
            cookie: &self.cookie,
            app_versions: &self.app_versions,
            network: self.network,
            outlive: self.outlive_host,
            deadline,
            start_timeout: self.start_timeout,
        })
        .await?;
        check_line(&name, &line, &self.app_versions)?;
        let channel = line_channel(&name, &line, host_cert.as_deref())?;
        Ok(Reached {
            name,
            channel,
            protocol: Some(line.wire),
            backend: Backend::Launched {
                process,
                line,
                host_cert,
            },
        })
    }

    /// Calls the plugin's `Handshake` and makes the started [`PluginClient`].
    async fn handshake(
        self,
        reached: Reached,
        deadline: Instant,
    ) -> Result<PluginClient, PluginError> {
        let Reached {
            name,
            channel,
            protocol,
            backend,
        } = reached;
        let mut config = self.config.clone();
        if let Some(protocol) = protocol {
            config.protocol = protocol;
        }
        let client = Client::with_config(channel, config);
        let request = cp::HandshakeRequest {
            core_protocol_version: CORE_PROTOCOL_VERSION,
            app_protocol_versions: self.app_versions.clone(),
            magic_cookie_key: self.cookie.key.clone(),
            magic_cookie_value: self.cookie.value.clone(),
            requested_plugins: self.requested.clone(),
            ..Default::default()
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        let response = match cp::HandshakeServiceClient::new(client.clone())
            .handshake(Request::new(request).with_timeout(remaining.max(Duration::from_millis(1))))
            .await
        {
            Ok(r) => r.into_inner(),
            Err(status) if status.code() == crate::Code::DeadlineExceeded => {
                return Err(PluginError::StartTimeout {
                    name,
                    after: self.start_timeout,
                    stderr: backend
                        .process()
                        .map(Process::stderr_tail)
                        .unwrap_or_default(),
                });
            }
            Err(status) => return Err(PluginError::Handshake { name, status }),
        };
        tracing::debug!(plugin = %name, version = response.app_protocol_version, plugins = ?response.plugins.iter().map(|p| &p.name).collect::<Vec<_>>(), "plugin handshake done");
        let served = Served {
            name,
            plugins: response.plugins,
            app_version: response.app_protocol_version,
            requested: self.requested,
            grace: self.grace,
        };
        Ok(PluginClient::new(served, client, backend))
    }
}

/// A plugin reached, before its handshake.
struct Reached {
    name: String,
    channel: Channel,
    /// The wire protocol its handshake line names.
    protocol: Option<crate::Protocol>,
    backend: Backend,
}

/// Checks a handshake line's protocol versions against this host's.
fn check_line(name: &str, line: &HandshakeLine, app_versions: &[u32]) -> Result<(), PluginError> {
    let incompatible = |why| {
        Err(PluginError::Incompatible {
            name: name.to_owned(),
            why,
        })
    };
    if line.core_version != CORE_PROTOCOL_VERSION {
        return incompatible(format!(
            "core protocol version {} is not supported: this host speaks {CORE_PROTOCOL_VERSION}",
            line.core_version
        ));
    }
    if !app_versions.contains(&line.app_version) {
        return incompatible(format!(
            "the plugin chose protocol version {}, this host supports {app_versions:?}",
            line.app_version
        ));
    }
    Ok(())
}

/// The channel to the address a handshake line names: over mTLS when the host has a
/// certificate for it and the plugin presented one, refused when only one side has.
fn line_channel(
    name: &str,
    line: &HandshakeLine,
    host_cert: Option<&mtls::SelfSignedCert>,
) -> Result<Channel, PluginError> {
    let incompatible = |why: String| PluginError::Incompatible {
        name: name.to_owned(),
        why,
    };
    let tls = match (host_cert, line.cert.clone()) {
        (Some(id), Some(plugin_cert)) => Some(
            mtls::client_config(id, plugin_cert)
                .map_err(|e| incompatible(format!("TLS configuration: {e}")))?,
        ),
        (Some(_), None) => {
            return Err(incompatible(
                "the plugin listens on TCP without mTLS although the host asked for it \
                 (refusing plaintext; turn mTLS off explicitly to allow it)"
                    .into(),
            ));
        }
        (None, Some(_)) => {
            return Err(incompatible(
                "the plugin requires mTLS but this host has no certificate for it \
                 (a reattaching host cannot present the original host's certificate)"
                    .into(),
            ));
        }
        (None, None) => None,
    };
    let mut builder =
        Channel::builder(&line.url()).map_err(|e| PluginError::Endpoint(e.to_string()))?;
    if let Some(t) = tls {
        builder = builder.tls(Arc::new(t));
    }
    Ok(builder.build())
}
