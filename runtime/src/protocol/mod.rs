//! Pure wire logic, no I/O: codes and errors, envelopes, codecs, compression, timeouts, and
//! the framing of Connect, gRPC and gRPC-Web. Everything here can be fuzzed.

pub mod code;
pub mod codec;
pub mod compression;
pub mod connect;
pub mod envelope;
pub mod framing;
pub mod grpc;
pub mod grpc_web;
pub mod status;
pub mod timeout;

pub use code::Code;
pub use codec::{Codec, Message};
pub use compression::Encoding;
pub use framing::{Framing, Protocol, StreamType};
pub use status::{ErrorDetail, Status};
