//! Retry and circuit breaking over real sockets: a server whose handlers fail on demand
//! and count their invocations, and clients with the interceptor chain. Every wait is
//! bounded; nothing sleeps to let something happen.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use connect_plugin::interceptors::{
    BreakerConfig, BreakerState, CircuitBreaker, ClientChain, Retry, RetryBudget, RetryPolicy,
};
use connect_plugin::protocol::StreamType;
use connect_plugin::rpc::{
    self, ClientCall, ClientNext, ClientOutput, Idempotency, Interceptor, MethodDescriptor,
    Request, Response,
};
use connect_plugin::transport::{ListenAddr, RunningServer};
use connect_plugin::{Channel, Client, Code, Router, Server, Status};
use futures_util::StreamExt as _;
use futures_util::future::BoxFuture;

mod common;
use common::Msg;

const GET: MethodDescriptor = MethodDescriptor::new(
    "/res.v1.Svc/Get",
    StreamType::Unary,
    Idempotency::NoSideEffects,
);
const WRITE: MethodDescriptor =
    MethodDescriptor::new("/res.v1.Svc/Write", StreamType::Unary, Idempotency::Unknown);
const WATCH: MethodDescriptor = MethodDescriptor::new(
    "/res.v1.Svc/Watch",
    StreamType::ServerStreaming,
    Idempotency::NoSideEffects,
);

const WATCH_THEN_FAIL: MethodDescriptor = MethodDescriptor::new(
    "/res.v1.Svc/WatchThenFail",
    StreamType::ServerStreaming,
    Idempotency::NoSideEffects,
);

/// Handlers fail with `unavailable` while `failures` is above zero (counting it down) and
/// count every invocation.
#[derive(Default)]
struct Flaky {
    failures: AtomicU32,
    calls: AtomicU32,
}

impl Flaky {
    fn call(&self) -> Result<(), Status> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let left = self.failures.load(Ordering::SeqCst);
        if left > 0 {
            self.failures.store(left - 1, Ordering::SeqCst);
            return Err(Status::unavailable("not now"));
        }
        Ok(())
    }

    fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }
}

async fn serve(flaky: Arc<Flaky>) -> (RunningServer, String) {
    let (a, b, c, d) = (flaky.clone(), flaky.clone(), flaky.clone(), flaky);
    let router = Router::new()
        .route(
            GET,
            rpc::unary(move |req: Request<Msg>| {
                let r = a.call();
                async move { r.map(|()| Response::new(req.into_inner())) }
            }),
        )
        .route(
            WRITE,
            rpc::unary(move |req: Request<Msg>| {
                let r = b.call();
                async move { r.map(|()| Response::new(req.into_inner())) }
            }),
        )
        .route(
            WATCH,
            rpc::server_streaming(move |req: Request<Msg>| {
                let r = c.call();
                async move {
                    r?;
                    let m = req.into_inner();
                    Ok(Response::new(futures_util::stream::iter(vec![Ok::<
                        _,
                        Status,
                    >(
                        m
                    )])))
                }
            }),
        )
        .route(
            WATCH_THEN_FAIL,
            rpc::server_streaming(move |req: Request<Msg>| {
                d.calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    let items = vec![Ok(req.into_inner()), Err(Status::unavailable("gone"))];
                    Ok(Response::new(futures_util::stream::iter(items)))
                }
            }),
        );
    let server = Server::new(router).bind("127.0.0.1:0").await.unwrap();
    let ListenAddr::Tcp(addr) = server.local_addr().clone() else {
        unreachable!()
    };
    (server, format!("http://{addr}"))
}

fn client(url: &str) -> Client {
    Client::new(Channel::builder(url).unwrap().build())
}

fn fast_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(attempts)
        .with_backoff(Duration::from_millis(1), 2.0, Duration::from_millis(10))
}

fn msg(text: &str) -> Request<Msg> {
    Request::new(Msg { text: text.into() })
}

/// A `Get` that is expected to fail: its error.
async fn failed_get(c: &Client) -> Status {
    c.unary::<Msg, Msg>(&GET, msg("x")).await.unwrap_err()
}

#[tokio::test]
async fn idempotent_calls_are_retried_until_they_succeed() {
    let flaky = Arc::new(Flaky::default());
    let (_server, url) = serve(flaky.clone()).await;
    let c = ClientChain::new()
        .retry(fast_retries(3))
        .apply(&client(&url));
    flaky.failures.store(2, Ordering::SeqCst);
    let out: Response<Msg> = c.unary(&GET, msg("hi")).await.unwrap();
    assert_eq!(out.into_inner().text, "hi");
    assert_eq!(flaky.calls(), 3, "two failures, then the answer");

    // More failures than attempts: the last error comes back.
    flaky.failures.store(5, Ordering::SeqCst);
    let err = failed_get(&c).await;
    assert_eq!(err.code(), Code::Unavailable);
    assert_eq!(flaky.calls(), 6, "three attempts in all");
}

/// With both a breaker and retries, the breaker sees each call once, after its retries:
/// failed attempts that a retry mends are no failures of the endpoint, and a call whose
/// every attempt failed is one failure, however many attempts it made.
#[tokio::test]
async fn the_breaker_counts_calls_after_their_retries() {
    let flaky = Arc::new(Flaky::default());
    let (_server, url) = serve(flaky.clone()).await;
    let breaker = Arc::new(CircuitBreaker::new(
        "svc",
        BreakerConfig {
            consecutive_failures: 2,
            ..Default::default()
        },
    ));
    // A budget that never runs out here (the default one would after ten retries).
    let budget = Arc::new(RetryBudget::new(1.0, 1000.0));
    let c = ClientChain::new()
        .circuit_breaker(breaker.clone())
        .retry(Retry::with_budget(fast_retries(3), budget))
        .apply(&client(&url));
    // Four calls, each failing twice before it succeeds: eight failed attempts, no failed
    // call.
    for round in 0..4 {
        flaky.failures.store(2, Ordering::SeqCst);
        let out: Response<Msg> = c.unary(&GET, msg("hi")).await.unwrap();
        assert_eq!(out.into_inner().text, "hi");
        assert_eq!(flaky.calls(), 3 * (round + 1));
        assert_eq!(breaker.state(), BreakerState::Closed);
    }
    // A call failing all three attempts is one failure: still closed.
    flaky.failures.store(3, Ordering::SeqCst);
    assert_eq!(failed_get(&c).await.code(), Code::Unavailable);
    assert_eq!(flaky.calls(), 15);
    assert_eq!(
        breaker.state(),
        BreakerState::Closed,
        "one failed call of two"
    );
    // A second one opens it, and the next call fails fast without an attempt.
    flaky.failures.store(3, Ordering::SeqCst);
    assert_eq!(failed_get(&c).await.code(), Code::Unavailable);
    assert_eq!(breaker.state(), BreakerState::Open);
    let err = failed_get(&c).await;
    assert!(err.message().contains("is open"), "{err}");
    assert_eq!(flaky.calls(), 18, "failing fast: no attempt");
}

#[tokio::test]
async fn a_call_that_reached_a_non_idempotent_handler_is_not_repeated() {
    let flaky = Arc::new(Flaky::default());
    let (_server, url) = serve(flaky.clone()).await;
    let c = ClientChain::new()
        .retry(fast_retries(5))
        .apply(&client(&url));
    flaky.failures.store(1, Ordering::SeqCst);
    let err = c.unary::<Msg, Msg>(&WRITE, msg("w")).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    assert!(!err.is_unprocessed());
    assert_eq!(flaky.calls(), 1, "the handler ran once and only once");
}

/// Counts the attempts that reach the transport (placed inside the retry interceptor).
#[derive(Default, Clone)]
struct Attempts(Arc<AtomicU32>);

impl Interceptor for Attempts {
    fn intercept_client<'a>(
        &'a self,
        call: ClientCall,
        next: ClientNext<'a>,
    ) -> BoxFuture<'a, Result<ClientOutput, Status>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        next.run(call)
    }
}

#[tokio::test]
async fn a_refused_connection_is_retried_for_any_method() {
    // A port nobody listens on: bind, learn it, close.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let attempts = Attempts::default();
    let c = client(&format!("http://{addr}"))
        .with_interceptor(Retry::new(fast_retries(3)))
        .with_interceptor(attempts.clone());
    let err = c.unary::<Msg, Msg>(&WRITE, msg("w")).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    assert!(err.is_unprocessed(), "{err}");
    assert_eq!(
        attempts.0.load(Ordering::SeqCst),
        3,
        "never reached a handler: safe to retry"
    );
}

#[tokio::test]
async fn retries_never_sleep_past_the_deadline() {
    let flaky = Arc::new(Flaky::default());
    let (_server, url) = serve(flaky.clone()).await;
    flaky.failures.store(1000, Ordering::SeqCst);
    let policy = RetryPolicy::default()
        .with_max_attempts(100)
        .with_backoff(Duration::from_millis(100), 1.0, Duration::from_millis(100))
        .with_jitter(0.0);
    let c = ClientChain::new().retry(policy).apply(&client(&url));
    let started = Instant::now();
    let err = c
        .unary::<Msg, Msg>(&GET, msg("x").with_timeout(Duration::from_millis(250)))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(
        err.code(),
        Code::Unavailable,
        "the last real error, not a timeout"
    );
    assert!(took < Duration::from_millis(250), "took {took:?}");
    assert!(
        (2..=3).contains(&flaky.calls()),
        "attempts at 0, 100 and maybe 200 ms: {}",
        flaky.calls()
    );
}

#[tokio::test]
async fn a_call_can_turn_retries_off_and_a_spent_budget_stops_them() {
    let flaky = Arc::new(Flaky::default());
    let (_server, url) = serve(flaky.clone()).await;
    let c = ClientChain::new()
        .retry(fast_retries(5))
        .apply(&client(&url));
    flaky.failures.store(1, Ordering::SeqCst);
    let mut req = msg("x");
    req.extensions_mut().insert(RetryPolicy::disabled());
    assert!(c.unary::<Msg, Msg>(&GET, req).await.is_err());
    assert_eq!(flaky.calls(), 1, "per-call policy: no retry");

    // A budget with no tokens and no floor: no retries at all.
    let budget = Arc::new(RetryBudget::new(0.0, 0.0));
    while budget.try_withdraw() {}
    let broke = ClientChain::new()
        .retry(Retry::with_budget(fast_retries(5), budget))
        .apply(&client(&url));
    flaky.failures.store(1, Ordering::SeqCst);
    assert!(broke.unary::<Msg, Msg>(&GET, msg("y")).await.is_err());
    assert_eq!(flaky.calls(), 2, "budget spent: one attempt");
}

#[tokio::test]
async fn a_server_stream_is_retried_before_its_first_message() {
    let flaky = Arc::new(Flaky::default());
    let (_server, url) = serve(flaky.clone()).await;
    let c = ClientChain::new()
        .retry(fast_retries(3))
        .apply(&client(&url));
    flaky.failures.store(2, Ordering::SeqCst);
    let mut stream = c
        .server_streaming::<Msg, Msg>(&WATCH, msg("s"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stream.next().await.unwrap().unwrap().text, "s");
    assert!(stream.next().await.is_none());
    assert_eq!(flaky.calls(), 3);

    // After its first message a stream is never started again: the caller sees the error.
    let mut stream = c
        .server_streaming::<Msg, Msg>(&WATCH_THEN_FAIL, msg("t"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stream.next().await.unwrap().unwrap().text, "t");
    let err = stream.next().await.unwrap().unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    assert!(stream.next().await.is_none());
    assert_eq!(flaky.calls(), 4, "one call, no retry");
}

#[tokio::test]
async fn the_breaker_opens_fails_fast_and_recovers() {
    let flaky = Arc::new(Flaky::default());
    let (_server, url) = serve(flaky.clone()).await;
    let breaker = Arc::new(CircuitBreaker::new(
        "svc",
        BreakerConfig {
            consecutive_failures: 3,
            cool_down: Duration::from_millis(200),
            ..Default::default()
        },
    ));
    let mut state = breaker.watch();
    let mut events = breaker.subscribe();
    let c = ClientChain::new()
        .circuit_breaker(breaker.clone())
        .no_retry()
        .apply(&client(&url));
    flaky.failures.store(3, Ordering::SeqCst);
    for _ in 0..3 {
        assert_eq!(failed_get(&c).await.code(), Code::Unavailable);
    }
    assert_eq!(breaker.state(), BreakerState::Open);
    let err = failed_get(&c).await;
    assert_eq!(err.code(), Code::Unavailable);
    assert!(
        err.message().contains("circuit breaker \"svc\" is open"),
        "{err}"
    );
    assert_eq!(flaky.calls(), 3, "failing fast: the server saw nothing");

    // After the cool-down (a configured wait, not a race) one trial call goes through;
    // its success closes the breaker.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let out = c.unary::<Msg, Msg>(&GET, msg("back")).await.unwrap();
    assert_eq!(out.into_inner().text, "back");
    state
        .wait_for(|s| *s == BreakerState::Closed)
        .await
        .unwrap();
    assert_eq!(breaker.state(), BreakerState::Closed);
    let seen: Vec<(BreakerState, BreakerState)> = std::iter::from_fn(|| events.try_recv().ok())
        .map(|e| (e.from, e.to))
        .collect();
    assert_eq!(
        seen,
        vec![
            (BreakerState::Closed, BreakerState::Open),
            (BreakerState::Open, BreakerState::HalfOpen),
            (BreakerState::HalfOpen, BreakerState::Closed),
        ]
    );
}
