//! Who a call comes from: the [`Identity`] an auth interceptor verified, which travels with
//! the call ([`ServerCall::identity`]) into the handler's request, and [`IdentityExt`] to
//! read it. The call layer only carries it; making one from credentials is the business of
//! `interceptors::auth`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use http::Extensions;

use super::call::ServerCall;
use super::message::Request;

/// Who a call comes from: a principal name, roles and free-form attributes, and the scheme
/// that authenticated it. Cheap to clone (shared).
///
/// ```
/// use connect_plugin::rpc::Identity;
///
/// let id = Identity::new("kv-plugin").with_role("reader").with_attribute("team", "storage");
/// assert_eq!(id.principal(), "kv-plugin");
/// assert!(id.has_role("reader"));
/// assert_eq!(id.attribute("team"), Some("storage"));
/// assert_eq!(id.scheme(), None); // not authenticated by a provider
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Identity(Arc<IdentityInner>);

#[derive(Clone, PartialEq, Eq)]
struct IdentityInner {
    /// Shared, so that per-caller tables (the rate limiter's) key on it without copying.
    principal: Arc<str>,
    roles: BTreeSet<String>,
    attributes: BTreeMap<String, String>,
    scheme: Option<&'static str>,
}

impl Identity {
    /// An identity named `principal`, without roles or attributes.
    pub fn new(principal: impl Into<String>) -> Self {
        Identity(Arc::new(IdentityInner {
            principal: Arc::from(principal.into()),
            roles: BTreeSet::new(),
            attributes: BTreeMap::new(),
            scheme: None,
        }))
    }

    /// Adds a role.
    pub fn with_role(mut self, role: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.0).roles.insert(role.into());
        self
    }

    /// Adds roles.
    pub fn with_roles<R: Into<String>>(mut self, roles: impl IntoIterator<Item = R>) -> Self {
        let inner = Arc::make_mut(&mut self.0);
        inner.roles.extend(roles.into_iter().map(Into::into));
        self
    }

    /// Sets an attribute (replacing one of the same key).
    pub fn with_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.0)
            .attributes
            .insert(key.into(), value.into());
        self
    }

    /// The principal's name.
    pub fn principal(&self) -> &str {
        &self.0.principal
    }

    /// The principal's name, shared.
    pub(crate) fn principal_shared(&self) -> Arc<str> {
        self.0.principal.clone()
    }

    /// The roles, in order.
    pub fn roles(&self) -> impl Iterator<Item = &str> {
        self.0.roles.iter().map(String::as_str)
    }

    /// Whether the identity has `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.0.roles.contains(role)
    }

    /// An attribute's value.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.0.attributes.get(key).map(String::as_str)
    }

    /// The attributes, in key order.
    pub fn attributes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .attributes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How the identity was authenticated: `"bearer"`, `"api-key"`, `"mtls"`, or what a
    /// custom provider set with [`Identity::with_scheme`]; `None` for an identity that has
    /// not been through a provider.
    pub fn scheme(&self) -> Option<&'static str> {
        self.0.scheme
    }

    /// Records the scheme that authenticated this identity (for custom providers).
    pub fn with_scheme(mut self, scheme: &'static str) -> Self {
        if self.0.scheme != Some(scheme) {
            Arc::make_mut(&mut self.0).scheme = Some(scheme);
        }
        self
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("principal", &self.0.principal)
            .field("roles", &self.0.roles)
            .field("attributes", &self.0.attributes)
            .field("scheme", &self.0.scheme)
            .finish()
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.principal)
    }
}

/// Reads the authenticated [`Identity`] of a call, wherever a server has the call's
/// extensions: `request.identity()` in a handler.
pub trait IdentityExt {
    /// The identity an auth interceptor (such as
    /// [`Authenticator`](crate::interceptors::auth::Authenticator)) attached; `None` on a call
    /// that was not authenticated (a public method, say).
    fn identity(&self) -> Option<&Identity>;
}

impl<T> IdentityExt for Request<T> {
    fn identity(&self) -> Option<&Identity> {
        self.authenticated()
    }
}

impl IdentityExt for ServerCall {
    fn identity(&self) -> Option<&Identity> {
        self.identity
            .as_ref()
            .or_else(|| self.extensions.get::<Identity>())
    }
}

impl IdentityExt for Extensions {
    fn identity(&self) -> Option<&Identity> {
        self.get::<Identity>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_builder_and_debug() {
        let id = Identity::new("p")
            .with_roles(["b", "a"])
            .with_attribute("k", "v")
            .with_scheme("custom");
        assert_eq!(id.roles().collect::<Vec<_>>(), ["a", "b"]);
        assert!(id.has_role("a") && !id.has_role("c"));
        assert_eq!(id.attribute("k"), Some("v"));
        assert_eq!(id.attributes().count(), 1);
        assert_eq!(id.to_string(), "p");
        assert!(format!("{id:?}").contains("principal: \"p\""));
        let mut ext = Extensions::new();
        ext.insert(id.clone());
        assert_eq!(ext.identity(), Some(&id));
    }
}
