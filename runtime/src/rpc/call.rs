//! The erased form of a call that interceptors and the transport see: method, metadata and
//! encoded (uncompressed) messages. Typed code converts at the edges.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Extensions, HeaderMap};

use super::body::EncodeStream;
use super::message::PeerAddr;
use super::streaming::RawStreaming;
use crate::protocol::{Codec, Protocol, StreamType};

/// Whether a method may be repeated safely, from the proto's `idempotency_level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Idempotency {
    /// No promise: a call that may have reached the handler must not be repeated.
    #[default]
    Unknown,
    /// Repeating the call has the same effect as making it once.
    Idempotent,
    /// The call changes nothing; Connect lets it travel as an HTTP GET.
    NoSideEffects,
}

impl Idempotency {
    /// Whether a call may be retried after it reached the server.
    pub fn is_retry_safe(self) -> bool {
        self != Idempotency::Unknown
    }
}

/// A method's static description, as generated code declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MethodDescriptor {
    /// The HTTP path: `/package.Service/Method`.
    pub path: &'static str,
    /// The method's shape.
    pub stream_type: StreamType,
    /// Its idempotency level.
    pub idempotency: Idempotency,
}

impl MethodDescriptor {
    /// A descriptor.
    pub const fn new(
        path: &'static str,
        stream_type: StreamType,
        idempotency: Idempotency,
    ) -> Self {
        MethodDescriptor {
            path,
            stream_type,
            idempotency,
        }
    }

    /// The fully-qualified service name (`package.Service`).
    pub fn service(&self) -> &'static str {
        let p = self.path.trim_start_matches('/');
        p.rsplit_once('/').map_or(p, |(s, _)| s)
    }

    /// The method name.
    pub fn method(&self) -> &'static str {
        self.path.rsplit_once('/').map_or(self.path, |(_, m)| m)
    }
}

/// A server call as interceptors see it.
#[derive(Debug)]
pub struct ServerCall {
    /// The method called.
    pub method: MethodDescriptor,
    /// Request headers.
    pub headers: HeaderMap,
    /// Extensions: whatever interceptors add. The peer's address and a mutual-TLS
    /// client's verified certificates come with the connection ([`ServerCall::peer`],
    /// [`ServerCall::peer_certificates`]), the authenticated identity in its own field;
    /// handlers find all three in the request's extensions too ([`Request::peer_addr`], `request.extensions()`), without an allocation for calls
    /// that never look.
    ///
    /// [`Request::peer_addr`]: super::Request::peer_addr
    pub extensions: Extensions,
    /// The connection the call came over, with the state its calls share (`None` for calls
    /// not received by this crate's server).
    pub connection: Option<std::sync::Arc<crate::transport::Connection>>,
    /// Who called, once an auth interceptor has verified it
    /// ([`IdentityExt`](super::IdentityExt) reads it); handlers find it in the request's
    /// extensions too.
    pub identity: Option<super::identity::Identity>,
    /// The caller's deadline.
    pub deadline: Option<Instant>,
    /// The request's URI as the server received it: path and, for a Connect GET, the
    /// query carrying the message.
    pub uri: http::Uri,
    /// The request's HTTP method (`POST`, or `GET` for a Connect GET).
    pub http_method: http::Method,
    /// The protocol the call arrived on.
    pub protocol: Protocol,
    /// The codec of the messages.
    pub codec: Codec,
    /// The request message(s), decompressed but still encoded.
    pub input: ServerInput,
}

impl ServerCall {
    /// A call of `method` carrying `input`, with no metadata, over no connection, as if
    /// POSTed to the method's path (for tests of interceptors and for servers of other
    /// kinds that hand calls to a router's interceptors).
    ///
    /// ```
    /// use connect_plugin::rpc::{Idempotency, MethodDescriptor, ServerCall, ServerInput};
    /// use connect_plugin::{Codec, Protocol, StreamType};
    ///
    /// let method = MethodDescriptor::new("/t.v1.T/M", StreamType::Unary, Idempotency::Unknown);
    /// let call = ServerCall::new(method, Protocol::Connect, Codec::Proto, ServerInput::Unary(Default::default()));
    /// assert_eq!(call.uri.path(), "/t.v1.T/M");
    /// ```
    pub fn new(
        method: MethodDescriptor,
        protocol: Protocol,
        codec: Codec,
        input: ServerInput,
    ) -> Self {
        ServerCall {
            method,
            headers: HeaderMap::new(),
            extensions: Extensions::new(),
            connection: None,
            identity: None,
            deadline: None,
            uri: http::Uri::from_static(method.path),
            http_method: http::Method::POST,
            protocol,
            codec,
            input,
        }
    }

    /// Where the call came from: its connection's peer, else one an interceptor or another
    /// server put into the extensions (`None` for calls not received by a server).
    pub fn peer(&self) -> Option<&PeerAddr> {
        self.connection
            .as_deref()
            .map(|c| c.peer())
            .or_else(|| self.extensions.get())
    }

    /// A mutual-TLS client's verified certificate chain: the connection's, else one an
    /// interceptor put into the extensions.
    pub fn peer_certificates(&self) -> Option<&super::message::PeerCertificates> {
        self.connection
            .as_deref()
            .and_then(|c| c.certificates())
            .or_else(|| self.extensions.get())
    }
}

/// Request message(s) of a call.
// Moved once per call; boxing the stream would cost an allocation per streaming call.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum ServerInput {
    /// The one request message.
    Unary(Bytes),
    /// A stream of request messages.
    Stream(RawStreaming),
}

/// What a server call produced.
pub struct ServerOutput {
    /// Response headers.
    pub headers: HeaderMap,
    /// The response message(s).
    pub body: ServerOutputBody,
    /// Response trailers.
    pub trailers: HeaderMap,
    /// Trailers the response stream may still write until it ends (see
    /// [`StreamTrailers`](super::StreamTrailers)): read then, and sent after `trailers`.
    /// For a unary response, read when the output is written.
    pub stream_trailers: Option<super::StreamTrailers>,
}

/// Response message(s) of a server call.
pub enum ServerOutputBody {
    /// One encoded message.
    Unary(Bytes),
    /// A stream of messages, encoded as they are sent.
    Stream(Box<dyn EncodeStream>),
}

impl std::fmt::Debug for ServerOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerOutput")
            .field("headers", &self.headers)
            .finish()
    }
}

/// A client call as interceptors see it.
pub struct ClientCall {
    /// The method called.
    pub method: MethodDescriptor,
    /// Request headers to send.
    pub headers: HeaderMap,
    /// Extensions for interceptors.
    pub extensions: Extensions,
    /// This call's timeout.
    pub timeout: Option<Duration>,
    /// The codec the messages are encoded with, both ways: the transport labels the request
    /// with it and the client decodes the response with it.
    pub codec: Codec,
    /// The request message(s).
    pub input: ClientInput,
}

/// Request message(s) of a client call.
pub enum ClientInput {
    /// One encoded (uncompressed) message; cheap to clone for a retry.
    Unary(Bytes),
    /// A stream of messages, encoded as they are sent.
    Stream(Box<dyn EncodeStream>),
}

/// What a client call received.
#[derive(Debug)]
pub struct ClientOutput {
    /// Response headers.
    pub headers: HeaderMap,
    /// The response message(s).
    pub body: ClientOutputBody,
}

/// Response message(s) of a client call.
#[derive(Debug)]
pub enum ClientOutputBody {
    /// One message (decompressed, still encoded) and the trailers.
    Unary(Bytes, HeaderMap),
    /// A stream of messages; its trailers are known once it ends. Boxed: every layer of a
    /// client chain returns a `ClientOutput`, so its size is copied several times a call.
    Stream(Box<RawStreaming>),
}
