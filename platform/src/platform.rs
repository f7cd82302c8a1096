//! [`Platform`]: the host platform as one service — the control plane plugins call
//! (admission, registry, lifecycle), the router their calls to each other go through, and
//! the host's own health.

use std::sync::Arc;

use connect_plugin::Router;
use connect_plugin::pb::grpc::health::v1 as hv1;

use crate::control::{ControlPlane, PlatformConfig};
use crate::health::{HealthService, HostHealth};
use crate::host::HostServer;
use crate::http::PlatformHttp;
use crate::router::PlatformRouter;

/// The host platform. [`Platform::serve`] serves it whole: its HTTP surface (the RPC
/// router and the `/healthz` and `/readyz` probes) and the periodic sweep of expired
/// tokens. The pieces are there for a host that serves them its own way: the
/// [`router`](Platform::router) is a runtime `Router` (a `tower::Service`, to serve with
/// the runtime's `Server` on TCP, TLS, a Unix socket or in memory, or to mount inside an
/// axum application), [`http`](Platform::http) adds the probes, and
/// [`Sweeper`](crate::sweep::Sweeper) sweeps.
///
/// ```
/// use connect_plugin_platform::control::PlatformConfig;
/// use connect_plugin_platform::identity::{JoinTokens, SelfIdPattern};
/// use connect_plugin_platform::address::AllowList;
/// use connect_plugin_platform::Platform;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let platform = Platform::new(PlatformConfig {
///     join_tokens: JoinTokens::new().with(SelfIdPattern::parse("logger")?, "a-long-random-secret"),
///     allow: AllowList::new().with("http://127.0.0.1:*")?,
///     ..PlatformConfig::default()
/// });
/// let server = connect_plugin::Server::new(platform.router()).bind("127.0.0.1:0").await?;
/// # drop(server);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Platform {
    plane: Arc<ControlPlane>,
    health: HostHealth,
    links: crate::router::Links,
    metrics: Arc<crate::metrics::Metrics>,
}

impl Platform {
    /// A platform with `config`, no plugins admitted.
    pub fn new(config: PlatformConfig) -> Self {
        Platform {
            plane: ControlPlane::new(config),
            health: HostHealth::new(),
            links: crate::router::Links::default(),
            metrics: Arc::default(),
        }
    }

    /// The control plane's state: registry, tokens, admitted plugins.
    pub fn control_plane(&self) -> &Arc<ControlPlane> {
        &self.plane
    }

    /// The host's health: SERVING while served, NOT_SERVING once shutting down.
    pub fn health(&self) -> &HostHealth {
        &self.health
    }

    /// Every RPC the host serves: `HandshakeService`, `ServiceRegistry`,
    /// `PluginLifecycle`, `grpc.health.v1.Health` (the empty service name and each of
    /// those), and the router under `/services/`.
    pub fn router(&self) -> Router {
        let plane = self.plane.router();
        let services = plane
            .paths()
            .chain([hv1::HEALTH_CHECK_PATH])
            .filter_map(|p| p.trim_start_matches('/').split_once('/'))
            .map(|(service, _)| service.to_owned())
            .collect::<Vec<_>>();
        let health = HealthService::new(self.health.clone(), services);
        plane
            .merge(hv1::health_router(Arc::new(health)))
            .fallback(PlatformRouter::new(
                self.plane.clone(),
                self.links.clone(),
                self.metrics.clone(),
            ))
    }

    /// The [`router`](Platform::router) with the plain-HTTP probes `/healthz` and
    /// `/readyz` and the Prometheus `/metrics` in front of it: what a host serves.
    pub fn http(&self) -> PlatformHttp {
        PlatformHttp::new(self.router(), self.health.clone()).with_metrics(self.clone())
    }

    /// The host's metrics in the Prometheus text format (what `GET /metrics` answers).
    pub fn metrics(&self) -> String {
        self.metrics.encode(&self.plane, &self.links)
    }

    /// Serves the platform: its [`http`](Platform::http) surface on a runtime `Server`,
    /// and a periodic sweep of expired tokens (and of the plugins left without one), for
    /// as long as the returned host runs.
    ///
    /// ```
    /// use std::time::Duration;
    /// use connect_plugin_platform::Platform;
    /// use connect_plugin_platform::control::PlatformConfig;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let host = Platform::new(PlatformConfig::default()).serve().bind("127.0.0.1:0").await?;
    /// host.shutdown(Duration::from_secs(5)).await;
    /// # Ok(()) }
    /// ```
    pub fn serve(&self) -> HostServer {
        HostServer::new(self.clone())
    }
}
