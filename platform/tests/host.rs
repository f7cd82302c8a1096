//! A platform served whole (`Platform::serve`) over loopback: the periodic sweep removes
//! plugins whose tokens expired and stops with the host; the host's health is served over
//! gRPC and plain HTTP, and turns NOT_SERVING on shutdown without holding it up.

use std::time::Duration;

use connect_plugin::interceptors::auth::BearerToken;
use connect_plugin::pb::connectplugin::v1 as cp;
use connect_plugin::pb::grpc::health::v1 as hv1;
use connect_plugin::transport::{Body, HttpHandler as _, ListenAddr};
use connect_plugin::{Channel, Client, Code, Request};
use connect_plugin_platform::control::PlatformConfig;
use connect_plugin_platform::identity::{JoinTokens, SelfIdPattern, TokenLimits};
use connect_plugin_platform::sweep::Swept;
use connect_plugin_platform::{Platform, RunningHost};
use futures_util::StreamExt as _;
use hv1::health_check_response::ServingStatus;
use tokio::sync::watch;

const JOIN: &str = "join-secret-for-host-tests";
/// A bound on waiting for an event that should come much sooner; never a pause.
const PATIENCE: Duration = Duration::from_secs(20);

fn platform(ttl: Duration) -> Platform {
    Platform::new(PlatformConfig {
        join_tokens: JoinTokens::new().with(SelfIdPattern::parse("logger").unwrap(), JOIN),
        tokens: TokenLimits {
            ttl,
            ..TokenLimits::default()
        },
        ..PlatformConfig::default()
    })
}

fn url(host: &RunningHost) -> String {
    match host.local_addr() {
        ListenAddr::Tcp(a) => format!("http://{a}"),
        other => panic!("{other:?}"),
    }
}

fn client(url: &str) -> Client {
    Client::new(Channel::builder(url).unwrap().build())
}

async fn admit(url: &str) {
    let c = cp::HandshakeServiceClient::new(
        client(url).with_interceptor(BearerToken::new(JOIN).unwrap()),
    );
    let admitted = cp::HandshakeService::handshake(
        &c,
        Request::new(cp::HandshakeRequest {
            core_protocol_version: 1,
            app_protocol_versions: vec![1],
            self_id: "logger".into(),
            self_version: "1.0.0".into(),
            ..Default::default()
        }),
    )
    .await
    .unwrap()
    .into_inner();
    assert!(!admitted.runtime_token.is_empty());
}

async fn until(sweeps: &mut watch::Receiver<Swept>, what: impl FnMut(&Swept) -> bool) -> Swept {
    *tokio::time::timeout(PATIENCE, sweeps.wait_for(what))
        .await
        .expect("the sweep did not come")
        .expect("the sweeper stopped")
}

/// Waits until the sweeper's task has ended (its sender dropped).
async fn sweeper_ended(mut sweeps: watch::Receiver<Swept>) {
    tokio::time::timeout(PATIENCE, async { while sweeps.changed().await.is_ok() {} })
        .await
        .expect("the sweeper outlived its host");
}

#[tokio::test]
async fn a_plugin_that_stops_refreshing_is_swept_away() {
    let platform = platform(Duration::from_millis(300));
    let host = platform
        .serve()
        .sweep_every(Duration::from_millis(20))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    admit(&url(&host)).await;
    let plane = platform.control_plane();
    assert_eq!(plane.members.len(), 1);

    let mut sweeps = host.sweeps();
    let swept = until(&mut sweeps, |s| s.removed >= 1).await;
    assert_eq!(swept.removed, 1);
    assert_eq!(plane.members.len(), 0);
    assert!(plane.tokens.is_empty());

    host.shutdown(Duration::from_secs(1)).await;
    sweeper_ended(sweeps).await;
}

#[tokio::test]
async fn a_plugin_with_a_valid_token_stays() {
    let platform = platform(Duration::from_secs(3600));
    let host = platform
        .serve()
        .sweep_every(Duration::from_millis(5))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    admit(&url(&host)).await;
    let mut sweeps = host.sweeps();
    let swept = until(&mut sweeps, |s| s.rounds >= 3).await;
    assert_eq!(swept.removed, 0);
    assert_eq!(platform.control_plane().members.len(), 1);

    // Dropped rather than shut down: the sweeper goes with it all the same.
    drop(host);
    sweeper_ended(sweeps).await;
}

#[tokio::test]
async fn health_is_served_and_turns_not_serving_on_shutdown() {
    let platform = platform(Duration::from_secs(3600));
    let host = platform.serve().bind("127.0.0.1:0").await.unwrap();
    let health = hv1::HealthClient::new(client(&url(&host)));
    let check = |service: &str| {
        let health = health.clone();
        let request = Request::new(hv1::HealthCheckRequest {
            service: service.to_owned(),
        });
        async move { hv1::Health::check(&health, request).await }
    };
    for service in [
        "",
        "connectplugin.v1.HandshakeService",
        "connectplugin.v1.ServiceRegistry",
        "connectplugin.v1.PluginLifecycle",
        "grpc.health.v1.Health",
    ] {
        let status = check(service).await.unwrap().into_inner().status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service:?}");
    }
    let unknown = check("kv.v1.KvService").await.unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);

    let mut watch = hv1::Health::watch(&health, Request::new(hv1::HealthCheckRequest::default()))
        .await
        .unwrap()
        .into_inner();
    let first = watch.next().await.unwrap().unwrap();
    assert_eq!(first.status, ServingStatus::Serving as i32);

    // The watcher is told, and its stream ends, so the shutdown does not wait out the
    // grace period for it.
    let grace = Duration::from_secs(120);
    let (shutdown, rest) = tokio::join!(
        tokio::time::timeout(PATIENCE, host.shutdown(grace)),
        watch.collect::<Vec<_>>()
    );
    shutdown.expect("the health watch held the shutdown");
    let statuses: Vec<i32> = rest.into_iter().map(|r| r.unwrap().status).collect();
    assert_eq!(statuses, vec![ServingStatus::NotServing as i32]);
}

#[tokio::test]
async fn readiness_follows_the_health_and_other_methods_reach_the_router() {
    let platform = platform(Duration::from_secs(3600));
    let http = platform.http();
    let get = |method: http::Method, path: &str| {
        http::Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap()
    };
    let live = http.call(get(http::Method::GET, "/healthz")).await;
    assert_eq!(live.status(), 200);
    let ready = http.call(get(http::Method::GET, "/readyz")).await;
    assert_eq!(ready.status(), 200);
    let head = http.call(get(http::Method::HEAD, "/readyz")).await;
    assert_eq!(head.status(), 200);
    // Not a probe: the RPC router answers (no such method).
    let post = http.call(get(http::Method::POST, "/healthz")).await;
    assert_ne!(post.status(), 200);

    platform.health().begin_shutdown();
    let ready = http.call(get(http::Method::GET, "/readyz")).await;
    assert_eq!(ready.status(), 503);
    let live = http.call(get(http::Method::GET, "/healthz")).await;
    assert_eq!(live.status(), 200);
}
