//! gRPC-Web (binary): gRPC framing over HTTP/1.1 or HTTP/2, with the trailers sent as a
//! final frame flagged `0x80` whose payload is an HTTP/1-style header block.

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue};

use super::codec::Codec;
use super::envelope::{FLAG_TRAILERS, encode_envelope};
use super::status::Status;

/// The codec of a gRPC-Web content type.
pub(crate) fn codec(content_type: &str) -> Option<Codec> {
    super::grpc::codec_for(content_type, "application/grpc-web")
}

/// The gRPC-Web content type for a codec.
pub(crate) fn content_type(codec: Codec) -> HeaderValue {
    const PROTO: HeaderValue = HeaderValue::from_static("application/grpc-web+proto");
    const JSON: HeaderValue = HeaderValue::from_static("application/grpc-web+json");
    match codec {
        Codec::Proto => PROTO,
        Codec::Json => JSON,
    }
}

/// Encodes trailers as the final `0x80` frame.
pub fn encode_trailers(trailers: &HeaderMap, dst: &mut BytesMut) {
    let mut block = Vec::new();
    for (k, v) in trailers {
        block.extend_from_slice(k.as_str().as_bytes());
        block.extend_from_slice(b": ");
        block.extend_from_slice(v.as_bytes());
        block.extend_from_slice(b"\r\n");
    }
    encode_envelope(FLAG_TRAILERS, &block, dst);
}

/// Decodes the payload of a trailers frame.
pub fn decode_trailers(block: &Bytes) -> Result<HeaderMap, Status> {
    let bad = |why: &str| Status::internal(format!("invalid gRPC-Web trailers: {why}"));
    let mut map = HeaderMap::new();
    for line in block.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let colon = line
            .iter()
            .position(|b| *b == b':')
            .ok_or_else(|| bad("a line without a colon"))?;
        let name = HeaderName::from_bytes(line[..colon].trim_ascii())
            .map_err(|_| bad("invalid header name"))?;
        let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii())
            .map_err(|_| bad("invalid header value"))?;
        map.append(name, value);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::envelope::EnvelopeDecoder;
    use proptest::prelude::*;

    #[test]
    fn trailers_round_trip() {
        let mut t = HeaderMap::new();
        t.insert("grpc-status", HeaderValue::from_static("5"));
        t.insert("grpc-message", HeaderValue::from_static("not%20here"));
        let mut buf = BytesMut::new();
        encode_trailers(&t, &mut buf);
        let mut d = EnvelopeDecoder::new(1000);
        d.push(buf.freeze());
        let frame = d.decode().unwrap().unwrap();
        assert_eq!(frame.flags, FLAG_TRAILERS);
        assert_eq!(decode_trailers(&frame.data).unwrap(), t);
        // Peers may capitalise names and omit the space.
        let t2 = decode_trailers(&Bytes::from_static(b"Grpc-Status:0\r\n")).unwrap();
        assert_eq!(t2.get("grpc-status").unwrap(), "0");
        assert!(decode_trailers(&Bytes::from_static(b"no colon here")).is_err());
    }

    proptest! {
        #[test]
        fn decode_never_panics(block in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode_trailers(&Bytes::from(block));
        }
    }
}
