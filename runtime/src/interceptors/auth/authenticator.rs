//! The server interceptor that puts it together: [`Authenticator`] asks its providers in
//! order, then its policy, and attaches the identity to the call.

use std::collections::HashSet;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::policy::target_key;
use super::{AuthProvider, Authentication, Authorize};
use crate::protocol::Status;
use crate::rpc::{Identity, Interceptor, ServerCall, ServerNext, ServerOutput};

/// The server interceptor: authenticates each call with the first of its providers that
/// finds credentials, authorizes the identity for the method, and attaches it to the call.
///
/// - No provider finds credentials → `unauthenticated`, naming what would do.
/// - The first provider that finds credentials decides: invalid ones are refused
///   (`unauthenticated`) without asking the providers after it.
/// - The policy refuses → `permission_denied`.
/// - Public methods ([`Authenticator::public`]) pass without credentials; credentials they
///   do carry are still checked, and the identity attached.
///
/// Streaming calls are checked once, before the handler runs.
///
/// ```
/// use connect_plugin::interceptors::auth::{
///     ApiKeyAuth, Authenticator, BearerAuth, Credentials, Identity, MethodPolicy, MtlsAuth,
/// };
/// use connect_plugin::Router;
///
/// let tokens = Credentials::new().with("token-of-the-host", Identity::new("host").with_role("admin"));
/// let keys = Credentials::new().with("key-of-a-dashboard", Identity::new("dashboard"));
/// let auth = Authenticator::new()
///     .provider(MtlsAuth::default()) // a verified client certificate, if the call has one
///     .provider(BearerAuth::new(tokens)) // else a bearer token
///     .provider(ApiKeyAuth::new(keys)) // else an API key in x-api-key
///     .authorize(MethodPolicy::allow_unlisted().allow_role("/kv.v1.KVService/Delete", "admin"))
///     .public("grpc.health.v1.Health");
/// // Add it before the interceptors that need the caller (a rate limit by principal, say).
/// let router = Router::new().interceptor(auth);
/// # let _ = router;
/// ```
#[derive(Clone, Default)]
pub struct Authenticator {
    providers: Vec<Arc<dyn AuthProvider>>,
    policy: Option<Arc<dyn Authorize>>,
    public: HashSet<String>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("providers", &self.providers.len())
            .field("policy", &self.policy.is_some())
            .field("public", &self.public)
            .finish()
    }
}

impl Authenticator {
    /// An authenticator without providers (which refuses every non-public call).
    pub fn new() -> Self {
        Authenticator::default()
    }

    /// Adds a provider, tried after those added before it.
    pub fn provider(mut self, provider: impl AuthProvider) -> Self {
        self.providers.push(Arc::new(provider));
        self
    }

    /// Adds a shared provider.
    pub fn provider_arc(mut self, provider: Arc<dyn AuthProvider>) -> Self {
        self.providers.push(provider);
        self
    }

    /// Sets the authorization policy (without one, every authenticated identity may call
    /// every method).
    pub fn authorize(mut self, policy: impl Authorize) -> Self {
        self.policy = Some(Arc::new(policy));
        self
    }

    /// Lets calls to `target` (a method path, or a service name for all its methods) through
    /// without credentials.
    pub fn public(mut self, target: &str) -> Self {
        self.public.insert(target_key(target));
        self
    }

    /// Authenticates and authorizes `call`: the identity it carries (`None` for a public
    /// method called without credentials), or the status to refuse it with. The identity
    /// is not attached; the interceptor does that.
    pub fn check(&self, call: &mut ServerCall) -> Result<Option<Identity>, Status> {
        let public = !self.public.is_empty()
            && (self.public.contains(call.method.path)
                || self.public.contains(call.method.service()));
        check(&self.providers, self.policy.as_deref(), public, call)
    }
}

fn check<P: std::ops::Deref<Target = dyn AuthProvider>>(
    providers: &[P],
    policy: Option<&dyn Authorize>,
    public: bool,
    call: &mut ServerCall,
) -> Result<Option<Identity>, Status> {
    let mut identity = None;
    for provider in providers {
        match provider.authenticate(call) {
            Authentication::Absent => continue,
            Authentication::Rejected(status) => return Err(status),
            Authentication::Verified(id) => {
                identity = Some(id);
                break;
            }
        }
    }
    let Some(identity) = identity else {
        if public {
            return Ok(None);
        }
        let expected: Vec<String> = providers.iter().map(|p| p.expects()).collect();
        tracing::debug!(
            method = call.method.path,
            "call refused: unauthenticated (no credentials)"
        );
        return Err(Status::unauthenticated(if expected.is_empty() {
            "this server accepts no credentials for this method".to_owned()
        } else {
            format!(
                "the call carries no credentials; it needs {}",
                expected.join(", or ")
            )
        }));
    };
    if !public {
        if let Some(policy) = policy {
            if !policy.authorize(&identity, &call.method) {
                tracing::debug!(
                    method = call.method.path,
                    principal = identity.principal(),
                    "call refused: permission denied"
                );
                return Err(Status::permission_denied(format!(
                    "{} may not call {}",
                    identity.principal(),
                    call.method.path
                )));
            }
        }
    }
    Ok(Some(identity))
}

/// Runs the rest of the chain with `identity` attached, or answers `refusal`.
fn proceed<'a>(
    result: Result<Option<Identity>, Status>,
    mut call: ServerCall,
    next: ServerNext<'a>,
) -> BoxFuture<'a, Result<ServerOutput, Status>> {
    match result {
        Ok(identity) => {
            if identity.is_some() {
                call.identity = identity;
            }
            next.run(call)
        }
        Err(status) => Box::pin(std::future::ready(Err(status))),
    }
}

/// A provider used on its own as the server interceptor.
pub(super) fn authenticate_alone<'a>(
    provider: &'a dyn AuthProvider,
    mut call: ServerCall,
    next: ServerNext<'a>,
) -> BoxFuture<'a, Result<ServerOutput, Status>> {
    let result = check(&[provider], None, false, &mut call);
    proceed(result, call, next)
}

impl Interceptor for Authenticator {
    fn intercept_server<'a>(
        &'a self,
        mut call: ServerCall,
        next: ServerNext<'a>,
    ) -> BoxFuture<'a, Result<ServerOutput, Status>> {
        let result = self.check(&mut call);
        proceed(result, call, next)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{DELETE, GET, HEALTH, call};
    use super::super::{ApiKeyAuth, BearerAuth, Credentials, MethodPolicy};
    use super::*;

    #[test]
    fn authenticator_composition_and_policy() {
        let auth = Authenticator::new()
            .provider(BearerAuth::new(
                Credentials::new()
                    .with("admin-token", Identity::new("root").with_role("admin"))
                    .with("user-token", Identity::new("alice")),
            ))
            .provider(ApiKeyAuth::new(
                Credentials::new().with("key", Identity::new("svc")),
            ))
            .authorize(
                MethodPolicy::allow_unlisted()
                    .allow_role("/kv.v1.KV/Delete", "admin")
                    .allow_principal("kv.v1.KV/Delete", "svc"),
            )
            .public("grpc.health.v1.Health");
        let check = |m, h: &[(&str, &str)]| auth.check(&mut call(m, h));

        assert_eq!(
            check(GET, &[("authorization", "Bearer user-token")])
                .unwrap()
                .unwrap()
                .principal(),
            "alice"
        );
        assert_eq!(
            check(GET, &[("x-api-key", "key")])
                .unwrap()
                .unwrap()
                .principal(),
            "svc"
        );
        // The first provider that finds credentials decides.
        let e = check(
            GET,
            &[("authorization", "Bearer nope"), ("x-api-key", "key")],
        )
        .unwrap_err();
        assert_eq!(e.code(), crate::Code::Unauthenticated);
        let e = check(GET, &[]).unwrap_err();
        assert_eq!(e.code(), crate::Code::Unauthenticated);
        assert!(e.message().contains("bearer token"), "{}", e.message());
        assert!(e.message().contains("x-api-key"), "{}", e.message());

        let e = check(DELETE, &[("authorization", "Bearer user-token")]).unwrap_err();
        assert_eq!(e.code(), crate::Code::PermissionDenied);
        assert_eq!(e.message(), "alice may not call /kv.v1.KV/Delete");
        check(DELETE, &[("authorization", "Bearer admin-token")]).unwrap();
        check(DELETE, &[("x-api-key", "key")]).unwrap();

        assert!(check(HEALTH, &[]).unwrap().is_none());
        assert!(check(HEALTH, &[("x-api-key", "key")]).unwrap().is_some());
        assert!(check(HEALTH, &[("x-api-key", "bad")]).is_err());

        let none = Authenticator::new();
        assert_eq!(
            none.check(&mut call(GET, &[])).unwrap_err().code(),
            crate::Code::Unauthenticated
        );
    }
}
