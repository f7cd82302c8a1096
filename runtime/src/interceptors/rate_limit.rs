//! Rate limiting per caller: a token bucket (GCRA, from the `governor` crate) for each key,
//! refilled at a steady rate up to a burst. A call over its key's limit is refused with
//! `resource_exhausted`, a message saying when to retry, a `google.rpc.RetryInfo` detail
//! and a `retry-after` header (whole seconds).
//!
//! The key of a call ([`RateKey`]) is, in order:
//! 1. the authenticated [`Identity`](super::auth::Identity)'s principal, when an auth interceptor ran first (add
//!    the [`Authenticator`](super::auth::Authenticator) before the rate limiter);
//! 2. the runtime id header (`connect-plugin-runtime-id` by default), when present — meant
//!    for callers the server already trusts, such as the host's router forwarding calls for
//!    its plugins; any caller can set a header, so turn it off
//!    ([`RateLimitConfig::runtime_id_header`]) where callers are not trusted;
//! 3. the peer's IP address — never the port, so all connections from one address share a
//!    bucket; IPv6 addresses by their /64 prefix, which is what one host usually holds;
//! 4. otherwise one key shared by every Unix-socket and in-memory peer.
//!
//! Memory stays bounded: every [`RateLimitConfig::sweep_every`] calls the limiter drops
//! the keys whose buckets are full again (idle callers, indistinguishable from new ones),
//! and it never holds more than [`RateLimitConfig::max_keys`] keys — while the table is
//! full, callers not in it share one overflow bucket (and the table is swept early).
//!
//! A streaming call counts once, when it starts, however many messages it carries.
//!
//! Time is the system's monotonic clock; tests make a limiter on a [`ManualClock`]
//! ([`RateLimit::with_clock`]) and advance it by hand instead of sleeping.

use std::net::{IpAddr, Ipv6Addr};
use std::num::{NonZeroU32, NonZeroU64};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::future::BoxFuture;
use governor::clock::Clock as _;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use http::{HeaderName, HeaderValue};

mod clock;
mod store;

use clock::LimiterClock;
pub use clock::ManualClock;
use store::CappedStore;

use super::auth::IdentityExt as _;
use crate::protocol::rpc_details::RetryInfo;
use crate::protocol::{ErrorDetail, Status};
use crate::rpc::{Interceptor, PeerAddr, ServerCall, ServerNext, ServerOutput};

/// The header whose value keys calls that carry no authenticated identity, by default.
pub const DEFAULT_RUNTIME_ID_HEADER: HeaderName =
    HeaderName::from_static("connect-plugin-runtime-id");

/// The longest runtime id used as a key; a longer header is ignored (the call is keyed by
/// its peer address instead), so that one key costs little memory.
pub const MAX_RUNTIME_ID_LEN: usize = 128;

/// Who a call is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RateKey {
    /// An authenticated principal.
    Principal(Arc<str>),
    /// The value of the runtime id header.
    RuntimeId(Box<[u8]>),
    /// A peer's IP address (an IPv6 address as its /64 prefix).
    Ip(IpAddr),
    /// Every Unix-socket and in-memory peer, and calls without a known peer.
    Local,
    /// New callers while the key table is full.
    Overflow,
}

impl RateKey {
    /// For the refusal's message: whose limit it is (never a secret).
    fn describe(&self) -> String {
        match self {
            RateKey::Principal(p) => format!("principal {p}"),
            RateKey::RuntimeId(_) => "this runtime id".to_owned(),
            RateKey::Ip(ip) => format!("address {ip}"),
            RateKey::Local => "local peers".to_owned(),
            RateKey::Overflow => "new callers while the limiter's key table is full".to_owned(),
        }
    }
}

/// The key of a peer address: its IP (IPv4-mapped IPv6 as IPv4, other IPv6 by /64).
fn ip_key(ip: IpAddr) -> RateKey {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            RateKey::Ip(IpAddr::V6(Ipv6Addr::from(prefix)))
        }
        v4 => RateKey::Ip(v4),
    }
}

/// How fast calls may come, how many keys to keep, and where keys come from.
#[derive(Debug, Clone)]
pub struct RateLimitConfig {
    quota: Quota,
    max_keys: usize,
    sweep_every: NonZeroU64,
    runtime_id_header: Option<HeaderName>,
}

impl RateLimitConfig {
    /// `calls` per second for each key, with a burst of as many.
    pub fn per_second(calls: NonZeroU32) -> Self {
        RateLimitConfig::from_quota(Quota::per_second(calls))
    }

    /// One call per `period` for each key, with a burst of one; `None` for a zero period.
    pub fn per_period(period: Duration) -> Option<Self> {
        Quota::with_period(period).map(RateLimitConfig::from_quota)
    }

    fn from_quota(quota: Quota) -> Self {
        RateLimitConfig {
            quota,
            max_keys: 100_000,
            sweep_every: NonZeroU64::new(1024).unwrap_or(NonZeroU64::MIN),
            runtime_id_header: Some(DEFAULT_RUNTIME_ID_HEADER),
        }
    }

    /// Lets a key make up to `burst` calls at once after being idle (the bucket's size).
    pub fn burst(mut self, burst: NonZeroU32) -> Self {
        self.quota = self.quota.allow_burst(burst);
        self
    }

    /// The most keys kept at once (default 100 000; at least 1). While the table is full,
    /// callers not in it share one bucket.
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys.max(1);
        self
    }

    /// Drops idle keys every `calls` calls (default 1024).
    pub fn sweep_every(mut self, calls: NonZeroU64) -> Self {
        self.sweep_every = calls;
        self
    }

    /// The header keying calls without an authenticated identity (default
    /// `connect-plugin-runtime-id`); `None` to key them by peer address only.
    pub fn runtime_id_header(mut self, header: Option<HeaderName>) -> Self {
        self.runtime_id_header = header;
        self
    }

    /// Time for one call's worth of the bucket to refill.
    pub fn replenish_interval(&self) -> Duration {
        self.quota.replenish_interval()
    }

    /// The bucket's size.
    pub fn burst_size(&self) -> NonZeroU32 {
        self.quota.burst_size()
    }
}

struct Inner {
    limiter: RateLimiter<RateKey, CappedStore, LimiterClock, NoOpMiddleware<Nanos>>,
    /// The limiter's table.
    keys: Arc<DashMapStateStore<RateKey>>,
    runtime_id_header: Option<HeaderName>,
    sweep_every: u64,
    calls: AtomicU64,
    /// The value of `calls` at the last sweep.
    last_sweep: AtomicU64,
    overflowing: Arc<AtomicBool>,
}

/// The rate-limiting server interceptor. Clones share one table of keys.
///
/// # Example
///
/// Ten calls a second per caller, with bursts of twenty, on a router (put it after the
/// authenticator, so callers are told apart by their identity):
///
/// ```
/// use std::num::NonZeroU32;
/// use connect_plugin::Router;
/// use connect_plugin::interceptors::rate_limit::{RateLimit, RateLimitConfig};
///
/// let ten = NonZeroU32::new(10).unwrap();
/// let limit = RateLimit::new(RateLimitConfig::per_second(ten).burst(ten.saturating_mul(ten)));
/// let router = Router::new().interceptor(limit.clone());
/// assert_eq!(limit.key_count(), 0);
/// # let _ = router;
/// ```
pub struct RateLimit {
    inner: Arc<Inner>,
}

impl Clone for RateLimit {
    fn clone(&self) -> Self {
        RateLimit {
            inner: self.inner.clone(),
        }
    }
}

impl std::fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit")
            .field("keys", &self.inner.limiter.len())
            .finish_non_exhaustive()
    }
}

impl RateLimit {
    /// A rate limiter on the system's monotonic clock.
    pub fn new(config: RateLimitConfig) -> Self {
        RateLimit::on(config, LimiterClock::system())
    }

    /// A rate limiter whose time is `clock`'s, which stands still until advanced: for
    /// tests (see [`ManualClock`]'s example). Keep a clone of `clock` to advance it.
    pub fn with_clock(config: RateLimitConfig, clock: ManualClock) -> Self {
        RateLimit::on(config, LimiterClock::Manual(clock))
    }

    fn on(config: RateLimitConfig, clock: LimiterClock) -> Self {
        let overflowing = Arc::new(AtomicBool::new(false));
        let keys = Arc::new(DashMapStateStore::default());
        let store = CappedStore {
            map: keys.clone(),
            max_keys: config.max_keys,
            overflowing: overflowing.clone(),
        };
        RateLimit {
            inner: Arc::new(Inner {
                limiter: RateLimiter::new(config.quota, store, clock),
                keys,
                runtime_id_header: config.runtime_id_header,
                sweep_every: config.sweep_every.get(),
                calls: AtomicU64::new(0),
                last_sweep: AtomicU64::new(0),
                overflowing,
            }),
        }
    }

    /// How many keys the limiter holds now.
    pub fn key_count(&self) -> usize {
        self.inner.limiter.len()
    }

    /// Drops the keys whose buckets are full (idle callers) and gives back their memory.
    /// Runs by itself every `sweep_every` calls.
    pub fn sweep(&self) {
        let before = self.inner.limiter.len();
        self.inner.limiter.retain_recent();
        self.inner.limiter.shrink_to_fit();
        if self.inner.overflowing.swap(false, Ordering::Relaxed) {
            tracing::warn!(
                keys = before,
                "rate limiter key table was full; new callers shared one bucket"
            );
        }
        tracing::trace!(
            before,
            after = self.inner.limiter.len(),
            "rate limiter swept idle keys"
        );
    }

    /// The key `call` is counted against.
    pub fn key_of(&self, call: &ServerCall) -> RateKey {
        if let Some(identity) = call.identity() {
            return RateKey::Principal(identity.principal_shared());
        }
        if let Some(name) = &self.inner.runtime_id_header {
            if let Some(id) = call.headers.get(name).filter(|v| usable_runtime_id(v)) {
                return RateKey::RuntimeId(id.as_bytes().into());
            }
        }
        match call.peer() {
            Some(PeerAddr::Tcp(addr)) => ip_key(addr.ip()),
            _ => RateKey::Local,
        }
    }

    /// Counts `call` against its key: `Ok` if it is within the limit, else the
    /// `resource_exhausted` status to refuse it with.
    pub fn check(&self, call: &ServerCall) -> Result<(), Status> {
        self.housekeeping();
        let key = self.key_of(call);
        let Err(not_until) = self.inner.limiter.check_key(&key) else {
            return Ok(());
        };
        let wait = not_until.wait_time_from(self.inner.limiter.clock().now());
        // A key not in the table was measured against the overflow bucket.
        let key = if self.inner.keys.contains_key(&key) {
            key
        } else {
            RateKey::Overflow
        };
        tracing::debug!(
            method = call.method.path,
            key = %key.describe(),
            ?wait,
            "call refused: rate limited"
        );
        Err(exhausted(&key, wait))
    }

    /// Sweeps every `sweep_every` calls, and early while callers overflow (at most once
    /// per sixteenth of the table's size in calls, so a flood of new keys costs O(1) a call).
    fn housekeeping(&self) {
        let inner = &self.inner;
        let n = inner.calls.fetch_add(1, Ordering::Relaxed) + 1;
        let last = inner.last_sweep.load(Ordering::Relaxed);
        let since = n.saturating_sub(last);
        let due = since >= inner.sweep_every
            || (inner.overflowing.load(Ordering::Relaxed)
                && since >= (inner.limiter.len() as u64 / 16).max(1));
        // One caller sweeps; the others go on.
        if due
            && inner
                .last_sweep
                .compare_exchange(last, n, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.sweep();
        }
    }
}

fn usable_runtime_id(value: &HeaderValue) -> bool {
    !value.is_empty() && value.len() <= MAX_RUNTIME_ID_LEN
}

fn exhausted(key: &RateKey, wait: Duration) -> Status {
    let millis = wait.as_millis().max(1);
    let mut status = Status::resource_exhausted(format!(
        "rate limit exceeded for {}; retry in {millis} ms",
        key.describe()
    ))
    .with_detail(ErrorDetail::new(
        "google.rpc.RetryInfo",
        prost::Message::encode_to_vec(&RetryInfo {
            retry_delay: Some(pbjson_types::Duration {
                seconds: i64::try_from(wait.as_secs()).unwrap_or(i64::MAX),
                nanos: i32::try_from(wait.subsec_nanos()).unwrap_or(0),
            }),
        }),
    ));
    // HTTP's own hint, in whole seconds, rounded up.
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    status
        .headers_mut()
        .insert(http::header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    status
}

impl Interceptor for RateLimit {
    fn intercept_server<'a>(
        &'a self,
        call: ServerCall,
        next: ServerNext<'a>,
    ) -> BoxFuture<'a, Result<ServerOutput, Status>> {
        match self.check(&call) {
            Ok(()) => next.run(call),
            Err(status) => Box::pin(std::future::ready(Err(status))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use http::{Extensions, HeaderMap};

    use super::*;
    use crate::protocol::{Codec, Protocol, StreamType};
    use crate::rpc::{Idempotency, MethodDescriptor, ServerInput};

    const M: MethodDescriptor =
        MethodDescriptor::new("/t.v1.T/M", StreamType::Unary, Idempotency::Unknown);

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    fn call(
        peer: Option<PeerAddr>,
        identity: Option<&str>,
        runtime_id: Option<&str>,
    ) -> ServerCall {
        let extensions = Extensions::new();
        let mut headers = HeaderMap::new();
        if let Some(id) = runtime_id {
            headers.insert(
                DEFAULT_RUNTIME_ID_HEADER,
                HeaderValue::from_str(id).unwrap(),
            );
        }
        let mut call = ServerCall::new(
            M,
            Protocol::Connect,
            Codec::Proto,
            ServerInput::Unary(bytes::Bytes::new()),
        );
        call.headers = headers;
        call.extensions = extensions;
        call.connection = peer.map(|p| std::sync::Arc::new(crate::transport::Connection::new(p)));
        call.identity = identity.map(crate::interceptors::auth::Identity::new);
        call
    }

    fn tcp(s: &str) -> Option<PeerAddr> {
        Some(PeerAddr::Tcp(s.parse::<SocketAddr>().unwrap()))
    }

    #[test]
    fn keys_follow_identity_then_runtime_id_then_ip() {
        let rl = RateLimit::new(RateLimitConfig::per_second(nz(1)));
        let key = |peer, id, rid| rl.key_of(&call(peer, id, rid));
        assert_eq!(
            key(tcp("10.0.0.1:1"), Some("alice"), Some("r1")),
            RateKey::Principal("alice".into())
        );
        assert_eq!(
            key(tcp("10.0.0.1:1"), None, Some("r1")),
            RateKey::RuntimeId((*b"r1").into())
        );
        // Ports never matter.
        assert_eq!(
            key(tcp("10.0.0.1:1"), None, None),
            key(tcp("10.0.0.1:2"), None, None)
        );
        assert_eq!(
            key(tcp("10.0.0.1:1"), None, None),
            RateKey::Ip("10.0.0.1".parse().unwrap())
        );
        // IPv4-mapped IPv6 is the IPv4 address; IPv6 counts by /64.
        assert_eq!(
            key(tcp("[::ffff:10.0.0.1]:5"), None, None),
            RateKey::Ip("10.0.0.1".parse().unwrap())
        );
        assert_eq!(
            key(tcp("[2001:db8:1:2:aaaa::1]:5"), None, None),
            key(tcp("[2001:db8:1:2:bbbb::9]:6"), None, None)
        );
        assert_ne!(
            key(tcp("[2001:db8:1:2::1]:5"), None, None),
            key(tcp("[2001:db8:1:3::1]:5"), None, None)
        );
        // Unix sockets, memory links and unknown peers share one key.
        assert_eq!(key(Some(PeerAddr::Unix(None)), None, None), RateKey::Local);
        assert_eq!(key(Some(PeerAddr::Memory), None, None), RateKey::Local);
        assert_eq!(key(None, None, None), RateKey::Local);
        // Too long or empty runtime ids are ignored.
        let long = "x".repeat(MAX_RUNTIME_ID_LEN + 1);
        assert_eq!(
            key(tcp("10.0.0.1:1"), None, Some(&long)),
            key(tcp("10.0.0.1:1"), None, None)
        );
        assert_eq!(
            key(tcp("10.0.0.1:1"), None, Some("")),
            key(tcp("10.0.0.1:1"), None, None)
        );

        // Without the header option, runtime ids are not looked at.
        let ip_only = RateLimit::new(RateLimitConfig::per_second(nz(1)).runtime_id_header(None));
        assert_eq!(
            ip_only.key_of(&call(tcp("10.0.0.1:1"), None, Some("r1"))),
            RateKey::Ip("10.0.0.1".parse().unwrap())
        );
    }

    #[test]
    fn burst_then_refused_with_a_retry_hint_then_refilled() {
        let clock = ManualClock::new();
        let rl = RateLimit::with_clock(
            RateLimitConfig::per_second(nz(10)).burst(nz(3)),
            clock.clone(),
        );
        let c = call(tcp("10.0.0.1:1"), None, None);
        for _ in 0..3 {
            rl.check(&c).unwrap();
        }
        let refused = rl.check(&c).unwrap_err();
        assert_eq!(refused.code(), crate::Code::ResourceExhausted);
        assert_eq!(
            refused.message(),
            "rate limit exceeded for address 10.0.0.1; retry in 100 ms"
        );
        let hint = refused.details()[0].clone();
        assert_eq!(hint.type_name(), "google.rpc.RetryInfo");
        let info = <RetryInfo as prost::Message>::decode(hint.value().clone()).unwrap();
        let delay = info.retry_delay.unwrap();
        assert_eq!((delay.seconds, delay.nanos), (0, 100_000_000));
        assert_eq!(refused.headers().get("retry-after").unwrap(), "1");

        // Another key is not affected.
        rl.check(&call(tcp("10.0.0.2:1"), None, None)).unwrap();

        clock.advance(Duration::from_millis(99));
        assert!(rl.check(&c).is_err());
        clock.advance(Duration::from_millis(1));
        rl.check(&c).unwrap();
        assert!(rl.check(&c).is_err());
    }

    #[test]
    fn idle_keys_are_swept_and_the_table_is_capped() {
        let clock = ManualClock::new();
        let rl = RateLimit::with_clock(
            RateLimitConfig::per_second(nz(10))
                .burst(nz(2))
                .max_keys(3)
                .sweep_every(NonZeroU64::new(1_000_000).unwrap()),
            clock.clone(),
        );
        for i in 0..3 {
            rl.check(&call(tcp(&format!("10.0.0.{i}:1")), None, None))
                .unwrap();
        }
        assert_eq!(rl.key_count(), 3);
        // Full: a fourth and a fifth caller share the overflow bucket (burst 2).
        rl.check(&call(tcp("10.0.1.1:1"), None, None)).unwrap();
        rl.check(&call(tcp("10.0.1.2:1"), None, None)).unwrap();
        let e = rl.check(&call(tcp("10.0.1.3:1"), None, None)).unwrap_err();
        assert!(e.message().contains("key table is full"), "{e:?}");
        assert_eq!(rl.key_count(), 4); // three callers and the overflow bucket
        // Callers already in the table are unaffected.
        rl.check(&call(tcp("10.0.0.0:1"), None, None)).unwrap();

        // Keys are swept once idle long enough to be indistinguishable from new ones
        // (governor keeps a key one emission interval past its bucket refilling): the
        // keys used once go first, those used twice later.
        clock.advance(Duration::from_millis(100));
        rl.sweep();
        assert_eq!(rl.key_count(), 4);
        clock.advance(Duration::from_millis(100));
        rl.sweep();
        assert_eq!(rl.key_count(), 2); // 10.0.0.0 and the overflow bucket
        clock.advance(Duration::from_millis(99));
        rl.sweep();
        assert_eq!(rl.key_count(), 2);
        clock.advance(Duration::from_millis(1));
        rl.sweep();
        assert_eq!(rl.key_count(), 0);
        rl.check(&call(tcp("10.0.1.3:1"), None, None)).unwrap();
        assert_eq!(rl.key_count(), 1);
    }

    #[test]
    fn overflow_triggers_an_early_sweep() {
        let clock = ManualClock::new();
        let rl = RateLimit::with_clock(
            RateLimitConfig::per_second(nz(1000))
                .burst(nz(1))
                .max_keys(2)
                .sweep_every(NonZeroU64::new(1_000_000).unwrap()),
            clock.clone(),
        );
        rl.check(&call(tcp("10.0.0.1:1"), None, None)).unwrap();
        rl.check(&call(tcp("10.0.0.2:1"), None, None)).unwrap();
        clock.advance(Duration::from_secs(1));
        // The table is full of idle keys: this caller overflows, which schedules a sweep...
        rl.check(&call(tcp("10.0.0.3:1"), None, None)).unwrap();
        // ...that the next call runs, making room for it.
        rl.check(&call(tcp("10.0.0.4:1"), None, None)).unwrap();
        assert!(rl.key_count() <= 2, "{}", rl.key_count());
        assert!(!rl.inner.overflowing.load(Ordering::Relaxed));
    }

    #[test]
    fn periodic_sweep_runs_every_n_calls() {
        let clock = ManualClock::new();
        let rl = RateLimit::with_clock(
            RateLimitConfig::per_second(nz(10))
                .burst(nz(1))
                .sweep_every(NonZeroU64::new(4).unwrap()),
            clock.clone(),
        );
        for i in 0..3 {
            rl.check(&call(tcp(&format!("10.0.0.{i}:1")), None, None))
                .unwrap();
        }
        assert_eq!(rl.key_count(), 3);
        clock.advance(Duration::from_secs(1));
        // The fourth call sweeps the three idle keys before counting itself.
        rl.check(&call(tcp("10.0.0.9:1"), None, None)).unwrap();
        assert_eq!(rl.key_count(), 1);
        assert!(RateLimitConfig::per_period(Duration::ZERO).is_none());
        let cfg = RateLimitConfig::per_period(Duration::from_secs(60)).unwrap();
        assert_eq!(cfg.replenish_interval(), Duration::from_secs(60));
        assert_eq!(cfg.burst_size(), nz(1));
    }
}
