//! Ready-made interceptors, between the call layer ([`crate::rpc`]) and plugins: each is an
//! [`Interceptor`](crate::rpc::Interceptor) added to a `Router` (server side) or a `Client`
//! (client side). [`auth`] authenticates callers (bearer token, API key, mutual-TLS
//! certificate) and authorizes them per method; [`rate_limit`] limits calls per caller;
//! [`Retry`] and [`CircuitBreaker`] make client calls resilient. On a client they compose in a
//! documented order: auth → circuit breaker → retry → transport ([`ClientChain`]).

pub mod auth;
pub(crate) mod breaker;
pub(crate) mod chain;
pub mod rate_limit;
pub(crate) mod retry;

pub use breaker::{BreakerConfig, BreakerState, CircuitBreaker, StateChange};
pub use chain::ClientChain;
pub use retry::{Retry, RetryBudget, RetryPolicy};

use crate::protocol::Code;

/// A set of [`Code`]s, as a bit set (`Copy`, no allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CodeSet(u32);

impl CodeSet {
    /// The empty set.
    pub const EMPTY: CodeSet = CodeSet(0);

    /// The set of `codes`.
    pub const fn of(codes: &[Code]) -> CodeSet {
        let mut bits = 0u32;
        let mut i = 0;
        while i < codes.len() {
            bits |= 1 << codes[i].as_i32();
            i += 1;
        }
        CodeSet(bits)
    }

    /// This set with `code` added.
    pub const fn with(self, code: Code) -> CodeSet {
        CodeSet(self.0 | 1 << code.as_i32())
    }

    /// This set without `code`.
    pub const fn without(self, code: Code) -> CodeSet {
        CodeSet(self.0 & !(1 << code.as_i32()))
    }

    /// Whether `code` is in the set.
    pub const fn contains(self, code: Code) -> bool {
        self.0 & (1 << code.as_i32()) != 0
    }
}
