//! Plugins: the [`Plugin`] descriptor that generated code implements for every service, the
//! [`PluginSet`] a plugin binary serves, the plugin side ([`serve()`]: handshake line,
//! handshake, health and control services) and the host side ([`PluginClient`]: launch,
//! handshake, dispense, shutdown).

mod builtin;
pub mod handshake;
pub(crate) mod host;
pub mod mtls;
mod orphan;
pub(crate) mod reattach;
pub(crate) mod serve;
mod set;

pub use handshake::{HandshakeLine, MagicCookie, Network};
pub use host::{PluginClient, PluginClientBuilder, PluginError, RestartPolicy};
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
