//! The typed call layer that generated code targets: requests and responses with metadata,
//! message streams, handlers for the four method kinds, the router (a `tower::Service`),
//! the client with its call helpers, the interceptor chain on both sides, the
//! [`ClientTransport`] seam that decides where a client's call goes (HTTP by
//! [`HttpTransport`], a swap by [`TransportSwitch`]), and the caller's [`Identity`] that
//! server calls carry once an interceptor has verified it.

pub(crate) mod body;
pub(crate) mod call;
pub(crate) mod client;
pub(crate) mod forward;
pub(crate) mod handler;
pub(crate) mod http_transport;
pub(crate) mod identity;
pub(crate) mod interceptor;
pub(crate) mod message;
pub(crate) mod resolve;
pub(crate) mod router;
pub(crate) mod streaming;
pub(crate) mod trailers;
pub(crate) mod transport;

pub use body::{Body, BoxError, EncodeStream};
pub use call::{
    ClientCall, ClientInput, ClientOutput, ClientOutputBody, Idempotency, MethodDescriptor,
    ServerCall, ServerInput, ServerOutput, ServerOutputBody,
};
pub use client::{Client, ClientConfig};
pub use handler::{BoxStream, bidi_streaming, client_streaming, server_streaming, unary};
pub use http_transport::HttpTransport;
pub use identity::{Identity, IdentityExt};
pub use interceptor::{ClientNext, Handler, Interceptor, OwnedClientNext, ServerNext};
pub use message::{PeerAddr, PeerCertificates, Request, Response};
pub use resolve::{Resolve, Resolved};
pub use router::{
    DEFAULT_COMPRESS_MIN_BYTES, DEFAULT_MAX_RECEIVE_MESSAGE_SIZE, DEFAULT_MAX_SEND_MESSAGE_SIZE,
    RouteConflict, Router,
};
pub use streaming::{RawStreaming, Streaming};
pub use trailers::StreamTrailers;
pub use transport::{ClientTransport, TransportSwitch};
