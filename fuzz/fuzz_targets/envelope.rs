//! `EnvelopeDecoder` fed arbitrary bytes in arbitrary chunk splits.
//!
//! Input layout: byte 0 is the frame size limit (0..=255); then repeated
//! `[n][n bytes]` records, each pushed as one chunk (a short last record is pushed as
//! far as it goes). After every push the decoder is drained.
//!
//! Checked: no frame exceeds the limit; frames re-encode to exactly the bytes they were
//! decoded from; the only decode error is `resource_exhausted` for a prefix over the
//! limit; `buffered()` never exceeds what was pushed; `finish()` fails exactly when bytes
//! are left over.
#![no_main]

use bytes::{Bytes, BytesMut};
use connect_plugin::protocol::Code;
use connect_plugin::protocol::fuzzing::{EnvelopeDecoder, PREFIX_LEN, encode_envelope};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&max, mut rest)) = data.split_first() else {
        return;
    };
    let max = max as usize;
    let mut decoder = EnvelopeDecoder::new(max);
    let mut pushed: Vec<u8> = Vec::new();
    let mut reencoded = BytesMut::new();
    while let Some((&n, tail)) = rest.split_first() {
        let n = (n as usize).min(tail.len());
        let (chunk, tail) = tail.split_at(n);
        rest = tail;
        pushed.extend_from_slice(chunk);
        decoder.push(Bytes::copy_from_slice(chunk));
        assert!(decoder.buffered() <= pushed.len());
        loop {
            match decoder.decode() {
                Ok(Some(frame)) => {
                    assert!(
                        frame.data.len() <= max,
                        "frame of {} bytes over the limit {max}",
                        frame.data.len()
                    );
                    encode_envelope(frame.flags, &frame.data, &mut reencoded);
                }
                Ok(None) => break,
                Err(e) => {
                    assert_eq!(e.code(), Code::ResourceExhausted, "{e}");
                    // The refused prefix really claims more than the limit.
                    let at = reencoded.len();
                    assert!(pushed.len() >= at + PREFIX_LEN);
                    let len = u32::from_be_bytes([
                        pushed[at + 1],
                        pushed[at + 2],
                        pushed[at + 3],
                        pushed[at + 4],
                    ]) as usize;
                    assert!(len > max);
                    return;
                }
            }
        }
        // Everything consumed so far re-encodes to exactly the bytes pushed.
        assert_eq!(&reencoded[..], &pushed[..reencoded.len()]);
        assert_eq!(decoder.buffered(), pushed.len() - reencoded.len());
    }
    assert_eq!(decoder.finish().is_ok(), decoder.buffered() == 0);
});
