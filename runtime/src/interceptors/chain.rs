//! The client chain in its documented order.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::retry::guard;
use super::{CircuitBreaker, Retry, RetryPolicy};
use crate::protocol::Status;
use crate::rpc::{Client, ClientCall, ClientNext, ClientOutput, Interceptor};

/// The interceptors of a client, in the order they run on every call:
///
/// 1. the caller's own, in the order added (auth first, so every attempt carries the
///    credentials);
/// 2. the circuit breaker (one per endpoint or plugin, shared by all its clients), which
///    sees each call once, after its retries;
/// 3. retry, which repeats attempts within the call's deadline;
/// 4. the transport.
///
/// A [`crate::plugin::PluginClient`] gives its dispensed clients a standard chain (breaker
/// and retry with their defaults), changeable on its builder, per dispensed client
/// ([`crate::plugin::PluginClient::dispense_with`]) and per call (a [`RetryPolicy`] in the
/// request's extensions, a timeout on the request).
#[derive(Clone, Default)]
pub struct ClientChain {
    interceptors: Vec<Arc<dyn Interceptor>>,
    breaker: Option<Arc<CircuitBreaker>>,
    retry: Option<Arc<Retry>>,
    timeout: Option<Duration>,
}

impl std::fmt::Debug for ClientChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientChain")
            .field("interceptors", &self.interceptors.len())
            .field("breaker", &self.breaker)
            .field("retry", &self.retry.as_ref().map(|r| r.policy()))
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl ClientChain {
    /// An empty chain: calls go straight to the transport.
    pub fn new() -> Self {
        ClientChain::default()
    }

    /// Adds the caller's own interceptor (auth, tracing …); they run first, in the order
    /// added.
    pub fn interceptor(self, interceptor: impl Interceptor) -> Self {
        self.interceptor_arc(Arc::new(interceptor))
    }

    /// Adds a shared interceptor of the caller's.
    pub fn interceptor_arc(mut self, interceptor: Arc<dyn Interceptor>) -> Self {
        self.interceptors.push(interceptor);
        self
    }

    /// Uses `breaker` (share one between the clients of one endpoint).
    pub fn circuit_breaker(mut self, breaker: Arc<CircuitBreaker>) -> Self {
        self.breaker = Some(breaker);
        self
    }

    /// No circuit breaker.
    pub fn no_circuit_breaker(mut self) -> Self {
        self.breaker = None;
        self
    }

    /// Retries with `policy`.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(Arc::new(Retry::new(policy)));
        self
    }

    /// Uses `retry` (with its budget).
    pub fn retry_with(mut self, retry: Retry) -> Self {
        self.retry = Some(Arc::new(retry));
        self
    }

    /// No retries.
    pub fn no_retry(mut self) -> Self {
        self.retry = None;
        self
    }

    /// A default timeout for every call (a request's own timeout wins).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The circuit breaker, if any.
    pub fn breaker(&self) -> Option<&Arc<CircuitBreaker>> {
        self.breaker.as_ref()
    }

    /// The retry policy, if any.
    pub fn retry_policy(&self) -> Option<&RetryPolicy> {
        self.retry.as_ref().map(|r| r.policy())
    }

    /// `client` with this chain added after its own interceptors.
    pub fn apply(&self, client: &Client) -> Client {
        let base = match self.timeout {
            Some(t) => client.with_default_timeout(Some(t)),
            None => client.clone(),
        };
        let resilience: Vec<Arc<dyn Interceptor>> = match (&self.breaker, &self.retry) {
            // Both: one interceptor doing what the two would, in the same order, with one
            // future per call instead of two.
            (Some(breaker), Some(retry)) => vec![Arc::new(BreakerRetry {
                breaker: breaker.clone(),
                retry: retry.clone(),
            })],
            (Some(breaker), None) => vec![breaker.clone()],
            (None, Some(retry)) => vec![retry.clone()],
            (None, None) => Vec::new(),
        };
        base.with_interceptors(self.interceptors.iter().cloned().chain(resilience))
    }
}

/// A circuit breaker around retries, as one interceptor: the breaker admits the call, the
/// retries run, the breaker records the outcome.
struct BreakerRetry {
    breaker: Arc<CircuitBreaker>,
    retry: Arc<Retry>,
}

impl Interceptor for BreakerRetry {
    fn intercept_client<'a>(
        &'a self,
        call: ClientCall,
        next: ClientNext<'a>,
    ) -> BoxFuture<'a, Result<ClientOutput, Status>> {
        guard(Some(&self.breaker), Some(&self.retry), call, next)
    }
}
