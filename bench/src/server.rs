//! The three servers. Each binds 127.0.0.1:0, prints `listening on ADDR` on stdout and serves
//! until killed. With `--exit-on-eof` (the orchestrator passes it) the process also exits when
//! its stdin closes, so no server outlives an interrupted `run`.
//!
//! Library defaults everywhere, apart from TCP_NODELAY on accepted sockets (connect-plugin's
//! server sets it itself; it is set here for hyper and tonic so all three match).

use std::convert::Infallible;
use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::pin::Pin;

use bytes::Bytes;
use futures::Stream;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};

use crate::{Args, PAYLOAD, Peer, Res, STREAM_N, runtime};

fn announce(addr: SocketAddr) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {addr}");
    let _ = out.flush();
}

/// Serves `--peer` until killed.
pub fn main(args: &Args) -> Res<()> {
    let peer = Peer::parse(args.req("peer")?)?.server();
    if args.flag("exit-on-eof") {
        std::thread::spawn(|| {
            let mut sink = [0u8; 64];
            let mut stdin = std::io::stdin();
            while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
            std::process::exit(0);
        });
    }
    let listen: SocketAddr = args.get("listen").unwrap_or("127.0.0.1:0").parse()?;
    if !listen.ip().is_loopback() {
        return Err("this benchmark only listens on loopback addresses".into());
    }
    runtime()?.block_on(async move {
        match peer {
            Peer::Hyper => hyper_server(listen).await,
            Peer::Tonic => tonic_server(listen).await,
            Peer::ConnectPlugin | Peer::ConnectPluginGrpc | Peer::ReqwestConnect => {
                cp_server(listen, cp_router()).await
            }
            Peer::ConnectPluginChain => cp_server(listen, cp_router_auth()?).await,
        }
    })
}

// ---------------------------------------------------------------------------------------------
// The floor: raw hyper 1, HTTP/2 with prior knowledge.
//   POST /echo   -> the request body, unchanged
//   POST /stream -> STREAM_N copies of the request body, as one body (the floor for a sender
//                   that coalesces ready messages into few DATA frames, as tonic and
//                   connect-plugin both do)

async fn hyper_server(listen: SocketAddr) -> Res<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    announce(listener.local_addr()?);
    loop {
        let (tcp, _) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        tokio::spawn(async move {
            let service = hyper::service::service_fn(hyper_echo);
            let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}

async fn hyper_echo(
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let stream = req.uri().path() == "/stream";
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let body = if stream {
        Bytes::from(body.repeat(STREAM_N))
    } else {
        body
    };
    let mut resp = hyper::Response::new(Full::new(body));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/octet-stream"),
    );
    Ok(resp)
}

// ---------------------------------------------------------------------------------------------
// tonic 0.14: gRPC over h2c, server defaults (tcp_nodelay is on by default there too).

mod tonic_impl {
    use super::*;
    use crate::tonic_pb::echo_service_server::EchoService;
    use crate::tonic_pb::{EchoRequest, EchoResponse};

    pub struct Echo;

    type EchoStream = Pin<Box<dyn Stream<Item = Result<EchoResponse, tonic::Status>> + Send>>;

    #[tonic::async_trait]
    impl EchoService for Echo {
        async fn echo(
            &self,
            req: tonic::Request<EchoRequest>,
        ) -> Result<tonic::Response<EchoResponse>, tonic::Status> {
            Ok(tonic::Response::new(EchoResponse {
                message: req.into_inner().message,
            }))
        }

        type EchoStreamStream = EchoStream;

        async fn echo_stream(
            &self,
            req: tonic::Request<EchoRequest>,
        ) -> Result<tonic::Response<EchoStream>, tonic::Status> {
            let message = req.into_inner().message;
            let s = futures::stream::iter((0..STREAM_N).map(move |_| {
                Ok(EchoResponse {
                    message: message.clone(),
                })
            }));
            Ok(tonic::Response::new(Box::pin(s)))
        }
    }
}

async fn tonic_server(listen: SocketAddr) -> Res<()> {
    use tonic::transport::server::TcpIncoming;
    let incoming = TcpIncoming::bind(listen)?.with_nodelay(Some(true));
    announce(incoming.local_addr()?);
    tonic::transport::Server::builder()
        .add_service(crate::tonic_pb::echo_service_server::EchoServiceServer::new(tonic_impl::Echo))
        .serve_with_incoming(incoming)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// connect-plugin: the runtime's own server (HTTP/1.1 + h2c on one port), routes mounted by hand.

/// The router the connect-plugin server mounts (also used by the in-process profile driver).
pub fn cp_router() -> connect_plugin::Router {
    use crate::cp_pb::{ECHO, ECHO_STREAM, EchoRequest, EchoResponse};
    use connect_plugin::rpc::{self, Request, Response};
    connect_plugin::Router::new()
        .route(
            ECHO,
            rpc::unary(|req: Request<EchoRequest>| async move {
                Ok(Response::new(EchoResponse {
                    message: req.into_inner().message,
                }))
            }),
        )
        .route(
            ECHO_STREAM,
            rpc::server_streaming(|req: Request<EchoRequest>| async move {
                let message = req.into_inner().message;
                let s = futures::stream::iter((0..STREAM_N).map(move |_| {
                    Ok(EchoResponse {
                        message: message.clone(),
                    })
                }));
                Ok(Response::new(s))
            }),
        )
}

/// The bearer token of the `connect-plugin-chain` peer.
pub const BENCH_TOKEN: &str = "bench-token-0123456789abcdef";

/// The API key of the `connect-plugin-chain` peer with `BENCH_CHAIN=apikey`.
pub const BENCH_API_KEY: &str = "bench-key-0123456789abcdef";

/// The parts of the `connect-plugin-chain` peer, from `BENCH_CHAIN` (read by the server
/// and the client alike): `auth` (a bearer token, the default with `breaker,retry`),
/// `apikey` (an API key, indexed by HPACK), `breaker`, `retry`.
pub fn chain_parts() -> String {
    std::env::var("BENCH_CHAIN").unwrap_or_else(|_| "auth,breaker,retry".into())
}

/// The echo router behind the authenticator `BENCH_CHAIN` asks for (bearer tokens by
/// default), or none.
fn cp_router_auth() -> Res<connect_plugin::Router> {
    use connect_plugin::interceptors::auth::{
        ApiKeyAuth, Authenticator, BearerAuth, Credentials, Identity,
    };
    let parts = chain_parts();
    let mut auth = Authenticator::new();
    if parts.contains("auth") {
        auth = auth.provider(BearerAuth::new(
            Credentials::new().with(BENCH_TOKEN, Identity::new("bench")),
        ));
    }
    if parts.contains("apikey") {
        auth = auth.provider(ApiKeyAuth::new(
            Credentials::new().with(BENCH_API_KEY, Identity::new("bench")),
        ));
    }
    Ok(if parts.contains("auth") || parts.contains("apikey") {
        cp_router().interceptor(auth)
    } else {
        cp_router()
    })
}

async fn cp_server(listen: SocketAddr, router: connect_plugin::Router) -> Res<()> {
    let running = connect_plugin::Server::new(router)
        .bind(&listen.to_string())
        .await?;
    match running.local_addr() {
        connect_plugin::transport::ListenAddr::Tcp(a) => announce(*a),
        other => return Err(format!("unexpected listen address {other}").into()),
    }
    running.wait().await;
    Ok(())
}

#[allow(dead_code)]
fn _payload_is_16_bytes() {
    const { assert!(PAYLOAD.len() == 16) };
}
