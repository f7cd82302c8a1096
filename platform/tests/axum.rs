//! The platform inside an axum application: its router is a `tower::Service`, mounted as the
//! app's fallback next to the app's own routes, served by axum (HTTP/1.1 and h2c on one
//! port), and plugins are admitted through it.

use connect_plugin::interceptors::auth::BearerToken;
use connect_plugin::pb::connectplugin::v1 as cp;
use connect_plugin::transport::HttpVersion;
use connect_plugin::{Channel, Client, Code, Request};
use connect_plugin_platform::Platform;
use connect_plugin_platform::control::PlatformConfig;
use connect_plugin_platform::identity::{JoinTokens, SelfIdPattern};

#[tokio::test]
async fn the_platform_serves_plugins_from_inside_an_axum_app() {
    let platform = Platform::new(PlatformConfig {
        join_tokens: JoinTokens::new().with(SelfIdPattern::parse("logger").unwrap(), "join-secret"),
        ..PlatformConfig::default()
    });
    let app = axum::Router::new()
        .route(
            "/hello",
            axum::routing::get(|| async { "hello from the app" }),
        )
        .fallback_service(platform.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("http://{addr}");

    // The app's own route.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(
        &mut stream,
        b"GET /hello HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let mut answer = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut answer)
        .await
        .unwrap();
    assert!(answer.ends_with("hello from the app"), "{answer}");

    // The platform, over h2c and HTTP/1.1.
    for version in [HttpVersion::Http2, HttpVersion::Http1] {
        let hello = |token: &str| {
            cp::HandshakeServiceClient::new(
                Client::new(
                    Channel::builder(&url)
                        .unwrap()
                        .http_version(version)
                        .build(),
                )
                .with_interceptor(BearerToken::new(token).unwrap()),
            )
        };
        let request = || {
            Request::new(cp::HandshakeRequest {
                core_protocol_version: 1,
                app_protocol_versions: vec![1],
                self_id: "logger".into(),
                ..Default::default()
            })
        };
        let admitted = cp::HandshakeService::handshake(&hello("join-secret"), request())
            .await
            .unwrap()
            .into_inner();
        assert!(admitted.runtime_id.starts_with("logger-"), "{version:?}");
        let refused = cp::HandshakeService::handshake(&hello("guess"), request())
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::Unauthenticated, "{version:?}");
    }
    assert_eq!(platform.control_plane().members.len(), 2);
}
