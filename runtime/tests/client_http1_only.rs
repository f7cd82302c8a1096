//! Pointed at a server that speaks only HTTP/1.1 on a plaintext port, the default channel
//! (HTTP/2 with prior knowledge) fails with an error that says so and how to ask for
//! HTTP/1.1, instead of an HTTP/2 framing error; asked for HTTP/1.1, the call goes through.
//! The servers: hyper's HTTP/1.1 server, which closes the connection on the HTTP/2
//! preface without a word (no request reaches its handler), and one that answers it with
//! an HTTP/1.1 error, as nginx does.

mod common;
mod raw;

use connect_plugin::transport::HttpVersion;
use connect_plugin::{Code, Protocol};
use raw::Canned;
use raw::call::{SERVER, UNARY, call, client};

#[tokio::test]
async fn an_http1_only_server_is_named_as_such() {
    let mut server = raw::http1(Canned::new(200, "application/proto")).await;
    for protocol in [Protocol::Connect, Protocol::Grpc, Protocol::GrpcWeb] {
        let h2 = client(&server.url(), protocol, HttpVersion::Http2);
        for method in [UNARY, SERVER] {
            let out = call(&h2, &method).await;
            let e = out.error.expect("the call fails");
            assert_eq!(e.code(), Code::Unavailable, "{e:?}");
            assert!(e.message().contains("may speak only HTTP/1.1"), "{e:?}");
            assert!(e.message().contains("HttpVersion::Http1"), "{e:?}");
            assert!(!e.message().contains("frame"), "{e:?}");
        }
    }
    assert!(
        server.try_next_request().is_none(),
        "the HTTP/2 preface is no HTTP/1.1 request"
    );

    let h1 = client(&server.url(), Protocol::Connect, HttpVersion::Http1);
    let out = call(&h1, &UNARY).await;
    assert!(out.error.is_none(), "{out:?}");
    assert_eq!(server.next_request().await.uri.path(), UNARY.path);
}

/// A server that answers whatever comes with an HTTP/1.1 `400 Bad Request` and closes.
async fn answering_400() -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut io, _)) = listener.accept().await {
            let mut preface = [0u8; 24];
            if io.read_exact(&mut preface).await.is_ok() {
                let _ = io
                    .write_all(b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        }
    });
    url
}

#[tokio::test]
async fn an_http1_answer_to_http2_is_named_as_such() {
    let url = answering_400().await;
    for protocol in [Protocol::Connect, Protocol::Grpc] {
        let out = call(&client(&url, protocol, HttpVersion::Http2), &UNARY).await;
        let e = out.error.expect("the call fails");
        assert_eq!(e.code(), Code::Unavailable, "{e:?}");
        assert!(
            e.message()
                .contains("answered HTTP/2 with HTTP/1.1 (\"HTTP/1.1 400 Bad Request\")"),
            "{e:?}"
        );
        assert!(e.message().contains("HttpVersion::Http1"), "{e:?}");
    }
}
