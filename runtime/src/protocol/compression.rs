//! Message compression: `identity` (always) and `gzip`. Decompression is bounded: it stops
//! one byte past the limit, so a zip bomb costs at most the limit in memory.

use std::io::{Read, Write};

use bytes::Bytes;
use flate2::Compression as Level;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use super::status::Status;

/// A content encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// No compression.
    Identity,
    /// gzip (RFC 1952).
    Gzip,
}

/// The encodings this runtime accepts, as advertised in `Accept-Encoding` headers.
pub(crate) const ACCEPT_ENCODING: &str = "gzip";

impl Encoding {
    /// The encoding's name on the wire.
    pub const fn name(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            Encoding::Gzip => "gzip",
        }
    }

    /// The encoding's name as a header value.
    pub fn header_value(self) -> http::HeaderValue {
        const IDENTITY: http::HeaderValue = http::HeaderValue::from_static("identity");
        const GZIP: http::HeaderValue = http::HeaderValue::from_static("gzip");
        match self {
            Encoding::Identity => IDENTITY,
            Encoding::Gzip => GZIP,
        }
    }

    /// Parses an encoding name; `None` for encodings this runtime does not support.
    pub fn from_name(name: &str) -> Option<Encoding> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("identity") || name.is_empty() {
            Some(Encoding::Identity)
        } else if name.eq_ignore_ascii_case("gzip") {
            Some(Encoding::Gzip)
        } else {
            None
        }
    }

    /// Picks the response encoding from an `Accept-Encoding`-style list: gzip when the peer
    /// accepts it, else identity.
    pub fn negotiate(accept: &str) -> Encoding {
        // Fast path: what this runtime's clients (and most others) send, or nothing.
        match accept {
            ACCEPT_ENCODING => return Encoding::Gzip,
            "" => return Encoding::Identity,
            _ => {}
        }
        let accepts_gzip = accept.split(',').any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let q_zero = parts.any(|p| {
                let p = p.trim();
                p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
            });
            name.eq_ignore_ascii_case("gzip") && !q_zero
        });
        if accepts_gzip {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }

    /// Compresses `data`.
    pub fn compress(self, data: &[u8]) -> Result<Bytes, Status> {
        match self {
            Encoding::Identity => Ok(Bytes::copy_from_slice(data)),
            Encoding::Gzip => {
                let mut enc =
                    GzEncoder::new(Vec::with_capacity(data.len() / 2 + 32), Level::fast());
                enc.write_all(data)
                    .map_err(|e| Status::internal(format!("gzip: {e}")))?;
                enc.finish()
                    .map(Bytes::from)
                    .map_err(|e| Status::internal(format!("gzip: {e}")))
            }
        }
    }

    /// Decompresses `data`, refusing output larger than `max` with `resource_exhausted`
    /// and corrupt input with `invalid_argument`.
    pub fn decompress(self, data: Bytes, max: usize) -> Result<Bytes, Status> {
        match self {
            Encoding::Identity => {
                if data.len() > max {
                    return Err(too_large(data.len(), max));
                }
                Ok(data)
            }
            Encoding::Gzip => {
                let limit = (max as u64).saturating_add(1);
                // Capacity grows with what actually decompresses, never with a claim.
                let mut out =
                    Vec::with_capacity(data.len().saturating_mul(2).min(max).min(1 << 20));
                MultiGzDecoder::new(&data[..])
                    .take(limit)
                    .read_to_end(&mut out)
                    .map_err(|e| Status::invalid_argument(format!("invalid gzip data: {e}")))?;
                if out.len() > max {
                    return Err(Status::resource_exhausted(format!(
                        "decompressed message is larger than the limit of {max} bytes"
                    )));
                }
                Ok(Bytes::from(out))
            }
        }
    }
}

pub(crate) fn too_large(len: usize, max: usize) -> Status {
    Status::resource_exhausted(format!(
        "message of {len} bytes is larger than the limit of {max} bytes"
    ))
}

/// The error for a message too large to send (its sender's own limit).
pub(crate) fn too_large_to_send(len: usize, max: usize) -> Status {
    Status::resource_exhausted(format!(
        "message of {len} bytes is larger than the send limit of {max} bytes"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Code;

    #[test]
    fn gzip_round_trip_and_limits() {
        let data = vec![b'a'; 10_000];
        let z = Encoding::Gzip.compress(&data).unwrap();
        assert!(z.len() < 200);
        assert_eq!(
            &Encoding::Gzip.decompress(z.clone(), 10_000).unwrap()[..],
            &data[..]
        );
        let err = Encoding::Gzip.decompress(z, 9_999).unwrap_err();
        assert_eq!(err.code(), Code::ResourceExhausted);
        let err = Encoding::Gzip
            .decompress(Bytes::from_static(b"not gzip"), 100)
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
    }

    #[test]
    fn zip_bomb_is_cut_at_the_limit() {
        // 64 MiB of zeros compress to ~64 KiB; a 1 MiB limit must refuse it cheaply.
        let bomb = Encoding::Gzip.compress(&vec![0u8; 64 << 20]).unwrap();
        let err = Encoding::Gzip.decompress(bomb, 1 << 20).unwrap_err();
        assert_eq!(err.code(), Code::ResourceExhausted);
    }

    #[test]
    fn negotiation() {
        assert_eq!(Encoding::negotiate("gzip, br"), Encoding::Gzip);
        assert_eq!(Encoding::negotiate("br, GZIP;q=0.5"), Encoding::Gzip);
        assert_eq!(Encoding::negotiate("gzip;q=0"), Encoding::Identity);
        assert_eq!(Encoding::negotiate("identity"), Encoding::Identity);
        assert_eq!(Encoding::from_name("br"), None);
    }
}
