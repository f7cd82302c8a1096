//! A handler's error carries response headers and trailers of its own, and every protocol
//! puts them where its peers read them: Connect unary as headers and `trailer-`-prefixed
//! headers, Connect streams as headers and end-stream metadata, gRPC and gRPC-Web as
//! headers then trailers (trailers-only when the error has no headers of its own).

mod common;

use bytes::Bytes;
use common::Msg;
use connect_plugin::rpc::{self as handler, Idempotency, MethodDescriptor};
use connect_plugin::{Router, Status, StreamType};
use futures_util::stream;
use http::{HeaderMap, HeaderValue};
use http_body_util::BodyExt as _;

const UNARY: MethodDescriptor =
    MethodDescriptor::new("/t.v1.T/Unary", StreamType::Unary, Idempotency::Unknown);
const STREAM: MethodDescriptor = MethodDescriptor::new(
    "/t.v1.T/Stream",
    StreamType::ServerStreaming,
    Idempotency::Unknown,
);

fn failure(with_headers: bool) -> Status {
    let mut e = Status::not_found("no such key");
    if with_headers {
        e.headers_mut()
            .insert("x-custom-header", HeaderValue::from_static("foo"));
        // A handler may not override what the protocol writes.
        e.headers_mut()
            .insert("content-type", HeaderValue::from_static("text/evil"));
    }
    e.trailers_mut()
        .append("x-custom-trailer", HeaderValue::from_static("bing"));
    e.trailers_mut()
        .append("x-custom-trailer", HeaderValue::from_static("quux"));
    e
}

fn router(with_headers: bool) -> Router {
    Router::new()
        .route(
            UNARY,
            handler::unary(move |_req: connect_plugin::Request<Msg>| async move {
                Err::<connect_plugin::Response<Msg>, _>(failure(with_headers))
            }),
        )
        .route(
            STREAM,
            handler::server_streaming(move |_req: connect_plugin::Request<Msg>| async move {
                Err::<connect_plugin::Response<stream::Empty<Result<Msg, Status>>>, _>(failure(
                    with_headers,
                ))
            }),
        )
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
    trailers: Option<HeaderMap>,
}

async fn call(router: &Router, path: &str, content_type: &str, body: Vec<u8>) -> Answer {
    let req = http::Request::post(path)
        .header("content-type", content_type)
        .body(http_body_util::Full::new(Bytes::from(body)))
        .unwrap();
    let resp = router.handle(req).await;
    let status = resp.status().as_u16();
    let (parts, body) = resp.into_parts();
    let collected = body.collect().await.unwrap();
    let trailers = collected.trailers().cloned();
    Answer {
        status,
        headers: parts.headers,
        body: collected.to_bytes(),
        trailers,
    }
}

fn envelope(flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![flags];
    v.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    v.extend_from_slice(payload);
    v
}

fn values(map: &HeaderMap, name: &str) -> Vec<String> {
    map.get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn connect_unary_errors_carry_headers_and_prefixed_trailers() {
    let a = call(&router(true), UNARY.path, "application/proto", vec![]).await;
    assert_eq!(a.status, 404);
    assert_eq!(values(&a.headers, "x-custom-header"), ["foo"]);
    assert_eq!(
        values(&a.headers, "trailer-x-custom-trailer"),
        ["bing", "quux"]
    );
    assert_eq!(values(&a.headers, "content-type"), ["application/json"]);
    let json: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    assert_eq!(json["code"], "not_found");
}

#[tokio::test]
async fn connect_stream_errors_carry_headers_and_end_stream_metadata() {
    let a = call(
        &router(true),
        STREAM.path,
        "application/connect+proto",
        envelope(0, &[]),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(values(&a.headers, "x-custom-header"), ["foo"]);
    assert_eq!(
        values(&a.headers, "content-type"),
        ["application/connect+proto"]
    );
    assert_eq!(a.body[0], 0x02, "one end-stream frame");
    let end: serde_json::Value = serde_json::from_slice(&a.body[5..]).unwrap();
    assert_eq!(end["error"]["code"], "not_found");
    assert_eq!(
        end["metadata"]["x-custom-trailer"],
        serde_json::json!(["bing", "quux"])
    );
    assert!(end["metadata"].get("x-custom-header").is_none());
}

#[tokio::test]
async fn grpc_errors_with_headers_send_headers_then_trailers() {
    for path in [UNARY.path, STREAM.path] {
        let a = call(&router(true), path, "application/grpc", envelope(0, &[])).await;
        assert_eq!(a.status, 200);
        assert_eq!(values(&a.headers, "x-custom-header"), ["foo"]);
        assert_eq!(values(&a.headers, "content-type"), ["application/grpc"]);
        assert!(a.headers.get("grpc-status").is_none(), "not trailers-only");
        assert!(a.body.is_empty());
        let t = a.trailers.expect("trailers");
        assert_eq!(values(&t, "grpc-status"), ["5"]);
        assert_eq!(values(&t, "grpc-message"), ["no such key"]);
        assert_eq!(values(&t, "x-custom-trailer"), ["bing", "quux"]);
        assert!(t.get("x-custom-header").is_none());
    }
}

#[tokio::test]
async fn grpc_errors_without_headers_are_trailers_only() {
    let a = call(
        &router(false),
        UNARY.path,
        "application/grpc",
        envelope(0, &[]),
    )
    .await;
    assert_eq!(values(&a.headers, "grpc-status"), ["5"]);
    assert_eq!(values(&a.headers, "x-custom-trailer"), ["bing", "quux"]);
    assert!(a.body.is_empty());
    assert!(a.trailers.is_none());
}

#[tokio::test]
async fn grpc_web_errors_with_headers_end_with_a_trailers_frame() {
    let a = call(
        &router(true),
        STREAM.path,
        "application/grpc-web+proto",
        envelope(0, &[]),
    )
    .await;
    assert_eq!(values(&a.headers, "x-custom-header"), ["foo"]);
    assert!(a.headers.get("grpc-status").is_none());
    assert_eq!(a.body[0], 0x80, "one trailers frame");
    let text = std::str::from_utf8(&a.body[5..])
        .unwrap()
        .to_ascii_lowercase();
    assert!(text.contains("grpc-status:5\r\n") || text.contains("grpc-status: 5\r\n"));
    assert!(text.contains("x-custom-trailer"));
    assert!(!text.contains("x-custom-header"));
}
