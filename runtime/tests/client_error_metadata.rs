//! A failed call's error carries the response headers as well as the trailers, for every
//! protocol and kind of call, whether the failure comes in gRPC trailers, a gRPC-Web
//! trailers frame, a Connect end-stream message or a Connect unary error; a trailers-only
//! answer's metadata are trailers (as grpc-go reports them). Against the conformance
//! suite's raw answers (`grpc_client_trailers.yaml`, `grpc_web_client_trailers.yaml`) and
//! against this crate's own server.

mod common;
mod raw;

use common::Msg;
use connect_plugin::rpc::{self as handler, MethodDescriptor};
use connect_plugin::transport::HttpVersion;
use connect_plugin::{Code, Protocol, Request, Response, Router, Server, Status, Streaming};
use futures_util::stream;
use http::HeaderValue;
use raw::Canned;
use raw::call::{BIDI, CLIENT, Outcome, SERVER, UNARY, call, client, values};

const H1: HttpVersion = HttpVersion::Http1;
const H2: HttpVersion = HttpVersion::Http2;

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

/// The error the suite expects: code 9 (`failed_precondition`), message "error", and the
/// custom header and trailer, each with its every value.
fn assert_failed_with_metadata(out: &Outcome, what: &str) {
    assert_eq!(out.code(), Code::FailedPrecondition, "{what}: {out:?}");
    assert_eq!(out.error.as_ref().unwrap().message(), "error", "{what}");
    assert_eq!(
        values(&out.headers, "x-custom-header"),
        ["foo", "bar"],
        "{what}: {out:?}"
    );
    assert_eq!(
        values(&out.trailers, "x-custom-trailer"),
        ["bing", "quuz"],
        "{what}: {out:?}"
    );
    assert!(out.trailers.get("grpc-status").is_none(), "{what}");
    assert!(out.trailers.get("x-custom-header").is_none(), "{what}");
}

#[tokio::test]
async fn raw_failures_keep_headers_and_trailers() {
    for method in [UNARY, CLIENT, SERVER, BIDI] {
        let grpc = Canned::new(200, "application/grpc")
            .header("x-custom-header", "foo")
            .header("x-custom-header", "bar")
            .trailer("grpc-status", "9")
            .trailer("grpc-message", "error")
            .trailer("x-custom-trailer", "bing")
            .trailer("x-custom-trailer", "quuz");
        let out = answer(grpc, Protocol::Grpc, H2, &method).await;
        assert_failed_with_metadata(&out, &format!("gRPC {}", method.path));
        for version in [H1, H2] {
            if version == H1 && method == BIDI {
                continue;
            }
            let web = Canned::new(200, "application/grpc-web")
                .header("x-custom-header", "foo")
                .header("x-custom-header", "bar")
                .frame(
                    0x80,
                    b"Grpc-Status: 9\r\ngRPC-Message: error\r\nx-Custom-Trailer: bing\r\nx-custom-trailer: quuz\r\n",
                );
            let out = answer(web, Protocol::GrpcWeb, version, &method).await;
            assert_failed_with_metadata(&out, &format!("gRPC-Web {version:?} {}", method.path));
            if method == UNARY {
                continue;
            }
            let connect = Canned::new(200, "application/connect+proto")
                .header("x-custom-header", "foo")
                .header("x-custom-header", "bar")
                .frame(
                    2,
                    br#"{"error": {"code": "failed_precondition", "message": "error"}, "metadata": {"x-custom-trailer": ["bing", "quuz"]}}"#,
                );
            let out = answer(connect, Protocol::Connect, version, &method).await;
            assert_failed_with_metadata(&out, &format!("Connect {version:?} {}", method.path));
        }
    }
    for version in [H1, H2] {
        let unary = Canned::new(400, "application/json")
            .header("x-custom-header", "foo")
            .header("x-custom-header", "bar")
            .header("trailer-x-custom-trailer", "bing")
            .header("trailer-x-custom-trailer", "quuz")
            .data(r#"{"code": "failed_precondition", "message": "error"}"#);
        let out = answer(unary, Protocol::Connect, version, &UNARY).await;
        assert_failed_with_metadata(&out, &format!("Connect unary {version:?}"));
    }
}

#[tokio::test]
async fn a_failure_after_a_message_keeps_the_headers() {
    let one = raw::envelope(0, &prost::Message::encode_to_vec(&Msg::default()));
    let grpc = Canned::new(200, "application/grpc")
        .header("x-custom-header", "foo")
        .header("x-custom-header", "bar")
        .data(one.clone())
        .trailer("grpc-status", "9")
        .trailer("grpc-message", "error")
        .trailer("x-custom-trailer", "bing")
        .trailer("x-custom-trailer", "quuz");
    let out = answer(grpc, Protocol::Grpc, H2, &SERVER).await;
    assert_eq!(out.messages.len(), 1);
    assert_failed_with_metadata(&out, "gRPC stream");
    // A stream cut short: the transport's error still says what the headers were.
    let cut = Canned::new(200, "application/connect+proto")
        .header("x-custom-header", "foo")
        .data(one);
    let out = answer(cut, Protocol::Connect, H2, &SERVER).await;
    assert_eq!(out.code(), Code::Internal);
    assert_eq!(values(&out.headers, "x-custom-header"), ["foo"]);
}

#[tokio::test]
async fn trailers_only_metadata_are_trailers() {
    for (protocol, version, ct) in [
        (Protocol::Grpc, H2, "application/grpc"),
        (Protocol::GrpcWeb, H1, "application/grpc-web"),
        (Protocol::GrpcWeb, H2, "application/grpc-web"),
    ] {
        for method in [UNARY, SERVER] {
            let only = Canned::new(200, ct)
                .header("x-custom-trailer", "bing")
                .header("x-custom-trailer", "quuz")
                .header("grpc-status", "9")
                .header("grpc-message", "error");
            let out = answer(only, protocol, version, &method).await;
            assert_eq!(out.code(), Code::FailedPrecondition, "{out:?}");
            assert_eq!(values(&out.trailers, "x-custom-trailer"), ["bing", "quuz"]);
            assert!(out.trailers.get("content-type").is_none(), "{out:?}");
            assert!(out.trailers.get("grpc-status").is_none(), "{out:?}");
            assert!(out.headers.get("x-custom-trailer").is_none(), "{out:?}");
        }
    }
}

#[tokio::test]
async fn successful_streams_keep_headers_and_trailers() {
    for version in [H1, H2] {
        let ok = Canned::new(200, "application/grpc-web+proto")
            .header("x-custom-header", "foo")
            .frame(0, b"")
            .frame(0x80, b"grpc-status: 0\r\nx-custom-trailer: bing\r\n");
        let out = answer(ok, Protocol::GrpcWeb, version, &SERVER).await;
        assert!(out.error.is_none(), "{out:?}");
        assert_eq!(out.messages, [Msg::default()]);
        assert_eq!(values(&out.headers, "x-custom-header"), ["foo"]);
        assert_eq!(values(&out.trailers, "x-custom-trailer"), ["bing"]);
    }
}

/// An error with its own response headers and trailers.
fn failure() -> Status {
    let mut e = Status::failed_precondition("error");
    e.headers_mut()
        .append("x-custom-header", HeaderValue::from_static("foo"));
    e.headers_mut()
        .append("x-custom-header", HeaderValue::from_static("bar"));
    e.trailers_mut()
        .append("x-custom-trailer", HeaderValue::from_static("bing"));
    e.trailers_mut()
        .append("x-custom-trailer", HeaderValue::from_static("quuz"));
    e
}

type NoMessages = stream::Empty<Result<Msg, Status>>;

fn failing_router() -> Router {
    Router::new()
        .route(
            UNARY,
            handler::unary(|_: Request<Msg>| async { Err::<Response<Msg>, _>(failure()) }),
        )
        .route(
            CLIENT,
            handler::client_streaming(|_: Request<Streaming<Msg>>| async {
                Err::<Response<Msg>, _>(failure())
            }),
        )
        .route(
            SERVER,
            handler::server_streaming(|_: Request<Msg>| async {
                // Headers first, one message, then the failure with its trailers.
                let mut e = failure();
                let headers = std::mem::take(e.headers_mut());
                let messages = stream::iter([Ok(Msg::default()), Err(e)]);
                let mut resp = Response::new(messages);
                *resp.headers_mut() = headers;
                Ok(resp)
            }),
        )
        .route(
            BIDI,
            handler::bidi_streaming(|_: Request<Streaming<Msg>>| async {
                Err::<Response<NoMessages>, _>(failure())
            }),
        )
}

#[tokio::test]
async fn own_server_failures_keep_headers_and_trailers() {
    let server = Server::new(failing_router())
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let url = format!("http://{}", server.local_addr());
    for (protocol, version) in [
        (Protocol::Connect, H1),
        (Protocol::Connect, H2),
        (Protocol::Grpc, H2),
        (Protocol::GrpcWeb, H1),
        (Protocol::GrpcWeb, H2),
    ] {
        let client = client(&url, protocol, version);
        for method in [UNARY, CLIENT, SERVER, BIDI] {
            if version == H1 && method == BIDI {
                continue;
            }
            let out = call(&client, &method).await;
            assert_failed_with_metadata(&out, &format!("{protocol:?} {version:?} {}", method.path));
        }
    }
    server.shutdown(std::time::Duration::ZERO).await;
}
