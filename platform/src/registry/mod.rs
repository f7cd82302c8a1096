//! The service registry: which plugins provide which service types, at which versions and
//! in what health. Register, unregister (only your own), discover, watch. Every map is
//! bounded ([`RegistryLimits`]); watchers share one view per type and diff it, so a slow
//! watcher gets the latest state coalesced and never holds anyone up.

mod diff;
pub mod names;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

pub use diff::{WatchEvent, diff};

use crate::select::Health;
use crate::version::{InvalidVersion, VersionFilter, parse_version};

/// One provider of a service type: a registration, with its plugin's health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// The registration's id (what unregisters it).
    pub registration_id: String,
    /// The runtime id of the plugin providing it.
    pub provider_id: String,
    /// The service type.
    pub service_type: String,
    /// The fully-qualified proto service implementing it.
    pub service_name: String,
    /// Its version.
    pub version: semver::Version,
    /// Free-form metadata.
    pub metadata: BTreeMap<String, String>,
    /// Its share of traffic under weighted selection.
    pub weight: u32,
    /// Its plugin's health.
    pub health: Health,
    /// The methods the router forwards to it.
    pub methods: Vec<connect_plugin::rpc::MethodDescriptor>,
}

/// What a plugin registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRegistration {
    /// The service type.
    pub service_type: String,
    /// The version, a semantic version.
    pub version: String,
    /// The fully-qualified proto service.
    pub service_name: String,
    /// Free-form metadata (bounded, see [`names`]).
    pub metadata: BTreeMap<String, String>,
    /// Share of traffic under weighted selection.
    pub weight: u32,
    /// The service's methods (see [`crate::methods::descriptors`]).
    pub methods: Vec<connect_plugin::rpc::MethodDescriptor>,
}

/// How much the registry holds at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryLimits {
    /// Registrations in all (default 10,000).
    pub max_registrations: usize,
    /// Registrations of one plugin (default 64).
    pub max_per_provider: usize,
    /// Distinct service types, including watched ones nobody provides yet (default 1,024).
    pub max_types: usize,
}

impl Default for RegistryLimits {
    fn default() -> Self {
        RegistryLimits {
            max_registrations: 10_000,
            max_per_provider: 64,
            max_types: 1_024,
        }
    }
}

/// Why the registry refused something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// A name that is not allowed.
    #[error("invalid {what} {name:?}")]
    InvalidName {
        /// What was named.
        what: &'static str,
        /// The name (clipped).
        name: String,
    },
    /// A version that does not parse.
    #[error(transparent)]
    InvalidVersion(#[from] InvalidVersion),
    /// Something over its size limit.
    #[error("{what} is over its limit of {limit}")]
    TooLarge {
        /// What.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// A bound of [`RegistryLimits`] was reached.
    #[error("the registry holds its limit of {limit} {what}")]
    Full {
        /// What.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// No such registration.
    #[error("no registration {0:?}")]
    NotFound(String),
    /// The registration belongs to another plugin.
    #[error("registration {0:?} belongs to another plugin")]
    NotOwner(String),
}

impl RegistryError {
    /// The Connect code that reports this error.
    pub fn code(&self) -> connect_plugin::Code {
        use connect_plugin::Code;
        match self {
            RegistryError::InvalidName { .. } | RegistryError::InvalidVersion(_) => {
                Code::InvalidArgument
            }
            RegistryError::TooLarge { .. } => Code::InvalidArgument,
            RegistryError::Full { .. } => Code::ResourceExhausted,
            RegistryError::NotFound(_) => Code::NotFound,
            RegistryError::NotOwner(_) => Code::PermissionDenied,
        }
    }
}

impl From<RegistryError> for connect_plugin::Status {
    fn from(e: RegistryError) -> Self {
        connect_plugin::Status::new(e.code(), e.to_string())
    }
}

/// The view of one service type that watchers share.
type View = Arc<Vec<Arc<Provider>>>;

struct TypeEntry {
    providers: Vec<Arc<Provider>>,
    view: tokio::sync::watch::Sender<View>,
}

#[derive(Default)]
struct State {
    types: HashMap<String, TypeEntry>,
    /// Registration id → service type.
    registrations: HashMap<String, String>,
    /// Provider id → its registration count and health.
    providers: HashMap<String, (usize, Health)>,
}

/// The registry. Cheap to share behind an `Arc`; every operation takes one short lock.
///
/// ```
/// use std::collections::BTreeMap;
/// use connect_plugin_platform::registry::{NewRegistration, Registry};
/// use connect_plugin_platform::select::Health;
/// use connect_plugin_platform::version::VersionFilter;
///
/// let registry = Registry::default();
/// let id = registry
///     .register("logger-7f3a", Health::Healthy, NewRegistration {
///         service_type: "logger".into(),
///         version: "1.2.0".into(),
///         service_name: "logger.v1.LoggerService".into(),
///         metadata: BTreeMap::new(),
///         weight: 1,
///         methods: Vec::new(),
///     })
///     .unwrap();
/// assert_eq!(registry.providers("logger", &VersionFilter::ANY).len(), 1);
/// registry.unregister("logger-7f3a", &id).unwrap();
/// assert!(registry.providers("logger", &VersionFilter::ANY).is_empty());
/// ```
pub struct Registry {
    state: Mutex<State>,
    limits: RegistryLimits,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new(RegistryLimits::default())
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// An empty registry held to `limits`.
    pub fn new(limits: RegistryLimits) -> Self {
        Registry {
            state: Mutex::new(State::default()),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated (every update
        // is computed first, then stored), so a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a service `provider_id` provides; returns the registration's id.
    /// (Whether the plugin may provide the type is the caller's policy to check first.)
    ///
    /// `health` is the plugin's health from now on (for all its registrations): the
    /// registration is never visible in another state first.
    pub fn register(
        &self,
        provider_id: &str,
        health: Health,
        registration: NewRegistration,
    ) -> Result<String, RegistryError> {
        names::check_service_type(&registration.service_type)?;
        names::check_service_name(&registration.service_name)?;
        names::check_metadata(&registration.metadata)?;
        let version = parse_version(&registration.version)?;
        let mut state = self.lock();
        if state.registrations.len() >= self.limits.max_registrations {
            return Err(RegistryError::Full {
                what: "registrations",
                limit: self.limits.max_registrations,
            });
        }
        let (count, old_health) = state
            .providers
            .get(provider_id)
            .copied()
            .unwrap_or((0, health));
        if count >= self.limits.max_per_provider {
            return Err(RegistryError::Full {
                what: "registrations of one plugin",
                limit: self.limits.max_per_provider,
            });
        }
        if !state.types.contains_key(&registration.service_type)
            && state.types.len() >= self.limits.max_types
        {
            state
                .types
                .retain(|_, t| !t.providers.is_empty() || t.view.receiver_count() > 0);
        }
        if !state.types.contains_key(&registration.service_type)
            && state.types.len() >= self.limits.max_types
        {
            return Err(RegistryError::Full {
                what: "service types",
                limit: self.limits.max_types,
            });
        }
        let registration_id = new_id();
        let provider = Arc::new(Provider {
            registration_id: registration_id.clone(),
            provider_id: provider_id.to_owned(),
            service_type: registration.service_type.clone(),
            service_name: registration.service_name,
            version,
            metadata: registration.metadata,
            weight: registration.weight,
            health,
            methods: registration.methods,
        });
        state
            .providers
            .insert(provider_id.to_owned(), (count + 1, old_health));
        state
            .registrations
            .insert(registration_id.clone(), registration.service_type.clone());
        let entry = state
            .types
            .entry(registration.service_type)
            .or_insert_with(TypeEntry::new);
        entry.providers.push(provider);
        entry.publish();
        drop(state);
        if old_health != health {
            self.set_health(provider_id, health);
        }
        Ok(registration_id)
    }

    /// Withdraws registration `id`; only the plugin that made it may.
    pub fn unregister(&self, provider_id: &str, id: &str) -> Result<(), RegistryError> {
        let mut state = self.lock();
        let Some(service_type) = state.registrations.get(id).cloned() else {
            return Err(RegistryError::NotFound(names::clip(id)));
        };
        let owner_matches = state.types.get(&service_type).is_some_and(|t| {
            t.providers
                .iter()
                .any(|p| p.registration_id == id && p.provider_id == provider_id)
        });
        if !owner_matches {
            return Err(RegistryError::NotOwner(names::clip(id)));
        }
        state.registrations.remove(id);
        state.forget_one(provider_id);
        if let Some(entry) = state.types.get_mut(&service_type) {
            entry.providers.retain(|p| p.registration_id != id);
            entry.publish();
        }
        state.drop_unused_type(&service_type);
        Ok(())
    }

    /// Removes every registration of a plugin (it unregistered itself, died or was
    /// removed); returns how many there were.
    pub fn remove_provider(&self, provider_id: &str) -> usize {
        let mut state = self.lock();
        if state.providers.remove(provider_id).is_none() {
            return 0;
        }
        let mut removed = Vec::new();
        let mut touched = Vec::new();
        for (name, entry) in state.types.iter_mut() {
            let before = entry.providers.len();
            entry.providers.retain(|p| {
                let theirs = p.provider_id == provider_id;
                if theirs {
                    removed.push(p.registration_id.clone());
                }
                !theirs
            });
            if entry.providers.len() != before {
                entry.publish();
                touched.push(name.clone());
            }
        }
        for id in &removed {
            state.registrations.remove(id);
        }
        for name in touched {
            state.drop_unused_type(&name);
        }
        removed.len()
    }

    /// Sets a plugin's health on every registration it has; watchers see an update for
    /// each one whose health changed.
    pub fn set_health(&self, provider_id: &str, health: Health) {
        let mut state = self.lock();
        let Some(entry) = state.providers.get_mut(provider_id) else {
            return;
        };
        if entry.1 == health {
            return;
        }
        entry.1 = health;
        for t in state.types.values_mut() {
            let mut changed = false;
            for p in t.providers.iter_mut() {
                if p.provider_id == provider_id {
                    let mut updated = (**p).clone();
                    updated.health = health;
                    *p = Arc::new(updated);
                    changed = true;
                }
            }
            if changed {
                t.publish();
            }
        }
    }

    /// The providers of `service_type` whose versions `filter` accepts, in registration
    /// order.
    pub fn providers(&self, service_type: &str, filter: &VersionFilter) -> Vec<Arc<Provider>> {
        let state = self.lock();
        state.types.get(service_type).map_or_else(Vec::new, |t| {
            t.providers
                .iter()
                .filter(|p| filter.accepts(&p.version))
                .cloned()
                .collect()
        })
    }

    /// Runs `f` over the providers of `service_type` (in registration order) without
    /// copying the list, under the registry's lock: keep `f` short.
    pub fn with_providers<R>(
        &self,
        service_type: &str,
        f: impl FnOnce(&[Arc<Provider>]) -> R,
    ) -> R {
        let state = self.lock();
        match state.types.get(service_type) {
            Some(t) => f(&t.providers),
            None => f(&[]),
        }
    }

    /// Runs `f` over every registration of every type, under the registry's lock.
    pub fn for_each_provider(&self, mut f: impl FnMut(&Provider)) {
        let state = self.lock();
        for t in state.types.values() {
            for p in &t.providers {
                f(p);
            }
        }
    }

    /// The provider `provider_id` of `service_type` (a plugin providing two types is found
    /// under each, never one for the other).
    pub fn provider(&self, service_type: &str, provider_id: &str) -> Option<Arc<Provider>> {
        let state = self.lock();
        state
            .types
            .get(service_type)?
            .providers
            .iter()
            .find(|p| p.provider_id == provider_id)
            .cloned()
    }

    /// Watches `service_type`: first the providers there now, then every change.
    pub fn watch(
        &self,
        service_type: &str,
        filter: VersionFilter,
    ) -> Result<Watcher, RegistryError> {
        names::check_service_type(service_type)?;
        let mut state = self.lock();
        if !state.types.contains_key(service_type) && state.types.len() >= self.limits.max_types {
            // Types only watched, by watchers since gone, make room first.
            state
                .types
                .retain(|_, t| !t.providers.is_empty() || t.view.receiver_count() > 0);
        }
        if !state.types.contains_key(service_type) && state.types.len() >= self.limits.max_types {
            return Err(RegistryError::Full {
                what: "service types",
                limit: self.limits.max_types,
            });
        }
        let entry = state
            .types
            .entry(service_type.to_owned())
            .or_insert_with(TypeEntry::new);
        Ok(Watcher {
            rx: entry.view.subscribe(),
            seen: None,
            filter,
        })
    }
}

impl State {
    fn forget_one(&mut self, provider_id: &str) {
        if let Some((count, _)) = self.providers.get_mut(provider_id) {
            *count -= 1;
            if *count == 0 {
                self.providers.remove(provider_id);
            }
        }
    }

    /// Drops a type nobody provides or watches any more.
    fn drop_unused_type(&mut self, service_type: &str) {
        if self
            .types
            .get(service_type)
            .is_some_and(|t| t.providers.is_empty() && t.view.receiver_count() == 0)
        {
            self.types.remove(service_type);
        }
    }
}

impl TypeEntry {
    fn new() -> Self {
        TypeEntry {
            providers: Vec::new(),
            view: tokio::sync::watch::Sender::new(Arc::new(Vec::new())),
        }
    }

    fn publish(&self) {
        self.view.send_replace(Arc::new(self.providers.clone()));
    }
}

/// A registration id: 128 random bits, hex. Not a secret (unregistering checks the owner),
/// only unique.
fn new_id() -> String {
    format!("{:032x}", fastrand::u128(..))
}

/// Follows one service type. Holds only the view it last saw, so its memory is bounded
/// however slow it is.
#[derive(Debug)]
pub struct Watcher {
    rx: tokio::sync::watch::Receiver<View>,
    seen: Option<View>,
    filter: VersionFilter,
}

impl Watcher {
    /// The next batch of events: first the existing providers (possibly none), then,
    /// waiting for a change, what changed since the last batch (coalesced). `None` once
    /// the registry is gone.
    pub async fn next(&mut self) -> Option<Vec<WatchEvent>> {
        loop {
            let Some(seen) = &self.seen else {
                let view = self.rx.borrow_and_update().clone();
                let now = visible(&self.filter, &view);
                self.seen = Some(now.clone());
                return Some(now.iter().cloned().map(WatchEvent::Existing).collect());
            };
            let seen = seen.clone();
            self.rx.changed().await.ok()?;
            let view = self.rx.borrow_and_update().clone();
            let now = visible(&self.filter, &view);
            let events = diff(&seen, &now);
            self.seen = Some(now);
            if !events.is_empty() {
                return Some(events);
            }
        }
    }
}

/// The part of `view` a watcher with `filter` sees.
fn visible(filter: &VersionFilter, view: &View) -> View {
    if *filter == VersionFilter::ANY {
        return view.clone();
    }
    Arc::new(
        view.iter()
            .filter(|p| filter.accepts(&p.version))
            .cloned()
            .collect(),
    )
}

#[cfg(test)]
mod tests;
