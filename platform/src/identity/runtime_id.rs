//! Runtime ids: `{self_id}-{suffix}`, the suffix 128 bits of system randomness, so two
//! plugins with the same self id never collide (the seed used 16 bits, which collided and
//! overwrote registrations).

use std::fmt;

use crate::registry::RegistryError;
use crate::registry::names::clip;

/// Longest self id a plugin may claim.
pub const MAX_SELF_ID_LEN: usize = 64;

/// A self id: 1 to 64 characters of `a-z`, `0-9`, `-`, `_`, `.`, starting with a letter or
/// digit.
pub fn check_self_id(self_id: &str) -> Result<(), RegistryError> {
    let ok = !self_id.is_empty()
        && self_id.len() <= MAX_SELF_ID_LEN
        && self_id.as_bytes()[0].is_ascii_alphanumeric()
        && self_id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(RegistryError::InvalidName {
            what: "self id",
            name: clip(self_id),
        })
    }
}

/// A runtime id the host assigned.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuntimeId(String);

impl RuntimeId {
    /// A new runtime id for a plugin calling itself `self_id` (checked with
    /// [`check_self_id`]).
    ///
    /// ```
    /// use connect_plugin_platform::identity::RuntimeId;
    ///
    /// let a = RuntimeId::generate("logger").unwrap();
    /// let b = RuntimeId::generate("logger").unwrap();
    /// assert!(a.as_str().starts_with("logger-"));
    /// assert_ne!(a, b);
    /// ```
    pub fn generate(self_id: &str) -> Result<RuntimeId, RegistryError> {
        check_self_id(self_id)?;
        let mut suffix = [0u8; 16];
        super::random(&mut suffix).map_err(|_| RegistryError::InvalidName {
            what: "runtime id (no system randomness)",
            name: clip(self_id),
        })?;
        let hex: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
        Ok(RuntimeId(format!("{self_id}-{hex}")))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The self id the plugin claimed (the part before the random suffix).
    pub fn self_id(&self) -> &str {
        self.0.rsplit_once('-').map_or(&self.0, |(s, _)| s)
    }
}

impl fmt::Debug for RuntimeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RuntimeId({})", self.0)
    }
}

/// Looked up by its text (hashes as its text does).
impl std::borrow::Borrow<str> for RuntimeId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RuntimeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_never_collide_and_keep_the_self_id() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let id = RuntimeId::generate("cache-v2").unwrap();
            assert_eq!(id.self_id(), "cache-v2");
            let suffix = &id.as_str()["cache-v2-".len()..];
            assert_eq!(suffix.len(), 32, "128 bits as hex");
            assert!(seen.insert(id), "a collision");
        }
    }

    #[test]
    fn self_ids_are_checked() {
        for bad in ["", "Logger", "a b", "x\0", "-a", &"a".repeat(65)] {
            assert!(RuntimeId::generate(bad).is_err(), "{bad:?}");
        }
    }
}
