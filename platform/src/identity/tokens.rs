//! Runtime tokens: what every control-plane call carries after admission. A token is a
//! public selector and a 256-bit secret; the host keeps only the selector and a keyed
//! digest of the secret, compares digests in constant time, and lets tokens expire (and
//! revokes them when their plugin goes). The store is bounded.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use super::digest::DigestKey;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq as _;

use super::RuntimeId;

const PREFIX: &str = "cprt_";
const SELECTOR_LEN: usize = 16;
const SECRET_LEN: usize = 32;

/// How long tokens live and how many there may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLimits {
    /// A token's lifetime (default 1 h). The plugin's side refreshes it before then.
    pub ttl: Duration,
    /// Tokens in all (default 20,000).
    pub max_tokens: usize,
    /// Tokens one runtime may hold at once (default 4: the current one and those still
    /// valid from before a refresh; the oldest goes first).
    pub max_per_runtime: usize,
}

impl Default for TokenLimits {
    fn default() -> Self {
        TokenLimits {
            ttl: Duration::from_secs(3600),
            max_tokens: 20_000,
            max_per_runtime: 4,
        }
    }
}

/// Why a token was not accepted. The messages name no secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No token was presented.
    #[error("no runtime token: send `Authorization: Bearer <runtime token>`")]
    Missing,
    /// Not a token this host issued, or one since revoked.
    #[error("the runtime token is not valid (unknown, malformed or revoked)")]
    Invalid,
    /// The token was valid and has expired.
    #[error("the runtime token has expired; refresh it or be admitted again")]
    Expired,
    /// The store holds its limit of tokens.
    #[error("the host holds its limit of {0} runtime tokens")]
    Full(usize),
}

impl From<TokenError> for connect_plugin::Status {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Full(_) => connect_plugin::Status::resource_exhausted(e.to_string()),
            _ => connect_plugin::Status::unauthenticated(e.to_string()),
        }
    }
}

/// A token just issued: the secret text (shown once, never stored) and its expiry.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The token, as the plugin presents it.
    pub token: String,
    /// When the host stops accepting it.
    pub expires_at: SystemTime,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

struct Entry {
    digest: [u8; 32],
    runtime: RuntimeId,
    issued: Instant,
    expires: Instant,
}

/// The host's runtime tokens.
///
/// ```
/// use connect_plugin_platform::identity::{RuntimeId, TokenStore};
///
/// let store = TokenStore::default();
/// let plugin = RuntimeId::generate("logger").unwrap();
/// let issued = store.issue(&plugin).unwrap();
/// assert_eq!(store.verify(&issued.token).unwrap(), plugin);
/// store.revoke(&plugin);
/// assert!(store.verify(&issued.token).is_err());
/// ```
pub struct TokenStore {
    key: DigestKey,
    limits: TokenLimits,
    entries: Mutex<HashMap<[u8; SELECTOR_LEN], Entry>>,
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenStore")
            .field("limits", &self.limits)
            .field("tokens", &self.len())
            .finish_non_exhaustive()
    }
}

impl Default for TokenStore {
    fn default() -> Self {
        TokenStore::new(TokenLimits::default())
    }
}

impl TokenStore {
    /// An empty store; its digest key is random and never leaves the process.
    pub fn new(limits: TokenLimits) -> Self {
        let key = DigestKey::random("connect-plugin runtime tokens");
        TokenStore {
            key,
            limits,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The limits.
    pub fn limits(&self) -> &TokenLimits {
        &self.limits
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; SELECTOR_LEN], Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn digest(&self, secret: &[u8]) -> [u8; 32] {
        self.key.digest(secret)
    }

    /// How many tokens are held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Issues a token for `runtime`, valid for the configured lifetime.
    pub fn issue(&self, runtime: &RuntimeId) -> Result<IssuedToken, TokenError> {
        self.issue_at(runtime, Instant::now())
    }

    pub(crate) fn issue_at(
        &self,
        runtime: &RuntimeId,
        now: Instant,
    ) -> Result<IssuedToken, TokenError> {
        let mut raw = [0u8; SELECTOR_LEN + SECRET_LEN];
        super::random(&mut raw).map_err(|_| TokenError::Full(0))?;
        let (selector, secret) = raw.split_at(SELECTOR_LEN);
        let mut sel = [0u8; SELECTOR_LEN];
        sel.copy_from_slice(selector);
        let digest = self.digest(secret);
        let mut entries = self.lock();
        if entries.len() >= self.limits.max_tokens {
            entries.retain(|_, e| e.expires > now);
            if entries.len() >= self.limits.max_tokens {
                return Err(TokenError::Full(self.limits.max_tokens));
            }
        }
        let mut theirs: Vec<([u8; SELECTOR_LEN], Instant)> = entries
            .iter()
            .filter(|(_, e)| e.runtime == *runtime)
            .map(|(s, e)| (*s, e.issued))
            .collect();
        if theirs.len() >= self.limits.max_per_runtime {
            theirs.sort_by_key(|(_, issued)| *issued);
            let excess = theirs.len() + 1 - self.limits.max_per_runtime;
            for (s, _) in theirs.into_iter().take(excess) {
                entries.remove(&s);
            }
        }
        entries.insert(
            sel,
            Entry {
                digest,
                runtime: runtime.clone(),
                issued: now,
                expires: now + self.limits.ttl,
            },
        );
        drop(entries);
        Ok(IssuedToken {
            token: format!(
                "{PREFIX}{}.{}",
                URL_SAFE_NO_PAD.encode(selector),
                URL_SAFE_NO_PAD.encode(secret)
            ),
            expires_at: SystemTime::now() + self.limits.ttl,
        })
    }

    /// The runtime `token` stands for. The secret's digest is compared in constant time; an
    /// expired token is removed.
    pub fn verify(&self, token: &str) -> Result<RuntimeId, TokenError> {
        self.verify_at(token, Instant::now())
    }

    pub(crate) fn verify_at(&self, token: &str, now: Instant) -> Result<RuntimeId, TokenError> {
        if token.is_empty() {
            return Err(TokenError::Missing);
        }
        let parsed = parse(token);
        // Digest even a malformed token, so that timing tells nothing about the format.
        let digest = match &parsed {
            Some((_, secret)) => self.digest(secret),
            None => self.digest(token.as_bytes()),
        };
        let Some((selector, _)) = parsed else {
            return Err(TokenError::Invalid);
        };
        let mut entries = self.lock();
        let Some(entry) = entries.get(&selector) else {
            return Err(TokenError::Invalid);
        };
        if !bool::from(entry.digest.ct_eq(&digest)) {
            return Err(TokenError::Invalid);
        }
        if now >= entry.expires {
            entries.remove(&selector);
            return Err(TokenError::Expired);
        }
        Ok(entry.runtime.clone())
    }

    /// Revokes every token of `runtime` (it unregistered, died or was removed); returns how
    /// many there were.
    pub fn revoke(&self, runtime: &RuntimeId) -> usize {
        let mut entries = self.lock();
        let before = entries.len();
        entries.retain(|_, e| e.runtime != *runtime);
        before - entries.len()
    }

    /// Whether `runtime` holds a token that has not expired.
    pub fn holds(&self, runtime: &RuntimeId) -> bool {
        let now = Instant::now();
        self.lock()
            .values()
            .any(|e| e.runtime == *runtime && e.expires > now)
    }

    /// Drops expired tokens; returns how many.
    pub fn sweep(&self) -> usize {
        self.sweep_at(Instant::now())
    }

    pub(crate) fn sweep_at(&self, now: Instant) -> usize {
        let mut entries = self.lock();
        let before = entries.len();
        entries.retain(|_, e| e.expires > now);
        before - entries.len()
    }
}

/// Selector and secret of a well-formed token.
fn parse(token: &str) -> Option<([u8; SELECTOR_LEN], [u8; SECRET_LEN])> {
    let rest = token.strip_prefix(PREFIX)?;
    let (sel, secret) = rest.split_once('.')?;
    let mut s = [0u8; SELECTOR_LEN];
    let mut k = [0u8; SECRET_LEN];
    if URL_SAFE_NO_PAD.decode_slice(sel, &mut s).ok()? != SELECTOR_LEN
        || URL_SAFE_NO_PAD.decode_slice(secret, &mut k).ok()? != SECRET_LEN
    {
        return None;
    }
    Some((s, k))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rid(s: &str) -> RuntimeId {
        RuntimeId::generate(s).unwrap()
    }

    #[test]
    fn tokens_verify_expire_and_revoke() {
        let store = TokenStore::new(TokenLimits {
            ttl: Duration::from_secs(60),
            ..TokenLimits::default()
        });
        let a = rid("a");
        let t0 = Instant::now();
        let issued = store.issue_at(&a, t0).unwrap();
        assert!(issued.token.starts_with(PREFIX));
        assert!(!format!("{issued:?}").contains(&issued.token));
        assert_eq!(store.verify_at(&issued.token, t0).unwrap(), a);
        assert_eq!(
            store.verify_at(&issued.token, t0 + Duration::from_secs(61)),
            Err(TokenError::Expired)
        );
        // Expired tokens are gone after being seen.
        assert_eq!(store.len(), 0);
        let issued = store.issue_at(&a, t0).unwrap();
        assert_eq!(store.revoke(&a), 1);
        assert_eq!(store.verify_at(&issued.token, t0), Err(TokenError::Invalid));
    }

    #[test]
    fn forged_tokens_fail() {
        let store = TokenStore::default();
        let a = rid("a");
        let issued = store.issue(&a).unwrap();
        // Same selector, another secret.
        let (head, secret) = issued.token.rsplit_once('.').unwrap();
        let mut forged_secret = URL_SAFE_NO_PAD.decode(secret).unwrap();
        forged_secret[0] ^= 1;
        let forged = format!("{head}.{}", URL_SAFE_NO_PAD.encode(&forged_secret));
        assert_eq!(store.verify(&forged), Err(TokenError::Invalid));
        for junk in [
            "x",
            "cprt_",
            "cprt_a.b",
            &issued.token[..issued.token.len() - 1],
            "cprt_\0.\0",
        ] {
            assert_eq!(store.verify(junk), Err(TokenError::Invalid), "{junk:?}");
        }
        assert_eq!(store.verify(""), Err(TokenError::Missing));
        // The store keeps no secret: only selectors and digests.
        assert!(!format!("{store:?}").contains(secret));
    }

    #[test]
    fn the_store_is_bounded() {
        let store = TokenStore::new(TokenLimits {
            ttl: Duration::from_secs(10),
            max_tokens: 3,
            max_per_runtime: 2,
        });
        let t0 = Instant::now();
        let a = rid("a");
        let first = store.issue_at(&a, t0).unwrap();
        let second = store.issue_at(&a, t0 + Duration::from_millis(1)).unwrap();
        let third = store.issue_at(&a, t0 + Duration::from_millis(2)).unwrap();
        // A refresh beyond the per-runtime bound drops the oldest.
        assert_eq!(store.verify_at(&first.token, t0), Err(TokenError::Invalid));
        assert!(store.verify_at(&second.token, t0).is_ok());
        assert!(store.verify_at(&third.token, t0).is_ok());
        store.issue_at(&rid("b"), t0).unwrap();
        assert_eq!(store.issue_at(&rid("c"), t0), Err(TokenError::Full(3)));
        // Once expired, room is made.
        assert!(
            store
                .issue_at(&rid("c"), t0 + Duration::from_secs(11))
                .is_ok()
        );
        assert_eq!(store.len(), 1);
        assert_eq!(store.sweep_at(t0 + Duration::from_secs(100)), 1);
    }
}
