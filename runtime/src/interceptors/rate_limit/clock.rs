//! The limiter's time: the system's monotonic clock, or a [`ManualClock`] that tests
//! advance by hand. Both read as nanoseconds since an origin, the one reference type the
//! limiter is built on, so `RateLimit` is one type whichever clock it runs on.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governor::clock::Clock;
use governor::nanos::Nanos;

/// A clock that stands still until advanced, for tests that control time; clones share it.
///
/// Time starts at zero and only moves by [`advance`](ManualClock::advance), so a test
/// never sleeps. Give one to [`RateLimit::with_clock`](super::RateLimit::with_clock) and
/// keep a clone to advance.
///
/// # Example
///
/// ```
/// use std::num::NonZeroU32;
/// use std::time::Duration;
/// use connect_plugin::Code;
/// use connect_plugin::interceptors::rate_limit::{ManualClock, RateLimit, RateLimitConfig};
/// # use connect_plugin::rpc::{Idempotency, MethodDescriptor, ServerCall, ServerInput};
/// # use connect_plugin::{Codec, Protocol, StreamType};
/// # let call = ServerCall::new(
/// #     MethodDescriptor::new("/t.v1.T/M", StreamType::Unary, Idempotency::Unknown),
/// #     Protocol::Connect,
/// #     Codec::Proto,
/// #     ServerInput::Unary(bytes::Bytes::new()),
/// # );
///
/// // Ten calls a second with a burst of one: one call per 100 ms.
/// let clock = ManualClock::new();
/// let limit = RateLimit::with_clock(
///     RateLimitConfig::per_second(NonZeroU32::new(10).unwrap()).burst(NonZeroU32::MIN),
///     clock.clone(),
/// );
/// // `call` is a `ServerCall` from no known peer.
/// assert!(limit.check(&call).is_ok());
/// let refused = limit.check(&call).unwrap_err();
/// assert_eq!(refused.code(), Code::ResourceExhausted);
/// assert_eq!(refused.message(), "rate limit exceeded for local peers; retry in 100 ms");
///
/// clock.advance(Duration::from_millis(99));
/// assert!(limit.check(&call).is_err());
/// clock.advance(Duration::from_millis(1));
/// assert!(limit.check(&call).is_ok());
/// assert_eq!(clock.elapsed(), Duration::from_millis(100));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at zero.
    pub fn new() -> Self {
        ManualClock::default()
    }

    /// Moves the clock (and every clone of it) forward by `by`; it stops at about 584
    /// years, the most nanoseconds a `u64` holds.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        // Never fails: the closure always answers `Some`.
        let _ = self
            .nanos
            .fetch_update(Ordering::Release, Ordering::Relaxed, |now| {
                Some(now.saturating_add(by))
            });
    }

    /// How far the clock has been advanced since it was made.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.nanos())
    }

    fn nanos(&self) -> u64 {
        self.nanos.load(Ordering::Acquire)
    }
}

/// The clock a limiter runs on: the system's monotonic clock (time since the limiter was
/// made), or a [`ManualClock`]. One type with a branch rather than a type parameter, so
/// that no clock type of governor's shows in `RateLimit`'s signature.
#[derive(Debug, Clone)]
pub(super) enum LimiterClock {
    /// `std::time::Instant`, read as the time since this origin.
    System(Instant),
    /// Advanced by hand.
    Manual(ManualClock),
}

impl LimiterClock {
    /// The system's monotonic clock, starting now.
    pub(super) fn system() -> Self {
        LimiterClock::System(Instant::now())
    }
}

impl Clock for LimiterClock {
    type Instant = Nanos;

    #[inline]
    fn now(&self) -> Nanos {
        match self {
            // Saturates rather than panics past ~584 years of uptime.
            LimiterClock::System(origin) => {
                Nanos::new(u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX))
            }
            LimiterClock::Manual(clock) => Nanos::new(clock.nanos()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_is_shared_by_clones_and_saturates() {
        let clock = ManualClock::new();
        let limiter_clock = LimiterClock::Manual(clock.clone());
        assert_eq!(limiter_clock.now(), Nanos::new(0));
        clock.clone().advance(Duration::from_millis(3));
        assert_eq!(limiter_clock.now(), Nanos::new(3_000_000));
        assert_eq!(clock.elapsed(), Duration::from_millis(3));
        clock.advance(Duration::MAX);
        assert_eq!(limiter_clock.now(), Nanos::new(u64::MAX));
    }

    #[test]
    fn system_clock_counts_from_its_origin() {
        let clock = LimiterClock::system();
        let a = clock.now();
        let b = clock.now();
        assert!(b >= a);
        assert!(a.as_u64() < Duration::from_secs(60).as_nanos() as u64);
    }
}
