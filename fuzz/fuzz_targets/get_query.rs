//! `connect::parse_get_query` on arbitrary query strings.
//!
//! Input layout: byte 0 is the message size limit (0..=255); the rest, as (lossy) UTF-8,
//! is the query string.
//!
//! Checked: an accepted message is never over the limit; in an accepted query every `%`
//! of every value starts a two-hex-digit escape; an accepted query re-encodes with
//! `encode_get_query` to a query that parses to the same result; errors carry only the
//! codes the parser documents.
#![no_main]

use connect_plugin::protocol::Code;
use connect_plugin::protocol::fuzzing::{encode_get_query, parse_get_query};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&max, rest)) = data.split_first() else {
        return;
    };
    let max = max as usize;
    let query = String::from_utf8_lossy(rest);
    match parse_get_query(&query, max) {
        Ok(q) => {
            assert!(q.message.len() <= max, "{} > {max}", q.message.len());
            for pair in query.split('&') {
                let value = pair.split_once('=').map_or("", |(_, v)| v).as_bytes();
                for (i, _) in value.iter().enumerate().filter(|(_, b)| **b == b'%') {
                    let escape = value.get(i + 1..i + 3);
                    assert!(
                        escape.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)),
                        "accepted a malformed escape in {pair:?}"
                    );
                }
            }
            let again = encode_get_query(q.codec, q.encoding, &q.message);
            let back = parse_get_query(&again, max).expect("a re-encoded query parses");
            assert_eq!(back, q);
        }
        Err(e) => assert!(
            matches!(
                e.code(),
                Code::InvalidArgument | Code::Unimplemented | Code::ResourceExhausted
            ),
            "{e}"
        ),
    }
});
