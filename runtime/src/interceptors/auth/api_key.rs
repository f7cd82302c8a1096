//! API keys in a header (`x-api-key` by default): [`ApiKey`] sends one with every client
//! call, [`ApiKeyAuth`] checks them on the server.

use futures_util::future::BoxFuture;
use http::{HeaderName, HeaderValue};

use super::authenticator::authenticate_alone;
use super::provider::unauthenticated;
use super::secret::{inject, read_secret, secret_header_value, trim_spaces};
use super::{AuthError, AuthProvider, Authentication, Credentials};
use crate::protocol::Status;
use crate::rpc::{
    ClientCall, ClientNext, ClientOutput, Interceptor, ServerCall, ServerNext, ServerOutput,
};

/// The header [`ApiKey`] and [`ApiKeyAuth`] use unless told otherwise.
pub const DEFAULT_API_KEY_HEADER: HeaderName = HeaderName::from_static("x-api-key");

/// `name` as a header name (lowercased), for [`ApiKey::header`] and [`ApiKeyAuth::header`].
fn header_name(name: &str) -> Result<HeaderName, AuthError> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| AuthError::InvalidHeaderName {
        name: name.to_owned(),
    })
}

/// Client side: sends an API key in a header (`x-api-key` unless [`ApiKey::header`] names
/// another) with every call, unless a call sets that header itself. The value is marked
/// sensitive (never indexed by HTTP/2, never shown by `Debug`) unless [`ApiKey::indexed`]
/// says otherwise. The server checks it with [`ApiKeyAuth`].
///
/// ```
/// use connect_plugin::interceptors::auth::ApiKey;
/// use connect_plugin::{Channel, Client};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let key = ApiKey::new("key-of-a-dashboard")?.header("x-plugin-key")?;
/// let channel = Channel::builder("http://127.0.0.1:8080")?.build();
/// let client = Client::new(channel).with_interceptor(key);
/// # let _ = client;
/// assert!(ApiKey::new("").is_err());
/// assert!(ApiKey::new("k")?.header("not a header").is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ApiKey {
    header: HeaderName,
    value: HeaderValue,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("header", &self.header)
            .field("indexed", &!self.value.is_sensitive())
            .finish_non_exhaustive()
    }
}

impl ApiKey {
    /// Sends `key`: visible ASCII, not empty ([`AuthError`] otherwise, which does not
    /// repeat it).
    pub fn new(key: &str) -> Result<Self, AuthError> {
        Ok(ApiKey {
            header: DEFAULT_API_KEY_HEADER,
            value: secret_header_value("", key, "API key")?,
        })
    }

    /// Sends the key in header `name` instead of `x-api-key` (an error if `name` is not a
    /// valid header name).
    pub fn header(mut self, name: &str) -> Result<Self, AuthError> {
        self.header = header_name(name)?;
        Ok(self)
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
    /// (Bearer tokens have no such option: the `h2` crate never indexes `authorization`
    /// values, sensitive or not.)
    pub fn indexed(mut self) -> Self {
        self.value.set_sensitive(false);
        self
    }
}

impl Interceptor for ApiKey {
    fn intercept_client<'a>(
        &'a self,
        mut call: ClientCall,
        next: ClientNext<'a>,
    ) -> BoxFuture<'a, Result<ClientOutput, Status>> {
        inject(&mut call.headers, &self.header, &self.value);
        next.run(call)
    }
}

/// Server side: accepts the API keys of its [`Credentials`] in a header (`x-api-key` unless
/// [`ApiKeyAuth::header`] names another). A provider for an
/// [`Authenticator`](super::Authenticator), or on its own an interceptor that refuses calls
/// without a valid key. Clients send keys with [`ApiKey`].
///
/// ```
/// use connect_plugin::interceptors::auth::{ApiKeyAuth, Credentials, Identity};
/// use connect_plugin::Router;
///
/// # fn main() -> Result<(), connect_plugin::interceptors::auth::AuthError> {
/// let keys = Credentials::new().with("key-of-a-dashboard", Identity::new("dashboard"));
/// let router = Router::new().interceptor(ApiKeyAuth::new(keys).header("x-plugin-key")?);
/// # let _ = router;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ApiKeyAuth {
    header: HeaderName,
    credentials: Credentials,
}

impl std::fmt::Debug for ApiKeyAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyAuth")
            .field("header", &self.header)
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl ApiKeyAuth {
    /// Accepts the keys of `credentials`.
    pub fn new(credentials: Credentials) -> Self {
        ApiKeyAuth {
            header: DEFAULT_API_KEY_HEADER,
            credentials: credentials.stamped("api-key"),
        }
    }

    /// Looks for the key in header `name` instead of `x-api-key` (an error if `name` is not
    /// a valid header name).
    pub fn header(mut self, name: &str) -> Result<Self, AuthError> {
        self.header = header_name(name)?;
        Ok(self)
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
    ) -> BoxFuture<'a, Result<ServerOutput, Status>> {
        authenticate_alone(self, call, next)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Identity;
    use super::super::test_support::{GET, call};
    use super::*;

    #[test]
    fn api_key_with_a_custom_header() {
        let auth = ApiKeyAuth::new(Credentials::new().with("k1", Identity::new("bob")))
            .header("x-key")
            .unwrap();
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
    fn header_names_are_checked_and_keys_stay_out_of_debug() {
        for bad in ["", "two words", "x-key:", "é"] {
            assert!(
                matches!(
                    ApiKey::new("k").unwrap().header(bad),
                    Err(AuthError::InvalidHeaderName { .. })
                ),
                "{bad:?}"
            );
            assert!(ApiKeyAuth::new(Credentials::new()).header(bad).is_err());
        }
        let key = ApiKey::new("the-key").unwrap().header("X-Key").unwrap();
        assert_eq!(key.header, "x-key");
        assert!(key.value.is_sensitive());
        let indexed = key.indexed();
        assert!(!indexed.value.is_sensitive());
        assert!(!format!("{indexed:?}").contains("the-key"));
    }
}
