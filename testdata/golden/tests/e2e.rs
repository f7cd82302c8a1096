//! The `streaming` scenario's generated code, served and called end to end: the service
//! trait implemented with `#[connect_plugin::async_trait]`, served with the generated router,
//! and called (all four method kinds) locally, through the generated client, and through the
//! generated `Plugin`'s `client` as an `Arc<dyn CounterService>`, over several protocols and
//! codecs. Also: the descriptors (stream type, idempotency — and that it reaches the wire),
//! `#[deprecated]`, `PluginInfo`, and `PluginSet`.
//!
//! `#[expect(deprecated)]` below is an assertion: if the generated items lost their
//! `#[deprecated]`, the expectation would be unfulfilled, which this file denies.
#![deny(unfulfilled_lint_expectations)]

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use connect_plugin::codegen::{Idempotency, PluginInfo};
use connect_plugin::plugin::PluginSetError;
use connect_plugin::protocol::{Code, Codec, Protocol, StreamType};
use connect_plugin::transport::{Body, HttpHandler, ListenAddr, RunningServer};
use connect_plugin::{
    Channel, Client, ClientConfig, Plugin, PluginSet, Request, Response, Router, Server, Status,
    Streaming,
};
use futures::StreamExt;
use futures::future::BoxFuture;
use golden_compile::streaming::streaming::v1 as pb;
use pb::{
    AddRequest, AddResponse, ChatRequest, ChatResponse, CountRequest, CountResponse,
    CounterService, CounterServiceClient, CounterServicePlugin, LegacyCounterServicePlugin,
    PeekRequest, SumRequest, SumResponse,
};

/// CounterService as its proto comments describe it.
#[derive(Debug, Default)]
struct Counter {
    total: AtomicI64,
}

#[connect_plugin::async_trait]
impl CounterService for Counter {
    async fn add(&self, request: Request<AddRequest>) -> Result<Response<AddResponse>, Status> {
        let delta = request.into_inner().delta;
        let total = self.total.fetch_add(delta, Ordering::SeqCst) + delta;
        Ok(Response::new(AddResponse { total }))
    }

    async fn peek(&self, _request: Request<PeekRequest>) -> Result<Response<AddResponse>, Status> {
        Ok(Response::new(AddResponse {
            total: self.total.load(Ordering::SeqCst),
        }))
    }

    async fn count(
        &self,
        request: Request<CountRequest>,
    ) -> Result<Response<Streaming<CountResponse>>, Status> {
        let up_to = request.into_inner().up_to;
        if up_to < 0 {
            return Err(Status::new(Code::InvalidArgument, "up_to is negative"));
        }
        Ok(Response::new(
            (1..=up_to).map(|n| CountResponse { n }).collect(),
        ))
    }

    async fn sum(
        &self,
        request: Request<Streaming<SumRequest>>,
    ) -> Result<Response<SumResponse>, Status> {
        let mut stream = request.into_inner();
        let mut reply = SumResponse::default();
        while let Some(m) = stream.message().await? {
            reply.sum += m.value;
            reply.count += 1;
        }
        Ok(Response::new(reply))
    }

    async fn chat(
        &self,
        request: Request<Streaming<ChatRequest>>,
    ) -> Result<Response<Streaming<ChatResponse>>, Status> {
        let replies = request.into_inner().enumerate().map(|(i, m)| {
            m.map(|m| ChatResponse {
                text: m.text.to_uppercase(),
                seq: i as i32,
            })
        });
        Ok(Response::new(Streaming::from_stream(replies)))
    }

    async fn old_add(&self, request: Request<AddRequest>) -> Result<Response<AddResponse>, Status> {
        self.add(request).await
    }
}

/// The deprecated LegacyCounterService: naming its trait is what warns.
#[derive(Debug, Default)]
struct Legacy;

#[expect(deprecated)]
#[connect_plugin::async_trait]
impl pb::LegacyCounterService for Legacy {
    async fn add(&self, request: Request<AddRequest>) -> Result<Response<AddResponse>, Status> {
        Ok(Response::new(AddResponse {
            total: -request.into_inner().delta,
        }))
    }
}

#[expect(deprecated)]
fn legacy() -> Arc<dyn pb::LegacyCounterService> {
    Arc::new(Legacy)
}

/// Every method kind through `svc`, whatever implements it.
async fn exercise(svc: &dyn CounterService, case: &str) {
    let before = svc.peek(PeekRequest {}.into()).await.unwrap().into_inner();
    let after = svc
        .add(AddRequest { delta: 5 }.into())
        .await
        .unwrap_or_else(|e| panic!("{case}: add: {e}"))
        .into_inner();
    assert_eq!(after.total, before.total + 5, "{case}");

    let counted: Vec<i32> = svc
        .count(CountRequest { up_to: 4 }.into())
        .await
        .unwrap_or_else(|e| panic!("{case}: count: {e}"))
        .into_inner()
        .map(|r| r.unwrap().n)
        .collect()
        .await;
    assert_eq!(counted, [1, 2, 3, 4], "{case}");

    // A handler's error reaches the caller, at the call or as the stream's first item.
    let err = match svc.count(CountRequest { up_to: -1 }.into()).await {
        Err(e) => e,
        Ok(r) => {
            let mut stream = r.into_inner();
            stream.message().await.expect_err("an error")
        }
    };
    assert_eq!(err.code(), Code::InvalidArgument, "{case}");
    assert_eq!(err.message(), "up_to is negative", "{case}");

    let summed = svc
        .sum(Request::new(
            [1, 2, 3, 4]
                .map(|value| SumRequest { value })
                .into_iter()
                .collect(),
        ))
        .await
        .unwrap_or_else(|e| panic!("{case}: sum: {e}"))
        .into_inner();
    assert_eq!((summed.sum, summed.count), (10, 4), "{case}");

    let chatted: Vec<ChatResponse> = svc
        .chat(Request::new(
            ["a", "b", "c"]
                .map(|t| ChatRequest { text: t.into() })
                .into_iter()
                .collect(),
        ))
        .await
        .unwrap_or_else(|e| panic!("{case}: chat: {e}"))
        .into_inner()
        .map(|r| r.unwrap())
        .collect()
        .await;
    assert_eq!(
        chatted,
        [("A", 0), ("B", 1), ("C", 2)].map(|(t, seq)| ChatResponse {
            text: t.into(),
            seq
        }),
        "{case}"
    );

    let total = svc.peek(PeekRequest {}.into()).await.unwrap().into_inner();
    #[expect(deprecated)]
    let old = svc.old_add(AddRequest { delta: 1 }.into()).await;
    assert_eq!(old.unwrap().into_inner().total, total.total + 1, "{case}");
}

async fn serve(handler: impl HttpHandler) -> (RunningServer, String) {
    let server = Server::new(handler).bind("127.0.0.1:0").await.unwrap();
    let ListenAddr::Tcp(addr) = server.local_addr().clone() else {
        panic!("not a TCP address: {:?}", server.local_addr())
    };
    (server, format!("http://{addr}"))
}

fn client(url: &str, protocol: Protocol, codec: Codec) -> Client {
    Client::with_config(
        Channel::builder(url).unwrap().build(),
        ClientConfig {
            protocol,
            codec,
            ..ClientConfig::default()
        },
    )
}

#[tokio::test]
async fn a_local_implementation_is_the_trait() {
    let svc: Arc<dyn CounterService> = Arc::new(Counter::default());
    exercise(&*svc, "local").await;
}

#[tokio::test]
async fn generated_router_and_client_over_every_protocol() {
    let (_server, url) = serve(pb::counter_service_router(Arc::new(Counter::default()))).await;
    for (protocol, codec) in [
        (Protocol::Connect, Codec::Proto),
        // JSON goes through the pbjson impls of protoc-gen-prost-serde's output.
        (Protocol::Connect, Codec::Json),
        (Protocol::Grpc, Codec::Proto),
        (Protocol::GrpcWeb, Codec::Json),
    ] {
        let case = format!("CounterServiceClient, {protocol:?}/{codec:?}");
        let c = CounterServiceClient::new(client(&url, protocol, codec));
        exercise(&c, &case).await;
    }
    // As the brief's one-liner: Connect over HTTP/2 with the proto codec.
    let c = CounterServiceClient::new(Client::new(Channel::builder(&url).unwrap().build()));
    exercise(&c, "CounterServiceClient, defaults").await;
}

#[tokio::test]
async fn the_plugin_dispenses_the_trait() {
    let (_server, url) = serve(<CounterServicePlugin as Plugin>::router(Arc::new(
        Counter::default(),
    )))
    .await;
    let svc: Arc<dyn CounterService> = <CounterServicePlugin as Plugin>::client(Client::new(
        Channel::builder(&url).unwrap().build(),
    ));
    exercise(&*svc, "CounterServicePlugin::client").await;
    let svc = CounterServicePlugin::client(client(&url, Protocol::Grpc, Codec::Json));
    exercise(&*svc, "CounterServicePlugin::client, gRPC/JSON").await;
}

#[test]
fn descriptors_carry_paths_stream_types_and_idempotency() {
    let cases = [
        (
            pb::COUNTER_SERVICE_ADD,
            pb::COUNTER_SERVICE_ADD_PATH,
            "Add",
            StreamType::Unary,
            Idempotency::Idempotent,
        ),
        (
            pb::COUNTER_SERVICE_PEEK,
            pb::COUNTER_SERVICE_PEEK_PATH,
            "Peek",
            StreamType::Unary,
            Idempotency::NoSideEffects,
        ),
        (
            pb::COUNTER_SERVICE_COUNT,
            pb::COUNTER_SERVICE_COUNT_PATH,
            "Count",
            StreamType::ServerStreaming,
            Idempotency::Unknown,
        ),
        (
            pb::COUNTER_SERVICE_SUM,
            pb::COUNTER_SERVICE_SUM_PATH,
            "Sum",
            StreamType::ClientStreaming,
            Idempotency::Unknown,
        ),
        (
            pb::COUNTER_SERVICE_CHAT,
            pb::COUNTER_SERVICE_CHAT_PATH,
            "Chat",
            StreamType::BidiStreaming,
            Idempotency::Unknown,
        ),
        (
            pb::COUNTER_SERVICE_OLD_ADD,
            pb::COUNTER_SERVICE_OLD_ADD_PATH,
            "OldAdd",
            StreamType::Unary,
            Idempotency::Unknown,
        ),
    ];
    for (d, path, method, stream_type, idempotency) in cases {
        assert_eq!(path, format!("/streaming.v1.CounterService/{method}"));
        assert_eq!(d.path, path);
        assert_eq!(d.service(), pb::COUNTER_SERVICE_NAME);
        assert_eq!(d.method(), method);
        assert_eq!(d.stream_type, stream_type, "{method}");
        assert_eq!(d.idempotency, idempotency, "{method}");
    }
    assert_eq!(pb::COUNTER_SERVICE_NAME, "streaming.v1.CounterService");
    assert_eq!(
        pb::LEGACY_COUNTER_SERVICE_NAME,
        "streaming.v1.LegacyCounterService"
    );
}

/// Records the HTTP method of every request, then serves it.
struct Recorder {
    router: Router,
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

impl HttpHandler for Recorder {
    fn call(&self, req: http::Request<Body>) -> BoxFuture<'static, http::Response<Body>> {
        self.seen
            .lock()
            .unwrap()
            .push((req.method().to_string(), req.uri().path().to_owned()));
        HttpHandler::call(&self.router, req)
    }
}

/// `idempotency_level = NO_SIDE_EFFECTS` reaches the wire: with `use_get`, Peek travels as a
/// Connect GET (and the router accepts it), while the merely idempotent Add stays a POST.
#[tokio::test]
async fn no_side_effects_methods_may_travel_as_get() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (_server, url) = serve(Recorder {
        router: pb::counter_service_router(Arc::new(Counter::default())),
        seen: seen.clone(),
    })
    .await;
    let c = CounterServiceClient::new(Client::with_config(
        Channel::builder(&url).unwrap().build(),
        ClientConfig {
            use_get: true,
            ..ClientConfig::default()
        },
    ));
    c.add(AddRequest { delta: 2 }.into()).await.unwrap();
    let peeked = c.peek(PeekRequest {}.into()).await.unwrap().into_inner();
    assert_eq!(peeked.total, 2);
    assert_eq!(
        *seen.lock().unwrap(),
        [
            ("POST".to_owned(), pb::COUNTER_SERVICE_ADD_PATH.to_owned()),
            ("GET".to_owned(), pb::COUNTER_SERVICE_PEEK_PATH.to_owned()),
        ]
    );
}

#[test]
fn plugin_info_comes_from_the_proto() {
    assert_eq!(
        CounterServicePlugin::INFO,
        PluginInfo {
            name: "counter",
            service_name: "streaming.v1.CounterService",
            service_path: "/streaming.v1.CounterService/",
            version: "1.0.0",
        }
    );
    assert_eq!(LegacyCounterServicePlugin::INFO.name, "legacy_counter");
    assert_eq!(
        LegacyCounterServicePlugin::INFO.service_path,
        "/streaming.v1.LegacyCounterService/"
    );
    assert_eq!(LegacyCounterServicePlugin::INFO.version, "1.0.0");
}

#[tokio::test]
async fn plugin_set_serves_both_and_rejects_a_duplicate() {
    let counter: Arc<dyn CounterService> = Arc::new(Counter::default());
    let mut set = PluginSet::new()
        .with::<CounterServicePlugin>(counter.clone())
        .with::<LegacyCounterServicePlugin>(legacy());
    assert_eq!(
        set.add::<CounterServicePlugin>(counter.clone()),
        Err(PluginSetError::DuplicateName("counter".into()))
    );
    assert_eq!(
        set.infos().map(|i| i.name).collect::<Vec<_>>(),
        ["counter", "legacy_counter"]
    );

    let (_server, url) = serve(set.router()).await;
    let remote = CounterServicePlugin::client(Client::new(Channel::builder(&url).unwrap().build()));
    exercise(&*remote, "PluginSet router").await;
    let old =
        LegacyCounterServicePlugin::client(Client::new(Channel::builder(&url).unwrap().build()));
    #[expect(deprecated)]
    let reply = old.add(AddRequest { delta: 3 }.into()).await;
    assert_eq!(reply.unwrap().into_inner().total, -3);
}
