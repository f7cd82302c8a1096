//! End-to-end tests of the wire runtime through the library API: every protocol × codec ×
//! HTTP version, metadata, deadlines and cancellation, compression, limits, transports
//! (TCP, TLS, Unix, in-memory), graceful shutdown, interceptors and tower composition.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use connect_plugin::protocol::{Code, Codec, Encoding, Protocol, StreamType};
use connect_plugin::rpc::{
    self, ClientCall, ClientNext, ClientOutput, Idempotency, Interceptor, MethodDescriptor,
    Request, Response, ServerCall, ServerNext, ServerOutput,
};
use connect_plugin::transport::{HttpVersion, ListenAddr, Listener, RunningServer, memory_link};
use connect_plugin::{Channel, Client, ClientConfig, Router, Server, Status};
use echo::collect;
use echo::pb::{EchoRequest, EchoResponse, Failure};
use echo::pb::{EchoService as _, EchoServiceClient};
use futures::future::BoxFuture;
use http::HeaderValue;
use tokio::sync::Notify;

fn req(message: &str) -> EchoRequest {
    EchoRequest {
        message: message.to_owned(),
        ..Default::default()
    }
}

fn fail(code: &str, message: &str) -> Failure {
    Failure {
        code: code.into(),
        message: message.into(),
        with_detail: true,
    }
}

async fn serve(router: Router) -> (RunningServer, String) {
    let server = Server::new(router).bind("127.0.0.1:0").await.expect("bind");
    let ListenAddr::Tcp(addr) = server.local_addr().clone() else {
        panic!("tcp")
    };
    (server, format!("http://{addr}"))
}

fn client(url: &str, protocol: Protocol, codec: Codec, version: HttpVersion) -> EchoServiceClient {
    let channel = Channel::builder(url).unwrap().http_version(version).build();
    EchoServiceClient::new(Client::with_config(
        channel,
        ClientConfig {
            protocol,
            codec,
            ..ClientConfig::default()
        },
    ))
}

#[tokio::test]
async fn every_protocol_codec_and_http_version() {
    let (_server, url) = serve(echo::router()).await;
    for protocol in [Protocol::Connect, Protocol::Grpc, Protocol::GrpcWeb] {
        for codec in [Codec::Proto, Codec::Json] {
            for version in [HttpVersion::Http2, HttpVersion::Http1] {
                if protocol == Protocol::Grpc && version == HttpVersion::Http1 {
                    continue; // gRPC needs HTTP/2 trailers.
                }
                let case = format!("{protocol:?}/{codec:?}/{version:?}");
                let c = client(&url, protocol, codec, version);
                let r = c
                    .echo(req("hi").into())
                    .await
                    .unwrap_or_else(|e| panic!("{case}: {e}"));
                assert_eq!(r.get_ref().message, "hi", "{case}");

                let mut ss = req("s");
                ss.count = 4;
                let (msgs, err) =
                    collect(c.echo_server_stream(ss.into()).await.unwrap().into_inner()).await;
                assert!(err.is_none(), "{case}: {err:?}");
                assert_eq!(
                    msgs.iter().map(|m| m.index).collect::<Vec<_>>(),
                    vec![0, 1, 2, 3],
                    "{case}"
                );

                let mut ss = req("s");
                ss.count = 2;
                ss.fail = Some(fail("aborted", "after two"));
                let (msgs, err) =
                    collect(c.echo_server_stream(ss.into()).await.unwrap().into_inner()).await;
                assert_eq!(msgs.len(), 2, "{case}");
                let err = err.expect("stream error");
                assert_eq!(err.code(), Code::Aborted, "{case}");
                assert_eq!(err.message(), "after two", "{case}");
                assert_eq!(
                    err.find_detail::<EchoResponse>().unwrap().message,
                    "after two",
                    "{case}"
                );

                let joined = c
                    .echo_client_stream(Request::new(connect_plugin::Streaming::from_iter(vec![
                        req("a"),
                        req("b"),
                        req("c"),
                    ])))
                    .await
                    .unwrap_or_else(|e| panic!("{case}: {e}"));
                assert_eq!(joined.get_ref().message, "a,b,c", "{case}");
                assert_eq!(joined.get_ref().index, 3, "{case}");

                if version == HttpVersion::Http2 {
                    let (msgs, err) = collect(
                        c.echo_bidi(Request::new(connect_plugin::Streaming::from_iter(vec![
                            req("x"),
                            req("y"),
                        ])))
                        .await
                        .unwrap()
                        .into_inner(),
                    )
                    .await;
                    assert!(err.is_none(), "{case}: {err:?}");
                    assert_eq!(
                        msgs.iter().map(|m| m.message.as_str()).collect::<Vec<_>>(),
                        ["x", "y"],
                        "{case}"
                    );
                }

                for code in [
                    Code::NotFound,
                    Code::InvalidArgument,
                    Code::Unavailable,
                    Code::Internal,
                    Code::Unauthenticated,
                ] {
                    let mut r = req("x");
                    r.fail = Some(fail(code.as_str(), "boom"));
                    let e = c.echo(r.into()).await.expect_err("fails");
                    assert_eq!(e.code(), code, "{case}");
                    assert_eq!(e.message(), "boom", "{case}");
                    assert_eq!(
                        e.find_detail::<EchoResponse>().unwrap().message,
                        "boom",
                        "{case}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn bidi_is_full_duplex_over_http2() {
    let (_server, url) = serve(echo::router()).await;
    for protocol in [Protocol::Connect, Protocol::Grpc, Protocol::GrpcWeb] {
        let c = client(&url, protocol, Codec::Proto, HttpVersion::Http2);
        let (tx, rx) = futures::channel::mpsc::unbounded::<EchoRequest>();
        let mut responses = c
            .echo_bidi(Request::new(connect_plugin::Streaming::from_messages(rx)))
            .await
            .unwrap()
            .into_inner();
        // Each answer arrives before the next request is sent: a half-duplex transport
        // would hang here (bounded by the timeout, which only limits a failure).
        for i in 0..5 {
            tx.unbounded_send(req(&format!("m{i}"))).unwrap();
            let got = tokio::time::timeout(Duration::from_secs(5), responses.message())
                .await
                .expect("answer before the request stream ends")
                .unwrap()
                .unwrap();
            assert_eq!(got.message, format!("m{i}"));
            assert_eq!(got.index, i);
        }
        drop(tx);
        assert!(responses.message().await.unwrap().is_none());
    }
}

const META: MethodDescriptor = MethodDescriptor::new(
    "/test.v1.Meta/Unary",
    StreamType::Unary,
    Idempotency::NoSideEffects,
);
const META_STREAM: MethodDescriptor = MethodDescriptor::new(
    "/test.v1.Meta/Stream",
    StreamType::ServerStreaming,
    Idempotency::Unknown,
);

fn meta_router() -> Router {
    Router::new()
        .route(
            META,
            rpc::unary(|req: Request<EchoRequest>| async move {
                let seen = req
                    .headers()
                    .get("x-in")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                let mut resp = Response::new(EchoResponse {
                    message: seen.clone(),
                    ..Default::default()
                });
                resp.headers_mut()
                    .insert("x-out", HeaderValue::from_str(&seen).unwrap());
                resp.trailers_mut()
                    .insert("x-trailer", HeaderValue::from_static("t1"));
                Ok(resp)
            }),
        )
        .route(
            META_STREAM,
            rpc::server_streaming(|req: Request<EchoRequest>| async move {
                let n = req.get_ref().count;
                let mut resp = Response::new(futures::stream::iter((0..n).map(|i| {
                    Ok(EchoResponse {
                        index: i,
                        ..Default::default()
                    })
                })));
                resp.headers_mut()
                    .insert("x-out", HeaderValue::from_static("h"));
                resp.trailers_mut()
                    .insert("x-trailer", HeaderValue::from_static("t2"));
                Ok(resp)
            }),
        )
}

#[tokio::test]
async fn headers_and_trailers_travel_on_every_protocol() {
    let (_server, url) = serve(meta_router()).await;
    for protocol in [Protocol::Connect, Protocol::Grpc, Protocol::GrpcWeb] {
        let c = Client::with_config(
            Channel::builder(&url).unwrap().build(),
            ClientConfig {
                protocol,
                ..ClientConfig::default()
            },
        );
        let mut r = Request::new(req(""));
        r.headers_mut()
            .insert("x-in", HeaderValue::from_static("v"));
        let resp: Response<EchoResponse> = c.unary(&META, r).await.unwrap();
        assert_eq!(resp.get_ref().message, "v", "{protocol:?}");
        assert_eq!(resp.headers().get("x-out").unwrap(), "v", "{protocol:?}");
        assert_eq!(
            resp.trailers().get("x-trailer").unwrap(),
            "t1",
            "{protocol:?}"
        );

        let mut sreq = req("");
        sreq.count = 2;
        let resp = c
            .server_streaming::<_, EchoResponse>(&META_STREAM, Request::new(sreq))
            .await
            .unwrap();
        assert_eq!(resp.headers().get("x-out").unwrap(), "h", "{protocol:?}");
        let mut stream = resp.into_inner();
        let mut n = 0;
        while stream.message().await.unwrap().is_some() {
            n += 1;
        }
        assert_eq!(n, 2);
        assert_eq!(
            stream.trailers().unwrap().get("x-trailer").unwrap(),
            "t2",
            "{protocol:?}"
        );
    }
}

/// A handler that never answers and reports when it is dropped (cancelled).
fn stalling_router(dropped: Arc<Notify>, started: Arc<Notify>) -> Router {
    struct Guard(Arc<Notify>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.notify_one();
        }
    }
    Router::new().route(
        echo::pb::ECHO_SERVICE_ECHO,
        rpc::unary(move |_req: Request<EchoRequest>| {
            let guard = Guard(dropped.clone());
            let started = started.clone();
            async move {
                let _guard = guard;
                started.notify_one();
                std::future::pending::<()>().await;
                Ok(Response::new(EchoResponse::default()))
            }
        }),
    )
}

#[tokio::test]
async fn deadline_cancels_the_handler_on_every_protocol() {
    for protocol in [Protocol::Connect, Protocol::Grpc, Protocol::GrpcWeb] {
        let dropped = Arc::new(Notify::new());
        let (_server, url) = serve(stalling_router(dropped.clone(), Arc::new(Notify::new()))).await;
        let c = client(&url, protocol, Codec::Proto, HttpVersion::Http2);
        let started = std::time::Instant::now();
        let err = c
            .echo(Request::new(req("x")).with_timeout(Duration::from_millis(150)))
            .await
            .expect_err("deadline");
        assert_eq!(err.code(), Code::DeadlineExceeded, "{protocol:?}");
        assert!(started.elapsed() < Duration::from_secs(2), "{protocol:?}");
        tokio::time::timeout(Duration::from_secs(5), dropped.notified())
            .await
            .unwrap_or_else(|_| panic!("{protocol:?}: handler was not cancelled"));
    }
}

#[tokio::test]
async fn server_enforces_the_timeout_header() {
    // A raw request with Connect-Timeout-Ms and no client-side timer: only the server can
    // answer deadline_exceeded.
    let dropped = Arc::new(Notify::new());
    let (_server, url) = serve(stalling_router(dropped.clone(), Arc::new(Notify::new()))).await;
    let channel = Channel::builder(&url).unwrap().build();
    for (ct, header, value) in [
        ("application/json", "connect-timeout-ms", "100"),
        ("application/grpc", "grpc-timeout", "100m"),
    ] {
        let body = if ct == "application/json" {
            Bytes::from_static(b"{}")
        } else {
            Bytes::from_static(&[0, 0, 0, 0, 0])
        };
        let mut r = http::Request::new(connect_plugin::transport::Body::full(body));
        *r.method_mut() = http::Method::POST;
        *r.uri_mut() = channel
            .uri_for(echo::pb::ECHO_SERVICE_ECHO.path, None)
            .unwrap();
        r.headers_mut()
            .insert("content-type", HeaderValue::from_static(ct));
        r.headers_mut()
            .insert(header, HeaderValue::from_static(value));
        let resp = channel.send(r).await.unwrap();
        if ct == "application/json" {
            assert_eq!(resp.status(), 504);
        } else {
            assert_eq!(resp.headers().get("grpc-status").unwrap(), "4");
        }
        tokio::time::timeout(Duration::from_secs(5), dropped.notified())
            .await
            .expect("handler cancelled");
    }
}

#[tokio::test]
async fn client_disconnect_cancels_the_handler() {
    let dropped = Arc::new(Notify::new());
    let started = Arc::new(Notify::new());
    let (_server, url) = serve(stalling_router(dropped.clone(), started.clone())).await;
    let c = client(&url, Protocol::Connect, Codec::Proto, HttpVersion::Http2);
    let call = tokio::spawn(async move { c.echo(req("x").into()).await });
    tokio::time::timeout(Duration::from_secs(5), started.notified())
        .await
        .expect("handler started");
    call.abort();
    tokio::time::timeout(Duration::from_secs(5), dropped.notified())
        .await
        .expect("handler cancelled when the client went away");
}

#[tokio::test]
async fn compression_negotiation_and_threshold() {
    let (_server, url) = serve(echo::router()).await;
    let channel = Channel::builder(&url).unwrap().build();
    for (size, compressed) in [(100usize, false), (50_000, true)] {
        let mut m = req("z");
        m.payload = vec![b'a'; size].into();
        let body = serde_json::to_vec(&m).unwrap();
        let mut r = http::Request::new(connect_plugin::transport::Body::full(body));
        *r.method_mut() = http::Method::POST;
        *r.uri_mut() = channel
            .uri_for(echo::pb::ECHO_SERVICE_ECHO.path, None)
            .unwrap();
        r.headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
        r.headers_mut()
            .insert("accept-encoding", HeaderValue::from_static("gzip"));
        let resp = channel.send(r).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers().get("content-encoding").is_some(),
            compressed,
            "size {size}"
        );
    }
    for protocol in [Protocol::Connect, Protocol::Grpc, Protocol::GrpcWeb] {
        let c = EchoServiceClient::new(Client::with_config(
            Channel::builder(&url).unwrap().build(),
            ClientConfig {
                protocol,
                send_compression: Encoding::Gzip,
                ..ClientConfig::default()
            },
        ));
        let mut m = req("gz");
        m.payload = vec![9u8; 3 << 20].into();
        let back = c.echo(m.clone().into()).await.unwrap().into_inner();
        assert_eq!(back.payload, m.payload, "{protocol:?}");
        let (msgs, err) = collect(
            c.echo_bidi(Request::new(connect_plugin::Streaming::from_iter(vec![
                m.clone(),
                m.clone(),
            ])))
            .await
            .unwrap()
            .into_inner(),
        )
        .await;
        assert!(err.is_none(), "{protocol:?} {err:?}");
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[1].payload, m.payload);
    }
}

#[tokio::test]
async fn message_size_limits_on_both_sides() {
    let (_server, url) = serve(echo::router().max_receive_message_size(64 * 1024)).await;
    for protocol in [Protocol::Connect, Protocol::Grpc, Protocol::GrpcWeb] {
        let c = client(&url, protocol, Codec::Proto, HttpVersion::Http2);
        let mut m = req("big");
        m.payload = vec![1u8; 64 * 1024 - 64].into();
        c.echo(m.clone().into())
            .await
            .unwrap_or_else(|e| panic!("{protocol:?} under the limit: {e}"));
        m.payload = vec![1u8; 64 * 1024 + 1].into();
        let e = c.echo(m.clone().into()).await.expect_err("over the limit");
        assert_eq!(e.code(), Code::ResourceExhausted, "{protocol:?}");
        // The client's own limit on responses.
        let small = EchoServiceClient::new(Client::with_config(
            Channel::builder(&url).unwrap().build(),
            ClientConfig {
                protocol,
                max_receive_message_size: 1000,
                ..ClientConfig::default()
            },
        ));
        m.payload = vec![1u8; 5000].into();
        let e = small
            .echo(m.into())
            .await
            .expect_err("response over the client's limit");
        assert_eq!(e.code(), Code::ResourceExhausted, "{protocol:?}");
    }
}

#[tokio::test]
async fn connect_get_for_side_effect_free_methods() {
    let (_server, url) = serve(echo::router()).await;
    for codec in [Codec::Proto, Codec::Json] {
        let c = EchoServiceClient::new(Client::with_config(
            Channel::builder(&url).unwrap().build(),
            ClientConfig {
                codec,
                use_get: true,
                ..ClientConfig::default()
            },
        ));
        assert_eq!(
            c.echo(req("via get").into())
                .await
                .unwrap()
                .get_ref()
                .message,
            "via get"
        );
    }
    let channel = Channel::builder(&url).unwrap().build();
    let mut r = http::Request::new(connect_plugin::transport::Body::empty());
    *r.uri_mut() = channel
        .uri_for(
            echo::pb::ECHO_SERVICE_ECHO.path,
            Some("connect=v1&encoding=json&message=%7B%22message%22%3A%22q%22%7D"),
        )
        .unwrap();
    let resp = channel.send(r).await.unwrap();
    assert_eq!(resp.status(), 200);
    // GET is refused for methods with side effects.
    let mut r = http::Request::new(connect_plugin::transport::Body::empty());
    *r.uri_mut() = channel
        .uri_for(
            echo::pb::ECHO_SERVICE_ECHO_SERVER_STREAM.path,
            Some("encoding=json&message=%7B%7D"),
        )
        .unwrap();
    assert_eq!(channel.send(r).await.unwrap().status(), 405);
}

async fn exercise(c: &EchoServiceClient) {
    assert_eq!(
        c.echo(req("one").into()).await.unwrap().get_ref().message,
        "one"
    );
    let (msgs, err) = collect(
        c.echo_bidi(Request::new(connect_plugin::Streaming::from_iter(vec![
            req("a"),
            req("b"),
        ])))
        .await
        .unwrap()
        .into_inner(),
    )
    .await;
    assert!(err.is_none());
    assert_eq!(msgs.len(), 2);
}

#[tokio::test]
async fn unix_socket_transport() {
    let dir = std::env::temp_dir().join(format!("cp-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("echo.sock");
    let server = Server::new(echo::router())
        .bind(&format!("unix:{}", path.display()))
        .await
        .unwrap();
    let c = EchoServiceClient::new(Client::new(
        Channel::builder(&format!("unix:{}", path.display()))
            .unwrap()
            .build(),
    ));
    exercise(&c).await;
    server.shutdown(Duration::from_secs(1)).await;
    assert!(!path.exists(), "the socket file is removed on shutdown");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn in_memory_transport() {
    let (connector, listener) = memory_link();
    let _server = Server::new(echo::router())
        .serve(Listener::Memory(listener))
        .unwrap();
    let c = EchoServiceClient::new(Client::new(Channel::memory(connector).build()));
    exercise(&c).await;
}

#[tokio::test]
async fn tls_transport() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert_der = cert.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).unwrap();
    let server_cfg = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert_der.clone()], key)
        .unwrap();
    let server = Server::new(echo::router())
        .tls(server_cfg)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let ListenAddr::Tcp(addr) = server.local_addr().clone() else {
        panic!()
    };
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert_der).unwrap();
    let client_cfg = Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    for version in [HttpVersion::Http2, HttpVersion::Http1] {
        let channel = Channel::builder(&format!("https://localhost:{}", addr.port()))
            .unwrap()
            .http_version(version)
            .tls(client_cfg.clone())
            .build();
        let c = EchoServiceClient::new(Client::new(channel));
        assert_eq!(
            c.echo(req("secure").into())
                .await
                .unwrap()
                .get_ref()
                .message,
            "secure",
            "{version:?}"
        );
    }
    // A plaintext client cannot talk to the TLS port.
    let plain = client(
        &format!("http://127.0.0.1:{}", addr.port()),
        Protocol::Connect,
        Codec::Proto,
        HttpVersion::Http2,
    );
    assert_eq!(
        plain.echo(req("x").into()).await.unwrap_err().code(),
        Code::Unavailable
    );
}

#[tokio::test]
async fn graceful_shutdown_finishes_calls_in_flight_then_cancels() {
    let (server, url) = serve(echo::router()).await;
    let c = client(&url, Protocol::Connect, Codec::Proto, HttpVersion::Http2);
    let mut slow = req("slow");
    slow.delay_ms = 300;
    let c2 = c.clone();
    let call = tokio::spawn(async move { c2.echo(slow.into()).await });
    // Wait until the call is in flight: a concurrent quick call proves the connection is up.
    c.echo(req("up").into()).await.unwrap();
    // The idle connection and the finished call must not hold shutdown to its grace period.
    let t = std::time::Instant::now();
    server.shutdown(Duration::from_secs(5)).await;
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "shutdown took {:?}",
        t.elapsed()
    );
    assert_eq!(call.await.unwrap().unwrap().get_ref().message, "slow");
    // Nothing listens any more.
    let fresh = client(&url, Protocol::Connect, Codec::Proto, HttpVersion::Http2);
    assert_eq!(
        fresh.echo(req("x").into()).await.unwrap_err().code(),
        Code::Unavailable
    );

    // With a short grace period a long call is cut off rather than waited for.
    let dropped = Arc::new(Notify::new());
    let started = Arc::new(Notify::new());
    let (server, url) = serve(stalling_router(dropped.clone(), started.clone())).await;
    let c = client(&url, Protocol::Connect, Codec::Proto, HttpVersion::Http2);
    let call = tokio::spawn(async move { c.echo(req("x").into()).await });
    started.notified().await;
    let t = std::time::Instant::now();
    server.shutdown(Duration::from_millis(100)).await;
    assert!(t.elapsed() < Duration::from_secs(3));
    let e = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .expect("call ends")
        .unwrap()
        .unwrap_err();
    assert_eq!(e.code(), Code::Unavailable);
    tokio::time::timeout(Duration::from_secs(5), dropped.notified())
        .await
        .expect("handler cancelled");
}

/// Server side: requires `authorization: Bearer s3cret`, records the identity for handlers.
struct RequireToken {
    seen: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct Identity(String);

impl Interceptor for RequireToken {
    fn intercept_server<'a>(
        &'a self,
        mut call: ServerCall,
        next: ServerNext<'a>,
    ) -> BoxFuture<'a, Result<ServerOutput, Status>> {
        self.seen.fetch_add(1, Ordering::SeqCst);
        let ok = call
            .headers
            .get("authorization")
            .is_some_and(|v| v == "Bearer s3cret");
        if !ok {
            return Box::pin(async { Err(Status::unauthenticated("missing or bad token")) });
        }
        call.extensions.insert(Identity("alice".into()));
        next.run(call)
    }
}

/// Client side: adds the token.
struct AddToken;

impl Interceptor for AddToken {
    fn intercept_client<'a>(
        &'a self,
        mut call: ClientCall,
        next: ClientNext<'a>,
    ) -> BoxFuture<'a, Result<ClientOutput, Status>> {
        call.headers
            .insert("authorization", HeaderValue::from_static("Bearer s3cret"));
        next.run(call)
    }
}

#[tokio::test]
async fn interceptors_wrap_unary_and_streaming_calls_on_both_sides() {
    let seen = Arc::new(AtomicUsize::new(0));
    let router = echo::router()
        .route(
            META,
            rpc::unary(|req: Request<EchoRequest>| async move {
                let who = req
                    .extensions()
                    .get::<Identity>()
                    .map(|i| i.0.clone())
                    .unwrap_or_default();
                Ok(Response::new(EchoResponse {
                    message: who,
                    ..Default::default()
                }))
            }),
        )
        .interceptor(RequireToken { seen: seen.clone() });
    let (_server, url) = serve(router).await;
    for protocol in [Protocol::Connect, Protocol::Grpc, Protocol::GrpcWeb] {
        let bare = client(&url, protocol, Codec::Proto, HttpVersion::Http2);
        assert_eq!(
            bare.echo(req("x").into()).await.unwrap_err().code(),
            Code::Unauthenticated,
            "{protocol:?}"
        );
        let e = match bare
            .echo_bidi(Request::new(connect_plugin::Streaming::from_iter(vec![
                req("x"),
            ])))
            .await
        {
            Err(e) => e,
            Ok(r) => collect(r.into_inner()).await.1.expect("stream refused"),
        };
        assert_eq!(e.code(), Code::Unauthenticated, "{protocol:?}");

        let raw = Client::with_config(
            Channel::builder(&url).unwrap().build(),
            ClientConfig {
                protocol,
                ..ClientConfig::default()
            },
        )
        .with_interceptor(AddToken);
        let who: Response<EchoResponse> = raw.unary(&META, Request::new(req(""))).await.unwrap();
        assert_eq!(who.get_ref().message, "alice");
        let authed = EchoServiceClient::new(raw);
        exercise(&authed).await;
    }
    assert!(seen.load(Ordering::SeqCst) >= 12);
}

#[tokio::test]
async fn router_is_a_tower_service() {
    use tower::ServiceExt as _;
    let router = echo::router();
    let body = serde_json::to_vec(&req("tower")).unwrap();
    let r = http::Request::builder()
        .method("POST")
        .uri("/echo.v1.EchoService/Echo")
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(Bytes::from(body)))
        .unwrap();
    let resp = router.oneshot(r).await.unwrap();
    assert_eq!(resp.status(), 200);
    use http_body_util::BodyExt as _;
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["message"], "tower");
}

#[tokio::test]
async fn unknown_method_and_dead_server() {
    let (server, url) = serve(echo::router()).await;
    const NOPE: MethodDescriptor = MethodDescriptor::new(
        "/echo.v1.EchoService/Nope",
        StreamType::Unary,
        Idempotency::Unknown,
    );
    for protocol in [Protocol::Connect, Protocol::Grpc, Protocol::GrpcWeb] {
        let c = Client::with_config(
            Channel::builder(&url).unwrap().build(),
            ClientConfig {
                protocol,
                ..ClientConfig::default()
            },
        );
        let e = c
            .unary::<_, EchoResponse>(&NOPE, Request::new(req("")))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::Unimplemented, "{protocol:?}");
    }
    server.shutdown(Duration::ZERO).await;
    // Connection refused is `unavailable`, promptly.
    let c = client(&url, Protocol::Connect, Codec::Proto, HttpVersion::Http2);
    let e = tokio::time::timeout(Duration::from_secs(5), c.echo(req("x").into()))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(e.code(), Code::Unavailable);
}

#[tokio::test]
async fn a_failing_request_stream_aborts_the_call() {
    let (_server, url) = serve(echo::router()).await;
    for protocol in [Protocol::Connect, Protocol::Grpc, Protocol::GrpcWeb] {
        let c = client(&url, protocol, Codec::Proto, HttpVersion::Http2);
        let requests = connect_plugin::Streaming::from_stream(futures::stream::iter(vec![
            Ok(req("a")),
            Err(Status::aborted("the producer failed")),
        ]));
        // Were the failure taken as the end of the stream, the server would answer "a".
        let result = c.echo_client_stream(Request::new(requests)).await;
        assert!(result.is_err(), "{protocol:?}: {result:?}");
    }
}
