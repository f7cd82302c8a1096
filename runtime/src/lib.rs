//! connect-plugin: a remote-first plugin system for Rust over the Connect protocol, also
//! speaking gRPC and gRPC-Web.
//!
//! Layers, lowest first: [`protocol`] (pure wire logic), [`transport`] (HTTP servers and
//! clients over TCP, TLS, Unix sockets and in-memory links) and [`rpc`] (typed calls,
//! routing and interceptors — the API generated code targets).
#![warn(missing_docs)]

pub mod codegen;
pub mod plugin;
pub mod protocol;

pub use protocol::{Code, Codec, Encoding, ErrorDetail, Protocol, Status, StreamType};
pub mod rpc;
pub mod transport;

pub use async_trait::async_trait;
pub use plugin::{Plugin, PluginSet};
pub use rpc::{Client, ClientConfig, Request, Response, Router, Streaming};
pub use transport::{Channel, Server};
