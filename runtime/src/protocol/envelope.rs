//! The five-byte envelope shared by Connect streaming, gRPC and gRPC-Web:
//! one flags byte, a big-endian `u32` length, then the payload.
//!
//! The decoder is incremental and never allocates on the word of a length prefix: a
//! frame's bytes are gathered only as they actually arrive, and a prefix over the limit
//! is refused before any of its payload is buffered.

use std::collections::VecDeque;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::status::Status;

/// Set on a frame whose payload is compressed.
pub(crate) const FLAG_COMPRESSED: u8 = 0b0000_0001;
/// Connect: set on the final frame of a response stream (the end-stream message).
pub(crate) const FLAG_END_STREAM: u8 = 0b0000_0010;
/// gRPC-Web: set on the final frame that carries the trailers.
pub const FLAG_TRAILERS: u8 = 0b1000_0000;

/// Length of the envelope prefix.
pub const PREFIX_LEN: usize = 5;

/// One decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The flags byte.
    pub flags: u8,
    /// The payload, exactly as sent (still compressed if the flag says so).
    pub data: Bytes,
}

/// Writes one frame into `dst`.
pub fn encode_envelope(flags: u8, payload: &[u8], dst: &mut BytesMut) {
    dst.reserve(PREFIX_LEN + payload.len());
    dst.put_u8(flags);
    dst.put_u32(payload.len() as u32);
    dst.put_slice(payload);
}

/// The frame that `chunk` consists of, when it is exactly one complete frame whose payload is
/// within `max_message_size` (the usual shape of a unary message); otherwise the chunk back,
/// untouched, for an [`EnvelopeDecoder`].
pub(crate) fn whole_frame(mut chunk: Bytes, max_message_size: usize) -> Result<Envelope, Bytes> {
    let Some(prefix) = chunk.get(..PREFIX_LEN) else {
        return Err(chunk);
    };
    let flags = prefix[0];
    let len = u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]) as usize;
    if len > max_message_size || chunk.len() - PREFIX_LEN != len {
        return Err(chunk);
    }
    chunk.advance(PREFIX_LEN);
    Ok(Envelope { flags, data: chunk })
}

/// An incremental frame decoder over a byte stream that arrives in arbitrary chunks.
#[derive(Debug)]
pub struct EnvelopeDecoder {
    /// The oldest chunk not yet fully read; empty only when nothing is buffered. Kept out of
    /// `rest` so that the usual case (frames read from the chunk they arrived in) neither
    /// allocates the deque nor walks it.
    front: Bytes,
    /// Later chunks, in order.
    rest: VecDeque<Bytes>,
    buffered: usize,
    max_message_size: usize,
}

impl EnvelopeDecoder {
    /// A decoder refusing frames whose payload is longer than `max_message_size`.
    pub fn new(max_message_size: usize) -> Self {
        EnvelopeDecoder {
            front: Bytes::new(),
            rest: VecDeque::new(),
            buffered: 0,
            max_message_size,
        }
    }

    /// Adds bytes read from the wire.
    pub fn push(&mut self, chunk: Bytes) {
        if chunk.is_empty() {
            return;
        }
        self.buffered += chunk.len();
        if self.front.is_empty() {
            self.front = chunk;
        } else {
            self.rest.push_back(chunk);
        }
    }

    /// Bytes received but not yet returned as a frame (the fuzz targets and tests check it).
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// Moves the next chunk to the front once the front one is used up.
    fn refill(&mut self) {
        if self.front.is_empty() {
            self.front = self.rest.pop_front().unwrap_or_default();
        }
    }

    fn peek_prefix(&self) -> Option<[u8; PREFIX_LEN]> {
        if self.buffered < PREFIX_LEN {
            return None;
        }
        let mut prefix = [0u8; PREFIX_LEN];
        if let Some(head) = self.front.get(..PREFIX_LEN) {
            prefix.copy_from_slice(head);
            return Some(prefix);
        }
        let mut filled = 0;
        for chunk in std::iter::once(&self.front).chain(&self.rest) {
            let take = (PREFIX_LEN - filled).min(chunk.len());
            prefix[filled..filled + take].copy_from_slice(&chunk[..take]);
            filled += take;
            if filled == PREFIX_LEN {
                break;
            }
        }
        Some(prefix)
    }

    /// Drops `n` buffered bytes off the front (`n <= buffered`).
    fn skip(&mut self, mut n: usize) {
        self.buffered -= n;
        while n > 0 && !self.front.is_empty() {
            let step = n.min(self.front.len());
            self.front.advance(step);
            n -= step;
            self.refill();
        }
    }

    /// Takes `n` bytes off the front (`n <= buffered`); zero-copy when they lie in one
    /// chunk, without even a reference-count update when they are all of it.
    fn take(&mut self, n: usize) -> Bytes {
        self.buffered -= n;
        if self.front.len() == n {
            let out = std::mem::take(&mut self.front);
            self.refill();
            return out;
        }
        if self.front.len() > n {
            return self.front.split_to(n);
        }
        // All `n` bytes are already here, so this allocation is bounded by received data.
        let mut out = BytesMut::with_capacity(n);
        while out.len() < n && !self.front.is_empty() {
            let want = (n - out.len()).min(self.front.len());
            out.put_slice(&self.front[..want]);
            self.front.advance(want);
            self.refill();
        }
        out.freeze()
    }

    /// The next complete frame, `Ok(None)` when more bytes are needed, or
    /// `resource_exhausted` when the length prefix exceeds the limit.
    pub fn decode(&mut self) -> Result<Option<Envelope>, Status> {
        let Some(prefix) = self.peek_prefix() else {
            return Ok(None);
        };
        let flags = prefix[0];
        let len = u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]) as usize;
        if len > self.max_message_size {
            return Err(Status::resource_exhausted(format!(
                "message of {len} bytes is larger than the limit of {} bytes",
                self.max_message_size
            )));
        }
        if self.buffered < PREFIX_LEN + len {
            return Ok(None);
        }
        self.skip(PREFIX_LEN);
        let data = self.take(len);
        Ok(Some(Envelope { flags, data }))
    }

    /// Called at the end of the byte stream: an error if a partial frame is left over.
    pub fn finish(&self) -> Result<(), Status> {
        if self.buffered == 0 {
            Ok(())
        } else {
            Err(Status::invalid_argument(format!(
                "stream ended inside a frame ({} stray bytes)",
                self.buffered
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Code;
    use proptest::prelude::*;

    #[test]
    fn decodes_frames_split_anywhere() {
        let mut wire = BytesMut::new();
        encode_envelope(0, b"hello", &mut wire);
        encode_envelope(FLAG_END_STREAM, b"{}", &mut wire);
        let wire = wire.freeze();
        for split in 0..wire.len() {
            let mut d = EnvelopeDecoder::new(100);
            d.push(wire.slice(..split));
            let mut got = Vec::new();
            while let Some(e) = d.decode().unwrap() {
                got.push(e);
            }
            d.push(wire.slice(split..));
            while let Some(e) = d.decode().unwrap() {
                got.push(e);
            }
            d.finish().unwrap();
            assert_eq!(got.len(), 2, "split at {split}");
            assert_eq!(&got[0].data[..], b"hello");
            assert_eq!(got[1].flags, FLAG_END_STREAM);
        }
    }

    #[test]
    fn whole_frames() {
        let mut wire = BytesMut::new();
        encode_envelope(FLAG_COMPRESSED, b"hello", &mut wire);
        let one = wire.clone().freeze();
        let e = whole_frame(one.clone(), 5).unwrap();
        assert_eq!((e.flags, &e.data[..]), (FLAG_COMPRESSED, &b"hello"[..]));
        // Over the limit, short, long, or not even a prefix: handed back as it was.
        assert_eq!(whole_frame(one.clone(), 4).unwrap_err(), one);
        assert!(whole_frame(one.slice(..9), 5).is_err());
        encode_envelope(0, b"", &mut wire);
        assert!(whole_frame(wire.freeze(), 5).is_err());
        assert!(whole_frame(Bytes::from_static(&[0, 0, 0]), 5).is_err());
        assert_eq!(
            whole_frame(Bytes::from_static(&[0; 5]), 0)
                .unwrap()
                .data
                .len(),
            0
        );
    }

    #[test]
    fn lying_prefix_is_refused_without_buffering() {
        let mut d = EnvelopeDecoder::new(1024);
        d.push(Bytes::from_static(&[0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
        let err = d.decode().unwrap_err();
        assert_eq!(err.code(), Code::ResourceExhausted);
    }

    #[test]
    fn truncated_frame_is_an_error_at_the_end() {
        let mut d = EnvelopeDecoder::new(1024);
        d.push(Bytes::from_static(&[0, 0, 0, 0, 9, 1, 2]));
        assert!(d.decode().unwrap().is_none());
        assert_eq!(d.finish().unwrap_err().code(), Code::InvalidArgument);
    }

    proptest! {
        #[test]
        fn arbitrary_input_never_panics(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..16), max in 0usize..128) {
            let mut d = EnvelopeDecoder::new(max);
            let mut total = 0usize;
            for c in chunks {
                total += c.len();
                d.push(Bytes::from(c));
                loop {
                    match d.decode() {
                        Ok(Some(e)) => prop_assert!(e.data.len() <= max),
                        Ok(None) => break,
                        Err(e) => { prop_assert_eq!(e.code(), Code::ResourceExhausted); return Ok(()); }
                    }
                }
                prop_assert!(d.buffered() <= total);
            }
            let _ = d.finish();
        }

        #[test]
        fn round_trips(payloads in proptest::collection::vec((any::<u8>(), proptest::collection::vec(any::<u8>(), 0..300)), 0..8), chunk in 1usize..50) {
            let mut wire = BytesMut::new();
            for (f, p) in &payloads { encode_envelope(*f, p, &mut wire); }
            let wire = wire.freeze();
            let mut d = EnvelopeDecoder::new(300);
            let mut got = Vec::new();
            for c in wire.chunks(chunk) {
                d.push(Bytes::copy_from_slice(c));
                while let Some(e) = d.decode().unwrap() { got.push((e.flags, e.data.to_vec())); }
            }
            d.finish().unwrap();
            prop_assert_eq!(got, payloads);
        }
    }
}
