//! The faults a proxy applies, as plain data: per direction, and for new connections.

use std::time::Duration;

/// Which way bytes flow through the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the connecting client (the host) to the target (the plugin).
    Upstream,
    /// From the target (the plugin) back to the client (the host).
    Downstream,
    /// Both of the above.
    Both,
}

impl Direction {
    /// Whether this selection includes `one` (which is `Upstream` or `Downstream`).
    pub(crate) fn includes(self, one: Direction) -> bool {
        self == Direction::Both || self == one
    }
}

/// What the proxy does with connections accepted from now on.
///
/// Connections already open are not affected; reset those with
/// [`FaultHandle::reset_existing`](super::FaultHandle::reset_existing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NewConnections {
    /// Connect to the target and forward, applying the direction faults. The default.
    #[default]
    Forward,
    /// Accept, then reset at once (`SO_LINGER` 0 and close): the client's connect succeeds
    /// and its first read or write fails with `ECONNRESET`.
    Reset,
    /// Accept and never answer: bytes the client sends are read and discarded, nothing is
    /// sent back and the target is never contacted. (Only a network-level partition makes
    /// the connect itself hang; see [`crate::netns`].)
    Blackhole,
    /// Stop listening, so that connecting fails with `ECONNREFUSED`. Leaving this mode binds
    /// the same address again.
    Refuse,
}

/// The faults of one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct DirectionFaults {
    /// Every chunk is forwarded this long after it was read.
    pub latency: Duration,
    /// Bytes are read (up to the buffer limit) but not forwarded.
    pub stalled: bool,
    /// At most this many bytes per second are forwarded (per connection); `Some(0)` forwards
    /// nothing.
    pub bandwidth: Option<u64>,
}

/// The faults of both directions, published to every connection through a `watch` channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct FaultState {
    pub upstream: DirectionFaults,
    pub downstream: DirectionFaults,
}

impl FaultState {
    /// The faults of `dir`, which is `Upstream` or `Downstream`.
    pub fn get(&self, dir: Direction) -> &DirectionFaults {
        match dir {
            Direction::Downstream => &self.downstream,
            _ => &self.upstream,
        }
    }

    /// Applies `f` to every direction `dir` selects.
    pub fn update(&mut self, dir: Direction, f: impl Fn(&mut DirectionFaults)) {
        if dir.includes(Direction::Upstream) {
            f(&mut self.upstream);
        }
        if dir.includes(Direction::Downstream) {
            f(&mut self.downstream);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_selects_directions() {
        let mut s = FaultState::default();
        s.update(Direction::Upstream, |d| d.stalled = true);
        assert!(s.upstream.stalled && !s.downstream.stalled);
        s.update(Direction::Both, |d| d.bandwidth = Some(7));
        assert_eq!(s.get(Direction::Upstream).bandwidth, Some(7));
        assert_eq!(s.get(Direction::Downstream).bandwidth, Some(7));
        s.update(Direction::Downstream, |d| {
            d.latency = Duration::from_millis(3)
        });
        assert_eq!(s.upstream.latency, Duration::ZERO);
        assert_eq!(s.downstream.latency, Duration::from_millis(3));
    }
}
