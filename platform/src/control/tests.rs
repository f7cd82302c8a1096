//! The control plane over real HTTP on loopback: admission, tokens, the registry service,
//! health, the address check, and the attacks the seed system let through.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use connect_plugin::pb::connectplugin::v1 as cp;
use connect_plugin::transport::RunningServer;
use connect_plugin::{Channel, Client, Code, Request, Response, Server, Status, Streaming};
use futures_util::StreamExt as _;
use http::HeaderValue;

use super::*;
use crate::identity::SelfIdPattern;

const JOIN: &str = "join-secret-for-tests";

struct Host {
    plane: Arc<ControlPlane>,
    url: String,
    _server: RunningServer,
}

fn addr(server: &RunningServer) -> String {
    match server.local_addr() {
        connect_plugin::transport::ListenAddr::Tcp(a) => format!("http://{a}"),
        other => panic!("{other:?}"),
    }
}

async fn host(config: PlatformConfig) -> Host {
    let plane = ControlPlane::new(config);
    let server = Server::new(plane.router())
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    Host {
        url: addr(&server),
        plane,
        _server: server,
    }
}

fn config() -> PlatformConfig {
    PlatformConfig {
        join_tokens: JoinTokens::new()
            .with(SelfIdPattern::parse("logger").unwrap(), JOIN)
            .with(SelfIdPattern::parse("cache").unwrap(), JOIN)
            .with(SelfIdPattern::parse("app-*").unwrap(), JOIN),
        allow: AllowList::new().with("http://127.0.0.1:*").unwrap(),
        ..PlatformConfig::default()
    }
}

fn client(url: &str) -> Client {
    Client::new(Channel::builder(url).unwrap().build())
}

fn with_token<T>(message: T, token: &str) -> Request<T> {
    let mut r = Request::new(message);
    r.headers_mut().insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    r
}

fn hello(self_id: &str) -> cp::HandshakeRequest {
    cp::HandshakeRequest {
        core_protocol_version: 1,
        app_protocol_versions: vec![1],
        self_id: self_id.to_owned(),
        self_version: "1.0.0".to_owned(),
        ..Default::default()
    }
}

fn provides(t: &str) -> cp::ServiceDeclaration {
    cp::ServiceDeclaration {
        r#type: t.to_owned(),
        version: "1.2.0".to_owned(),
        service_name: format!("{t}.v1.{}Service", t.to_uppercase()),
    }
}

fn requires(t: &str) -> cp::ServiceDependency {
    cp::ServiceDependency {
        r#type: t.to_owned(),
        ..Default::default()
    }
}

async fn admit(h: &Host, req: cp::HandshakeRequest) -> Result<cp::HandshakeResponse, Status> {
    let c = cp::HandshakeServiceClient::new(client(&h.url));
    cp::HandshakeService::handshake(&c, with_token(req, JOIN))
        .await
        .map(Response::into_inner)
}

fn registry(h: &Host) -> cp::ServiceRegistryClient {
    cp::ServiceRegistryClient::new(client(&h.url))
}

fn lifecycle(h: &Host) -> cp::PluginLifecycleClient {
    cp::PluginLifecycleClient::new(client(&h.url))
}

fn register(t: &str) -> cp::RegisterServiceRequest {
    cp::RegisterServiceRequest {
        service_type: t.to_owned(),
        ..Default::default()
    }
}

/// A plugin's server answering the address check: confirming with the token it holds (or
/// not, or someone else's).
struct Plugin {
    host_url: String,
    token: Mutex<Option<String>>,
    confirms: bool,
}

#[connect_plugin::async_trait]
impl cp::PluginIdentityService for Plugin {
    async fn get_plugin_info(
        &self,
        _: Request<cp::GetPluginInfoRequest>,
    ) -> Result<Response<cp::GetPluginInfoResponse>, Status> {
        Err(Status::unimplemented("not in this test"))
    }

    async fn set_runtime_identity(
        &self,
        _: Request<cp::SetRuntimeIdentityRequest>,
    ) -> Result<Response<cp::SetRuntimeIdentityResponse>, Status> {
        Err(Status::unimplemented("not in this test"))
    }

    async fn verify_address(
        &self,
        request: Request<cp::VerifyAddressRequest>,
    ) -> Result<Response<cp::VerifyAddressResponse>, Status> {
        if self.confirms {
            let token = self.token.lock().unwrap().clone().unwrap_or_default();
            let l = cp::PluginLifecycleClient::new(client(&self.host_url));
            cp::PluginLifecycle::confirm_address(
                &l,
                with_token(
                    cp::ConfirmAddressRequest {
                        nonce: request.into_inner().nonce,
                    },
                    &token,
                ),
            )
            .await?;
        }
        Ok(Response::new(cp::VerifyAddressResponse {}))
    }
}

async fn plugin_server(h: &Host, confirms: bool) -> (Arc<Plugin>, RunningServer, String) {
    let plugin = Arc::new(Plugin {
        host_url: h.url.clone(),
        token: Mutex::new(None),
        confirms,
    });
    let server = Server::new(cp::plugin_identity_service_router(plugin.clone()))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let url = addr(&server);
    (plugin, server, url)
}

async fn watch(h: &Host, token: &str, t: &str) -> Streaming<cp::WatchServiceEvent> {
    cp::ServiceRegistry::watch_service(
        &registry(h),
        with_token(
            cp::WatchServiceRequest {
                service_type: t.to_owned(),
                ..Default::default()
            },
            token,
        ),
    )
    .await
    .unwrap()
    .into_inner()
}

async fn next_event(s: &mut Streaming<cp::WatchServiceEvent>) -> cp::WatchServiceEvent {
    tokio::time::timeout(Duration::from_secs(10), s.next())
        .await
        .expect("an event within 10 s")
        .expect("the watch is open")
        .expect("an event, not an error")
}

/// Admits a provider of `t` serving a plugin server that answers the address check, and a
/// consumer requiring `t`; waits until the provider is routable. Returns (provider
/// response, consumer token, the plugin server).
async fn provider_and_consumer(
    h: &Host,
    t: &str,
) -> (cp::HandshakeResponse, String, RunningServer) {
    let consumer = admit(
        h,
        cp::HandshakeRequest {
            requires: vec![requires(t)],
            ..hello("app-consumer")
        },
    )
    .await
    .unwrap();
    let mut events = watch(h, &consumer.runtime_token, t).await;
    let (plugin, server, url) = plugin_server(h, true).await;
    let provider = admit(
        h,
        cp::HandshakeRequest {
            provides: vec![provides(t)],
            address: url,
            ..hello(t)
        },
    )
    .await
    .unwrap();
    *plugin.token.lock().unwrap() = Some(provider.runtime_token.clone());
    cp::ServiceRegistry::register_service(
        &registry(h),
        with_token(register(t), &provider.runtime_token),
    )
    .await
    .unwrap();
    // Added (unavailable until checked), then available once the check passed.
    loop {
        let e = next_event(&mut events).await;
        if e.endpoint.as_ref().unwrap().state == cp::ServiceState::Available as i32 {
            break;
        }
    }
    (provider, consumer.runtime_token, server)
}

#[tokio::test]
async fn admission_needs_a_credential_for_the_self_id() {
    let h = host(config()).await;
    let c = cp::HandshakeServiceClient::new(client(&h.url));
    // The seed admitted anyone presenting the public cookie.
    let none = cp::HandshakeService::handshake(&c, Request::new(hello("logger"))).await;
    assert_eq!(none.unwrap_err().code(), Code::Unauthenticated);
    let wrong = cp::HandshakeService::handshake(&c, with_token(hello("logger"), "guess")).await;
    assert_eq!(wrong.unwrap_err().code(), Code::Unauthenticated);
    // A join token admits only the self ids it is for.
    let other = cp::HandshakeService::handshake(&c, with_token(hello("kv"), JOIN)).await;
    assert_eq!(other.unwrap_err().code(), Code::Unauthenticated);
    let ok = admit(&h, hello("logger")).await.unwrap();
    assert!(ok.runtime_id.starts_with("logger-"));
    assert_eq!(ok.runtime_id.len(), "logger-".len() + 32);
    assert!(ok.token_expires_at.is_some());
    // Two plugins with the same self id never share an id.
    let again = admit(&h, hello("logger")).await.unwrap();
    assert_ne!(ok.runtime_id, again.runtime_id);
    assert_eq!(h.plane.members.len(), 2);
}

#[tokio::test]
async fn development_mode_admits_without_a_credential() {
    let h = host(PlatformConfig {
        development_mode: true,
        ..PlatformConfig::default()
    })
    .await;
    let c = cp::HandshakeServiceClient::new(client(&h.url));
    let r = cp::HandshakeService::handshake(&c, Request::new(hello("anything")))
        .await
        .unwrap();
    assert!(r.into_inner().runtime_id.starts_with("anything-"));
}

#[tokio::test]
async fn admission_checks_versions_cookie_names_addresses_and_policy() {
    let mut cfg = config();
    cfg.cookie = Some(MagicCookie::new("APP", "yes"));
    cfg.policy = Policy::default().rule(Rule {
        plugins: SelfIdPattern::parse("cache").unwrap(),
        provides: Types::Only(vec!["cache".into()]),
        requires: Types::Only(vec![]),
    });
    let h = host(cfg).await;
    let with_cookie = |mut r: cp::HandshakeRequest| {
        r.magic_cookie_key = "APP".into();
        r.magic_cookie_value = "yes".into();
        r
    };
    let code = |r: Result<cp::HandshakeResponse, Status>| r.unwrap_err().code();
    assert_eq!(
        code(admit(&h, hello("cache")).await),
        Code::InvalidArgument,
        "no cookie"
    );
    let mut bad_core = with_cookie(hello("cache"));
    bad_core.core_protocol_version = 9;
    assert_eq!(code(admit(&h, bad_core).await), Code::InvalidArgument);
    let mut no_common = with_cookie(hello("cache"));
    no_common.app_protocol_versions = vec![7];
    assert_eq!(code(admit(&h, no_common).await), Code::FailedPrecondition);
    let mut bad_id = with_cookie(hello("cache"));
    bad_id.self_id = "Cache\0".into();
    assert_eq!(code(admit(&h, bad_id).await), Code::InvalidArgument);
    let mut bad_version = with_cookie(hello("cache"));
    let mut decl = provides("cache");
    decl.version = "1.0".into();
    bad_version.provides = vec![decl];
    assert_eq!(code(admit(&h, bad_version).await), Code::InvalidArgument);
    let mut not_allowed = with_cookie(hello("cache"));
    not_allowed.provides = vec![provides("logger")];
    assert_eq!(code(admit(&h, not_allowed).await), Code::PermissionDenied);
    let mut outside = with_cookie(hello("cache"));
    outside.address = "http://10.1.2.3:80".into();
    assert_eq!(code(admit(&h, outside).await), Code::PermissionDenied);
    let mut junk_address = with_cookie(hello("cache"));
    junk_address.address = "gopher://x".into();
    assert_eq!(code(admit(&h, junk_address).await), Code::InvalidArgument);
    let mut many = with_cookie(hello("cache"));
    many.requires = (0..40).map(|i| requires(&format!("t{i}"))).collect();
    assert_eq!(code(admit(&h, many).await), Code::ResourceExhausted);
    assert!(admit(&h, with_cookie(hello("cache"))).await.is_ok());
    assert_eq!(h.plane.members.len(), 1, "only the good one was admitted");
}

#[tokio::test]
async fn every_control_plane_call_needs_a_valid_runtime_token() {
    let h = host(config()).await;
    let r = registry(&h);
    let discover = |token: Option<&str>| {
        let req = cp::DiscoverServiceRequest {
            service_type: "logger".into(),
            ..Default::default()
        };
        let r = r.clone();
        let request = match token {
            Some(t) => with_token(req, t),
            None => Request::new(req),
        };
        async move { cp::ServiceRegistry::discover_service(&r, request).await }
    };
    assert_eq!(
        discover(None).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    assert_eq!(
        discover(Some("cprt_forged.token"))
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );
    // The join token is not a runtime token.
    assert_eq!(
        discover(Some(JOIN)).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    let a = admit(
        &h,
        cp::HandshakeRequest {
            requires: vec![requires("logger")],
            ..hello("app-a")
        },
    )
    .await
    .unwrap();
    // A header claiming an identity counts for nothing (the seed trusted one).
    let mut claimed = Request::new(cp::DiscoverServiceRequest {
        service_type: "logger".into(),
        ..Default::default()
    });
    claimed.headers_mut().insert(
        "x-runtime-id",
        HeaderValue::from_str(&a.runtime_id).unwrap(),
    );
    assert_eq!(
        cp::ServiceRegistry::discover_service(&r, claimed)
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );
    // With its token: nobody provides logger yet.
    assert_eq!(
        discover(Some(&a.runtime_token)).await.unwrap_err().code(),
        Code::NotFound
    );
    // Refreshed: both tokens work until the old one expires.
    let fresh = cp::PluginLifecycle::refresh_token(
        &lifecycle(&h),
        with_token(cp::RefreshTokenRequest {}, &a.runtime_token),
    )
    .await
    .unwrap()
    .into_inner();
    assert_ne!(fresh.runtime_token, a.runtime_token);
    assert_eq!(
        discover(Some(&fresh.runtime_token))
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    assert_eq!(
        discover(Some(&a.runtime_token)).await.unwrap_err().code(),
        Code::NotFound
    );
    // Leaving revokes every token.
    cp::PluginLifecycle::leave(
        &lifecycle(&h),
        with_token(cp::LeaveRequest::default(), &fresh.runtime_token),
    )
    .await
    .unwrap();
    assert_eq!(
        discover(Some(&fresh.runtime_token))
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );
    assert_eq!(
        discover(Some(&a.runtime_token)).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    assert!(h.plane.members.is_empty());
}

#[tokio::test]
async fn expired_tokens_are_refused_and_their_plugins_swept() {
    let mut cfg = config();
    cfg.tokens.ttl = Duration::from_millis(1);
    let h = host(cfg).await;
    let a = admit(&h, hello("logger")).await.unwrap();
    // Wait for the expiry itself, not for a guess at it.
    let member = h.plane.members.find(&a.runtime_id).unwrap();
    while h.plane.tokens.holds(&member.runtime_id) {
        tokio::task::yield_now().await;
    }
    let err = cp::PluginLifecycle::report_health(
        &lifecycle(&h),
        with_token(
            cp::ReportHealthRequest {
                state: cp::HealthState::Healthy as i32,
                ..Default::default()
            },
            &a.runtime_token,
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(err.message().contains("expired"), "{}", err.message());
    assert_eq!(h.plane.sweep(), 1);
    assert!(h.plane.members.is_empty());
}

#[tokio::test]
async fn registration_is_limited_to_declared_types_and_own_registrations() {
    let h = host(config()).await;
    let (plugin, _server, url) = plugin_server(&h, true).await;
    let a = admit(
        &h,
        cp::HandshakeRequest {
            provides: vec![provides("logger")],
            address: url.clone(),
            ..hello("logger")
        },
    )
    .await
    .unwrap();
    *plugin.token.lock().unwrap() = Some(a.runtime_token.clone());
    let b = admit(
        &h,
        cp::HandshakeRequest {
            provides: vec![provides("cache")],
            address: url,
            ..hello("cache")
        },
    )
    .await
    .unwrap();
    let r = registry(&h);
    let undeclared =
        cp::ServiceRegistry::register_service(&r, with_token(register("cache"), &a.runtime_token))
            .await;
    assert_eq!(undeclared.unwrap_err().code(), Code::PermissionDenied);
    let id =
        cp::ServiceRegistry::register_service(&r, with_token(register("logger"), &a.runtime_token))
            .await
            .unwrap()
            .into_inner()
            .registration_id;
    // B may not withdraw A's registration.
    let theirs = cp::ServiceRegistry::unregister_service(
        &r,
        with_token(
            cp::UnregisterServiceRequest {
                registration_id: id.clone(),
            },
            &b.runtime_token,
        ),
    )
    .await;
    assert_eq!(theirs.unwrap_err().code(), Code::PermissionDenied);
    assert_eq!(
        h.plane
            .registry
            .providers("logger", &crate::version::VersionFilter::ANY)
            .len(),
        1
    );
    // B's health report changes B only.
    cp::PluginLifecycle::report_health(
        &lifecycle(&h),
        with_token(
            cp::ReportHealthRequest {
                state: cp::HealthState::Unhealthy as i32,
                ..Default::default()
            },
            &b.runtime_token,
        ),
    )
    .await
    .unwrap();
    let bad_state = cp::PluginLifecycle::report_health(
        &lifecycle(&h),
        with_token(cp::ReportHealthRequest::default(), &b.runtime_token),
    )
    .await;
    assert_eq!(bad_state.unwrap_err().code(), Code::InvalidArgument);
    cp::ServiceRegistry::unregister_service(
        &r,
        with_token(
            cp::UnregisterServiceRequest {
                registration_id: id,
            },
            &a.runtime_token,
        ),
    )
    .await
    .unwrap();
    assert!(
        h.plane
            .registry
            .providers("logger", &crate::version::VersionFilter::ANY)
            .is_empty()
    );
}

#[tokio::test]
async fn a_checked_provider_is_discovered_and_watched_through_health_changes() {
    let h = host(config()).await;
    let (provider, consumer, _server) = provider_and_consumer(&h, "logger").await;
    let r = registry(&h);
    let found = cp::ServiceRegistry::discover_service(
        &r,
        with_token(
            cp::DiscoverServiceRequest {
                service_type: "logger".into(),
                min_version: "1.0.0".into(),
            },
            &consumer,
        ),
    )
    .await
    .unwrap()
    .into_inner();
    let chosen = found.endpoint.unwrap();
    assert_eq!(chosen.provider_id, provider.runtime_id);
    assert_eq!(
        chosen.endpoint_url,
        format!("/services/logger/{}/", provider.runtime_id)
    );
    assert_eq!(chosen.version, "1.2.0");
    // A version above the provider's finds nothing.
    let newer = cp::ServiceRegistry::discover_service(
        &r,
        with_token(
            cp::DiscoverServiceRequest {
                service_type: "logger".into(),
                min_version: "10.0.0".into(),
            },
            &consumer,
        ),
    )
    .await;
    assert_eq!(newer.unwrap_err().code(), Code::NotFound);
    // The consumer may not discover what it did not declare.
    let undeclared = cp::ServiceRegistry::discover_service(
        &r,
        with_token(
            cp::DiscoverServiceRequest {
                service_type: "cache".into(),
                ..Default::default()
            },
            &consumer,
        ),
    )
    .await;
    assert_eq!(undeclared.unwrap_err().code(), Code::PermissionDenied);

    let mut events = watch(&h, &consumer, "logger").await;
    let first = next_event(&mut events).await;
    assert_eq!(first.kind, cp::watch_service_event::Kind::Existing as i32);
    cp::PluginLifecycle::report_health(
        &lifecycle(&h),
        with_token(
            cp::ReportHealthRequest {
                state: cp::HealthState::Unhealthy as i32,
                reason: "disk full".into(),
                ..Default::default()
            },
            &provider.runtime_token,
        ),
    )
    .await
    .unwrap();
    let e = next_event(&mut events).await;
    assert_eq!(e.kind, cp::watch_service_event::Kind::Updated as i32);
    assert_eq!(
        e.endpoint.unwrap().state,
        cp::ServiceState::Unavailable as i32
    );
    // Unhealthy providers are never chosen.
    let none = cp::ServiceRegistry::discover_service(
        &r,
        with_token(
            cp::DiscoverServiceRequest {
                service_type: "logger".into(),
                ..Default::default()
            },
            &consumer,
        ),
    )
    .await;
    assert_eq!(none.unwrap_err().code(), Code::Unavailable);
    // Leaving is a removal the watcher sees.
    cp::PluginLifecycle::leave(
        &lifecycle(&h),
        with_token(cp::LeaveRequest::default(), &provider.runtime_token),
    )
    .await
    .unwrap();
    let e = next_event(&mut events).await;
    assert_eq!(e.kind, cp::watch_service_event::Kind::Removed as i32);
}

#[tokio::test]
async fn an_address_nobody_confirms_is_never_routable() {
    let h = host(config()).await;
    // A server at the address that does not hold the plugin's token cannot confirm.
    let (_plugin, _server, url) = plugin_server(&h, false).await;
    let a = admit(
        &h,
        cp::HandshakeRequest {
            provides: vec![provides("logger")],
            address: url,
            ..hello("logger")
        },
    )
    .await
    .unwrap();
    cp::ServiceRegistry::register_service(
        &registry(&h),
        with_token(register("logger"), &a.runtime_token),
    )
    .await
    .unwrap();
    let member = h.plane.members.find(&a.runtime_id).unwrap();
    // The check ends (three attempts) without confirming.
    assert_eq!(member.address_checked().await, AddressCheck::Failed);
    assert!(!member.verified());
    let p = &h
        .plane
        .registry
        .providers("logger", &crate::version::VersionFilter::ANY)[0];
    assert_eq!(p.health, crate::select::Health::Unhealthy);
    // Confirming a nonce nobody sent fails too.
    let forged = cp::PluginLifecycle::confirm_address(
        &lifecycle(&h),
        with_token(
            cp::ConfirmAddressRequest {
                nonce: "guess".into(),
            },
            &a.runtime_token,
        ),
    )
    .await;
    assert_eq!(forged.unwrap_err().code(), Code::PermissionDenied);
}

#[tokio::test]
async fn a_plugin_cannot_claim_another_plugins_address() {
    let h = host(config()).await;
    // The real logger, verified.
    let (_provider, _consumer, server) = provider_and_consumer(&h, "logger").await;
    let victim = addr(&server);
    // An impostor declares the logger's address: the check goes to the logger, which
    // confirms with its own token — not the impostor's nonce.
    let impostor = admit(
        &h,
        cp::HandshakeRequest {
            provides: vec![provides("cache")],
            address: victim,
            ..hello("cache")
        },
    )
    .await
    .unwrap();
    let member = h.plane.members.find(&impostor.runtime_id).unwrap();
    assert_eq!(member.address_checked().await, AddressCheck::Failed);
    assert!(!member.verified());
}

#[tokio::test]
async fn admissions_and_watches_are_bounded() {
    let mut cfg = config();
    cfg.members.max_per_self_id = 3;
    cfg.members.max_watches = 2;
    let h = host(cfg).await;
    for _ in 0..3 {
        admit(&h, hello("logger")).await.unwrap();
    }
    assert_eq!(
        admit(&h, hello("logger")).await.unwrap_err().code(),
        Code::ResourceExhausted
    );
    let c = admit(
        &h,
        cp::HandshakeRequest {
            requires: vec![requires("logger")],
            ..hello("app-x")
        },
    )
    .await
    .unwrap();
    let w1 = watch(&h, &c.runtime_token, "logger").await;
    let _w2 = watch(&h, &c.runtime_token, "logger").await;
    // A refused watch ends its stream with the error at once.
    let mut third = watch(&h, &c.runtime_token, "logger").await;
    let refused = tokio::time::timeout(Duration::from_secs(10), third.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(refused.unwrap_err().code(), Code::ResourceExhausted);
    // A closed watch gives its room back, once the host has seen the stream go.
    let member = h.plane.members.find(&c.runtime_id).unwrap();
    assert_eq!(member.watches.load(std::sync::atomic::Ordering::Acquire), 2);
    drop(w1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while member.watches.load(std::sync::atomic::Ordering::Acquire) != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the closed watch was never released"
        );
        tokio::task::yield_now().await;
    }
    let _w3 = watch(&h, &c.runtime_token, "logger").await;
    assert_eq!(member.watches.load(std::sync::atomic::Ordering::Acquire), 2);
}

#[tokio::test]
async fn a_flood_of_admissions_from_one_address_is_refused() {
    let mut cfg = config();
    cfg.admission_rate = connect_plugin::interceptors::rate_limit::RateLimitConfig::per_period(
        Duration::from_secs(3600),
    )
    .unwrap()
    .burst(std::num::NonZeroU32::new(3).unwrap())
    .runtime_id_header(None);
    let h = host(cfg).await;
    for _ in 0..3 {
        admit(&h, hello("logger")).await.unwrap();
    }
    let flood = admit(&h, hello("logger")).await.unwrap_err();
    assert_eq!(flood.code(), Code::ResourceExhausted);
    // Nothing was admitted for the refused one, and other calls are not limited.
    assert_eq!(h.plane.members.len(), 3);
    let c = cp::ServiceRegistryClient::new(client(&h.url));
    for _ in 0..5 {
        let e = cp::ServiceRegistry::discover_service(
            &c,
            Request::new(cp::DiscoverServiceRequest::default()),
        )
        .await
        .unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated);
    }
}

#[tokio::test]
async fn everything_that_happens_is_one_event_stream() {
    use crate::events::PlatformEvent as E;
    let h = host(config()).await;
    let mut events = h.plane.events.subscribe();
    let (plugin, _server, url) = plugin_server(&h, true).await;
    let a = admit(
        &h,
        cp::HandshakeRequest {
            provides: vec![provides("logger")],
            address: url,
            ..hello("logger")
        },
    )
    .await
    .unwrap();
    *plugin.token.lock().unwrap() = Some(a.runtime_token.clone());
    let member = h.plane.members.find(&a.runtime_id).unwrap();
    assert_eq!(member.address_checked().await, AddressCheck::Verified);
    cp::ServiceRegistry::register_service(
        &registry(&h),
        with_token(register("logger"), &a.runtime_token),
    )
    .await
    .unwrap();
    cp::PluginLifecycle::report_health(
        &lifecycle(&h),
        with_token(
            cp::ReportHealthRequest {
                state: cp::HealthState::Degraded as i32,
                ..Default::default()
            },
            &a.runtime_token,
        ),
    )
    .await
    .unwrap();
    cp::PluginLifecycle::leave(
        &lifecycle(&h),
        with_token(
            cp::LeaveRequest {
                reason: "bye".into(),
            },
            &a.runtime_token,
        ),
    )
    .await
    .unwrap();
    let mut seen = Vec::new();
    loop {
        let e = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("an event")
            .expect("not lagging");
        let last = matches!(e, E::Removed { .. });
        seen.push(e);
        if last {
            break;
        }
    }
    let id = a.runtime_id.clone();
    assert_eq!(
        seen,
        vec![
            E::Admitted {
                runtime_id: id.clone()
            },
            E::AddressVerified {
                runtime_id: id.clone()
            },
            E::HealthChanged {
                runtime_id: id.clone(),
                from: crate::select::Health::Unhealthy,
                to: crate::select::Health::Healthy,
            },
            E::Registered {
                runtime_id: id.clone(),
                service_type: "logger".into(),
                registration_id: match &seen[3] {
                    E::Registered {
                        registration_id, ..
                    } => registration_id.clone(),
                    other => panic!("{other:?}"),
                },
            },
            E::HealthChanged {
                runtime_id: id.clone(),
                from: crate::select::Health::Healthy,
                to: crate::select::Health::Degraded,
            },
            E::Removed {
                runtime_id: id,
                reason: "bye".into(),
            },
        ]
    );
}
