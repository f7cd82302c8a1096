//! Forwarding a call without decoding it: what a server received becomes what a client
//! sends ([`ClientInput::from`]) and what the client received becomes what the server
//! answers ([`ServerOutput::from`]) — how a proxy built on a [`Router`](super::Router)
//! fallback and a [`ClientTransport`](super::ClientTransport) passes calls through.

use std::task::{Context, Poll};

use bytes::BytesMut;
use http::HeaderMap;

use super::body::EncodeStream;
use super::call::{
    ClientInput, ClientOutput, ClientOutputBody, ServerInput, ServerOutput, ServerOutputBody,
};
use super::streaming::RawStreaming;
use super::trailers::StreamTrailers;
use crate::protocol::Status;

impl From<ServerInput> for ClientInput {
    /// The request message, or the request stream sent on as it arrives.
    fn from(input: ServerInput) -> Self {
        match input {
            ServerInput::Unary(message) => ClientInput::Unary(message),
            ServerInput::Stream(raw) => ClientInput::Stream(Box::new(raw)),
        }
    }
}

impl From<ClientOutput> for ServerOutput {
    /// The response: headers, then the message and trailers, or the stream sent on as it
    /// arrives, its trailers added to the forwarded response's when it ends. An error that
    /// ends the stream is sent on without its response headers, which went out already.
    fn from(out: ClientOutput) -> Self {
        match out.body {
            ClientOutputBody::Unary(message, trailers) => ServerOutput {
                headers: out.headers,
                body: ServerOutputBody::Unary(message),
                trailers,
                stream_trailers: None,
            },
            ClientOutputBody::Stream(raw) => {
                let trailers = StreamTrailers::new();
                ServerOutput {
                    headers: out.headers,
                    body: ServerOutputBody::Stream(Box::new(Forwarded {
                        raw: *raw,
                        trailers: trailers.clone(),
                    })),
                    trailers: HeaderMap::new(),
                    stream_trailers: Some(trailers),
                }
            }
        }
    }
}

/// A received response stream, sent on.
struct Forwarded {
    raw: RawStreaming,
    trailers: StreamTrailers,
}

impl EncodeStream for Forwarded {
    fn poll_encode(
        &mut self,
        cx: &mut Context<'_>,
        dst: &mut BytesMut,
    ) -> Poll<Option<Result<(), Status>>> {
        match self.raw.poll_encode(cx, dst) {
            Poll::Ready(None) => {
                if let Some(t) = self.raw.trailers() {
                    self.trailers.with(|mine| mine.extend(t.clone()));
                }
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(mut e))) => {
                e.headers_mut().clear();
                Poll::Ready(Some(Err(e)))
            }
            other => other,
        }
    }
}
