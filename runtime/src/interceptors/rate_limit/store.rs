//! The limiter's table of keys: governor's DashMap store with a cap.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use governor::nanos::Nanos;
use governor::state::keyed::{DashMapStateStore, ShrinkableKeyedStateStore};
use governor::state::{NotKeyed, StateStore};

use super::RateKey;

/// governor's DashMap store with a cap on keys: a key not in a full table is measured
/// against [`RateKey::Overflow`] instead of being added.
pub(super) struct CappedStore {
    /// Shared with the interceptor, which looks up a refused key to tell whose bucket it was.
    pub(super) map: Arc<DashMapStateStore<RateKey>>,
    pub(super) max_keys: usize,
    /// Set when a caller was sent to the overflow bucket; the interceptor then sweeps early.
    pub(super) overflowing: Arc<AtomicBool>,
}

impl StateStore for CappedStore {
    type Key = RateKey;

    fn measure_and_replace<T, F, E>(&self, key: &RateKey, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        if let Some(state) = self.map.get(key) {
            return state.measure_and_replace(&NotKeyed::NonKey, f);
        }
        // A new key. (Concurrent inserts may pass the cap by a few; it bounds, not counts.)
        if self.map.len() >= self.max_keys {
            self.overflowing.store(true, Ordering::Relaxed);
            return self.map.measure_and_replace(&RateKey::Overflow, f);
        }
        self.map.measure_and_replace(key, f)
    }
}

impl ShrinkableKeyedStateStore<RateKey> for CappedStore {
    fn retain_recent(&self, drop_below: Nanos) {
        self.map.retain_recent(drop_below);
    }

    fn shrink_to_fit(&self) {
        ShrinkableKeyedStateStore::shrink_to_fit(&*self.map);
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
