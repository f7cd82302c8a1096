//! Bearer tokens (`authorization: Bearer <token>`, RFC 6750): [`BearerToken`] sends one
//! with every client call, [`BearerAuth`] checks them on the server.

use futures_util::future::BoxFuture;
use http::HeaderValue;
use http::header::AUTHORIZATION;

use super::authenticator::authenticate_alone;
use super::provider::unauthenticated;
use super::secret::{inject, read_secret, secret_header_value, trim_spaces};
use super::{AuthError, AuthProvider, Authentication, Credentials};
use crate::protocol::Status;
use crate::rpc::{
    ClientCall, ClientNext, ClientOutput, Interceptor, ServerCall, ServerNext, ServerOutput,
};

/// Client side: sends a bearer token (`authorization: Bearer <token>`) with every call,
/// unless a call sets its own `authorization` header. The header is marked sensitive, so
/// HTTP/2 never indexes it and `Debug` never shows it. The server checks it with
/// [`BearerAuth`].
///
/// ```
/// use connect_plugin::interceptors::auth::BearerToken;
/// use connect_plugin::{Channel, Client};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let channel = Channel::builder("http://127.0.0.1:8080")?.build();
/// let client = Client::new(channel).with_interceptor(BearerToken::new("token-of-the-host")?);
/// # let _ = client;
/// // A token a header cannot carry is refused here, not on the wire.
/// assert!(BearerToken::new("two words").is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct BearerToken {
    /// `Bearer <token>`, marked sensitive.
    value: HeaderValue,
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerToken").finish_non_exhaustive()
    }
}

impl BearerToken {
    /// Sends `token`: visible ASCII, not empty ([`AuthError`] otherwise, which does not
    /// repeat it).
    pub fn new(token: &str) -> Result<Self, AuthError> {
        Ok(BearerToken {
            value: secret_header_value("Bearer ", token, "bearer token")?,
        })
    }
}

impl Interceptor for BearerToken {
    fn intercept_client<'a>(
        &'a self,
        mut call: ClientCall,
        next: ClientNext<'a>,
    ) -> BoxFuture<'a, Result<ClientOutput, Status>> {
        inject(&mut call.headers, &AUTHORIZATION, &self.value);
        next.run(call)
    }
}

/// Server side: accepts the bearer tokens of its [`Credentials`]
/// (`authorization: Bearer <token>`; the scheme is case-insensitive). A provider for an
/// [`Authenticator`](super::Authenticator), or on its own an interceptor that refuses calls
/// without a valid token. Clients send tokens with [`BearerToken`].
///
/// ```
/// use connect_plugin::interceptors::auth::{BearerAuth, Credentials, Identity};
/// use connect_plugin::Router;
///
/// let tokens = Credentials::new().with("token-of-the-host", Identity::new("host"));
/// // Every call needs a valid token; handlers see the caller as `request.identity()`.
/// let router = Router::new().interceptor(BearerAuth::new(tokens));
/// # let _ = router;
/// ```
#[derive(Clone)]
pub struct BearerAuth {
    credentials: Credentials,
}

impl std::fmt::Debug for BearerAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerAuth")
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl BearerAuth {
    /// Accepts the tokens of `credentials`.
    pub fn new(credentials: Credentials) -> Self {
        BearerAuth {
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

impl Interceptor for BearerAuth {
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
    use super::super::test_support::{GET, call};
    use super::super::{ApiKey, Identity};
    use super::*;

    #[test]
    fn bearer_header_parsing() {
        let auth = BearerAuth::new(Credentials::new().with("abc", Identity::new("alice")));
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
        assert!(matches!(BearerToken::new(""), Err(AuthError::Empty { .. })));
        assert!(matches!(
            BearerToken::new("a b"),
            Err(AuthError::NotHeaderSafe { .. })
        ));
        assert!(matches!(
            ApiKey::new("é"),
            Err(AuthError::NotHeaderSafe { .. })
        ));
        let b = BearerToken::new("tok").unwrap();
        assert!(b.value.is_sensitive());
        assert!(!format!("{b:?}").contains("tok\""));
        let err = BearerToken::new("bad token").unwrap_err().to_string();
        assert!(!err.contains("bad token"), "{err}");
    }
}
