//! Circuit breaking: stop calling an endpoint that keeps failing, fail fast instead, and
//! probe it again after a cool-down ([`CircuitBreaker`]).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use tokio::sync::{broadcast, watch};

use super::CodeSet;
use crate::protocol::{Code, Status};
use crate::rpc::{ClientCall, ClientNext, ClientOutput, Interceptor};

/// When a breaker opens and how it recovers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    /// Failures in a row that open the breaker (default 5).
    pub consecutive_failures: u32,
    /// The failure rate over the window that opens the breaker (default 0.5).
    pub failure_rate: f64,
    /// How many of the latest calls the rate is taken over (default 20).
    pub window: u32,
    /// Calls the window must hold before the rate counts (default 10).
    pub min_calls: u32,
    /// How long the breaker stays open before trial calls (default 5 s).
    pub cool_down: Duration,
    /// Trial calls at once while half-open (default 1).
    pub half_open_max_calls: u32,
    /// Successful trials that close the breaker (default 1).
    pub successes_to_close: u32,
    /// The codes that count as the endpoint failing (default `unavailable`,
    /// `deadline_exceeded`, `internal`, `unknown`, `data_loss`); others (`not_found`,
    /// `invalid_argument` …) are answers, and count as successes.
    pub failure_codes: CodeSet,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            consecutive_failures: 5,
            failure_rate: 0.5,
            window: 20,
            min_calls: 10,
            cool_down: Duration::from_secs(5),
            half_open_max_calls: 1,
            successes_to_close: 1,
            failure_codes: CodeSet::of(&[
                Code::Unavailable,
                Code::DeadlineExceeded,
                Code::Internal,
                Code::Unknown,
                Code::DataLoss,
            ]),
        }
    }
}

/// Where a breaker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakerState {
    /// Calls pass.
    Closed,
    /// Calls fail fast.
    Open,
    /// A few trial calls pass.
    HalfOpen,
}

/// A change of state.
#[derive(Debug, Clone, PartialEq)]
pub struct StateChange {
    /// The breaker's name.
    pub name: String,
    /// The state before.
    pub from: BreakerState,
    /// The state now.
    pub to: BreakerState,
    /// Why, in words.
    pub reason: String,
}

struct Inner {
    state: BreakerState,
    consecutive: u32,
    window: VecDeque<bool>,
    failures: u32,
    opened_at: Instant,
    trials: u32,
    trial_successes: u32,
}

/// Circuit breaking: stop calling an endpoint that keeps failing, fail fast instead, and
/// probe it again after a cool-down.
///
/// Closed (calls pass, outcomes counted) → open after `consecutive_failures` failures in a
/// row or a failure rate of `failure_rate` over the last `window` calls (once `min_calls`
/// are in) → every call fails at once with `unavailable` → after `cool_down`, half-open:
/// up to `half_open_max_calls` trial calls pass; `successes_to_close` successes close the
/// breaker, one failure opens it again. Each change is a `tracing` event and reaches
/// [`CircuitBreaker::watch`] and [`CircuitBreaker::subscribe`].
///
/// A circuit breaker for one endpoint (or plugin), usable as a client [`Interceptor`].
///
/// # Example
///
/// One breaker shared by every client of an endpoint, opened after five failures in a row
/// and tried again after ten seconds:
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use connect_plugin::interceptors::{BreakerConfig, BreakerState, CircuitBreaker, ClientChain};
///
/// let breaker = Arc::new(CircuitBreaker::new("inventory", BreakerConfig {
///     consecutive_failures: 5,
///     cool_down: Duration::from_secs(10),
///     ..BreakerConfig::default()
/// }));
/// let chain = ClientChain::new().circuit_breaker(breaker.clone());
/// assert_eq!(breaker.state(), BreakerState::Closed);
/// # let _ = chain;
/// ```
pub struct CircuitBreaker {
    name: String,
    config: BreakerConfig,
    inner: Mutex<Inner>,
    /// The state is `Closed` (mirrors `inner.state`, read without the lock by `admit`).
    closed: AtomicBool,
    /// Closed, with a full window of successes and no failure in a row: another success
    /// changes nothing, so it is recorded without the lock.
    clean: AtomicBool,
    state: watch::Sender<BreakerState>,
    events: broadcast::Sender<StateChange>,
}

impl std::fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.name)
            .field("state", &self.state())
            .finish()
    }
}

impl CircuitBreaker {
    /// A closed breaker named `name` (in its errors and events).
    pub fn new(name: impl Into<String>, config: BreakerConfig) -> Self {
        CircuitBreaker {
            name: name.into(),
            config,
            inner: Mutex::new(Inner {
                state: BreakerState::Closed,
                consecutive: 0,
                window: VecDeque::with_capacity(config.window as usize),
                failures: 0,
                opened_at: Instant::now(),
                trials: 0,
                trial_successes: 0,
            }),
            closed: AtomicBool::new(true),
            clean: AtomicBool::new(false),
            state: watch::channel(BreakerState::Closed).0,
            events: broadcast::channel(64).0,
        }
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The configuration.
    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        *self.state.borrow()
    }

    /// The state as it changes (`wait_for(|s| *s == BreakerState::Open)`).
    pub fn watch(&self) -> watch::Receiver<BreakerState> {
        self.state.subscribe()
    }

    /// Every change from now on, with its reason.
    pub fn subscribe(&self) -> broadcast::Receiver<StateChange> {
        self.events.subscribe()
    }

    /// Whether `status` counts as the endpoint failing.
    pub fn is_failure(&self, status: &Status) -> bool {
        self.config.failure_codes.contains(status.code())
    }

    /// Asks to make a call: a permit, or the fail-fast error.
    pub fn admit(&self) -> Result<Permit<'_>, Status> {
        if self.closed.load(Ordering::Acquire) {
            return Ok(Permit {
                breaker: self,
                trial: false,
                done: false,
            });
        }
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.state == BreakerState::Open {
            let waited = inner.opened_at.elapsed();
            if waited < self.config.cool_down {
                return Err(Status::unavailable(format!(
                    "circuit breaker {:?} is open: calls fail fast for another {:?}",
                    self.name,
                    self.config.cool_down - waited
                )));
            }
            self.change(&mut inner, BreakerState::HalfOpen, "cool-down over".into());
        }
        if inner.state == BreakerState::HalfOpen {
            if inner.trials >= self.config.half_open_max_calls {
                return Err(Status::unavailable(format!(
                    "circuit breaker {:?} is half-open: its trial calls are in flight",
                    self.name
                )));
            }
            inner.trials += 1;
            return Ok(Permit {
                breaker: self,
                trial: true,
                done: false,
            });
        }
        Ok(Permit {
            breaker: self,
            trial: false,
            done: false,
        })
    }

    fn record(&self, trial: bool, outcome: Option<bool>) {
        if !trial
            && (outcome.is_none() || (outcome == Some(true) && self.clean.load(Ordering::Acquire)))
        {
            // A cancelled call counts neither way, and a success in a clean window leaves
            // it as it is.
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let cfg = &self.config;
        if trial {
            inner.trials = inner.trials.saturating_sub(1);
            if inner.state != BreakerState::HalfOpen {
                return;
            }
            match outcome {
                None => {}
                Some(true) => {
                    inner.trial_successes += 1;
                    if inner.trial_successes >= cfg.successes_to_close {
                        self.change(
                            &mut inner,
                            BreakerState::Closed,
                            "trial calls succeeded".into(),
                        );
                    }
                }
                Some(false) => {
                    self.change(&mut inner, BreakerState::Open, "a trial call failed".into());
                }
            }
            return;
        }
        let (Some(ok), BreakerState::Closed) = (outcome, inner.state) else {
            return;
        };
        if inner.window.len() == cfg.window.max(1) as usize
            && inner.window.pop_front() == Some(false)
        {
            inner.failures -= 1;
        }
        inner.window.push_back(ok);
        if ok {
            inner.consecutive = 0;
            if inner.failures == 0 && inner.window.len() == cfg.window.max(1) as usize {
                self.clean.store(true, Ordering::Release);
            }
            return;
        }
        self.clean.store(false, Ordering::Release);
        inner.failures += 1;
        inner.consecutive += 1;
        let calls = inner.window.len() as u32;
        let rate = f64::from(inner.failures) / f64::from(calls);
        if inner.consecutive >= cfg.consecutive_failures {
            let why = format!("{} failures in a row", inner.consecutive);
            self.change(&mut inner, BreakerState::Open, why);
        } else if calls >= cfg.min_calls && rate >= cfg.failure_rate {
            let why = format!("{} of the last {calls} calls failed", inner.failures);
            self.change(&mut inner, BreakerState::Open, why);
        }
    }

    fn change(&self, inner: &mut Inner, to: BreakerState, reason: String) {
        let from = inner.state;
        inner.state = to;
        self.closed
            .store(to == BreakerState::Closed, Ordering::Release);
        self.clean.store(false, Ordering::Release);
        match to {
            BreakerState::Open => {
                inner.opened_at = Instant::now();
                tracing::warn!(breaker = %self.name, ?from, %reason, cool_down = ?self.config.cool_down, "circuit breaker opened");
            }
            BreakerState::HalfOpen => {
                inner.trials = 0;
                inner.trial_successes = 0;
                tracing::info!(breaker = %self.name, %reason, "circuit breaker half-open");
            }
            BreakerState::Closed => {
                inner.window.clear();
                inner.failures = 0;
                inner.consecutive = 0;
                tracing::info!(breaker = %self.name, %reason, "circuit breaker closed");
            }
        }
        self.state.send_replace(to);
        let _ = self.events.send(StateChange {
            name: self.name.clone(),
            from,
            to,
            reason,
        });
    }
}

/// Leave to make one call; report its outcome with [`Permit::record`]. Dropped unreported
/// (the call was cancelled), it counts neither way.
pub struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    trial: bool,
    done: bool,
}

impl Permit<'_> {
    /// Reports whether the call succeeded (as far as the endpoint's health goes).
    pub fn record(mut self, success: bool) {
        self.done = true;
        self.breaker.record(self.trial, Some(success));
    }

    /// Reports the call's result: an error counts as a failure only if it is one of the
    /// breaker's failure codes (the others are answers).
    pub fn record_result<T>(self, result: &Result<T, Status>) {
        let success = match result {
            Ok(_) => true,
            Err(e) => !self.breaker.is_failure(e),
        };
        self.record(success);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.breaker.record(self.trial, None);
        }
    }
}

impl Interceptor for CircuitBreaker {
    fn intercept_client<'a>(
        &'a self,
        call: ClientCall,
        next: ClientNext<'a>,
    ) -> BoxFuture<'a, Result<ClientOutput, Status>> {
        super::retry::guard(Some(self), None, call, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(config: BreakerConfig) -> CircuitBreaker {
        CircuitBreaker::new("test", config)
    }

    /// Opens at half of the last ten calls failing (and not on failures in a row).
    fn rate_breaker() -> CircuitBreaker {
        breaker(BreakerConfig {
            consecutive_failures: 100,
            failure_rate: 0.5,
            window: 10,
            min_calls: 10,
            ..Default::default()
        })
    }

    fn fail(b: &CircuitBreaker) {
        b.admit().expect("admitted").record(false);
    }

    fn succeed(b: &CircuitBreaker) {
        b.admit().expect("admitted").record(true);
    }

    #[test]
    fn opens_on_consecutive_failures_and_fails_fast() {
        let b = breaker(BreakerConfig {
            consecutive_failures: 3,
            ..Default::default()
        });
        let mut events = b.subscribe();
        fail(&b);
        fail(&b);
        succeed(&b);
        fail(&b);
        fail(&b);
        assert_eq!(b.state(), BreakerState::Closed, "a success resets the run");
        fail(&b);
        assert_eq!(b.state(), BreakerState::Open);
        let err = b.admit().err().expect("fails fast");
        assert_eq!(err.code(), Code::Unavailable);
        assert!(
            err.message().contains("circuit breaker \"test\" is open"),
            "{}",
            err.message()
        );
        let change = events.try_recv().unwrap();
        assert_eq!(
            (change.from, change.to),
            (BreakerState::Closed, BreakerState::Open)
        );
        assert!(
            change.reason.contains("3 failures in a row"),
            "{}",
            change.reason
        );
    }

    #[test]
    fn opens_on_the_failure_rate_over_the_window() {
        let b = rate_breaker();
        for _ in 0..4 {
            succeed(&b);
            fail(&b);
        }
        succeed(&b);
        assert_eq!(b.state(), BreakerState::Closed, "4 of 9: too few calls yet");
        fail(&b);
        assert_eq!(b.state(), BreakerState::Open, "5 of 10 failed");
    }

    #[test]
    fn half_open_admits_limited_trials_then_closes_or_reopens() {
        let b = breaker(BreakerConfig {
            consecutive_failures: 1,
            cool_down: Duration::ZERO,
            half_open_max_calls: 2,
            successes_to_close: 2,
            ..Default::default()
        });
        fail(&b);
        assert_eq!(b.state(), BreakerState::Open);
        let t1 = b.admit().expect("cool-down over: a trial");
        assert_eq!(b.state(), BreakerState::HalfOpen);
        let t2 = b.admit().expect("a second trial");
        assert!(b.admit().is_err(), "only two trials at once");
        t1.record(true);
        drop(t2); // cancelled: frees its slot, counts neither way
        assert_eq!(b.state(), BreakerState::HalfOpen);
        succeed(&b);
        assert_eq!(b.state(), BreakerState::Closed);

        fail(&b);
        let trial = b.admit().unwrap();
        trial.record(false);
        assert_eq!(
            b.state(),
            BreakerState::Open,
            "a failed trial opens it again"
        );
    }

    #[test]
    fn a_window_of_successes_still_counts_the_next_failures() {
        // Successes in a full, clean window skip the lock; failures after them must still
        // fill the window and open the breaker at the rate.
        let b = rate_breaker();
        for round in 0..2 {
            for _ in 0..25 {
                succeed(&b);
            }
            for i in 0..4 {
                fail(&b);
                assert_eq!(b.state(), BreakerState::Closed, "round {round}: {i} of 10");
            }
            if round == 0 {
                // A success between failures clears the run but not the window's failures.
                succeed(&b);
                fail(&b);
                assert_eq!(b.state(), BreakerState::Open, "5 of the last 10 failed");
                // Back to closed through a trial, with an empty window.
                b.inner.lock().unwrap().opened_at = Instant::now() - Duration::from_secs(60);
                b.admit().expect("trial").record(true);
                assert_eq!(b.state(), BreakerState::Closed);
            } else {
                fail(&b);
                assert_eq!(b.state(), BreakerState::Open, "5 of the last 10 failed");
            }
        }
    }

    #[test]
    fn answers_are_not_failures() {
        let b = breaker(BreakerConfig::default());
        assert!(b.is_failure(&Status::unavailable("x")));
        assert!(b.is_failure(&Status::deadline_exceeded("x")));
        assert!(!b.is_failure(&Status::not_found("x")));
        assert!(!b.is_failure(&Status::invalid_argument("x")));
    }
}
