//! Join tokens: the credentials the host is configured with that admit a self-registering
//! plugin, each for one self id or a pattern of them. Kept only as keyed digests and
//! checked in constant time.

use std::fmt;

use super::digest::DigestKey;
use subtle::{Choice, ConstantTimeEq as _};

use crate::registry::RegistryError;
use crate::registry::names::clip;

/// Which self ids a join token admits: one (`logger`), those with a prefix (`logger-*`),
/// or any (`*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelfIdPattern {
    /// Exactly this self id.
    Exact(String),
    /// Self ids starting with this prefix.
    Prefix(String),
    /// Every self id.
    Any,
}

impl SelfIdPattern {
    /// Parses `logger`, `logger-*` or `*`.
    pub fn parse(text: &str) -> Result<SelfIdPattern, RegistryError> {
        if text == "*" {
            return Ok(SelfIdPattern::Any);
        }
        let (body, prefix) = match text.strip_suffix('*') {
            Some(p) => (p, true),
            None => (text, false),
        };
        let ok = !body.is_empty()
            && body.len() <= super::runtime_id::MAX_SELF_ID_LEN
            && body
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
        if !ok {
            return Err(RegistryError::InvalidName {
                what: "self id pattern",
                name: clip(text),
            });
        }
        Ok(if prefix {
            SelfIdPattern::Prefix(body.to_owned())
        } else {
            SelfIdPattern::Exact(body.to_owned())
        })
    }

    /// Whether `self_id` matches.
    pub fn matches(&self, self_id: &str) -> bool {
        match self {
            SelfIdPattern::Exact(s) => s == self_id,
            SelfIdPattern::Prefix(p) => self_id.starts_with(p.as_str()),
            SelfIdPattern::Any => true,
        }
    }
}

impl fmt::Display for SelfIdPattern {
    /// As written: `logger`, `logger-*` or `*`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelfIdPattern::Exact(s) => f.write_str(s),
            SelfIdPattern::Prefix(p) => write!(f, "{p}*"),
            SelfIdPattern::Any => f.write_str("*"),
        }
    }
}

/// The join tokens a host admits plugins with.
///
/// ```
/// use connect_plugin_platform::identity::{JoinTokens, SelfIdPattern};
///
/// let tokens = JoinTokens::new()
///     .with(SelfIdPattern::parse("logger").unwrap(), "s3cret-for-the-logger");
/// assert!(tokens.admits("logger", b"s3cret-for-the-logger"));
/// assert!(!tokens.admits("cache", b"s3cret-for-the-logger"));
/// assert!(!tokens.admits("logger", b"guess"));
/// ```
pub struct JoinTokens {
    key: DigestKey,
    entries: Vec<(SelfIdPattern, [u8; 32])>,
}

impl Default for JoinTokens {
    fn default() -> Self {
        JoinTokens::new()
    }
}

impl fmt::Debug for JoinTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinTokens")
            .field(
                "patterns",
                &self.entries.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl JoinTokens {
    /// None yet: nobody is admitted by a join token.
    pub fn new() -> Self {
        let key = DigestKey::random("connect-plugin join tokens");
        JoinTokens {
            key,
            entries: Vec::new(),
        }
    }

    fn digest(&self, secret: &[u8]) -> [u8; 32] {
        self.key.digest(secret)
    }

    /// Admits plugins whose self id matches `pattern` when they present `secret`.
    pub fn with(mut self, pattern: SelfIdPattern, secret: impl AsRef<[u8]>) -> Self {
        self.insert(pattern, secret);
        self
    }

    /// [`JoinTokens::with`] in place.
    pub fn insert(&mut self, pattern: SelfIdPattern, secret: impl AsRef<[u8]>) {
        let digest = self.digest(secret.as_ref());
        self.entries.push((pattern, digest));
    }

    /// How many join tokens there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `presented` admits a plugin calling itself `self_id`. The presented secret
    /// is digested once and compared with every token in constant time.
    pub fn admits(&self, self_id: &str, presented: &[u8]) -> bool {
        let digest = self.digest(presented);
        let mut found = Choice::from(0);
        for (pattern, valid) in &self.entries {
            found |= digest.ct_eq(valid) & Choice::from(u8::from(pattern.matches(self_id)));
        }
        bool::from(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let p = |s| SelfIdPattern::parse(s).unwrap();
        assert!(p("logger").matches("logger"));
        assert!(!p("logger").matches("logger-2"));
        assert!(p("logger-*").matches("logger-2"));
        assert!(!p("logger-*").matches("cache"));
        assert!(p("*").matches("anything"));
        for text in ["logger", "logger-*", "*"] {
            assert_eq!(p(text).to_string(), text);
        }
        for bad in ["", "Logger", "a*b", "**", "x\0", "a b"] {
            assert!(SelfIdPattern::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_token_admits_only_its_pattern() {
        let tokens = JoinTokens::new()
            .with(SelfIdPattern::parse("logger-*").unwrap(), "t-logger")
            .with(SelfIdPattern::parse("cache").unwrap(), "t-cache");
        assert!(tokens.admits("logger-eu", b"t-logger"));
        assert!(tokens.admits("cache", b"t-cache"));
        assert!(!tokens.admits("cache", b"t-logger"));
        assert!(!tokens.admits("logger-eu", b"t-cache"));
        assert!(!tokens.admits("logger-eu", b""));
        assert!(!JoinTokens::new().admits("logger", b"t-logger"));
        assert!(!format!("{tokens:?}").contains("t-logger"));
    }
}
