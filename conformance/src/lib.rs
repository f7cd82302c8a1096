//! Adapters for the official Connect conformance suite: a server under test
//! (`conformance-server`) and a client under test (`conformance-client`), as the suite's
//! runner drives them (`../shared/conformance/README.md`). They are thin on purpose:
//! everything the suite checks is done by connect-plugin's public API.

pub mod client;
pub mod io;
pub mod service;
pub mod tls;

/// `connectrpc.conformance.v1`: the suite's messages and the `ConformanceService` code.
#[allow(missing_docs, clippy::all)]
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/connectrpc.conformance.v1.rs"));
    include!(concat!(
        env!("OUT_DIR"),
        "/connectrpc.conformance.v1.serde.rs"
    ));
}
