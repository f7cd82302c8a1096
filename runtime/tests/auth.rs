//! Authentication and authorization over real sockets: a router on 127.0.0.1 behind an
//! `Authenticator` (or a provider alone), called through the runtime's `Client` with the
//! client-side providers — bearer tokens, API keys, and mutual TLS with certificates from a
//! test CA and from the runtime's own automatic (pinned) mTLS. Unary and all three
//! streaming kinds; every refusal is checked for its code and for not echoing the secret.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use connect_plugin::interceptors::auth::{
    ApiKey, ApiKeyAuth, Authenticator, BearerAuth, BearerToken, Credentials, Identity,
    IdentityExt as _, MethodPolicy, MtlsAuth, PrincipalSource,
};
use connect_plugin::protocol::{Code, StreamType};
use connect_plugin::rpc::{self, Idempotency, MethodDescriptor, Request, Response, Streaming};
use connect_plugin::transport::{ListenAddr, RunningServer};
use connect_plugin::{Channel, Client, Router, Server, Status};
use futures_util::StreamExt as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

mod common;
use common::Msg;

fn msg(text: &str) -> Msg {
    Msg {
        text: text.to_owned(),
    }
}

const WHOAMI: MethodDescriptor = MethodDescriptor::new(
    "/auth.v1.Svc/WhoAmI",
    StreamType::Unary,
    Idempotency::Unknown,
);
const ADMIN: MethodDescriptor = MethodDescriptor::new(
    "/auth.v1.Svc/Admin",
    StreamType::Unary,
    Idempotency::Unknown,
);
const HEALTH: MethodDescriptor = MethodDescriptor::new(
    "/auth.v1.Open/Health",
    StreamType::Unary,
    Idempotency::Unknown,
);
const SERVER_STREAM: MethodDescriptor = MethodDescriptor::new(
    "/auth.v1.Svc/ServerStream",
    StreamType::ServerStreaming,
    Idempotency::Unknown,
);
const CLIENT_STREAM: MethodDescriptor = MethodDescriptor::new(
    "/auth.v1.Svc/ClientStream",
    StreamType::ClientStreaming,
    Idempotency::Unknown,
);
const BIDI: MethodDescriptor = MethodDescriptor::new(
    "/auth.v1.Svc/Bidi",
    StreamType::BidiStreaming,
    Idempotency::Unknown,
);

/// `principal|scheme|roles` of the caller as the handler sees it, `anonymous` without one.
fn whoami<T>(req: &Request<T>) -> String {
    // The convenience accessor and the typed extension agree.
    assert_eq!(req.identity(), req.extensions().get::<Identity>());
    // A mutual-TLS client's verified chain reaches the handler with the call.
    let certs = req
        .extensions()
        .get::<connect_plugin::rpc::PeerCertificates>();
    if req.identity().and_then(|id| id.scheme()) == Some("mtls") {
        assert!(certs.is_some(), "an mTLS call without its certificates");
    }
    match req.identity() {
        Some(id) => format!(
            "{}|{}|{}",
            id.principal(),
            id.scheme().unwrap_or("-"),
            id.roles().collect::<Vec<_>>().join(",")
        ),
        None => "anonymous".to_owned(),
    }
}

/// The service; `calls` counts handler runs, so tests can tell that a refusal came first.
fn router(calls: Arc<AtomicUsize>) -> Router {
    let c = calls.clone();
    let counted = move || {
        c.fetch_add(1, Ordering::SeqCst);
    };
    let (c1, c2, c3, c4, c5) = (
        counted.clone(),
        counted.clone(),
        counted.clone(),
        counted.clone(),
        counted.clone(),
    );
    Router::new()
        .route(
            WHOAMI,
            rpc::unary(move |req: Request<Msg>| {
                c1();
                let who = whoami(&req);
                async move { Ok(Response::new(msg(&who))) }
            }),
        )
        .route(
            ADMIN,
            rpc::unary(move |req: Request<Msg>| {
                c2();
                let who = whoami(&req);
                async move { Ok(Response::new(msg(&format!("admin:{who}")))) }
            }),
        )
        .route(
            HEALTH,
            rpc::unary(move |req: Request<Msg>| {
                c3();
                let who = whoami(&req);
                async move { Ok(Response::new(msg(&who))) }
            }),
        )
        .route(
            SERVER_STREAM,
            rpc::server_streaming(move |req: Request<Msg>| {
                c4();
                let who = whoami(&req);
                async move {
                    let out = futures_util::stream::iter(0..2)
                        .map(move |i| Ok::<_, Status>(msg(&format!("{who}#{i}"))));
                    Ok(Response::new(out))
                }
            }),
        )
        .route(
            CLIENT_STREAM,
            rpc::client_streaming(move |req: Request<Streaming<Msg>>| {
                counted();
                let who = whoami(&req);
                async move {
                    let mut stream = req.into_inner();
                    let mut n = 0;
                    while stream.message().await?.is_some() {
                        n += 1;
                    }
                    Ok(Response::new(msg(&format!("{who}:{n}"))))
                }
            }),
        )
        .route(
            BIDI,
            rpc::bidi_streaming(move |req: Request<Streaming<Msg>>| {
                c5();
                let who = whoami(&req);
                async move {
                    let stream = req.into_inner();
                    let out = futures_util::stream::unfold(stream, move |mut s| {
                        let who = who.clone();
                        async move {
                            match s.message().await {
                                Ok(Some(m)) => Some((Ok(msg(&format!("{who}>{}", m.text))), s)),
                                Ok(None) => None,
                                Err(e) => Some((Err(e), s)),
                            }
                        }
                    });
                    Ok(Response::new(Box::pin(out) as rpc::BoxStream<Msg>))
                }
            }),
        )
}

fn tokens() -> Credentials {
    Credentials::new()
        .with(
            "tok-admin-0123456789",
            Identity::new("root").with_role("admin"),
        )
        .with("tok-alice-0123456789", Identity::new("alice"))
}

fn keys() -> Credentials {
    Credentials::new().with(
        "key-dashboard-42",
        Identity::new("dashboard").with_role("ops"),
    )
}

/// Bearer or API key, `Admin` only for role `admin` or principal `dashboard`, `auth.v1.Open`
/// public.
fn authenticator() -> Authenticator {
    Authenticator::new()
        .provider(BearerAuth::new(tokens()))
        .provider(ApiKeyAuth::new(keys()))
        .authorize(
            MethodPolicy::allow_unlisted()
                .allow_role("/auth.v1.Svc/Admin", "admin")
                .allow_principal("/auth.v1.Svc/Admin", "dashboard"),
        )
        .public("auth.v1.Open")
}

async fn serve(router: Router) -> (RunningServer, String) {
    let server = Server::new(router).bind("127.0.0.1:0").await.expect("bind");
    let ListenAddr::Tcp(addr) = server.local_addr().clone() else {
        panic!("tcp")
    };
    (server, format!("http://{addr}"))
}

fn client(url: &str) -> Client {
    Client::new(Channel::builder(url).unwrap().build())
}

async fn call(c: &Client, method: &MethodDescriptor) -> Result<String, Status> {
    let resp: Response<Msg> = c.unary(method, Request::new(msg("hi"))).await?;
    Ok(resp.into_inner().text)
}

/// Asserts `status` has `code` and does not repeat any of `secrets`.
fn refused(result: Result<String, Status>, code: Code, secrets: &[&str]) -> Status {
    let status = match result {
        Ok(text) => panic!("expected {code:?}, the call answered {text:?}"),
        Err(s) => s,
    };
    assert_eq!(status.code(), code, "{status:?}");
    for s in secrets {
        assert!(!status.message().contains(s), "{status:?} echoes a secret");
        assert!(
            !format!("{status:?}").contains(s),
            "{status:?} echoes a secret"
        );
    }
    status
}

#[tokio::test]
async fn bearer_token_reaches_the_handler_as_an_identity() {
    let calls = Arc::new(AtomicUsize::new(0));
    let (server, url) = serve(router(calls.clone()).interceptor(authenticator())).await;

    let alice = client(&url).with_interceptor(BearerToken::new("tok-alice-0123456789").unwrap());
    assert_eq!(call(&alice, &WHOAMI).await.unwrap(), "alice|bearer|");
    let root = client(&url).with_interceptor(BearerToken::new("tok-admin-0123456789").unwrap());
    assert_eq!(
        call(&root, &ADMIN).await.unwrap(),
        "admin:root|bearer|admin"
    );

    // A per-call header wins over the interceptor's.
    let mut req = Request::new(msg("hi"));
    req.headers_mut().insert(
        http::header::AUTHORIZATION,
        "Bearer tok-admin-0123456789".parse().unwrap(),
    );
    let resp: Response<Msg> = alice.unary(&WHOAMI, req).await.unwrap();
    assert_eq!(resp.into_inner().text, "root|bearer|admin");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    server.shutdown(std::time::Duration::ZERO).await;
}

/// Bytes a client sends through a counting proxy for `calls` calls with `auth`, after one
/// call that opens the connection (and, for an indexed secret, puts it in the table).
async fn upstream_bytes(
    url: &str,
    auth: impl connect_plugin::rpc::Interceptor,
    calls: usize,
) -> u64 {
    let target: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let proxy = connect_plugin_testkit::FaultProxy::start(target)
        .await
        .unwrap();
    let c = client(&proxy.url()).with_interceptor(auth);
    assert_eq!(call(&c, &WHOAMI).await.unwrap(), "dashboard|api-key|ops");
    let before = proxy.handle().stats().upstream.received;
    for _ in 0..calls {
        assert_eq!(call(&c, &WHOAMI).await.unwrap(), "dashboard|api-key|ops");
    }
    proxy.handle().stats().upstream.received - before
}

#[tokio::test]
async fn an_indexed_api_key_is_sent_once_per_connection_and_a_default_one_every_call() {
    let calls = Arc::new(AtomicUsize::new(0));
    let (server, url) = serve(router(calls.clone()).interceptor(authenticator())).await;
    let key = "key-dashboard-42";
    let n = 20;
    let never_indexed = upstream_bytes(&url, ApiKey::new(key).unwrap(), n).await;
    let indexed = upstream_bytes(&url, ApiKey::new(key).unwrap().indexed(), n).await;
    // Never indexed, the key (and the header's name) is coded into every request (at least
    // 5 bits a character); indexed, the pair is a one-byte reference.
    let per_call_saving = (never_indexed - indexed) as f64 / n as f64;
    let coded = key.len() as f64 * 5.0 / 8.0;
    assert!(
        per_call_saving >= coded - 1.0,
        "{never_indexed} bytes never indexed against {indexed} indexed for {n} calls"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2 * (n + 1));
    server.shutdown(std::time::Duration::ZERO).await;
}

#[tokio::test]
async fn missing_or_wrong_credentials_are_unauthenticated_and_never_echoed() {
    let calls = Arc::new(AtomicUsize::new(0));
    let (server, url) = serve(router(calls.clone()).interceptor(authenticator())).await;

    let none = client(&url);
    let s = refused(call(&none, &WHOAMI).await, Code::Unauthenticated, &[]);
    assert!(s.message().contains("no credentials"), "{s:?}");
    assert!(s.message().contains("bearer token"), "{s:?}");
    assert!(s.message().contains("x-api-key"), "{s:?}");

    // Wrong, truncated, extended: all the same refusal, none repeated back.
    for wrong in [
        "tok-alice-012345678",
        "tok-alice-01234567890",
        "tok-alice-0123456788",
        "x",
    ] {
        let c = client(&url).with_interceptor(BearerToken::new(wrong).unwrap());
        let s = refused(call(&c, &WHOAMI).await, Code::Unauthenticated, &[wrong]);
        assert_eq!(s.message(), "the bearer token is not valid");
    }
    let c = client(&url).with_interceptor(ApiKey::new("key-dashboard-43").unwrap());
    let s = refused(
        call(&c, &WHOAMI).await,
        Code::Unauthenticated,
        &["key-dashboard-43"],
    );
    assert_eq!(s.message(), "the API key is not valid");

    // A different scheme in the authorization header is not a bearer token.
    let mut req = Request::new(msg("hi"));
    req.headers_mut().insert(
        http::header::AUTHORIZATION,
        "Basic dXNlcjpwYXNz".parse().unwrap(),
    );
    let s = none.unary::<Msg, Msg>(&WHOAMI, req).await.unwrap_err();
    assert_eq!(s.code(), Code::Unauthenticated);
    assert!(!s.message().contains("dXNlcjpwYXNz"));

    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "no refused call reached a handler"
    );

    // Public methods need nothing, and see no identity.
    assert_eq!(call(&none, &HEALTH).await.unwrap(), "anonymous");
    server.shutdown(std::time::Duration::ZERO).await;
}

#[tokio::test]
async fn the_wrong_identity_for_a_method_is_permission_denied() {
    let calls = Arc::new(AtomicUsize::new(0));
    let (server, url) = serve(router(calls.clone()).interceptor(authenticator())).await;

    let alice = client(&url).with_interceptor(BearerToken::new("tok-alice-0123456789").unwrap());
    let s = refused(
        call(&alice, &ADMIN).await,
        Code::PermissionDenied,
        &["tok-alice"],
    );
    assert_eq!(s.message(), "alice may not call /auth.v1.Svc/Admin");
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    // The API key's principal is allowed by name.
    let dash = client(&url).with_interceptor(ApiKey::new("key-dashboard-42").unwrap());
    assert_eq!(
        call(&dash, &ADMIN).await.unwrap(),
        "admin:dashboard|api-key|ops"
    );

    // A deny-by-default table with a closure-free setup, on a provider of its own.
    let strict = Authenticator::new()
        .provider(BearerAuth::new(tokens()))
        .authorize(MethodPolicy::deny_unlisted().allow_principal("auth.v1.Svc", "root"));
    let (server2, url2) = serve(router(calls.clone()).interceptor(strict)).await;
    let alice2 = client(&url2).with_interceptor(BearerToken::new("tok-alice-0123456789").unwrap());
    refused(call(&alice2, &WHOAMI).await, Code::PermissionDenied, &[]);
    refused(call(&alice2, &HEALTH).await, Code::PermissionDenied, &[]);
    let root2 = client(&url2).with_interceptor(BearerToken::new("tok-admin-0123456789").unwrap());
    assert_eq!(call(&root2, &WHOAMI).await.unwrap(), "root|bearer|admin");

    // A closure policy.
    let closure = Authenticator::new()
        .provider(BearerAuth::new(tokens()))
        .authorize(|id: &Identity, m: &MethodDescriptor| {
            m.method() != "Admin" || id.principal() == "root"
        });
    let (server3, url3) = serve(router(calls.clone()).interceptor(closure)).await;
    let alice3 = client(&url3).with_interceptor(BearerToken::new("tok-alice-0123456789").unwrap());
    assert_eq!(call(&alice3, &WHOAMI).await.unwrap(), "alice|bearer|");
    refused(call(&alice3, &ADMIN).await, Code::PermissionDenied, &[]);

    for s in [server, server2, server3] {
        s.shutdown(std::time::Duration::ZERO).await;
    }
}

#[tokio::test]
async fn api_key_alone_and_in_a_custom_header() {
    let calls = Arc::new(AtomicUsize::new(0));
    let header = "x-plugin-key";
    let server_side = ApiKeyAuth::new(keys()).header(header).unwrap();
    let (server, url) = serve(router(calls).interceptor(server_side)).await;

    let good = client(&url).with_interceptor(
        ApiKey::new("key-dashboard-42")
            .unwrap()
            .header(header)
            .unwrap(),
    );
    assert_eq!(call(&good, &WHOAMI).await.unwrap(), "dashboard|api-key|ops");
    // The key in the default header is not looked at.
    let default_header = client(&url).with_interceptor(ApiKey::new("key-dashboard-42").unwrap());
    let s = refused(
        call(&default_header, &WHOAMI).await,
        Code::Unauthenticated,
        &["key-dashboard-42"],
    );
    assert!(s.message().contains("x-plugin-key"), "{s:?}");
    server.shutdown(std::time::Duration::ZERO).await;
}

#[tokio::test]
async fn providers_compose_in_order_and_the_first_with_credentials_decides() {
    let calls = Arc::new(AtomicUsize::new(0));
    let (server, url) = serve(router(calls).interceptor(authenticator())).await;

    // Both kinds presented and valid: the bearer provider (first) decides.
    let both = client(&url)
        .with_interceptor(BearerToken::new("tok-alice-0123456789").unwrap())
        .with_interceptor(ApiKey::new("key-dashboard-42").unwrap());
    assert_eq!(call(&both, &WHOAMI).await.unwrap(), "alice|bearer|");

    // An invalid bearer token is not rescued by a valid API key.
    let bad_first = client(&url)
        .with_interceptor(BearerToken::new("tok-wrong").unwrap())
        .with_interceptor(ApiKey::new("key-dashboard-42").unwrap());
    refused(
        call(&bad_first, &WHOAMI).await,
        Code::Unauthenticated,
        &["tok-wrong"],
    );

    // Only the second kind presented: the second provider decides.
    let key_only = client(&url).with_interceptor(ApiKey::new("key-dashboard-42").unwrap());
    assert_eq!(
        call(&key_only, &WHOAMI).await.unwrap(),
        "dashboard|api-key|ops"
    );
    // A public method still checks credentials it is given, and shows the identity.
    assert_eq!(
        call(&key_only, &HEALTH).await.unwrap(),
        "dashboard|api-key|ops"
    );
    let bad_key = client(&url).with_interceptor(ApiKey::new("nope").unwrap());
    refused(
        call(&bad_key, &HEALTH).await,
        Code::Unauthenticated,
        &["nope"],
    );
    server.shutdown(std::time::Duration::ZERO).await;
}

/// The first message of a server stream, or the error the call ended with.
async fn first_of(result: Result<Response<Streaming<Msg>>, Status>) -> Result<String, Status> {
    let mut stream = result?.into_inner();
    match stream.message().await? {
        Some(m) => Ok(m.text),
        None => Ok(String::new()),
    }
}

fn outgoing(n: usize) -> Request<Streaming<Msg>> {
    Request::new(Streaming::from_messages(futures_util::stream::iter(
        (0..n).map(|i| msg(&i.to_string())),
    )))
}

#[tokio::test]
async fn streaming_calls_are_authenticated_too() {
    let calls = Arc::new(AtomicUsize::new(0));
    let (server, url) = serve(router(calls.clone()).interceptor(authenticator())).await;
    let none = client(&url);
    let alice = client(&url).with_interceptor(BearerToken::new("tok-alice-0123456789").unwrap());

    let s = first_of(
        none.server_streaming(&SERVER_STREAM, Request::new(msg("x")))
            .await,
    )
    .await;
    refused(s, Code::Unauthenticated, &[]);
    let s = none
        .client_streaming::<Msg, Msg>(&CLIENT_STREAM, outgoing(3))
        .await;
    refused(s.map(|r| r.into_inner().text), Code::Unauthenticated, &[]);
    let s = first_of(none.bidi_streaming(&BIDI, outgoing(2)).await).await;
    refused(s, Code::Unauthenticated, &[]);
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    let first = first_of(
        alice
            .server_streaming(&SERVER_STREAM, Request::new(msg("x")))
            .await,
    );
    assert_eq!(first.await.unwrap(), "alice|bearer|#0");
    let r: Response<Msg> = alice
        .client_streaming(&CLIENT_STREAM, outgoing(3))
        .await
        .unwrap();
    assert_eq!(r.into_inner().text, "alice|bearer|:3");
    let first = first_of(alice.bidi_streaming(&BIDI, outgoing(2)).await).await;
    assert_eq!(first.unwrap(), "alice|bearer|>0");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    server.shutdown(std::time::Duration::ZERO).await;
}

// ---------------------------------------------------------------------------------------
// Mutual TLS
// ---------------------------------------------------------------------------------------

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A test certificate authority.
struct Ca {
    cert: CertificateDer<'static>,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap().der().clone();
        Ca {
            cert,
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    /// A client certificate with common name `cn` and DNS names `sans`.
    fn client_cert(
        &self,
        cn: &str,
        sans: &[&str],
    ) -> (
        Vec<CertificateDer<'static>>,
        PrivateKeyDer<'static>,
        Vec<u8>,
    ) {
        let mut params =
            rcgen::CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let spki = rcgen::PublicKeyData::subject_public_key_info(&key);
        (
            vec![cert.der().clone(), self.cert.clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            spki,
        )
    }

    fn roots(&self) -> Arc<rustls::RootCertStore> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.cert.clone()).unwrap();
        Arc::new(roots)
    }
}

/// A TLS server certificate for `localhost`.
fn server_identity() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let c = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    (
        c.cert.der().clone(),
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(c.signing_key.serialize_der())),
    )
}

/// A TLS server that requires client certificates issued by `ca`.
async fn serve_mtls(
    router: Router,
    ca: &Ca,
    server_cert: &(CertificateDer<'static>, PrivateKeyDer<'static>),
) -> (RunningServer, u16) {
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(ca.roots(), provider())
            .build()
            .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![server_cert.0.clone()], server_cert.1.clone_key())
        .unwrap();
    let server = Server::new(router)
        .tls(config)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let ListenAddr::Tcp(addr) = server.local_addr().clone() else {
        panic!("tcp")
    };
    (server, addr.port())
}

fn mtls_client(
    port: u16,
    server_cert: &CertificateDer<'static>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Client {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(server_cert.clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .unwrap();
    let channel = Channel::builder(&format!("https://localhost:{port}"))
        .unwrap()
        .tls(Arc::new(config))
        .build();
    Client::new(channel)
}

#[tokio::test]
async fn mtls_identity_comes_from_the_verified_client_certificate() {
    let ca = Ca::new("test CA");
    let other_ca = Ca::new("someone else's CA");
    let server_cert = server_identity();
    let calls = Arc::new(AtomicUsize::new(0));
    let auth = Authenticator::new()
        .provider(MtlsAuth::new(PrincipalSource::CommonName))
        .authorize(
            MethodPolicy::allow_unlisted().allow_principal("/auth.v1.Svc/Admin", "plugin-a"),
        );
    let (server, port) =
        serve_mtls(router(calls.clone()).interceptor(auth), &ca, &server_cert).await;

    let (chain, key, _) = ca.client_cert("plugin-a", &["a.plugins.local"]);
    let a = mtls_client(port, &server_cert.0, chain, key);
    assert_eq!(call(&a, &WHOAMI).await.unwrap(), "plugin-a|mtls|");
    assert_eq!(call(&a, &ADMIN).await.unwrap(), "admin:plugin-a|mtls|");

    // Streaming over the same connection carries the same identity.
    let first = first_of(
        a.server_streaming(&SERVER_STREAM, Request::new(msg("x")))
            .await,
    );
    assert_eq!(first.await.unwrap(), "plugin-a|mtls|#0");

    // Another certificate of the same CA gets through TLS but is its own principal, which
    // may not call Admin.
    let (chain, key, _) = ca.client_cert("plugin-b", &[]);
    let b = mtls_client(port, &server_cert.0, chain, key);
    assert_eq!(call(&b, &WHOAMI).await.unwrap(), "plugin-b|mtls|");
    refused(call(&b, &ADMIN).await, Code::PermissionDenied, &[]);

    // A certificate from another CA is refused by the TLS handshake: no handler runs.
    let before = calls.load(Ordering::SeqCst);
    let (chain, key, _) = other_ca.client_cert("plugin-a", &[]);
    let impostor = mtls_client(port, &server_cert.0, chain, key);
    assert!(call(&impostor, &WHOAMI).await.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), before);
    server.shutdown(std::time::Duration::ZERO).await;
}

fn ring_sha256_hex(data: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, data)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn mtls_fingerprint_allow_list_and_default_attributes() {
    let ca = Ca::new("test CA");
    let server_cert = server_identity();
    let (chain, key, spki) = ca.client_cert("plugin-a", &["a.plugins.local", "a2.plugins.local"]);
    let allowed = ring_sha256_hex(&spki);

    let peek = || {
        Router::new().route(
            WHOAMI,
            rpc::unary(|req: Request<Msg>| {
                let id = req.identity().cloned();
                async move {
                    let id = id.ok_or_else(|| Status::internal("no identity"))?;
                    let attrs: Vec<String> =
                        id.attributes().map(|(k, v)| format!("{k}={v}")).collect();
                    Ok(Response::new(msg(&format!(
                        "{}|{}|{}",
                        id.principal(),
                        id.scheme().unwrap_or("-"),
                        attrs.join(";")
                    ))))
                }
            }),
        )
    };

    // Default identity: attributes from the certificate.
    let (server, port) = serve_mtls(
        peek().interceptor(MtlsAuth::new(PrincipalSource::DnsName)),
        &ca,
        &server_cert,
    )
    .await;
    let c = mtls_client(port, &server_cert.0, chain.clone(), key.clone_key());
    assert_eq!(
        call(&c, &WHOAMI).await.unwrap(),
        format!(
            "a.plugins.local|mtls|tls.common-name=plugin-a;\
             tls.dns-names=a.plugins.local,a2.plugins.local;tls.spki-sha256={allowed}"
        )
    );
    server.shutdown(std::time::Duration::ZERO).await;

    // An allow-list of public keys: the listed key passes, another certificate of the same
    // CA (another key) is refused.
    let list = allowed.clone();
    let by_key = MtlsAuth::default().map(move |info| {
        (info.spki_sha256_hex() == list).then(|| Identity::new("pinned-a").with_role("plugin"))
    });
    let (server, port) = serve_mtls(peek().interceptor(by_key), &ca, &server_cert).await;
    let c = mtls_client(port, &server_cert.0, chain, key);
    assert_eq!(call(&c, &WHOAMI).await.unwrap(), "pinned-a|mtls|");
    let (chain2, key2, _) = ca.client_cert("plugin-a", &["a.plugins.local"]);
    let other = mtls_client(port, &server_cert.0, chain2, key2);
    let s = refused(call(&other, &WHOAMI).await, Code::Unauthenticated, &[]);
    assert_eq!(
        s.message(),
        "the client certificate is not one this server accepts"
    );
    server.shutdown(std::time::Duration::ZERO).await;
}

#[tokio::test]
async fn mtls_finds_nothing_on_plain_connections() {
    let calls = Arc::new(AtomicUsize::new(0));
    let auth = Authenticator::new()
        .provider(MtlsAuth::default())
        .provider(BearerAuth::new(tokens()));
    let (server, url) = serve(router(calls).interceptor(auth)).await;
    let s = refused(
        call(&client(&url), &WHOAMI).await,
        Code::Unauthenticated,
        &[],
    );
    assert!(s.message().contains("TLS client certificate"), "{s:?}");
    // The next provider still gets its turn.
    let alice = client(&url).with_interceptor(BearerToken::new("tok-alice-0123456789").unwrap());
    assert_eq!(call(&alice, &WHOAMI).await.unwrap(), "alice|bearer|");
    server.shutdown(std::time::Duration::ZERO).await;
}

/// The runtime's automatic mTLS (one-time certificates, each side pinning the other's):
/// the plugin's server sees the host as the principal of its certificate.
#[tokio::test]
async fn automatic_mtls_pinned_host_certificate_is_the_identity() {
    use connect_plugin::plugin::mtls;
    let host = mtls::SelfSignedCert::generate("connect-plugin host").unwrap();
    let plugin = mtls::SelfSignedCert::generate("connect-plugin plugin").unwrap();
    let stranger = mtls::SelfSignedCert::generate("connect-plugin host").unwrap();

    let server_config = mtls::server_config(&plugin, host.cert_der().to_vec()).unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let server = Server::new(router(calls.clone()).interceptor(MtlsAuth::default()))
        .tls(server_config)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let ListenAddr::Tcp(addr) = server.local_addr().clone() else {
        panic!("tcp")
    };
    let connect = |own: &mtls::SelfSignedCert| {
        let config = mtls::client_config(own, plugin.cert_der().to_vec()).unwrap();
        Client::new(
            Channel::builder(&format!("https://localhost:{}", addr.port()))
                .unwrap()
                .tls(Arc::new(config))
                .build(),
        )
    };
    assert_eq!(
        call(&connect(&host), &WHOAMI).await.unwrap(),
        "connect-plugin host|mtls|"
    );
    // Same common name, other certificate: the pinning verifier refuses the handshake.
    assert!(call(&connect(&stranger), &WHOAMI).await.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    server.shutdown(std::time::Duration::ZERO).await;
}
