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

/// Registers, for JSON inside `google.protobuf.Any`, every message the suite packs into one:
/// the request messages (echoed in `RequestInfo`) and `RequestInfo` itself (the runtime
/// knows `google.protobuf`'s own, such as the `FileDescriptorProto` the error suites put
/// in details). Both adapters call it first.
pub fn register_json_types() {
    use connect_plugin::register_json_type;
    register_json_type::<pb::UnaryRequest>();
    register_json_type::<pb::IdempotentUnaryRequest>();
    register_json_type::<pb::ServerStreamRequest>();
    register_json_type::<pb::ClientStreamRequest>();
    register_json_type::<pb::BidiStreamRequest>();
    register_json_type::<pb::UnimplementedRequest>();
    register_json_type::<pb::conformance_payload::RequestInfo>();
}
