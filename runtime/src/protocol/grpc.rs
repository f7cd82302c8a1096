//! gRPC over HTTP/2: enveloped messages, status in HTTP trailers (or in the headers of a
//! trailers-only response).

use base64::Engine as _;
use http::{HeaderMap, HeaderName, HeaderValue};
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

use super::code::Code;
use super::codec::Codec;
use super::status::{BASE64_ANY_PAD, Status, decode_base64_lenient};

/// `grpc-status` trailer.
pub(crate) const STATUS_HEADER: HeaderName = HeaderName::from_static("grpc-status");
/// `grpc-message` trailer.
pub(crate) const MESSAGE_HEADER: HeaderName = HeaderName::from_static("grpc-message");
/// `grpc-status-details-bin` trailer.
pub(crate) const DETAILS_HEADER: HeaderName = HeaderName::from_static("grpc-status-details-bin");
/// `grpc-timeout` header.
pub(crate) const TIMEOUT_HEADER: HeaderName = HeaderName::from_static("grpc-timeout");
/// `grpc-encoding` header.
pub(crate) const ENCODING_HEADER: HeaderName = HeaderName::from_static("grpc-encoding");
/// `grpc-accept-encoding` header.
pub(crate) const ACCEPT_ENCODING_HEADER: HeaderName =
    HeaderName::from_static("grpc-accept-encoding");

/// Characters percent-encoded in `grpc-message`: everything outside printable ASCII, and `%`.
const GRPC_MESSAGE_SET: &AsciiSet = &CONTROLS.add(b'%');

/// The codec of a gRPC content type, given its prefix (`application/grpc` or
/// `application/grpc-web`): a bare prefix means proto.
pub(crate) fn codec_for(content_type: &str, prefix: &str) -> Option<Codec> {
    let (base, _) = super::connect::split_params(content_type);
    let rest = super::connect::strip_prefix_ignore_case(base, prefix)?;
    if rest.is_empty() {
        return Some(Codec::Proto);
    }
    Codec::from_name(rest.strip_prefix('+')?)
}

/// The codec of a gRPC content type.
pub(crate) fn codec(content_type: &str) -> Option<Codec> {
    codec_for(content_type, "application/grpc")
}

/// The gRPC content type for a codec.
pub(crate) fn content_type(codec: Codec) -> HeaderValue {
    const PROTO: HeaderValue = HeaderValue::from_static("application/grpc");
    const JSON: HeaderValue = HeaderValue::from_static("application/grpc+json");
    match codec {
        Codec::Proto => PROTO,
        Codec::Json => JSON,
    }
}

/// Writes the status (OK when `error` is `None`) into `headers`, together with the error's
/// trailers.
pub fn write_status(error: Option<&Status>, headers: &mut HeaderMap) {
    match error {
        None => {
            const OK: HeaderValue = HeaderValue::from_static("0");
            headers.insert(STATUS_HEADER, OK);
        }
        Some(st) => {
            for (k, v) in st.trailers() {
                headers.append(k.clone(), v.clone());
            }
            headers.insert(STATUS_HEADER, HeaderValue::from(st.code().as_i32()));
            if !st.message().is_empty() {
                let enc = utf8_percent_encode(st.message(), GRPC_MESSAGE_SET).to_string();
                if let Ok(v) = HeaderValue::from_str(&enc) {
                    headers.insert(MESSAGE_HEADER, v);
                }
            }
            if !st.details().is_empty() {
                let bin = BASE64_ANY_PAD.encode(st.to_rpc_status_bytes());
                if let Ok(v) = HeaderValue::from_str(&bin) {
                    headers.insert(DETAILS_HEADER, v);
                }
            }
        }
    }
}

/// Removes the status headers from trailers once the status has been read from them: the
/// caller sees its own trailers, as in every gRPC implementation.
pub(crate) fn strip_status(trailers: &mut HeaderMap) {
    for h in [STATUS_HEADER, MESSAGE_HEADER, DETAILS_HEADER] {
        trailers.remove(h);
    }
}

/// Reads the status from trailers (or trailers-only headers). `Ok(None)` is success,
/// `Ok(Some(status))` an error sent by the peer; `Err` when there is no valid status
/// (`unknown` when there is none at all).
pub fn read_status(headers: &HeaderMap) -> Result<Option<Status>, Status> {
    let Some(raw) = headers.get(&STATUS_HEADER) else {
        // No status: what went wrong is unknown (grpc-go's choice too); a grpc-message
        // still says what the peer meant to.
        let message = headers
            .get(&MESSAGE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
            .unwrap_or_else(|| "protocol error: no grpc-status in trailers".to_owned());
        return Err(Status::unknown(message));
    };
    let n: i32 = raw
        .to_str()
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| Status::internal(format!("protocol error: invalid grpc-status {raw:?}")))?;
    if n == 0 {
        return Ok(None);
    }
    let code = Code::from_i32(n).unwrap_or(Code::Unknown);
    let message = headers
        .get(&MESSAGE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .unwrap_or_default();
    let mut status = headers
        .get(&DETAILS_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(decode_base64_lenient)
        .and_then(|b| Status::from_rpc_status_bytes(&b))
        .filter(|s| s.code() == code)
        .map(|s| {
            let details = s.details().to_vec();
            details
                .into_iter()
                .fold(Status::new(code, message.clone()), Status::with_detail)
        })
        .unwrap_or_else(|| Status::new(code, message));
    let mut trailers = headers.clone();
    for h in [STATUS_HEADER, MESSAGE_HEADER, DETAILS_HEADER] {
        trailers.remove(h);
    }
    *status.trailers_mut() = trailers;
    Ok(Some(status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ErrorDetail;

    #[test]
    fn status_round_trip() {
        let st = Status::invalid_argument("bad 100% \u{1F600}\nline")
            .with_detail(ErrorDetail::new("x.Y", vec![1]));
        let mut h = HeaderMap::new();
        write_status(Some(&st), &mut h);
        assert_eq!(h.get(&STATUS_HEADER).unwrap(), "3");
        let back = read_status(&h).unwrap().unwrap();
        assert_eq!(back.code(), Code::InvalidArgument);
        assert_eq!(back.message(), st.message());
        assert_eq!(back.details(), st.details());
        let mut ok = HeaderMap::new();
        write_status(None, &mut ok);
        assert!(read_status(&ok).unwrap().is_none());
        assert!(read_status(&HeaderMap::new()).is_err());
    }

    #[test]
    fn content_types() {
        assert_eq!(codec("application/grpc"), Some(Codec::Proto));
        assert_eq!(codec("application/grpc+json"), Some(Codec::Json));
        assert_eq!(codec("application/grpc-web"), None);
        assert_eq!(codec("application/grpcx"), None);
        assert_eq!(codec(" Application/GRPC+Proto ; x=1"), Some(Codec::Proto));
        assert_eq!(codec("application/grpc+"), None);
        assert_eq!(codec("application/grpé"), None);
        assert_eq!(
            codec_for("application/grpc-web+proto", "application/grpc-web"),
            Some(Codec::Proto)
        );
    }
}
