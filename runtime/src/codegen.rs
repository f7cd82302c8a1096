//! Everything generated code touches, re-exported so a user's crate needs no other
//! dependency and versions cannot skew. Generated code names only `::connect_plugin::codegen`
//! (or the path given by the generator's `runtime=` option) and the message types.
//! Not meant for hand-written code.

pub use crate::plugin::{Plugin, PluginInfo};
pub use crate::protocol::json_types::register_json_type_as;
pub use crate::protocol::{Any, Code, Status, StreamType};
pub use crate::rpc::{
    Client, Idempotency, MethodDescriptor, Request, Response, Router, Streaming, bidi_streaming,
    client_streaming, server_streaming, unary,
};
pub use async_trait::async_trait;
pub use futures_util::future::BoxFuture;

/// `std::sync::Arc`.
pub type Arc<T> = std::sync::Arc<T>;
