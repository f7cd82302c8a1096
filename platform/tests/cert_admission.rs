//! Admission by client certificate: a host serving TLS with a client-certificate verifier
//! for its CA admits a plugin whose certificate names the self id it claims — and only
//! that one; a connection without a certificate still needs a join token.

use std::sync::Arc;

use connect_plugin::interceptors::auth::{MtlsAuth, PrincipalSource};
use connect_plugin::pb::connectplugin::v1 as cp;
use connect_plugin::transport::ListenAddr;
use connect_plugin::{Channel, Client, Code, Request, Server};
use connect_plugin_platform::Platform;
use connect_plugin_platform::control::PlatformConfig;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client certificate with common name `cn`, signed by `ca`.
fn client_cert(
    cn: &str,
    ca: &CertifiedIssuer<'_, KeyPair>,
) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, cn);
    let cert = params.signed_by(&key, ca).unwrap();
    (
        cert.der().clone(),
        PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    )
}

fn hello(self_id: &str) -> cp::HandshakeRequest {
    cp::HandshakeRequest {
        core_protocol_version: 1,
        app_protocol_versions: vec![1],
        self_id: self_id.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_certificate_from_the_ca_admits_the_self_id_it_names() {
    // The CA, and the host's own certificate.
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "plugins CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let host_cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();

    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            // Plugins with a join token and no certificate connect too.
            .allow_unauthenticated()
            .build()
            .unwrap();
    let tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![host_cert.cert.der().clone()],
            PrivatePkcs8KeyDer::from(host_cert.signing_key.serialize_der()).into(),
        )
        .unwrap();
    let platform = Platform::new(PlatformConfig {
        certificate_admission: Some(MtlsAuth::new(PrincipalSource::CommonName)),
        ..PlatformConfig::default()
    });
    let server = Server::new(platform.router())
        .tls(tls)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let url = match server.local_addr() {
        ListenAddr::Tcp(a) => format!("https://127.0.0.1:{}", a.port()),
        other => panic!("{other:?}"),
    };

    let mut trust = rustls::RootCertStore::empty();
    trust.add(host_cert.cert.der().clone()).unwrap();
    let handshake = |identity: Option<(CertificateDer<'static>, PrivateKeyDer<'static>)>| {
        let builder = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(trust.clone());
        let config = match identity {
            Some((cert, key)) => builder.with_client_auth_cert(vec![cert], key).unwrap(),
            None => builder.with_no_client_auth(),
        };
        cp::HandshakeServiceClient::new(Client::new(
            Channel::builder(&url)
                .unwrap()
                .tls(Arc::new(config))
                .build(),
        ))
    };

    let logger = handshake(Some(client_cert("logger", &ca)));
    let admitted = cp::HandshakeService::handshake(&logger, Request::new(hello("logger")))
        .await
        .unwrap()
        .into_inner();
    assert!(admitted.runtime_id.starts_with("logger-"));

    // The same certificate does not admit another self id.
    let other = cp::HandshakeService::handshake(&logger, Request::new(hello("cache")))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::Unauthenticated);

    // Without a certificate (and without a join token), nobody is admitted.
    let anonymous = handshake(None);
    let refused = cp::HandshakeService::handshake(&anonymous, Request::new(hello("logger")))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);

    // A certificate from another CA does not even get a TLS connection.
    let mut stranger_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    stranger_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let stranger_ca =
        CertifiedIssuer::self_signed(stranger_params, KeyPair::generate().unwrap()).unwrap();
    let forged = handshake(Some(client_cert("logger", &stranger_ca)));
    let err = cp::HandshakeService::handshake(&forged, Request::new(hello("logger")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err}");
    assert_eq!(platform.control_plane().members.len(), 1);
}
