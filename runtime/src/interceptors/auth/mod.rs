//! Authentication and authorization: who calls, and whether they may.
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
//! On the client side, [`BearerToken`] and [`ApiKey`] add a credential to every call.
//! Secrets are kept only as keyed digests and compared in constant time ([`Credentials`]).
//!
//! ```
//! use connect_plugin::interceptors::auth::{
//!     ApiKey, ApiKeyAuth, Authenticator, BearerAuth, BearerToken, Credentials, Identity,
//!     MethodPolicy,
//! };
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The server: who the secrets stand for, and who may call what.
//! let tokens = Credentials::new()
//!     .with("token-of-the-host", Identity::new("host").with_role("admin"))
//!     .with("token-of-a-plugin", Identity::new("kv-plugin"));
//! let keys = Credentials::new().with("key-of-a-dashboard", Identity::new("dashboard"));
//! let auth = Authenticator::new()
//!     .provider(BearerAuth::new(tokens))
//!     .provider(ApiKeyAuth::new(keys))
//!     .authorize(
//!         MethodPolicy::allow_unlisted().allow_role("/kv.v1.KVService/Delete", "admin"),
//!     )
//!     .public("grpc.health.v1.Health");
//! let router = connect_plugin::Router::new().interceptor(auth);
//!
//! // A client: its credential, added to every call.
//! let channel = connect_plugin::Channel::builder("http://127.0.0.1:8080")?.build();
//! let host = connect_plugin::Client::new(channel.clone())
//!     .with_interceptor(BearerToken::new("token-of-the-host")?);
//! let dashboard = connect_plugin::Client::new(channel)
//!     .with_interceptor(ApiKey::new("key-of-a-dashboard")?);
//! # let _ = (router, host, dashboard);
//! # Ok(())
//! # }
//! ```
//!
//! One file per idea: `secret` (digests, [`Credentials`], what a connection remembers),
//! `error`, `provider` (the [`AuthProvider`] seam), `bearer`, `api_key`, `cert` (reading
//! certificates), `mtls`, `policy` (authorization) and `authenticator`.

mod api_key;
mod authenticator;
mod bearer;
mod cert;
mod error;
mod mtls;
mod policy;
mod provider;
mod secret;
#[cfg(test)]
mod test_support;

pub use api_key::{ApiKey, ApiKeyAuth, DEFAULT_API_KEY_HEADER};
pub use authenticator::Authenticator;
pub use bearer::{BearerAuth, BearerToken};
pub use cert::{CertError, CertInfo};
pub use error::AuthError;
pub use mtls::{MtlsAuth, PrincipalSource};
pub use policy::{Authorize, MethodPolicy};
pub use provider::{AuthProvider, Authentication};
pub use secret::{Credentials, constant_time_eq};

/// The caller's identity lives in the call layer, which carries it; re-exported here, where
/// it is made.
pub use crate::rpc::{Identity, IdentityExt};
