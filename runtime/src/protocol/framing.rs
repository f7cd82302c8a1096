//! How one call is framed, negotiated once per call. This file is the only place that
//! branches on the wire protocol: the call layer asks a [`Framing`] for headers, frames and
//! endings, and never looks at the protocol itself.
//!
//! It is one idea kept whole on purpose (about 650 lines, the rest tests): negotiating a
//! request and framing its headers, messages and ending for each protocol are the same
//! three-way branch seen from both sides, and keeping every branch in one file is what
//! lets the rest of the crate stay protocol-blind.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};

use super::codec::Codec;
use super::compression::{ACCEPT_ENCODING as ACCEPTED, Encoding};
use super::envelope::{FLAG_END_STREAM, encode_envelope};
use super::status::Status;
use super::{connect, grpc, grpc_web, timeout};

/// A wire protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// The Connect protocol.
    Connect,
    /// gRPC over HTTP/2.
    Grpc,
    /// gRPC-Web (binary).
    GrpcWeb,
}

/// The shape of a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamType {
    /// One request, one response.
    Unary,
    /// A stream of requests, one response.
    ClientStreaming,
    /// One request, a stream of responses.
    ServerStreaming,
    /// Streams both ways.
    BidiStreaming,
}

impl StreamType {
    /// Whether the client sends a stream.
    pub const fn client_streams(self) -> bool {
        matches!(
            self,
            StreamType::ClientStreaming | StreamType::BidiStreaming
        )
    }

    /// Whether the server sends a stream.
    pub const fn server_streams(self) -> bool {
        matches!(
            self,
            StreamType::ServerStreaming | StreamType::BidiStreaming
        )
    }
}

/// The negotiated framing of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Framing {
    /// The wire protocol.
    pub protocol: Protocol,
    /// False only for Connect unary calls, whose bodies are bare messages.
    pub enveloped: bool,
    /// The message codec.
    pub codec: Codec,
    /// How request messages are compressed.
    pub request_encoding: Encoding,
    /// How response messages are compressed.
    pub response_encoding: Encoding,
}

/// Why a server refused a request before reaching the handler.
#[derive(Debug)]
pub(crate) enum Rejection {
    /// The content type is not one this method accepts: HTTP 415.
    UnsupportedMediaType,
    /// The HTTP method is not allowed: HTTP 405. `get_allowed` says whether GET would be.
    MethodNotAllowed {
        /// Whether GET is allowed for this method.
        get_allowed: bool,
    },
    /// An error to report in the negotiated protocol's own format.
    Status(Framing, Status),
}

/// What the server learnt from a request's headers.
#[derive(Debug)]
pub(crate) struct ServerRequest {
    /// How to read and write this call.
    pub framing: Framing,
    /// The caller's timeout, if any.
    pub timeout: Option<Duration>,
    /// For Connect GET: the message taken from the query (still compressed).
    pub get_message: Option<Bytes>,
}

fn header_str<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `ACCEPTED` as a header value.
const ACCEPTED_VALUE: HeaderValue = HeaderValue::from_static(ACCEPTED);

/// What a request's content type says, parsed once and without allocating: the protocol,
/// whether messages are enveloped, and the codec. `None` when no protocol claims it.
/// Equivalent to trying, in this order, [`grpc_web::codec`], [`grpc::codec`],
/// [`connect::stream_codec`] and [`connect::unary_codec`].
pub(crate) fn classify_content_type(content_type: &str) -> Option<(Protocol, bool, Codec)> {
    // Fast path: the exact values clients send.
    match content_type {
        "application/proto" => return Some((Protocol::Connect, false, Codec::Proto)),
        "application/grpc" | "application/grpc+proto" => {
            return Some((Protocol::Grpc, true, Codec::Proto));
        }
        "application/connect+proto" => return Some((Protocol::Connect, true, Codec::Proto)),
        "application/json" => return Some((Protocol::Connect, false, Codec::Json)),
        "application/grpc-web+proto" | "application/grpc-web" => {
            return Some((Protocol::GrpcWeb, true, Codec::Proto));
        }
        _ => {}
    }
    if let Some(c) = grpc_web::codec(content_type) {
        Some((Protocol::GrpcWeb, true, c))
    } else if let Some(c) = grpc::codec(content_type) {
        Some((Protocol::Grpc, true, c))
    } else if let Some(c) = connect::stream_codec(content_type) {
        Some((Protocol::Connect, true, c))
    } else {
        connect::unary_codec(content_type).map(|c| (Protocol::Connect, false, c))
    }
}

fn unsupported_encoding(name: &str) -> Status {
    Status::unimplemented(format!(
        "unsupported compression {name:?}: this server accepts gzip, identity"
    ))
}

/// Content types a server accepts for a method, for the `Accept-Post` header of a 415.
pub(crate) fn accepted_content_types(stream_type: StreamType) -> &'static str {
    if stream_type == StreamType::Unary {
        "application/proto, application/json, application/connect+proto, application/connect+json, application/grpc, application/grpc+proto, application/grpc+json, application/grpc-web, application/grpc-web+proto, application/grpc-web+json"
    } else {
        "application/connect+proto, application/connect+json, application/grpc, application/grpc+proto, application/grpc+json, application/grpc-web, application/grpc-web+proto, application/grpc-web+json"
    }
}

/// Server side: works out the protocol, codec, compression and timeout of a request.
pub(crate) fn negotiate_server(
    method: &Method,
    query: Option<&str>,
    headers: &HeaderMap,
    stream_type: StreamType,
    get_allowed: bool,
    max_message_size: usize,
) -> Result<ServerRequest, Rejection> {
    if method == Method::GET {
        if !(get_allowed && stream_type == StreamType::Unary) {
            return Err(Rejection::MethodNotAllowed { get_allowed: false });
        }
        let response_encoding =
            Encoding::negotiate(header_str(headers, &ACCEPT_ENCODING).unwrap_or(""));
        let placeholder = Framing {
            protocol: Protocol::Connect,
            enveloped: false,
            codec: Codec::Json,
            request_encoding: Encoding::Identity,
            response_encoding,
        };
        let q = connect::parse_get_query(query.unwrap_or(""), max_message_size)
            .map_err(|e| Rejection::Status(placeholder, e))?;
        let framing = Framing {
            codec: q.codec,
            request_encoding: q.encoding,
            ..placeholder
        };
        let timeout = header_str(headers, &connect::TIMEOUT_HEADER)
            .map(timeout::parse_connect_timeout)
            .transpose()
            .map_err(|e| Rejection::Status(framing, e))?;
        return Ok(ServerRequest {
            framing,
            timeout,
            get_message: Some(q.message),
        });
    }
    if method != Method::POST {
        return Err(Rejection::MethodNotAllowed { get_allowed });
    }
    let content_type = header_str(headers, &CONTENT_TYPE).unwrap_or("");
    let Some((protocol, enveloped, codec)) = classify_content_type(content_type) else {
        return Err(Rejection::UnsupportedMediaType);
    };
    if protocol == Protocol::Connect && enveloped == (stream_type == StreamType::Unary) {
        // A Connect stream content type on a unary method, or the reverse.
        return Err(Rejection::UnsupportedMediaType);
    }
    let (enc_header, accept_header) = encoding_header_names(protocol, enveloped);
    let timeout_header = match protocol {
        Protocol::Connect => connect::TIMEOUT_HEADER,
        _ => grpc::TIMEOUT_HEADER,
    };
    let requested = header_str(headers, &enc_header).unwrap_or("identity");
    let request_encoding = Encoding::from_name(requested);
    let response_encoding = match request_encoding {
        Some(e) if e != Encoding::Identity => e,
        _ => Encoding::negotiate(header_str(headers, &accept_header).unwrap_or("")),
    };
    let mut framing = Framing {
        protocol,
        enveloped,
        codec,
        request_encoding: request_encoding.unwrap_or(Encoding::Identity),
        response_encoding,
    };
    let Some(_) = request_encoding else {
        framing.response_encoding = Encoding::Identity;
        return Err(Rejection::Status(framing, unsupported_encoding(requested)));
    };
    if protocol == Protocol::Connect {
        if let Some(v) = headers.get(&connect::PROTOCOL_VERSION_HEADER) {
            if v != connect::PROTOCOL_VERSION {
                return Err(Rejection::Status(
                    framing,
                    Status::invalid_argument(format!(
                        "unsupported Connect-Protocol-Version {v:?}: this server speaks 1"
                    )),
                ));
            }
        }
    }
    let timeout = header_str(headers, &timeout_header)
        .map(|v| match protocol {
            Protocol::Connect => timeout::parse_connect_timeout(v),
            _ => timeout::parse_grpc_timeout(v),
        })
        .transpose()
        .map_err(|e| Rejection::Status(framing, e))?;
    Ok(ServerRequest {
        framing,
        timeout,
        get_message: None,
    })
}

/// The names of the message-encoding and accepted-encodings headers.
fn encoding_header_names(protocol: Protocol, enveloped: bool) -> (HeaderName, HeaderName) {
    match (protocol, enveloped) {
        (Protocol::Connect, false) => (CONTENT_ENCODING, ACCEPT_ENCODING),
        (Protocol::Connect, true) => (
            connect::STREAM_ENCODING_HEADER,
            connect::STREAM_ACCEPT_ENCODING_HEADER,
        ),
        _ => (grpc::ENCODING_HEADER, grpc::ACCEPT_ENCODING_HEADER),
    }
}

/// How a response stream ends on the wire.
#[derive(Debug)]
pub(crate) enum End {
    /// A last frame in the body (Connect end-stream, gRPC-Web trailers).
    Frame(Bytes),
    /// HTTP trailers (gRPC).
    Trailers(HeaderMap),
}

/// The most headers a client request gets from [`Framing::write_request_headers`] and the
/// HTTP/2 client: content type, content encoding, accepted encodings, protocol version or
/// `te`, timeout, content length.
pub(crate) const REQUEST_HEADERS: usize = 6;

impl Framing {
    /// The response content type.
    pub(crate) fn response_content_type(&self) -> HeaderValue {
        match (self.protocol, self.enveloped) {
            (Protocol::Connect, false) => connect::unary_content_type(self.codec),
            (Protocol::Connect, true) => connect::stream_content_type(self.codec),
            (Protocol::Grpc, _) => grpc::content_type(self.codec),
            (Protocol::GrpcWeb, _) => grpc_web::content_type(self.codec),
        }
    }

    /// The request content type (client side).
    pub(crate) fn request_content_type(&self) -> HeaderValue {
        self.response_content_type()
    }

    fn encoding_header_names(&self) -> (HeaderName, HeaderName) {
        encoding_header_names(self.protocol, self.enveloped)
    }

    /// Server side: the headers of a successful (or streaming) response. For Connect unary,
    /// `compressed` says whether the body is compressed (small bodies are sent as is).
    pub(crate) fn write_response_headers(&self, headers: &mut HeaderMap, compressed: bool) {
        headers.insert(CONTENT_TYPE, self.response_content_type());
        let (enc, accept) = self.encoding_header_names();
        let enc_value = if self.enveloped || compressed {
            self.response_encoding
        } else {
            Encoding::Identity
        };
        if enc_value != Encoding::Identity {
            headers.insert(enc, enc_value.header_value());
        }
        headers.insert(accept, ACCEPTED_VALUE);
    }

    /// Server side: how a response stream ends, with `error` or successfully (the trailers
    /// taken by value, which saves copying them).
    ///
    /// The headers have been sent by then, so the headers of an `error` travel with its
    /// trailers.
    pub(crate) fn encode_end_owned(&self, error: Option<&Status>, mut trailers: HeaderMap) -> End {
        if let Some(e) = error {
            append_metadata(&mut trailers, e.headers());
        }
        match self.protocol {
            Protocol::Connect => End::Frame(connect_end_frame(error, &trailers)),
            Protocol::Grpc => {
                grpc::write_status(error, &mut trailers);
                End::Trailers(trailers)
            }
            Protocol::GrpcWeb => {
                grpc::write_status(error, &mut trailers);
                let mut buf = BytesMut::new();
                grpc_web::encode_trailers(&trailers, &mut buf);
                End::Frame(buf.freeze())
            }
        }
    }

    /// Server side: a complete response for an error raised before any message was sent:
    /// status line, headers, and how the body ends (Connect unary error, Connect stream
    /// with only an end-stream message, gRPC and gRPC-Web trailers-only, or — when the
    /// error carries headers of its own, which trailers-only would mix with its trailers —
    /// headers, no message, then the trailers).
    pub(crate) fn error_response(&self, error: &Status) -> (StatusCode, HeaderMap, End) {
        let mut headers = HeaderMap::new();
        append_metadata(&mut headers, error.headers());
        match (self.protocol, self.enveloped) {
            (Protocol::Connect, false) => {
                join_unary_trailers(&mut headers, error.trailers());
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                headers.insert(ACCEPT_ENCODING, ACCEPTED_VALUE);
                let status = StatusCode::from_u16(error.code().http_status())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (status, headers, End::Frame(connect::error_to_json(error)))
            }
            (Protocol::Connect, true) => {
                self.write_response_headers(&mut headers, false);
                (
                    StatusCode::OK,
                    headers,
                    End::Frame(connect_end_frame(Some(error), &HeaderMap::new())),
                )
            }
            (Protocol::Grpc | Protocol::GrpcWeb, _) => {
                headers.insert(CONTENT_TYPE, self.response_content_type());
                headers.insert(grpc::ACCEPT_ENCODING_HEADER, ACCEPTED_VALUE);
                if error.headers().is_empty() {
                    grpc::write_status(Some(error), &mut headers);
                    return (StatusCode::OK, headers, End::Frame(Bytes::new()));
                }
                let mut trailers = HeaderMap::new();
                grpc::write_status(Some(error), &mut trailers);
                let end = match self.protocol {
                    Protocol::Grpc => End::Trailers(trailers),
                    _ => {
                        let mut buf = BytesMut::new();
                        grpc_web::encode_trailers(&trailers, &mut buf);
                        End::Frame(buf.freeze())
                    }
                };
                (StatusCode::OK, headers, end)
            }
        }
    }

    /// Client side: the framing a client uses for a call.
    pub(crate) fn for_client(
        protocol: Protocol,
        stream_type: StreamType,
        codec: Codec,
        send_encoding: Encoding,
    ) -> Framing {
        Framing {
            protocol,
            enveloped: !(protocol == Protocol::Connect && stream_type == StreamType::Unary),
            codec,
            request_encoding: send_encoding,
            response_encoding: Encoding::Identity,
        }
    }

    /// Client side: request headers. `body_compressed` is for Connect unary, whose body is
    /// compressed only above the size threshold.
    pub(crate) fn write_request_headers(
        &self,
        headers: &mut HeaderMap,
        timeout: Option<Duration>,
        body_compressed: bool,
    ) {
        // Room for every header below and the content-length the HTTP/2 client adds, so
        // that the map grows at most once.
        headers.reserve(REQUEST_HEADERS);
        headers.insert(CONTENT_TYPE, self.request_content_type());
        let (enc, accept) = self.encoding_header_names();
        let send = if self.enveloped || body_compressed {
            self.request_encoding
        } else {
            Encoding::Identity
        };
        if send != Encoding::Identity {
            headers.insert(enc, send.header_value());
        }
        headers.insert(accept, ACCEPTED_VALUE);
        match self.protocol {
            Protocol::Connect => {
                const VERSION: HeaderValue = HeaderValue::from_static(connect::PROTOCOL_VERSION);
                headers.insert(connect::PROTOCOL_VERSION_HEADER, VERSION);
                if let Some(t) = timeout {
                    if let Ok(v) = HeaderValue::from_str(&timeout::encode_connect_timeout(t)) {
                        headers.insert(connect::TIMEOUT_HEADER, v);
                    }
                }
            }
            Protocol::Grpc | Protocol::GrpcWeb => {
                if self.protocol == Protocol::Grpc {
                    const TRAILERS: HeaderValue = HeaderValue::from_static("trailers");
                    headers.insert(http::header::TE, TRAILERS);
                }
                if let Some(t) = timeout {
                    if let Ok(v) = HeaderValue::from_str(&timeout::encode_grpc_timeout(t)) {
                        headers.insert(grpc::TIMEOUT_HEADER, v);
                    }
                }
            }
        }
    }

    /// Client side: checks a response's status line and headers. On success returns the
    /// response message encoding; on failure the error (for Connect unary non-200 answers
    /// the body must still be read: see [`Framing::needs_error_body`]).
    ///
    /// A status other than 200 gives the code it implies. So does (as gRPC and Connect
    /// clients do) a content type of another protocol or none at all: the response is not
    /// an answer in this protocol, and 200 implies `unknown`. This protocol's content type
    /// with another codec is `internal`. A `grpc-status` in the headers is left to the
    /// reader of the body: it is the status only if neither body nor trailers follow
    /// (trailers-only, see [`Framing::trailers_only`]).
    pub(crate) fn check_response(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> Result<Encoding, Status> {
        if status != StatusCode::OK {
            return Err(Status::new(
                super::Code::from_http_status(status.as_u16()),
                format!("HTTP status {status}"),
            ));
        }
        // Fast path: exactly the content type this framing sends (and so expects back).
        if headers.get(&CONTENT_TYPE) != Some(&self.response_content_type()) {
            let ct = header_str(headers, &CONTENT_TYPE).unwrap_or("");
            let codec = match (self.protocol, self.enveloped) {
                (Protocol::Connect, false) => connect::unary_codec(ct),
                (Protocol::Connect, true) => connect::stream_codec(ct),
                (Protocol::Grpc, _) => grpc::codec(ct),
                (Protocol::GrpcWeb, _) => grpc_web::codec(ct),
            };
            match codec {
                Some(codec) if codec == self.codec => {}
                Some(codec) => {
                    return Err(Status::internal(format!(
                        "the response is encoded with {}, the call with {}",
                        codec.name(),
                        self.codec.name()
                    )));
                }
                None => {
                    return Err(Status::new(
                        super::Code::from_http_status(status.as_u16()),
                        format!("unexpected response content type {ct:?}"),
                    ));
                }
            }
        }
        let (enc, _) = self.encoding_header_names();
        let Some(value) = headers.get(&enc) else {
            return Ok(Encoding::Identity);
        };
        let name = value.to_str().unwrap_or("identity");
        Encoding::from_name(name).ok_or_else(|| {
            Status::internal(format!("response uses unsupported compression {name:?}"))
        })
    }

    /// Client side: the end of a gRPC or gRPC-Web response that had neither body nor
    /// trailers, read from its headers (trailers-only): the error, if any, and the
    /// trailers, which are the headers' metadata (as grpc-go reports them). `None` when the
    /// headers carry no `grpc-status` (and for Connect, which has no such form).
    pub(crate) fn trailers_only(
        &self,
        headers: &HeaderMap,
    ) -> Option<Result<(Option<Status>, HeaderMap), Status>> {
        if self.protocol == Protocol::Connect || !headers.contains_key(&grpc::STATUS_HEADER) {
            return None;
        }
        let mut trailers = headers.clone();
        for name in [
            CONTENT_TYPE,
            http::header::CONTENT_LENGTH,
            grpc::ENCODING_HEADER,
            grpc::ACCEPT_ENCODING_HEADER,
        ] {
            trailers.remove(name);
        }
        Some(grpc::read_status(&trailers).map(|error| {
            for name in [
                grpc::STATUS_HEADER,
                grpc::MESSAGE_HEADER,
                grpc::DETAILS_HEADER,
            ] {
                trailers.remove(name);
            }
            (error, trailers)
        }))
    }

    /// Client side: whether a non-200 response carries an error body worth reading
    /// (Connect unary errors are JSON bodies).
    pub(crate) fn needs_error_body(&self) -> bool {
        self.protocol == Protocol::Connect && !self.enveloped
    }

    /// Client side: whether a stream's end arrives as a frame flagged `flags`.
    pub(crate) fn is_end_frame(&self, flags: u8) -> bool {
        match self.protocol {
            Protocol::Connect => flags & FLAG_END_STREAM != 0,
            Protocol::GrpcWeb => flags & super::envelope::FLAG_TRAILERS != 0,
            Protocol::Grpc => false,
        }
    }

    /// Client side: decodes an end frame into (error, trailers).
    pub(crate) fn decode_end_frame(
        &self,
        payload: &Bytes,
    ) -> Result<(Option<Status>, HeaderMap), Status> {
        match self.protocol {
            Protocol::Connect => connect::parse_end_stream(payload),
            _ => {
                let mut t = grpc_web::decode_trailers(payload)?;
                let st = grpc::read_status(&t)?;
                grpc::strip_status(&mut t);
                Ok((st, t))
            }
        }
    }

    /// Client side: reads the final status from HTTP trailers (gRPC), without copying them.
    pub(crate) fn trailers_status(&self, trailers: &HeaderMap) -> Result<Option<Status>, Status> {
        grpc::read_status(trailers)
    }

    /// Whether the stream's end is signalled by HTTP trailers.
    pub(crate) fn ends_with_http_trailers(&self) -> bool {
        self.protocol == Protocol::Grpc
    }
}

/// The Connect end-stream frame: the error (with its trailers) and the trailers.
fn connect_end_frame(error: Option<&Status>, trailers: &HeaderMap) -> Bytes {
    let mut merged = trailers.clone();
    if let Some(e) = error {
        append_metadata(&mut merged, e.trailers());
    }
    let json = connect::end_stream_to_json(error, &merged);
    let mut buf = BytesMut::with_capacity(json.len() + 5);
    encode_envelope(FLAG_END_STREAM, &json, &mut buf);
    buf.freeze()
}

/// Headers the protocol writes itself, which metadata set by an application may not
/// override.
const PROTOCOL_HEADERS: [HeaderName; 9] = [
    CONTENT_TYPE,
    CONTENT_ENCODING,
    http::header::CONTENT_LENGTH,
    connect::STREAM_ENCODING_HEADER,
    connect::STREAM_ACCEPT_ENCODING_HEADER,
    grpc::ENCODING_HEADER,
    grpc::STATUS_HEADER,
    grpc::MESSAGE_HEADER,
    grpc::DETAILS_HEADER,
];

/// Appends application metadata (an error's headers or trailers) to `dst`, leaving out the
/// headers the protocol owns.
pub(crate) fn append_metadata(dst: &mut HeaderMap, src: &HeaderMap) {
    for (k, v) in src {
        if !PROTOCOL_HEADERS.contains(k) {
            dst.append(k.clone(), v.clone());
        }
    }
}

/// Moves `trailer-`-prefixed headers of a Connect unary response into trailers.
pub(crate) fn split_unary_trailers(headers: &mut HeaderMap) -> HeaderMap {
    let mut trailers = HeaderMap::new();
    let names: Vec<HeaderName> = headers
        .keys()
        .filter(|k| k.as_str().starts_with(connect::TRAILER_PREFIX))
        .cloned()
        .collect();
    for name in names {
        let Ok(stripped) =
            HeaderName::from_bytes(&name.as_str().as_bytes()[connect::TRAILER_PREFIX.len()..])
        else {
            continue;
        };
        for v in headers.get_all(&name) {
            trailers.append(stripped.clone(), v.clone());
        }
        headers.remove(&name);
    }
    trailers
}

/// Adds trailers to Connect unary response headers under the `trailer-` prefix.
pub(crate) fn join_unary_trailers(headers: &mut HeaderMap, trailers: &HeaderMap) {
    for (k, v) in trailers {
        if let Ok(name) =
            HeaderName::from_bytes(format!("{}{}", connect::TRAILER_PREFIX, k).as_bytes())
        {
            headers.append(name, v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Code;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, HeaderValue::from_static(v));
        }
        m
    }

    #[test]
    fn negotiates_each_protocol() {
        let r = negotiate_server(
            &Method::POST,
            None,
            &h(&[
                ("content-type", "application/grpc-web+json"),
                ("grpc-timeout", "5S"),
            ]),
            StreamType::Unary,
            false,
            10,
        )
        .unwrap();
        assert_eq!(r.framing.protocol, Protocol::GrpcWeb);
        assert_eq!(r.framing.codec, Codec::Json);
        assert_eq!(r.timeout, Some(Duration::from_secs(5)));
        let r = negotiate_server(
            &Method::POST,
            None,
            &h(&[
                ("content-type", "application/proto"),
                ("accept-encoding", "gzip"),
            ]),
            StreamType::Unary,
            false,
            10,
        )
        .unwrap();
        assert!(!r.framing.enveloped);
        assert_eq!(r.framing.response_encoding, Encoding::Gzip);
        assert!(matches!(
            negotiate_server(
                &Method::POST,
                None,
                &h(&[("content-type", "application/proto")]),
                StreamType::ServerStreaming,
                false,
                10
            ),
            Err(Rejection::UnsupportedMediaType)
        ));
        assert!(matches!(
            negotiate_server(
                &Method::POST,
                None,
                &h(&[("content-type", "text/plain")]),
                StreamType::Unary,
                false,
                10
            ),
            Err(Rejection::UnsupportedMediaType)
        ));
        assert!(matches!(
            negotiate_server(
                &Method::GET,
                Some("encoding=json&message=%7B%7D"),
                &HeaderMap::new(),
                StreamType::Unary,
                false,
                10
            ),
            Err(Rejection::MethodNotAllowed { .. })
        ));
        let r = negotiate_server(
            &Method::GET,
            Some("encoding=json&message=%7B%7D"),
            &HeaderMap::new(),
            StreamType::Unary,
            true,
            10,
        )
        .unwrap();
        assert_eq!(&r.get_message.unwrap()[..], b"{}");
        match negotiate_server(
            &Method::POST,
            None,
            &h(&[
                ("content-type", "application/connect+proto"),
                ("connect-content-encoding", "br"),
            ]),
            StreamType::BidiStreaming,
            false,
            10,
        ) {
            Err(Rejection::Status(f, e)) => {
                assert_eq!(e.code(), Code::Unimplemented);
                assert_eq!(f.protocol, Protocol::Connect);
            }
            other => panic!("{other:?}"),
        }
        match negotiate_server(
            &Method::POST,
            None,
            &h(&[
                ("content-type", "application/grpc"),
                ("grpc-timeout", "soon"),
            ]),
            StreamType::Unary,
            false,
            10,
        ) {
            Err(Rejection::Status(_, e)) => assert_eq!(e.code(), Code::InvalidArgument),
            other => panic!("{other:?}"),
        }
    }

    /// The old negotiation order, one protocol at a time.
    fn classify_slowly(ct: &str) -> Option<(Protocol, bool, Codec)> {
        if let Some(c) = grpc_web::codec(ct) {
            Some((Protocol::GrpcWeb, true, c))
        } else if let Some(c) = grpc::codec(ct) {
            Some((Protocol::Grpc, true, c))
        } else if let Some(c) = connect::stream_codec(ct) {
            Some((Protocol::Connect, true, c))
        } else {
            connect::unary_codec(ct).map(|c| (Protocol::Connect, false, c))
        }
    }

    #[test]
    fn content_type_classification() {
        for ct in [
            "application/proto",
            "application/json",
            "application/json; charset=utf-8",
            "application/json;charset=latin1",
            "application/grpc",
            "application/grpc+proto",
            "application/grpc+json",
            "application/grpc-web",
            "application/grpc-web+proto",
            "application/grpc-web+json",
            "application/grpc-web-text",
            "application/connect+proto",
            "application/connect+json",
            "application/connect+xml",
            "APPLICATION/GRPC-WEB+PROTO",
            " application/Proto ; x=y",
            "application/",
            "text/plain",
            "",
            "é",
        ] {
            assert_eq!(classify_content_type(ct), classify_slowly(ct), "{ct:?}");
        }
        assert_eq!(
            classify_content_type("application/grpc-web"),
            Some((Protocol::GrpcWeb, true, Codec::Proto))
        );
        assert_eq!(classify_content_type("application/xml"), None);
    }

    proptest::proptest! {
        #[test]
        fn classification_matches_the_protocols_one_by_one(
            base in proptest::sample::select(vec![
                "application/", "application/connect+", "application/grpc", "application/grpc-web",
                "Application/GRPC", "APPLICATION/CONNECT+", " application/", "",
            ]),
            sub in proptest::sample::select(vec!["proto", "json", "JSON", "+proto", "+json", "", "xml", "+", "é"]),
            params in "(;[ a-zA-Z=\"8-]{0,16}){0,2}",
        ) {
            let ct = format!("{base}{sub}{params}");
            proptest::prop_assert_eq!(classify_content_type(&ct), classify_slowly(&ct));
        }
    }

    #[test]
    fn unary_trailers_travel_as_prefixed_headers() {
        let mut headers = HeaderMap::new();
        join_unary_trailers(&mut headers, &h(&[("x-t", "1")]));
        assert_eq!(headers.get("trailer-x-t").unwrap(), "1");
        let t = split_unary_trailers(&mut headers);
        assert!(headers.is_empty());
        assert_eq!(t.get("x-t").unwrap(), "1");
    }
}
