//! Pure wire logic, no I/O: codes and errors, envelopes, codecs, compression, timeouts, and
//! the framing of Connect, gRPC and gRPC-Web. Everything here can be fuzzed.

pub(crate) mod any;
pub(crate) mod code;
pub(crate) mod codec;
pub(crate) mod compression;
pub(crate) mod detail_json;
pub(crate) mod framing;
pub(crate) mod json_types;
pub(crate) mod rpc_details;
pub(crate) mod status;
pub(crate) mod timeout;

// The wire codecs the fuzz targets drive (`fuzz/`): their entry points are `pub` in these
// crate-private modules and reach outside the crate only through [`fuzzing`], with the
// `fuzzing` feature.
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
pub(crate) mod connect;
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
pub(crate) mod envelope;
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
pub(crate) mod grpc;
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
pub(crate) mod grpc_web;

/// The wire decoders and encoders, for the fuzz targets only (feature `fuzzing`): not part
/// of the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use super::connect::{
        GetQuery, encode_get_query, end_stream_to_json, error_from_json, error_to_json,
        parse_end_stream, parse_get_query,
    };
    pub use super::envelope::{
        Envelope, EnvelopeDecoder, FLAG_TRAILERS, PREFIX_LEN, encode_envelope,
    };
    pub use super::grpc::{read_status, write_status};
    pub use super::grpc_web::{decode_trailers, encode_trailers};
}

pub use any::{Any, AnyError};
pub use code::Code;
pub use codec::{Codec, Message};
pub use compression::Encoding;
pub(crate) use framing::Framing;
pub use framing::{Protocol, StreamType};
pub use json_types::register_json_type;
pub use status::{ErrorDetail, Status};
