//! `buf curl` (buf 1.75.0, from the npm package `@bufbuild/buf`) against our
//! `echo-server`, with the schema taken from the contract's .proto files (no
//! server reflection): every method, and an error with a detail, over Connect
//! (HTTP/1.1 and h2c), gRPC (h2c) and gRPC-Web (HTTP/1.1 and h2c).
//!
//! Needs `interop/setup.sh`; `CONNECT_PLUGIN_SKIP_INTEROP=1` skips.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

/// buf curl's JSON with all whitespace removed, so checks don't depend on its
/// indentation (responses and errors are indented differently).
fn squash(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn buf_curl(server: &Server, protocol: &str, http2: bool, method: &str, data: &str) -> Run {
    let mut cmd: Command = buf();
    cmd.args(["curl", "--schema", SHARED_PROTO, "--protocol", protocol]);
    if http2 {
        cmd.arg("--http2-prior-knowledge");
    }
    cmd.args(["-d", data]);
    cmd.arg(format!("{}/echo.v1.EchoService/{method}", server.url()));
    run(cmd, Duration::from_secs(30))
}

fn buf_curl_against_echo_server(protocol: &str, http2: bool) {
    if !peer_ready(Peer::Buf) {
        return;
    }
    let server = start_echo_server();
    let tag = format!("{protocol}, {}", if http2 { "h2c" } else { "HTTP/1.1" });
    let mut failures = Failures::default();

    let unary = buf_curl(&server, protocol, http2, "Echo", r#"{"message":"hi"}"#);
    failures.check(
        unary.status.success() && squash(&unary.stdout).contains(r#""message":"hi""#),
        || format!("unary Echo ({tag})\n{}", unary.describe()),
    );

    let stream = buf_curl(
        &server,
        protocol,
        http2,
        "EchoServerStream",
        r#"{"message":"s","count":3}"#,
    );
    let out = squash(&stream.stdout);
    failures.check(
        stream.status.success()
            && out.matches(r#""message":"s""#).count() == 3
            && out.contains(r#""index":1"#)
            && out.contains(r#""index":2"#),
        || {
            format!(
                "EchoServerStream, 3 responses ({tag})\n{}",
                stream.describe()
            )
        },
    );

    // Client streaming over HTTP/1.1 is fine for Connect and gRPC-Web; bidi
    // needs HTTP/2 (buf curl switches to it by itself), so only with h2c.
    let client_stream = buf_curl(
        &server,
        protocol,
        http2,
        "EchoClientStream",
        r#"{"message":"a"} {"message":"b"} {"message":"c"}"#,
    );
    let out = squash(&client_stream.stdout);
    failures.check(
        client_stream.status.success()
            && out.contains(r#""message":"a,b,c""#)
            && out.contains(r#""index":3"#),
        || format!("EchoClientStream ({tag})\n{}", client_stream.describe()),
    );
    if http2 {
        let bidi = buf_curl(
            &server,
            protocol,
            http2,
            "EchoBidi",
            r#"{"message":"x"} {"message":"y"}"#,
        );
        let out = squash(&bidi.stdout);
        failures.check(
            bidi.status.success()
                && out.contains(r#"{"message":"x"}"#)
                && out.contains(r#"{"message":"y","index":1}"#),
            || format!("EchoBidi ({tag})\n{}", bidi.describe()),
        );
    }

    // An error with one echo.v1.EchoResponse{message: "boom"} detail; buf curl
    // prints the detail's bytes as base64: 0a 04 "boom" = "CgRib29t".
    let error = buf_curl(
        &server,
        protocol,
        http2,
        "Echo",
        r#"{"message":"m","fail":{"code":"not_found","message":"boom","withDetail":true}}"#,
    );
    let err = squash(&error.stderr);
    failures.check(
        !error.status.success()
            && err.contains(r#""code":"not_found""#)
            && err.contains(r#""message":"boom""#)
            && err.contains(r#""type":"echo.v1.EchoResponse""#)
            && err.contains(r#""value":"CgRib29t""#),
        || {
            format!(
                "Echo failing with not_found and a detail ({tag})\n{}",
                error.describe()
            )
        },
    );

    for run in [&unary, &stream, &client_stream, &error] {
        println!("{}", run.describe());
    }
    failures.finish(&server.output());
}

#[test]
fn buf_curl_connect_http1() {
    buf_curl_against_echo_server("connect", false);
}

#[test]
fn buf_curl_connect_http2() {
    buf_curl_against_echo_server("connect", true);
}

#[test]
fn buf_curl_grpc_http2() {
    buf_curl_against_echo_server("grpc", true);
}

#[test]
fn buf_curl_grpcweb_http1() {
    buf_curl_against_echo_server("grpcweb", false);
}

#[test]
fn buf_curl_grpcweb_http2() {
    buf_curl_against_echo_server("grpcweb", true);
}
