//! The interop contract's EchoService (`shared/interop/proto/echo/v1/echo.proto`), served
//! and called through connect-plugin's rpc layer. Written by hand until the code generator
//! exists; the generated code will have the same shape.

use std::time::Duration;

use connect_plugin::protocol::{Code, StreamType};
use connect_plugin::rpc::{
    self, BoxStream, Idempotency, MethodDescriptor, Request, Response, Streaming,
};
use connect_plugin::{Client, Router, Status};
use futures::StreamExt;

/// `echo.v1` messages.
#[allow(missing_docs, clippy::all)]
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/echo.v1.rs"));
    include!(concat!(env!("OUT_DIR"), "/echo.v1.serde.rs"));
}

use pb::{EchoRequest, EchoResponse, Failure};

/// `EchoService.Echo`.
pub const ECHO: MethodDescriptor = MethodDescriptor::new(
    "/echo.v1.EchoService/Echo",
    StreamType::Unary,
    Idempotency::NoSideEffects,
);
/// `EchoService.EchoServerStream`.
pub const ECHO_SERVER_STREAM: MethodDescriptor = MethodDescriptor::new(
    "/echo.v1.EchoService/EchoServerStream",
    StreamType::ServerStreaming,
    Idempotency::Unknown,
);
/// `EchoService.EchoClientStream`.
pub const ECHO_CLIENT_STREAM: MethodDescriptor = MethodDescriptor::new(
    "/echo.v1.EchoService/EchoClientStream",
    StreamType::ClientStreaming,
    Idempotency::Unknown,
);
/// `EchoService.EchoBidi`.
pub const ECHO_BIDI: MethodDescriptor = MethodDescriptor::new(
    "/echo.v1.EchoService/EchoBidi",
    StreamType::BidiStreaming,
    Idempotency::Unknown,
);

/// The error a `Failure` asks for.
pub fn failure_status(f: &Failure) -> Status {
    let code = f.code.parse().unwrap_or(Code::Unknown);
    let st = Status::new(code, f.message.clone());
    if f.with_detail {
        st.with_detail_message(&EchoResponse {
            message: f.message.clone(),
            ..Default::default()
        })
    } else {
        st
    }
}

async fn delay(ms: i32) {
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms as u64)).await;
    }
}

fn reply(req: &EchoRequest, index: i32) -> EchoResponse {
    EchoResponse {
        message: req.message.clone(),
        index,
        payload: req.payload.clone(),
    }
}

/// A router serving EchoService as the proto comments describe.
pub fn router() -> Router {
    Router::new()
        .route(
            ECHO,
            rpc::unary(|req: Request<EchoRequest>| async move {
                let req = req.into_inner();
                delay(req.delay_ms).await;
                if let Some(f) = &req.fail {
                    return Err(failure_status(f));
                }
                Ok(Response::new(reply(&req, 0)))
            }),
        )
        .route(
            ECHO_SERVER_STREAM,
            rpc::server_streaming(|req: Request<EchoRequest>| async move {
                let req = req.into_inner();
                let count = req.count.max(0);
                let stream = futures::stream::unfold(0, move |i| {
                    let req = req.clone();
                    async move {
                        if i < count {
                            delay(req.delay_ms).await;
                            Some((Ok(reply(&req, i)), i + 1))
                        } else if i == count {
                            req.fail.as_ref().map(|f| (Err(failure_status(f)), i + 1))
                        } else {
                            None
                        }
                    }
                });
                Ok(Response::new(stream))
            }),
        )
        .route(
            ECHO_CLIENT_STREAM,
            rpc::client_streaming(|req: Request<Streaming<EchoRequest>>| async move {
                let mut stream = req.into_inner();
                let mut messages = Vec::new();
                let mut payload = Vec::new();
                let mut last_delay = 0;
                while let Some(r) = stream.message().await? {
                    if let Some(f) = &r.fail {
                        return Err(failure_status(f));
                    }
                    messages.push(r.message);
                    payload.extend_from_slice(&r.payload);
                    last_delay = r.delay_ms;
                }
                delay(last_delay).await;
                Ok(Response::new(EchoResponse {
                    message: messages.join(","),
                    index: messages.len() as i32,
                    payload: payload.into(),
                }))
            }),
        )
        .route(
            ECHO_BIDI,
            rpc::bidi_streaming(|req: Request<Streaming<EchoRequest>>| async move {
                let requests = req.into_inner();
                let out = futures::stream::unfold(
                    (requests, 0i32, false),
                    |(mut rs, i, done)| async move {
                        if done {
                            return None;
                        }
                        match rs.message().await {
                            Err(e) => Some((Err(e), (rs, i, true))),
                            Ok(None) => None,
                            Ok(Some(r)) => {
                                delay(r.delay_ms).await;
                                match &r.fail {
                                    Some(f) => Some((Err(failure_status(f)), (rs, i, true))),
                                    None => Some((Ok(reply(&r, i)), (rs, i + 1, false))),
                                }
                            }
                        }
                    },
                );
                let out: BoxStream<EchoResponse> = Box::pin(out);
                Ok(Response::new(out))
            }),
        )
}

/// A typed EchoService client.
#[derive(Debug, Clone)]
pub struct EchoClient {
    client: Client,
}

impl EchoClient {
    /// Wraps a runtime client.
    pub fn new(client: Client) -> Self {
        EchoClient { client }
    }

    /// `Echo`.
    pub async fn echo(
        &self,
        req: impl Into<Request<EchoRequest>>,
    ) -> Result<Response<EchoResponse>, Status> {
        self.client.unary(&ECHO, req.into()).await
    }

    /// `EchoServerStream`.
    pub async fn echo_server_stream(
        &self,
        req: impl Into<Request<EchoRequest>>,
    ) -> Result<Response<Streaming<EchoResponse>>, Status> {
        self.client
            .server_streaming(&ECHO_SERVER_STREAM, req.into())
            .await
    }

    /// `EchoClientStream`.
    pub async fn echo_client_stream(
        &self,
        req: Request<Streaming<EchoRequest>>,
    ) -> Result<Response<EchoResponse>, Status> {
        self.client.client_streaming(&ECHO_CLIENT_STREAM, req).await
    }

    /// `EchoBidi`.
    pub async fn echo_bidi(
        &self,
        req: Request<Streaming<EchoRequest>>,
    ) -> Result<Response<Streaming<EchoResponse>>, Status> {
        self.client.bidi_streaming(&ECHO_BIDI, req).await
    }
}

/// Collects a response stream (for tests and the CLI).
pub async fn collect(mut s: Streaming<EchoResponse>) -> (Vec<EchoResponse>, Option<Status>) {
    let mut out = Vec::new();
    while let Some(item) = s.next().await {
        match item {
            Ok(m) => out.push(m),
            Err(e) => return (out, Some(e)),
        }
    }
    (out, None)
}
