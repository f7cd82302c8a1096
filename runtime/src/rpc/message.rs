//! Requests and responses with their metadata.

use std::time::{Duration, Instant};

use http::{Extensions, HeaderMap};

use crate::protocol::Protocol;

pub use crate::transport::body::{PeerAddr, PeerCertificates};

/// A request: a message (or a stream of them) with headers and call options.
pub struct Request<T> {
    metadata: HeaderMap,
    message: T,
    extensions: RequestExtensions,
    timeout: Option<Duration>,
    deadline: Option<Instant>,
    protocol: Option<Protocol>,
}

impl<T: std::fmt::Debug> std::fmt::Debug for Request<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("metadata", &self.metadata)
            .field("message", &self.message)
            .field("extensions", self.extensions.get())
            .field("timeout", &self.timeout)
            .field("deadline", &self.deadline)
            .field("protocol", &self.protocol)
            .finish()
    }
}

/// A request's extensions. On the server they hold the peer's [`PeerAddr`]; it is kept
/// aside and added to the map only when the map is looked at, because inserting into
/// `http::Extensions` costs three allocations, on every call, that most calls never use.
/// Whatever the caller sees is the same as if it had been inserted from the start.
struct RequestExtensions {
    /// The map, without `peer`.
    base: Extensions,
    /// Logically part of the map (replacing any `PeerAddr` in `base`).
    peer: Option<PeerAddr>,
    /// `base` with `peer`, built on the first shared look.
    merged: std::sync::OnceLock<Extensions>,
}

impl RequestExtensions {
    fn new(base: Extensions, peer: Option<PeerAddr>) -> Self {
        RequestExtensions {
            base,
            peer,
            merged: std::sync::OnceLock::new(),
        }
    }

    fn get(&self) -> &Extensions {
        match &self.peer {
            None => &self.base,
            Some(peer) => self.merged.get_or_init(|| {
                let mut merged = self.base.clone();
                merged.insert(peer.clone());
                merged
            }),
        }
    }

    /// Puts the peer into the map for good.
    fn settle(&mut self) {
        if let Some(peer) = self.peer.take() {
            match self.merged.take() {
                Some(merged) => self.base = merged,
                None => {
                    self.base.insert(peer);
                }
            }
        }
    }

    fn get_mut(&mut self) -> &mut Extensions {
        self.settle();
        &mut self.base
    }

    fn into_inner(mut self) -> Extensions {
        self.settle();
        self.base
    }

    fn peer_addr(&self) -> Option<&PeerAddr> {
        match &self.peer {
            Some(peer) => Some(peer),
            None => self.base.get::<PeerAddr>(),
        }
    }
}

impl<T> Request<T> {
    /// A request holding `message`, with no metadata.
    pub fn new(message: T) -> Self {
        Request {
            metadata: HeaderMap::new(),
            message,
            extensions: RequestExtensions::new(Extensions::new(), None),
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
        (self.metadata, self.extensions.into_inner(), self.message)
    }

    /// Typed extensions: on the server, the [`PeerAddr`], a mutual-TLS client's verified
    /// [`PeerCertificates`], and whatever interceptors add (an authenticated identity, say).
    pub fn extensions(&self) -> &Extensions {
        self.extensions.get()
    }

    /// Mutable extensions.
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        self.extensions.get_mut()
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
        self.extensions.peer_addr()
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

    /// A request as a server received it; `peer`, when given, counts as part of
    /// `extensions`.
    pub(crate) fn from_server_parts(
        metadata: HeaderMap,
        extensions: Extensions,
        peer: Option<PeerAddr>,
        message: T,
        deadline: Option<Instant>,
        protocol: Protocol,
    ) -> Self {
        Request {
            metadata,
            message,
            extensions: RequestExtensions::new(extensions, peer),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Tag(u32);

    fn tcp() -> PeerAddr {
        PeerAddr::Tcp(([127, 0, 0, 1], 9).into())
    }

    #[test]
    fn a_pending_peer_is_part_of_the_extensions() {
        let mut base = Extensions::new();
        base.insert(Tag(1));
        base.insert(PeerAddr::Memory);
        let req = Request::from_server_parts(
            HeaderMap::new(),
            base,
            Some(tcp()),
            (),
            None,
            Protocol::Connect,
        );
        // The peer replaces one already in the map, as an insert would.
        assert_eq!(req.peer_addr(), Some(&tcp()));
        assert_eq!(req.extensions().get::<PeerAddr>(), Some(&tcp()));
        assert_eq!(req.extensions().get::<Tag>(), Some(&Tag(1)));
        let (_, ext, ()) = req.into_parts();
        assert_eq!(ext.get::<PeerAddr>(), Some(&tcp()));
        assert_eq!(ext.get::<Tag>(), Some(&Tag(1)));

        // Mutation sees and keeps it, whether or not it was looked at first.
        for look_first in [false, true] {
            let mut req = Request::from_server_parts(
                HeaderMap::new(),
                Extensions::new(),
                Some(tcp()),
                (),
                None,
                Protocol::Grpc,
            );
            if look_first {
                assert!(req.extensions().get::<PeerAddr>().is_some());
            }
            assert_eq!(req.extensions_mut().remove::<PeerAddr>(), Some(tcp()));
            assert_eq!(req.peer_addr(), None);
            assert!(req.extensions().get::<PeerAddr>().is_none());
            req.extensions_mut().insert(Tag(2));
            let req = req.map(|()| 5);
            assert_eq!(req.extensions().get::<Tag>(), Some(&Tag(2)));
            assert_eq!(req.into_parts().1.get::<Tag>(), Some(&Tag(2)));
        }

        let plain = Request::new(());
        assert_eq!(plain.peer_addr(), None);
        assert!(plain.extensions().get::<PeerAddr>().is_none());
        assert!(format!("{plain:?}").starts_with("Request { metadata: "));
    }
}
