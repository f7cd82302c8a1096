//! TLS configurations from the PEM the runner hands over: the server's certificate and
//! key (and the client certificate it must demand), the client's trusted server
//! certificate (and its own certificate).

use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why a TLS configuration could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM block could not be read.
    #[error("reading PEM: {0}")]
    Pem(#[from] rustls::pki_types::pem::Error),
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client-certificate verifier could not be built.
    #[error("client certificate verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certs(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    Ok(CertificateDer::pem_slice_iter(pem).collect::<Result<_, _>>()?)
}

fn roots(pem: &[u8]) -> Result<rustls::RootCertStore, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs(pem)? {
        roots.add(cert)?;
    }
    Ok(roots)
}

/// A server configuration with `cert` and `key`; when `client_cert` is given, clients
/// must present a certificate it verifies.
pub fn server_config(
    cert: &[u8],
    key: &[u8],
    client_cert: Option<&[u8]>,
) -> Result<rustls::ServerConfig, TlsError> {
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?;
    let builder = match client_cert {
        None => builder.with_no_client_auth(),
        Some(pem) => builder.with_client_cert_verifier(
            rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots(pem)?),
                provider(),
            )
            .build()?,
        ),
    };
    Ok(builder.with_single_cert(certs(cert)?, PrivateKeyDer::from_pem_slice(key)?)?)
}

/// A client configuration trusting `server_cert`, presenting `client` (certificate, key)
/// when given.
pub fn client_config(
    server_cert: &[u8],
    client: Option<(&[u8], &[u8])>,
) -> Result<rustls::ClientConfig, TlsError> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots(server_cert)?);
    Ok(match client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            builder.with_client_auth_cert(certs(cert)?, PrivateKeyDer::from_pem_slice(key)?)?
        }
    })
}
