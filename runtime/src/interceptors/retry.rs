//! Retries: exponential backoff with jitter, bounded by the call's deadline and by a retry
//! budget ([`Retry`] says which failures are retried).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;

use super::CodeSet;
use crate::protocol::{Code, Status};
use crate::rpc::streaming::Resume;
use crate::rpc::{
    ClientCall, ClientInput, ClientNext, ClientOutput, ClientOutputBody, Interceptor,
};

/// How a call is retried.
///
/// # Example
///
/// Five attempts with backoff from 20 ms, for a client's chain or for one call (a policy in
/// the request's extensions wins over the chain's):
///
/// ```
/// use std::time::Duration;
/// use connect_plugin::Request;
/// use connect_plugin::interceptors::{ClientChain, RetryPolicy};
///
/// let policy = RetryPolicy::default()
///     .with_max_attempts(5)
///     .with_backoff(Duration::from_millis(20), 2.0, Duration::from_secs(1));
/// let chain = ClientChain::new().retry(policy);
///
/// let mut once = Request::new(());
/// once.extensions_mut().insert(RetryPolicy::disabled());
/// # let _ = chain;
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (default 3; 1 turns retrying off).
    pub max_attempts: u32,
    /// The wait before the first retry (default 25 ms).
    pub initial_backoff: Duration,
    /// The factor the wait grows by after each retry (default 2).
    pub multiplier: f64,
    /// The longest wait (default 1 s).
    pub max_backoff: Duration,
    /// Randomisation of each wait, as a fraction: 0.2 waits between 80% and 120% of the
    /// backoff (default 0.2), so clients that failed together do not retry together.
    pub jitter: f64,
    /// Codes retried for idempotent and side-effect-free methods (default `unavailable`,
    /// `resource_exhausted`, `aborted`).
    pub retryable_codes: CodeSet,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(25),
            multiplier: 2.0,
            max_backoff: Duration::from_secs(1),
            jitter: 0.2,
            retryable_codes: CodeSet::of(&[
                Code::Unavailable,
                Code::ResourceExhausted,
                Code::Aborted,
            ]),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn disabled() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Sets the number of attempts (the first included).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the backoff: the first wait, its growth factor and its ceiling.
    pub fn with_backoff(mut self, initial: Duration, multiplier: f64, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.multiplier = multiplier.max(1.0);
        self.max_backoff = max;
        self
    }

    /// Sets the jitter fraction (clamped to 0..=1).
    pub fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter.clamp(0.0, 1.0);
        self
    }

    /// Whether `status`, the failure of a call to `method`, may be retried.
    pub fn should_retry(&self, method: &crate::rpc::MethodDescriptor, status: &Status) -> bool {
        status.is_unprocessed()
            || (method.idempotency.is_retry_safe() && self.retryable_codes.contains(status.code()))
    }

    /// The wait before retry number `retry` (1 for the first), jitter applied.
    fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .multiplier
            .powi(i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX));
        let base = (self.initial_backoff.as_secs_f64() * exp).min(self.max_backoff.as_secs_f64());
        let factor = 1.0 + self.jitter * (2.0 * fastrand::f64() - 1.0);
        Duration::from_secs_f64((base * factor).max(0.0))
    }
}

/// Limits retries to a share of the calls, so that when a plugin is down its clients do
/// not multiply the load (a retry storm): every call deposits `ratio` tokens, every retry
/// takes one, and `min_per_second` tokens a second keep a quiet client able to retry.
#[derive(Debug)]
pub struct RetryBudget {
    ratio: f64,
    min_per_second: f64,
    cap: f64,
    /// The tokens, an `f64`'s bits: every call adds to them, so they change without a lock.
    tokens: AtomicU64,
    /// When the time-based refill last ran (retries take this lock; calls do not).
    refilled: Mutex<Instant>,
}

impl Default for RetryBudget {
    /// Retries up to 20% of calls, and at least 10 a second.
    fn default() -> Self {
        RetryBudget::new(0.2, 10.0)
    }
}

impl RetryBudget {
    /// A budget allowing `ratio` retries per call (0.2: one retry per five calls) and at
    /// least `min_per_second` retries a second.
    pub fn new(ratio: f64, min_per_second: f64) -> Self {
        let ratio = ratio.max(0.0);
        let min_per_second = min_per_second.max(0.0);
        let cap = min_per_second.max(10.0);
        RetryBudget {
            ratio,
            min_per_second,
            cap,
            tokens: AtomicU64::new(cap.to_bits()),
            refilled: Mutex::new(Instant::now()),
        }
    }

    /// Changes the tokens with `f` (given the current count; `None` leaves them).
    fn update(&self, mut f: impl FnMut(f64) -> Option<f64>) -> bool {
        self.tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |bits| {
                f(f64::from_bits(bits)).map(f64::to_bits)
            })
            .is_ok()
    }

    /// Credits one call (nothing to do while the budget is full, as it is while calls
    /// succeed).
    fn deposit(&self) {
        let (ratio, cap) = (self.ratio, self.cap);
        self.update(|t| (t < cap).then(|| (t + ratio).min(cap)));
    }

    /// The tokens left (fractions count).
    pub fn available(&self) -> f64 {
        f64::from_bits(self.tokens.load(Ordering::Acquire))
    }

    /// Takes a token for one retry; false when the budget is spent.
    pub fn try_withdraw(&self) -> bool {
        let refill = {
            let Ok(mut last) = self.refilled.lock() else {
                return false;
            };
            let now = Instant::now();
            let refill = now.duration_since(*last).as_secs_f64() * self.min_per_second;
            *last = now;
            refill
        };
        let cap = self.cap;
        let mut took = false;
        self.update(|t| {
            let t = (t + refill).min(cap);
            took = t >= 1.0;
            Some(if took { t - 1.0 } else { t })
        });
        took
    }
}

/// The retry interceptor (client side): exponential backoff with jitter, bounded by the
/// call's deadline and by a retry budget, and only where a retry cannot do harm.
///
/// Which failures are retried:
/// - any method, when the request provably never reached a handler
///   ([`Status::is_unprocessed`]: connection refused, stream refused, the connection failed
///   before the request went out);
/// - methods the proto marks idempotent or side-effect-free, also on the policy's transient
///   codes (`unavailable`, `resource_exhausted`, `aborted` by default);
/// - nothing else. A call whose requests are a stream (client streaming, bidi) is never
///   retried here, since its messages cannot be sent again (the transport still resends
///   a request that never left, for every kind); a server-streaming call is retried only
///   when it fails before its response starts, so before its first message.
///
/// The policy of one call can be replaced by putting a [`RetryPolicy`] into the request's
/// extensions (`request.extensions_mut().insert(RetryPolicy::disabled())`).
#[derive(Debug, Clone)]
pub struct Retry {
    policy: RetryPolicy,
    budget: Arc<RetryBudget>,
}

impl From<RetryPolicy> for Retry {
    /// Retry with `policy` and a budget of its own.
    fn from(policy: RetryPolicy) -> Self {
        Retry::new(policy)
    }
}

impl Retry {
    /// Retries with `policy` and a default budget of its own.
    pub fn new(policy: RetryPolicy) -> Self {
        Retry::with_budget(policy, Arc::new(RetryBudget::default()))
    }

    /// Retries with `policy`, drawing on `budget` (share one budget between the clients of
    /// one endpoint).
    pub fn with_budget(policy: RetryPolicy, budget: Arc<RetryBudget>) -> Self {
        Retry { policy, budget }
    }

    /// The policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// The attempts of `call`, if it is one this interceptor retries (a unary request,
    /// more than one attempt allowed); counts the call in the budget either way.
    pub(super) fn attempts(&self, call: &ClientCall) -> Option<Attempts> {
        let policy = call
            .extensions
            .get::<RetryPolicy>()
            .copied()
            .unwrap_or(self.policy);
        self.budget.deposit();
        let message = match &call.input {
            ClientInput::Unary(m) if policy.max_attempts > 1 => m.clone(),
            _ => return None,
        };
        Some(Attempts {
            policy,
            budget: self.budget.clone(),
            deadline: call.timeout.map(|t| Instant::now() + t),
            done: 1,
            // The first attempt sends the call itself (its header map has room for the
            // transport's headers); the copy is for the attempts after it. An empty map is
            // not cloned: a clone would allocate for its reserved room.
            template: ClientCall {
                method: call.method,
                headers: if call.headers.is_empty() {
                    http::HeaderMap::new()
                } else {
                    call.headers.clone()
                },
                extensions: call.extensions.clone(),
                timeout: call.timeout,
                codec: call.codec,
                input: ClientInput::Unary(bytes::Bytes::new()),
            },
            message,
        })
    }
}

/// A call through a circuit breaker and retries, either of them optional (the interceptors
/// [`CircuitBreaker`](super::CircuitBreaker) and [`Retry`] alone, and both fused by
/// [`ClientChain`](super::ClientChain)): the breaker admits the call, the attempts run, the
/// breaker records the outcome.
pub(super) fn guard<'a>(
    breaker: Option<&'a super::CircuitBreaker>,
    retry: Option<&Retry>,
    call: ClientCall,
    next: ClientNext<'a>,
) -> BoxFuture<'a, Result<ClientOutput, Status>> {
    let permit = match breaker.map(|b| b.admit()).transpose() {
        Ok(permit) => permit,
        Err(open) => return Box::pin(std::future::ready(Err(open))),
    };
    let attempts = retry.and_then(|r| r.attempts(&call));
    if permit.is_none() && attempts.is_none() {
        // Neither recorded nor retried: straight on, without a future of its own.
        return next.run(call);
    }
    // Started here, so that the future below holds only what follows the first attempt;
    // retrying (waits, further attempts) stays out of line, and out of the size of that
    // future, which every call allocates.
    let first = next.run(call);
    Box::pin(Guarded {
        attempt: first,
        attempts,
        next,
        permit,
    })
}

/// A call's future behind the retry and circuit-breaker interceptors: the first attempt,
/// the attempts after it (if it failed and `attempts` allows another), then the outcome
/// recorded on the breaker's `permit`. Written out rather than as `async` blocks, one in
/// another: the response is then moved once instead of at every level of generated state,
/// on every call.
struct Guarded<'a> {
    attempt: BoxFuture<'a, Result<ClientOutput, Status>>,
    /// Until the first attempt ends; `None` for calls not retried.
    attempts: Option<Attempts>,
    next: ClientNext<'a>,
    permit: Option<super::breaker::Permit<'a>>,
}

impl std::future::Future for Guarded<'_> {
    type Output = Result<ClientOutput, Status>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            let result = std::task::ready!(this.attempt.as_mut().poll(cx));
            let result = match (result, this.attempts.take()) {
                (Ok(out), Some(attempts)) => Ok(attempts.resume_streams(out, this.next)),
                (Err(failed), Some(attempts)) => {
                    // Retrying stays out of line (its own future, made only when needed).
                    this.attempt = Box::pin(attempts.retry(failed, this.next));
                    continue;
                }
                (result, None) => result,
            };
            if let Some(permit) = this.permit.take() {
                permit.record_result(&result);
            }
            return std::task::Poll::Ready(result);
        }
    }
}

/// The state of one call's attempts.
pub(super) struct Attempts {
    policy: RetryPolicy,
    budget: Arc<RetryBudget>,
    deadline: Option<Instant>,
    /// Attempts made so far.
    done: u32,
    /// The call, its message aside.
    template: ClientCall,
    message: bytes::Bytes,
}

impl Attempts {
    /// After the first attempt failed with `failed`: the attempts that follow, as far as
    /// the policy, deadline and budget allow.
    async fn retry(
        mut self,
        mut failed: Status,
        next: ClientNext<'_>,
    ) -> Result<ClientOutput, Status> {
        loop {
            let Some(wait) = self.next_wait(&failed) else {
                return Err(failed);
            };
            tokio::time::sleep(wait).await;
            let Some(timeout) = self.time_left() else {
                return Err(failed);
            };
            match next.run(self.call(timeout)).await {
                Ok(out) => return Ok(self.resume_streams(out, next)),
                Err(e) => failed = e,
            }
        }
    }

    /// One attempt: the same method, metadata and message, with `timeout` left.
    fn call(&self, timeout: Option<Duration>) -> ClientCall {
        ClientCall {
            method: self.template.method,
            headers: self.template.headers.clone(),
            extensions: self.template.extensions.clone(),
            timeout,
            codec: self.template.codec,
            input: ClientInput::Unary(self.message.clone()),
        }
    }

    /// Whether to retry after `failed`: the wait before the next attempt (counted as made),
    /// or `None`.
    fn next_wait(&mut self, failed: &Status) -> Option<Duration> {
        let method = &self.template.method;
        if self.done >= self.policy.max_attempts || !self.policy.should_retry(method, failed) {
            return None;
        }
        let wait = self.policy.backoff(self.done);
        // Never sleep past the deadline: a retry that could not start in time would only
        // turn this error into deadline_exceeded.
        if self.deadline.is_some_and(|d| Instant::now() + wait >= d) {
            return None;
        }
        if !self.budget.try_withdraw() {
            tracing::debug!(method = method.path, "retry budget spent; not retrying");
            return None;
        }
        tracing::debug!(method = method.path, attempt = self.done, code = %failed.code(), ?wait, "retrying");
        self.done += 1;
        Some(wait)
    }

    /// The time left for the next attempt: `Some(None)` without a deadline, `None` when
    /// none is left.
    fn time_left(&self) -> Option<Option<Duration>> {
        match self.deadline {
            None => Some(None),
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                (!left.is_zero()).then_some(Some(left))
            }
        }
    }

    /// A server stream that fails before its first message starts the call again (within
    /// the same attempts, backoff, deadline and budget).
    fn resume_streams(mut self, out: ClientOutput, next: ClientNext<'_>) -> ClientOutput {
        let ClientOutput {
            headers,
            body: ClientOutputBody::Stream(raw),
        } = out
        else {
            return out;
        };
        let next = next.to_owned_next();
        let resume: Resume = Box::new(move |failed: &Status| {
            let wait = self.next_wait(failed)?;
            let mut call = self.call(None);
            let deadline = self.deadline;
            let next = next.clone();
            Some(Box::pin(async move {
                tokio::time::sleep(wait).await;
                if let Some(d) = deadline {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(Status::deadline_exceeded("the call's deadline passed"));
                    }
                    call.timeout = Some(left);
                }
                next.run(call).await
            }))
        });
        ClientOutput {
            headers,
            body: ClientOutputBody::Stream(Box::new(raw.resume_with(resume))),
        }
    }
}

impl Interceptor for Retry {
    fn intercept_client<'a>(
        &'a self,
        call: ClientCall,
        next: ClientNext<'a>,
    ) -> BoxFuture<'a, Result<ClientOutput, Status>> {
        guard(None, Some(self), call, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_ceiling_within_the_jitter() {
        let p = RetryPolicy::default().with_backoff(
            Duration::from_millis(100),
            2.0,
            Duration::from_millis(350),
        );
        for _ in 0..100 {
            let first = p.backoff(1).as_secs_f64();
            assert!((0.08..=0.12).contains(&first), "{first}");
            let second = p.backoff(2).as_secs_f64();
            assert!((0.16..=0.24).contains(&second), "{second}");
            let capped = p.backoff(10).as_secs_f64();
            assert!((0.28..=0.42).contains(&capped), "{capped}");
        }
        let exact = p.with_jitter(0.0);
        assert_eq!(exact.backoff(3), Duration::from_millis(350));
    }

    #[test]
    fn the_budget_allows_a_share_of_calls() {
        let budget = RetryBudget::new(0.5, 0.0);
        // It starts full (10 tokens), so drain it first.
        while budget.try_withdraw() {}
        for _ in 0..10 {
            budget.deposit();
        }
        let mut retries = 0;
        while budget.try_withdraw() {
            retries += 1;
        }
        assert_eq!(retries, 5, "10 calls at 0.5 buy 5 retries");
    }

    #[test]
    fn deposits_from_many_threads_are_all_counted() {
        // 2^-10 a call: sums of it are exact in an f64.
        let budget = Arc::new(RetryBudget::new(1.0 / 1024.0, 0.0));
        while budget.try_withdraw() {}
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let budget = budget.clone();
                std::thread::spawn(move || {
                    for _ in 0..1024 {
                        budget.deposit();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let left = budget.available();
        assert_eq!(left, 4.0, "4096 calls at 1/1024");
        let mut retries = 0;
        while budget.try_withdraw() {
            retries += 1;
        }
        assert_eq!(retries, 4);
    }

    #[test]
    fn only_safe_failures_are_retried() {
        use crate::protocol::StreamType;
        use crate::rpc::{Idempotency, MethodDescriptor};
        let p = RetryPolicy::default();
        let plain = MethodDescriptor::new("/s/Put", StreamType::Unary, Idempotency::Unknown);
        let idem = MethodDescriptor::new("/s/Get", StreamType::Unary, Idempotency::NoSideEffects);
        let unavailable = Status::unavailable("down");
        assert!(!p.should_retry(&plain, &unavailable), "may have run");
        assert!(p.should_retry(&idem, &unavailable));
        assert!(p.should_retry(&plain, &unavailable.clone().into_unprocessed()));
        assert!(!p.should_retry(&idem, &Status::invalid_argument("no")));
        assert!(!p.should_retry(&idem, &Status::deadline_exceeded("late")));
    }
}
