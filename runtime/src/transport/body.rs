//! The one HTTP body type of requests and responses, and the handler trait servers call.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::future::BoxFuture;

use super::drain::DrainOnDrop;
use http::HeaderMap;
use http_body::{Frame, SizeHint};

/// A boxed error, as bodies and services use.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The body type of requests and responses.
pub struct Body {
    kind: Kind,
}

enum Kind {
    Empty,
    Full {
        data: Option<Bytes>,
        /// Boxed: trailers are rare (gRPC unary responses) and a `HeaderMap` inline would
        /// triple the size of every body, which hyper moves around with its stream state.
        trailers: Option<Box<HeaderMap>>,
    },
    /// hyper's own body, held as it is: the body of every request a server receives and of
    /// every response a client receives, so not boxing it saves an allocation per call.
    Incoming(hyper::body::Incoming),
    /// The body of a response an HTTP/2 [`Channel`](super::client::Channel) received,
    /// straight from h2.
    H2 {
        stream: h2::RecvStream,
        /// All DATA frames were read; the trailers are next.
        data_done: bool,
        /// Dropped with the body: tells the task sending a streamed request body to stop
        /// (and reset the stream). `None` when the request body went out whole.
        _request: Option<tokio::sync::oneshot::Sender<()>>,
    },
    /// hyper's body of an HTTP/1.1 request, read to its end if dropped before it (see
    /// [`Body::drain_on_drop`]).
    Draining(DrainOnDrop<hyper::body::Incoming>),
    Boxed(Pin<Box<dyn http_body::Body<Data = Bytes, Error = BoxError> + Send + 'static>>),
}

impl Body {
    /// An empty body.
    pub fn empty() -> Self {
        Body { kind: Kind::Empty }
    }

    /// A body of one chunk.
    pub fn full(data: impl Into<Bytes>) -> Self {
        Body {
            kind: Kind::Full {
                data: Some(data.into()),
                trailers: None,
            },
        }
    }

    /// A body of one chunk followed by HTTP trailers.
    pub fn full_with_trailers(data: Bytes, trailers: HeaderMap) -> Self {
        Body {
            kind: Kind::Full {
                data: (!data.is_empty()).then_some(data),
                trailers: Some(Box::new(trailers)),
            },
        }
    }

    /// hyper's incoming body, without boxing it.
    pub fn incoming(body: hyper::body::Incoming) -> Self {
        Body {
            kind: Kind::Incoming(body),
        }
    }

    /// The body of an HTTP/2 response received by the client; `request`, if any, is dropped
    /// with it (see [`Kind::H2`]).
    pub(crate) fn h2(
        stream: h2::RecvStream,
        request: Option<tokio::sync::oneshot::Sender<()>>,
    ) -> Self {
        Body {
            kind: Kind::H2 {
                stream,
                data_done: false,
                _request: request,
            },
        }
    }

    /// The whole content of a body that is already complete (empty, or made by
    /// [`Body::full`] or [`Body::full_with_trailers`] and not read from yet): its data, if
    /// any, and its trailers, if any. Any other body is given back as it is.
    pub(crate) fn into_complete(self) -> Result<(Option<Bytes>, Option<HeaderMap>), Body> {
        match self.kind {
            Kind::Empty => Ok((None, None)),
            Kind::Full { data, trailers } => Ok((data, trailers.map(|t| *t))),
            _ => Err(self),
        }
    }

    /// This request body, read to its end in the background (within bounds) if it is
    /// dropped before its end, as an HTTP/1.1 server must do to let a client that is still
    /// writing read an early answer, and to keep the connection (see the `drain` module).
    /// A body held in memory (nothing to drain) is returned as it is.
    pub(crate) fn drain_on_drop(self) -> Body {
        let kind = match self.kind {
            Kind::Incoming(b) => Kind::Draining(DrainOnDrop::new(b)),
            Kind::Boxed(b) => Kind::Boxed(Box::pin(DrainOnDrop::new(Body {
                kind: Kind::Boxed(b),
            }))),
            other => other,
        };
        Body { kind }
    }

    /// Wraps any body.
    pub fn new<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        // A `Body` is taken as it is rather than boxed again, and hyper's `Incoming` is held
        // without a box. (The type checks are resolved at compile time.)
        let mut slot = Some(body);
        let any = &mut slot as &mut dyn std::any::Any;
        if let Some(b) = any.downcast_mut::<Option<Body>>().and_then(Option::take) {
            return b;
        }
        if let Some(b) = any
            .downcast_mut::<Option<hyper::body::Incoming>>()
            .and_then(Option::take)
        {
            return Body::incoming(b);
        }
        match slot {
            Some(inner) => Body {
                kind: Kind::Boxed(Box::pin(MapErr { inner })),
            },
            None => Body::empty(),
        }
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Body")
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

pin_project_lite::pin_project! {
    struct MapErr<B> { #[pin] inner: B }
}

impl<B> http_body::Body for MapErr<B>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.project().inner.poll_frame(cx).map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.kind {
            Kind::Empty => Poll::Ready(None),
            Kind::Full { data, trailers } => {
                if let Some(d) = data.take() {
                    return Poll::Ready(Some(Ok(Frame::data(d))));
                }
                Poll::Ready(trailers.take().map(|t| Ok(Frame::trailers(*t))))
            }
            Kind::Incoming(b) => Pin::new(b)
                .poll_frame(cx)
                .map_err(|e| Box::new(e) as BoxError),
            Kind::Draining(b) => Pin::new(b).poll_frame(cx),
            Kind::H2 {
                stream, data_done, ..
            } => {
                if !*data_done {
                    match std::task::ready!(stream.poll_data(cx)) {
                        Some(Ok(d)) => {
                            // Reading it is what opens the window again.
                            let _ = stream.flow_control().release_capacity(d.len());
                            return Poll::Ready(Some(Ok(Frame::data(d))));
                        }
                        // RST_STREAM(NO_ERROR) is an early, complete response (RFC 9113
                        // section 8.1), as hyper reads it too.
                        Some(Err(e)) if e.reason() == Some(h2::Reason::NO_ERROR) => {
                            return Poll::Ready(None);
                        }
                        Some(Err(e)) => return Poll::Ready(Some(Err(Box::new(e)))),
                        None => *data_done = true,
                    }
                }
                match std::task::ready!(stream.poll_trailers(cx)) {
                    Ok(t) => Poll::Ready(t.map(|t| Ok(Frame::trailers(t)))),
                    Err(e) if e.reason() == Some(h2::Reason::NO_ERROR) => Poll::Ready(None),
                    Err(e) => Poll::Ready(Some(Err(Box::new(e)))),
                }
            }
            Kind::Boxed(b) => b.as_mut().poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Empty => true,
            Kind::Full { data, trailers } => data.is_none() && trailers.is_none(),
            Kind::Incoming(b) => b.is_end_stream(),
            Kind::Draining(b) => b.is_end_stream(),
            Kind::H2 { stream, .. } => stream.is_end_stream(),
            Kind::Boxed(b) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Empty => SizeHint::with_exact(0),
            Kind::Full {
                data,
                trailers: None,
            } => SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64)),
            Kind::Full { .. } => SizeHint::default(),
            Kind::Incoming(b) => b.size_hint(),
            Kind::Draining(b) => b.size_hint(),
            Kind::H2 { stream, .. } if stream.is_end_stream() => SizeHint::with_exact(0),
            Kind::H2 { .. } => SizeHint::default(),
            Kind::Boxed(b) => b.size_hint(),
        }
    }
}

/// What a server calls for each HTTP request. The rpc layer's router implements it; any
/// other HTTP service can too.
pub trait HttpHandler: Send + Sync + 'static {
    /// Answers one request.
    fn call(&self, req: http::Request<Body>) -> BoxFuture<'static, http::Response<Body>>;

    /// Answers one request that came over `conn`, as the server does. The default puts the
    /// peer's address into the request's extensions and calls [`HttpHandler::call`]; the
    /// rpc layer's router hands the connection on to the call instead
    /// ([`ServerCall::connection`](crate::rpc::ServerCall::connection)), which adds the
    /// address to its extensions only when they are looked at.
    ///
    /// A handler that passes requests on to a router should pass them on here too, with
    /// `conn`: through the default the router's calls get no connection, so nothing that
    /// interceptors remember about a connection (verified credentials, an mTLS identity)
    /// lasts beyond one call.
    fn call_from(
        &self,
        mut req: http::Request<Body>,
        conn: &std::sync::Arc<Connection>,
    ) -> BoxFuture<'static, http::Response<Body>> {
        req.extensions_mut().insert(conn.peer().clone());
        if let Some(certs) = conn.certificates() {
            req.extensions_mut().insert(certs.clone());
        }
        self.call(req)
    }
}

/// A connection a server accepted, as the calls on it see it: the peer, and state that lasts
/// as long as the connection and is shared by its calls. Interceptors keep there what they
/// learned about the connection once, rather than on every call: the auth providers, the
/// credentials they verified (a later call presenting the same bytes on the same
/// connection skips the keyed digest), or the identity of a mutual-TLS peer.
pub struct Connection {
    peer: PeerAddr,
    certs: Option<PeerCertificates>,
    /// What the first reader of `certs` (an auth provider) made of them, with its id
    /// ([`Connection::certificate_identity`]). Type-erased: the transport names nothing of
    /// the layers above it.
    cert_identity: std::sync::OnceLock<(u64, Box<dyn std::any::Any + Send + Sync>)>,
    state: std::sync::Mutex<http::Extensions>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A connection from `peer`, with no state yet.
    pub fn new(peer: PeerAddr) -> Self {
        Connection {
            peer,
            certs: None,
            cert_identity: std::sync::OnceLock::new(),
            state: std::sync::Mutex::new(http::Extensions::new()),
        }
    }

    /// The connection with the certificate chain its (mutual-TLS) client presented and the
    /// server's verifier accepted.
    pub fn with_certificates(mut self, certs: Option<PeerCertificates>) -> Self {
        self.certs = certs;
        self
    }

    /// The peer's address.
    pub fn peer(&self) -> &PeerAddr {
        &self.peer
    }

    /// A mutual-TLS client's verified certificate chain.
    pub fn certificates(&self) -> Option<&PeerCertificates> {
        self.certs.as_ref()
    }

    /// The identity (a `T`) that `provider`, an auth provider's id, made of
    /// [`Connection::certificates`], if it was the first to keep one. A connection's
    /// certificates never change, so neither does this; kept beside them, a call finds it
    /// without the state's lock and map (on every call of an mTLS connection, in memory the
    /// call has just read). `None` as well when what `provider` kept is not a `T`.
    pub(crate) fn certificate_identity<T: std::any::Any>(&self, provider: u64) -> Option<&T> {
        match self.cert_identity.get() {
            Some((by, identity)) if *by == provider => identity.downcast_ref(),
            _ => None,
        }
    }

    /// Keeps `identity` as what `provider` made of the certificates; `false` when another
    /// provider's is kept already (or `provider` kept something other than a `T`).
    pub(crate) fn keep_certificate_identity<T: std::any::Any + Send + Sync>(
        &self,
        provider: u64,
        identity: T,
    ) -> bool {
        self.cert_identity
            .set((provider, Box::new(identity)))
            .is_ok()
            || self.certificate_identity::<T>(provider).is_some()
    }

    /// Runs `f` on the connection's state (under a lock: keep `f` short).
    pub fn with_state<R>(&self, f: impl FnOnce(&mut http::Extensions) -> R) -> R {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut state)
    }
}

/// The peer of a server connection, as the transport saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerAddr {
    /// A TCP peer.
    Tcp(std::net::SocketAddr),
    /// A Unix domain socket peer (usually unnamed).
    Unix(Option<std::path::PathBuf>),
    /// An in-memory link.
    Memory,
}

/// The certificate chain a TLS client presented, end-entity certificate first. The server
/// keeps it with the connection ([`Connection::certificates`]; calls and requests find it in
/// their extensions too), and only once the TLS handshake succeeded, that is after the
/// server's client-certificate verifier accepted it: holding one means "this peer proved it owns this certificate". Cheap to clone (one
/// chain per connection, shared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCertificates(std::sync::Arc<[rustls::pki_types::CertificateDer<'static>]>);

impl PeerCertificates {
    /// Wraps a verified chain; `None` if it is empty.
    pub fn new(chain: Vec<rustls::pki_types::CertificateDer<'static>>) -> Option<Self> {
        (!chain.is_empty()).then(|| PeerCertificates(chain.into()))
    }

    /// The peer's own (end-entity) certificate.
    pub fn end_entity(&self) -> &rustls::pki_types::CertificateDer<'static> {
        // Never empty: `new` refuses an empty chain.
        &self.0[0]
    }

    /// Whether `other` is this very chain (the same connection's), not merely an equal one.
    pub(crate) fn same_chain(&self, other: &PeerCertificates) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }

    /// The whole chain as presented, end-entity certificate first.
    pub fn chain(&self) -> &[rustls::pki_types::CertificateDer<'static>] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_certificate_identity_slot_keeps_the_first_providers_value_by_type() {
        let conn = Connection::new(PeerAddr::Memory);
        assert_eq!(conn.certificate_identity::<String>(1), None);
        assert!(conn.keep_certificate_identity(1, "first".to_owned()));
        // Kept again by the same provider: still its own (the first value stays).
        assert!(conn.keep_certificate_identity(1, "again".to_owned()));
        assert_eq!(
            conn.certificate_identity::<String>(1).map(String::as_str),
            Some("first")
        );
        // Another provider finds the place taken; asked for another type, nothing.
        assert!(!conn.keep_certificate_identity(2, "second".to_owned()));
        assert_eq!(conn.certificate_identity::<String>(2), None);
        assert_eq!(conn.certificate_identity::<u32>(1), None);
        assert!(!conn.keep_certificate_identity(1, 7u32));
    }
}
