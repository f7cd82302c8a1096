//! Message codecs: binary protobuf (`proto`) and the proto3 JSON mapping (`json`, through
//! the serde implementations that pbjson generates for prost types). A
//! `google.protobuf.Any` takes the proto3 JSON form through [`Any`](super::Any), which
//! needs the packed type registered ([`register_json_type`](super::register_json_type)).

use bytes::{BufMut, Bytes, BytesMut};

use super::status::Status;

/// What a message type must offer to travel through the runtime: prost for the binary
/// format, serde (pbjson) for JSON. Blanket-implemented.
pub trait Message:
    prost::Message + Default + serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static
{
}

impl<T> Message for T where
    T: prost::Message
        + Default
        + serde::Serialize
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static
{
}

/// A message codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// Binary protobuf.
    Proto,
    /// Proto3 JSON.
    Json,
}

impl Codec {
    /// The codec's name as used in content types (`proto`, `json`).
    pub const fn name(self) -> &'static str {
        match self {
            Codec::Proto => "proto",
            Codec::Json => "json",
        }
    }

    /// Parses a codec name (case-insensitive); `None` for unsupported codecs.
    pub fn from_name(name: &str) -> Option<Codec> {
        if name.eq_ignore_ascii_case("proto") {
            Some(Codec::Proto)
        } else if name.eq_ignore_ascii_case("json") {
            Some(Codec::Json)
        } else {
            None
        }
    }

    /// Appends the encoding of `message` to `dst`.
    pub fn encode<M: Message>(self, message: &M, dst: &mut BytesMut) -> Result<(), Status> {
        match self {
            Codec::Proto => {
                // `Message::encode` would compute `encoded_len` a second time only to check
                // the capacity reserved here (and a `BytesMut` grows anyway), so this writes
                // with `encode_raw` straight after the one reservation.
                dst.reserve(message.encoded_len());
                message.encode_raw(dst);
                Ok(())
            }
            Codec::Json => serde_json::to_writer(dst.writer(), message)
                .map_err(|e| Status::internal(format!("encoding JSON message: {e}"))),
        }
    }

    /// Encodes `message` into a new buffer.
    pub fn encode_to_bytes<M: Message>(self, message: &M) -> Result<Bytes, Status> {
        match self {
            // One allocation of the exact size, `encoded_len` computed once.
            Codec::Proto => Ok(Bytes::from(message.encode_to_vec())),
            Codec::Json => {
                let mut buf = BytesMut::new();
                self.encode(message, &mut buf)?;
                Ok(buf.freeze())
            }
        }
    }

    /// Decodes a message; malformed input is `invalid_argument`.
    pub fn decode<M: Message>(self, data: Bytes) -> Result<M, Status> {
        match self {
            Codec::Proto => M::decode(data)
                .map_err(|e| Status::invalid_argument(format!("invalid protobuf message: {e}"))),
            Codec::Json => {
                if data.is_empty() {
                    return Err(Status::invalid_argument(
                        "invalid JSON message: empty body is not a JSON object",
                    ));
                }
                serde_json::from_slice(&data)
                    .map_err(|e| Status::invalid_argument(format!("invalid JSON message: {e}")))
            }
        }
    }
}
