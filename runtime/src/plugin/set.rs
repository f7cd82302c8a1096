//! The set of plugins one binary serves.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Plugin, PluginInfo};
use crate::rpc::Router;

/// Why a [`PluginSet`] is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginSetError {
    /// Two plugins share a name.
    #[error("two plugins are named {0:?}")]
    DuplicateName(String),
    /// Two plugins serve the same service path.
    #[error("two plugins serve {0}")]
    DuplicatePath(String),
    /// A plugin's facts are inconsistent.
    #[error("plugin {name:?}: {why}")]
    Invalid {
        /// The plugin's name.
        name: String,
        /// What is wrong.
        why: String,
    },
}

/// Implementations of plugins, served together.
#[derive(Default, Clone)]
pub struct PluginSet {
    plugins: BTreeMap<&'static str, (PluginInfo, Router)>,
    /// Each implementation as an `Arc<P::Service>`, for direct (in-process) dispensing.
    direct: BTreeMap<&'static str, Arc<dyn std::any::Any + Send + Sync>>,
}

impl std::fmt::Debug for PluginSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.plugins.keys()).finish()
    }
}

impl PluginSet {
    /// An empty set.
    pub fn new() -> Self {
        PluginSet::default()
    }

    /// Adds the implementation of plugin `P`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use connect_plugin::PluginSet;
    /// use connect_plugin::pb::grpc::health::v1::{Health, HealthPlugin};
    /// # struct AlwaysServing;
    /// # #[connect_plugin::async_trait]
    /// # impl Health for AlwaysServing {
    /// #     async fn check(&self, _: connect_plugin::Request<connect_plugin::pb::grpc::health::v1::HealthCheckRequest>)
    /// #         -> Result<connect_plugin::Response<connect_plugin::pb::grpc::health::v1::HealthCheckResponse>, connect_plugin::Status> {
    /// #         Ok(connect_plugin::Response::new(Default::default()))
    /// #     }
    /// #     async fn watch(&self, _: connect_plugin::Request<connect_plugin::pb::grpc::health::v1::HealthCheckRequest>)
    /// #         -> Result<connect_plugin::Response<connect_plugin::Streaming<connect_plugin::pb::grpc::health::v1::HealthCheckResponse>>, connect_plugin::Status> {
    /// #         Err(connect_plugin::Status::unimplemented("no watch"))
    /// #     }
    /// # }
    ///
    /// let plugins = PluginSet::new().with::<HealthPlugin>(Arc::new(AlwaysServing));
    /// assert_eq!(plugins.infos().count(), 1);
    /// ```
    ///
    /// # Panics
    ///
    /// When the set already holds a plugin of that name or service path: a programmer
    /// error, reported where it was written. A set assembled at run time uses
    /// [`PluginSet::add`], which returns the error instead.
    #[track_caller]
    pub fn with<P: Plugin>(mut self, service: Arc<P::Service>) -> Self {
        if let Err(e) = self.add::<P>(service) {
            panic!("PluginSet::with: {e}");
        }
        self
    }

    /// Adds the implementation of plugin `P`, or says why it cannot be added (its name or
    /// service path is taken, or its descriptor is inconsistent).
    pub fn add<P: Plugin>(&mut self, service: Arc<P::Service>) -> Result<(), PluginSetError> {
        let info = P::INFO;
        let invalid = |why: String| PluginSetError::Invalid {
            name: info.name.to_owned(),
            why,
        };
        if info.name.is_empty() {
            return Err(invalid("the name is empty".into()));
        }
        if info.service_path != format!("/{}/", info.service_name) {
            return Err(invalid(format!(
                "service path {} does not match service {}",
                info.service_path, info.service_name
            )));
        }
        if self.plugins.contains_key(info.name) {
            return Err(PluginSetError::DuplicateName(info.name.to_owned()));
        }
        if self
            .plugins
            .values()
            .any(|(i, _)| i.service_path == info.service_path)
        {
            return Err(PluginSetError::DuplicatePath(info.service_path.to_owned()));
        }
        let router = P::router(service.clone());
        if let Some(p) = router.paths().find(|p| !p.starts_with(info.service_path)) {
            return Err(invalid(format!(
                "route {p} is outside {}",
                info.service_path
            )));
        }
        self.plugins.insert(info.name, (info, router));
        self.direct.insert(info.name, Arc::new(service));
        Ok(())
    }

    /// The implementation of plugin `P` itself, if the set holds it.
    pub fn implementation<P: Plugin>(&self) -> Option<Arc<P::Service>> {
        self.direct
            .get(P::INFO.name)
            .and_then(|any| any.downcast_ref::<Arc<P::Service>>())
            .cloned()
    }

    /// Each plugin's facts and routes (a self-registering plugin registers both).
    pub(crate) fn served(&self) -> impl Iterator<Item = (&PluginInfo, &Router)> {
        self.plugins.values().map(|(info, router)| (info, router))
    }

    /// The plugins in the set.
    pub fn infos(&self) -> impl Iterator<Item = &PluginInfo> {
        self.plugins.values().map(|(i, _)| i)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.plugins.is_empty()
    }

    /// One router serving every plugin of the set.
    pub fn router(&self) -> Router {
        self.plugins
            .values()
            .fold(Router::new(), |acc, (_, r)| acc.merge(r.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::connectplugin::v1 as cp;
    use crate::protocol::Status;
    use crate::rpc::{Request, Response};

    struct Control;

    #[crate::async_trait]
    impl cp::PluginControl for Control {
        async fn get_health(
            &self,
            _: Request<cp::GetHealthRequest>,
        ) -> Result<Response<cp::GetHealthResponse>, Status> {
            Ok(Response::new(cp::GetHealthResponse::default()))
        }
        async fn shutdown(
            &self,
            _: Request<cp::ShutdownRequest>,
        ) -> Result<Response<cp::ShutdownResponse>, Status> {
            Ok(Response::new(cp::ShutdownResponse::default()))
        }
    }

    #[test]
    fn duplicates_are_refused_and_implementations_kept() {
        let set = PluginSet::new().with::<cp::PluginControlPlugin>(Arc::new(Control));
        assert_eq!(set.infos().count(), 1);
        assert!(set.implementation::<cp::PluginControlPlugin>().is_some());
        assert!(set.implementation::<cp::HandshakeServicePlugin>().is_none());
        let err = set
            .clone()
            .add::<cp::PluginControlPlugin>(Arc::new(Control))
            .unwrap_err();
        assert_eq!(err, PluginSetError::DuplicateName("plugin_control".into()));
        let again = set.clone();
        let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            again.with::<cp::PluginControlPlugin>(Arc::new(Control))
        }))
        .unwrap_err();
        assert_eq!(
            panic.downcast_ref::<String>().map(String::as_str),
            Some("PluginSet::with: two plugins are named \"plugin_control\"")
        );
        assert!(
            set.router()
                .paths()
                .all(|p| p.starts_with("/connectplugin.v1.PluginControl/"))
        );
        assert!(PluginSet::new().is_empty());
    }
}
