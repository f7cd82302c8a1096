//! Requests and responses with their headers (and a response's trailers).

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Extensions, HeaderMap, Method, Uri};

use super::identity::Identity;
use super::trailers::StreamTrailers;
use crate::protocol::Protocol;
use crate::transport::Connection;

pub use crate::transport::body::{PeerAddr, PeerCertificates};

/// A request: a message (or a stream of them) with headers and call options.
///
/// Two words plus the message: everything else lives behind one box allocated on first use,
/// so a request with no metadata (the usual client call, and every call to a plugin used
/// directly) costs nothing beyond its message.
pub struct Request<T> {
    message: T,
    parts: Option<Box<RequestParts>>,
}

/// The rarely-empty parts of a [`Request`].
struct RequestParts {
    headers: HeaderMap,
    extensions: RequestExtensions,
    timeout: Option<Duration>,
    deadline: Option<Instant>,
    protocol: Option<Protocol>,
    /// Server side: the URI and HTTP method of the request.
    target: Option<(Uri, Method)>,
}

impl RequestParts {
    fn new() -> Self {
        RequestParts {
            headers: HeaderMap::new(),
            extensions: RequestExtensions::new(Extensions::new(), None, None),
            timeout: None,
            deadline: None,
            protocol: None,
            target: None,
        }
    }
}

/// What a server call knows besides its message, as a request holds it.
pub(crate) struct ServerParts {
    headers: HeaderMap,
    extensions: Extensions,
    connection: Option<Arc<Connection>>,
    identity: Option<Identity>,
    deadline: Option<Instant>,
    protocol: Protocol,
    uri: Uri,
    http_method: Method,
}

impl ServerParts {
    /// Splits a call into its parts and its input.
    pub(crate) fn split(call: super::call::ServerCall) -> (ServerParts, super::call::ServerInput) {
        (
            ServerParts {
                headers: call.headers,
                extensions: call.extensions,
                connection: call.connection,
                identity: call.identity,
                deadline: call.deadline,
                protocol: call.protocol,
                uri: call.uri,
                http_method: call.http_method,
            },
            call.input,
        )
    }
}

/// What an absent part reads as.
static NO_HEADERS: std::sync::LazyLock<HeaderMap> = std::sync::LazyLock::new(HeaderMap::new);
static NO_EXTENSIONS: std::sync::LazyLock<Extensions> = std::sync::LazyLock::new(Extensions::new);

impl<T: std::fmt::Debug> std::fmt::Debug for Request<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("headers", self.headers())
            .field("message", &self.message)
            .field("extensions", self.extensions())
            .field("timeout", &self.timeout())
            .field("deadline", &self.deadline())
            .field("protocol", &self.protocol())
            .finish()
    }
}

/// A request's extensions. On the server they hold the peer's [`PeerAddr`], a mutual-TLS
/// client's [`PeerCertificates`] (both from the call's [`Connection`]) and, on an
/// authenticated call, its [`Identity`]; they are kept aside and added to the map only when
/// the map is looked at, because inserting into `http::Extensions` costs three allocations,
/// on every call, that most calls never use. Whatever the caller sees is the same as if they
/// had been inserted from the start.
struct RequestExtensions {
    /// The map, without the pending entries.
    base: Extensions,
    /// Its peer and certificates are logically part of the map (replacing any in `base`).
    connection: Option<Arc<Connection>>,
    /// Logically part of the map (replacing any `Identity` in `base`).
    identity: Option<Identity>,
    /// `base` with the pending entries, built on the first shared look.
    merged: std::sync::OnceLock<Extensions>,
}

impl RequestExtensions {
    fn new(
        base: Extensions,
        connection: Option<Arc<Connection>>,
        identity: Option<Identity>,
    ) -> Self {
        RequestExtensions {
            base,
            connection,
            identity,
            merged: std::sync::OnceLock::new(),
        }
    }

    fn pending(&self) -> bool {
        self.connection.is_some() || self.identity.is_some()
    }

    /// Inserts the pending entries into `map`.
    fn insert_pending(&self, map: &mut Extensions) {
        if let Some(conn) = &self.connection {
            map.insert(conn.peer().clone());
            if let Some(certs) = conn.certificates() {
                map.insert(certs.clone());
            }
        }
        if let Some(identity) = &self.identity {
            map.insert(identity.clone());
        }
    }

    fn get(&self) -> &Extensions {
        if !self.pending() {
            return &self.base;
        }
        self.merged.get_or_init(|| {
            let mut merged = self.base.clone();
            self.insert_pending(&mut merged);
            merged
        })
    }

    /// Puts the pending entries into the map for good.
    fn settle(&mut self) {
        if !self.pending() {
            return;
        }
        match self.merged.take() {
            Some(merged) => self.base = merged,
            None => {
                let mut base = std::mem::take(&mut self.base);
                self.insert_pending(&mut base);
                self.base = base;
            }
        }
        self.connection = None;
        self.identity = None;
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
        match &self.connection {
            Some(conn) => Some(conn.peer()),
            None => self.base.get::<PeerAddr>(),
        }
    }

    fn identity(&self) -> Option<&Identity> {
        match &self.identity {
            Some(identity) => Some(identity),
            None => self.base.get::<Identity>(),
        }
    }
}

impl<T> Request<T> {
    /// A request holding `message`, with no metadata.
    pub fn new(message: T) -> Self {
        Request {
            message,
            parts: None,
        }
    }

    fn parts_mut(&mut self) -> &mut RequestParts {
        self.parts
            .get_or_insert_with(|| Box::new(RequestParts::new()))
    }

    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        self.parts.as_ref().map_or(&*NO_HEADERS, |p| &p.headers)
    }

    /// Mutable request headers (client side: sent with the call).
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.parts_mut().headers
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
        match self.parts {
            Some(p) => {
                let p = *p;
                (p.headers, p.extensions.into_inner(), self.message)
            }
            None => (HeaderMap::new(), Extensions::new(), self.message),
        }
    }

    /// Typed extensions: on the server, the [`PeerAddr`], a mutual-TLS client's verified
    /// [`PeerCertificates`], and whatever interceptors add (an authenticated identity, say).
    pub fn extensions(&self) -> &Extensions {
        self.parts
            .as_ref()
            .map_or(&*NO_EXTENSIONS, |p| p.extensions.get())
    }

    /// Mutable extensions.
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        self.parts_mut().extensions.get_mut()
    }

    /// Client side: sets this call's timeout, overriding the client's default.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.parts_mut().timeout = Some(timeout);
    }

    /// Builder form of [`Request::set_timeout`].
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.set_timeout(timeout);
        self
    }

    /// Client side: the per-call timeout, if set.
    pub fn timeout(&self) -> Option<Duration> {
        self.parts.as_ref().and_then(|p| p.timeout)
    }

    /// Server side: when the caller stops waiting, if it set a deadline.
    pub fn deadline(&self) -> Option<Instant> {
        self.parts.as_ref().and_then(|p| p.deadline)
    }

    /// Server side: time left before the caller's deadline.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline()
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Server side: the wire protocol the call arrived on.
    pub fn protocol(&self) -> Option<Protocol> {
        self.parts.as_ref().and_then(|p| p.protocol)
    }

    /// Server side: the URI the request was sent to — the method's path and, for a Connect
    /// GET, the query that carries the message.
    pub fn uri(&self) -> Option<&Uri> {
        self.parts
            .as_ref()
            .and_then(|p| p.target.as_ref())
            .map(|(uri, _)| uri)
    }

    /// Server side: the request's HTTP method (`POST`, or `GET` for a Connect GET).
    pub fn http_method(&self) -> Option<&Method> {
        self.parts
            .as_ref()
            .and_then(|p| p.target.as_ref())
            .map(|(_, method)| method)
    }

    /// Server side: the peer's address.
    pub fn peer_addr(&self) -> Option<&PeerAddr> {
        self.parts.as_ref().and_then(|p| p.extensions.peer_addr())
    }

    /// Replaces the message, keeping the metadata.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Request<U> {
        Request {
            message: f(self.message),
            parts: self.parts,
        }
    }

    /// Server side: the caller's authenticated identity (also in the extensions).
    pub(crate) fn authenticated(&self) -> Option<&Identity> {
        self.parts.as_ref().and_then(|p| p.extensions.identity())
    }

    /// A request as a server received it; the connection's peer and certificates and the
    /// identity, when given, count as part of the extensions.
    pub(crate) fn from_server_parts(parts: ServerParts, message: T) -> Self {
        Request {
            message,
            parts: Some(Box::new(RequestParts {
                headers: parts.headers,
                extensions: RequestExtensions::new(
                    parts.extensions,
                    parts.connection,
                    parts.identity,
                ),
                timeout: None,
                deadline: parts.deadline,
                protocol: Some(parts.protocol),
                target: Some((parts.uri, parts.http_method)),
            })),
        }
    }
}

impl<T> From<T> for Request<T> {
    fn from(message: T) -> Self {
        Request::new(message)
    }
}

/// A response: a message (or a stream of them) with headers and trailers. Headers and
/// trailers are allocated on first use, so a bare response is its message and two words.
#[derive(Debug)]
pub struct Response<T> {
    message: T,
    headers: Option<Box<HeaderMap>>,
    trailers: Option<Box<Trailers>>,
}

/// A response's trailers: those set with it, and those its stream writes while it runs.
#[derive(Debug, Default)]
struct Trailers {
    fixed: HeaderMap,
    stream: Option<StreamTrailers>,
}

/// A header map boxed only when it holds something.
fn boxed(map: HeaderMap) -> Option<Box<HeaderMap>> {
    (!map.is_empty()).then(|| Box::new(map))
}

impl<T> Response<T> {
    /// A response holding `message`.
    pub fn new(message: T) -> Self {
        Response {
            message,
            headers: None,
            trailers: None,
        }
    }

    /// Response headers.
    pub fn headers(&self) -> &HeaderMap {
        self.headers.as_deref().unwrap_or(&NO_HEADERS)
    }

    /// Mutable response headers.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        self.headers.get_or_insert_with(Box::default)
    }

    /// Response trailers (for streams received by a client, read them from the stream once
    /// it has ended). A server's response stream may add more as it runs: see
    /// [`Response::with_stream_trailers`].
    pub fn trailers(&self) -> &HeaderMap {
        self.trailers.as_deref().map_or(&NO_HEADERS, |t| &t.fixed)
    }

    /// Mutable response trailers.
    pub fn trailers_mut(&mut self) -> &mut HeaderMap {
        &mut self.trailers.get_or_insert_with(Box::default).fixed
    }

    /// Server side: trailers the response's stream writes while it runs, read when it ends
    /// and sent after [`Response::trailers`] (see [`StreamTrailers`] for an example). For
    /// a unary response they are read when the handler returns.
    pub fn with_stream_trailers(mut self, trailers: StreamTrailers) -> Self {
        self.trailers.get_or_insert_with(Box::default).stream = Some(trailers);
        self
    }

    /// The trailers attached with [`Response::with_stream_trailers`], if any.
    pub fn stream_trailers(&self) -> Option<&StreamTrailers> {
        self.trailers.as_deref().and_then(|t| t.stream.as_ref())
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

    /// Splits into headers, message and trailers (without the
    /// [stream trailers](Response::with_stream_trailers), which this drops).
    pub fn into_parts(self) -> (HeaderMap, T, HeaderMap) {
        let (headers, message, trailers, _) = self.into_server_parts();
        (headers, message, trailers)
    }

    /// Splits into headers, message, trailers and stream trailers.
    pub(crate) fn into_server_parts(self) -> (HeaderMap, T, HeaderMap, Option<StreamTrailers>) {
        let (fixed, stream) = self.trailers.map_or((HeaderMap::new(), None), |t| {
            let t = *t;
            (t.fixed, t.stream)
        });
        (
            self.headers.map(|h| *h).unwrap_or_default(),
            self.message,
            fixed,
            stream,
        )
    }

    /// Builds a response from its parts.
    pub fn from_parts(headers: HeaderMap, message: T, trailers: HeaderMap) -> Self {
        Response {
            message,
            headers: boxed(headers),
            trailers: (!trailers.is_empty()).then(|| {
                Box::new(Trailers {
                    fixed: trailers,
                    stream: None,
                })
            }),
        }
    }

    /// Replaces the message, keeping the metadata.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            message: f(self.message),
            headers: self.headers,
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

    fn server_request(
        extensions: Extensions,
        connection: Option<Arc<Connection>>,
        identity: Option<Identity>,
        protocol: Protocol,
    ) -> Request<()> {
        use crate::rpc::{Idempotency, MethodDescriptor, ServerCall, ServerInput};
        let method =
            MethodDescriptor::new("/t.v1.T/M", crate::StreamType::Unary, Idempotency::Unknown);
        let mut call = ServerCall::new(
            method,
            protocol,
            crate::Codec::Proto,
            ServerInput::Unary(Default::default()),
        );
        call.extensions = extensions;
        call.connection = connection;
        call.identity = identity;
        call.uri = Uri::from_static("/t.v1.T/M?connect=v1");
        call.http_method = Method::GET;
        let (parts, _) = ServerParts::split(call);
        Request::from_server_parts(parts, ())
    }

    #[test]
    fn a_server_request_knows_its_uri_and_http_method() {
        let req = server_request(Extensions::new(), None, None, Protocol::Connect);
        assert_eq!(req.uri().and_then(Uri::query), Some("connect=v1"));
        assert_eq!(req.http_method(), Some(&Method::GET));
        let plain = Request::new(());
        assert_eq!(plain.uri(), None);
        assert_eq!(plain.http_method(), None);
    }

    #[test]
    fn a_pending_peer_is_part_of_the_extensions() {
        let mut base = Extensions::new();
        base.insert(Tag(1));
        base.insert(PeerAddr::Memory);
        base.insert(Identity::new("old"));
        let alice = Identity::new("alice");
        let certs = PeerCertificates::new(vec![vec![0x30, 0x00].into()]).unwrap();
        let req = server_request(
            base,
            Some(Arc::new(
                Connection::new(tcp()).with_certificates(Some(certs.clone())),
            )),
            Some(alice.clone()),
            Protocol::Connect,
        );
        // The peer and identity replace those already in the map, as inserts would.
        assert_eq!(req.peer_addr(), Some(&tcp()));
        assert_eq!(req.authenticated(), Some(&alice));
        assert_eq!(req.extensions().get::<PeerAddr>(), Some(&tcp()));
        assert_eq!(req.extensions().get::<Identity>(), Some(&alice));
        assert_eq!(req.extensions().get::<PeerCertificates>(), Some(&certs));
        assert_eq!(req.extensions().get::<Tag>(), Some(&Tag(1)));
        let (_, ext, ()) = req.into_parts();
        assert_eq!(ext.get::<PeerCertificates>(), Some(&certs));
        assert_eq!(ext.get::<PeerAddr>(), Some(&tcp()));
        assert_eq!(ext.get::<Identity>(), Some(&alice));
        assert_eq!(ext.get::<Tag>(), Some(&Tag(1)));

        // Mutation sees and keeps it, whether or not it was looked at first.
        for look_first in [false, true] {
            let mut req = server_request(
                Extensions::new(),
                Some(Arc::new(Connection::new(tcp()))),
                Some(Identity::new("bob")),
                Protocol::Grpc,
            );
            if look_first {
                assert!(req.extensions().get::<PeerAddr>().is_some());
            }
            assert_eq!(req.extensions_mut().remove::<PeerAddr>(), Some(tcp()));
            assert_eq!(req.peer_addr(), None);
            let bob = req.extensions_mut().remove::<Identity>();
            assert_eq!(bob.as_ref().map(Identity::principal), Some("bob"));
            assert_eq!(req.authenticated(), None);
            assert!(req.extensions().get::<PeerAddr>().is_none());
            req.extensions_mut().insert(Tag(2));
            let req = req.map(|()| 5);
            assert_eq!(req.extensions().get::<Tag>(), Some(&Tag(2)));
            assert_eq!(req.into_parts().1.get::<Tag>(), Some(&Tag(2)));
        }

        let plain = Request::new(());
        assert_eq!(plain.peer_addr(), None);
        assert!(plain.extensions().get::<PeerAddr>().is_none());
        assert!(format!("{plain:?}").starts_with("Request { headers: "));
    }
}
