//! What a client makes of unexpected answers, each the wire input of a case of the
//! conformance suite's client tests (`connect_client_error_endstream.yaml`,
//! `*_client_unexpected.yaml`, `client_http_to_rpc_code.yaml`): Connect errors without a
//! valid code, unary answers with no message or two, answers in another content type or
//! HTTP status, and a `grpc-status` header that is not trailers-only.

mod common;
mod raw;

use connect_plugin::transport::HttpVersion;
use connect_plugin::{Code, Protocol};
use prost::Message as _;
use raw::call::{BIDI, CLIENT, Outcome, SERVER, UNARY, call, client, values};
use raw::{Canned, envelope};

use common::Msg;
use connect_plugin::rpc::MethodDescriptor;

const H1: HttpVersion = HttpVersion::Http1;
const H2: HttpVersion = HttpVersion::Http2;

/// Serves `canned` over `version` and calls `method` on it.
async fn answer(
    canned: Canned,
    protocol: Protocol,
    version: HttpVersion,
    method: &MethodDescriptor,
) -> Outcome {
    let server = match version {
        HttpVersion::Http2 => raw::h2(canned).await,
        HttpVersion::Http1 => raw::http1(canned).await,
    };
    call(&client(&server.url(), protocol, version), method).await
}

fn msg(text: &str) -> Vec<u8> {
    Msg {
        text: text.to_owned(),
    }
    .encode_to_vec()
}

/// A status line and a JSON body, as a Connect unary error.
fn json_error(status: u16, body: &str) -> Canned {
    Canned::new(status, "application/json").data(body.to_owned())
}

/// A Connect stream answer ending with `end` (the end-stream message's JSON).
fn end_stream(end: &str) -> Canned {
    Canned::new(200, "application/connect+proto").frame(2, end.as_bytes())
}

#[tokio::test]
async fn connect_unary_errors_without_a_valid_code_take_the_http_status_code() {
    let cases = [
        ("error/null", 401, "null", Code::Unauthenticated, None),
        (
            "error/null-code",
            401,
            r#"{ "code": null, "message": "oops" }"#,
            Code::Unauthenticated,
            Some("oops"),
        ),
        (
            "error/missing-code",
            401,
            r#"{ "message": "oops" }"#,
            Code::Unauthenticated,
            Some("oops"),
        ),
        (
            "error/unrecognized-code",
            429,
            r#"{ "code": "foobar", "message": "oops" }"#,
            Code::Unavailable,
            Some("oops"),
        ),
        (
            "error/missing-message",
            401,
            r#"{ "code": "unauthenticated" }"#,
            Code::Unauthenticated,
            Some(""),
        ),
        (
            "error/allow-unrecognized-fields",
            422,
            r#"{ "code": "out_of_range", "message": "oops", "foobar": "baz" }"#,
            Code::OutOfRange,
            Some("oops"),
        ),
        (
            "error/invalid-details-debug",
            422,
            r#"{ "code": "out_of_range", "message": "oops", "details": [{"type": "google.protobuf.FileDescriptorProto", "value": "Cgp0ZXN0LnByb3Rv", "debug": "garbage"}] }"#,
            Code::OutOfRange,
            Some("oops"),
        ),
    ];
    for version in [H1, H2] {
        for (name, status, body, code, message) in cases {
            let out = answer(json_error(status, body), Protocol::Connect, version, &UNARY).await;
            let e = out
                .error
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: {out:?}"));
            assert_eq!(e.code(), code, "{name} over {version:?}: {e:?}");
            if let Some(message) = message {
                assert_eq!(e.message(), message, "{name}");
            }
        }
    }
    // The detail is read from its bytes, whatever `debug` says.
    let out = answer(json_error(422, cases[6].2), Protocol::Connect, H2, &UNARY).await;
    let e = out.error.unwrap();
    assert_eq!(
        e.details()[0].type_name(),
        "google.protobuf.FileDescriptorProto"
    );
    assert_eq!(&e.details()[0].value()[..], b"\n\ntest.proto");
}

#[tokio::test]
async fn connect_end_stream_errors_without_a_valid_code_are_unknown() {
    let cases = [
        (
            r#"{ "error": { "code": null, "message": "oops" } }"#,
            Code::Unknown,
            "oops",
        ),
        (
            r#"{ "error": { "message": "oops" } }"#,
            Code::Unknown,
            "oops",
        ),
        (
            r#"{ "error": { "code": "foobar", "message": "oops" } }"#,
            Code::Unknown,
            "oops",
        ),
        (
            r#"{ "error": { "code": "unauthenticated" } }"#,
            Code::Unauthenticated,
            "",
        ),
    ];
    for version in [H1, H2] {
        for (end, code, message) in cases {
            let out = answer(end_stream(end), Protocol::Connect, version, &SERVER).await;
            let e = out
                .error
                .as_ref()
                .unwrap_or_else(|| panic!("{end}: {out:?}"));
            assert_eq!((e.code(), e.message()), (code, message), "{end}");
        }
        // `"error": null` is no error: an empty, successful stream.
        let out = answer(
            end_stream(r#"{ "error": null }"#),
            Protocol::Connect,
            version,
            &SERVER,
        )
        .await;
        assert!(out.error.is_none() && out.messages.is_empty(), "{out:?}");
    }
}

#[tokio::test]
async fn a_unary_answer_with_no_message_or_two_is_unimplemented() {
    let one = envelope(0, &msg(""));
    // gRPC: status OK in the trailers.
    for method in [UNARY, CLIENT] {
        let none = Canned::new(200, "application/grpc").trailer("grpc-status", "0");
        let two = Canned::new(200, "application/grpc")
            .data(one.clone())
            .data(one.clone())
            .trailer("grpc-status", "0");
        for canned in [none, two] {
            let out = answer(canned, Protocol::Grpc, H2, &method).await;
            assert_eq!(out.code(), Code::Unimplemented, "{out:?}");
        }
    }
    // gRPC-Web: status OK in a trailers frame, or in the headers of a trailers-only answer.
    for version in [H1, H2] {
        for method in [UNARY, CLIENT] {
            let none = Canned::new(200, "application/grpc-web").frame(0x80, b"grpc-status: 0\r\n");
            let two = Canned::new(200, "application/grpc-web")
                .data(one.clone())
                .data(one.clone())
                .frame(0x80, b"grpc-status: 0\r\n");
            let trailers_only = Canned::new(200, "application/grpc-web").header("grpc-status", "0");
            for canned in [none, two, trailers_only] {
                let out = answer(canned, Protocol::GrpcWeb, version, &method).await;
                assert_eq!(out.code(), Code::Unimplemented, "{version:?} {out:?}");
            }
        }
        // Connect client streams (the end-stream message's top-level fields mean nothing).
        let end = br#"{ "code": "out_of_range", "message": "oops" }"#;
        let none = Canned::new(200, "application/connect+proto").frame(2, end);
        let two = Canned::new(200, "application/connect+proto")
            .data(one.clone())
            .data(one.clone())
            .frame(2, end);
        for canned in [none, two] {
            let out = answer(canned, Protocol::Connect, version, &CLIENT).await;
            assert_eq!(out.code(), Code::Unimplemented, "{version:?} {out:?}");
        }
    }
    // An error the stream ends with still wins over the missing message.
    let failed = Canned::new(200, "application/grpc")
        .trailer("grpc-status", "9")
        .trailer("grpc-message", "error");
    let out = answer(failed, Protocol::Grpc, H2, &UNARY).await;
    assert_eq!(out.code(), Code::FailedPrecondition);
    // One message is right (an empty one too).
    let ok = Canned::new(200, "application/grpc")
        .data(envelope(0, &[]))
        .trailer("grpc-status", "0");
    let out = answer(ok, Protocol::Grpc, H2, &CLIENT).await;
    assert!(out.error.is_none(), "{out:?}");
    assert_eq!(out.messages, [Msg::default()]);
}

#[tokio::test]
async fn an_answer_in_another_content_type_is_unknown_in_another_codec_internal() {
    for (protocol, version, codec_ct) in [
        (Protocol::Connect, H1, "application/json"),
        (Protocol::Connect, H2, "application/json"),
        (Protocol::Grpc, H2, "application/grpc+json"),
        (Protocol::GrpcWeb, H1, "application/grpc-web+json"),
        (Protocol::GrpcWeb, H2, "application/grpc-web+json"),
    ] {
        let jpeg = Canned::new(200, "image/jpeg");
        let out = answer(jpeg, protocol, version, &UNARY).await;
        assert_eq!(
            out.code(),
            Code::Unknown,
            "{protocol:?} {version:?}: {out:?}"
        );
        let json = Canned::new(200, codec_ct).data(b"{}".to_vec());
        let out = answer(json, protocol, version, &UNARY).await;
        assert_eq!(
            out.code(),
            Code::Internal,
            "{protocol:?} {version:?}: {out:?}"
        );
    }
    // A Connect stream answered in the unary content type is not a Connect stream.
    let unary_ct = Canned::new(200, "application/proto").frame(2, b"{}");
    let out = answer(unary_ct, Protocol::Connect, H2, &SERVER).await;
    assert_eq!(out.code(), Code::Unknown, "{out:?}");
}

#[tokio::test]
async fn http_statuses_map_to_codes() {
    let table = [
        (400, Code::Internal),
        (401, Code::Unauthenticated),
        (403, Code::PermissionDenied),
        (404, Code::Unimplemented),
        (409, Code::Unknown),
        (412, Code::Unknown),
        (413, Code::Unknown),
        (415, Code::Unknown),
        (418, Code::Unknown),
        (429, Code::Unavailable),
        (431, Code::Unknown),
        (502, Code::Unavailable),
        (503, Code::Unavailable),
        (504, Code::Unavailable),
        (505, Code::Unknown),
        (800, Code::Unknown),
    ];
    for (protocol, version) in [
        (Protocol::Connect, H1),
        (Protocol::Connect, H2),
        (Protocol::Grpc, H2),
        (Protocol::GrpcWeb, H1),
        (Protocol::GrpcWeb, H2),
    ] {
        for (status, code) in table {
            let bare = Canned {
                status,
                ..Canned::default()
            };
            let out = answer(bare, protocol, version, &UNARY).await;
            assert_eq!(
                out.code(),
                code,
                "{status} {protocol:?} {version:?}: {out:?}"
            );
        }
    }
    // A Connect error body that is not JSON: the HTTP status says it all.
    let proto_body = Canned::new(403, "application/proto").data(msg("x"));
    let out = answer(proto_body, Protocol::Connect, H2, &UNARY).await;
    assert_eq!(out.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn a_grpc_status_header_counts_only_without_body_or_trailers() {
    // gRPC, a body and no trailers: the stream lacks its status.
    let body = Canned::new(200, "application/grpc")
        .header("grpc-status", "9")
        .data(envelope(0, &msg("")));
    let out = answer(body, Protocol::Grpc, H2, &UNARY).await;
    assert!(
        matches!(out.code(), Code::Internal | Code::Unknown),
        "{out:?}"
    );
    // gRPC, trailers: theirs is the status.
    let trailers = Canned::new(200, "application/grpc")
        .header("grpc-status", "8")
        .trailer("foo", "bar")
        .trailer("grpc-status", "9");
    let out = answer(trailers, Protocol::Grpc, H2, &UNARY).await;
    assert_eq!(out.code(), Code::FailedPrecondition, "{out:?}");
    // gRPC-Web, a trailers frame in the body: its status.
    for version in [H1, H2] {
        let body = Canned::new(200, "application/grpc-web")
            .header("grpc-status", "8")
            .frame(0x80, b"grpc-status: 9\r\n");
        let out = answer(body, Protocol::GrpcWeb, version, &UNARY).await;
        assert_eq!(out.code(), Code::FailedPrecondition, "{version:?} {out:?}");
    }
    // Nothing after the headers: theirs is the status (trailers-only).
    for (protocol, version, ct) in [
        (Protocol::Grpc, H2, "application/grpc"),
        (Protocol::GrpcWeb, H1, "application/grpc-web"),
        (Protocol::GrpcWeb, H2, "application/grpc-web"),
    ] {
        for method in [UNARY, CLIENT, SERVER, BIDI] {
            let only = Canned::new(200, ct)
                .header("grpc-status", "9")
                .header("grpc-message", "error");
            let out = answer(only, protocol, version, &method).await;
            assert_eq!(
                out.code(),
                Code::FailedPrecondition,
                "{protocol:?} {version:?} {out:?}"
            );
            assert_eq!(out.error.unwrap().message(), "error");
        }
        // A server stream may well end at once, successfully.
        let empty = Canned::new(200, ct)
            .header("grpc-status", "0")
            .header("x-custom-trailer", "bing");
        let out = answer(empty, protocol, version, &SERVER).await;
        assert!(out.error.is_none() && out.messages.is_empty(), "{out:?}");
        assert_eq!(values(&out.trailers, "x-custom-trailer"), ["bing"]);
    }
    // Without a status anywhere: unknown, with the message the peer gave.
    let missing = Canned::new(200, "application/grpc").trailer("grpc-message", "error");
    let out = answer(missing, Protocol::Grpc, H2, &UNARY).await;
    assert_eq!(out.code(), Code::Unknown, "{out:?}");
    assert_eq!(out.error.unwrap().message(), "error");
}
