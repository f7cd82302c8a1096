//! The client: typed call helpers for the four method kinds, through the interceptor chain,
//! to a [`ClientTransport`] — over HTTP ([`HttpTransport`]: Connect by default, gRPC and
//! gRPC-Web on request) or wherever another transport sends calls.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::HeaderMap;

use super::body::TypedEncodeStream;
use super::call::{ClientCall, ClientInput, ClientOutput, ClientOutputBody, MethodDescriptor};
use super::http_transport::HttpTransport;
use super::interceptor::{ClientNext, Interceptor, shared};
use super::message::{Request, Response};
use super::router::{
    DEFAULT_COMPRESS_MIN_BYTES, DEFAULT_MAX_RECEIVE_MESSAGE_SIZE, DEFAULT_MAX_SEND_MESSAGE_SIZE,
};
use super::streaming::Streaming;
use super::transport::ClientTransport;
use crate::protocol::{Codec, Encoding, Message, Protocol, Status};
use crate::transport::Channel;

/// How a client makes calls.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The wire protocol (default Connect).
    pub protocol: Protocol,
    /// The codec messages are encoded with (default proto).
    pub codec: Codec,
    /// How requests are compressed (default identity); responses may always be gzip.
    pub send_compression: Encoding,
    /// Messages smaller than this are sent uncompressed (default 1 KiB).
    pub compress_min_bytes: usize,
    /// Limit on one received message, before and after decompression (default
    /// [`DEFAULT_MAX_RECEIVE_MESSAGE_SIZE`](super::DEFAULT_MAX_RECEIVE_MESSAGE_SIZE),
    /// 4 MiB): a larger response fails the call with `resource_exhausted`.
    pub max_receive_message_size: usize,
    /// Limit on one sent message, before compression (default none,
    /// [`DEFAULT_MAX_SEND_MESSAGE_SIZE`](super::DEFAULT_MAX_SEND_MESSAGE_SIZE)): a larger
    /// unary request is refused with `resource_exhausted` before anything is sent; a larger
    /// message in a request stream aborts the stream.
    pub max_send_message_size: usize,
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
            max_receive_message_size: DEFAULT_MAX_RECEIVE_MESSAGE_SIZE,
            max_send_message_size: DEFAULT_MAX_SEND_MESSAGE_SIZE,
            timeout: None,
            use_get: false,
        }
    }
}

/// Makes calls: encodes messages with its config's codec, runs its interceptors (the first
/// added outermost) and hands each call to its [`ClientTransport`]. Cheap to clone.
///
/// Generated clients wrap one (`KvServiceClient::new(client)`); the call helpers here are
/// what they use.
///
/// # Example
///
/// ```no_run
/// use connect_plugin::interceptors::{Retry, RetryPolicy};
/// use connect_plugin::pb::grpc::health::v1::{HEALTH_CHECK, HealthCheckRequest, HealthCheckResponse};
/// use connect_plugin::{Channel, Client, ClientConfig, Protocol, Request, Response};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let config = ClientConfig { protocol: Protocol::Grpc, ..ClientConfig::default() };
/// let client = Client::with_config(Channel::builder("http://127.0.0.1:8080")?.build(), config)
///     .with_interceptor(Retry::new(RetryPolicy::default()));
/// let reply: Response<HealthCheckResponse> =
///     client.unary(&HEALTH_CHECK, Request::new(HealthCheckRequest::default())).await?;
/// println!("{:?}", reply.into_inner().status);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    transport: Transport,
    pub(crate) interceptors: Vec<Arc<dyn Interceptor>>,
}

/// A client's transport: HTTP, called without dynamic dispatch (the common case), or any
/// other with the client's config (an HTTP transport holds its own).
#[derive(Clone)]
enum Transport {
    Http(HttpTransport),
    Dyn(Arc<dyn ClientTransport>, ClientConfig),
}

impl Inner {
    /// Sends `call` through the transport (the end of the chain).
    pub(crate) fn send(&self, call: ClientCall) -> BoxFuture<'_, Result<ClientOutput, Status>> {
        match &self.transport {
            Transport::Http(http) => Box::pin(http.send_call(call)),
            Transport::Dyn(transport, _) => transport.send(call),
        }
    }

    /// The client's configuration: the HTTP transport's, or the one given with another
    /// transport.
    fn config(&self) -> &ClientConfig {
        match &self.transport {
            Transport::Http(http) => http.config(),
            Transport::Dyn(_, config) => config,
        }
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Client");
        if let Transport::Http(http) = &self.inner.transport {
            d.field("channel", http.channel());
        }
        d.field("config", self.inner.config())
            .field("interceptors", &self.inner.interceptors.len())
            .finish()
    }
}

impl Client {
    /// A client over HTTP with the default configuration (Connect, proto).
    pub fn new(channel: Channel) -> Self {
        Client::with_config(channel, ClientConfig::default())
    }

    /// A client over HTTP with `config`.
    pub fn with_config(channel: Channel, config: ClientConfig) -> Self {
        Client::build(Transport::Http(HttpTransport::new(channel, config)))
    }

    /// A client whose calls go to `transport`. `config.codec` encodes the messages and
    /// `config.timeout` is the calls' default timeout; the wire settings (protocol,
    /// compression, limits, GET) are the transport's own, as an [`HttpTransport`] takes them
    /// from its config.
    pub fn from_transport(transport: Arc<dyn ClientTransport>, config: ClientConfig) -> Self {
        Client::build(Transport::Dyn(transport, config))
    }

    fn build(transport: Transport) -> Self {
        Client {
            inner: Arc::new(Inner {
                transport,
                interceptors: Vec::new(),
            }),
        }
    }

    /// This client with `interceptor` added after its own (the first added runs
    /// outermost). A shared interceptor is passed as an `Arc` (`Arc<T>` and
    /// `Arc<dyn Interceptor>` are interceptors too). The transport is shared.
    pub fn with_interceptor(&self, interceptor: impl Interceptor) -> Self {
        self.with_interceptors([shared(interceptor)])
    }

    /// This client with `interceptors` added after its own, in order.
    pub(crate) fn with_interceptors(
        &self,
        interceptors: impl IntoIterator<Item = Arc<dyn Interceptor>>,
    ) -> Self {
        let mut all = self.inner.interceptors.clone();
        all.extend(interceptors);
        Client {
            inner: Arc::new(Inner {
                transport: self.inner.transport.clone(),
                interceptors: all,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        self.inner.config()
    }

    /// The channel of a client over HTTP (`None` for one built on another transport).
    pub fn channel(&self) -> Option<&Channel> {
        match &self.inner.transport {
            Transport::Http(http) => Some(http.channel()),
            Transport::Dyn(..) => None,
        }
    }

    fn codec(&self) -> Codec {
        self.config().codec
    }

    pub(crate) async fn run(&self, call: ClientCall) -> Result<ClientOutput, Status> {
        if self.inner.interceptors.is_empty() {
            // Without interceptors the chain is just the transport: call it directly rather
            // than through its boxed future.
            return match &self.inner.transport {
                Transport::Http(http) => http.send_call(call).await,
                Transport::Dyn(transport, _) => transport.send(call).await,
            };
        }
        ClientNext::new(&self.inner).run(call).await
    }

    fn call_of<T>(&self, method: &MethodDescriptor, req: Request<T>) -> (ClientCall, T) {
        // The effective timeout, so interceptors (retry) see the whole call's budget.
        let timeout = req.timeout().or(self.config().timeout);
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
                codec: self.codec(),
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

/// A client is a transport too: its interceptors, then its own transport. So a client can
/// stand behind a [`TransportSwitch`](super::TransportSwitch) or another client.
impl ClientTransport for Client {
    fn send(&self, call: ClientCall) -> BoxFuture<'_, Result<ClientOutput, Status>> {
        Box::pin(self.run(call))
    }
}
