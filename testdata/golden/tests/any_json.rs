//! `google.protobuf.Any` in the JSON codec, end to end with generated code (the `wkt`
//! scenario): `Any` fields (single, repeated, map, oneof) of a generated message travel in
//! the proto3 JSON form (`{"@type": …, fields}`, `{"@type": …, "value": …}` for well-known
//! types), which is what goes on the wire from the generated client and what the generated
//! router accepts from a foreign peer; packed types are known through the generated
//! `register_json_types()`.

use std::sync::{Arc, Mutex};

use connect_plugin::protocol::{Code, Codec, Protocol};
use connect_plugin::transport::{Body, HttpHandler, ListenAddr, RunningServer};
use connect_plugin::{
    Any, Channel, Client, ClientConfig, Request, Response, Router, Server, Status, Streaming,
};
use futures::StreamExt;
use futures::future::BoxFuture;
use golden_compile::streaming::streaming::v1 as streaming;
use golden_compile::wkt::wkt::v1 as pb;
use http_body_util::BodyExt;
use pb::update_request::Choice;
use pb::{UpdateRequest, WktService, WktServiceClient};
use pbjson_types::{Duration, Empty, Int64Value, StringValue, Struct, Timestamp, Value};
use serde_json::json;

/// Keeps the last `UpdateRequest`; `Wait` answers with it packed, then with the duration.
#[derive(Default)]
struct Keeper {
    last: Mutex<Option<UpdateRequest>>,
}

#[connect_plugin::async_trait]
impl WktService for Keeper {
    async fn ping(&self, _r: Request<Empty>) -> Result<Response<Empty>, Status> {
        Ok(Response::new(Empty {}))
    }

    async fn now(&self, _r: Request<Empty>) -> Result<Response<Timestamp>, Status> {
        Ok(Response::new(Timestamp::default()))
    }

    async fn query(&self, _r: Request<Struct>) -> Result<Response<Value>, Status> {
        Ok(Response::new(Value::default()))
    }

    async fn wait(&self, r: Request<Duration>) -> Result<Response<Streaming<Any>>, Status> {
        let last = self.last.lock().unwrap().clone().unwrap_or_default();
        let d = r.into_inner();
        Ok(Response::new(
            vec![
                Any::from_msg(&last),
                Any::from_msg_named("google.protobuf.Duration", &d),
            ]
            .into_iter()
            .collect(),
        ))
    }

    async fn name(&self, _r: Request<StringValue>) -> Result<Response<Int64Value>, Status> {
        Ok(Response::new(Int64Value { value: 1 }))
    }

    async fn update(&self, r: Request<UpdateRequest>) -> Result<Response<Empty>, Status> {
        *self.last.lock().unwrap() = Some(r.into_inner());
        Ok(Response::new(Empty {}))
    }
}

/// Serves the router, keeping the body of every Connect unary request it is sent.
struct Capture {
    router: Router,
    bodies: Arc<Mutex<Vec<bytes::Bytes>>>,
}

impl HttpHandler for Capture {
    fn call(&self, req: http::Request<Body>) -> BoxFuture<'static, http::Response<Body>> {
        let router = self.router.clone();
        let bodies = self.bodies.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let data = body.collect().await.expect("a request body").to_bytes();
            bodies.lock().unwrap().push(data.clone());
            HttpHandler::call(&router, http::Request::from_parts(parts, Body::full(data))).await
        })
    }
}

async fn serve(handler: impl HttpHandler) -> (RunningServer, String) {
    let server = Server::new(handler).bind("127.0.0.1:0").await.unwrap();
    let ListenAddr::Tcp(addr) = server.local_addr().clone() else {
        panic!("not a TCP address: {:?}", server.local_addr())
    };
    (server, format!("http://{addr}"))
}

fn client(url: &str, protocol: Protocol) -> WktServiceClient {
    WktServiceClient::new(Client::with_config(
        Channel::builder(url).unwrap().build(),
        ClientConfig {
            protocol,
            codec: Codec::Json,
            ..ClientConfig::default()
        },
    ))
}

/// An `UpdateRequest` with an `Any` in every kind of field: a message of another package,
/// well-known types, and an `Any` holding an `Any` holding this package's own message.
fn request() -> UpdateRequest {
    let inner = UpdateRequest {
        choice: Some(Choice::Text("inner".into())),
        ..Default::default()
    };
    UpdateRequest {
        detail: Some(Any::from_msg(&streaming::AddRequest { delta: -5 })),
        details: vec![
            Any::from_msg_named(
                "google.protobuf.Duration",
                &Duration {
                    seconds: 2,
                    nanos: 0,
                },
            ),
            Any::from_msg_named("google.protobuf.Empty", &Empty {}),
        ],
        by_name: [("nested".to_owned(), Any::from_msg(&Any::from_msg(&inner)))].into(),
        choice: Some(Choice::Packed(Any::from_msg_named(
            "google.protobuf.StringValue",
            &StringValue { value: "s".into() },
        ))),
        ..Default::default()
    }
}

/// `request()` in the proto3 JSON form.
fn request_json() -> serde_json::Value {
    json!({
        "detail": {"@type": "type.googleapis.com/streaming.v1.AddRequest", "delta": "-5"},
        "details": [
            {"@type": "type.googleapis.com/google.protobuf.Duration", "value": "2s"},
            {"@type": "type.googleapis.com/google.protobuf.Empty"}
        ],
        "byName": {
            "nested": {
                "@type": "type.googleapis.com/google.protobuf.Any",
                "value": {"@type": "type.googleapis.com/wkt.v1.UpdateRequest", "text": "inner"}
            }
        },
        "packed": {"@type": "type.googleapis.com/google.protobuf.StringValue", "value": "s"}
    })
}

#[tokio::test]
async fn any_fields_travel_in_the_standard_form_both_ways() {
    // Messages of a package without a client or router here: registered by hand.
    streaming::register_json_types();
    let keeper = Arc::new(Keeper::default());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let (_server, url) = serve(Capture {
        router: pb::wkt_service_router(keeper.clone()),
        bodies: bodies.clone(),
    })
    .await;

    for protocol in [Protocol::Connect, Protocol::GrpcWeb] {
        bodies.lock().unwrap().clear();
        let c = client(&url, protocol);
        c.update(request().into()).await.unwrap();
        assert_eq!(
            keeper.last.lock().unwrap().clone(),
            Some(request()),
            "{protocol:?}"
        );
        if protocol == Protocol::Connect {
            let sent = bodies.lock().unwrap()[0].clone();
            let sent: serde_json::Value = serde_json::from_slice(&sent).unwrap();
            assert_eq!(sent, request_json(), "the client's JSON on the wire");
        }

        let got: Vec<Any> = c
            .wait(
                Duration {
                    seconds: 7,
                    nanos: 0,
                }
                .into(),
            )
            .await
            .unwrap()
            .into_inner()
            .map(|m| m.unwrap())
            .collect()
            .await;
        assert_eq!(got.len(), 2, "{protocol:?}");
        assert_eq!(got[0].to_msg::<UpdateRequest>().unwrap(), request());
        let d: Duration = got[1].to_msg_named("google.protobuf.Duration").unwrap();
        assert_eq!(d.seconds, 7);
    }
}

/// A foreign peer (connect-es, connect-go) sends the standard form; the router reads it.
#[tokio::test]
async fn the_router_reads_the_standard_form_from_a_foreign_peer() {
    streaming::register_json_types();
    let keeper = Arc::new(Keeper::default());
    let router = pb::wkt_service_router(keeper.clone());
    let res = post(&router, request_json().to_string()).await;
    assert_eq!(res.0, http::StatusCode::OK, "{}", res.1);
    assert_eq!(keeper.last.lock().unwrap().clone(), Some(request()));
}

#[tokio::test]
async fn an_unregistered_packed_type_is_an_error_on_both_sides() {
    // Nothing registers `diffpackage.common.v1` (a package without a service).
    use golden_compile::diffpackage::diffpackage::common::v1 as unknown;
    let stranger = Any::from_msg(&unknown::RecordKey::default());
    let (_server, url) = serve(pb::wkt_service_router(Arc::new(Keeper::default()))).await;
    let err = client(&url, Protocol::Connect)
        .update(
            UpdateRequest {
                detail: Some(stranger.clone()),
                ..Default::default()
            }
            .into(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Internal, "{err}");
    assert!(
        err.message().contains("diffpackage.common.v1.RecordKey")
            && err.message().contains("register_json_type"),
        "{err}"
    );

    let router = pb::wkt_service_router(Arc::new(Keeper::default()));
    let body = json!({"detail": {"@type": stranger.type_url}}).to_string();
    let (status, text) = post(&router, body).await;
    assert_eq!(status, http::StatusCode::BAD_REQUEST, "{text}");
    let error: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(error["code"], "invalid_argument", "{text}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("register_json_type")),
        "{text}"
    );
}

/// A Connect unary JSON call to `Update`, as any HTTP client would make it.
async fn post(router: &Router, body: String) -> (http::StatusCode, String) {
    let req = http::Request::post(pb::WKT_SERVICE_UPDATE_PATH)
        .header("content-type", "application/json")
        .body(Body::full(body))
        .unwrap();
    let res = HttpHandler::call(router, req).await;
    let status = res.status();
    let data = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&data).into_owned())
}
