//! Interop with connectrpc for Python (0.13.0), both ways:
//!
//! - the Python client suite (`interop/python/client.py`, pyqwest transport)
//!   against our `echo-server`, for every protocol × codec × HTTP version that
//!   applies (gRPC needs HTTP/2);
//! - our `echo-client` against the Python server (`interop/python/server.py`,
//!   the generated ASGI application on Hypercorn: HTTP/1.1 and h2c on one port).
//!
//! Needs `interop/setup.sh`; `CONNECT_PLUGIN_SKIP_INTEROP=1` skips.

mod common;

use common::*;

macro_rules! suite {
    ($($name:ident: $protocol:literal, $codec:literal, $http:literal;)*) => {$(
        #[test]
        fn $name() {
            run_suite_against_echo_server(Peer::Python, $protocol, $codec, $http);
        }
    )*};
}

suite! {
    python_client_connect_proto_http2: "connect", "proto", "2";
    python_client_connect_json_http2: "connect", "json", "2";
    python_client_connect_proto_http1: "connect", "proto", "1.1";
    python_client_connect_json_http1: "connect", "json", "1.1";
    python_client_grpc_proto_http2: "grpc", "proto", "2";
    python_client_grpc_json_http2: "grpc", "json", "2";
    python_client_grpcweb_proto_http2: "grpcweb", "proto", "2";
    python_client_grpcweb_json_http2: "grpcweb", "json", "2";
    python_client_grpcweb_proto_http1: "grpcweb", "proto", "1.1";
    python_client_grpcweb_json_http1: "grpcweb", "json", "1.1";
}

#[test]
fn echo_client_against_python_server() {
    if !peer_ready(Peer::Python) {
        return;
    }
    let mut cmd = python();
    cmd.args(["server.py", "--exit-on-stdin-close"]);
    let server = Server::start("connectrpc-python server", cmd, 1);
    let url = server.url().to_string();
    let urls = PeerUrls {
        h2c: url.clone(),
        http1: url,
    };
    check_echo_client("connectrpc-python server", &urls, &server);
    check_library_client("connectrpc-python server", &urls);
}
