//! `connect::error_from_json` and `connect::parse_end_stream` on arbitrary bytes.
//!
//! Input layout: bytes 0..2 are an HTTP status (big-endian, folded into 100..=599); the
//! rest is the body.
//!
//! Checked: no panic; whatever error is read back survives a write/read round trip with
//! the same code, message and details; a parsed end-stream message re-encodes to one
//! that parses to the same error.
#![no_main]

use connect_plugin::protocol::fuzzing::{
    end_stream_to_json, error_from_json, error_to_json, parse_end_stream,
};
use connect_plugin::protocol::{Code, Status};
use libfuzzer_sys::fuzz_target;

fn same(a: &Status, b: &Status) {
    assert_eq!(a.code(), b.code());
    assert_eq!(a.message(), b.message());
    assert_eq!(a.details(), b.details());
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let status = 100 + u16::from_be_bytes([data[0], data[1]]) % 500;
    let body = &data[2..];

    let st = error_from_json(body, status);
    let back = error_from_json(&error_to_json(&st), status);
    same(&st, &back);

    match parse_end_stream(body) {
        Ok((error, trailers)) => {
            let json = end_stream_to_json(error.as_ref(), &trailers);
            let (error2, _) = parse_end_stream(&json).expect("a re-encoded end-stream parses");
            match (&error, &error2) {
                (None, None) => {}
                (Some(a), Some(b)) => same(a, b),
                _ => panic!("error presence changed: {error:?} vs {error2:?}"),
            }
        }
        Err(e) => assert_eq!(e.code(), Code::Internal, "{e}"),
    }
});
