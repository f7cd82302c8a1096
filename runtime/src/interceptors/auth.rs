//! Authentication and authorization.
//!
//! A server finds out who calls ([`Identity`]) from credentials the call presents, through
//! [`AuthProvider`]s: [`BearerAuth`] (`authorization: Bearer …`), [`ApiKeyAuth`] (a header,
//! `x-api-key` by default) and [`MtlsAuth`] (the client certificate the TLS handshake
//! verified). An [`Authenticator`] tries its providers in order — the first one that finds
//! its kind of credentials decides, and a call with none is refused as `unauthenticated` —
//! then asks its [`Authorize`] policy (a closure, or a [`MethodPolicy`] table) whether that
//! identity may call the method (`permission_denied` if not). The identity then travels
//! with the call ([`ServerCall::identity`](crate::rpc::ServerCall::identity)); handlers read
//! it with [`IdentityExt::identity`] or `request.extensions().get::<Identity>()`.
//!
//! On the client side, [`BearerAuth::client`] and [`ApiKeyAuth::client`] add the credentials
//! to every call.
//!
//! ```
//! use connect_plugin::interceptors::auth::{
//!     ApiKeyAuth, Authenticator, BearerAuth, Credentials, Identity, MethodPolicy,
//! };
//!
//! let tokens = Credentials::new()
//!     .with("token-of-the-host", Identity::new("host").with_role("admin"))
//!     .with("token-of-a-plugin", Identity::new("kv-plugin"));
//! let keys = Credentials::new().with("key-of-a-dashboard", Identity::new("dashboard"));
//! let auth = Authenticator::new()
//!     .provider(BearerAuth::server(tokens))
//!     .provider(ApiKeyAuth::server(keys))
//!     .authorize(
//!         MethodPolicy::allow_unlisted().allow_role("/kv.v1.KVService/Delete", "admin"),
//!     )
//!     .public("grpc.health.v1.Health");
//! let router = connect_plugin::Router::new().interceptor(auth);
//! # let _ = router;
//! ```
//!
//! Secrets are never compared directly: each is reduced to an HMAC-SHA-256 digest under a
//! random key made when the process starts, and digests (all the same length) are compared
//! in constant time with `subtle`, against every valid credential without stopping at a
//! match. Neither the position of the first wrong byte nor the length of a valid secret
//! shows in the time a check takes, and error messages never repeat what was presented.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use futures_util::future::BoxFuture;
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderName, HeaderValue};
use ring::hmac;
use rustls::pki_types::CertificateDer;
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use crate::protocol::Status;
use crate::rpc::{
    CallOutput, ClientCall, ClientNext, ClientOutput, Interceptor, MethodDescriptor,
    PeerCertificates, ServerCall, ServerNext,
};
use crate::transport::Connection;

/// The caller's identity lives in the call layer, which carries it; re-exported here, where
/// it is made.
pub use crate::rpc::{Identity, IdentityExt};

/// The header [`ApiKeyAuth`] uses unless told otherwise.
pub const DEFAULT_API_KEY_HEADER: HeaderName = HeaderName::from_static("x-api-key");

// ---------------------------------------------------------------------------------------
// Secrets: keyed digests compared in constant time
// ---------------------------------------------------------------------------------------

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
fn provider_id() -> u64 {
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
struct Verified<K>(Vec<(u64, K, Identity)>);

impl<K> Default for Verified<K> {
    fn default() -> Self {
        Verified(Vec::new())
    }
}

impl<K> Verified<K> {
    fn remember(&mut self, provider: u64, key: K, identity: Identity) {
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
    fn find(&self, provider: u64, certs: &PeerCertificates) -> Option<Identity> {
        self.0
            .iter()
            .find(|(p, c, _)| *p == provider && c.same_chain(certs))
            .map(|(_, _, id)| id.clone())
    }
}

/// A set of valid secrets (bearer tokens or API keys), each standing for an [`Identity`].
/// Only keyed digests of the secrets are kept.
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
    fn stamped(mut self, scheme: &'static str) -> Self {
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
    fn verify_on(&self, conn: Option<&Connection>, presented: &[u8]) -> Option<Identity> {
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

/// A client-side secret that cannot be sent.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The secret is empty.
    #[error("the {what} is empty")]
    Empty {
        /// What the secret is ("bearer token", "API key").
        what: &'static str,
    },
    /// The secret has characters an HTTP header cannot carry.
    #[error("the {what} may hold only visible ASCII characters (no spaces or control characters)")]
    NotHeaderSafe {
        /// What the secret is.
        what: &'static str,
    },
}

/// The secret as a header value, marked sensitive (so HTTP/2 never indexes it and `Debug`
/// shows `Sensitive`).
fn secret_header_value(
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

/// Unmarks a client's secret as sensitive, so that HTTP/2 may index it
/// ([`ApiKeyAuth::indexed`]). (Bearer tokens have no such option: the `h2` crate never
/// indexes `authorization` values, sensitive or not.)
fn allow_indexing(value: &mut Option<HeaderValue>) {
    if let Some(value) = value {
        value.set_sensitive(false);
    }
}

/// Client side: adds `value` under `name` unless the call already carries that header (set
/// per call, which then wins).
fn inject(headers: &mut HeaderMap, name: &HeaderName, value: &Option<HeaderValue>) {
    if let Some(value) = value {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
}

// ---------------------------------------------------------------------------------------
// Providers
// ---------------------------------------------------------------------------------------

/// What an [`AuthProvider`] made of a call.
#[derive(Debug)]
pub enum Authentication {
    /// The call carries none of this provider's credentials; the next provider may look.
    Absent,
    /// The credentials are valid and stand for this identity.
    Verified(Identity),
    /// The call carries this provider's credentials and they are not valid (the status is
    /// `unauthenticated` and names no secret).
    Rejected(Status),
}

/// One way of authenticating a call on the server.
pub trait AuthProvider: Send + Sync + 'static {
    /// What credentials the provider looks for, for the error a call without any gets
    /// ("a bearer token in the authorization header").
    fn expects(&self) -> String;

    /// Looks for this provider's credentials in the call and checks them. The call is
    /// mutable so that the provider can mark the headers it read as sensitive.
    fn authenticate(&self, call: &mut ServerCall) -> Authentication;
}

fn unauthenticated(method: &MethodDescriptor, provider: &str, reason: &str) -> Authentication {
    tracing::debug!(
        method = method.path,
        provider,
        reason,
        "call refused: unauthenticated"
    );
    Authentication::Rejected(Status::unauthenticated(reason.to_owned()))
}

/// Bearer tokens (`authorization: Bearer <token>`, RFC 6750): the client adds its token to
/// every call; the server accepts the tokens of its [`Credentials`].
#[derive(Clone)]
pub struct BearerAuth {
    token: Option<HeaderValue>,
    credentials: Credentials,
}

impl std::fmt::Debug for BearerAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerAuth")
            .field("sends_token", &self.token.is_some())
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl BearerAuth {
    /// Client side: sends `token` with every call (unless a call sets its own
    /// `authorization` header).
    pub fn client(token: &str) -> Result<Self, AuthError> {
        Ok(BearerAuth {
            token: Some(secret_header_value("Bearer ", token, "bearer token")?),
            credentials: Credentials::new(),
        })
    }

    /// Server side: accepts the tokens of `credentials`.
    pub fn server(credentials: Credentials) -> Self {
        BearerAuth {
            token: None,
            credentials: credentials.stamped("bearer"),
        }
    }
}

impl AuthProvider for BearerAuth {
    fn expects(&self) -> String {
        "a bearer token in the authorization header".to_owned()
    }

    fn authenticate(&self, call: &mut ServerCall) -> Authentication {
        let method = &call.method;
        let conn = call.connection.as_deref();
        read_secret(&mut call.headers, &AUTHORIZATION, |bytes, several| {
            // `Bearer` and the token, separated by spaces; the scheme is case-insensitive.
            let (scheme, token) = match bytes.iter().position(|&b| b == b' ') {
                Some(i) => (&bytes[..i], trim_spaces(&bytes[i..])),
                None => (bytes, &[][..]),
            };
            if !scheme.eq_ignore_ascii_case(b"bearer") {
                // Another scheme (Basic, say): not ours.
                return Authentication::Absent;
            }
            if several {
                unauthenticated(
                    method,
                    "bearer",
                    "the call has more than one authorization header",
                )
            } else if token.is_empty() {
                unauthenticated(
                    method,
                    "bearer",
                    "the authorization header holds no bearer token",
                )
            } else {
                match self.credentials.verify_on(conn, token) {
                    Some(id) => Authentication::Verified(id),
                    None => unauthenticated(method, "bearer", "the bearer token is not valid"),
                }
            }
        })
        .unwrap_or(Authentication::Absent)
    }
}

fn trim_spaces(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

/// Reads secret header `name` with one lookup: marks its values sensitive (so that a handler
/// logging the request's metadata with `Debug` does not print the secret) and gives `f` the
/// first value and whether there are more. `None` when the call has no such header.
fn read_secret<R>(
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

impl Interceptor for BearerAuth {
    fn intercept_server<'a>(
        &'a self,
        call: ServerCall,
        next: ServerNext<'a>,
    ) -> BoxFuture<'a, Result<CallOutput, Status>> {
        authenticate_alone(self, call, next)
    }

    fn intercept_client<'a>(
        &'a self,
        mut call: ClientCall,
        next: ClientNext<'a>,
    ) -> BoxFuture<'a, Result<ClientOutput, Status>> {
        inject(&mut call.headers, &AUTHORIZATION, &self.token);
        next.run(call)
    }
}

/// API keys in a header (`x-api-key` by default): the client adds its key to every call;
/// the server accepts the keys of its [`Credentials`].
#[derive(Clone)]
pub struct ApiKeyAuth {
    header: HeaderName,
    key: Option<HeaderValue>,
    credentials: Credentials,
}

impl std::fmt::Debug for ApiKeyAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyAuth")
            .field("header", &self.header)
            .field("sends_key", &self.key.is_some())
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl ApiKeyAuth {
    /// Client side: sends `key` with every call (unless a call sets the header itself).
    pub fn client(key: &str) -> Result<Self, AuthError> {
        Ok(ApiKeyAuth {
            header: DEFAULT_API_KEY_HEADER,
            key: Some(secret_header_value("", key, "API key")?),
            credentials: Credentials::new(),
        })
    }

    /// Server side: accepts the keys of `credentials`.
    pub fn server(credentials: Credentials) -> Self {
        ApiKeyAuth {
            header: DEFAULT_API_KEY_HEADER,
            key: None,
            credentials: credentials.stamped("api-key"),
        }
    }

    /// Uses header `name` instead of `x-api-key`.
    pub fn header(mut self, name: HeaderName) -> Self {
        self.header = name;
        self
    }

    /// Lets HTTP/2 keep the key in the connection's header table (HPACK indexing): the
    /// first call on a connection sends it, later calls a one-byte reference, which saves
    /// encoding and decoding it on every call (about a microsecond a call in this
    /// repository's benchmark).
    ///
    /// By default the key is sent never-indexed (RFC 7541 §7.1.3), as curl and nghttp2
    /// send `authorization` and reqwest marks it: whoever can add headers of their own to
    /// requests on the same connection and watch the sizes of its encrypted frames could
    /// otherwise test guesses of the whole secret. Use this for high-entropy secrets
    /// (random, 128 bits or more) or on links no untrusted party shares. The value is then
    /// no longer marked sensitive, so a `Debug` print of a call's metadata shows it.
    pub fn indexed(mut self) -> Self {
        allow_indexing(&mut self.key);
        self
    }
}

impl AuthProvider for ApiKeyAuth {
    fn expects(&self) -> String {
        format!("an API key in the {} header", self.header)
    }

    fn authenticate(&self, call: &mut ServerCall) -> Authentication {
        let method = &call.method;
        let conn = call.connection.as_deref();
        let header = &self.header;
        read_secret(&mut call.headers, header, |value, several| {
            let key = trim_spaces(value);
            if several {
                unauthenticated(
                    method,
                    "api-key",
                    &format!("the call has more than one {header} header"),
                )
            } else if key.is_empty() {
                unauthenticated(method, "api-key", &format!("the {header} header is empty"))
            } else {
                match self.credentials.verify_on(conn, key) {
                    Some(id) => Authentication::Verified(id),
                    None => unauthenticated(method, "api-key", "the API key is not valid"),
                }
            }
        })
        .unwrap_or(Authentication::Absent)
    }
}

impl Interceptor for ApiKeyAuth {
    fn intercept_server<'a>(
        &'a self,
        call: ServerCall,
        next: ServerNext<'a>,
    ) -> BoxFuture<'a, Result<CallOutput, Status>> {
        authenticate_alone(self, call, next)
    }

    fn intercept_client<'a>(
        &'a self,
        mut call: ClientCall,
        next: ClientNext<'a>,
    ) -> BoxFuture<'a, Result<ClientOutput, Status>> {
        inject(&mut call.headers, &self.header, &self.key);
        next.run(call)
    }
}

// ---------------------------------------------------------------------------------------
// Mutual TLS
// ---------------------------------------------------------------------------------------

/// What names an mTLS identity's principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PrincipalSource {
    /// The subject's common name (CN); the last one if the subject has several.
    #[default]
    CommonName,
    /// The first DNS name of the subject-alternative-name extension.
    DnsName,
    /// The first URI of the subject-alternative-name extension (a SPIFFE ID, say).
    Uri,
    /// The SHA-256 fingerprint of the certificate's public key (SubjectPublicKeyInfo), as
    /// 64 lowercase hex digits: stable across re-issued certificates for the same key.
    SpkiSha256,
}

/// A certificate that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// Not an X.509 v3 certificate rustls' parser accepts.
    #[error("the certificate cannot be parsed: {0}")]
    Parse(String),
    /// The subject name is not well-formed DER.
    #[error("the certificate's subject name is malformed")]
    Subject,
}

/// The names in a certificate that identities are made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    common_name: Option<String>,
    dns_names: Vec<String>,
    uris: Vec<String>,
    spki_sha256: [u8; 32],
}

impl CertInfo {
    /// Reads a DER certificate (with rustls' own parser, `rustls-webpki`; the common name
    /// with a small DER reader over the subject it returns).
    pub fn parse(cert: &CertificateDer<'_>) -> Result<CertInfo, CertError> {
        let ee =
            webpki::EndEntityCert::try_from(cert).map_err(|e| CertError::Parse(e.to_string()))?;
        let spki = ee.subject_public_key_info();
        let digest = ring::digest::digest(&ring::digest::SHA256, spki.as_ref());
        let mut spki_sha256 = [0u8; 32];
        spki_sha256.copy_from_slice(&digest.as_ref()[..32]);
        Ok(CertInfo {
            common_name: der::common_name(ee.subject()).ok_or(CertError::Subject)?,
            dns_names: ee.valid_dns_names().map(str::to_owned).collect(),
            uris: ee.valid_uri_names().map(str::to_owned).collect(),
            spki_sha256,
        })
    }

    /// The subject's common name (the last, if several).
    pub fn common_name(&self) -> Option<&str> {
        self.common_name.as_deref()
    }

    /// The DNS names of the subject-alternative-name extension.
    pub fn dns_names(&self) -> &[String] {
        &self.dns_names
    }

    /// The URIs of the subject-alternative-name extension.
    pub fn uris(&self) -> &[String] {
        &self.uris
    }

    /// SHA-256 of the DER SubjectPublicKeyInfo.
    pub fn spki_sha256(&self) -> &[u8; 32] {
        &self.spki_sha256
    }

    /// [`CertInfo::spki_sha256`] as 64 lowercase hex digits.
    pub fn spki_sha256_hex(&self) -> String {
        hex(&self.spki_sha256)
    }

    /// The principal `source` names, if the certificate has it.
    pub fn principal(&self, source: PrincipalSource) -> Option<String> {
        match source {
            PrincipalSource::CommonName => self.common_name.clone(),
            PrincipalSource::DnsName => self.dns_names.first().cloned(),
            PrincipalSource::Uri => self.uris.first().cloned(),
            PrincipalSource::SpkiSha256 => Some(self.spki_sha256_hex()),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

type CertMapper = dyn Fn(&CertInfo) -> Option<Identity> + Send + Sync;

/// Identities from the client certificate a mutual-TLS handshake verified (the server's
/// [`PeerCertificates`]). It trusts whatever the TLS server's client-certificate verifier
/// accepted, so pair it with a verifier that accepts only your CA's certificates (or, with
/// the runtime's automatic mTLS, exactly the host's). Calls over plain TCP, Unix sockets or
/// in-memory links carry no certificate, so this provider finds nothing there.
///
/// The identity is named after [`PrincipalSource`] and carries the attributes
/// `tls.common-name`, `tls.dns-names` and `tls.uris` (comma-separated; each only when
/// present) and `tls.spki-sha256`. [`MtlsAuth::map`] replaces this with a mapping of its
/// own, which can also refuse certificates.
#[derive(Clone)]
pub struct MtlsAuth {
    source: PrincipalSource,
    mapper: Option<Arc<CertMapper>>,
    /// What it made of a connection's certificates is remembered under this.
    id: u64,
}

impl std::fmt::Debug for MtlsAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MtlsAuth")
            .field("source", &self.source)
            .field("mapped", &self.mapper.is_some())
            .finish()
    }
}

impl Default for MtlsAuth {
    fn default() -> Self {
        MtlsAuth::new(PrincipalSource::default())
    }
}

impl MtlsAuth {
    /// Names identities after `source`; a certificate without that name is refused.
    pub fn new(source: PrincipalSource) -> Self {
        MtlsAuth {
            source,
            mapper: None,
            id: provider_id(),
        }
    }

    /// Makes identities with `mapper` instead; a certificate it answers `None` for is
    /// refused (`unauthenticated`). An allow-list of public-key fingerprints, say.
    pub fn map(
        mut self,
        mapper: impl Fn(&CertInfo) -> Option<Identity> + Send + Sync + 'static,
    ) -> Self {
        self.mapper = Some(Arc::new(mapper));
        self.id = provider_id();
        self
    }

    /// The identity a verified chain stands for.
    pub fn identity_for(&self, certs: &PeerCertificates) -> Result<Identity, Status> {
        let info = CertInfo::parse(certs.end_entity())
            .map_err(|e| Status::unauthenticated(format!("the client certificate: {e}")))?;
        let identity = match &self.mapper {
            Some(map) => map(&info).ok_or_else(|| {
                Status::unauthenticated("the client certificate is not one this server accepts")
            })?,
            None => self.default_identity(&info)?,
        };
        Ok(identity.with_scheme("mtls"))
    }

    fn default_identity(&self, info: &CertInfo) -> Result<Identity, Status> {
        let principal = info.principal(self.source).ok_or_else(|| {
            let what = match self.source {
                PrincipalSource::CommonName => "common name",
                PrincipalSource::DnsName => "DNS name",
                PrincipalSource::Uri => "URI name",
                PrincipalSource::SpkiSha256 => "public key",
            };
            Status::unauthenticated(format!("the client certificate has no {what}"))
        })?;
        let mut id =
            Identity::new(principal).with_attribute("tls.spki-sha256", info.spki_sha256_hex());
        if let Some(cn) = &info.common_name {
            id = id.with_attribute("tls.common-name", cn.clone());
        }
        if !info.dns_names.is_empty() {
            id = id.with_attribute("tls.dns-names", info.dns_names.join(","));
        }
        if !info.uris.is_empty() {
            id = id.with_attribute("tls.uris", info.uris.join(","));
        }
        Ok(id)
    }
}

impl AuthProvider for MtlsAuth {
    fn expects(&self) -> String {
        "a verified TLS client certificate".to_owned()
    }

    fn authenticate(&self, call: &mut ServerCall) -> Authentication {
        let Some(certs) = call.peer_certificates() else {
            return Authentication::Absent;
        };
        // A connection's certificates are read once: its later calls find the identity made
        // of them beside them (the first provider to read them), or in the connection's
        // state (by the same chain, by pointer: certificates a handler put in the extensions,
        // or a second provider).
        let conn = call.connection.as_deref();
        let own = conn.filter(|conn| conn.certificates().is_some());
        if let Some(id) = own.and_then(|conn| conn.certificate_identity::<Identity>(self.id)) {
            return Authentication::Verified(id.clone());
        }
        let known = conn.and_then(|conn| {
            conn.with_state(|state| {
                state
                    .get::<Verified<PeerCertificates>>()
                    .and_then(|v| v.find(self.id, certs))
            })
        });
        if let Some(id) = known {
            return Authentication::Verified(id);
        }
        match self.identity_for(certs) {
            Ok(id) => {
                let kept =
                    own.is_some_and(|conn| conn.keep_certificate_identity(self.id, id.clone()));
                if let (Some(conn), false) = (conn, kept) {
                    conn.with_state(|state| {
                        state
                            .get_or_insert_default::<Verified<PeerCertificates>>()
                            .remember(self.id, certs.clone(), id.clone());
                    });
                }
                Authentication::Verified(id)
            }
            Err(status) => {
                tracing::debug!(
                    method = call.method.path,
                    provider = "mtls",
                    reason = status.message(),
                    "call refused: unauthenticated"
                );
                Authentication::Rejected(status)
            }
        }
    }
}

impl Interceptor for MtlsAuth {
    fn intercept_server<'a>(
        &'a self,
        call: ServerCall,
        next: ServerNext<'a>,
    ) -> BoxFuture<'a, Result<CallOutput, Status>> {
        authenticate_alone(self, call, next)
    }
}

/// A small, bounds-checked DER reader: just enough to find the common name in a subject
/// that `rustls-webpki` already parsed as a certificate (which exposes no CN of its own).
mod der {
    /// The first element of `input`: its tag, its contents and what follows it.
    pub(super) fn next(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = input.split_first()?;
        if tag & 0x1f == 0x1f {
            return None; // high tag numbers: never in a name
        }
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let (len_bytes, rest) = rest.split_at(n);
            let len = len_bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            (len, rest)
        };
        if rest.len() < len {
            return None;
        }
        let (contents, rest) = rest.split_at(len);
        Some((tag, contents, rest))
    }

    const SET: u8 = 0x31;
    const SEQUENCE: u8 = 0x30;
    const OID: u8 = 0x06;
    /// id-at-commonName, 2.5.4.3.
    const COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];

    /// The common name of a subject given as the contents of its RDNSequence; `None` when
    /// malformed, `Some(None)` when it has no CN. With several CNs, the last one (the most
    /// specific, as Go's crypto/x509 does).
    pub(super) fn common_name(mut rdns: &[u8]) -> Option<Option<String>> {
        let mut cn = None;
        while !rdns.is_empty() {
            let (tag, mut set, rest) = next(rdns)?;
            rdns = rest;
            if tag != SET {
                return None;
            }
            while !set.is_empty() {
                let (tag, atv, rest) = next(set)?;
                set = rest;
                if tag != SEQUENCE {
                    return None;
                }
                let (tag, oid, value) = next(atv)?;
                if tag != OID {
                    return None;
                }
                if oid == COMMON_NAME {
                    let (tag, bytes, _) = next(value)?;
                    cn = Some(directory_string(tag, bytes)?);
                }
            }
        }
        Some(cn)
    }

    fn directory_string(tag: u8, bytes: &[u8]) -> Option<String> {
        match tag {
            // UTF8String
            0x0c => String::from_utf8(bytes.to_vec()).ok(),
            // PrintableString, IA5String, TeletexString (ASCII only)
            0x13 | 0x16 | 0x14 => bytes
                .is_ascii()
                .then(|| String::from_utf8_lossy(bytes).into_owned()),
            // BMPString: UTF-16BE
            0x1e if bytes.len() % 2 == 0 => {
                let units = bytes
                    .chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]));
                char::decode_utf16(units)
                    .collect::<Result<String, _>>()
                    .ok()
            }
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Authorization
// ---------------------------------------------------------------------------------------

/// Decides whether an authenticated identity may call a method. Closures
/// `Fn(&Identity, &MethodDescriptor) -> bool` are policies too.
pub trait Authorize: Send + Sync + 'static {
    /// Whether `identity` may call `method`.
    fn authorize(&self, identity: &Identity, method: &MethodDescriptor) -> bool;
}

impl<F> Authorize for F
where
    F: Fn(&Identity, &MethodDescriptor) -> bool + Send + Sync + 'static,
{
    fn authorize(&self, identity: &Identity, method: &MethodDescriptor) -> bool {
        self(identity, method)
    }
}

/// A table of which principals and roles may call which methods or services. A method's
/// own entry wins over its service's; a method with neither is allowed or denied as the
/// constructor said.
#[derive(Debug, Clone)]
pub struct MethodPolicy {
    rules: HashMap<String, Allowed>,
    unlisted_allowed: bool,
}

#[derive(Debug, Clone, Default)]
struct Allowed {
    principals: HashSet<String>,
    roles: HashSet<String>,
}

impl MethodPolicy {
    /// Methods not in the table may be called by any authenticated identity.
    pub fn allow_unlisted() -> Self {
        MethodPolicy {
            rules: HashMap::new(),
            unlisted_allowed: true,
        }
    }

    /// Methods not in the table may be called by nobody.
    pub fn deny_unlisted() -> Self {
        MethodPolicy {
            rules: HashMap::new(),
            unlisted_allowed: false,
        }
    }

    /// Lets `principal` call `target`: a method path (`/pkg.Service/Method`) or a whole
    /// service (`pkg.Service`).
    pub fn allow_principal(mut self, target: &str, principal: impl Into<String>) -> Self {
        self.rules
            .entry(target_key(target))
            .or_default()
            .principals
            .insert(principal.into());
        self
    }

    /// Lets every identity with `role` call `target` (a method path or a service name).
    pub fn allow_role(mut self, target: &str, role: impl Into<String>) -> Self {
        self.rules
            .entry(target_key(target))
            .or_default()
            .roles
            .insert(role.into());
        self
    }
}

/// `/pkg.Service/Method` for a method (with or without the leading slash), `pkg.Service`
/// for a service (with or without slashes around it).
fn target_key(target: &str) -> String {
    let trimmed = target.trim_matches('/');
    if trimmed.contains('/') {
        format!("/{trimmed}")
    } else {
        trimmed.to_owned()
    }
}

/// Whether `method` is `target` (as [`target_key`] wrote it) or belongs to it.
fn targets<'t, T>(table: &'t HashMap<String, T>, method: &MethodDescriptor) -> Option<&'t T> {
    table
        .get(method.path)
        .or_else(|| table.get(method.service()))
}

impl Authorize for MethodPolicy {
    fn authorize(&self, identity: &Identity, method: &MethodDescriptor) -> bool {
        match targets(&self.rules, method) {
            Some(allowed) => {
                allowed.principals.contains(identity.principal())
                    || identity.roles().any(|r| allowed.roles.contains(r))
            }
            None => self.unlisted_allowed,
        }
    }
}

// ---------------------------------------------------------------------------------------
// The authenticator
// ---------------------------------------------------------------------------------------

/// The server interceptor: authenticates each call with the first of its providers that
/// finds credentials, authorizes the identity for the method, and attaches it to the call.
///
/// - No provider finds credentials → `unauthenticated`, naming what would do.
/// - The first provider that finds credentials decides: invalid ones are refused
///   (`unauthenticated`) without asking the providers after it.
/// - The policy refuses → `permission_denied`.
/// - Public methods ([`Authenticator::public`]) pass without credentials; credentials they
///   do carry are still checked, and the identity attached.
///
/// Streaming calls are checked once, before the handler runs.
#[derive(Clone, Default)]
pub struct Authenticator {
    providers: Vec<Arc<dyn AuthProvider>>,
    policy: Option<Arc<dyn Authorize>>,
    public: HashSet<String>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("providers", &self.providers.len())
            .field("policy", &self.policy.is_some())
            .field("public", &self.public)
            .finish()
    }
}

impl Authenticator {
    /// An authenticator without providers (which refuses every non-public call).
    pub fn new() -> Self {
        Authenticator::default()
    }

    /// Adds a provider, tried after those added before it.
    pub fn provider(mut self, provider: impl AuthProvider) -> Self {
        self.providers.push(Arc::new(provider));
        self
    }

    /// Adds a shared provider.
    pub fn provider_arc(mut self, provider: Arc<dyn AuthProvider>) -> Self {
        self.providers.push(provider);
        self
    }

    /// Sets the authorization policy (without one, every authenticated identity may call
    /// every method).
    pub fn authorize(mut self, policy: impl Authorize) -> Self {
        self.policy = Some(Arc::new(policy));
        self
    }

    /// Lets calls to `target` (a method path, or a service name for all its methods) through
    /// without credentials.
    pub fn public(mut self, target: &str) -> Self {
        self.public.insert(target_key(target));
        self
    }

    /// Authenticates and authorizes `call`: the identity it carries (`None` for a public
    /// method called without credentials), or the status to refuse it with. The identity
    /// is not attached; the interceptor does that.
    pub fn check(&self, call: &mut ServerCall) -> Result<Option<Identity>, Status> {
        let public = !self.public.is_empty()
            && (self.public.contains(call.method.path)
                || self.public.contains(call.method.service()));
        check(&self.providers, self.policy.as_deref(), public, call)
    }
}

fn check<P: std::ops::Deref<Target = dyn AuthProvider>>(
    providers: &[P],
    policy: Option<&dyn Authorize>,
    public: bool,
    call: &mut ServerCall,
) -> Result<Option<Identity>, Status> {
    let mut identity = None;
    for provider in providers {
        match provider.authenticate(call) {
            Authentication::Absent => continue,
            Authentication::Rejected(status) => return Err(status),
            Authentication::Verified(id) => {
                identity = Some(id);
                break;
            }
        }
    }
    let Some(identity) = identity else {
        if public {
            return Ok(None);
        }
        let expected: Vec<String> = providers.iter().map(|p| p.expects()).collect();
        tracing::debug!(
            method = call.method.path,
            "call refused: unauthenticated (no credentials)"
        );
        return Err(Status::unauthenticated(if expected.is_empty() {
            "this server accepts no credentials for this method".to_owned()
        } else {
            format!(
                "the call carries no credentials; it needs {}",
                expected.join(", or ")
            )
        }));
    };
    if !public {
        if let Some(policy) = policy {
            if !policy.authorize(&identity, &call.method) {
                tracing::debug!(
                    method = call.method.path,
                    principal = identity.principal(),
                    "call refused: permission denied"
                );
                return Err(Status::permission_denied(format!(
                    "{} may not call {}",
                    identity.principal(),
                    call.method.path
                )));
            }
        }
    }
    Ok(Some(identity))
}

/// Runs the rest of the chain with `identity` attached, or answers `refusal`.
fn proceed<'a>(
    result: Result<Option<Identity>, Status>,
    mut call: ServerCall,
    next: ServerNext<'a>,
) -> BoxFuture<'a, Result<CallOutput, Status>> {
    match result {
        Ok(identity) => {
            if identity.is_some() {
                call.identity = identity;
            }
            next.run(call)
        }
        Err(status) => Box::pin(std::future::ready(Err(status))),
    }
}

/// A provider used on its own as the server interceptor.
fn authenticate_alone<'a>(
    provider: &'a dyn AuthProvider,
    mut call: ServerCall,
    next: ServerNext<'a>,
) -> BoxFuture<'a, Result<CallOutput, Status>> {
    let result = check(&[provider], None, false, &mut call);
    proceed(result, call, next)
}

impl Interceptor for Authenticator {
    fn intercept_server<'a>(
        &'a self,
        mut call: ServerCall,
        next: ServerNext<'a>,
    ) -> BoxFuture<'a, Result<CallOutput, Status>> {
        let result = self.check(&mut call);
        proceed(result, call, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Extensions;

    use crate::protocol::{Codec, Protocol, StreamType};
    use crate::rpc::{CallInput, Idempotency};

    const GET: MethodDescriptor =
        MethodDescriptor::new("/kv.v1.KV/Get", StreamType::Unary, Idempotency::Unknown);
    const DELETE: MethodDescriptor =
        MethodDescriptor::new("/kv.v1.KV/Delete", StreamType::Unary, Idempotency::Unknown);
    const HEALTH: MethodDescriptor = MethodDescriptor::new(
        "/grpc.health.v1.Health/Check",
        StreamType::Unary,
        Idempotency::Unknown,
    );

    fn call(method: MethodDescriptor, headers: &[(&str, &str)]) -> ServerCall {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        ServerCall {
            method,
            headers: map,
            extensions: Extensions::new(),
            connection: None,
            identity: None,
            deadline: None,
            protocol: Protocol::Connect,
            codec: Codec::Proto,
            input: CallInput::Unary(bytes::Bytes::new()),
        }
    }

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
        let alice = BearerAuth::server(Credentials::new().with("t-alice", Identity::new("alice")));
        let other = BearerAuth::server(Credentials::new().with("t-bob", Identity::new("bob")));

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
        let many = BearerAuth::server(many);
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

    #[test]
    fn bearer_header_parsing() {
        let auth = BearerAuth::server(Credentials::new().with("abc", Identity::new("alice")));
        let verdict = |headers: &[(&str, &str)]| auth.authenticate(&mut call(GET, headers));
        let ok = |v: Authentication| match v {
            Authentication::Verified(id) => id,
            other => panic!("{other:?}"),
        };
        let rejected = |v: Authentication| match v {
            Authentication::Rejected(s) => {
                assert_eq!(s.code(), crate::Code::Unauthenticated);
                s.message().to_owned()
            }
            other => panic!("{other:?}"),
        };
        let id = ok(verdict(&[("authorization", "Bearer abc")]));
        assert_eq!((id.principal(), id.scheme()), ("alice", Some("bearer")));
        ok(verdict(&[("authorization", "bearer   abc ")]));
        assert!(matches!(verdict(&[]), Authentication::Absent));
        assert!(matches!(
            verdict(&[("authorization", "Basic YTpi")]),
            Authentication::Absent
        ));
        let m = rejected(verdict(&[("authorization", "Bearer abd")]));
        assert!(!m.contains("abd"), "{m}");
        rejected(verdict(&[("authorization", "Bearer")]));
        rejected(verdict(&[("authorization", "Bearer ")]));
        rejected(verdict(&[
            ("authorization", "Bearer abc"),
            ("authorization", "Bearer abc"),
        ]));

        // The header is marked sensitive for whoever looks at the metadata next.
        let mut c = call(GET, &[("authorization", "Bearer abc")]);
        ok(auth.authenticate(&mut c));
        assert!(c.headers.get(AUTHORIZATION).unwrap().is_sensitive());
        assert!(!format!("{:?}", c.headers).contains("abc"));
    }

    #[test]
    fn client_secrets_are_checked_and_sensitive() {
        assert!(matches!(
            BearerAuth::client(""),
            Err(AuthError::Empty { .. })
        ));
        assert!(matches!(
            BearerAuth::client("a b"),
            Err(AuthError::NotHeaderSafe { .. })
        ));
        assert!(matches!(
            ApiKeyAuth::client("é"),
            Err(AuthError::NotHeaderSafe { .. })
        ));
        let b = BearerAuth::client("tok").unwrap();
        assert!(b.token.as_ref().unwrap().is_sensitive());
        assert!(!format!("{b:?}").contains("tok\""));
        let err = BearerAuth::client("bad token").unwrap_err().to_string();
        assert!(!err.contains("bad token"), "{err}");
    }

    #[test]
    fn api_key_with_a_custom_header() {
        let auth = ApiKeyAuth::server(Credentials::new().with("k1", Identity::new("bob")))
            .header(HeaderName::from_static("x-key"));
        assert!(matches!(
            auth.authenticate(&mut call(GET, &[("x-api-key", "k1")])),
            Authentication::Absent
        ));
        match auth.authenticate(&mut call(GET, &[("x-key", "k1")])) {
            Authentication::Verified(id) => assert_eq!(id.scheme(), Some("api-key")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            auth.authenticate(&mut call(GET, &[("x-key", "k2")])),
            Authentication::Rejected(_)
        ));
        assert!(matches!(
            auth.authenticate(&mut call(GET, &[("x-key", "")])),
            Authentication::Rejected(_)
        ));
    }

    #[test]
    fn authenticator_composition_and_policy() {
        let auth = Authenticator::new()
            .provider(BearerAuth::server(
                Credentials::new()
                    .with("admin-token", Identity::new("root").with_role("admin"))
                    .with("user-token", Identity::new("alice")),
            ))
            .provider(ApiKeyAuth::server(
                Credentials::new().with("key", Identity::new("svc")),
            ))
            .authorize(
                MethodPolicy::allow_unlisted()
                    .allow_role("/kv.v1.KV/Delete", "admin")
                    .allow_principal("kv.v1.KV/Delete", "svc"),
            )
            .public("grpc.health.v1.Health");
        let check = |m, h: &[(&str, &str)]| auth.check(&mut call(m, h));

        assert_eq!(
            check(GET, &[("authorization", "Bearer user-token")])
                .unwrap()
                .unwrap()
                .principal(),
            "alice"
        );
        assert_eq!(
            check(GET, &[("x-api-key", "key")])
                .unwrap()
                .unwrap()
                .principal(),
            "svc"
        );
        // The first provider that finds credentials decides.
        let e = check(
            GET,
            &[("authorization", "Bearer nope"), ("x-api-key", "key")],
        )
        .unwrap_err();
        assert_eq!(e.code(), crate::Code::Unauthenticated);
        let e = check(GET, &[]).unwrap_err();
        assert_eq!(e.code(), crate::Code::Unauthenticated);
        assert!(e.message().contains("bearer token"), "{}", e.message());
        assert!(e.message().contains("x-api-key"), "{}", e.message());

        let e = check(DELETE, &[("authorization", "Bearer user-token")]).unwrap_err();
        assert_eq!(e.code(), crate::Code::PermissionDenied);
        assert_eq!(e.message(), "alice may not call /kv.v1.KV/Delete");
        check(DELETE, &[("authorization", "Bearer admin-token")]).unwrap();
        check(DELETE, &[("x-api-key", "key")]).unwrap();

        assert!(check(HEALTH, &[]).unwrap().is_none());
        assert!(check(HEALTH, &[("x-api-key", "key")]).unwrap().is_some());
        assert!(check(HEALTH, &[("x-api-key", "bad")]).is_err());

        let none = Authenticator::new();
        assert_eq!(
            none.check(&mut call(GET, &[])).unwrap_err().code(),
            crate::Code::Unauthenticated
        );
    }

    #[test]
    fn method_policy_targets() {
        let alice = Identity::new("alice");
        let p = MethodPolicy::deny_unlisted()
            .allow_principal("kv.v1.KV", "alice")
            .allow_principal("/kv.v1.KV/Delete/", "bob");
        // The method's own entry wins over its service's.
        assert!(p.authorize(&alice, &GET));
        assert!(!p.authorize(&alice, &DELETE));
        assert!(p.authorize(&Identity::new("bob"), &DELETE));
        assert!(!p.authorize(&alice, &HEALTH));
        let closure = |id: &Identity, m: &MethodDescriptor| id.has_role("r") || m.method() == "Get";
        assert!(closure.authorize(&alice, &GET));
        assert!(!closure.authorize(&alice, &DELETE));
        assert!(closure.authorize(&alice.clone().with_role("r"), &DELETE));
    }

    fn cert(cn: Option<&str>, sans: &[&str]) -> (CertificateDer<'static>, Vec<u8>) {
        let mut params =
            rcgen::CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Example");
        if let Some(cn) = cn {
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, cn);
        }
        let key = rcgen::KeyPair::generate().unwrap();
        let c = params.self_signed(&key).unwrap();
        (
            c.der().clone(),
            rcgen::PublicKeyData::subject_public_key_info(&key),
        )
    }

    #[test]
    fn cert_info_reads_names_and_fingerprint() {
        let (der, spki) = cert(Some("plugin-a"), &["a.example", "b.example"]);
        let info = CertInfo::parse(&der).unwrap();
        assert_eq!(info.common_name(), Some("plugin-a"));
        assert_eq!(info.dns_names(), ["a.example", "b.example"]);
        let expected = ring::digest::digest(&ring::digest::SHA256, &spki);
        assert_eq!(&info.spki_sha256()[..], expected.as_ref());
        assert_eq!(info.spki_sha256_hex().len(), 64);
        assert_eq!(
            info.principal(PrincipalSource::DnsName).as_deref(),
            Some("a.example")
        );

        let (der, _) = cert(None, &["only.example"]);
        let info = CertInfo::parse(&der).unwrap();
        assert_eq!(info.common_name(), None);
        let mut certs = PeerCertificates::new(vec![der]).unwrap();
        let e = MtlsAuth::default().identity_for(&certs).unwrap_err();
        assert_eq!(e.message(), "the client certificate has no common name");
        let id = MtlsAuth::new(PrincipalSource::DnsName)
            .identity_for(&certs)
            .unwrap();
        assert_eq!(id.principal(), "only.example");
        assert_eq!(id.scheme(), Some("mtls"));
        assert_eq!(id.attribute("tls.dns-names"), Some("only.example"));

        // Garbage is refused, not a panic.
        certs =
            PeerCertificates::new(vec![CertificateDer::from(vec![0x30, 0x03, 1, 2, 3])]).unwrap();
        let e = MtlsAuth::default().identity_for(&certs).unwrap_err();
        assert_eq!(e.code(), crate::Code::Unauthenticated);
    }

    #[test]
    fn an_mtls_identity_is_made_once_per_connection_and_provider() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (der, _) = cert(Some("host"), &[]);
        let certs = PeerCertificates::new(vec![der]).unwrap();
        let tls = || {
            Arc::new(
                Connection::new(crate::rpc::PeerAddr::Memory)
                    .with_certificates(Some(certs.clone())),
            )
        };
        // Providers that count how often they read a certificate.
        let counted = |principal: &'static str| {
            let reads = Arc::new(AtomicUsize::new(0));
            let r = reads.clone();
            let auth = MtlsAuth::default().map(move |info| {
                r.fetch_add(1, Ordering::Relaxed);
                Some(Identity::new(format!(
                    "{principal}:{}",
                    info.common_name().unwrap_or("")
                )))
            });
            (auth, reads)
        };
        let on = |conn: Option<&Arc<Connection>>| {
            let mut call = call(GET, &[]);
            call.connection = conn.cloned();
            call
        };
        let principal = |auth: &MtlsAuth, call: &mut ServerCall| match auth.authenticate(call) {
            Authentication::Verified(id) => id.principal().to_owned(),
            other => panic!("{other:?}"),
        };
        let (first, first_reads) = counted("first");
        let (second, second_reads) = counted("second");

        // The first provider keeps its identity beside the certificates; the second, finding
        // that place taken, in the connection's state; each reads the certificate once.
        let conn = tls();
        for _ in 0..3 {
            assert_eq!(principal(&first, &mut on(Some(&conn))), "first:host");
            assert_eq!(principal(&second, &mut on(Some(&conn))), "second:host");
        }
        assert_eq!(first_reads.load(Ordering::Relaxed), 1);
        assert_eq!(second_reads.load(Ordering::Relaxed), 1);
        assert_eq!(
            conn.certificate_identity::<Identity>(first.id)
                .unwrap()
                .principal(),
            "first:host"
        );
        assert!(conn.certificate_identity::<Identity>(second.id).is_none());

        // A fresh connection is read afresh.
        assert_eq!(principal(&first, &mut on(Some(&tls()))), "first:host");
        assert_eq!(first_reads.load(Ordering::Relaxed), 2);

        // Certificates that came in the extensions of a connection without its own are
        // remembered in its state, for that very chain.
        let plain = Arc::new(Connection::new(crate::rpc::PeerAddr::Memory));
        for _ in 0..2 {
            let mut call = on(Some(&plain));
            call.extensions.insert(certs.clone());
            assert_eq!(principal(&first, &mut call), "first:host");
        }
        assert_eq!(first_reads.load(Ordering::Relaxed), 3);
        assert!(plain.certificate_identity::<Identity>(first.id).is_none());

        // Without a connection nothing is remembered; without certificates there is nothing.
        for _ in 0..2 {
            let mut call = on(None);
            call.extensions.insert(certs.clone());
            assert_eq!(principal(&first, &mut call), "first:host");
        }
        assert_eq!(first_reads.load(Ordering::Relaxed), 5);
        assert!(matches!(
            first.authenticate(&mut on(Some(&plain))),
            Authentication::Absent
        ));
    }

    #[test]
    fn der_common_name_reader() {
        // SET { SEQUENCE { OID 2.5.4.3, UTF8String "hé" } }
        let rdn = |tag: u8, s: &[u8]| {
            let mut atv = vec![0x06, 0x03, 0x55, 0x04, 0x03, tag, s.len() as u8];
            atv.extend_from_slice(s);
            let mut seq = vec![0x30, atv.len() as u8];
            seq.extend(atv);
            let mut set = vec![0x31, seq.len() as u8];
            set.extend(seq);
            set
        };
        assert_eq!(
            der::common_name(&rdn(0x0c, "hé".as_bytes())),
            Some(Some("hé".to_owned()))
        );
        assert_eq!(
            der::common_name(&rdn(0x13, b"x")),
            Some(Some("x".to_owned()))
        );
        assert_eq!(
            der::common_name(&rdn(0x1e, &[0, b'h', 0, b'i'])),
            Some(Some("hi".to_owned()))
        );
        // The last of several wins.
        let mut two = rdn(0x0c, b"first");
        two.extend(rdn(0x0c, b"second"));
        assert_eq!(der::common_name(&two), Some(Some("second".to_owned())));
        assert_eq!(der::common_name(&[]), Some(None));
        // Truncated or mistagged input is malformed, never a panic.
        let good = rdn(0x0c, b"name");
        for cut in 1..good.len() {
            assert_eq!(der::common_name(&good[..cut]), None, "cut at {cut}");
        }
        assert_eq!(der::common_name(&[0x30, 0x00]), None);
        assert_eq!(der::common_name(&rdn(0x0c, &[0xff])), None);
        assert_eq!(der::common_name(&rdn(0x16, "é".as_bytes())), None);
        assert_eq!(der::next(&[0x04, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(der::next(&[0x04, 0x80]), None);
        assert_eq!(der::next(&[0x1f, 0x00]), None);
    }
}
