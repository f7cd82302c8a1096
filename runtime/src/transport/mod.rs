//! HTTP transports: the server (hyper; HTTP/1.1 and h2c on one port, TLS, Unix sockets,
//! in-memory links, graceful shutdown, per-connection limits) and the client channel (HTTP/2 prior knowledge or a
//! pooled HTTP/1.1, over the same links).

pub(crate) mod body;
pub(crate) mod client;
mod conn;
mod drain;
pub(crate) mod io;
pub(crate) mod limits;
pub(crate) mod memory;
pub(crate) mod server;

pub use body::{Body, BoxError, Connection, HttpHandler, PeerAddr, PeerCertificates};
pub use client::{Channel, ChannelBuilder, HttpVersion, InvalidEndpoint};
pub use limits::{InvalidLimit, ServerLimits};
pub use memory::{MemoryConnector, MemoryListener, memory_link};
pub use server::{ListenAddr, Listener, RunningServer, Server, ShutdownHandle};
