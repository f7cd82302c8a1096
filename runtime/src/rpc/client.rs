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
        let (headers, extensions, message) = req.into_parts();
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
                Streaming::new(raw),
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
    async fn send_call(&self, call: ClientCall) -> Result<ClientOutput, Status> {
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
        // Building the request never waits, so it happens before the deadline is armed; the
        // futures that do wait stay small (they are moved at every await).
        let req = self.request(call, framing, timeout)?;
        let fut = self.exchange(req, method, framing, deadline);
        match deadline {
            None => fut.await,
            Some(d) => tokio::time::timeout_at(d.into(), fut)
                .await
                .unwrap_or_else(|_| Err(Status::deadline_exceeded("the call's deadline passed"))),
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
        let resp = self.channel.send(req).await?;
        self.read_response(resp, method, framing, deadline).await
    }

    /// Checks a response and reads its message (unary) or hands over its stream.
    async fn read_response(
        &self,
        resp: http::Response<Body>,
        method: MethodDescriptor,
        framing: Framing,
        deadline: Option<Instant>,
    ) -> Result<ClientOutput, Status> {
        let cfg = &self.config;
        let (parts, mut body) = resp.into_parts();
        let mut resp_headers = parts.headers;
        if parts.status != StatusCode::OK && framing.needs_error_body() {
            let raw = collect_limited(&mut body, cfg.max_message_size)
                .await
                .unwrap_or_default();
            let encoding = resp_headers
                .get(http::header::CONTENT_ENCODING)
                .and_then(|v| v.to_str().ok())
                .and_then(Encoding::from_name)
                .unwrap_or(Encoding::Identity);
            let raw = encoding
                .decompress(raw.clone(), cfg.max_message_size)
                .unwrap_or(raw);
            let trailers = split_unary_trailers(&mut resp_headers);
            let mut err = connect::error_from_json(&raw, parts.status.as_u16());
            let mut metadata = resp_headers;
            metadata.extend(trailers);
            *err.metadata_mut() = metadata;
            return Err(err);
        }
        let encoding = framing
            .check_response(parts.status, &resp_headers)
            .map_err(|mut e| {
                if e.metadata().is_empty() {
                    *e.metadata_mut() = resp_headers.clone();
                }
                e
            })?;
        if !framing.enveloped {
            let raw = collect_limited(&mut body, cfg.max_message_size)
                .await
                .map_err(|e| {
                    if e.code() == crate::Code::Canceled {
                        Status::unavailable(e.message())
                    } else {
                        e
                    }
                })?;
            let message = encoding.decompress(raw, cfg.max_message_size)?;
            let trailers = split_unary_trailers(&mut resp_headers);
            return Ok(ClientOutput {
                headers: resp_headers,
                body: ClientOutputBody::Unary(message, trailers),
            });
        }
        let streams = method.stream_type.server_streams();
        let mut raw = RawStreaming::new(
            body,
            framing,
            encoding,
            cfg.max_message_size,
            Side::Client,
            // A single message is read within this call, which its deadline already bounds;
            // only a stream handed to the caller needs its own timer.
            if streams { deadline } else { None },
        );
        if streams {
            return Ok(ClientOutput {
                headers: resp_headers,
                body: ClientOutputBody::Stream(raw),
            });
        }
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
            headers: resp_headers,
            body: ClientOutputBody::Unary(first, trailers),
        })
    }
}
