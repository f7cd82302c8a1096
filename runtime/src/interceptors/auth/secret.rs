//! Secrets (bearer tokens, API keys): kept and compared only as keyed digests, in constant
//! time; remembered per connection once verified; read from and written to headers marked
//! sensitive.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use http::{HeaderMap, HeaderName, HeaderValue};
use ring::hmac;
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use super::AuthError;
use crate::rpc::{Identity, PeerCertificates};
use crate::transport::Connection;

/// The key secrets are digested under: random, made once per process, never leaves it.
static DIGEST_KEY: LazyLock<hmac::Key> = LazyLock::new(|| {
    hmac::Key::generate(hmac::HMAC_SHA256, &ring::rand::SystemRandom::new()).unwrap_or_else(|_| {
        // Without system randomness the digests are still compared in constant time; only
        // their unpredictability is lost.
        tracing::warn!("no system randomness for the credential digest key; using a fixed key");
        hmac::Key::new(hmac::HMAC_SHA256, b"connect-plugin credential digest")
    })
});

/// A secret's fixed-size keyed digest.
#[derive(Clone, Copy)]
struct Digest([u8; 32]);

impl Digest {
    fn of(secret: &[u8]) -> Digest {
        let tag = hmac::sign(&DIGEST_KEY, secret);
        let mut out = [0u8; 32];
        // HMAC-SHA-256 tags are 32 bytes.
        out.copy_from_slice(&tag.as_ref()[..32]);
        Digest(out)
    }
}

impl ConstantTimeEq for Digest {
    fn ct_eq(&self, other: &Self) -> Choice {
        // The differences of the four 64-bit words, folded without branches, then one
        // constant-time comparison (`subtle` compares slices a byte at a time behind an
        // optimisation barrier each: ten times the work for the same guarantee).
        let words = |d: &Digest, i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&d.0[i * 8..i * 8 + 8]);
            u64::from_ne_bytes(w)
        };
        let diff = (0..4).fold(0u64, |acc, i| acc | (words(self, i) ^ words(other, i)));
        diff.ct_eq(&0)
    }
}

/// Whether two secrets are equal, in time that depends only on their lengths and not on
/// where they differ, nor (beyond digesting each) on whether their lengths differ: both are
/// digested to 32 bytes, which are compared in constant time.
///
/// ```
/// use connect_plugin::interceptors::auth::constant_time_eq;
///
/// assert!(constant_time_eq(b"s3cret", b"s3cret"));
/// assert!(!constant_time_eq(b"s3cret", b"s3cre"));
/// ```
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    Digest::of(a).ct_eq(&Digest::of(b)).into()
}

/// Whether `a` and `b` are equal, in time that depends only on their lengths: the bytes'
/// differences are folded without branches, then checked once.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    diff.ct_eq(&0).into()
}

/// Numbers server-side providers, so that what one verified on a connection is never taken
/// for another's.
pub(super) fn provider_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// How many verified secrets (or certificate chains) a connection remembers: one per
/// provider for a client that sends one credential, a few for a proxy that forwards several
/// principals' calls over one connection.
const REMEMBERED_SECRETS: usize = 4;

/// What providers verified on a connection: provider, what was verified (a secret, a
/// certificate chain), the identity it stands for. At most [`REMEMBERED_SECRETS`]; the
/// latest replace the oldest.
#[derive(Clone)]
pub(super) struct Verified<K>(Vec<(u64, K, Identity)>);

impl<K> Default for Verified<K> {
    fn default() -> Self {
        Verified(Vec::new())
    }
}

impl<K> Verified<K> {
    pub(super) fn remember(&mut self, provider: u64, key: K, identity: Identity) {
        if self.0.len() >= REMEMBERED_SECRETS {
            self.0.remove(0);
        }
        self.0.push((provider, key, identity));
    }
}

impl Verified<Box<[u8]>> {
    /// The identity of `presented` if `provider` verified it on this connection. Every
    /// remembered secret is compared (which one matches does not change the time).
    fn find(&self, provider: u64, presented: &[u8]) -> Option<Identity> {
        let mut found = None;
        for (p, secret, identity) in &self.0 {
            if same_bytes(secret, presented) && *p == provider {
                found = Some(identity.clone());
            }
        }
        found
    }
}

impl Verified<PeerCertificates> {
    /// The identity `provider` made of this very chain on this connection.
    pub(super) fn find(&self, provider: u64, certs: &PeerCertificates) -> Option<Identity> {
        self.0
            .iter()
            .find(|(p, c, _)| *p == provider && c.same_chain(certs))
            .map(|(_, _, id)| id.clone())
    }
}

/// A set of valid secrets (bearer tokens or API keys), each standing for an [`Identity`],
/// for the server-side providers ([`BearerAuth`](super::BearerAuth),
/// [`ApiKeyAuth`](super::ApiKeyAuth)).
///
/// Secrets are never kept or compared directly: each is reduced to an HMAC-SHA-256 digest
/// under a random key made when the process starts, and digests (all the same length) are
/// compared in constant time with `subtle`, against every valid credential without stopping
/// at a match. Neither the position of the first wrong byte nor the length of a valid
/// secret shows in the time a check takes, and error messages never repeat what was
/// presented.
///
/// ```
/// use connect_plugin::interceptors::auth::{Credentials, Identity};
///
/// let tokens = Credentials::new()
///     .with("token-of-the-host", Identity::new("host").with_role("admin"))
///     .with("token-of-a-plugin", Identity::new("kv-plugin"));
/// assert_eq!(tokens.len(), 2);
/// assert_eq!(tokens.verify(b"token-of-a-plugin").map(|id| id.principal()), Some("kv-plugin"));
/// assert!(tokens.verify(b"token-of-a-plugi").is_none());
/// // Debug output shows how many secrets there are, never the secrets.
/// assert!(!format!("{tokens:?}").contains("token-of"));
/// ```
#[derive(Clone, Default)]
pub struct Credentials {
    entries: Vec<(Digest, Identity)>,
    /// Set when a server-side provider takes these credentials: what they verify on a
    /// connection is remembered under it.
    id: u64,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("count", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// No valid credentials yet.
    pub fn new() -> Self {
        Credentials::default()
    }

    /// Builder form of [`Credentials::insert`].
    pub fn with(mut self, secret: impl AsRef<[u8]>, identity: Identity) -> Self {
        self.insert(secret, identity);
        self
    }

    /// Makes `secret` stand for `identity`, replacing what it stood for before.
    pub fn insert(&mut self, secret: impl AsRef<[u8]>, identity: Identity) {
        let digest = Digest::of(secret.as_ref());
        match self
            .entries
            .iter_mut()
            .find(|(d, _)| bool::from(d.ct_eq(&digest)))
        {
            Some(entry) => entry.1 = identity,
            None => self.entries.push((digest, identity)),
        }
    }

    /// How many secrets are valid.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no secret is valid.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The identity `presented` stands for. The presented secret is digested once and
    /// compared with every valid one in constant time, so the time taken depends neither on
    /// which one matches, nor on whether one does, nor on their contents or lengths.
    pub fn verify(&self, presented: &[u8]) -> Option<&Identity> {
        let digest = Digest::of(presented);
        let mut found = Choice::from(0);
        let mut index = 0u64;
        for (i, (valid, _)) in self.entries.iter().enumerate() {
            let equal = digest.ct_eq(valid);
            index.conditional_assign(&(i as u64), equal);
            found |= equal;
        }
        if bool::from(found) {
            self.entries.get(index as usize).map(|(_, id)| id)
        } else {
            None
        }
    }

    /// Stamps every identity with the scheme of the provider that owns these credentials
    /// (once, so that authenticating a call clones an `Arc` and nothing more).
    pub(super) fn stamped(mut self, scheme: &'static str) -> Self {
        for (_, id) in &mut self.entries {
            *id = id.clone().with_scheme(scheme);
        }
        self.id = provider_id();
        self
    }

    /// [`Credentials::verify`], remembering on `conn` what it verified: a later call on the
    /// same connection presenting the same secret is authenticated by comparing it with
    /// the remembered one (in constant time), without digesting it again. Secrets that
    /// fail are not remembered.
    pub(super) fn verify_on(
        &self,
        conn: Option<&Connection>,
        presented: &[u8],
    ) -> Option<Identity> {
        if let Some(conn) = conn {
            let known = conn.with_state(|state| {
                state
                    .get::<Verified<Box<[u8]>>>()
                    .and_then(|v| v.find(self.id, presented))
            });
            if known.is_some() {
                return known;
            }
        }
        let identity = self.verify(presented)?.clone();
        if let Some(conn) = conn {
            conn.with_state(|state| {
                state
                    .get_or_insert_default::<Verified<Box<[u8]>>>()
                    .remember(self.id, presented.into(), identity.clone());
            });
        }
        Some(identity)
    }
}

/// Client side: the secret as a header value, marked sensitive (so HTTP/2 never indexes it
/// and `Debug` shows `Sensitive`).
pub(super) fn secret_header_value(
    prefix: &str,
    secret: &str,
    what: &'static str,
) -> Result<HeaderValue, AuthError> {
    if secret.is_empty() {
        return Err(AuthError::Empty { what });
    }
    if !secret.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AuthError::NotHeaderSafe { what });
    }
    let mut value = HeaderValue::try_from(format!("{prefix}{secret}"))
        .map_err(|_| AuthError::NotHeaderSafe { what })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Client side: adds `value` under `name` unless the call already carries that header (set
/// per call, which then wins).
pub(super) fn inject(headers: &mut HeaderMap, name: &HeaderName, value: &HeaderValue) {
    if !headers.contains_key(name) {
        headers.insert(name.clone(), value.clone());
    }
}

/// Server side: reads secret header `name` with one lookup: marks its values sensitive (so
/// that a handler logging the request's metadata with `Debug` does not print the secret)
/// and gives `f` the first value and whether there are more. `None` when the call has no
/// such header.
pub(super) fn read_secret<R>(
    headers: &mut HeaderMap,
    name: &HeaderName,
    f: impl FnOnce(&[u8], bool) -> R,
) -> Option<R> {
    let http::header::Entry::Occupied(mut entry) = headers.entry(name) else {
        return None;
    };
    let mut count = 0usize;
    for value in entry.iter_mut() {
        value.set_sensitive(true);
        count += 1;
    }
    Some(f(entry.get().as_bytes(), count > 1))
}

/// `bytes` without leading and trailing spaces and tabs.
pub(super) fn trim_spaces(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::test_support::{GET, call};
    use super::super::{AuthProvider, Authentication, BearerAuth};
    use super::*;

    #[test]
    fn verified_secrets_are_remembered_per_connection_and_per_provider() {
        let conn = Arc::new(Connection::new(crate::rpc::PeerAddr::Memory));
        let on = |c: &Arc<Connection>, token: &str| {
            let mut call = call(GET, &[("authorization", token)]);
            call.connection = Some(c.clone());
            call
        };
        let remembered = |c: &Connection| {
            c.with_state(|s| s.get::<Verified<Box<[u8]>>>().map_or(0, |v| v.0.len()))
        };
        let alice = BearerAuth::new(Credentials::new().with("t-alice", Identity::new("alice")));
        let other = BearerAuth::new(Credentials::new().with("t-bob", Identity::new("bob")));

        // Verified once, then found on the connection.
        for _ in 0..3 {
            match alice.authenticate(&mut on(&conn, "Bearer t-alice")) {
                Authentication::Verified(id) => assert_eq!(id.principal(), "alice"),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(remembered(&conn), 1);
        // Failures are not remembered; neither a prefix nor an extension of a remembered
        // secret matches it.
        for wrong in ["Bearer t-alic", "Bearer t-alicex", "Bearer t-bob"] {
            assert!(matches!(
                alice.authenticate(&mut on(&conn, wrong)),
                Authentication::Rejected(_)
            ));
        }
        assert_eq!(remembered(&conn), 1);
        // Another provider never takes what this one verified.
        assert!(matches!(
            other.authenticate(&mut on(&conn, "Bearer t-alice")),
            Authentication::Rejected(_)
        ));
        // Another connection starts empty.
        let fresh = Arc::new(Connection::new(crate::rpc::PeerAddr::Memory));
        assert!(matches!(
            alice.authenticate(&mut on(&fresh, "Bearer t-alice")),
            Authentication::Verified(_)
        ));
        assert_eq!(remembered(&fresh), 1);
        // A bounded number of secrets per connection.
        let many = (0..10).fold(Credentials::new(), |c, i| {
            c.with(format!("t-{i}"), Identity::new(format!("p{i}")))
        });
        let many = BearerAuth::new(many);
        for i in 0..10 {
            let mut call = on(&conn, &format!("Bearer t-{i}"));
            match many.authenticate(&mut call) {
                Authentication::Verified(id) => assert_eq!(id.principal(), format!("p{i}")),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(remembered(&conn), REMEMBERED_SECRETS);
    }

    #[test]
    fn same_bytes_needs_equal_lengths_and_contents() {
        assert!(same_bytes(b"", b""));
        assert!(same_bytes(b"abc", b"abc"));
        assert!(!same_bytes(b"abc", b"abd"));
        assert!(!same_bytes(b"abc", b"ab"));
        assert!(!same_bytes(b"ab", b"abc"));
    }

    #[test]
    fn digests_differing_in_any_byte_are_unequal() {
        let a = Digest([7u8; 32]);
        assert!(bool::from(a.ct_eq(&Digest([7u8; 32]))));
        for i in 0..32 {
            for bit in [0x01u8, 0x80] {
                let mut b = [7u8; 32];
                b[i] ^= bit;
                assert!(!bool::from(a.ct_eq(&Digest(b))), "byte {i}, bit {bit:#x}");
            }
        }
    }

    #[test]
    fn constant_time_eq_compares_contents_and_lengths() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret-and-more"));
        assert!(!constant_time_eq(b"secret", b"secre"));
        assert!(!constant_time_eq(b"", b"x"));
        // Digests are fixed-size whatever the input length.
        assert_eq!(Digest::of(b"").0.len(), Digest::of(&[7; 10_000]).0.len());
    }

    #[test]
    fn credentials_find_the_identity_of_the_matching_secret_only() {
        let mut creds = Credentials::new();
        for i in 0..20 {
            creds.insert(format!("token-{i}"), Identity::new(format!("p{i}")));
        }
        assert_eq!(creds.len(), 20);
        for i in [0, 7, 19] {
            let id = creds.verify(format!("token-{i}").as_bytes()).unwrap();
            assert_eq!(id.principal(), format!("p{i}"));
        }
        // Prefixes, extensions and near misses match nothing.
        for wrong in ["token-", "token-1x", "token-190", "Token-1", "", "token-20"] {
            assert!(creds.verify(wrong.as_bytes()).is_none(), "{wrong}");
        }
        // Inserting a secret again replaces its identity.
        creds.insert("token-3", Identity::new("replaced"));
        assert_eq!(creds.len(), 20);
        assert_eq!(creds.verify(b"token-3").unwrap().principal(), "replaced");
        assert!(Credentials::new().verify(b"anything").is_none());
        assert!(!format!("{creds:?}").contains("token"));
    }
}
