//! The Connect protocol: unary (bare body, or GET with the message in the query), streaming
//! (envelopes closed by an end-stream message), and its JSON error format.

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};

use super::code::Code;
use super::codec::Codec;
use super::compression::Encoding;
use super::status::{BASE64_ANY_PAD, ErrorDetail, Status, decode_base64_lenient};

// Header names are `HeaderName` constants (`from_static` is `const`), so map look-ups hash
// them directly instead of parsing a `&str` on every call.

/// `Connect-Protocol-Version` header.
pub(crate) const PROTOCOL_VERSION_HEADER: HeaderName =
    HeaderName::from_static("connect-protocol-version");
/// The protocol version this runtime speaks.
pub(crate) const PROTOCOL_VERSION: &str = "1";
/// `Connect-Timeout-Ms` header.
pub(crate) const TIMEOUT_HEADER: HeaderName = HeaderName::from_static("connect-timeout-ms");
/// Streaming: the message encoding header.
pub(crate) const STREAM_ENCODING_HEADER: HeaderName =
    HeaderName::from_static("connect-content-encoding");
/// Streaming: the accepted message encodings header.
pub(crate) const STREAM_ACCEPT_ENCODING_HEADER: HeaderName =
    HeaderName::from_static("connect-accept-encoding");
/// Prefix under which unary responses carry trailers as headers.
pub(crate) const TRAILER_PREFIX: &str = "trailer-";

/// The codec of a unary content type (`application/proto`, `application/json`, the latter
/// with an optional `charset=utf-8`).
pub(crate) fn unary_codec(content_type: &str) -> Option<Codec> {
    let (base, params) = split_params(content_type);
    let sub = strip_prefix_ignore_case(base, "application/")?;
    let codec = Codec::from_name(sub)?;
    if codec == Codec::Json && !charset_ok(params) {
        return None;
    }
    Some(codec)
}

/// The codec of a streaming content type (`application/connect+proto|json`).
pub(crate) fn stream_codec(content_type: &str) -> Option<Codec> {
    let (base, _) = split_params(content_type);
    Codec::from_name(strip_prefix_ignore_case(base, "application/connect+")?)
}

/// The content type of a unary message.
pub(crate) fn unary_content_type(codec: Codec) -> HeaderValue {
    const PROTO: HeaderValue = HeaderValue::from_static("application/proto");
    const JSON: HeaderValue = HeaderValue::from_static("application/json");
    match codec {
        Codec::Proto => PROTO,
        Codec::Json => JSON,
    }
}

/// The content type of a stream.
pub(crate) fn stream_content_type(codec: Codec) -> HeaderValue {
    const PROTO: HeaderValue = HeaderValue::from_static("application/connect+proto");
    const JSON: HeaderValue = HeaderValue::from_static("application/connect+json");
    match codec {
        Codec::Proto => PROTO,
        Codec::Json => JSON,
    }
}

/// Splits a content type into its trimmed base (case preserved: compare it with
/// [`strip_prefix_ignore_case`]) and its parameters. Allocation-free.
pub(crate) fn split_params(content_type: &str) -> (&str, &str) {
    let (base, params) = content_type.split_once(';').unwrap_or((content_type, ""));
    (base.trim(), params)
}

/// `s` without `prefix`, comparing ASCII case-insensitively.
pub(crate) fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let n = prefix.len();
    let head = s.as_bytes().get(..n)?;
    if head.eq_ignore_ascii_case(prefix.as_bytes()) {
        // The matched bytes are ASCII (the prefix is), so `n` is a char boundary.
        s.get(n..)
    } else {
        None
    }
}

fn charset_ok(params: &str) -> bool {
    params.split(';').all(|p| {
        let p = p.trim();
        match p.split_once('=') {
            Some((k, v)) if k.trim().eq_ignore_ascii_case("charset") => {
                v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
            }
            _ => true,
        }
    })
}

/// A Connect error as written.
#[derive(Serialize)]
struct WireError<'a> {
    code: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    message: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    details: Vec<WireDetail<'a>>,
}

/// An error detail as written: its type, its bytes, and (for types this runtime knows) the
/// message as JSON under `debug`, as connect-go writes it.
#[derive(Serialize)]
struct WireDetail<'a> {
    #[serde(rename = "type")]
    type_name: &'a str,
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    debug: Option<serde_json::Value>,
}

/// A Connect error as read: every field optional, and `null` taken as absent, so that a
/// peer's error with a missing or unknown code still gives its message. Unknown fields
/// (`debug` among them) are ignored.
#[derive(Deserialize)]
struct ReadError {
    #[serde(default)]
    code: Option<serde_json::Value>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    details: Option<Vec<ReadDetail>>,
}

#[derive(Deserialize)]
struct ReadDetail {
    #[serde(default, rename = "type")]
    type_name: String,
    #[serde(default)]
    value: String,
}

#[derive(Serialize)]
struct WireEndStream<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<WireError<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct ReadEndStream {
    #[serde(default)]
    error: Option<ReadError>,
    #[serde(default)]
    metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

fn to_wire(status: &Status) -> WireError<'_> {
    WireError {
        code: status.code().as_str(),
        message: status.message(),
        details: status
            .details()
            .iter()
            .map(|d| WireDetail {
                type_name: d.type_name(),
                value: BASE64_ANY_PAD.encode(d.value()),
                debug: super::detail_json::debug_json(d.type_name(), d.value()),
            })
            .collect(),
    }
}

/// The status a read error stands for. A missing, `null` or unrecognized code gives
/// `fallback` (the code the HTTP status implies, or `unknown`); the message is kept either
/// way. `None` when the error says nothing at all (neither a valid code nor a message).
fn from_wire(w: ReadError, fallback: Code) -> Option<Status> {
    let code = w
        .code
        .as_ref()
        .and_then(serde_json::Value::as_str)
        .and_then(|c| c.parse::<Code>().ok());
    let message = w.message.unwrap_or_default();
    if code.is_none() && message.is_empty() {
        return None;
    }
    let mut st = Status::new(code.unwrap_or(fallback), message);
    for d in w.details.unwrap_or_default() {
        // A detail whose bytes do not decode is dropped rather than failing the error.
        if let Some(v) = decode_base64_lenient(&d.value).filter(|_| !d.type_name.is_empty()) {
            st = st.with_detail(ErrorDetail::new(d.type_name, v));
        }
    }
    Some(st)
}

/// The JSON body of a unary error response.
pub fn error_to_json(status: &Status) -> Bytes {
    // Serializing plain strings and JSON values into a Vec cannot fail.
    Bytes::from(serde_json::to_vec(&to_wire(status)).unwrap_or_default())
}

/// Reads a unary error response body. The code the HTTP status implies stands in for a
/// missing, `null` or unrecognized `code`, and for a body that is not a Connect error at
/// all (a proxy's HTML page, say); a message in the body is kept.
pub fn error_from_json(body: &[u8], http_status: u16) -> Status {
    let fallback = Code::from_http_status(http_status);
    serde_json::from_slice::<Option<ReadError>>(body)
        .ok()
        .flatten()
        .and_then(|w| from_wire(w, fallback))
        .unwrap_or_else(|| {
            let reason = http::StatusCode::from_u16(http_status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("");
            Status::new(
                fallback,
                format!("HTTP status {http_status} {reason}")
                    .trim_end()
                    .to_owned(),
            )
        })
}

/// The JSON payload of the end-stream message.
pub fn end_stream_to_json(error: Option<&Status>, trailers: &HeaderMap) -> Bytes {
    let mut metadata = serde_json::Map::new();
    for key in trailers.keys() {
        let values: Vec<serde_json::Value> = trailers
            .get_all(key)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| serde_json::Value::String(v.to_owned()))
            .collect();
        metadata.insert(key.as_str().to_owned(), serde_json::Value::Array(values));
    }
    let end = WireEndStream {
        error: error.map(to_wire),
        metadata: (!metadata.is_empty()).then_some(metadata),
    };
    Bytes::from(serde_json::to_vec(&end).unwrap_or_default())
}

/// Parses the end-stream message: the error, if any, and the trailers. An `"error": null`
/// is no error; an error without a valid code is `unknown` (the response's HTTP status, 200,
/// implies nothing more), keeping its message.
pub fn parse_end_stream(payload: &[u8]) -> Result<(Option<Status>, HeaderMap), Status> {
    let end: ReadEndStream = serde_json::from_slice(payload)
        .map_err(|e| Status::internal(format!("invalid end-stream message: {e}")))?;
    let mut trailers = HeaderMap::new();
    for (k, v) in end.metadata.unwrap_or_default() {
        let Ok(name) = HeaderName::from_bytes(k.as_bytes()) else {
            continue;
        };
        let serde_json::Value::Array(values) = v else {
            return Err(Status::internal("invalid end-stream metadata"));
        };
        for v in values {
            if let Some(value) = v.as_str().and_then(|s| HeaderValue::from_str(s).ok()) {
                trailers.append(name.clone(), value);
            }
        }
    }
    let error = end.error.map(|w| {
        from_wire(w, Code::Unknown).unwrap_or_else(|| {
            Status::unknown("end-stream message carries an error without a valid code")
        })
    });
    Ok((error.map(|e| e.with_trailers(trailers.clone())), trailers))
}

/// A unary call's request as carried by a Connect GET URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetQuery {
    /// From `encoding`.
    pub codec: Codec,
    /// From `compression` (identity when absent).
    pub encoding: Encoding,
    /// The message bytes, still compressed if `encoding` says so.
    pub message: Bytes,
}

/// Parses the query string of a Connect GET request. Unknown parameters are ignored.
pub fn parse_get_query(query: &str, max_message_size: usize) -> Result<GetQuery, Status> {
    let mut codec = None;
    let mut encoding = Encoding::Identity;
    let mut message: Option<Vec<u8>> = None;
    let mut base64 = false;
    let mut version = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if v.len() > max_message_size.saturating_mul(4).saturating_add(16) {
            return Err(super::compression::too_large(v.len(), max_message_size));
        }
        let value = form_decode(v)?;
        match k {
            "encoding" => {
                let name = String::from_utf8_lossy(&value);
                codec = Some(Codec::from_name(&name).ok_or_else(|| {
                    Status::unimplemented(format!("unsupported codec {name:?} in GET query"))
                })?);
            }
            "compression" => {
                let name = String::from_utf8_lossy(&value);
                encoding = Encoding::from_name(&name).ok_or_else(|| {
                    Status::unimplemented(format!(
                        "unsupported compression {name:?}: accepted are gzip, identity"
                    ))
                })?;
            }
            "base64" => base64 = value == b"1",
            "message" => message = Some(value),
            "connect" => version = Some(value),
            _ => {}
        }
    }
    if let Some(v) = version {
        if v != b"v1" {
            return Err(Status::invalid_argument(format!(
                "unsupported Connect protocol version {:?} in GET query",
                String::from_utf8_lossy(&v)
            )));
        }
    }
    let codec = codec.ok_or_else(|| Status::invalid_argument("GET query is missing `encoding`"))?;
    let raw = message.unwrap_or_default();
    let message = if base64 {
        let s = std::str::from_utf8(&raw)
            .map_err(|_| Status::invalid_argument("GET `message` is not valid base64"))?;
        decode_base64_lenient(s)
            .ok_or_else(|| Status::invalid_argument("GET `message` is not valid base64"))?
    } else {
        raw
    };
    if message.len() > max_message_size {
        return Err(super::compression::too_large(
            message.len(),
            max_message_size,
        ));
    }
    Ok(GetQuery {
        codec,
        encoding,
        message: Bytes::from(message),
    })
}

/// Decodes one `application/x-www-form-urlencoded` value (`+` is a space).
fn form_decode(v: &str) -> Result<Vec<u8>, Status> {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                // Both must be hex digits: `from_str_radix` alone would take `%+5` as 0x05.
                let hex = bytes
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        Status::invalid_argument("malformed percent-encoding in GET query")
                    })?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Ok(out)
}

/// Builds the query string of a Connect GET request, its parameters in the order the
/// Connect protocol asks of clients so that equal calls make equal (cacheable) URLs:
/// `connect`, `base64`, `compression` (when compressed), `encoding`, `message`.
pub fn encode_get_query(codec: Codec, encoding: Encoding, message: &[u8]) -> String {
    let mut q = String::from("connect=v1&base64=1");
    if encoding != Encoding::Identity {
        q.push_str("&compression=");
        q.push_str(encoding.name());
    }
    q.push_str("&encoding=");
    q.push_str(codec.name());
    q.push_str("&message=");
    q.push_str(&super::status::BASE64_URL_ANY_PAD.encode(message));
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn content_types() {
        assert_eq!(unary_codec("application/proto"), Some(Codec::Proto));
        assert_eq!(
            unary_codec("application/json; charset=utf-8"),
            Some(Codec::Json)
        );
        assert_eq!(unary_codec("application/json; charset=latin1"), None);
        assert_eq!(unary_codec("application/xml"), None);
        assert_eq!(stream_codec("application/connect+json"), Some(Codec::Json));
        assert_eq!(stream_codec("application/proto"), None);
        // Case-insensitive, whitespace around the base ignored, no panic on non-ASCII.
        assert_eq!(unary_codec(" Application/PROTO ;x=y"), Some(Codec::Proto));
        assert_eq!(
            unary_codec("APPLICATION/JSON; Charset=\"UTF-8\""),
            Some(Codec::Json)
        );
        assert_eq!(stream_codec("Application/Connect+Json"), Some(Codec::Json));
        assert_eq!(unary_codec("applicatioé/proto"), None);
        assert_eq!(unary_codec("é"), None);
        assert_eq!(stream_codec(""), None);
    }

    #[test]
    fn error_json_round_trip() {
        let st =
            Status::not_found("no such key").with_detail(ErrorDetail::new("a.B", vec![1, 2, 3]));
        let json = error_to_json(&st);
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["code"], "not_found");
        assert_eq!(v["details"][0]["type"], "a.B");
        assert_eq!(v["details"][0]["value"], "AQID");
        let back = error_from_json(&json, 404);
        assert_eq!(back.code(), Code::NotFound);
        assert_eq!(back.details(), st.details());
    }

    #[test]
    fn error_fallback_to_http_status() {
        assert_eq!(error_from_json(b"<html>", 503).code(), Code::Unavailable);
        assert_eq!(
            error_from_json(b"{\"code\":\"nope\"}", 404).code(),
            Code::Unimplemented
        );
        assert_eq!(error_from_json(b"", 502).code(), Code::Unavailable);
    }

    /// The conformance suite's `connect_client_error_endstream` unary cases: a missing,
    /// `null` or unrecognized code falls back to the HTTP status's, keeping the message.
    #[test]
    fn error_without_a_valid_code_keeps_its_message() {
        for (body, status, code, message) in [
            (
                "null",
                401,
                Code::Unauthenticated,
                "HTTP status 401 Unauthorized",
            ),
            (
                r#"{"code": null, "message": "oops"}"#,
                401,
                Code::Unauthenticated,
                "oops",
            ),
            (r#"{"message": "oops"}"#, 401, Code::Unauthenticated, "oops"),
            (
                r#"{"code": "foobar", "message": "oops"}"#,
                429,
                Code::Unavailable,
                "oops",
            ),
            (
                r#"{"code": 7, "message": "oops"}"#,
                403,
                Code::PermissionDenied,
                "oops",
            ),
            (
                r#"{"code": "unauthenticated"}"#,
                401,
                Code::Unauthenticated,
                "",
            ),
            (
                r#"{"code": "unauthenticated", "message": null}"#,
                500,
                Code::Unauthenticated,
                "",
            ),
            (
                r#"{"code": "out_of_range", "message": "oops", "foobar": "baz"}"#,
                422,
                Code::OutOfRange,
                "oops",
            ),
        ] {
            let st = error_from_json(body.as_bytes(), status);
            assert_eq!((st.code(), st.message()), (code, message), "{body}");
        }
    }

    /// Readers ignore `debug`, whatever it holds.
    #[test]
    fn details_are_read_without_their_debug_field() {
        for debug in [
            r#""garbage""#,
            r#"{"name": "test.proto", "foobar": true}"#,
            "null",
        ] {
            let body = format!(
                r#"{{"code": "out_of_range", "message": "oops", "details": [{{"type": "google.protobuf.FileDescriptorProto", "value": "Cgp0ZXN0LnByb3Rv", "frob": "nitz", "debug": {debug}}}]}}"#
            );
            let st = error_from_json(body.as_bytes(), 422);
            assert_eq!(st.code(), Code::OutOfRange);
            assert_eq!(st.details().len(), 1, "{body}");
            assert_eq!(&st.details()[0].value()[..], b"\n\ntest.proto");
            let (err, _) = parse_end_stream(format!(r#"{{"error": {body}}}"#).as_bytes()).unwrap();
            assert_eq!(err.unwrap().details().len(), 1);
        }
    }

    /// Writers add `debug` for details the runtime can render, and only for those.
    #[test]
    fn written_details_carry_debug_json_when_known() {
        let st = Status::out_of_range("oops")
            .with_detail(ErrorDetail::new(
                "google.protobuf.FileDescriptorProto",
                &b"\n\ntest.proto"[..],
            ))
            .with_detail(ErrorDetail::new("acme.v1.Opaque", vec![1, 2, 3]));
        for json in [
            error_to_json(&st),
            end_stream_to_json(Some(&st), &HeaderMap::new()),
        ] {
            let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
            let err = v.get("error").unwrap_or(&v);
            assert_eq!(
                err["details"][0]["debug"],
                serde_json::json!({"name": "test.proto"})
            );
            assert_eq!(err["details"][0]["value"], "Cgp0ZXN0LnByb3Rv");
            assert!(err["details"][1].get("debug").is_none(), "{err}");
            assert_eq!(err["details"][1]["value"], "AQID");
        }
    }

    /// The suite's `end-stream/*` cases: `"error": null` is success; an error without a
    /// valid code is `unknown`, keeping its message.
    #[test]
    fn end_stream_error_without_a_valid_code_is_unknown() {
        let (err, _) = parse_end_stream(br#"{"error": null}"#).unwrap();
        assert!(err.is_none());
        for body in [
            r#"{"error": {"code": null, "message": "oops"}}"#,
            r#"{"error": {"message": "oops"}}"#,
            r#"{"error": {"code": "foobar", "message": "oops"}}"#,
        ] {
            let (err, _) = parse_end_stream(body.as_bytes()).unwrap();
            let err = err.unwrap();
            assert_eq!(
                (err.code(), err.message()),
                (Code::Unknown, "oops"),
                "{body}"
            );
        }
        let (err, _) = parse_end_stream(br#"{"error": {"code": "unauthenticated"}}"#).unwrap();
        assert_eq!(err.unwrap().code(), Code::Unauthenticated);
        // Unknown top-level fields are not an error: this is a successful end.
        let (err, t) = parse_end_stream(br#"{"code": "out_of_range", "message": "oops"}"#).unwrap();
        assert!(err.is_none() && t.is_empty());
    }

    /// The query parameters come in the order the protocol recommends (connectrpc.com
    /// protocol reference, `Query-Get`): connect, base64, compression, encoding, message.
    #[test]
    fn get_query_parameters_in_protocol_order() {
        assert_eq!(
            encode_get_query(Codec::Proto, Encoding::Identity, &[0xfa, 0xfb]),
            "connect=v1&base64=1&encoding=proto&message=-vs"
        );
        assert_eq!(
            encode_get_query(Codec::Json, Encoding::Gzip, b"{}"),
            "connect=v1&base64=1&compression=gzip&encoding=json&message=e30"
        );
    }

    #[test]
    fn end_stream_round_trip() {
        let mut trailers = HeaderMap::new();
        trailers.append("x-a", HeaderValue::from_static("1"));
        trailers.append("x-a", HeaderValue::from_static("2"));
        let json = end_stream_to_json(Some(&Status::aborted("stop")), &trailers);
        let (err, t) = parse_end_stream(&json).unwrap();
        assert_eq!(err.unwrap().code(), Code::Aborted);
        assert_eq!(t.get_all("x-a").iter().count(), 2);
        let (err, t) = parse_end_stream(b"{}").unwrap();
        assert!(err.is_none() && t.is_empty());
        assert!(parse_end_stream(b"nope").is_err());
    }

    #[test]
    fn get_query() {
        let q = encode_get_query(Codec::Proto, Encoding::Identity, &[0xfa, 0xfb]);
        let parsed = parse_get_query(&q, 100).unwrap();
        assert_eq!(&parsed.message[..], &[0xfa, 0xfb]);
        let parsed = parse_get_query("encoding=json&message=%7B%22a%22%3A+1%7D", 100).unwrap();
        assert_eq!(&parsed.message[..], b"{\"a\": 1}");
        assert_eq!(parsed.codec, Codec::Json);
        assert_eq!(
            parse_get_query("message=x", 100).unwrap_err().code(),
            Code::InvalidArgument
        );
        assert_eq!(
            parse_get_query("encoding=json&base64=1&message=!!", 100)
                .unwrap_err()
                .code(),
            Code::InvalidArgument
        );
        assert_eq!(
            parse_get_query("encoding=xml&message=x", 100)
                .unwrap_err()
                .code(),
            Code::Unimplemented
        );
        assert_eq!(
            parse_get_query("encoding=proto&message=%zz", 100)
                .unwrap_err()
                .code(),
            Code::InvalidArgument
        );
        assert_eq!(
            parse_get_query("encoding=proto&message=aaaaaaaaaa", 4)
                .unwrap_err()
                .code(),
            Code::ResourceExhausted
        );
    }

    #[test]
    fn percent_escapes_need_two_hex_digits() {
        // `u8::from_str_radix` accepts a leading `+`, so `%+5` once decoded as 0x05.
        for q in [
            "encoding=proto&message=%+5",
            "encoding=proto&message=%+",
            "encoding=proto&message=%4",
            "encoding=proto&message=%4g",
            "encoding=proto&message=% 5",
            "encoding=%+proto",
        ] {
            assert_eq!(
                parse_get_query(q, 100).unwrap_err().code(),
                Code::InvalidArgument,
                "{q}"
            );
        }
        let ok = parse_get_query("encoding=proto&message=%0a%2B%ff+", 100).unwrap();
        assert_eq!(&ok.message[..], &[0x0a, b'+', 0xff, b' ']);
    }

    proptest! {
        #[test]
        fn get_query_never_panics(q in ".{0,200}", max in 0usize..64) {
            if let Ok(parsed) = parse_get_query(&q, max) {
                prop_assert!(parsed.message.len() <= max);
            }
        }

        #[test]
        fn error_json_never_panics(body in proptest::collection::vec(any::<u8>(), 0..200), status in 100u16..600) {
            let _ = error_from_json(&body, status);
            let _ = parse_end_stream(&body);
        }

        #[test]
        fn error_json_with_arbitrary_fields(code in "[a-z_]{0,20}", msg in ".{0,40}", ty in ".{0,20}", val in ".{0,20}") {
            let body = serde_json::json!({"code": code, "message": msg, "details": [{"type": ty, "value": val}]});
            let st = error_from_json(body.to_string().as_bytes(), 500);
            if code.parse::<Code>().is_ok() { prop_assert_eq!(st.message(), msg.as_str()); }
        }
    }
}
