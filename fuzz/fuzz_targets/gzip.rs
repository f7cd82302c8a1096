//! `Encoding::Gzip.decompress` with a 64 KiB limit.
//!
//! Input layout: byte 0 picks the mode. Even: the rest is fed to `decompress` as is
//! (arbitrary, mostly corrupt gzip). Odd: the rest is expanded (each input byte repeated
//! 0..=1023 times by the next byte, so small inputs make large, compressible payloads),
//! gzip-compressed, and decompressed again.
//!
//! Checked: output never exceeds the limit; errors are `invalid_argument` (corrupt) or
//! `resource_exhausted` (too large) only; a compressed payload within the limit round
//! trips exactly, and one over it is refused with `resource_exhausted`.
#![no_main]

use bytes::Bytes;
use connect_plugin::protocol::{Code, Encoding};
use libfuzzer_sys::fuzz_target;

const LIMIT: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        match Encoding::Gzip.decompress(Bytes::copy_from_slice(rest), LIMIT) {
            Ok(out) => assert!(out.len() <= LIMIT, "{} bytes out", out.len()),
            Err(e) => assert!(
                matches!(e.code(), Code::InvalidArgument | Code::ResourceExhausted),
                "{e}"
            ),
        }
        return;
    }
    let mut payload = Vec::new();
    for pair in rest.chunks(3) {
        let (byte, times) = match pair {
            [b, hi, lo] => (*b, (u16::from_be_bytes([*hi, *lo]) % 1024) as usize),
            [b, n] => (*b, *n as usize),
            [b] => (*b, 1),
            _ => unreachable!(),
        };
        payload.extend(std::iter::repeat_n(byte, times));
    }
    let z = Encoding::Gzip
        .compress(&payload)
        .expect("compressing cannot fail");
    match Encoding::Gzip.decompress(z, LIMIT) {
        Ok(out) => {
            assert!(payload.len() <= LIMIT);
            assert_eq!(&out[..], &payload[..]);
        }
        Err(e) => {
            assert!(
                payload.len() > LIMIT,
                "refused {} bytes: {e}",
                payload.len()
            );
            assert_eq!(e.code(), Code::ResourceExhausted, "{e}");
        }
    }
});
