//! What the benchmark binary and the `bench-echo-plugin` binary share: connect-plugin's
//! bindings of `echo.v1` (messages and the generated plugin service) and the echo plugin
//! itself.

#![warn(missing_docs)]

/// Bindings for connect-plugin: prost messages with pbjson serde, and the service code that
/// protoc-gen-connect-plugin's prost-build `ServiceGenerator` writes (`EchoService`,
/// `EchoServiceClient`, `echo_service_router`, `EchoServicePlugin`, method descriptors).
pub mod cp_pb {
    #![allow(clippy::all, missing_docs)]
    include!(concat!(env!("OUT_DIR"), "/cp/echo.v1.rs"));
    include!(concat!(env!("OUT_DIR"), "/cp/echo.v1.serde.rs"));

    use connect_plugin::rpc::MethodDescriptor;

    /// `echo.v1.EchoService/Echo`.
    pub const ECHO: MethodDescriptor = ECHO_SERVICE_ECHO;
    /// `echo.v1.EchoService/EchoStream`.
    pub const ECHO_STREAM: MethodDescriptor = ECHO_SERVICE_ECHO_STREAM;
}

pub mod echo_plugin;
