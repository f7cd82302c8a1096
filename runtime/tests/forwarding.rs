//! A proxy built on the runtime's seams: a [`Router`] whose fallback resolves paths at call
//! time, and whose handler sends each call on through a [`ClientTransport`] without decoding
//! its messages — request streams and response streams forwarded raw, headers, trailers
//! and errors passed through. (The host platform's router is built this way.)

mod common;

use std::sync::Arc;
use std::time::Instant;

use common::Msg;
use connect_plugin::codegen::BoxFuture;
use connect_plugin::rpc::{
    self, ClientCall, ClientInput, ClientTransport, Handler, HttpTransport, Idempotency,
    MethodDescriptor, Resolve, Resolved, ServerCall, ServerOutput,
};
use connect_plugin::{
    Channel, Client, ClientConfig, Code, Protocol, Request, Response, Router, Server, Status,
    StreamType, Streaming,
};
use futures_util::StreamExt as _;
use http::{HeaderMap, HeaderValue};

const UNARY: MethodDescriptor =
    MethodDescriptor::new("/t.v1.T/Unary", StreamType::Unary, Idempotency::Unknown);
const BIDI: MethodDescriptor = MethodDescriptor::new(
    "/t.v1.T/Bidi",
    StreamType::BidiStreaming,
    Idempotency::Unknown,
);

fn msg(text: &str) -> Msg {
    Msg { text: text.into() }
}

/// The backend: unary echoes (or fails with metadata); bidi answers each message, then
/// ends with a trailer.
fn backend() -> Router {
    Router::new()
        .route(
            UNARY,
            rpc::unary(|req: Request<Msg>| async move {
                let seen = req
                    .headers()
                    .get("x-user")
                    .map(|v| v.to_str().unwrap_or("").to_owned())
                    .unwrap_or_default();
                let text = req.into_inner().text;
                if text == "fail" {
                    let mut e = Status::not_found("no such thing");
                    e.headers_mut().insert("x-h", HeaderValue::from_static("1"));
                    e.trailers_mut()
                        .insert("x-t", HeaderValue::from_static("2"));
                    return Err(e);
                }
                let mut resp = Response::new(msg(&format!("{text} (x-user={seen})")));
                resp.trailers_mut()
                    .insert("x-unary-trailer", HeaderValue::from_static("yes"));
                Ok(resp)
            }),
        )
        .route(
            BIDI,
            rpc::bidi_streaming(|req: Request<Streaming<Msg>>| async move {
                let out = req
                    .into_inner()
                    .map(|m| m.map(|m| msg(&m.text.to_uppercase())));
                let mut resp = Response::new(out);
                resp.trailers_mut()
                    .insert("x-stream-trailer", HeaderValue::from_static("done"));
                Ok(resp)
            }),
        )
}

/// Request headers the proxy does not send on: the protocol's own (rewritten by the
/// transport) and the caller's credentials.
fn forwardable(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (k, v) in headers {
        let name = k.as_str();
        if name.starts_with("grpc-")
            || name.starts_with("connect-")
            || matches!(
                name,
                "content-type"
                    | "content-encoding"
                    | "content-length"
                    | "accept-encoding"
                    | "te"
                    | "host"
                    | "authorization"
            )
        {
            continue;
        }
        out.append(k.clone(), v.clone());
    }
    out
}

/// Forwards every call to one backend.
struct Forward {
    to: Arc<HttpTransport>,
}

impl Handler for Forward {
    fn call(&self, call: ServerCall) -> BoxFuture<'static, Result<ServerOutput, Status>> {
        let to = self.to.clone();
        Box::pin(async move {
            let out = to
                .send(ClientCall {
                    method: call.method,
                    headers: forwardable(&call.headers),
                    extensions: http::Extensions::new(),
                    timeout: call
                        .deadline
                        .map(|d| d.saturating_duration_since(Instant::now())),
                    codec: call.codec,
                    input: ClientInput::from(call.input),
                })
                .await?;
            Ok(ServerOutput::from(out))
        })
    }
}

/// Resolves `/proxy/t.v1.T/{Unary,Bidi}` to the backend's methods.
struct Proxy {
    forward: Arc<Forward>,
}

impl Resolve for Proxy {
    fn resolve(&self, request: &http::request::Parts) -> Option<Resolved> {
        let method = match request.uri.path().strip_prefix("/proxy")? {
            p if p == UNARY.path => UNARY,
            p if p == BIDI.path => BIDI,
            _ => return None,
        };
        Some(Resolved {
            method,
            handler: self.forward.clone(),
        })
    }
}

async fn url(server: &connect_plugin::transport::RunningServer) -> String {
    match server.local_addr() {
        connect_plugin::transport::ListenAddr::Tcp(a) => format!("http://{a}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_fallback_router_forwards_calls_without_decoding_them() {
    let backend = Server::new(backend()).bind("127.0.0.1:0").await.unwrap();
    let backend_url = url(&backend).await;
    for protocol in [Protocol::Connect, Protocol::Grpc, Protocol::GrpcWeb] {
        let config = ClientConfig {
            protocol,
            ..ClientConfig::default()
        };
        let to = Arc::new(HttpTransport::new(
            Channel::builder(&backend_url).unwrap().build(),
            config.clone(),
        ));
        let proxy = Server::new(Router::new().fallback(Proxy {
            forward: Arc::new(Forward { to }),
        }))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
        let through = Client::with_config(
            Channel::builder(&format!("{}/proxy", url(&proxy).await))
                .unwrap()
                .build(),
            config,
        );

        let mut req = Request::new(msg("hi"));
        req.headers_mut()
            .insert("x-user", HeaderValue::from_static("ann"));
        req.headers_mut()
            .insert("authorization", HeaderValue::from_static("Bearer secret"));
        let resp: Response<Msg> = through.unary(&UNARY, req).await.unwrap();
        assert_eq!(resp.trailers()["x-unary-trailer"], "yes", "{protocol:?}");
        assert_eq!(resp.into_inner().text, "hi (x-user=ann)", "{protocol:?}");

        let err = through
            .unary::<Msg, Msg>(&UNARY, Request::new(msg("fail")))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "{protocol:?}");
        assert_eq!(err.message(), "no such thing");
        assert_eq!(err.headers()["x-h"], "1", "{protocol:?}");
        assert_eq!(err.trailers()["x-t"], "2", "{protocol:?}");

        // Bidi, full duplex: each answer arrives before the next request is sent.
        let (tx, rx) = tokio::sync::mpsc::channel::<Msg>(1);
        let requests =
            Streaming::from_messages(futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|m| (m, rx))
            }));
        tx.send(msg("a")).await.unwrap();
        let resp = through
            .bidi_streaming::<Msg, Msg>(&BIDI, Request::new(requests))
            .await
            .unwrap();
        let mut answers = resp.into_inner();
        assert_eq!(answers.message().await.unwrap().unwrap().text, "A");
        tx.send(msg("b")).await.unwrap();
        assert_eq!(answers.message().await.unwrap().unwrap().text, "B");
        drop(tx);
        assert!(answers.message().await.unwrap().is_none());
        assert_eq!(
            answers.trailers().unwrap()["x-stream-trailer"],
            "done",
            "{protocol:?}"
        );
    }
}

#[tokio::test]
async fn an_unresolved_path_is_unimplemented() {
    let proxy = Server::new(Router::new().fallback(Proxy {
        forward: Arc::new(Forward {
            to: Arc::new(HttpTransport::new(
                Channel::builder("http://127.0.0.1:9").unwrap().build(),
                ClientConfig::default(),
            )),
        }),
    }))
    .bind("127.0.0.1:0")
    .await
    .unwrap();
    const OTHER: MethodDescriptor =
        MethodDescriptor::new("/t.v1.T/Other", StreamType::Unary, Idempotency::Unknown);
    let client = Client::new(
        Channel::builder(&format!("{}/proxy", url(&proxy).await))
            .unwrap()
            .build(),
    );
    let err = client
        .unary::<Msg, Msg>(&OTHER, Request::new(msg("x")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unimplemented);
}
