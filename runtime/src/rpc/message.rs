//! Requests and responses with their metadata.

use std::time::{Duration, Instant};

use http::{Extensions, HeaderMap};

use crate::protocol::Protocol;

pub use crate::transport::body::PeerAddr;

/// A request: a message (or a stream of them) with headers and call options.
#[derive(Debug)]
pub struct Request<T> {
    metadata: HeaderMap,
    message: T,
    extensions: Extensions,
    timeout: Option<Duration>,
    deadline: Option<Instant>,
    protocol: Option<Protocol>,
}

impl<T> Request<T> {
    /// A request holding `message`, with no metadata.
    pub fn new(message: T) -> Self {
        Request {
            metadata: HeaderMap::new(),
            message,
            extensions: Extensions::new(),
            timeout: None,
            deadline: None,
            protocol: None,
        }
    }

    /// The request headers.
    pub fn metadata(&self) -> &HeaderMap {
        &self.metadata
    }

    /// Mutable request headers (client side: sent with the call).
    pub fn metadata_mut(&mut self) -> &mut HeaderMap {
        &mut self.metadata
    }

    /// The message.
    pub fn get_ref(&self) -> &T {
        &self.message
    }

    /// The message, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.message
    }

    /// Takes the message.
    pub fn into_inner(self) -> T {
        self.message
    }

    /// Splits into headers, extensions and message.
    pub fn into_parts(self) -> (HeaderMap, Extensions, T) {
        (self.metadata, self.extensions, self.message)
    }

    /// Typed extensions: on the server, the [`PeerAddr`] and whatever interceptors add
    /// (an authenticated identity, say).
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// Mutable extensions.
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        &mut self.extensions
    }

    /// Client side: sets this call's timeout, overriding the client's default.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = Some(timeout);
    }

    /// Builder form of [`Request::set_timeout`].
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Client side: the per-call timeout, if set.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Server side: when the caller stops waiting, if it set a deadline.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Server side: time left before the caller's deadline.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Server side: the wire protocol the call arrived on.
    pub fn protocol(&self) -> Option<Protocol> {
        self.protocol
    }

    /// Server side: the peer's address.
    pub fn peer_addr(&self) -> Option<&PeerAddr> {
        self.extensions.get::<PeerAddr>()
    }

    /// Replaces the message, keeping the metadata.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Request<U> {
        Request {
            metadata: self.metadata,
            message: f(self.message),
            extensions: self.extensions,
            timeout: self.timeout,
            deadline: self.deadline,
            protocol: self.protocol,
        }
    }

    pub(crate) fn from_server_parts(
        metadata: HeaderMap,
        extensions: Extensions,
        message: T,
        deadline: Option<Instant>,
        protocol: Protocol,
    ) -> Self {
        Request {
            metadata,
            message,
            extensions,
            timeout: None,
            deadline,
            protocol: Some(protocol),
        }
    }
}

impl<T> From<T> for Request<T> {
    fn from(message: T) -> Self {
        Request::new(message)
    }
}

/// A response: a message (or a stream of them) with headers and trailers.
#[derive(Debug)]
pub struct Response<T> {
    headers: HeaderMap,
    message: T,
    trailers: HeaderMap,
}

impl<T> Response<T> {
    /// A response holding `message`.
    pub fn new(message: T) -> Self {
        Response {
            headers: HeaderMap::new(),
            message,
            trailers: HeaderMap::new(),
        }
    }

    /// Response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Mutable response headers.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// Response trailers (for streams received by a client, read them from the stream once
    /// it has ended).
    pub fn trailers(&self) -> &HeaderMap {
        &self.trailers
    }

    /// Mutable response trailers.
    pub fn trailers_mut(&mut self) -> &mut HeaderMap {
        &mut self.trailers
    }

    /// The message.
    pub fn get_ref(&self) -> &T {
        &self.message
    }

    /// The message, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.message
    }

    /// Takes the message.
    pub fn into_inner(self) -> T {
        self.message
    }

    /// Splits into headers, message and trailers.
    pub fn into_parts(self) -> (HeaderMap, T, HeaderMap) {
        (self.headers, self.message, self.trailers)
    }

    /// Builds a response from its parts.
    pub fn from_parts(headers: HeaderMap, message: T, trailers: HeaderMap) -> Self {
        Response {
            headers,
            message,
            trailers,
        }
    }

    /// Replaces the message, keeping the metadata.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            headers: self.headers,
            message: f(self.message),
            trailers: self.trailers,
        }
    }
}

impl<T> From<T> for Response<T> {
    fn from(message: T) -> Self {
        Response::new(message)
    }
}
