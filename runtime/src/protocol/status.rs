//! The one error type of the runtime: code, message, details, headers and trailers. Both sides and
//! every protocol use it; `connect.rs`, `grpc.rs` and `grpc_web.rs` put it on and take it
//! off the wire.

use std::fmt;

use base64::Engine as _;
use bytes::Bytes;
use http::HeaderMap;

use super::code::Code;

/// The type URL prefix of `google.protobuf.Any`.
pub(crate) const TYPE_URL_PREFIX: &str = "type.googleapis.com/";

/// One error detail: a protobuf message, by its fully-qualified type name and encoding.
#[derive(Clone, PartialEq, Eq)]
pub struct ErrorDetail {
    type_name: String,
    value: Bytes,
}

impl ErrorDetail {
    /// A detail from a type name (`google.rpc.RetryInfo`; a `type.googleapis.com/` prefix is
    /// removed) and the message's binary encoding.
    pub fn new(type_name: impl Into<String>, value: impl Into<Bytes>) -> Self {
        let mut type_name = type_name.into();
        if let Some(rest) = type_name.strip_prefix(TYPE_URL_PREFIX) {
            type_name = rest.to_owned();
        }
        ErrorDetail {
            type_name,
            value: value.into(),
        }
    }

    /// A detail holding `message`.
    pub fn from_message<M: prost::Message + prost::Name>(message: &M) -> Self {
        ErrorDetail::new(M::full_name(), message.encode_to_vec())
    }

    /// The fully-qualified protobuf type name of the detail.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }

    /// The binary protobuf encoding of the detail.
    pub fn value(&self) -> &Bytes {
        &self.value
    }

    /// Decodes the detail as `M`; `None` when the type differs or the bytes do not decode.
    pub fn decode<M: prost::Message + prost::Name + Default>(&self) -> Option<M> {
        if self.type_name != M::full_name() {
            return None;
        }
        M::decode(self.value.clone()).ok()
    }
}

impl fmt::Debug for ErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorDetail")
            .field("type_name", &self.type_name)
            .field("len", &self.value.len())
            .finish()
    }
}

/// An RPC error: a [`Code`], a message for developers, typed details, and the response
/// headers and trailers that travel with it.
///
/// A handler sets the headers and trailers of its error answer on the error it returns
/// ([`Status::headers_mut`], [`Status::trailers_mut`]); each protocol puts them where its
/// peers read them (Connect unary: headers, and trailers as `trailer-`-prefixed headers;
/// Connect streams: headers, and trailers in the end-of-stream message; gRPC and gRPC-Web:
/// headers, and trailers with the status). A client finds a failed call's response headers
/// and trailers on the error it receives.
///
/// ```
/// use connect_plugin::Status;
/// use http::HeaderValue;
///
/// let mut error = Status::not_found("no such key");
/// error.headers_mut().insert("x-request-id", HeaderValue::from_static("42"));
/// error.trailers_mut().insert("x-cache", HeaderValue::from_static("miss"));
/// assert_eq!(error.headers()["x-request-id"], "42");
/// assert_eq!(error.trailers()["x-cache"], "miss");
/// ```
///
/// One pointer wide: the parts live behind a box, so `Result<T, Status>` stays small on the
/// success path.
#[derive(Clone, thiserror::Error)]
#[error("{}: {}", .0.code, .0.message)]
pub struct Status(Box<Parts>);

#[derive(Clone)]
struct Parts {
    code: Code,
    message: String,
    details: Vec<ErrorDetail>,
    headers: HeaderMap,
    trailers: HeaderMap,
    /// Local knowledge, never sent: the request provably did not reach a handler.
    unprocessed: bool,
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Status")
            .field("code", &self.0.code)
            .field("message", &self.0.message)
            .field("details", &self.0.details)
            .finish()
    }
}

macro_rules! constructors {
    ($($name:ident => $code:ident),* $(,)?) => {
        $(
            #[doc = concat!("An error with code `", stringify!($name), "`.")]
            pub fn $name(message: impl Into<String>) -> Self {
                Status::new(Code::$code, message)
            }
        )*
    };
}

impl Status {
    /// An error with a code and a message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Status(Box::new(Parts {
            code,
            message: message.into(),
            details: Vec::new(),
            headers: HeaderMap::new(),
            trailers: HeaderMap::new(),
            unprocessed: false,
        }))
    }

    /// Marks the error as one the server provably never processed: the connection was
    /// refused or failed before the request went out, or the server refused the stream.
    /// Such a call may be retried whatever the method. Local knowledge, never on the wire.
    pub fn into_unprocessed(mut self) -> Self {
        self.0.unprocessed = true;
        self
    }

    /// Whether the request provably never reached a handler (see
    /// [`Status::into_unprocessed`]).
    pub fn is_unprocessed(&self) -> bool {
        self.0.unprocessed
    }

    constructors! {
        canceled => Canceled,
        unknown => Unknown,
        invalid_argument => InvalidArgument,
        deadline_exceeded => DeadlineExceeded,
        not_found => NotFound,
        already_exists => AlreadyExists,
        permission_denied => PermissionDenied,
        resource_exhausted => ResourceExhausted,
        failed_precondition => FailedPrecondition,
        aborted => Aborted,
        out_of_range => OutOfRange,
        unimplemented => Unimplemented,
        internal => Internal,
        unavailable => Unavailable,
        data_loss => DataLoss,
        unauthenticated => Unauthenticated,
    }

    /// Adds a detail.
    pub fn with_detail(mut self, detail: ErrorDetail) -> Self {
        self.0.details.push(detail);
        self
    }

    /// Adds a detail holding `message`.
    pub fn with_detail_message<M: prost::Message + prost::Name>(self, message: &M) -> Self {
        self.with_detail(ErrorDetail::from_message(message))
    }

    /// Replaces the response headers.
    pub fn with_headers(mut self, headers: HeaderMap) -> Self {
        self.0.headers = headers;
        self
    }

    /// Replaces the trailers.
    pub fn with_trailers(mut self, trailers: HeaderMap) -> Self {
        self.0.trailers = trailers;
        self
    }

    /// The code.
    pub fn code(&self) -> Code {
        self.0.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The details.
    pub fn details(&self) -> &[ErrorDetail] {
        &self.0.details
    }

    /// The first detail that decodes as `M`.
    pub fn find_detail<M: prost::Message + prost::Name + Default>(&self) -> Option<M> {
        self.0.details.iter().find_map(|d| d.decode())
    }

    /// The response headers that travel with the error: set by the handler that failed, or
    /// (on a client) received before the error.
    pub fn headers(&self) -> &HeaderMap {
        &self.0.headers
    }

    /// Mutable access to the response headers.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.0.headers
    }

    /// The trailers that travel with the error (on a client: those the call ended with).
    pub fn trailers(&self) -> &HeaderMap {
        &self.0.trailers
    }

    /// Mutable access to the trailers.
    pub fn trailers_mut(&mut self) -> &mut HeaderMap {
        &mut self.0.trailers
    }

    /// The `google.rpc.Status` binary encoding of this error (gRPC's
    /// `grpc-status-details-bin`).
    pub fn to_rpc_status_bytes(&self) -> Vec<u8> {
        use prost::Message as _;
        RpcStatus {
            code: self.0.code.as_i32(),
            message: self.0.message.clone(),
            details: self
                .0
                .details
                .iter()
                .map(|d| RpcAny {
                    type_url: format!("{TYPE_URL_PREFIX}{}", d.type_name),
                    value: d.value.clone(),
                })
                .collect(),
        }
        .encode_to_vec()
    }

    /// Decodes a `google.rpc.Status`. Returns `None` for garbage or an OK status.
    pub fn from_rpc_status_bytes(bytes: &[u8]) -> Option<Status> {
        use prost::Message as _;
        let st = RpcStatus::decode(bytes).ok()?;
        let code = Code::from_i32(st.code)?;
        let mut status = Status::new(code, st.message);
        status.0.details = st
            .details
            .into_iter()
            .map(|a| ErrorDetail::new(a.type_url, a.value))
            .collect();
        Some(status)
    }
}

impl From<std::io::Error> for Status {
    fn from(err: std::io::Error) -> Self {
        use std::io::ErrorKind::*;
        let code = match err.kind() {
            ConnectionRefused | ConnectionReset | ConnectionAborted | BrokenPipe | NotConnected
            | UnexpectedEof => Code::Unavailable,
            TimedOut => Code::DeadlineExceeded,
            _ => Code::Unknown,
        };
        Status::new(code, err.to_string())
    }
}

/// `google.rpc.Status`, for gRPC's binary details trailer.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<RpcAny>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcAny {
    #[prost(string, tag = "1")]
    type_url: String,
    #[prost(bytes = "bytes", tag = "2")]
    value: Bytes,
}

/// Standard base64 that accepts input with or without padding, as the Connect spec asks of
/// readers; writers omit the padding.
pub(crate) const BASE64_ANY_PAD: base64::engine::GeneralPurpose =
    base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_encode_padding(false)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );

/// URL-safe base64, padding optional (Connect GET `message` parameter).
pub(crate) const BASE64_URL_ANY_PAD: base64::engine::GeneralPurpose =
    base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_encode_padding(false)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );

/// Decodes base64 in either alphabet, padded or not.
pub(crate) fn decode_base64_lenient(s: &str) -> Option<Vec<u8>> {
    BASE64_ANY_PAD
        .decode(s)
        .or_else(|_| BASE64_URL_ANY_PAD.decode(s))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_status_round_trip() {
        let st = Status::not_found("missing").with_detail(ErrorDetail::new(
            "type.googleapis.com/echo.v1.EchoResponse",
            vec![10, 1, b'x'],
        ));
        assert_eq!(st.details()[0].type_name(), "echo.v1.EchoResponse");
        let back = Status::from_rpc_status_bytes(&st.to_rpc_status_bytes()).unwrap();
        assert_eq!(back.code(), Code::NotFound);
        assert_eq!(back.message(), "missing");
        assert_eq!(back.details(), st.details());
        assert!(Status::from_rpc_status_bytes(&[0xff, 0xff]).is_none());
    }

    #[test]
    fn lenient_base64() {
        assert_eq!(decode_base64_lenient("aGk").unwrap(), b"hi");
        assert_eq!(decode_base64_lenient("aGk=").unwrap(), b"hi");
        assert_eq!(decode_base64_lenient("-_8").unwrap(), vec![0xfb, 0xff]);
        assert!(decode_base64_lenient("!!").is_none());
    }
}
