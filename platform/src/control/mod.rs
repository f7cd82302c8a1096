//! The control plane a host serves to plugins: admission (`HandshakeService`), the
//! `ServiceRegistry` and `PluginLifecycle`, over the shared state they act on. Every call
//! after admission is authenticated by the caller's runtime token, and a plugin acts only
//! on itself.

mod admission;
mod admission_limit;
mod caller;
mod lifecycle;
mod members;
mod policy;
mod poll;
mod registry_service;
mod verify;

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use connect_plugin::Router;
use connect_plugin::pb::connectplugin::v1 as cp;
use connect_plugin::plugin::MagicCookie;

pub use admission::Admission;
pub use admission_limit::default_admission_rate;
pub use lifecycle::LifecycleService;
pub use members::{AddressCheck, Member, MemberLimits, Members, MembersFull};
pub use policy::{Policy, Rule, Types};
pub use poll::POLL_TIMEOUT;
pub use registry_service::RegistryService;

use crate::address::AllowList;
use crate::identity::{JoinTokens, RuntimeId, TokenLimits, TokenStore};
use crate::registry::{Registry, RegistryLimits};
use crate::select::{Builtin, Select, Strategy};

/// How a host's control plane admits, bounds and routes.
#[derive(Debug)]
pub struct PlatformConfig {
    /// The application's magic cookie, when plugins must present it (a guard against
    /// talking to the wrong application, not a credential).
    pub cookie: Option<MagicCookie>,
    /// The application protocol versions the host speaks (default `[1]`).
    pub app_versions: Vec<u32>,
    /// The credentials that admit self-registering plugins.
    pub join_tokens: JoinTokens,
    /// Admits a plugin whose connection presented a client certificate the host's TLS
    /// server verified (so: from the CA its client-certificate verifier trusts), when the
    /// certificate's principal, as this names it, is the self id the plugin claims. `None`
    /// (the default): certificates admit nobody. Serve the host with TLS and a
    /// client-certificate verifier for this (`HostServer::server(|s| s.tls(…))`).
    pub certificate_admission: Option<connect_plugin::interceptors::auth::MtlsAuth>,
    /// Admits plugins without a credential, logging a warning for each. Never in
    /// production.
    pub development_mode: bool,
    /// Addresses self-registering plugins may declare (none by default).
    pub allow: AllowList,
    /// How the host calls providers that declared an `https` address: the roots it trusts
    /// (and, for providers that demand one, its client certificate). Without it, `https`
    /// addresses are refused at admission.
    pub provider_tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    /// What plugins may provide and require.
    pub policy: Policy,
    /// How a provider is chosen for a call (default round-robin).
    pub select: Arc<dyn Select>,
    /// Runtime token lifetime and bounds.
    pub tokens: TokenLimits,
    /// Registry bounds.
    pub registry: RegistryLimits,
    /// Admission bounds.
    pub members: MemberLimits,
    /// Watches open at once in all (default 16,384).
    pub max_watches: usize,
    /// When the router stops sending calls to a failing provider, and how it probes it back
    /// (each provider has its own breaker).
    pub breaker: connect_plugin::interceptors::BreakerConfig,
    /// How fast admissions may come from one address (default
    /// [`default_admission_rate`]: 10 a second, bursts of 20).
    pub admission_rate: connect_plugin::interceptors::rate_limit::RateLimitConfig,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        PlatformConfig {
            cookie: None,
            app_versions: vec![1],
            join_tokens: JoinTokens::new(),
            certificate_admission: None,
            development_mode: false,
            allow: AllowList::new(),
            provider_tls: None,
            policy: Policy::default(),
            select: Arc::new(Builtin::new(Strategy::RoundRobin)),
            tokens: TokenLimits::default(),
            registry: RegistryLimits::default(),
            members: MemberLimits::default(),
            max_watches: 16_384,
            breaker: connect_plugin::interceptors::BreakerConfig::default(),
            admission_rate: default_admission_rate(),
        }
    }
}

/// The state the control-plane services share.
#[derive(Debug)]
pub struct ControlPlane {
    pub(crate) config: PlatformConfig,
    /// Who provides what.
    pub registry: Registry,
    /// The runtime tokens.
    pub tokens: TokenStore,
    /// The admitted plugins.
    pub members: Members,
    /// Everything that happens, as typed events.
    pub events: crate::events::Events,
    pub(crate) pending: verify::Pending,
    pub(crate) watches: AtomicUsize,
}

impl ControlPlane {
    /// A control plane with `config` and nobody admitted.
    pub fn new(config: PlatformConfig) -> Arc<ControlPlane> {
        Arc::new(ControlPlane {
            registry: Registry::new(config.registry),
            tokens: TokenStore::new(config.tokens),
            members: Members::new(config.members),
            events: crate::events::Events::default(),
            pending: verify::Pending::default(),
            watches: AtomicUsize::new(0),
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &PlatformConfig {
        &self.config
    }

    /// The services, as one router: `HandshakeService`, `ServiceRegistry`,
    /// `PluginLifecycle`.
    pub(crate) fn router(self: &Arc<Self>) -> Router {
        let limit = admission_limit::AdmissionLimit(
            connect_plugin::interceptors::rate_limit::RateLimit::new(
                self.config.admission_rate.clone(),
            ),
        );
        cp::handshake_service_router(Arc::new(Admission(self.clone())))
            .merge(cp::service_registry_router(Arc::new(RegistryService(
                self.clone(),
            ))))
            .merge(cp::plugin_lifecycle_router(Arc::new(LifecycleService(
                self.clone(),
            ))))
            .interceptor(limit)
    }

    /// Removes a plugin: its registrations go (watchers see them leave), its tokens are
    /// revoked.
    pub fn remove(&self, runtime_id: &RuntimeId, reason: &str) {
        let registrations = self.registry.remove_provider(runtime_id.as_str());
        let tokens = self.tokens.revoke(runtime_id);
        if self.members.remove(runtime_id).is_some() {
            tracing::info!(%runtime_id, registrations, tokens, reason, "plugin removed");
            self.events.emit(crate::events::PlatformEvent::Removed {
                runtime_id: runtime_id.to_string(),
                reason: reason.to_owned(),
            });
        }
    }

    /// Publishes a change of the health routing goes by (nothing when it did not change).
    pub(crate) fn health_changed(
        &self,
        runtime_id: &RuntimeId,
        from: crate::select::Health,
        to: crate::select::Health,
    ) {
        if from != to {
            self.events
                .emit(crate::events::PlatformEvent::HealthChanged {
                    runtime_id: runtime_id.to_string(),
                    from,
                    to,
                });
        }
    }

    /// Drops expired tokens, and the plugins left without a valid one (they stopped
    /// refreshing: gone). Returns how many plugins were removed.
    pub fn sweep(&self) -> usize {
        self.tokens.sweep();
        let gone = self
            .members
            .remove_where(|m| !self.tokens.holds(&m.runtime_id));
        for m in &gone {
            self.registry.remove_provider(m.runtime_id.as_str());
            tracing::info!(runtime_id = %m.runtime_id, "plugin removed: its tokens expired");
            self.events.emit(crate::events::PlatformEvent::Removed {
                runtime_id: m.runtime_id.to_string(),
                reason: "its tokens expired".to_owned(),
            });
        }
        gone.len()
    }
}

#[cfg(test)]
mod tests;
