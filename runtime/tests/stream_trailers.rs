//! A response stream's trailers are decided when the stream ends: what the stream writes
//! into its `StreamTrailers` while it runs is sent after the response's own trailers, in
//! every protocol (Connect end-stream metadata, gRPC HTTP trailers, gRPC-Web trailers
//! frame). A stream that ends with `Err(status)` ends with that status, its trailers and
//! its headers (the response headers being gone by then), and the stream's trailers too.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use common::Msg;
use connect_plugin::rpc::{self, Idempotency, MethodDescriptor, StreamTrailers};
use connect_plugin::transport::HttpVersion;
use connect_plugin::{
    Channel, Client, ClientConfig, Code, Protocol, Request, Response, Router, Server, Status,
    StreamType,
};
use futures_util::StreamExt as _;
use http::{HeaderMap, HeaderValue};
use http_body_util::BodyExt as _;

/// Streams as many messages as the request's text says, then says how many it sent.
const COUNT: MethodDescriptor = MethodDescriptor::new(
    "/t.v1.T/Count",
    StreamType::ServerStreaming,
    Idempotency::Unknown,
);
/// Streams one message, then fails.
const FAIL: MethodDescriptor = MethodDescriptor::new(
    "/t.v1.T/Fail",
    StreamType::ServerStreaming,
    Idempotency::Unknown,
);

fn msg(text: &str) -> Msg {
    Msg {
        text: text.to_owned(),
    }
}

fn pb(text: &str) -> Vec<u8> {
    prost::Message::encode_to_vec(&msg(text))
}

fn failure() -> Status {
    let mut e = Status::aborted("stopped midway");
    e.headers_mut()
        .insert("x-error-header", HeaderValue::from_static("eh"));
    e.trailers_mut()
        .insert("x-error-trailer", HeaderValue::from_static("et"));
    e
}

fn router() -> Router {
    Router::new()
        .route(
            COUNT,
            rpc::server_streaming(|req: Request<Msg>| async move {
                let n: usize = req.get_ref().text.parse().map_err(|_| {
                    Status::invalid_argument("the text is the number of messages to send")
                })?;
                let sent = Arc::new(AtomicUsize::new(0));
                let trailers = StreamTrailers::new();
                let at_end = trailers.clone();
                let counter = sent.clone();
                let messages = futures_util::stream::iter(0..n).map(move |i| {
                    counter.fetch_add(1, Ordering::SeqCst);
                    Some(Ok::<_, Status>(msg(&i.to_string())))
                });
                // Runs only once every message is out: long after the handler returned.
                let done = futures_util::stream::once(async move {
                    at_end.insert("x-sent", HeaderValue::from(sent.load(Ordering::SeqCst)));
                    None
                });
                let out = messages.chain(done).filter_map(std::future::ready);
                let mut resp = Response::new(out).with_stream_trailers(trailers);
                resp.headers_mut()
                    .insert("x-header", HeaderValue::from_static("h"));
                resp.trailers_mut()
                    .insert("x-fixed", HeaderValue::from_static("f"));
                Ok(resp)
            }),
        )
        .route(
            FAIL,
            rpc::server_streaming(|_req: Request<Msg>| async move {
                let trailers = StreamTrailers::new();
                let writer = trailers.clone();
                let out = futures_util::stream::iter([0, 1]).map(move |i| {
                    if i == 0 {
                        return Ok(msg("first"));
                    }
                    writer.insert("x-late", HeaderValue::from_static("l"));
                    Err(failure())
                });
                Ok(Response::new(out).with_stream_trailers(trailers))
            }),
        )
}

struct Answer {
    headers: HeaderMap,
    body: Bytes,
    trailers: Option<HeaderMap>,
}

async fn call(path: &str, content_type: &str, text: &str) -> Answer {
    let mut body = vec![0];
    body.extend_from_slice(&(pb(text).len() as u32).to_be_bytes());
    body.extend_from_slice(&pb(text));
    let req = http::Request::post(path)
        .header("content-type", content_type)
        .body(http_body_util::Full::new(Bytes::from(body)))
        .expect("request");
    let resp = router().handle(req).await;
    assert_eq!(resp.status(), 200);
    let (parts, body) = resp.into_parts();
    let collected = body.collect().await.expect("body");
    let trailers = collected.trailers().cloned();
    Answer {
        headers: parts.headers,
        body: collected.to_bytes(),
        trailers,
    }
}

/// The body's frames, `(flags, payload)`.
fn frames(mut body: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while body.len() >= 5 {
        let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        out.push((body[0], body[5..5 + len].to_vec()));
        body = &body[5 + len..];
    }
    assert!(body.is_empty(), "a partial frame");
    out
}

/// A gRPC-Web trailers frame's block as a header map.
fn web_trailers(block: &[u8]) -> HeaderMap {
    let text = std::str::from_utf8(block).expect("ASCII trailers");
    let mut map = HeaderMap::new();
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        let (k, v) = line.split_once(':').expect("a trailer line");
        map.append(
            http::HeaderName::from_bytes(k.trim().as_bytes()).expect("name"),
            HeaderValue::from_str(v.trim()).expect("value"),
        );
    }
    map
}

fn value<'a>(map: &'a HeaderMap, name: &str) -> Option<&'a str> {
    map.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn connect_stream_trailers_are_read_when_the_stream_ends() {
    let a = call(COUNT.path, "application/connect+proto", "3").await;
    assert_eq!(value(&a.headers, "x-header"), Some("h"));
    let mut f = frames(&a.body);
    let (flags, end) = f.pop().expect("end-stream frame");
    assert_eq!(flags, 0x02);
    assert_eq!(f, [(0, pb("0")), (0, pb("1")), (0, pb("2"))]);
    let end: serde_json::Value = serde_json::from_slice(&end).expect("JSON");
    assert!(end.get("error").is_none(), "{end}");
    assert_eq!(end["metadata"]["x-fixed"], serde_json::json!(["f"]));
    assert_eq!(end["metadata"]["x-sent"], serde_json::json!(["3"]));

    let a = call(FAIL.path, "application/connect+proto", "").await;
    let mut f = frames(&a.body);
    let (flags, end) = f.pop().expect("end-stream frame");
    assert_eq!(flags, 0x02);
    assert_eq!(f, [(0, pb("first"))]);
    let end: serde_json::Value = serde_json::from_slice(&end).expect("JSON");
    assert_eq!(end["error"]["code"], "aborted", "{end}");
    assert_eq!(end["error"]["message"], "stopped midway", "{end}");
    for (k, v) in [
        ("x-error-header", "eh"),
        ("x-error-trailer", "et"),
        ("x-late", "l"),
    ] {
        assert_eq!(end["metadata"][k], serde_json::json!([v]), "{k}: {end}");
    }
}

#[tokio::test]
async fn grpc_stream_trailers_are_read_when_the_stream_ends() {
    let a = call(COUNT.path, "application/grpc", "2").await;
    assert_eq!(value(&a.headers, "x-header"), Some("h"));
    assert_eq!(frames(&a.body), [(0, pb("0")), (0, pb("1"))]);
    let t = a.trailers.expect("HTTP trailers");
    assert_eq!(value(&t, "grpc-status"), Some("0"));
    assert_eq!(value(&t, "x-fixed"), Some("f"));
    assert_eq!(value(&t, "x-sent"), Some("2"));

    let a = call(FAIL.path, "application/grpc", "").await;
    assert_eq!(frames(&a.body), [(0, pb("first"))]);
    let t = a.trailers.expect("HTTP trailers");
    assert_eq!(value(&t, "grpc-status"), Some("10"));
    assert_eq!(value(&t, "grpc-message"), Some("stopped midway"));
    assert_eq!(value(&t, "x-error-header"), Some("eh"));
    assert_eq!(value(&t, "x-error-trailer"), Some("et"));
    assert_eq!(value(&t, "x-late"), Some("l"));
}

#[tokio::test]
async fn grpc_web_stream_trailers_are_read_when_the_stream_ends() {
    let a = call(COUNT.path, "application/grpc-web+proto", "1").await;
    assert!(a.trailers.is_none());
    let mut f = frames(&a.body);
    let (flags, block) = f.pop().expect("trailers frame");
    assert_eq!(flags, 0x80);
    assert_eq!(f, [(0, pb("0"))]);
    let t = web_trailers(&block);
    assert_eq!(value(&t, "grpc-status"), Some("0"));
    assert_eq!(value(&t, "x-fixed"), Some("f"));
    assert_eq!(value(&t, "x-sent"), Some("1"));

    let a = call(FAIL.path, "application/grpc-web+proto", "").await;
    let mut f = frames(&a.body);
    let (flags, block) = f.pop().expect("trailers frame");
    assert_eq!(flags, 0x80);
    assert_eq!(f, [(0, pb("first"))]);
    let t = web_trailers(&block);
    assert_eq!(value(&t, "grpc-status"), Some("10"));
    assert_eq!(value(&t, "x-error-header"), Some("eh"));
    assert_eq!(value(&t, "x-error-trailer"), Some("et"));
    assert_eq!(value(&t, "x-late"), Some("l"));
}

/// The runtime's own client reads them too, over 127.0.0.1, in every protocol.
#[tokio::test]
async fn the_client_reads_the_trailers_a_stream_decided_at_its_end() {
    let server = Server::new(router())
        .bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", server.local_addr());
    for protocol in [Protocol::Connect, Protocol::Grpc, Protocol::GrpcWeb] {
        let version = if protocol == Protocol::Grpc {
            HttpVersion::Http2
        } else {
            HttpVersion::Http1
        };
        let channel = Channel::builder(&url)
            .expect("url")
            .http_version(version)
            .build();
        let client = Client::with_config(
            channel,
            ClientConfig {
                protocol,
                ..ClientConfig::default()
            },
        );
        let mut stream = client
            .server_streaming::<Msg, Msg>(&COUNT, Request::new(msg("4")))
            .await
            .unwrap_or_else(|e| panic!("{protocol:?}: {e}"))
            .into_inner();
        let mut got = Vec::new();
        while let Some(m) = stream.message().await.expect("a message") {
            got.push(m.text);
        }
        assert_eq!(got, ["0", "1", "2", "3"], "{protocol:?}");
        let t = stream.trailers().expect("trailers once the stream ended");
        assert_eq!(value(t, "x-fixed"), Some("f"), "{protocol:?}");
        assert_eq!(value(t, "x-sent"), Some("4"), "{protocol:?}");

        let mut stream = client
            .server_streaming::<Msg, Msg>(&FAIL, Request::new(msg("")))
            .await
            .unwrap_or_else(|e| panic!("{protocol:?}: {e}"))
            .into_inner();
        let first = stream.message().await.expect("the first message");
        assert_eq!(first.map(|m| m.text).as_deref(), Some("first"));
        let e = stream.message().await.expect_err("the stream's error");
        assert_eq!(e.code(), Code::Aborted, "{protocol:?}: {e}");
        assert_eq!(e.message(), "stopped midway", "{protocol:?}");
        assert_eq!(
            value(e.trailers(), "x-error-trailer"),
            Some("et"),
            "{protocol:?}"
        );
        assert_eq!(value(e.trailers(), "x-late"), Some("l"), "{protocol:?}");
    }
    server.shutdown(Duration::ZERO).await;
}
