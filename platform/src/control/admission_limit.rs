//! A bound on how fast admissions may come from one place: a flood of handshakes from one
//! address (or one authenticated principal) is refused with `resource_exhausted` before it
//! costs a runtime id, a token or a member. Keyed by the peer, never by anything the caller
//! claims; the key table is bounded by the runtime's rate limiter.

use std::num::NonZeroU32;

use connect_plugin::Status;
use connect_plugin::codegen::BoxFuture;
use connect_plugin::interceptors::rate_limit::{RateLimit, RateLimitConfig};
use connect_plugin::rpc::{Interceptor, ServerCall, ServerNext, ServerOutput};

/// The path admissions arrive at.
const HANDSHAKE: &str = "/connectplugin.v1.HandshakeService/Handshake";

/// The default: 10 admissions a second from one address, in bursts of 20, at most 4,096
/// addresses tracked.
pub fn default_admission_rate() -> RateLimitConfig {
    RateLimitConfig::per_second(NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN))
        .burst(NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN))
        .max_keys(4_096)
        .runtime_id_header(None)
}

/// Limits handshakes only; every other call passes.
pub(crate) struct AdmissionLimit(pub(crate) RateLimit);

impl Interceptor for AdmissionLimit {
    fn intercept_server<'a>(
        &'a self,
        call: ServerCall,
        next: ServerNext<'a>,
    ) -> BoxFuture<'a, Result<ServerOutput, Status>> {
        if call.method.path == HANDSHAKE {
            if let Err(refused) = self.0.check(&call) {
                tracing::warn!(peer = ?call.peer(), "admission refused: too many handshakes from one place");
                return Box::pin(std::future::ready(Err(refused)));
            }
        }
        next.run(call)
    }
}
