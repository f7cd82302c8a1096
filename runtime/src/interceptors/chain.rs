//! The client chain in its documented order.

use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::retry::guard;
use super::{BreakerConfig, CircuitBreaker, Retry, RetryPolicy};
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
/// A [`PluginClient`](crate::plugin::PluginClient) gives its dispensed clients a chain (by
/// default [`ClientChain::resilient`]: a circuit breaker and retry with their defaults), set
/// on its builder ([`PluginClientBuilder::chain`](crate::plugin::PluginClientBuilder::chain)),
/// per dispensed client ([`PluginClient::dispense_with`](crate::plugin::PluginClient::dispense_with))
/// and per call (a [`RetryPolicy`] in the request's extensions). A call's default timeout
/// is the client's ([`ClientConfig::timeout`](crate::ClientConfig::timeout)).
///
/// # Example
///
/// ```
/// use connect_plugin::interceptors::auth::BearerToken;
/// use connect_plugin::interceptors::{ClientChain, RetryPolicy};
/// use connect_plugin::{Channel, Client};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let chain = ClientChain::resilient("inventory")
///     .interceptor(BearerToken::new("s3cret-token")?)
///     .retry(RetryPolicy::default().with_max_attempts(5));
/// let client = chain.apply(&Client::new(Channel::builder("http://127.0.0.1:8080")?.build()));
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
pub struct ClientChain {
    interceptors: Vec<Arc<dyn Interceptor>>,
    breaker: Option<Arc<CircuitBreaker>>,
    retry: Option<Arc<Retry>>,
}

impl std::fmt::Debug for ClientChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientChain")
            .field("interceptors", &self.interceptors.len())
            .field("breaker", &self.breaker)
            .field("retry", &self.retry.as_ref().map(|r| r.policy()))
            .finish()
    }
}

impl ClientChain {
    /// An empty chain: calls go straight to the transport.
    pub fn new() -> Self {
        ClientChain::default()
    }

    /// The chain a plugin's dispensed clients get by default: a circuit breaker named `name`
    /// with [`BreakerConfig::default`], and retry with [`RetryPolicy::default`].
    pub fn resilient(name: impl Into<String>) -> Self {
        ClientChain::new()
            .circuit_breaker(Arc::new(CircuitBreaker::new(
                name,
                BreakerConfig::default(),
            )))
            .retry(RetryPolicy::default())
    }

    /// Adds the caller's own interceptor (auth, tracing …); they run first, in the order
    /// added. A shared one is passed as an `Arc`.
    pub fn interceptor(mut self, interceptor: impl Interceptor) -> Self {
        self.interceptors
            .push(crate::rpc::interceptor::shared(interceptor));
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

    /// Retries as `retry` says: a [`RetryPolicy`] (with a budget of its own), or a
    /// [`Retry`] with a budget shared with other chains ([`Retry::with_budget`]).
    pub fn retry(mut self, retry: impl Into<Retry>) -> Self {
        self.retry = Some(Arc::new(retry.into()));
        self
    }

    /// No retries.
    pub fn no_retry(mut self) -> Self {
        self.retry = None;
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
        client.with_interceptors(self.interceptors.iter().cloned().chain(resilience))
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
