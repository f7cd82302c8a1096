//! Counters of a proxy, and waiting for them to reach a state.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

use super::faults::Direction;

/// Byte counters of one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DirectionStats {
    /// Bytes the proxy read from the sending side.
    pub received: u64,
    /// Bytes the proxy wrote to the receiving side.
    pub forwarded: u64,
}

/// A snapshot of a proxy's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Connections accepted, whatever was then done with them.
    pub accepted: u64,
    /// Connections currently open (forwarding or blackholed).
    pub active: u64,
    /// Connections the proxy ended with a reset (faults, or an error on either side).
    pub resets: u64,
    /// Client to target.
    pub upstream: DirectionStats,
    /// Target to client.
    pub downstream: DirectionStats,
}

/// The live counters: atomics, plus a `Notify` woken on every change.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    accepted: AtomicU64,
    active: AtomicU64,
    resets: AtomicU64,
    up_received: AtomicU64,
    up_forwarded: AtomicU64,
    down_received: AtomicU64,
    down_forwarded: AtomicU64,
    changed: Notify,
}

impl Counters {
    fn bump(&self, counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    pub fn accepted(&self) {
        self.active.fetch_add(1, Ordering::SeqCst);
        self.bump(&self.accepted, 1);
    }

    pub fn closed(&self) {
        self.active.fetch_sub(1, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    pub fn reset(&self) {
        self.bump(&self.resets, 1);
    }

    /// `dir` is `Upstream` or `Downstream`.
    pub fn received(&self, dir: Direction, n: usize) {
        match dir {
            Direction::Downstream => self.bump(&self.down_received, n as u64),
            _ => self.bump(&self.up_received, n as u64),
        }
    }

    /// `dir` is `Upstream` or `Downstream`.
    pub fn forwarded(&self, dir: Direction, n: usize) {
        match dir {
            Direction::Downstream => self.bump(&self.down_forwarded, n as u64),
            _ => self.bump(&self.up_forwarded, n as u64),
        }
    }

    pub fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::SeqCst);
        Stats {
            accepted: get(&self.accepted),
            active: get(&self.active),
            resets: get(&self.resets),
            upstream: DirectionStats {
                received: get(&self.up_received),
                forwarded: get(&self.up_forwarded),
            },
            downstream: DirectionStats {
                received: get(&self.down_received),
                forwarded: get(&self.down_forwarded),
            },
        }
    }

    /// Waits until `pred` holds for a snapshot, checking again after every change.
    pub async fn wait_until(&self, mut pred: impl FnMut(&Stats) -> bool) -> Stats {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            // Registered before the check, so a change between the check and the await
            // still wakes us.
            changed.as_mut().enable();
            let now = self.snapshot();
            if pred(&now) {
                return now;
            }
            changed.await;
        }
    }
}
