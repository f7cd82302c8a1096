//! Host-mediated calls over real sockets: a provider admitted, checked and registered; a
//! consumer calling it through `/services/{type}/…` with a plain client pointed at the
//! prefix — every protocol, unary and full-duplex bidi, HTTP/2 and HTTP/1.1 — and the
//! router refusing what it must.

use std::sync::{Arc, Mutex};

use connect_plugin::interceptors::auth::BearerToken;
use connect_plugin::pb::connectplugin::v1 as cp;
use connect_plugin::rpc::{self, Idempotency, MethodDescriptor};
use connect_plugin::transport::{HttpVersion, ListenAddr, RunningServer};
use connect_plugin::{
    Channel, Client, ClientConfig, Code, Protocol, Request, Response, Router, Server, Status,
    StreamType, Streaming,
};
use connect_plugin_platform::Platform;
use connect_plugin_platform::address::AllowList;
use connect_plugin_platform::control::{AddressCheck, PlatformConfig};
use connect_plugin_platform::identity::{JoinTokens, SelfIdPattern};
use connect_plugin_platform::methods::spec;
use futures_util::StreamExt as _;
use http::HeaderValue;

const JOIN: &str = "join-secret-for-router-tests";

/// `message Msg { string text = 1; }`, by hand.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
struct Msg {
    #[prost(string, tag = "1")]
    #[serde(default)]
    text: String,
}

const SAY: MethodDescriptor =
    MethodDescriptor::new("/echo.v1.Echo/Say", StreamType::Unary, Idempotency::Unknown);
const COUNT: MethodDescriptor = MethodDescriptor::new(
    "/echo.v1.Echo/Count",
    StreamType::ServerStreaming,
    Idempotency::Unknown,
);
const HANG: MethodDescriptor = MethodDescriptor::new(
    "/echo.v1.Echo/Hang",
    StreamType::Unary,
    Idempotency::Unknown,
);
const CHAT: MethodDescriptor = MethodDescriptor::new(
    "/echo.v1.Echo/Chat",
    StreamType::BidiStreaming,
    Idempotency::Unknown,
);

fn msg(text: &str) -> Msg {
    Msg { text: text.into() }
}

fn url(server: &RunningServer) -> String {
    match server.local_addr() {
        ListenAddr::Tcp(a) => format!("http://{a}"),
        ListenAddr::Unix(p) => format!("unix:{}", p.display()),
        other => panic!("{other:?}"),
    }
}

/// What the provider saw of each call: the caller header and whether a credential got
/// through.
type Seen = Arc<Mutex<Vec<(Option<String>, bool)>>>;

/// What the provider's hanging method saw: the deadline it was given, and a signal when
/// its call was dropped (the caller gave up).
#[derive(Default)]
struct Hung {
    remaining: Mutex<Option<std::time::Duration>>,
    dropped: tokio::sync::Notify,
}

/// Notifies when dropped.
struct OnDrop(Arc<Hung>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        self.0.dropped.notify_one();
    }
}

/// The provider's own server: its echo service and the address check.
struct Check {
    host: String,
    token: Mutex<Option<String>>,
}

#[connect_plugin::async_trait]
impl cp::PluginIdentityService for Check {
    async fn get_plugin_info(
        &self,
        _: Request<cp::GetPluginInfoRequest>,
    ) -> Result<Response<cp::GetPluginInfoResponse>, Status> {
        Err(Status::unimplemented("not here"))
    }

    async fn set_runtime_identity(
        &self,
        _: Request<cp::SetRuntimeIdentityRequest>,
    ) -> Result<Response<cp::SetRuntimeIdentityResponse>, Status> {
        Err(Status::unimplemented("not here"))
    }

    async fn verify_address(
        &self,
        request: Request<cp::VerifyAddressRequest>,
    ) -> Result<Response<cp::VerifyAddressResponse>, Status> {
        let token = self.token.lock().unwrap().clone().unwrap_or_default();
        let lifecycle = cp::PluginLifecycleClient::new(
            Client::new(Channel::builder(&self.host).unwrap().build())
                .with_interceptor(BearerToken::new(&token).unwrap()),
        );
        cp::PluginLifecycle::confirm_address(
            &lifecycle,
            Request::new(cp::ConfirmAddressRequest {
                nonce: request.into_inner().nonce,
            }),
        )
        .await?;
        Ok(Response::new(cp::VerifyAddressResponse {}))
    }
}

fn echo_with(seen: Seen, name: &'static str, hung: Arc<Hung>) -> Router {
    let seen2 = seen.clone();
    Router::new()
        .route(
            COUNT,
            rpc::server_streaming(move |req: Request<Msg>| async move {
                let n: usize = req.into_inner().text.parse().unwrap_or(0);
                let out = futures_util::stream::iter((0..n).map(|i| Ok(msg(&i.to_string()))));
                let mut resp = Response::new(out);
                resp.trailers_mut()
                    .insert("x-counted", HeaderValue::from_static("yes"));
                Ok(resp)
            }),
        )
        .route(
            HANG,
            rpc::unary(move |req: Request<Msg>| {
                let hung = hung.clone();
                async move {
                    *hung.remaining.lock().unwrap() = req.remaining();
                    let _guard = OnDrop(hung);
                    std::future::pending::<()>().await;
                    Ok(Response::new(msg("never")))
                }
            }),
        )
        .route(
            SAY,
            rpc::unary(move |req: Request<Msg>| {
                let seen = seen.clone();
                async move {
                    let caller = req
                        .headers()
                        .get("connect-plugin-caller")
                        .map(|v| v.to_str().unwrap().to_owned());
                    let credential = req.headers().contains_key("authorization");
                    seen.lock().unwrap().push((caller, credential));
                    let trace = req.headers().get("traceparent").cloned();
                    let text = req.into_inner().text;
                    if text == "breaker" && name == "echo-0" {
                        return Err(Status::unavailable("echo-0 is failing"));
                    }
                    if text == "fail" {
                        let mut e = Status::failed_precondition("told to fail");
                        e.trailers_mut()
                            .insert("x-why", HeaderValue::from_static("asked"));
                        return Err(e);
                    }
                    let mut resp = Response::new(msg(&format!("{name}: {text}")));
                    resp.trailers_mut()
                        .insert("x-served-by", HeaderValue::from_static(name));
                    if let Some(trace) = trace {
                        resp.headers_mut().insert("x-saw-traceparent", trace);
                    }
                    Ok(resp)
                }
            }),
        )
        .route(
            CHAT,
            rpc::bidi_streaming(move |req: Request<Streaming<Msg>>| {
                let _ = &seen2;
                async move {
                    let out = req
                        .into_inner()
                        .map(|m| m.map(|m| msg(&m.text.to_uppercase())));
                    let mut resp = Response::new(out);
                    resp.trailers_mut()
                        .insert("x-chat", HeaderValue::from_static("over"));
                    Ok(resp)
                }
            }),
        )
}

struct World {
    platform: Platform,
    hung: Arc<Hung>,
    host: String,
    _host_server: RunningServer,
    _providers: Vec<RunningServer>,
    provider_ids: Vec<String>,
    consumer_token: String,
    seen: Seen,
}

async fn handshake(host: &str, req: cp::HandshakeRequest) -> cp::HandshakeResponse {
    let c = cp::HandshakeServiceClient::new(
        Client::new(Channel::builder(host).unwrap().build())
            .with_interceptor(BearerToken::new(JOIN).unwrap()),
    );
    cp::HandshakeService::handshake(&c, Request::new(req))
        .await
        .unwrap()
        .into_inner()
}

/// Where the providers of a test serve.
#[derive(Clone, Copy)]
enum Link<'a> {
    Tcp,
    /// Unix sockets in this directory.
    Unix(&'a std::path::Path),
    /// TLS, with a certificate for 127.0.0.1 the host trusts.
    Tls,
}

/// A host with `providers` echo providers (checked, registered) and one consumer.
async fn world(providers: usize) -> World {
    world_on(providers, Link::Tcp).await
}

/// The providers' certificate (and key) for `Link::Tls`.
fn provider_identity() -> &'static rcgen::CertifiedKey<rcgen::KeyPair> {
    static IDENTITY: std::sync::OnceLock<rcgen::CertifiedKey<rcgen::KeyPair>> =
        std::sync::OnceLock::new();
    IDENTITY.get_or_init(|| {
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap()
    })
}

fn ring() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// [`world`], the providers serving as `link` says.
async fn world_on(providers: usize, link: Link<'_>) -> World {
    let mut allow = AllowList::new().with("http://127.0.0.1:*").unwrap();
    let mut provider_tls = None;
    match link {
        Link::Tcp => {}
        Link::Unix(dir) => allow.insert(&format!("unix:{}/*", dir.display())).unwrap(),
        Link::Tls => {
            allow.insert("https://127.0.0.1:*").unwrap();
            let mut roots = rustls::RootCertStore::empty();
            roots.add(provider_identity().cert.der().clone()).unwrap();
            provider_tls = Some(Arc::new(
                rustls::ClientConfig::builder_with_provider(ring())
                    .with_safe_default_protocol_versions()
                    .unwrap()
                    .with_root_certificates(roots)
                    .with_no_client_auth(),
            ));
        }
    }
    let platform = Platform::new(PlatformConfig {
        join_tokens: JoinTokens::new()
            .with(SelfIdPattern::parse("echo-*").unwrap(), JOIN)
            .with(SelfIdPattern::parse("app").unwrap(), JOIN),
        allow,
        provider_tls,
        ..PlatformConfig::default()
    });
    let host_server = Server::new(platform.router())
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let host = url(&host_server);
    let seen: Seen = Arc::default();
    let hung: Arc<Hung> = Arc::default();
    let mut servers = Vec::new();
    let mut ids = Vec::new();
    for i in 0..providers {
        let name: &'static str = Box::leak(format!("echo-{i}").into_boxed_str());
        let check = Arc::new(Check {
            host: host.clone(),
            token: Mutex::new(None),
        });
        let router = echo_with(seen.clone(), name, hung.clone())
            .merge(cp::plugin_identity_service_router(check.clone()));
        let methods: Vec<cp::MethodSpec> = router
            .methods()
            .filter(|m| m.service() == "echo.v1.Echo")
            .map(spec)
            .collect();
        let listen = match link {
            Link::Unix(dir) => format!("unix:{}/{name}.sock", dir.display()),
            Link::Tcp | Link::Tls => "127.0.0.1:0".to_owned(),
        };
        let mut server = Server::new(router);
        if let Link::Tls = link {
            let identity = provider_identity();
            server = server.tls(
                rustls::ServerConfig::builder_with_provider(ring())
                    .with_safe_default_protocol_versions()
                    .unwrap()
                    .with_no_client_auth()
                    .with_single_cert(
                        vec![identity.cert.der().clone()],
                        rustls::pki_types::PrivatePkcs8KeyDer::from(
                            identity.signing_key.serialize_der(),
                        )
                        .into(),
                    )
                    .unwrap(),
            );
        }
        let server = server.bind(&listen).await.unwrap();
        let admitted = handshake(
            &host,
            cp::HandshakeRequest {
                core_protocol_version: 1,
                app_protocol_versions: vec![1],
                self_id: name.to_owned(),
                provides: vec![cp::ServiceDeclaration {
                    r#type: "echo".into(),
                    version: "1.0.0".into(),
                    service_name: "echo.v1.Echo".into(),
                }],
                address: match link {
                    Link::Tls => url(&server).replace("http://", "https://"),
                    _ => url(&server),
                },
                ..Default::default()
            },
        )
        .await;
        *check.token.lock().unwrap() = Some(admitted.runtime_token.clone());
        let registry = cp::ServiceRegistryClient::new(
            Client::new(Channel::builder(&host).unwrap().build())
                .with_interceptor(BearerToken::new(&admitted.runtime_token).unwrap()),
        );
        cp::ServiceRegistry::register_service(
            &registry,
            Request::new(cp::RegisterServiceRequest {
                service_type: "echo".into(),
                methods,
                ..Default::default()
            }),
        )
        .await
        .unwrap();
        let member = platform
            .control_plane()
            .members
            .find(&admitted.runtime_id)
            .unwrap();
        assert_eq!(member.address_checked().await, AddressCheck::Verified);
        servers.push(server);
        ids.push(admitted.runtime_id);
    }
    let consumer = handshake(
        &host,
        cp::HandshakeRequest {
            core_protocol_version: 1,
            app_protocol_versions: vec![1],
            self_id: "app".into(),
            requires: vec![cp::ServiceDependency {
                r#type: "echo".into(),
                ..Default::default()
            }],
            ..Default::default()
        },
    )
    .await;
    World {
        platform,
        hung,
        host,
        _host_server: host_server,
        _providers: servers,
        provider_ids: ids,
        consumer_token: consumer.runtime_token,
        seen,
    }
}

fn through(w: &World, prefix: &str, protocol: Protocol, version: HttpVersion) -> Client {
    Client::with_config(
        Channel::builder(&format!("{}{prefix}", w.host))
            .unwrap()
            .http_version(version)
            .build(),
        ClientConfig {
            protocol,
            ..ClientConfig::default()
        },
    )
    .with_interceptor(BearerToken::new(&w.consumer_token).unwrap())
}

#[tokio::test]
async fn a_plain_client_calls_a_provider_through_the_host_in_every_protocol() {
    let w = world(1).await;
    for protocol in [Protocol::Connect, Protocol::Grpc, Protocol::GrpcWeb] {
        let c = through(&w, "/services/echo/-", protocol, HttpVersion::Http2);
        let mut req = Request::new(msg("hi"));
        // A claim of another identity is replaced by the host's.
        req.headers_mut()
            .insert("connect-plugin-caller", HeaderValue::from_static("root"));
        let resp: Response<Msg> = c.unary(&SAY, req).await.unwrap();
        assert_eq!(resp.trailers()["x-served-by"], "echo-0", "{protocol:?}");
        assert_eq!(resp.into_inner().text, "echo-0: hi");

        let err = c
            .unary::<Msg, Msg>(&SAY, Request::new(msg("fail")))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{protocol:?}");
        assert_eq!(err.trailers()["x-why"], "asked", "{protocol:?}");

        // Full duplex through the host: each answer before the next request.
        let (tx, rx) = tokio::sync::mpsc::channel::<Msg>(1);
        let requests =
            Streaming::from_messages(futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|m| (m, rx))
            }));
        tx.send(msg("a")).await.unwrap();
        let mut answers = c
            .bidi_streaming::<Msg, Msg>(&CHAT, Request::new(requests))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(answers.message().await.unwrap().unwrap().text, "A");
        tx.send(msg("b")).await.unwrap();
        assert_eq!(answers.message().await.unwrap().unwrap().text, "B");
        drop(tx);
        assert!(answers.message().await.unwrap().is_none());
        assert_eq!(
            answers.trailers().unwrap()["x-chat"],
            "over",
            "{protocol:?}"
        );
    }
    // Unary over HTTP/1.1 too.
    let h1 = through(
        &w,
        "/services/echo/-",
        Protocol::Connect,
        HttpVersion::Http1,
    );
    let resp: Response<Msg> = h1.unary(&SAY, Request::new(msg("old"))).await.unwrap();
    assert_eq!(resp.into_inner().text, "echo-0: old");
    // The provider saw the host's word for who called, never the caller's credential.
    let consumer_id = w
        .platform
        .control_plane()
        .tokens
        .verify(&w.consumer_token)
        .unwrap()
        .to_string();
    for (caller, credential) in w.seen.lock().unwrap().iter() {
        assert_eq!(caller.as_deref(), Some(consumer_id.as_str()));
        assert!(!credential);
    }
}

#[tokio::test]
async fn calls_go_to_the_provider_named_or_spread_over_all() {
    let w = world(2).await;
    let named = through(
        &w,
        &format!("/services/echo/{}", w.provider_ids[1]),
        Protocol::Connect,
        HttpVersion::Http2,
    );
    for _ in 0..3 {
        let r: Response<Msg> = named.unary(&SAY, Request::new(msg("x"))).await.unwrap();
        assert_eq!(r.into_inner().text, "echo-1: x");
    }
    let any = through(
        &w,
        "/services/echo/-",
        Protocol::Connect,
        HttpVersion::Http2,
    );
    let mut served = std::collections::BTreeSet::new();
    for _ in 0..4 {
        let r: Response<Msg> = any.unary(&SAY, Request::new(msg("x"))).await.unwrap();
        served.insert(r.into_inner().text);
    }
    assert_eq!(served.len(), 2, "round-robin reaches both: {served:?}");
}

#[tokio::test]
async fn the_router_refuses_what_it_must() {
    let w = world(1).await;
    let code = |r: Result<Response<Msg>, Status>| r.unwrap_err().code();
    // No token.
    let anonymous = Client::new(
        Channel::builder(&format!("{}/services/echo/-", w.host))
            .unwrap()
            .build(),
    );
    assert_eq!(
        code(anonymous.unary(&SAY, Request::new(msg("x"))).await),
        Code::Unauthenticated
    );
    // A provider's token is valid, but the provider did not declare echo as a dependency.
    let provider_token = {
        let plane = w.platform.control_plane();
        let issued = plane
            .tokens
            .issue(&plane.members.find(&w.provider_ids[0]).unwrap().runtime_id)
            .unwrap();
        issued.token
    };
    let undeclared = Client::new(
        Channel::builder(&format!("{}/services/echo/-", w.host))
            .unwrap()
            .build(),
    )
    .with_interceptor(BearerToken::new(&provider_token).unwrap());
    assert_eq!(
        code(undeclared.unary(&SAY, Request::new(msg("x"))).await),
        Code::PermissionDenied
    );
    // An unknown provider, and a method the provider does not serve.
    let nobody = through(
        &w,
        "/services/echo/echo-nobody",
        Protocol::Connect,
        HttpVersion::Http2,
    );
    assert_eq!(
        code(nobody.unary(&SAY, Request::new(msg("x"))).await),
        Code::NotFound
    );
    const OTHER: MethodDescriptor = MethodDescriptor::new(
        "/echo.v1.Echo/Other",
        StreamType::Unary,
        Idempotency::Unknown,
    );
    let c = through(
        &w,
        "/services/echo/-",
        Protocol::Connect,
        HttpVersion::Http2,
    );
    assert_eq!(
        code(c.unary(&OTHER, Request::new(msg("x"))).await),
        Code::Unimplemented
    );
    // The seed's router doubled the service path; a generated client's path is the method's.
    let doubled = through(
        &w,
        "/services/echo/-/echo.v1.Echo",
        Protocol::Connect,
        HttpVersion::Http2,
    );
    assert_eq!(
        code(doubled.unary(&SAY, Request::new(msg("x"))).await),
        Code::Unimplemented
    );
}

#[tokio::test]
async fn an_unknown_type_is_not_found_and_an_unhealthy_provider_unavailable() {
    let w = world(1).await;
    // Types the consumer declared but nobody provides: allowed to ask, not found.
    let plane = w.platform.control_plane();
    let c = through(&w, "/services/echo/-", Protocol::Grpc, HttpVersion::Http2);
    plane.registry.set_health(
        &w.provider_ids[0],
        connect_plugin_platform::select::Health::Unhealthy,
    );
    let err = c
        .unary::<Msg, Msg>(&SAY, Request::new(msg("x")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    assert!(err.message().contains("echo"), "{}", err.message());
    plane.remove(
        &plane.members.find(&w.provider_ids[0]).unwrap().runtime_id,
        "test",
    );
    let err = c
        .unary::<Msg, Msg>(&SAY, Request::new(msg("x")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(err.message().contains("echo"), "{}", err.message());
}

#[tokio::test]
async fn the_deadline_travels_on_and_a_caller_giving_up_cancels_the_provider() {
    let w = world(1).await;
    let c = through(&w, "/services/echo/-", Protocol::Grpc, HttpVersion::Http2);
    let err = c
        .unary::<Msg, Msg>(
            &HANG,
            Request::new(msg("x")).with_timeout(std::time::Duration::from_millis(300)),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::DeadlineExceeded);
    // The provider's call was dropped when the deadline passed (the caller's side and the
    // host's both enforce it).
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        w.hung.dropped.notified(),
    )
    .await
    .expect("the provider's call is canceled");
    let seen = w
        .hung
        .remaining
        .lock()
        .unwrap()
        .expect("the provider saw a deadline");
    assert!(seen <= std::time::Duration::from_millis(300), "{seen:?}");
}

#[tokio::test]
async fn a_provider_that_stops_answering_the_hosts_polls_is_not_routed_to() {
    let mut w = world(1).await;
    let plane = w.platform.control_plane().clone();
    // It answers (even without the health services: any answer proves it is there).
    assert_eq!(plane.poll_health().await, 0);
    let c = through(
        &w,
        "/services/echo/-",
        Protocol::Connect,
        HttpVersion::Http2,
    );
    c.unary::<Msg, Msg>(&SAY, Request::new(msg("x")))
        .await
        .unwrap();
    // Its server goes away without leaving.
    let server = w._providers.pop().unwrap();
    server.shutdown(std::time::Duration::ZERO).await;
    let mut events = plane
        .registry
        .watch("echo", connect_plugin_platform::version::VersionFilter::ANY)
        .unwrap();
    assert_eq!(
        events.next().await.unwrap().len(),
        1,
        "the provider is listed"
    );
    assert_eq!(plane.poll_health().await, 1);
    let update = events.next().await.unwrap();
    assert!(
        matches!(&update[..], [connect_plugin_platform::registry::WatchEvent::Updated(p)]
            if p.health == connect_plugin_platform::select::Health::Unhealthy),
        "{update:?}"
    );
    let err = c
        .unary::<Msg, Msg>(&SAY, Request::new(msg("x")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
}

#[tokio::test]
async fn a_failing_provider_is_ejected_by_its_breaker() {
    let w = world(2).await;
    let c = through(
        &w,
        "/services/echo/-",
        Protocol::Connect,
        HttpVersion::Http2,
    );
    let mut failures = 0;
    for _ in 0..10 {
        if c.unary::<Msg, Msg>(&SAY, Request::new(msg("breaker")))
            .await
            .is_err()
        {
            failures += 1;
        }
    }
    // Round-robin sent half to the failing provider: five failures in a row open its
    // breaker (the default).
    assert_eq!(failures, 5);
    for _ in 0..10 {
        let r: Response<Msg> = c
            .unary(&SAY, Request::new(msg("breaker")))
            .await
            .expect("the failing provider is ejected: every call goes to the other");
        assert_eq!(r.into_inner().text, "echo-1: breaker");
    }
}

#[tokio::test]
async fn providers_on_unix_sockets_are_routed_to() {
    let dir = tempfile::tempdir().unwrap();
    let w = world_on(2, Link::Unix(dir.path())).await;
    for protocol in [Protocol::Connect, Protocol::Grpc, Protocol::GrpcWeb] {
        let c = through(&w, "/services/echo/-", protocol, HttpVersion::Http2);
        let mut served = std::collections::BTreeSet::new();
        for _ in 0..4 {
            let r: Response<Msg> = c.unary(&SAY, Request::new(msg("u"))).await.unwrap();
            served.insert(r.into_inner().text);
        }
        assert_eq!(served.len(), 2, "{protocol:?}: {served:?}");
    }
}

#[tokio::test]
async fn providers_serving_tls_are_checked_and_routed_to_over_tls() {
    let w = world_on(2, Link::Tls).await;
    for protocol in [Protocol::Connect, Protocol::Grpc, Protocol::GrpcWeb] {
        let c = through(&w, "/services/echo/-", protocol, HttpVersion::Http2);
        let r: Response<Msg> = c.unary(&SAY, Request::new(msg("tls"))).await.unwrap();
        assert!(r.into_inner().text.ends_with(": tls"), "{protocol:?}");
    }
}

#[tokio::test]
async fn a_host_without_tls_settings_refuses_https_addresses() {
    // The allow-list admits the address; the host has no way to call it.
    let platform = Platform::new(PlatformConfig {
        join_tokens: JoinTokens::new().with(SelfIdPattern::parse("echo-*").unwrap(), JOIN),
        allow: AllowList::new().with("https://127.0.0.1:*").unwrap(),
        ..PlatformConfig::default()
    });
    let server = Server::new(platform.router())
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let err = cp::HandshakeService::handshake(
        &cp::HandshakeServiceClient::new(
            Client::new(Channel::builder(&url(&server)).unwrap().build())
                .with_interceptor(BearerToken::new(JOIN).unwrap()),
        ),
        Request::new(cp::HandshakeRequest {
            core_protocol_version: 1,
            app_protocol_versions: vec![1],
            self_id: "echo-tls".into(),
            provides: vec![cp::ServiceDeclaration {
                r#type: "echo".into(),
                version: "1.0.0".into(),
                service_name: "echo.v1.Echo".into(),
            }],
            address: "https://127.0.0.1:9443".into(),
            ..Default::default()
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err}");
    assert!(platform.control_plane().members.is_empty());
}

#[tokio::test]
async fn server_streams_pass_through_over_http2_and_http1() {
    let w = world(1).await;
    for (protocol, version) in [
        (Protocol::Connect, HttpVersion::Http2),
        (Protocol::Grpc, HttpVersion::Http2),
        (Protocol::GrpcWeb, HttpVersion::Http2),
        (Protocol::Connect, HttpVersion::Http1),
        (Protocol::GrpcWeb, HttpVersion::Http1),
    ] {
        let c = through(&w, "/services/echo/-", protocol, version);
        let mut stream = c
            .server_streaming::<Msg, Msg>(&COUNT, Request::new(msg("50")))
            .await
            .unwrap()
            .into_inner();
        let mut got = Vec::new();
        while let Some(m) = stream.message().await.unwrap() {
            got.push(m.text);
        }
        let want: Vec<String> = (0..50).map(|i| i.to_string()).collect();
        assert_eq!(got, want, "{protocol:?} {version:?}");
        assert_eq!(
            stream.trailers().unwrap()["x-counted"],
            "yes",
            "{protocol:?} {version:?}"
        );
    }
}

#[tokio::test]
async fn metrics_count_routed_calls_per_provider_and_forget_those_gone() {
    let w = world(1).await;
    let c = through(
        &w,
        "/services/echo/-",
        Protocol::Connect,
        HttpVersion::Http2,
    );
    for _ in 0..3 {
        c.unary::<Msg, Msg>(&SAY, Request::new(msg("m")))
            .await
            .unwrap();
    }
    c.unary::<Msg, Msg>(&SAY, Request::new(msg("fail")))
        .await
        .unwrap_err();
    let provider = &w.provider_ids[0];
    let text = w.platform.metrics();
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.starts_with(needle))
            .unwrap_or_else(|| panic!("no {needle} in\n{text}"))
            .to_owned()
    };
    assert!(
        line(&format!(
            "connect_plugin_host_routed_calls_total{{service_type=\"echo\",provider=\"{provider}\",code=\"ok\"}}"
        ))
        .ends_with(" 3")
    );
    assert!(
        line(&format!(
            "connect_plugin_host_routed_calls_total{{service_type=\"echo\",provider=\"{provider}\",code=\"failed_precondition\"}}"
        ))
        .ends_with(" 1")
    );
    assert!(line(&format!(
        "connect_plugin_host_routed_call_seconds_count{{service_type=\"echo\",provider=\"{provider}\"}}"
    ))
    .ends_with(" 4"));
    assert!(
        line("connect_plugin_host_plugins ").ends_with(" 2"),
        "the provider and the consumer"
    );
    assert!(line("connect_plugin_host_registrations ").ends_with(" 1"));
    assert!(line("connect_plugin_host_providers{state=\"healthy\"}").ends_with(" 1"));
    assert!(text.contains("connect_plugin_host_routed_calls_in_flight"));

    // Served as `GET /metrics` by the host's HTTP surface.
    let server = Server::new(w.platform.http())
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = url(&server).trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(
        &mut stream,
        b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let mut answer = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut answer)
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("connect_plugin_host_routed_calls_total"),
        "{answer}"
    );

    // The provider goes: its series go with it.
    let plane = w.platform.control_plane();
    plane.remove(&plane.members.find(provider).unwrap().runtime_id, "test");
    let text = w.platform.metrics();
    assert!(!text.contains(provider.as_str()), "{text}");
    assert!(text.contains("connect_plugin_host_plugins 1"), "{text}");
}

#[tokio::test]
async fn trace_context_passes_through_the_host() {
    let w = world(1).await;
    const TRACE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    for protocol in [Protocol::Connect, Protocol::Grpc, Protocol::GrpcWeb] {
        let c = through(&w, "/services/echo/-", protocol, HttpVersion::Http2);
        let mut req = Request::new(msg("traced"));
        req.headers_mut()
            .insert("traceparent", HeaderValue::from_static(TRACE));
        let resp: Response<Msg> = c.unary(&SAY, req).await.unwrap();
        assert_eq!(resp.headers()["x-saw-traceparent"], TRACE, "{protocol:?}");
    }
}
