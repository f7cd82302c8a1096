//! The client: typed call helpers for the four method kinds over a [`Channel`], through the
//! interceptor chain. Connect by default; gRPC and gRPC-Web on request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt as _;
use futures_util::future::BoxFuture;
use http::{HeaderMap, Method, StatusCode};

use super::body::{Body, Ending, EnvelopeBody, TypedEncodeStream};
use super::call::{
    ClientCall, ClientInput, ClientOutput, ClientOutputBody, Idempotency, MethodDescriptor,
};
use super::interceptor::{ClientNext, ClientTransport, Interceptor};
use super::message::{Request, Response};
use super::router::{DEFAULT_COMPRESS_MIN_BYTES, DEFAULT_MAX_MESSAGE_SIZE, collect_limited};
use super::streaming::{RawStreaming, Side, Streaming};
use crate::protocol::envelope::{FLAG_COMPRESSED, encode_envelope};
use crate::protocol::framing::split_unary_trailers;
use crate::protocol::{Codec, Encoding, Framing, Message, Protocol, Status, connect};
use crate::transport::Channel;

/// How a client makes calls.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The wire protocol (default Connect).
    pub protocol: Protocol,
    /// The codec (default proto).
    pub codec: Codec,
    /// How requests are compressed (default identity); responses may always be gzip.
    pub send_compression: Encoding,
    /// Messages smaller than this are sent uncompressed (default 1 KiB).
    pub compress_min_bytes: usize,
    /// Limit on one received message, before and after decompression (default 4 MiB).
    pub max_message_size: usize,
    /// Default timeout of every call (none by default); a request's own timeout wins.
    pub timeout: Option<Duration>,
    /// Connect only: send side-effect-free unary calls as HTTP GET (cacheable).
    pub use_get: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            protocol: Protocol::Connect,
            codec: Codec::Proto,
            send_compression: Encoding::Identity,
            compress_min_bytes: DEFAULT_COMPRESS_MIN_BYTES,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            timeout: None,
            use_get: false,
        }
    }
}

/// Makes calls to one endpoint. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) transport: HttpTransport,
    pub(crate) interceptors: Vec<Arc<dyn Interceptor>>,
}

pub(crate) struct HttpTransport {
    channel: Channel,
    config: ClientConfig,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("channel", &self.inner.transport.channel)
            .field("config", &self.inner.transport.config)
            .finish()
    }
}

impl Client {
    /// A client with the default configuration.
    pub fn new(channel: Channel) -> Self {
        Client::with_config(channel, ClientConfig::default())
    }

    /// A client with `config`.
    pub fn with_config(channel: Channel, config: ClientConfig) -> Self {
        Client {
            inner: Arc::new(Inner {
                transport: HttpTransport { channel, config },
                interceptors: Vec::new(),
            }),
        }
    }

    /// Adds an interceptor (the first added runs outermost).
    pub fn with_interceptor(self, interceptor: impl Interceptor) -> Self {
        self.with_interceptor_arc(Arc::new(interceptor))
    }

    /// Adds a shared interceptor.
    pub fn with_interceptor_arc(self, interceptor: Arc<dyn Interceptor>) -> Self {
        self.with_interceptors([interceptor])
    }

    /// Adds shared interceptors, in order (after those already there).
    pub fn with_interceptors(
        &self,
        interceptors: impl IntoIterator<Item = Arc<dyn Interceptor>>,
    ) -> Self {
        let mut all = self.inner.interceptors.clone();
        all.extend(interceptors);
        self.rebuilt(self.inner.transport.config.clone(), all)
    }

    /// A client on the same channel with `config` and `interceptors`.
    fn rebuilt(&self, config: ClientConfig, interceptors: Vec<Arc<dyn Interceptor>>) -> Self {
        Client {
            inner: Arc::new(Inner {
                transport: HttpTransport {
                    channel: self.inner.transport.channel.clone(),
                    config,
                },
                interceptors,
            }),
        }
    }

    /// This client with another default timeout for its calls (same connection and
    /// interceptors).
    pub fn with_default_timeout(&self, timeout: Option<Duration>) -> Self {
        let mut config = self.inner.transport.config.clone();
        config.timeout = timeout;
        self.rebuilt(config, self.inner.interceptors.clone())
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.transport.config
    }

    /// The channel.
    pub fn channel(&self) -> &Channel {
        &self.inner.transport.channel
    }

    fn codec(&self) -> Codec {
        self.inner.transport.config.codec
    }

    pub(crate) async fn run(&self, call: ClientCall) -> Result<ClientOutput, Status> {
        if self.inner.interceptors.is_empty() {
            // Without interceptors the chain is just the transport: call it directly rather
            // than through its boxed future.
            return self.inner.transport.send_call(call).await;
        }
        ClientNext::new(&self.inner).run(call).await
    }

    fn call_of<T>(&self, method: &MethodDescriptor, req: Request<T>) -> (ClientCall, T) {
        // The effective timeout, so interceptors (retry) see the whole call's budget.
        let timeout = req.timeout().or(self.inner.transport.config.timeout);
        let (mut headers, extensions, message) = req.into_parts();
        if headers.capacity() == 0 {
            // Sized once for the protocol's headers and a few of the interceptors' (auth),
            // rather than grown as they are added.
            headers.reserve(crate::protocol::framing::REQUEST_HEADERS + 2);
        }
        (
            ClientCall {
                method: *method,
                headers,
                extensions,
                timeout,
                input: ClientInput::Unary(Bytes::new()),
            },
            message,
        )
    }

    fn stream_input<Req: Message>(&self, stream: Streaming<Req>) -> ClientInput {
        ClientInput::Stream(Box::new(TypedEncodeStream {
            stream,
            codec: self.codec(),
        }))
    }

    fn unary_result<Res: Message>(&self, out: ClientOutput) -> Result<Response<Res>, Status> {
        match out.body {
            ClientOutputBody::Unary(bytes, trailers) => {
                let msg = self
                    .codec()
                    .decode::<Res>(bytes)
                    .map_err(response_decode_error)?;
                Ok(Response::from_parts(out.headers, msg, trailers))
            }
            ClientOutputBody::Stream(_) => Err(Status::internal(
                "expected one response message, got a stream",
            )),
        }
    }

    fn stream_result<Res: Message>(
        &self,
        out: ClientOutput,
    ) -> Result<Response<Streaming<Res>>, Status> {
        match out.body {
            ClientOutputBody::Stream(raw) => Ok(Response::from_parts(
                out.headers,
                Streaming::new(*raw),
                HeaderMap::new(),
            )),
            ClientOutputBody::Unary(..) => Err(Status::internal(
                "expected a response stream, got one message",
            )),
        }
    }

    /// Calls a unary method.
    pub async fn unary<Req: Message, Res: Message>(
        &self,
        method: &MethodDescriptor,
        req: Request<Req>,
    ) -> Result<Response<Res>, Status> {
        let (mut call, message) = self.call_of(method, req);
        call.input = ClientInput::Unary(self.codec().encode_to_bytes(&message)?);
        let out = self.run(call).await?;
        self.unary_result(out)
    }

    /// Calls a server-streaming method.
    pub async fn server_streaming<Req: Message, Res: Message>(
        &self,
        method: &MethodDescriptor,
        req: Request<Req>,
    ) -> Result<Response<Streaming<Res>>, Status> {
        let (mut call, message) = self.call_of(method, req);
        call.input = ClientInput::Unary(self.codec().encode_to_bytes(&message)?);
        let out = self.run(call).await?;
        self.stream_result(out)
    }

    /// Calls a client-streaming method with a stream of requests. A request stream that
    /// fails aborts the call (the server sees it cancelled).
    pub async fn client_streaming<Req, Res>(
        &self,
        method: &MethodDescriptor,
        req: Request<Streaming<Req>>,
    ) -> Result<Response<Res>, Status>
    where
        Req: Message,
        Res: Message,
    {
        let (mut call, stream) = self.call_of(method, req);
        call.input = self.stream_input(stream);
        let out = self.run(call).await?;
        self.unary_result(out)
    }

    /// Calls a bidirectional-streaming method. Over HTTP/2 both directions flow at once.
    pub async fn bidi_streaming<Req, Res>(
        &self,
        method: &MethodDescriptor,
        req: Request<Streaming<Req>>,
    ) -> Result<Response<Streaming<Res>>, Status>
    where
        Req: Message,
        Res: Message,
    {
        let (mut call, stream) = self.call_of(method, req);
        call.input = self.stream_input(stream);
        let out = self.run(call).await?;
        self.stream_result(out)
    }
}

fn response_decode_error(e: Status) -> Status {
    Status::internal(format!("the response does not decode: {}", e.message()))
}

impl ClientTransport for HttpTransport {
    fn send(&self, call: ClientCall) -> BoxFuture<'_, Result<ClientOutput, Status>> {
        Box::pin(self.send_call(call))
    }
}

impl HttpTransport {
    /// Sends `call`. The request is built when the future is made (building never waits),
    /// so that the future, which every call moves and, behind interceptors, allocates,
    /// holds only what the exchange needs.
    fn send_call(
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
            cfg.codec,
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
        let mut headers = call.headers;
        let mut query = None;
        let mut http_method = Method::POST;
        let body = match call.input {
            ClientInput::Unary(message) => {
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
                            cfg.codec,
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
                    usize::MAX,
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
        let max = self.config.max_message_size;
        let (parts, body) = resp.into_parts();
        let mut resp_headers = parts.headers;
        if parts.status != StatusCode::OK && framing.needs_error_body() {
            return Reading::Error(error_answer(parts.status, resp_headers, body, max));
        }
        let encoding = match framing.check_response(parts.status, &resp_headers) {
            Ok(encoding) => encoding,
            Err(mut e) => {
                if e.metadata().is_empty() {
                    *e.metadata_mut() = resp_headers;
                }
                return Reading::Done(Err(e));
            }
        };
        if !framing.enveloped {
            return Reading::Unary(async move {
                let mut body = body;
                let raw = collect_limited(&mut body, max).await.map_err(|e| {
                    if e.code() == crate::Code::Canceled {
                        Status::unavailable(e.message())
                    } else {
                        e
                    }
                })?;
                let message = encoding.decompress(raw, max)?;
                let trailers = split_unary_trailers(&mut resp_headers);
                Ok(ClientOutput {
                    headers: resp_headers,
                    body: ClientOutputBody::Unary(message, trailers),
                })
            });
        }
        let streams = method.stream_type.server_streams();
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
            return Reading::Done(Ok(ClientOutput {
                headers: resp_headers,
                body: ClientOutputBody::Stream(Box::new(raw)),
            }));
        }
        Reading::Enveloped(enveloped_unary(raw, resp_headers))
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
    let mut err = connect::error_from_json(&raw, status.as_u16());
    let mut metadata = headers;
    metadata.extend(trailers);
    *err.metadata_mut() = metadata;
    Err(err)
}

/// The one message of a unary response in an envelope, and its trailers.
async fn enveloped_unary(
    mut raw: RawStreaming,
    headers: HeaderMap,
) -> Result<ClientOutput, Status> {
    let first = raw.next().await.transpose()?;
    if raw.next().await.transpose()?.is_some() {
        return Err(Status::internal(
            "protocol error: more than one response message for a unary call",
        ));
    }
    let first =
        first.ok_or_else(|| Status::internal("protocol error: the response has no message"))?;
    let trailers = raw.take_trailers().unwrap_or_default();
    Ok(ClientOutput {
        headers,
        body: ClientOutputBody::Unary(first, trailers),
    })
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
            return std::task::Poll::Ready(out);
        }
        match this.sleep.as_pin_mut().map(|sleep| sleep.poll(cx)) {
            Some(std::task::Poll::Ready(())) => {
                std::task::Poll::Ready(Err(Status::deadline_exceeded("the call's deadline passed")))
            }
            _ => std::task::Poll::Pending,
        }
    }
}
