//! Rate limiting over real sockets: a router on 127.0.0.1 behind `RateLimit` (after an
//! `Authenticator` where identities matter), called through the runtime's `Client`. Time
//! is a `ManualClock`, advanced by the test: no test sleeps.

use std::num::{NonZeroU32, NonZeroU64};
use std::time::Duration;

use connect_plugin::interceptors::auth::{
    Authenticator, BearerAuth, BearerToken, Credentials, Identity,
};
use connect_plugin::interceptors::rate_limit::{
    DEFAULT_RUNTIME_ID_HEADER, ManualClock, RateLimit, RateLimitConfig,
};
use connect_plugin::protocol::{Code, StreamType};
use connect_plugin::rpc::{self, Idempotency, MethodDescriptor, PeerAddr, Request, Response};
use connect_plugin::transport::{ListenAddr, Listener, RunningServer, memory_link};
use connect_plugin::{Channel, Client, Router, Server, Status};
use futures_util::StreamExt as _;

mod common;
use common::Msg;

/// `google.rpc.RetryInfo` with its `google.protobuf.Duration`, by hand.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    pub retry_delay: Option<ProtoDuration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoDuration {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

const PEER: MethodDescriptor =
    MethodDescriptor::new("/rl.v1.Svc/Peer", StreamType::Unary, Idempotency::Unknown);
const STREAM: MethodDescriptor = MethodDescriptor::new(
    "/rl.v1.Svc/Stream",
    StreamType::ServerStreaming,
    Idempotency::Unknown,
);

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

/// `PEER` answers the caller's address as the server saw it (so tests can tell that two
/// clients came over two connections); `STREAM` sends five messages.
fn router() -> Router {
    Router::new()
        .route(
            PEER,
            rpc::unary(|req: Request<Msg>| {
                let peer = match req.peer_addr() {
                    Some(PeerAddr::Tcp(a)) => a.to_string(),
                    other => format!("{other:?}"),
                };
                async move { Ok(Response::new(Msg { text: peer })) }
            }),
        )
        .route(
            STREAM,
            rpc::server_streaming(|_req: Request<Msg>| async move {
                let out = futures_util::stream::iter(0..5).map(|i| {
                    Ok::<_, Status>(Msg {
                        text: i.to_string(),
                    })
                });
                Ok(Response::new(out))
            }),
        )
}

/// 10 calls a second, burst 3, on a manual clock; sweeping only when told to.
fn limiter(clock: &ManualClock) -> RateLimit {
    RateLimit::with_clock(
        RateLimitConfig::per_second(nz(10))
            .burst(nz(3))
            .sweep_every(NonZeroU64::new(1_000_000).unwrap()),
        clock.clone(),
    )
}

async fn serve(router: Router) -> (RunningServer, String) {
    let server = Server::new(router).bind("127.0.0.1:0").await.expect("bind");
    let ListenAddr::Tcp(addr) = server.local_addr().clone() else {
        panic!("tcp")
    };
    (server, format!("http://{addr}"))
}

/// A client on a connection of its own.
fn client(url: &str) -> Client {
    Client::new(Channel::builder(url).unwrap().build())
}

async fn call(c: &Client) -> Result<String, Status> {
    call_with(c, Request::new(Msg::default())).await
}

async fn call_with(c: &Client, req: Request<Msg>) -> Result<String, Status> {
    let resp: Response<Msg> = c.unary(&PEER, req).await?;
    Ok(resp.into_inner().text)
}

fn exhausted(result: Result<String, Status>) -> Status {
    match result {
        Ok(text) => panic!("expected resource_exhausted, the call answered {text:?}"),
        Err(s) => {
            assert_eq!(s.code(), Code::ResourceExhausted, "{s:?}");
            s
        }
    }
}

#[tokio::test]
async fn the_burst_passes_then_calls_are_refused_with_a_retry_hint_until_refilled() {
    let clock = ManualClock::new();
    let rl = limiter(&clock);
    let (server, url) = serve(router().interceptor(rl.clone())).await;
    let c = client(&url);
    for _ in 0..3 {
        call(&c).await.unwrap();
    }
    let s = exhausted(call(&c).await);
    assert_eq!(
        s.message(),
        "rate limit exceeded for address 127.0.0.1; retry in 100 ms"
    );
    let info: RetryInfo = s
        .details()
        .iter()
        .find(|d| d.type_name() == "google.rpc.RetryInfo")
        .map(|d| prost::Message::decode(d.value().clone()).unwrap())
        .expect("a RetryInfo detail");
    assert_eq!(
        info.retry_delay,
        Some(ProtoDuration {
            seconds: 0,
            nanos: 100_000_000
        })
    );
    assert_eq!(s.headers().get("retry-after").unwrap(), "1");

    // One call's worth refills in 100 ms.
    clock.advance(Duration::from_millis(50));
    exhausted(call(&c).await);
    clock.advance(Duration::from_millis(50));
    call(&c).await.unwrap();
    exhausted(call(&c).await);
    // A full refill restores the whole burst.
    clock.advance(Duration::from_secs(1));
    for _ in 0..3 {
        call(&c).await.unwrap();
    }
    exhausted(call(&c).await);
    server.shutdown(Duration::ZERO).await;
}

#[tokio::test]
async fn connections_from_one_ip_share_a_bucket_whatever_their_ports() {
    let clock = ManualClock::new();
    let rl = limiter(&clock);
    let (server, url) = serve(router().interceptor(rl.clone())).await;
    let (a, b) = (client(&url), client(&url));
    let peer_a = call(&a).await.unwrap();
    let peer_b = call(&b).await.unwrap();
    // Two connections: two source ports, one address.
    assert_ne!(peer_a, peer_b);
    assert!(peer_a.starts_with("127.0.0.1:") && peer_b.starts_with("127.0.0.1:"));
    call(&a).await.unwrap();
    // The burst of 3 is spent between them.
    exhausted(call(&b).await);
    exhausted(call(&a).await);
    assert_eq!(rl.key_count(), 1);
    server.shutdown(Duration::ZERO).await;
}

#[tokio::test]
async fn identities_and_runtime_ids_have_buckets_of_their_own() {
    let clock = ManualClock::new();
    let rl = limiter(&clock);
    let auth = Authenticator::new()
        .provider(BearerAuth::new(
            Credentials::new()
                .with("tok-alice", Identity::new("alice"))
                .with("tok-bob", Identity::new("bob")),
        ))
        .public("rl.v1.Svc");
    // Authentication first, so the limiter sees the identity.
    let (server, url) = serve(router().interceptor(auth).interceptor(rl.clone())).await;

    let alice = client(&url).with_interceptor(BearerToken::new("tok-alice").unwrap());
    let bob = client(&url).with_interceptor(BearerToken::new("tok-bob").unwrap());
    for _ in 0..3 {
        call(&alice).await.unwrap();
    }
    let s = exhausted(call(&alice).await);
    assert!(s.message().contains("principal alice"), "{s:?}");
    // Bob, from the same address, is not affected; nor is an anonymous caller.
    for _ in 0..3 {
        call(&bob).await.unwrap();
    }
    exhausted(call(&bob).await);
    let anonymous = client(&url);
    call(&anonymous).await.unwrap();

    // Runtime ids (no identity) key separately from each other and from the address.
    let with_id = |id: &'static str| {
        let mut req = Request::new(Msg::default());
        req.headers_mut()
            .insert(DEFAULT_RUNTIME_ID_HEADER, id.parse().unwrap());
        req
    };
    for _ in 0..3 {
        call_with(&anonymous, with_id("runtime-1")).await.unwrap();
    }
    let s = exhausted(call_with(&anonymous, with_id("runtime-1")).await);
    assert!(s.message().contains("runtime id"), "{s:?}");
    call_with(&anonymous, with_id("runtime-2")).await.unwrap();
    call(&anonymous).await.unwrap();
    // alice, bob, 127.0.0.1, runtime-1, runtime-2
    assert_eq!(rl.key_count(), 5);
    server.shutdown(Duration::ZERO).await;
}

#[tokio::test]
async fn idle_keys_are_evicted() {
    let clock = ManualClock::new();
    let rl = RateLimit::with_clock(
        RateLimitConfig::per_second(nz(10))
            .burst(nz(3))
            .sweep_every(NonZeroU64::new(8).unwrap()),
        clock.clone(),
    );
    let (server, url) = serve(router().interceptor(rl.clone())).await;
    let c = client(&url);
    let with_id = |id: String| {
        let mut req = Request::new(Msg::default());
        req.headers_mut()
            .insert(DEFAULT_RUNTIME_ID_HEADER, id.parse().unwrap());
        req
    };
    for i in 0..5 {
        call_with(&c, with_id(format!("r{i}"))).await.unwrap();
    }
    assert_eq!(rl.key_count(), 5);
    // Idle for a while: the next sweep (every 8 calls) drops them all.
    clock.advance(Duration::from_secs(1));
    for _ in 0..3 {
        call_with(&c, with_id("active".into())).await.unwrap();
    }
    assert_eq!(rl.key_count(), 1, "only the active caller is left");
    server.shutdown(Duration::ZERO).await;
}

#[tokio::test]
async fn in_memory_peers_share_one_key_and_streams_count_once() {
    let clock = ManualClock::new();
    let rl = limiter(&clock);
    let (connector, listener) = memory_link();
    let server = Server::new(router().interceptor(rl.clone()))
        .serve(Listener::Memory(listener))
        .unwrap();
    let a = Client::new(Channel::memory(connector.clone()).build());
    let b = Client::new(Channel::memory(connector).build());

    // A five-message stream is one call.
    let resp: Response<rpc::Streaming<Msg>> = a
        .server_streaming(&STREAM, Request::new(Msg::default()))
        .await
        .unwrap();
    let mut stream = resp.into_inner();
    let mut n = 0;
    while stream.message().await.unwrap().is_some() {
        n += 1;
    }
    assert_eq!(n, 5);
    call(&b).await.unwrap();
    call(&a).await.unwrap();
    let s = exhausted(call(&b).await);
    assert!(s.message().contains("local peers"), "{s:?}");
    assert_eq!(rl.key_count(), 1);

    // A refused stream never starts.
    let refused = a
        .server_streaming::<Msg, Msg>(&STREAM, Request::new(Msg::default()))
        .await;
    let code = match refused {
        Err(s) => s.code(),
        Ok(resp) => {
            let mut stream = resp.into_inner();
            stream.message().await.unwrap_err().code()
        }
    };
    assert_eq!(code, Code::ResourceExhausted);
    server.shutdown(Duration::ZERO).await;
}
