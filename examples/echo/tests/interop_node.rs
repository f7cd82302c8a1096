//! Interop with connect-es (`@connectrpc/connect-node` 2.2.0), both ways:
//!
//! - the connect-es client suite (`interop/node/client.mjs`) against our
//!   `echo-server`, for every protocol × codec × HTTP version that applies
//!   (gRPC needs HTTP/2);
//! - our `echo-client` against the connect-es server (`interop/node/server.mjs`,
//!   which has one HTTP/1.1 port and one h2c port).
//!
//! Needs `interop/setup.sh`; `CONNECT_PLUGIN_SKIP_INTEROP=1` skips.

mod common;

use common::*;

macro_rules! suite {
    ($($name:ident: $protocol:literal, $codec:literal, $http:literal;)*) => {$(
        #[test]
        fn $name() {
            run_suite_against_echo_server(Peer::Node, $protocol, $codec, $http);
        }
    )*};
}

suite! {
    connect_es_client_connect_proto_http2: "connect", "proto", "2";
    connect_es_client_connect_json_http2: "connect", "json", "2";
    connect_es_client_connect_proto_http1: "connect", "proto", "1.1";
    connect_es_client_connect_json_http1: "connect", "json", "1.1";
    connect_es_client_grpc_proto_http2: "grpc", "proto", "2";
    connect_es_client_grpc_json_http2: "grpc", "json", "2";
    connect_es_client_grpcweb_proto_http2: "grpcweb", "proto", "2";
    connect_es_client_grpcweb_json_http2: "grpcweb", "json", "2";
    connect_es_client_grpcweb_proto_http1: "grpcweb", "proto", "1.1";
    connect_es_client_grpcweb_json_http1: "grpcweb", "json", "1.1";
}

#[test]
fn echo_client_against_connect_es_server() {
    if !peer_ready(Peer::Node) {
        return;
    }
    let mut cmd = node();
    cmd.args(["server.mjs", "--exit-on-stdin-close"]);
    let server = Server::start("connect-es server", cmd, 2);
    let urls = PeerUrls {
        h2c: server.url_labelled("h2c"),
        http1: server.url_labelled("http1"),
    };
    check_echo_client("connect-es server", &urls, &server);
    check_library_client("connect-es server", &urls);
}
