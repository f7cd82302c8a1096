//! [`Platform`]: the host platform as one service — the control plane plugins call
//! (admission, registry, lifecycle) and the router their calls to each other go through.

use std::sync::Arc;

use connect_plugin::Router;

use crate::control::{ControlPlane, PlatformConfig};
use crate::router::PlatformRouter;

/// The host platform. Its [`router`](Platform::router) is a runtime `Router` (a
/// `tower::Service`): serve it with the runtime's `Server` on TCP, TLS, a Unix socket or
/// in memory, or mount it inside an axum application.
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
}

impl Platform {
    /// A platform with `config`, no plugins admitted.
    pub fn new(config: PlatformConfig) -> Self {
        Platform {
            plane: ControlPlane::new(config),
        }
    }

    /// The control plane's state: registry, tokens, admitted plugins.
    pub fn control_plane(&self) -> &Arc<ControlPlane> {
        &self.plane
    }

    /// Everything the host serves: `HandshakeService`, `ServiceRegistry`,
    /// `PluginLifecycle`, and the router under `/services/`.
    pub fn router(&self) -> Router {
        self.plane
            .router()
            .fallback(PlatformRouter::new(self.plane.clone()))
    }
}
