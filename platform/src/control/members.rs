//! The admitted plugins: who they are, what they declared, where they serve and whether
//! that address was verified, and their reported health. Bounded in all and per self id.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use connect_plugin::pb::connectplugin::v1 as cp;

use crate::address::Address;
use crate::identity::RuntimeId;
use crate::select::Health;

/// How many plugins may be admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberLimits {
    /// In all (default 4,096).
    pub max_members: usize,
    /// Under one self id (default 64).
    pub max_per_self_id: usize,
    /// Services one plugin may declare it provides or requires (default 32 each).
    pub max_declarations: usize,
    /// Watches one plugin may hold open (default 32).
    pub max_watches: usize,
}

impl Default for MemberLimits {
    fn default() -> Self {
        MemberLimits {
            max_members: 4_096,
            max_per_self_id: 64,
            max_declarations: 32,
            max_watches: 32,
        }
    }
}

#[derive(Debug)]
struct MemberState {
    reported: Health,
    reason: String,
    /// False while the host's health polls get no answer.
    reachable: bool,
}

/// Where the check of a plugin's address stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressCheck {
    /// Not done yet (or no address to check).
    Pending,
    /// The plugin proved it serves at its address: calls may be routed there.
    Verified,
    /// Every attempt failed: nothing is routed there.
    Failed,
}

/// An admitted plugin.
#[derive(Debug)]
pub struct Member {
    /// The id the host assigned.
    pub runtime_id: RuntimeId,
    /// The id it claimed.
    pub self_id: String,
    /// Its version.
    pub version: String,
    /// What it declared it provides.
    pub provides: Vec<cp::ServiceDeclaration>,
    /// What it declared it requires.
    pub requires: Vec<cp::ServiceDependency>,
    /// Where it serves, if it provides anything.
    pub address: Option<Address>,
    state: Mutex<MemberState>,
    check: tokio::sync::watch::Sender<AddressCheck>,
    /// Watches it holds open.
    pub(crate) watches: std::sync::atomic::AtomicUsize,
}

impl Member {
    pub(crate) fn new(
        runtime_id: RuntimeId,
        self_id: String,
        version: String,
        provides: Vec<cp::ServiceDeclaration>,
        requires: Vec<cp::ServiceDependency>,
        address: Option<Address>,
    ) -> Self {
        Member {
            runtime_id,
            self_id,
            version,
            provides,
            requires,
            address,
            state: Mutex::new(MemberState {
                reported: Health::Healthy,
                reason: String::new(),
                reachable: true,
            }),
            check: tokio::sync::watch::Sender::new(AddressCheck::Pending),
            watches: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, MemberState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the host verified that the plugin serves at its address.
    pub fn verified(&self) -> bool {
        *self.check.borrow() == AddressCheck::Verified
    }

    /// Where the address check stands.
    pub fn address_check(&self) -> AddressCheck {
        *self.check.borrow()
    }

    /// Waits until the address check has an outcome.
    pub async fn address_checked(&self) -> AddressCheck {
        let mut rx = self.check.subscribe();
        match rx.wait_for(|c| *c != AddressCheck::Pending).await {
            Ok(c) => *c,
            Err(_) => AddressCheck::Pending,
        }
    }

    pub(crate) fn set_address_check(&self, outcome: AddressCheck) {
        self.check.send_replace(outcome);
    }

    /// Records a health report.
    pub(crate) fn report(&self, health: Health, reason: String) {
        let mut s = self.state();
        s.reported = health;
        s.reason = reason;
    }

    /// Records whether the host's last health poll got an answer; returns whether that
    /// changed.
    pub(crate) fn set_reachable(&self, reachable: bool) -> bool {
        let mut s = self.state();
        let changed = s.reachable != reachable;
        s.reachable = reachable;
        changed
    }

    /// The health routing goes by: unhealthy until its address is verified and while it
    /// does not answer the host's polls, else what it reports.
    pub fn effective_health(&self) -> Health {
        if !self.verified() {
            return Health::Unhealthy;
        }
        let s = self.state();
        if s.reachable {
            s.reported
        } else {
            Health::Unhealthy
        }
    }

    /// A channel to its address: TLS with `tls` for an `https` address (none without it),
    /// waiting at most `connect_timeout` for a connection.
    pub(crate) fn channel(
        &self,
        tls: Option<&std::sync::Arc<rustls::ClientConfig>>,
        connect_timeout: std::time::Duration,
    ) -> Option<connect_plugin::Channel> {
        let address = self.address.as_ref()?;
        let mut builder = connect_plugin::Channel::builder(address.as_str())
            .ok()?
            .connect_timeout(connect_timeout);
        if address.is_tls() {
            builder = builder.tls(tls?.clone());
        }
        Some(builder.build())
    }

    /// Whether it declared it provides `service_type`.
    pub fn declares_provides(&self, service_type: &str) -> Option<&cp::ServiceDeclaration> {
        self.provides.iter().find(|d| d.r#type == service_type)
    }

    /// Whether it declared it requires `service_type`.
    pub fn declares_requires(&self, service_type: &str) -> Option<&cp::ServiceDependency> {
        self.requires.iter().find(|d| d.r#type == service_type)
    }
}

/// Why a plugin could not be admitted for lack of room.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the host holds its limit of {limit} {what}")]
pub struct MembersFull {
    what: &'static str,
    limit: usize,
}

/// The admitted plugins.
#[derive(Debug, Default)]
pub struct Members {
    limits: MemberLimits,
    by_id: Mutex<HashMap<RuntimeId, Arc<Member>>>,
}

impl Members {
    /// No plugins yet.
    pub fn new(limits: MemberLimits) -> Self {
        Members {
            limits,
            by_id: Mutex::new(HashMap::new()),
        }
    }

    /// The limits.
    pub fn limits(&self) -> &MemberLimits {
        &self.limits
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RuntimeId, Arc<Member>>> {
        self.by_id.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a member, within the limits.
    pub(crate) fn insert(&self, member: Arc<Member>) -> Result<(), MembersFull> {
        let mut by_id = self.lock();
        if by_id.len() >= self.limits.max_members {
            return Err(MembersFull {
                what: "admitted plugins",
                limit: self.limits.max_members,
            });
        }
        let same = by_id
            .values()
            .filter(|m| m.self_id == member.self_id)
            .count();
        if same >= self.limits.max_per_self_id {
            return Err(MembersFull {
                what: "plugins under one self id",
                limit: self.limits.max_per_self_id,
            });
        }
        by_id.insert(member.runtime_id.clone(), member);
        Ok(())
    }

    /// The member with this id.
    pub fn get(&self, id: &RuntimeId) -> Option<Arc<Member>> {
        self.find(id.as_str())
    }

    /// The member with this id, given as text.
    pub fn find(&self, runtime_id: &str) -> Option<Arc<Member>> {
        self.lock().get(runtime_id).cloned()
    }

    /// Removes a member.
    pub(crate) fn remove(&self, id: &RuntimeId) -> Option<Arc<Member>> {
        self.lock().remove(id)
    }

    /// Removes the members `gone` says are gone; returns them.
    pub(crate) fn remove_where(&self, gone: impl Fn(&Member) -> bool) -> Vec<Arc<Member>> {
        let mut by_id = self.lock();
        let ids: Vec<RuntimeId> = by_id
            .values()
            .filter(|m| gone(m))
            .map(|m| m.runtime_id.clone())
            .collect();
        ids.iter().filter_map(|id| by_id.remove(id)).collect()
    }

    /// Every admitted plugin.
    pub fn all(&self) -> Vec<Arc<Member>> {
        self.lock().values().cloned().collect()
    }

    /// How many plugins are admitted.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
