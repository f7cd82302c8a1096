//! What changed between two views of a service type's providers, as watch events. Pure: a
//! watcher that missed several changes diffs the view it last saw against the current one,
//! so it gets the latest state coalesced.

use std::sync::Arc;

use super::Provider;

/// One change a watcher sees.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchEvent {
    /// A provider that was there when the watch began.
    Existing(Arc<Provider>),
    /// A provider came.
    Added(Arc<Provider>),
    /// A provider went (unregistered, or its plugin was removed).
    Removed(Arc<Provider>),
    /// A provider changed: its health, weight or metadata.
    Updated(Arc<Provider>),
}

impl WatchEvent {
    /// The provider the event is about.
    pub fn provider(&self) -> &Arc<Provider> {
        match self {
            WatchEvent::Existing(p)
            | WatchEvent::Added(p)
            | WatchEvent::Removed(p)
            | WatchEvent::Updated(p) => p,
        }
    }
}

/// The events that turn view `old` into view `new` (both in registration order): removals
/// first, then updates and additions in `new`'s order.
pub fn diff(old: &[Arc<Provider>], new: &[Arc<Provider>]) -> Vec<WatchEvent> {
    let mut events = Vec::new();
    for o in old {
        if !new.iter().any(|n| n.registration_id == o.registration_id) {
            events.push(WatchEvent::Removed(o.clone()));
        }
    }
    for n in new {
        match old.iter().find(|o| o.registration_id == n.registration_id) {
            None => events.push(WatchEvent::Added(n.clone())),
            Some(o) if !Arc::ptr_eq(o, n) && **o != **n => {
                events.push(WatchEvent::Updated(n.clone()))
            }
            Some(_) => {}
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::select::Health;

    fn p(id: &str, health: Health) -> Arc<Provider> {
        Arc::new(Provider {
            registration_id: id.to_owned(),
            provider_id: format!("plugin-{id}"),
            service_type: "logger".to_owned(),
            service_name: "logger.v1.Logger".to_owned(),
            version: semver::Version::new(1, 0, 0),
            metadata: Default::default(),
            weight: 1,
            health,
            methods: Vec::new(),
        })
    }

    #[test]
    fn additions_removals_and_updates() {
        let a = p("a", Health::Healthy);
        let b = p("b", Health::Healthy);
        let c = p("c", Health::Healthy);
        let b_sick = p("b", Health::Unhealthy);
        let events = diff(&[a.clone(), b.clone()], &[b_sick.clone(), c.clone()]);
        assert_eq!(
            events,
            vec![
                WatchEvent::Removed(a.clone()),
                WatchEvent::Updated(b_sick),
                WatchEvent::Added(c.clone()),
            ]
        );
        assert!(diff(std::slice::from_ref(&a), std::slice::from_ref(&a)).is_empty());
        // An equal copy is no change.
        assert!(diff(&[a], &[p("a", Health::Healthy)]).is_empty());
        assert_eq!(
            diff(&[], std::slice::from_ref(&c)),
            vec![WatchEvent::Added(c)]
        );
    }
}
