//! Mutual TLS: [`MtlsAuth`] makes identities of the client certificate the TLS handshake
//! verified, named after a [`PrincipalSource`] or by a mapping of its own.

use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::authenticator::authenticate_alone;
use super::secret::{Verified, provider_id};
use super::{AuthProvider, Authentication, CertInfo};
use crate::protocol::Status;
use crate::rpc::{Identity, Interceptor, PeerCertificates, ServerCall, ServerNext, ServerOutput};

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
///
/// ```
/// use connect_plugin::interceptors::auth::{Authenticator, Identity, MtlsAuth, PrincipalSource};
/// use connect_plugin::Router;
///
/// // The caller is named by its certificate's first URI name (a SPIFFE ID, say) …
/// let by_uri = MtlsAuth::new(PrincipalSource::Uri);
/// // … or only the certificates of known public keys are accepted, under names of our own.
/// let known_key = "0f".repeat(32);
/// let pinned = MtlsAuth::default().map(move |cert| {
///     (cert.spki_sha256_hex() == known_key).then(|| Identity::new("host").with_role("admin"))
/// });
/// let router = Router::new().interceptor(Authenticator::new().provider(pinned));
/// # let _ = (by_uri, router);
/// ```
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
        if let Some(cn) = info.common_name() {
            id = id.with_attribute("tls.common-name", cn);
        }
        if !info.dns_names().is_empty() {
            id = id.with_attribute("tls.dns-names", info.dns_names().join(","));
        }
        if !info.uris().is_empty() {
            id = id.with_attribute("tls.uris", info.uris().join(","));
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
    ) -> BoxFuture<'a, Result<ServerOutput, Status>> {
        authenticate_alone(self, call, next)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{GET, call, cert};
    use super::*;
    use crate::transport::Connection;

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
}
