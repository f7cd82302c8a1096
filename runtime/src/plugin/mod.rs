//! Plugins: the [`Plugin`] descriptor that generated code implements for every service, the
//! [`PluginSet`] a plugin binary serves, the plugin side ([`serve()`]: handshake line,
//! handshake, health and control services) and the host side ([`PluginClient`]: launch,
//! handshake, dispense, shutdown).

mod builtin;
pub mod handshake;
pub(crate) mod host;
mod member;
pub mod mtls;
mod orphan;
pub(crate) mod reattach;
pub(crate) mod serve;
mod set;

pub use handshake::{HandshakeLine, MagicCookie, Network};
pub use host::{PluginClient, PluginClientBuilder, PluginError, RestartPolicy};
pub use member::{
    DEFAULT_HEARTBEAT, ENV_ADVERTISE, ENV_HOST_URL, ENV_JOIN_TOKEN, ENV_SELF_ID, InvalidHost,
    JoinConfig, MemberState, Membership, method_spec,
};
pub use reattach::ReattachConfig;
pub use serve::{PluginHealth, ServeConfig, ServeError, serve, serve_main, serve_with};
pub use set::{PluginSet, PluginSetError};

use std::sync::Arc;

use crate::rpc::{Client, Router};

/// Static facts about a plugin, as the generator writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PluginInfo {
    /// The plugin's name: the service name in snake_case without a `Service` suffix
    /// (`KVService` → `kv`).
    pub name: &'static str,
    /// The fully-qualified service name (`kv.v1.KVService`).
    pub service_name: &'static str,
    /// The HTTP path prefix of the service's methods (`/kv.v1.KVService/`).
    pub service_path: &'static str,
    /// The service's version (from the proto package's version suffix: `kv.v1` → `1.0.0`).
    pub version: &'static str,
}

/// A plugin type: one proto service, with the constructors that turn a remote endpoint into
/// the service trait and the trait into served routes. Generated for every service as
/// `<Service>Plugin`; `Service` is `dyn <ServiceTrait>`.
///
/// # Example
///
/// The generated trait (here `grpc.health.v1.Health`, generated into [`crate::pb`]) is
/// implemented by the plugin's own type with `#[async_trait]` and `async fn`s; the host
/// gets it back as `Arc<dyn Health>` — the implementation itself when used directly, the
/// generated remote client when the plugin runs elsewhere — and calls it in one line:
///
/// ```
/// use std::sync::Arc;
/// use connect_plugin::pb::grpc::health::v1::{
///     Health, HealthCheckRequest, HealthCheckResponse, HealthPlugin, health_check_response,
/// };
/// use connect_plugin::plugin::{MagicCookie, PluginClient};
/// use connect_plugin::{PluginSet, Request, Response, Status, Streaming};
///
/// struct Serving;
///
/// #[connect_plugin::async_trait]
/// impl Health for Serving {
///     async fn check(
///         &self,
///         _: Request<HealthCheckRequest>,
///     ) -> Result<Response<HealthCheckResponse>, Status> {
///         let status = health_check_response::ServingStatus::Serving as i32;
///         Ok(Response::new(HealthCheckResponse { status }))
///     }
///
///     async fn watch(
///         &self,
///         _: Request<HealthCheckRequest>,
///     ) -> Result<Response<Streaming<HealthCheckResponse>>, Status> {
///         Err(Status::unimplemented("no watching here"))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let plugins = PluginSet::new().with::<HealthPlugin>(Arc::new(Serving));
/// let plugin = PluginClient::builder(MagicCookie::new("HEALTH_PLUGIN", "h-1"))
///     .direct(plugins)
///     .start()
///     .await?;
/// let health: Arc<dyn Health> = plugin.dispense::<HealthPlugin>()?;
/// let reply = health.check(HealthCheckRequest::default().into()).await?;
/// assert_eq!(reply.into_inner().status, 1);
/// # Ok(())
/// # }
/// ```
pub trait Plugin: Send + Sync + 'static {
    /// The service trait object (`dyn KvService`).
    type Service: ?Sized + Send + Sync + 'static;

    /// Facts about the plugin.
    const INFO: PluginInfo;

    /// The remote implementation: calls go through `client`.
    fn client(client: Client) -> Arc<Self::Service>;

    /// Serves an implementation.
    fn router(service: Arc<Self::Service>) -> Router;
}

impl From<&PluginInfo> for crate::pb::connectplugin::v1::PluginDescriptor {
    fn from(i: &PluginInfo) -> Self {
        crate::pb::connectplugin::v1::PluginDescriptor {
            name: i.name.to_owned(),
            service_name: i.service_name.to_owned(),
            service_path: i.service_path.to_owned(),
            version: i.version.to_owned(),
        }
    }
}
