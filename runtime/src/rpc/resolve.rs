//! Routes found at call time: a [`Router`](super::Router) asks its [`Resolve`] for a path
//! no route is mounted at — how a proxy (the host platform's router, say) serves paths it
//! learns while running.

use std::sync::Arc;

use super::call::MethodDescriptor;
use super::interceptor::Handler;

/// What a path resolves to: the method it stands for (its shape decides how the request is
/// read) and the handler that serves it. The call's [`uri`](super::ServerCall::uri) keeps
/// the path as requested, which may differ from the method's.
#[derive(Clone)]
pub struct Resolved {
    /// The method.
    pub method: MethodDescriptor,
    /// Its handler.
    pub handler: Arc<dyn Handler>,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolved")
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// Finds the method and handler for a path at call time.
///
/// ```
/// use std::sync::Arc;
/// use connect_plugin::rpc::{self, Idempotency, MethodDescriptor, Resolve, Resolved};
/// use connect_plugin::{Request, Response, Router, StreamType};
///
/// const ANY: MethodDescriptor =
///     MethodDescriptor::new("/echo.v1.Echo/Any", StreamType::Unary, Idempotency::Unknown);
///
/// /// Serves every path under `/echo/` with one handler.
/// struct EchoAll;
///
/// impl Resolve for EchoAll {
///     fn resolve(&self, request: &http::request::Parts) -> Option<Resolved> {
///         request.uri.path().starts_with("/echo/").then(|| Resolved {
///             method: ANY,
///             handler: rpc::unary(|req: Request<String>| async move {
///                 Ok(Response::new(req.into_inner()))
///             }),
///         })
///     }
/// }
///
/// let router = Router::new().fallback(EchoAll);
/// # let _ = router;
/// ```
pub trait Resolve: Send + Sync + 'static {
    /// The method and handler for the request (its path, and its HTTP method and headers
    /// for a resolver that needs them before the request is read, such as the content type
    /// telling a unary Connect call from a stream); `None` answers `unimplemented` (in the
    /// caller's protocol), as for any path nobody serves.
    fn resolve(&self, request: &http::request::Parts) -> Option<Resolved>;
}
