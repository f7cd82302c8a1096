//! Authorization: whether an authenticated identity may call a method ([`Authorize`]),
//! as a closure or as a table of methods and services ([`MethodPolicy`]).

use std::collections::{HashMap, HashSet};

use crate::rpc::{Identity, MethodDescriptor};

/// Decides whether an authenticated identity may call a method. Closures
/// `Fn(&Identity, &MethodDescriptor) -> bool` are policies too.
pub trait Authorize: Send + Sync + 'static {
    /// Whether `identity` may call `method`.
    fn authorize(&self, identity: &Identity, method: &MethodDescriptor) -> bool;
}

impl<F> Authorize for F
where
    F: Fn(&Identity, &MethodDescriptor) -> bool + Send + Sync + 'static,
{
    fn authorize(&self, identity: &Identity, method: &MethodDescriptor) -> bool {
        self(identity, method)
    }
}

/// A table of which principals and roles may call which methods or services. A method's
/// own entry wins over its service's; a method with neither is allowed or denied as the
/// constructor said.
///
/// ```
/// use connect_plugin::interceptors::auth::{Authorize, Identity, MethodPolicy};
/// use connect_plugin::protocol::StreamType;
/// use connect_plugin::rpc::{Idempotency, MethodDescriptor};
///
/// const GET: MethodDescriptor =
///     MethodDescriptor::new("/kv.v1.KVService/Get", StreamType::Unary, Idempotency::Unknown);
/// const DELETE: MethodDescriptor =
///     MethodDescriptor::new("/kv.v1.KVService/Delete", StreamType::Unary, Idempotency::Unknown);
///
/// let policy = MethodPolicy::deny_unlisted()
///     .allow_role("kv.v1.KVService", "reader") // the whole service …
///     .allow_principal("/kv.v1.KVService/Delete", "host"); // … but Delete only for the host
/// let reader = Identity::new("dashboard").with_role("reader");
/// assert!(policy.authorize(&reader, &GET));
/// assert!(!policy.authorize(&reader, &DELETE));
/// assert!(policy.authorize(&Identity::new("host"), &DELETE));
/// ```
#[derive(Debug, Clone)]
pub struct MethodPolicy {
    rules: HashMap<String, Allowed>,
    unlisted_allowed: bool,
}

#[derive(Debug, Clone, Default)]
struct Allowed {
    principals: HashSet<String>,
    roles: HashSet<String>,
}

impl MethodPolicy {
    /// Methods not in the table may be called by any authenticated identity.
    pub fn allow_unlisted() -> Self {
        MethodPolicy {
            rules: HashMap::new(),
            unlisted_allowed: true,
        }
    }

    /// Methods not in the table may be called by nobody.
    pub fn deny_unlisted() -> Self {
        MethodPolicy {
            rules: HashMap::new(),
            unlisted_allowed: false,
        }
    }

    /// Lets `principal` call `target`: a method path (`/pkg.Service/Method`) or a whole
    /// service (`pkg.Service`).
    pub fn allow_principal(mut self, target: &str, principal: impl Into<String>) -> Self {
        self.rules
            .entry(target_key(target))
            .or_default()
            .principals
            .insert(principal.into());
        self
    }

    /// Lets every identity with `role` call `target` (a method path or a service name).
    pub fn allow_role(mut self, target: &str, role: impl Into<String>) -> Self {
        self.rules
            .entry(target_key(target))
            .or_default()
            .roles
            .insert(role.into());
        self
    }
}

/// `/pkg.Service/Method` for a method (with or without the leading slash), `pkg.Service`
/// for a service (with or without slashes around it).
pub(super) fn target_key(target: &str) -> String {
    let trimmed = target.trim_matches('/');
    if trimmed.contains('/') {
        format!("/{trimmed}")
    } else {
        trimmed.to_owned()
    }
}

/// Whether `method` is `target` (as [`target_key`] wrote it) or belongs to it.
fn targets<'t, T>(table: &'t HashMap<String, T>, method: &MethodDescriptor) -> Option<&'t T> {
    table
        .get(method.path)
        .or_else(|| table.get(method.service()))
}

impl Authorize for MethodPolicy {
    fn authorize(&self, identity: &Identity, method: &MethodDescriptor) -> bool {
        match targets(&self.rules, method) {
            Some(allowed) => {
                allowed.principals.contains(identity.principal())
                    || identity.roles().any(|r| allowed.roles.contains(r))
            }
            None => self.unlisted_allowed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{DELETE, GET, HEALTH};
    use super::*;

    #[test]
    fn method_policy_targets() {
        let alice = Identity::new("alice");
        let p = MethodPolicy::deny_unlisted()
            .allow_principal("kv.v1.KV", "alice")
            .allow_principal("/kv.v1.KV/Delete/", "bob");
        // The method's own entry wins over its service's.
        assert!(p.authorize(&alice, &GET));
        assert!(!p.authorize(&alice, &DELETE));
        assert!(p.authorize(&Identity::new("bob"), &DELETE));
        assert!(!p.authorize(&alice, &HEALTH));
        let closure = |id: &Identity, m: &MethodDescriptor| id.has_role("r") || m.method() == "Get";
        assert!(closure.authorize(&alice, &GET));
        assert!(!closure.authorize(&alice, &DELETE));
        assert!(closure.authorize(&alice.clone().with_role("r"), &DELETE));
    }
}
