//! The keyed digest secrets are kept as: HMAC-SHA-256 under a key made from system
//! randomness once per store, which never leaves the process.

use ring::hmac;

/// A digest key.
pub(crate) struct DigestKey(hmac::Key);

impl DigestKey {
    /// A random key; without system randomness, a fixed one named after `what` (the
    /// digests are still compared in constant time; only their unpredictability is lost),
    /// with a warning.
    pub(crate) fn random(what: &'static str) -> Self {
        let rng = ring::rand::SystemRandom::new();
        DigestKey(
            hmac::Key::generate(hmac::HMAC_SHA256, &rng).unwrap_or_else(|_| {
                tracing::warn!(
                    what,
                    "no system randomness for a digest key; using a fixed key"
                );
                hmac::Key::new(hmac::HMAC_SHA256, what.as_bytes())
            }),
        )
    }

    /// The digest of `secret`.
    pub(crate) fn digest(&self, secret: &[u8]) -> [u8; 32] {
        let tag = hmac::sign(&self.0, secret);
        let mut out = [0u8; 32];
        out.copy_from_slice(&tag.as_ref()[..32]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_and_digests_are_stable() {
        let (a, b) = (DigestKey::random("a"), DigestKey::random("b"));
        assert_eq!(a.digest(b"s"), a.digest(b"s"));
        assert_ne!(a.digest(b"s"), a.digest(b"t"));
        assert_ne!(a.digest(b"s"), b.digest(b"s"), "each store has its own key");
    }
}
