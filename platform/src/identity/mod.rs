//! Who a plugin is: the runtime id the host assigns at admission, the runtime token every
//! later control-plane call carries, and the join tokens that admit self-registering
//! plugins in the first place.

mod digest;
mod join;
mod runtime_id;
mod tokens;

pub use join::{JoinTokens, SelfIdPattern};
pub use runtime_id::{MAX_SELF_ID_LEN, RuntimeId, check_self_id};
pub use tokens::{IssuedToken, TokenError, TokenLimits, TokenStore};

/// Fills `buf` with system randomness.
pub(crate) fn random(buf: &mut [u8]) -> Result<(), ring::error::Unspecified> {
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), buf)
}
