//! The seam between the [`Authenticator`](super::Authenticator) and the ways of
//! authenticating a call: [`AuthProvider`] and what it answers, [`Authentication`].

use crate::protocol::Status;
use crate::rpc::{Identity, MethodDescriptor, ServerCall};

/// What an [`AuthProvider`] made of a call.
#[derive(Debug)]
pub enum Authentication {
    /// The call carries none of this provider's credentials; the next provider may look.
    Absent,
    /// The credentials are valid and stand for this identity.
    Verified(Identity),
    /// The call carries this provider's credentials and they are not valid (the status is
    /// `unauthenticated` and names no secret).
    Rejected(Status),
}

/// One way of authenticating a call on the server: [`BearerAuth`](super::BearerAuth),
/// [`ApiKeyAuth`](super::ApiKeyAuth), [`MtlsAuth`](super::MtlsAuth), or your own.
///
/// ```
/// use connect_plugin::interceptors::auth::{AuthProvider, Authentication, Authenticator};
/// use connect_plugin::rpc::{Identity, ServerCall};
///
/// /// Trusts a header set by a proxy in front of the server (only behind such a proxy!).
/// struct ProxyUser;
///
/// impl AuthProvider for ProxyUser {
///     fn expects(&self) -> String {
///         "an x-proxy-user header".to_owned()
///     }
///
///     fn authenticate(&self, call: &mut ServerCall) -> Authentication {
///         match call.headers.get("x-proxy-user").and_then(|v| v.to_str().ok()) {
///             Some(user) => Authentication::Verified(Identity::new(user).with_scheme("proxy")),
///             None => Authentication::Absent,
///         }
///     }
/// }
///
/// let router = connect_plugin::Router::new()
///     .interceptor(Authenticator::new().provider(ProxyUser));
/// # let _ = router;
/// ```
pub trait AuthProvider: Send + Sync + 'static {
    /// What credentials the provider looks for, for the error a call without any gets
    /// ("a bearer token in the authorization header").
    fn expects(&self) -> String;

    /// Looks for this provider's credentials in the call and checks them. The call is
    /// mutable so that the provider can mark the headers it read as sensitive.
    fn authenticate(&self, call: &mut ServerCall) -> Authentication;
}

/// A refusal for `reason` (which must name no secret), logged at debug level.
pub(super) fn unauthenticated(
    method: &MethodDescriptor,
    provider: &str,
    reason: &str,
) -> Authentication {
    tracing::debug!(
        method = method.path,
        provider,
        reason,
        "call refused: unauthenticated"
    );
    Authentication::Rejected(Status::unauthenticated(reason.to_owned()))
}
