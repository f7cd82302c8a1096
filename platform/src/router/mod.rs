//! Host-mediated routing: calls between plugins go through the host at
//! `/services/{type}/{provider|-}/{package.Service}/{Method}`. A generated client pointed at
//! `…/services/{type}/-` works unchanged, in all three protocols and four method kinds.
//! The router decodes no message; it authenticates and authorizes the caller, picks a
//! provider and forwards the call through the provider's client transport.

mod forward;
mod links;

pub(crate) use links::Links;
mod path;

use std::sync::Arc;

use connect_plugin::StreamType;
use connect_plugin::rpc::{Idempotency, MethodDescriptor, Resolve, Resolved};

pub use forward::CALLER_HEADER;
pub use path::{PREFIX, RoutedPath, Target, parse};

use crate::control::ControlPlane;

/// Stands for a method no provider registered, so that the caller still hears why (after
/// its credentials are checked) in its protocol: unary for a unary Connect request, a
/// stream otherwise.
const UNKNOWN_UNARY: MethodDescriptor = MethodDescriptor::new(
    "/connectplugin.v1.Router/Unknown",
    StreamType::Unary,
    Idempotency::Unknown,
);
const UNKNOWN_STREAM: MethodDescriptor = MethodDescriptor::new(
    "/connectplugin.v1.Router/Unknown",
    StreamType::BidiStreaming,
    Idempotency::Unknown,
);

/// The router, as a [`Resolve`] for a runtime `Router`'s fallback.
pub struct PlatformRouter {
    plane: Arc<ControlPlane>,
    forward: Arc<forward::Forward>,
}

impl std::fmt::Debug for PlatformRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformRouter").finish_non_exhaustive()
    }
}

impl PlatformRouter {
    /// A router over `plane`'s registry, with `links` to the providers and `metrics` to
    /// count its calls in (shared by every router of one platform).
    pub(crate) fn new(
        plane: Arc<ControlPlane>,
        links: Links,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Self {
        PlatformRouter {
            forward: Arc::new(forward::Forward {
                plane: plane.clone(),
                links,
                metrics,
            }),
            plane,
        }
    }
}

fn connect_unary(request: &http::request::Parts) -> bool {
    if request.method == http::Method::GET {
        return true;
    }
    let ct = request
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    ct.starts_with("application/proto") || ct.starts_with("application/json")
}

impl Resolve for PlatformRouter {
    fn resolve(&self, request: &http::request::Parts) -> Option<Resolved> {
        let routed = parse(request.uri.path())?;
        let method = self
            .plane
            .registry
            .with_providers(routed.service_type, |providers| {
                providers
                    .iter()
                    .filter(|p| match routed.target {
                        Target::Any => true,
                        Target::Provider(id) => p.provider_id == id,
                    })
                    .flat_map(|p| p.methods.iter())
                    .find(|m| m.path == routed.method_path)
                    .copied()
            })
            .unwrap_or(if connect_unary(request) {
                UNKNOWN_UNARY
            } else {
                UNKNOWN_STREAM
            });
        Some(Resolved {
            method,
            handler: self.forward.clone(),
        })
    }
}
