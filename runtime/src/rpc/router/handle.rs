//! Serving one call: the protocol negotiated from the request, the request message read
//! (or its stream opened), the interceptors and the handler run within the call's deadline
//! and catching a panic, and the response written in the caller's protocol, compressed as
//! agreed; refused requests and unknown paths answered as the caller can read them.

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use futures_util::FutureExt as _;
use futures_util::StreamExt as _;
use http::header::{ALLOW, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use http_body::Body as _;

use super::Inner;
use crate::protocol::envelope::{self, encode_envelope};
use crate::protocol::framing::{
    End, Rejection, accepted_content_types, join_unary_trailers, negotiate_server,
};
use crate::protocol::{Encoding, Framing, Protocol, Status, connect, grpc, grpc_web};
use crate::rpc::body::{Body, BoxError, Ending, EnvelopeBody};
use crate::rpc::call::{MethodDescriptor, ServerCall, ServerInput, ServerOutput, ServerOutputBody};
use crate::rpc::interceptor::ServerNext;
use crate::rpc::streaming::{self, RawStreaming, Side};
use crate::transport::Connection;

fn plain_response(status: StatusCode, headers: HeaderMap, body: Bytes) -> http::Response<Body> {
    let mut resp = http::Response::new(if body.is_empty() {
        Body::empty()
    } else {
        Body::full(body)
    });
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    resp
}

fn error_response(framing: &Framing, error: &Status) -> http::Response<Body> {
    let (status, headers, end) = framing.error_response(error);
    match end {
        End::Frame(body) => plain_response(status, headers, body),
        End::Trailers(trailers) => {
            let mut resp = http::Response::new(Body::full_with_trailers(Bytes::new(), trailers));
            *resp.status_mut() = status;
            *resp.headers_mut() = headers;
            resp
        }
    }
}

impl Inner {
    /// Serves one request; `conn` is the connection it came over (from this crate's server),
    /// whose peer counts as part of the request's extensions.
    pub(super) async fn handle<B>(
        self: Arc<Self>,
        req: http::Request<B>,
        conn: Option<Arc<Connection>>,
    ) -> http::Response<Body>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = req.into_parts();
        // HTTP/1.1: a request body dropped unread (the request refused, the handler done
        // early) is read to its end, so that the client reads the answer and the connection
        // stays usable. HTTP/2 resets the stream instead.
        let body = if parts.version < http::Version::HTTP_2 {
            Body::new(body).drain_on_drop()
        } else {
            Body::new(body)
        };
        let (method, handler) = match self.routes.get(parts.uri.path()) {
            Some(route) => (route.method, route.handler.clone()),
            None => match self.fallback.as_ref().and_then(|f| f.resolve(&parts)) {
                Some(resolved) => (resolved.method, resolved.handler),
                None => return unknown_method(parts.uri.path(), &parts.headers),
            },
        };
        let negotiated = match negotiate_server(
            &parts.method,
            parts.uri.query(),
            &parts.headers,
            method.stream_type,
            method.idempotency == crate::rpc::call::Idempotency::NoSideEffects,
            self.max_receive_message_size,
        ) {
            Ok(n) => n,
            Err(rejection) => return reject(rejection, method),
        };
        let framing = negotiated.framing;
        let deadline = negotiated.timeout.map(|t| Instant::now() + t);
        let max = self.max_receive_message_size;
        let this = self.clone();
        let headers = parts.headers;
        let extensions = parts.extensions;
        let uri = parts.uri;
        let http_method = parts.method;
        let get_message = negotiated.get_message;
        let run = async move {
            let input = if method.stream_type.client_streams() {
                ServerInput::Stream(RawStreaming::new(
                    body,
                    framing,
                    framing.request_encoding,
                    max,
                    Side::Server,
                    None,
                ))
            } else {
                ServerInput::Unary(read_single(body, get_message, &framing, max).await?)
            };
            let call = ServerCall {
                method,
                headers,
                extensions,
                connection: conn,
                identity: None,
                deadline,
                uri,
                http_method,
                protocol: framing.protocol,
                codec: framing.codec,
                input,
            };
            let answer = ServerNext::new(&this.interceptors, &*handler).run(call);
            AssertUnwindSafe(answer)
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    tracing::error!(method = method.path, panic = %what, "handler panicked");
                    Err(Status::internal("the handler panicked"))
                })
        };
        let result = match deadline {
            None => run.await,
            Some(d) => match tokio::time::timeout_at(d.into(), run).await {
                Ok(r) => r,
                Err(_) => Err(Status::deadline_exceeded(
                    "the call's deadline passed before the handler answered",
                )),
            },
        };
        match result {
            Ok(out) => self.write_output(&framing, out, deadline),
            Err(e) => error_response(&framing, &e),
        }
    }

    fn write_output(
        &self,
        framing: &Framing,
        out: ServerOutput,
        deadline: Option<Instant>,
    ) -> http::Response<Body> {
        let ServerOutput {
            headers: mut out_headers,
            body,
            mut trailers,
            stream_trailers,
        } = out;
        // Headers the protocol owns may not be overridden by the handler (nearly always the
        // handler set none at all).
        if !out_headers.is_empty() {
            for h in [
                CONTENT_TYPE,
                CONTENT_ENCODING,
                connect::STREAM_ENCODING_HEADER,
                grpc::ENCODING_HEADER,
                grpc::STATUS_HEADER,
                CONTENT_LENGTH,
            ] {
                out_headers.remove(h);
            }
        }
        match body {
            ServerOutputBody::Unary(message) => {
                if message.len() > self.max_send_message_size {
                    return error_response(
                        framing,
                        &crate::protocol::compression::too_large_to_send(
                            message.len(),
                            self.max_send_message_size,
                        ),
                    );
                }
                let compress = framing.response_encoding != Encoding::Identity
                    && message.len() >= self.compress_min_bytes;
                let payload = if compress {
                    match framing.response_encoding.compress(&message) {
                        Ok(z) => z,
                        Err(e) => return error_response(framing, &e),
                    }
                } else {
                    message
                };
                framing.write_response_headers(&mut out_headers, compress);
                if let Some(late) = stream_trailers {
                    late.drain_into(&mut trailers);
                }
                if !framing.enveloped {
                    join_unary_trailers(&mut out_headers, &trailers);
                    let mut resp = http::Response::new(Body::full(payload));
                    *resp.headers_mut() = out_headers;
                    return resp;
                }
                let mut buf = BytesMut::with_capacity(payload.len() + 64);
                encode_envelope(
                    if compress {
                        crate::protocol::envelope::FLAG_COMPRESSED
                    } else {
                        0
                    },
                    &payload,
                    &mut buf,
                );
                let body = match framing.encode_end_owned(None, trailers) {
                    End::Frame(b) => {
                        buf.extend_from_slice(&b);
                        Body::full(buf.freeze())
                    }
                    End::Trailers(t) => Body::full_with_trailers(buf.freeze(), t),
                };
                let mut resp = http::Response::new(body);
                *resp.headers_mut() = out_headers;
                resp
            }
            ServerOutputBody::Stream(source) => {
                framing.write_response_headers(&mut out_headers, true);
                let body = EnvelopeBody::new(
                    source,
                    framing.response_encoding,
                    self.compress_min_bytes,
                    self.max_send_message_size,
                    Ending::Server(*framing, trailers, stream_trailers),
                    deadline,
                );
                let mut resp = http::Response::new(Body::new(body));
                *resp.headers_mut() = out_headers;
                resp
            }
        }
    }
}

/// Reads the single request message of a unary or server-streaming call. An enveloped
/// request with no message or more than one is `unimplemented`, as the gRPC and Connect
/// specifications say (the method takes one message: a stream is not what it implements).
async fn read_single(
    mut body: Body,
    get_message: Option<Bytes>,
    framing: &Framing,
    max: usize,
) -> Result<Bytes, Status> {
    if !framing.enveloped {
        let raw = match get_message {
            Some(m) => m,
            None => collect_limited(&mut body, max).await?,
        };
        return framing.request_encoding.decompress(raw, max);
    }
    // Fast path: the first chunk is exactly one whole frame and the body ends with it (how a
    // unary request usually arrives). The outcome is the same as the stream's below.
    let first_chunk = match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        None => return Err(no_message()),
        Some(Err(e)) => {
            return Err(Status::canceled(format!("reading the request failed: {e}")));
        }
        // Trailers are of no interest to a server.
        Some(Ok(frame)) => frame.into_data().ok(),
    };
    let first_chunk = match first_chunk {
        Some(chunk) if body.is_end_stream() => match envelope::whole_frame(chunk, max) {
            Ok(env) => {
                return streaming::decompressed(env.flags, env.data, framing.request_encoding, max)
                    .and_then(|m| streaming::check_message_flags(env.flags).map(|()| m));
            }
            Err(chunk) => Some(chunk),
        },
        other => other,
    };
    let mut stream = RawStreaming::new(
        body,
        *framing,
        framing.request_encoding,
        max,
        Side::Server,
        None,
    );
    if let Some(chunk) = first_chunk {
        stream.push_received(chunk);
    }
    let first = stream.next().await.transpose()?.ok_or_else(no_message)?;
    if stream.next().await.transpose()?.is_some() {
        return Err(Status::unimplemented(
            "the request stream has more than one message; this method takes one",
        ));
    }
    Ok(first)
}

fn no_message() -> Status {
    Status::unimplemented("the request stream has no message; this method takes one")
}

/// Reads a whole body, refusing more than `max` bytes without buffering them.
pub(crate) async fn collect_limited(body: &mut Body, max: usize) -> Result<Bytes, Status> {
    if let Some(upper) = body.size_hint().exact() {
        if upper as usize > max {
            return Err(crate::protocol::compression::too_large(upper as usize, max));
        }
    }
    let mut first: Option<Bytes> = None;
    let mut buf = BytesMut::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| Status::canceled(format!("reading the body failed: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let total = first.as_ref().map_or(0, |f| f.len()) + buf.len() + data.len();
        if total > max {
            return Err(crate::protocol::compression::too_large(total, max));
        }
        match first.take() {
            None if buf.is_empty() => first = Some(data),
            Some(f) => {
                buf.extend_from_slice(&f);
                buf.extend_from_slice(&data);
            }
            None => buf.extend_from_slice(&data),
        }
    }
    Ok(first.unwrap_or_else(|| buf.freeze()))
}

fn reject(rejection: Rejection, method: MethodDescriptor) -> http::Response<Body> {
    match rejection {
        Rejection::UnsupportedMediaType => {
            let mut headers = HeaderMap::new();
            headers.insert(
                "accept-post",
                HeaderValue::from_static(accepted_content_types(method.stream_type)),
            );
            plain_response(StatusCode::UNSUPPORTED_MEDIA_TYPE, headers, Bytes::new())
        }
        Rejection::MethodNotAllowed { get_allowed } => {
            let mut headers = HeaderMap::new();
            headers.insert(
                ALLOW,
                HeaderValue::from_static(if get_allowed { "GET, POST" } else { "POST" }),
            );
            plain_response(StatusCode::METHOD_NOT_ALLOWED, headers, Bytes::new())
        }
        Rejection::Status(framing, status) => error_response(&framing, &status),
    }
}

/// The answer for a path nobody serves, in the caller's protocol where it can be told.
fn unknown_method(path: &str, headers: &HeaderMap) -> http::Response<Body> {
    let status = Status::unimplemented(format!("no method is served at {path}"));
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let protocol = if let Some(c) = grpc_web::codec(ct) {
        Some((Protocol::GrpcWeb, c))
    } else {
        grpc::codec(ct).map(|c| (Protocol::Grpc, c))
    };
    if let Some((protocol, codec)) = protocol {
        let framing = Framing {
            protocol,
            enveloped: true,
            codec,
            request_encoding: Encoding::Identity,
            response_encoding: Encoding::Identity,
        };
        return error_response(&framing, &status);
    }
    let mut h = HeaderMap::new();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    plain_response(StatusCode::NOT_FOUND, h, connect::error_to_json(&status))
}
