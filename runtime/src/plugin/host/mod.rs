//! The host side: [`PluginClient`] launches a plugin (or connects to one, or reattaches to
//! one from its handshake line), handshakes, and dispenses typed clients.
//!
//! - `builder`: [`PluginClientBuilder`], and starting a plugin (launch or connect, check the
//!   handshake line, handshake);
//! - `supervise`: restarting a launched plugin that exits, its clients following the new
//!   process through a [`TransportSwitch`](crate::rpc::TransportSwitch);
//! - `process`: launched processes (spawn, handshake line, stop);
//! - `logs`: a plugin's output in the host's logs;
//! - `error`: [`PluginError`].

mod builder;
mod error;
mod logs;
mod process;
mod supervise;

pub use builder::{PluginClientBuilder, RestartPolicy};
pub use error::PluginError;

use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use process::Process;
use supervise::Supervisor;

use super::Plugin;
use super::handshake::{HandshakeLine, MagicCookie};
use super::mtls;
use super::orphan::ProcessHandle;
use super::reattach::ReattachConfig;
use crate::interceptors::{CircuitBreaker, ClientChain};
use crate::pb::connectplugin::v1 as cp;
use crate::pb::connectplugin::v1::PluginControl as _;
use crate::protocol::Status;
use crate::rpc::{Client, Request};

/// A running plugin and the typed clients it dispenses.
///
/// # Example
///
/// ```no_run
/// use std::sync::Arc;
/// use connect_plugin::plugin::{MagicCookie, PluginClient};
/// # use connect_plugin::pb::grpc::health::v1::{Health, HealthPlugin};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let plugin = PluginClient::builder(MagicCookie::new("KV_PLUGIN", "kv-7d2c"))
///     .command("./target/debug/kv-plugin")
///     .start()
///     .await?;
/// // The plugin's service as its trait (here grpc.health.v1, which every plugin serves).
/// let health: Arc<dyn Health> = plugin.dispense::<HealthPlugin>()?;
/// # let _ = health;
/// plugin.kill().await;
/// # Ok(())
/// # }
/// ```
pub struct PluginClient {
    served: Served,
    /// The client dispensed services call through (without the chain).
    client: Client,
    /// The interceptors of dispensed clients.
    chain: ClientChain,
    backend: Backend,
}

/// What the handshake settled about a plugin (for a direct one, what its set holds).
#[derive(Clone)]
struct Served {
    /// For logs and errors.
    name: String,
    plugins: Vec<cp::PluginDescriptor>,
    app_version: u32,
    /// The plugins asked for (empty: all).
    requested: Vec<String>,
    /// How long it has to finish its calls when stopped.
    grace: Duration,
}

/// What a [`PluginClient`] reaches its plugin through, and owns of it.
// One per plugin, moved only while it starts: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
enum Backend {
    /// The implementations themselves, called in this process.
    Direct(super::PluginSet),
    /// A plugin this host reaches but does not own: an endpoint, or served in memory.
    Connected,
    /// A plugin process this host launched.
    Launched {
        process: Process,
        line: HandshakeLine,
        /// The host's mTLS certificate, for a reattach configuration.
        host_cert: Option<Arc<mtls::SelfSignedCert>>,
    },
    /// A plugin launched earlier, reattached from its handshake line.
    Reattached {
        line: HandshakeLine,
        /// Its process (not this host's child), when its pid was known and still alive.
        handle: Option<ProcessHandle>,
        host_cert: Option<Arc<mtls::SelfSignedCert>>,
    },
    /// A launched plugin restarted by policy; its client follows the current process.
    Supervised(Supervisor),
}

impl Backend {
    /// The launched process, if this host launched one (not under supervision).
    fn process(&self) -> Option<&Process> {
        match self {
            Backend::Launched { process, .. } => Some(process),
            _ => None,
        }
    }
}

impl std::fmt::Debug for PluginClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginClient")
            .field("name", &self.served.name)
            .field("app_version", &self.served.app_version)
            .field(
                "plugins",
                &self
                    .served
                    .plugins
                    .iter()
                    .map(|p| &p.name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl PluginClient {
    /// The one place a client is made; its chain is set once it has started.
    fn new(served: Served, client: Client, backend: Backend) -> PluginClient {
        PluginClient {
            served,
            client,
            chain: ClientChain::new(),
            backend,
        }
    }

    /// A builder; `cookie` must match the plugin's.
    pub fn builder(cookie: MagicCookie) -> PluginClientBuilder {
        PluginClientBuilder::new(cookie)
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
            name: self.served.name.clone(),
            wanted: wanted.to_owned(),
            why,
            served: self.served.plugins.iter().map(|p| p.name.clone()).collect(),
        };
        if !self.served.requested.is_empty() && !self.served.requested.iter().any(|r| r == wanted) {
            return Err(not_served("it was not requested at the handshake"));
        }
        if let Backend::Direct(set) = &self.backend {
            return set
                .implementation::<P>()
                .ok_or_else(|| not_served("the plugin set does not hold it"));
        }
        if !self
            .served
            .plugins
            .iter()
            .any(|p| p.name == wanted && p.service_name == P::INFO.service_name)
        {
            return Err(not_served("the plugin does not serve it"));
        }
        Ok(P::client(chain.apply(&self.client)))
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
        &self.served.plugins
    }

    /// The negotiated application protocol version.
    pub fn app_version(&self) -> u32 {
        self.served.app_version
    }

    /// The plugin's handshake line (the current process's, after restarts); `None` for
    /// endpoint, in-memory and direct plugins.
    pub fn handshake_line(&self) -> Option<HandshakeLine> {
        match &self.backend {
            Backend::Launched { line, .. } | Backend::Reattached { line, .. } => Some(line.clone()),
            Backend::Supervised(s) => s.reattach_config().map(|c| c.line),
            Backend::Direct(_) | Backend::Connected => None,
        }
    }

    /// What another [`PluginClient`] (in this or a later host process) needs to
    /// [reattach](PluginClientBuilder::reattach) to this plugin: the handshake line, the
    /// process id and, with mTLS, this host's certificate and private key — so keep it
    /// private ([`ReattachConfig::save`] writes a 0600 file). `None` when there is no
    /// handshake line (endpoint, in-memory and direct plugins).
    pub fn reattach_config(&self) -> Option<ReattachConfig> {
        let (line, host_cert) = match &self.backend {
            Backend::Launched {
                line, host_cert, ..
            }
            | Backend::Reattached {
                line, host_cert, ..
            } => (line, host_cert),
            Backend::Supervised(s) => return s.reattach_config(),
            Backend::Direct(_) | Backend::Connected => return None,
        };
        Some(ReattachConfig {
            line: line.clone(),
            pid: self.pid(),
            host_cert: host_cert.as_ref().map(|i| i.cert_der().to_vec()),
            host_key: host_cert.as_ref().map(|i| i.key_der().to_vec()),
        })
    }

    /// The runtime client the dispensed services call through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The plugin's process id: the launched process (the current one, after restarts), or
    /// a reattached plugin's from its [`ReattachConfig`].
    pub fn pid(&self) -> Option<u32> {
        match &self.backend {
            Backend::Launched { process, .. } => process.child.id(),
            Backend::Reattached { handle, .. } => handle.as_ref().map(ProcessHandle::pid),
            Backend::Supervised(s) => s.reattach_config()?.pid,
            Backend::Direct(_) | Backend::Connected => None,
        }
    }

    /// How many times the restart policy has restarted the plugin.
    pub fn restarts(&self) -> u32 {
        match &self.backend {
            Backend::Supervised(s) => s.restarts(),
            _ => 0,
        }
    }

    /// The plugin's health (`PluginControl.GetHealth`; direct plugins are healthy).
    pub async fn health(&self) -> Result<cp::GetHealthResponse, Status> {
        if let Backend::Direct(_) = self.backend {
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
    pub async fn kill(self) -> Option<ExitStatus> {
        match self.backend {
            Backend::Direct(_) => return None,
            Backend::Supervised(s) => return s.stop().await,
            Backend::Connected | Backend::Launched { .. } | Backend::Reattached { .. } => {}
        }
        let grace = self.served.grace;
        let asked = cp::PluginControlClient::new(self.client.clone())
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
            tracing::debug!(plugin = %self.served.name, error = %e, "shutdown request failed; sending SIGTERM");
        }
        // The plugin's own grace, plus a little for it to exit after draining.
        let wait = grace + Duration::from_secs(1);
        match self.backend {
            Backend::Launched { process, .. } => Some(process.stop(asked.is_ok(), wait).await),
            Backend::Reattached {
                handle: Some(handle),
                ..
            } => {
                handle.stop(asked.is_ok(), wait).await;
                None
            }
            _ => None,
        }
    }
}
