//! The client transport seam from outside the crate: a `Client` over a transport of the
//! user's, with its interceptors; a client as the transport of another.

use std::sync::{Arc, Mutex};

use connect_plugin::pb::grpc::health::v1::{HEALTH_CHECK, HealthCheckRequest, HealthCheckResponse};
use connect_plugin::rpc::{
    ClientCall, ClientNext, ClientOutput, ClientOutputBody, ClientTransport, Interceptor,
};
use connect_plugin::{Client, ClientConfig, Codec, Request, Response, Status};
use futures_util::future::BoxFuture;
use http::HeaderMap;

/// Answers every unary call with `SERVING` (status 1), encoded in the call's codec, and
/// records what it was given.
#[derive(Default)]
struct Serving {
    seen: Mutex<Vec<(String, Codec, Option<String>)>>,
}

impl ClientTransport for Serving {
    fn send(&self, call: ClientCall) -> BoxFuture<'_, Result<ClientOutput, Status>> {
        let tag = call
            .headers
            .get("x-tag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if let Ok(mut seen) = self.seen.lock() {
            seen.push((call.method.path.to_owned(), call.codec, tag));
        }
        let reply = call
            .codec
            .encode_to_bytes(&HealthCheckResponse { status: 1 });
        Box::pin(async move {
            Ok(ClientOutput {
                headers: HeaderMap::new(),
                body: ClientOutputBody::Unary(reply?, HeaderMap::new()),
            })
        })
    }
}

/// Adds a header to every call.
struct Tag;

impl Interceptor for Tag {
    fn intercept_client<'a>(
        &'a self,
        mut call: ClientCall,
        next: ClientNext<'a>,
    ) -> BoxFuture<'a, Result<ClientOutput, Status>> {
        call.headers
            .insert("x-tag", http::HeaderValue::from_static("tagged"));
        next.run(call)
    }
}

#[tokio::test]
async fn a_client_on_any_transport_runs_its_interceptors_then_the_transport_in_its_codec() {
    let transport = Arc::new(Serving::default());
    for codec in [Codec::Proto, Codec::Json] {
        let config = ClientConfig {
            codec,
            ..ClientConfig::default()
        };
        let client = Client::from_transport(transport.clone(), config).with_interceptor(Tag);
        assert!(
            client.channel().is_none(),
            "no channel behind this transport"
        );
        let reply: Response<HealthCheckResponse> = client
            .unary(&HEALTH_CHECK, Request::new(HealthCheckRequest::default()))
            .await
            .expect("the transport answers");
        assert_eq!(reply.into_inner().status, 1);
    }
    let seen = transport.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [Codec::Proto, Codec::Json].map(|codec| (
            "/grpc.health.v1.Health/Check".to_owned(),
            codec,
            Some("tagged".to_owned())
        ))
    );
}

#[tokio::test]
async fn a_client_is_a_transport_for_another_client() {
    let transport = Arc::new(Serving::default());
    let inner =
        Client::from_transport(transport.clone(), ClientConfig::default()).with_interceptor(Tag);
    let outer = Client::from_transport(Arc::new(inner), ClientConfig::default());
    let reply: Response<HealthCheckResponse> = outer
        .unary(&HEALTH_CHECK, Request::new(HealthCheckRequest::default()))
        .await
        .expect("answers through the inner client");
    assert_eq!(reply.into_inner().status, 1);
    let seen = transport.seen.lock().unwrap();
    assert_eq!(seen[0].2.as_deref(), Some("tagged"), "the inner chain ran");
}
