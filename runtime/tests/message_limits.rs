//! Receive and send limits are separate, on the server (`Router::max_receive_message_size`,
//! `max_send_message_size`) and on the client (`ClientConfig::max_receive_message_size`,
//! `max_send_message_size`), as connect-go's ReadMaxBytes/SendMaxBytes and tonic's
//! decoding/encoding limits are: a request exactly at the server's receive limit is
//! answered even though its echo is larger, and each side refuses what it may not send with
//! `resource_exhausted`. Checked end to end with the runtime's own client and server over
//! 127.0.0.1, in every protocol.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::Msg;
use connect_plugin::rpc::{self, Idempotency, MethodDescriptor};
use connect_plugin::transport::HttpVersion;
use connect_plugin::{
    Channel, Client, ClientConfig, Code, Encoding, Protocol, Request, Response, Router, Server,
    Status, StreamType,
};
use futures_util::StreamExt as _;

const ECHO: MethodDescriptor =
    MethodDescriptor::new("/t.v1.T/Echo", StreamType::Unary, Idempotency::Unknown);
const REPEAT: MethodDescriptor = MethodDescriptor::new(
    "/t.v1.T/Repeat",
    StreamType::ServerStreaming,
    Idempotency::Unknown,
);

/// The server's receive limit in these tests.
const RECEIVE: usize = 2048;

fn msg(text: String) -> Msg {
    Msg { text }
}

/// A message whose encoding is exactly `len` bytes (`len` from 3 to 129).
fn sized(len: usize) -> Msg {
    msg("a".repeat(len - 2))
}

fn encoded_len(m: &Msg) -> usize {
    prost::Message::encoded_len(m)
}

/// Echo answers `echo:` and the text; Repeat streams the text back twice, the second time
/// ten times over. `calls` counts the calls that reached a handler.
fn router(calls: Arc<AtomicUsize>) -> Router {
    let repeat_calls = calls.clone();
    Router::new()
        .route(
            ECHO,
            rpc::unary(move |req: Request<Msg>| {
                calls.fetch_add(1, Ordering::SeqCst);
                async move { Ok(Response::new(msg(format!("echo:{}", req.get_ref().text)))) }
            }),
        )
        .route(
            REPEAT,
            rpc::server_streaming(move |req: Request<Msg>| {
                repeat_calls.fetch_add(1, Ordering::SeqCst);
                let text = req.into_inner().text;
                let out = futures_util::stream::iter([text.clone(), text.repeat(10)])
                    .map(|t| Ok::<_, Status>(msg(t)));
                async move { Ok(Response::new(out)) }
            }),
        )
}

fn client(url: &str, protocol: Protocol, config: ClientConfig) -> Client {
    let version = if protocol == Protocol::Grpc {
        HttpVersion::Http2
    } else {
        HttpVersion::Http1
    };
    let channel = Channel::builder(url)
        .expect("url")
        .http_version(version)
        .build();
    Client::with_config(channel, ClientConfig { protocol, ..config })
}

const PROTOCOLS: [Protocol; 3] = [Protocol::Connect, Protocol::Grpc, Protocol::GrpcWeb];

#[tokio::test]
async fn a_request_at_the_receive_limit_is_answered_with_a_larger_response() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = Server::new(router(calls).max_receive_message_size(RECEIVE))
        .bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", server.local_addr());
    let at_limit = msg("a".repeat(RECEIVE - 3));
    assert_eq!(encoded_len(&at_limit), RECEIVE);
    let over = msg("a".repeat(RECEIVE - 2));
    for protocol in PROTOCOLS {
        let c = client(&url, protocol, ClientConfig::default());
        let reply: Response<Msg> = c
            .unary(&ECHO, Request::new(at_limit.clone()))
            .await
            .unwrap_or_else(|e| panic!("{protocol:?}: at the limit: {e}"));
        assert_eq!(reply.get_ref().text, format!("echo:{}", at_limit.text));
        assert!(encoded_len(reply.get_ref()) > RECEIVE);

        let e = c
            .unary::<Msg, Msg>(&ECHO, Request::new(over.clone()))
            .await
            .expect_err("one byte over the receive limit");
        assert_eq!(e.code(), Code::ResourceExhausted, "{protocol:?}: {e}");

        // Measured after decompression: a gzip request far smaller on the wire.
        let gz = client(
            &url,
            protocol,
            ClientConfig {
                send_compression: Encoding::Gzip,
                compress_min_bytes: 0,
                ..ClientConfig::default()
            },
        );
        let big = msg("a".repeat(4 * RECEIVE));
        let e = gz
            .unary::<Msg, Msg>(&ECHO, Request::new(big))
            .await
            .expect_err("over the limit once decompressed");
        assert_eq!(e.code(), Code::ResourceExhausted, "{protocol:?}: {e}");
    }
    server.shutdown(Duration::ZERO).await;
}

#[tokio::test]
async fn the_server_refuses_to_send_a_message_over_its_send_limit() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = Server::new(router(calls).max_send_message_size(100))
        .bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", server.local_addr());
    for protocol in PROTOCOLS {
        let c = client(&url, protocol, ClientConfig::default());
        // "echo:" and 93 bytes make a 100-byte message: at the limit.
        let reply: Response<Msg> = c
            .unary(&ECHO, Request::new(sized(95)))
            .await
            .unwrap_or_else(|e| panic!("{protocol:?}: at the send limit: {e}"));
        assert_eq!(encoded_len(reply.get_ref()), 100);
        let e = c
            .unary::<Msg, Msg>(&ECHO, Request::new(sized(96)))
            .await
            .expect_err("a response over the send limit");
        assert_eq!(e.code(), Code::ResourceExhausted, "{protocol:?}: {e}");
        assert!(e.message().contains("send limit"), "{protocol:?}: {e}");

        // A stream sends what fits, then ends with the error.
        let mut stream = c
            .server_streaming::<Msg, Msg>(&REPEAT, Request::new(msg("abcdefghijklmnopqrst".into())))
            .await
            .unwrap_or_else(|e| panic!("{protocol:?}: {e}"))
            .into_inner();
        let first = stream.message().await.expect("first message");
        assert_eq!(
            first.map(|m| m.text).as_deref(),
            Some("abcdefghijklmnopqrst")
        );
        let e = stream
            .message()
            .await
            .expect_err("the second message is over the limit");
        assert_eq!(e.code(), Code::ResourceExhausted, "{protocol:?}: {e}");
    }
    server.shutdown(Duration::ZERO).await;
}

#[tokio::test]
async fn the_client_refuses_to_send_over_its_send_limit_and_to_receive_over_its_receive_limit() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = Server::new(router(calls.clone()))
        .bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", server.local_addr());
    for protocol in PROTOCOLS {
        let c = client(
            &url,
            protocol,
            ClientConfig {
                max_send_message_size: 100,
                max_receive_message_size: 100,
                ..ClientConfig::default()
            },
        );
        let before = calls.load(Ordering::SeqCst);
        let e = c
            .unary::<Msg, Msg>(&ECHO, Request::new(sized(101)))
            .await
            .expect_err("a request over the client's send limit");
        assert_eq!(e.code(), Code::ResourceExhausted, "{protocol:?}: {e}");
        assert_eq!(
            calls.load(Ordering::SeqCst),
            before,
            "{protocol:?}: refused before sending"
        );

        // At the send limit it goes; its echo (105 bytes) is over the receive limit.
        let e = c
            .unary::<Msg, Msg>(&ECHO, Request::new(sized(100)))
            .await
            .expect_err("a response over the client's receive limit");
        assert_eq!(e.code(), Code::ResourceExhausted, "{protocol:?}: {e}");
        assert_eq!(calls.load(Ordering::SeqCst), before + 1, "{protocol:?}");

        let reply: Response<Msg> = c
            .unary(&ECHO, Request::new(sized(95)))
            .await
            .unwrap_or_else(|e| panic!("{protocol:?}: within both limits: {e}"));
        assert_eq!(encoded_len(reply.get_ref()), 100);
    }
    server.shutdown(Duration::ZERO).await;
}
