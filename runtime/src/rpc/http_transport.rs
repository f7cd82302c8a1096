//! [`HttpTransport`]: the client transport over HTTP. It frames a call for its wire
//! protocol (Connect, gRPC or gRPC-Web), compresses it, sends it over a [`Channel`] and reads
//! the response: one message (checked and decompressed) or a stream handed to the caller.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use futures_util::StreamExt as _;
use futures_util::future::BoxFuture;
use http::{HeaderMap, Method, StatusCode};

use super::body::{Body, Ending, EnvelopeBody};
use super::call::{
    ClientCall, ClientInput, ClientOutput, ClientOutputBody, Idempotency, MethodDescriptor,
};
use super::client::ClientConfig;
use super::router::collect_limited;
use super::streaming::{RawStreaming, Side};
use super::transport::ClientTransport;
use crate::protocol::envelope::{FLAG_COMPRESSED, encode_envelope};
use crate::protocol::framing::split_unary_trailers;
use crate::protocol::{Encoding, Framing, Status, connect};
use crate::transport::Channel;

/// Sends calls over HTTP to one endpoint: the transport of [`Client::new`] and
/// [`Client::with_config`]. Its config gives the wire protocol, compression, the limit on a
/// received message, Connect GET and a default timeout; the messages arrive encoded with the
/// call's [`codec`](ClientCall::codec). Cheap to clone (the channel is shared).
///
/// [`Client::new`]: super::Client::new
/// [`Client::with_config`]: super::Client::with_config
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use connect_plugin::rpc::HttpTransport;
/// use connect_plugin::{Channel, Client, ClientConfig};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = ClientConfig::default();
/// let http = HttpTransport::new(Channel::builder("http://127.0.0.1:8080")?.build(), config.clone());
/// // The same client as `Client::with_config(channel, config)`, built on the seam.
/// let client = Client::from_transport(Arc::new(http), config);
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct HttpTransport {
    channel: Channel,
    config: ClientConfig,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("channel", &self.channel)
            .field("config", &self.config)
            .finish()
    }
}

impl ClientTransport for HttpTransport {
    fn send(&self, call: ClientCall) -> BoxFuture<'_, Result<ClientOutput, Status>> {
        Box::pin(self.send_call(call))
    }
}

impl HttpTransport {
    /// A transport sending calls over `channel` as `config` says.
    pub fn new(channel: Channel, config: ClientConfig) -> Self {
        HttpTransport { channel, config }
    }

    /// The channel calls go over.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Sends `call`. The request is built when the future is made (building never waits),
    /// so that the future, which every call moves and, behind interceptors, allocates,
    /// holds only what the exchange needs.
    pub(crate) fn send_call(
        &self,
        call: ClientCall,
    ) -> impl std::future::Future<Output = Result<ClientOutput, Status>> + Send + '_ {
        let cfg = &self.config;
        let timeout = call.timeout.or(cfg.timeout);
        let deadline = timeout.map(|t| Instant::now() + t);
        let method = call.method;
        let framing = Framing::for_client(
            cfg.protocol,
            method.stream_type,
            call.codec,
            cfg.send_compression,
        );
        match self.request(call, framing, timeout) {
            Ok(req) => futures_util::future::Either::Left(Deadline {
                fut: self.exchange(req, method, framing, deadline),
                sleep: deadline.map(|d| tokio::time::sleep_until(d.into())),
            }),
            Err(e) => futures_util::future::Either::Right(std::future::ready(Err(e))),
        }
    }

    /// The HTTP request of a call: headers, URI and body (framed and compressed).
    fn request(
        &self,
        call: ClientCall,
        framing: Framing,
        timeout: Option<Duration>,
    ) -> Result<http::Request<Body>, Status> {
        let cfg = &self.config;
        let method = call.method;
        let codec = call.codec;
        let mut headers = call.headers;
        let mut query = None;
        let mut http_method = Method::POST;
        let body = match call.input {
            ClientInput::Unary(message) => {
                if message.len() > cfg.max_send_message_size {
                    return Err(crate::protocol::compression::too_large_to_send(
                        message.len(),
                        cfg.max_send_message_size,
                    ));
                }
                let compress = cfg.send_compression != Encoding::Identity
                    && message.len() >= cfg.compress_min_bytes;
                let payload = if compress {
                    cfg.send_compression.compress(&message)?
                } else {
                    message
                };
                if !framing.enveloped {
                    framing.write_request_headers(&mut headers, timeout, compress);
                    if cfg.use_get && method.idempotency == Idempotency::NoSideEffects {
                        http_method = Method::GET;
                        query = Some(connect::encode_get_query(
                            codec,
                            if compress {
                                cfg.send_compression
                            } else {
                                Encoding::Identity
                            },
                            &payload,
                        ));
                        headers.remove(http::header::CONTENT_TYPE);
                        headers.remove(http::header::CONTENT_ENCODING);
                        Body::empty()
                    } else {
                        Body::full(payload)
                    }
                } else {
                    framing.write_request_headers(&mut headers, timeout, compress);
                    let mut buf = BytesMut::with_capacity(payload.len() + 5);
                    encode_envelope(
                        if compress { FLAG_COMPRESSED } else { 0 },
                        &payload,
                        &mut buf,
                    );
                    Body::full(buf.freeze())
                }
            }
            ClientInput::Stream(source) => {
                framing.write_request_headers(&mut headers, timeout, true);
                Body::new(EnvelopeBody::new(
                    source,
                    cfg.send_compression,
                    cfg.compress_min_bytes,
                    cfg.max_send_message_size,
                    Ending::Plain,
                    None,
                ))
            }
        };
        let uri = match &query {
            None => self.channel.uri_for_static(method.path)?,
            Some(q) => self.channel.uri_for(method.path, Some(q))?,
        };
        let mut req = http::Request::new(body);
        *req.method_mut() = http_method;
        *req.uri_mut() = uri;
        *req.headers_mut() = headers;
        Ok(req)
    }

    async fn exchange(
        &self,
        req: http::Request<Body>,
        method: MethodDescriptor,
        framing: Framing,
        deadline: Option<Instant>,
    ) -> Result<ClientOutput, Status> {
        let resp = self.channel.send_started(req).await?;
        // Checked first without waiting: the futures of the rarer ways on (an error
        // answer, a unary message in an envelope) are boxed, so that neither they nor the
        // response take room in this future, which every call moves.
        let reading: futures_util::future::Either<_, BoxFuture<'static, _>> =
            match self.read_response(resp, method, framing, deadline) {
                Reading::Done(out) => return out,
                Reading::Unary(read) => futures_util::future::Either::Left(read),
                Reading::Error(error) => futures_util::future::Either::Right(Box::pin(error)),
                Reading::Enveloped(read) => futures_util::future::Either::Right(Box::pin(read)),
            };
        reading.await
    }

    /// Checks a response and says how to read its message (unary) or hands over its
    /// stream.
    fn read_response(
        &self,
        resp: http::Response<Body>,
        method: MethodDescriptor,
        framing: Framing,
        deadline: Option<Instant>,
    ) -> Reading<
        impl std::future::Future<Output = Result<ClientOutput, Status>> + Send + 'static,
        impl std::future::Future<Output = Result<ClientOutput, Status>> + Send + 'static,
        impl std::future::Future<Output = Result<ClientOutput, Status>> + Send + 'static,
    > {
        let max = self.config.max_receive_message_size;
        let (parts, body) = resp.into_parts();
        let mut resp_headers = parts.headers;
        if parts.status != StatusCode::OK && framing.needs_error_body() {
            return Reading::Error(error_answer(parts.status, resp_headers, body, max));
        }
        let encoding = match framing.check_response(parts.status, &resp_headers) {
            Ok(encoding) => encoding,
            Err(mut e) => {
                if e.headers().is_empty() && e.trailers().is_empty() {
                    *e.headers_mut() = resp_headers;
                }
                return Reading::Done(Err(e));
            }
        };
        if !framing.enveloped {
            return Reading::Unary(async move {
                let mut body = body;
                let trailers = split_unary_trailers(&mut resp_headers);
                let message = match collect_limited(&mut body, max).await {
                    Ok(raw) => encoding.decompress(raw, max),
                    Err(e) if e.code() == crate::Code::Canceled => {
                        Err(Status::unavailable(e.message()))
                    }
                    Err(e) => Err(e),
                };
                match message {
                    Ok(message) => Ok(ClientOutput {
                        headers: resp_headers,
                        body: ClientOutputBody::Unary(message, trailers),
                    }),
                    Err(e) => Err(e.with_headers(resp_headers).with_trailers(trailers)),
                }
            });
        }
        let streams = method.stream_type.server_streams();
        // A trailers-only response (its headers end the stream) has no headers of its own:
        // they are its trailers, which the stream reports.
        let trailers_only =
            http_body::Body::is_end_stream(&body) && framing.trailers_only(&resp_headers).is_some();
        let raw = RawStreaming::new(
            body,
            framing,
            encoding,
            max,
            Side::Client,
            // A single message is read within this call, which its deadline already bounds;
            // only a stream handed to the caller needs its own timer.
            if streams { deadline } else { None },
        );
        if streams {
            let headers = if trailers_only {
                HeaderMap::new()
            } else {
                resp_headers.clone()
            };
            return Reading::Done(Ok(ClientOutput {
                headers,
                body: ClientOutputBody::Stream(Box::new(raw.with_response_headers(resp_headers))),
            }));
        }
        Reading::Enveloped(enveloped_unary(raw.with_response_headers(resp_headers)))
    }
}

/// How a response is read ([`HttpTransport::read_response`]).
// Matched as soon as it is made, never kept; boxing a variant would cost an allocation.
#[allow(clippy::large_enum_variant)]
enum Reading<U, E, V> {
    /// Read already (a stream, or a response refused at once).
    Done(Result<ClientOutput, Status>),
    /// A Connect unary message.
    Unary(U),
    /// An error answer.
    Error(E),
    /// A unary message in an envelope (gRPC, gRPC-Web).
    Enveloped(V),
}

/// The error a non-200 Connect answer carries in its body.
async fn error_answer(
    status: StatusCode,
    mut headers: HeaderMap,
    mut body: Body,
    max: usize,
) -> Result<ClientOutput, Status> {
    let raw = collect_limited(&mut body, max).await.unwrap_or_default();
    let encoding = headers
        .get(http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .and_then(Encoding::from_name)
        .unwrap_or(Encoding::Identity);
    let raw = encoding.decompress(raw.clone(), max).unwrap_or(raw);
    let trailers = split_unary_trailers(&mut headers);
    Err(connect::error_from_json(&raw, status.as_u16())
        .with_headers(headers)
        .with_trailers(trailers))
}

/// The one message of a unary (or client-stream) response in an envelope, and its
/// trailers. The stream's own error wins; a stream that ends well with no message, or
/// carries a second, breaks the method's cardinality: `unimplemented`, as the gRPC spec
/// and connect-go say.
async fn enveloped_unary(mut raw: RawStreaming) -> Result<ClientOutput, Status> {
    let Some(first) = raw.next().await.transpose()? else {
        return Err(raw.annotate(Status::unimplemented(
            "protocol error: the response has no message, where the method returns one",
        )));
    };
    if raw.next().await.transpose()?.is_some() {
        return Err(raw.annotate(Status::unimplemented(
            "protocol error: the response has more than one message, where the method returns one",
        )));
    }
    let trailers = raw.take_trailers().unwrap_or_default();
    Ok(ClientOutput {
        headers: raw.take_response_headers().unwrap_or_default(),
        body: ClientOutputBody::Unary(first, trailers),
    })
}

/// A call's failure as seen at its deadline: a transport failure (`unavailable`,
/// `canceled`) at or past the deadline is the deadline. A server gives up on a call at its
/// deadline by resetting the stream (gRPC servers send RST_STREAM CANCEL), which can reach
/// the client just before its own timer fires.
fn past_deadline(error: Status, deadline: tokio::time::Instant) -> Status {
    let transport = matches!(
        error.code(),
        crate::Code::Unavailable | crate::Code::Canceled
    );
    if !transport || tokio::time::Instant::now() < deadline {
        return error;
    }
    let mut exceeded = Status::deadline_exceeded(format!(
        "the call's deadline passed (the call failed: {})",
        error.message()
    ));
    *exceeded.headers_mut() = error.headers().clone();
    *exceeded.trailers_mut() = error.trailers().clone();
    exceeded
}

pin_project_lite::pin_project! {
    /// `fut`, unless `sleep` ends first: then `deadline_exceeded`.
    struct Deadline<F> {
        #[pin]
        fut: F,
        #[pin]
        sleep: Option<tokio::time::Sleep>,
    }
}

impl<F> std::future::Future for Deadline<F>
where
    F: std::future::Future<Output = Result<ClientOutput, Status>>,
{
    type Output = F::Output;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let this = self.project();
        if let std::task::Poll::Ready(out) = this.fut.poll(cx) {
            return std::task::Poll::Ready(out.map_err(
                |e| match this.sleep.as_ref().as_pin_ref() {
                    Some(sleep) => past_deadline(e, sleep.deadline()),
                    None => e,
                },
            ));
        }
        match this.sleep.as_pin_mut().map(|sleep| sleep.poll(cx)) {
            Some(std::task::Poll::Ready(())) => {
                std::task::Poll::Ready(Err(Status::deadline_exceeded("the call's deadline passed")))
            }
            _ => std::task::Poll::Pending,
        }
    }
}
