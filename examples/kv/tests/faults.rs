//! Proven under real faults (issue #5): the host's deadlines, retries and circuit breaker
//! with real processes and sockets — a plugin killed with SIGKILL under load, frozen with
//! SIGSTOP, a network that adds latency, stalls, resets, throttles and refuses (a
//! `FaultProxy` in between), and a full partition between two network namespaces.
//!
//! No sleep stands in for an event: the tests wait on the breaker's `watch()`/`subscribe()`,
//! on the proxy's counters (`wait_until`), on handler counters, or poll observable state in
//! bounded loops. Every outcome is counted and printed (`cargo test -- --nocapture`).

use std::collections::BTreeMap;
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use connect_plugin::interceptors::{
    BreakerConfig, BreakerState, CircuitBreaker, ClientChain, RetryPolicy, StateChange,
};
use connect_plugin::plugin::{Network, PluginClient, RestartPolicy};
use connect_plugin::protocol::StreamType;
use connect_plugin::rpc::{self, Idempotency, MethodDescriptor, Request, Response};
use connect_plugin::transport::{ListenAddr, RunningServer};
use connect_plugin::{Channel, Client, ClientConfig, Code, Router, Server, Status};
use connect_plugin_testkit::netns::{self, NetnsPair};
use connect_plugin_testkit::proxy::{Direction, FaultProxy, NewConnections};
use echo::pb::{EchoRequest, EchoResponse, EchoService as _, EchoServiceClient};
use kv::pb::{self, KvService, KvServicePlugin};
use kv::{get, put};
use tokio::sync::{broadcast, watch};

const PLUGIN: &str = env!("CARGO_BIN_EXE_kv-plugin");

/// How much later than its deadline a call may end (scheduling on a loaded machine).
const SLACK: Duration = Duration::from_millis(500);
/// A test guard, never a timing assertion: waiting longer than this is a hang.
const GUARD: Duration = Duration::from_secs(20);

/// Awaits `f`, failing the test (instead of hanging it) after [`GUARD`].
async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(GUARD, f)
        .await
        .unwrap_or_else(|_| panic!("{what}: nothing after {GUARD:?} (a hang)"))
}

/// Polls `cond` (observable state) every 5 ms until it holds, for at most [`GUARD`].
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !cond() {
        assert!(started.elapsed() < GUARD, "{what}: not within {GUARD:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    started.elapsed()
}

/// Waits for the breaker to be in `state`.
async fn breaker_reaches(breaker: &CircuitBreaker, state: BreakerState) {
    let mut w = breaker.watch();
    within(&format!("breaker {state:?}"), w.wait_for(|s| *s == state))
        .await
        .expect("the breaker lives");
}

/// Every state change received so far.
fn drain(events: &mut broadcast::Receiver<StateChange>) -> Vec<(BreakerState, BreakerState)> {
    let mut out = Vec::new();
    loop {
        match events.try_recv() {
            Ok(c) => out.push((c.from, c.to)),
            Err(broadcast::error::TryRecvError::Lagged(n)) => {
                panic!("{n} breaker events lost")
            }
            Err(_) => return out,
        }
    }
}

/// Asserts Open, then HalfOpen, then Closed appear in this order among the changes.
fn assert_recovered(changes: &[(BreakerState, BreakerState)]) {
    let tos: Vec<BreakerState> = changes.iter().map(|c| c.1).collect();
    let open = tos.iter().position(|s| *s == BreakerState::Open);
    let half = open.and_then(|o| {
        tos[o..]
            .iter()
            .position(|s| *s == BreakerState::HalfOpen)
            .map(|h| o + h)
    });
    let closed = half.and_then(|h| tos[h..].iter().position(|s| *s == BreakerState::Closed));
    assert!(
        closed.is_some(),
        "expected Open → HalfOpen → Closed among {changes:?}"
    );
    assert_eq!(tos.last(), Some(&BreakerState::Closed), "{changes:?}");
}

fn signal(sig: &str, pid: u32) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok, "kill {sig} {pid}");
}

/// Whether every thread of `pid` is stopped (`T`): `kill -STOP` has taken effect.
fn frozen(pid: u32) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| {
            tasks.flatten().all(|t| {
                std::fs::read_to_string(t.path().join("stat"))
                    .map(|s| s.split(") ").nth(1).is_some_and(|r| r.starts_with('T')))
                    .unwrap_or(false)
            })
        })
        .unwrap_or(false)
}

fn pid_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .split(") ")
            .nth(1)
            .is_some_and(|rest| rest.starts_with('Z')),
        Err(_) => false,
    }
}

fn breaker_config(consecutive_failures: u32, cool_down: Duration) -> BreakerConfig {
    BreakerConfig {
        consecutive_failures,
        cool_down,
        ..BreakerConfig::default()
    }
}

/// A plugin's default chain (a circuit breaker, retry) with the breaker configured as given.
fn plugin_chain(breaker: BreakerConfig) -> ClientChain {
    ClientChain::new()
        .circuit_breaker(Arc::new(CircuitBreaker::new("kv", breaker)))
        .retry(RetryPolicy::default())
}

/// A default timeout for every call of a plugin's clients.
fn with_timeout(timeout: Duration) -> ClientConfig {
    ClientConfig {
        timeout: Some(timeout),
        ..ClientConfig::default()
    }
}

/// The outcomes of calls, counted.
#[derive(Default)]
struct Outcomes {
    ok: AtomicU64,
    not_found: AtomicU64,
    unavailable: AtomicU64,
    /// Of `unavailable`: failed fast by the open (or busy half-open) breaker.
    breaker_fast_fail: AtomicU64,
    deadline_exceeded: AtomicU64,
    other: AtomicU64,
    late: AtomicU64,
    hangs: AtomicU64,
    slowest_ms: AtomicU64,
    others: Mutex<Vec<String>>,
}

impl Outcomes {
    fn record(&self, result: Option<Result<(), Status>>, took: Duration, deadline: Duration) {
        let Some(result) = result else {
            self.hangs.fetch_add(1, Ordering::SeqCst);
            return;
        };
        self.slowest_ms
            .fetch_max(took.as_millis() as u64, Ordering::SeqCst);
        if took > deadline + SLACK {
            self.late.fetch_add(1, Ordering::SeqCst);
        }
        let counter = match &result {
            Ok(()) => &self.ok,
            Err(e) => match e.code() {
                Code::NotFound => &self.not_found,
                Code::Unavailable => {
                    if e.message().contains("circuit breaker") {
                        self.breaker_fast_fail.fetch_add(1, Ordering::SeqCst);
                    }
                    &self.unavailable
                }
                Code::DeadlineExceeded => &self.deadline_exceeded,
                _ => {
                    self.others.lock().unwrap().push(e.to_string());
                    &self.other
                }
            },
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }

    fn answered(&self) -> u64 {
        self.ok.load(Ordering::SeqCst) + self.not_found.load(Ordering::SeqCst)
    }

    fn summary(&self) -> BTreeMap<&'static str, u64> {
        let g = |c: &AtomicU64| c.load(Ordering::SeqCst);
        BTreeMap::from([
            ("ok", g(&self.ok)),
            ("not_found", g(&self.not_found)),
            ("unavailable", g(&self.unavailable)),
            ("breaker_fast_fail", g(&self.breaker_fast_fail)),
            ("deadline_exceeded", g(&self.deadline_exceeded)),
            ("other", g(&self.other)),
            ("late", g(&self.late)),
            ("hangs", g(&self.hangs)),
            ("slowest_ms", g(&self.slowest_ms)),
        ])
    }
}

// ---------------------------------------------------------------------------------------
// 1. SIGKILL under load, with the restart policy.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_every_call_ends_and_the_breaker_recovers() {
    sigkill_under_load(Network::Unix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_over_tcp_with_mtls() {
    sigkill_under_load(Network::Tcp).await;
}

async fn sigkill_under_load(network: Network) {
    const CALLERS: usize = 32;
    const DEADLINE: Duration = Duration::from_secs(1);
    let cool_down = Duration::from_millis(300);
    let plugin = PluginClient::builder(kv::cookie())
        .command(PLUGIN)
        .network(network)
        .restart(RestartPolicy {
            max_restarts: 3,
            // Long enough that the outage outlasts what retries can hide.
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(1),
        })
        .client_config(with_timeout(DEADLINE))
        .chain(plugin_chain(breaker_config(5, cool_down)))
        .start()
        .await
        .expect("plugin starts");
    let kv: Arc<dyn KvService> = plugin.dispense::<KvServicePlugin>().unwrap();
    let breaker = plugin.circuit_breaker().expect("a breaker").clone();
    let mut events = breaker.subscribe();
    kv.put(put("warm", "1").into()).await.unwrap();

    let outcomes = Arc::new(Outcomes::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut callers = tokio::task::JoinSet::new();
    for i in 0..CALLERS {
        let (kv, outcomes, stop) = (kv.clone(), outcomes.clone(), stop.clone());
        callers.spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                // A Put, then a Get of the same key.
                let key = format!("c{i}/{}", (n / 2) % 4);
                let started = Instant::now();
                let call = async {
                    if n & 1 == 0 {
                        kv.put(put(&key, "v").into()).await.map(drop)
                    } else {
                        kv.get(get(&key).into()).await.map(drop)
                    }
                };
                // The outer timeout only detects hangs; the deadline is the client's.
                let result = tokio::time::timeout(DEADLINE + Duration::from_secs(4), call)
                    .await
                    .ok();
                let failed = !matches!(result, Some(Ok(())));
                outcomes.record(result, started.elapsed(), DEADLINE);
                n += 1;
                if failed {
                    // Fast failures (an open breaker) would otherwise spin.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        });
    }

    // Under load, then SIGKILL.
    eventually("calls succeed under load", || outcomes.answered() >= 200).await;
    let first = plugin.pid().expect("a pid");
    let killed_at = Instant::now();
    signal("-KILL", first);
    breaker_reaches(&breaker, BreakerState::Open).await;
    let opened = killed_at.elapsed();
    let restarted = eventually("the plugin restarts", || plugin.restarts() == 1).await;
    breaker_reaches(&breaker, BreakerState::Closed).await;
    let closed = killed_at.elapsed();
    let second = plugin.pid().expect("a pid");
    assert_ne!(first, second, "a new process");
    assert!(!pid_alive(first));
    let answered = outcomes.answered();
    eventually("calls succeed again", || {
        outcomes.answered() >= answered + 200
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    while let Some(joined) = within("callers end", callers.join_next()).await {
        joined.expect("a caller panicked");
    }

    let changes = drain(&mut events);
    let counts = outcomes.summary();
    println!(
        "sigkill under load ({network:?}): {CALLERS} callers, deadline {DEADLINE:?}: {counts:?}; \
         breaker opened {opened:?} after the kill, plugin back {restarted:?} after the open, \
         breaker closed {closed:?} after the kill; changes {changes:?}"
    );
    assert_eq!(counts["hangs"], 0, "calls that never ended");
    assert_eq!(
        counts["other"],
        0,
        "unexpected codes: {:?}",
        outcomes.others.lock().unwrap()
    );
    assert_eq!(
        counts["late"], 0,
        "calls that outlived deadline + {SLACK:?}"
    );
    assert!(
        counts["unavailable"] - counts["breaker_fast_fail"] + counts["deadline_exceeded"] > 0,
        "calls reached the dead plugin"
    );
    assert!(
        counts["breaker_fast_fail"] > 0,
        "the open breaker failed calls fast"
    );
    assert_recovered(&changes);
    assert_eq!(plugin.restarts(), 1);
    assert_eq!(breaker.state(), BreakerState::Closed);
    kv.put(put("after", "1").into()).await.unwrap();
    plugin.kill().await;
}

// ---------------------------------------------------------------------------------------
// 2. A stalled plugin (SIGSTOP), and handlers cancelled at the deadline.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_frozen_plugin_fails_calls_at_their_deadline_and_recovers_on_sigcont() {
    let deadline = Duration::from_millis(300);
    let cool_down = Duration::from_millis(300);
    let plugin = PluginClient::builder(kv::cookie())
        .command(PLUGIN)
        .chain(plugin_chain(breaker_config(3, cool_down)))
        .start()
        .await
        .expect("plugin starts");
    let kv: Arc<dyn KvService> = plugin.dispense::<KvServicePlugin>().unwrap();
    let breaker = plugin.circuit_breaker().unwrap().clone();
    let mut events = breaker.subscribe();
    kv.put(put("k", "v").into()).await.unwrap();
    let pid = plugin.pid().unwrap();

    signal("-STOP", pid);
    eventually("the plugin stops", || frozen(pid)).await;
    let outcomes = Outcomes::default();
    // Three concurrent calls: each ends at its deadline; together they open the breaker.
    let calls = (0..3).map(|_| {
        let kv = kv.clone();
        async move {
            let started = Instant::now();
            let r = tokio::time::timeout(
                deadline + Duration::from_secs(4),
                kv.get(Request::new(get("k")).with_timeout(deadline)),
            )
            .await
            .ok()
            .map(|r| r.map(drop));
            (r, started.elapsed())
        }
    });
    for (r, took) in futures::future::join_all(calls).await {
        assert!(took >= deadline, "ended before its deadline: {took:?}");
        outcomes.record(r, took, deadline);
    }
    let counts = outcomes.summary();
    assert_eq!(counts["deadline_exceeded"], 3, "{counts:?}");
    assert_eq!(counts["late"], 0, "{counts:?}");
    breaker_reaches(&breaker, BreakerState::Open).await;
    let opened = Instant::now();

    // Open: a call fails at once, without waiting for the frozen plugin.
    let started = Instant::now();
    let err = kv
        .get(Request::new(get("k")).with_timeout(deadline))
        .await
        .unwrap_err();
    let fast = started.elapsed();
    assert_eq!(err.code(), Code::Unavailable, "{err}");
    assert!(err.message().contains("circuit breaker"), "{err}");
    assert!(
        fast < Duration::from_millis(100),
        "failing fast took {fast:?}"
    );

    signal("-CONT", pid);
    let mut attempts = 0;
    let value = loop {
        attempts += 1;
        match within(
            "a call",
            kv.get(Request::new(get("k")).with_timeout(deadline)),
        )
        .await
        {
            Ok(r) => break r.into_inner().value,
            Err(e) => assert!(
                matches!(e.code(), Code::Unavailable | Code::DeadlineExceeded),
                "{e}"
            ),
        }
        assert!(attempts < 500, "no recovery");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let recovered = opened.elapsed();
    assert_eq!(&value[..], b"v");
    // (`opened` was taken just after the breaker opened, hence the small tolerance.)
    assert!(
        recovered + Duration::from_millis(20) >= cool_down,
        "a call passed the open breaker after {recovered:?}"
    );
    breaker_reaches(&breaker, BreakerState::Closed).await;
    let changes = drain(&mut events);
    println!(
        "sigstop: frozen calls {counts:?}; fail-fast while open {fast:?}; first success \
         {recovered:?} after the open ({attempts} calls after SIGCONT); changes {changes:?}"
    );
    assert_recovered(&changes);
    plugin.kill().await;
}

/// Reports when it is dropped.
struct DropGuard(Option<tokio::sync::oneshot::Sender<()>>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

async fn serve(router: Router) -> (RunningServer, std::net::SocketAddr) {
    let server = Server::new(router).bind("127.0.0.1:0").await.expect("bind");
    let ListenAddr::Tcp(addr) = server.local_addr().clone() else {
        panic!("a TCP server")
    };
    (server, addr)
}

#[tokio::test]
async fn the_deadline_cancels_the_servers_handler() {
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let (dropped_tx, dropped_rx) = tokio::sync::oneshot::channel();
    let slots = Arc::new(Mutex::new(Some((started_tx, dropped_tx))));
    let router = Router::new().route(
        echo::pb::ECHO_SERVICE_ECHO,
        rpc::unary(move |_req: Request<EchoRequest>| {
            let slot = slots.lock().unwrap().take();
            async move {
                let (started, dropped) = slot.expect("called once");
                let _guard = DropGuard(Some(dropped));
                let _ = started.send(());
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(Response::new(EchoResponse::default()))
            }
        }),
    );
    let (_server, addr) = serve(router).await;
    let client = ClientChain::new()
        .circuit_breaker(Arc::new(CircuitBreaker::new(
            "echo",
            BreakerConfig::default(),
        )))
        .retry(RetryPolicy::default())
        .apply(&Client::new(
            Channel::builder(&format!("http://{addr}")).unwrap().build(),
        ));
    let echo = EchoServiceClient::new(client);
    let deadline = Duration::from_millis(200);
    let started = Instant::now();
    let err = within(
        "the call",
        echo.echo(
            Request::new(EchoRequest {
                message: "x".into(),
                ..Default::default()
            })
            .with_timeout(deadline),
        ),
    )
    .await
    .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err}");
    assert!(
        took >= deadline && took < deadline + SLACK,
        "ended after {took:?}"
    );
    within("the handler started", started_rx)
        .await
        .expect("started");
    let waited = Instant::now();
    within("the handler's future dropped", dropped_rx)
        .await
        .expect("the guard reports its drop");
    println!(
        "handler cancellation: deadline_exceeded after {took:?}; handler future dropped {:?} \
         later",
        waited.elapsed()
    );
}

// ---------------------------------------------------------------------------------------
// 3. Network faults between the host and a standalone plugin.
// ---------------------------------------------------------------------------------------

/// `kv-plugin --listen 127.0.0.1:0`, killed on drop.
struct Standalone {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    addr: std::net::SocketAddr,
}

impl Standalone {
    fn start(mut cmd: Command, listen: &str) -> Self {
        let mut child = cmd
            .args(["--listen", listen])
            .env_remove("KV_PLUGIN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("kv-plugin starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("an address line, not {line:?}"))
            .parse()
            .expect("an address");
        Standalone {
            child,
            _stdout: stdout,
            addr,
        }
    }
}

impl Drop for Standalone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Proxied {
    _plugin: Standalone,
    proxy: FaultProxy,
    host: PluginClient,
    kv: Arc<dyn KvService>,
}

async fn kv_behind_proxy(breaker: BreakerConfig) -> Proxied {
    let plugin = Standalone::start(Command::new(PLUGIN), "127.0.0.1:0");
    let proxy = FaultProxy::start(plugin.addr).await.unwrap();
    let host = PluginClient::builder(kv::cookie())
        .endpoint(proxy.url())
        .chain(plugin_chain(breaker))
        .start()
        .await
        .expect("handshake through the proxy");
    let kv = host.dispense::<KvServicePlugin>().unwrap();
    kv.put(put("k", "v").into()).await.unwrap();
    Proxied {
        _plugin: plugin,
        proxy,
        host,
        kv,
    }
}

/// Times a call.
async fn timed<T>(f: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let out = within("a call", f).await;
    (out, started.elapsed())
}

#[tokio::test]
async fn proxy_latency_slows_calls_and_a_shorter_deadline_fails_them() {
    let p = kv_behind_proxy(BreakerConfig::default()).await;
    let faults = p.proxy.handle();
    let latency = Duration::from_millis(150);
    faults.set_latency(Direction::Both, latency);
    let (r, slow) = timed(p.kv.get(get("k").into())).await;
    assert_eq!(&r.unwrap().into_inner().value[..], b"v");
    // The request waits `latency` on the way up, the answer on the way down.
    assert!(slow >= 2 * latency, "took only {slow:?}");

    let deadline = Duration::from_millis(100);
    let (r, took) = timed(p.kv.get(Request::new(get("k")).with_timeout(deadline))).await;
    let err = r.unwrap_err();
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err}");
    assert!(took >= deadline && took < deadline + SLACK, "{took:?}");

    faults.clear();
    let (r, fast) = timed(p.kv.get(get("k").into())).await;
    r.unwrap();
    println!(
        "latency {latency:?} each way: call {slow:?}; with a {deadline:?} deadline: \
         deadline_exceeded after {took:?}; cleared: {fast:?}"
    );
}

#[tokio::test]
async fn a_stalled_connection_fails_at_the_deadline_then_recovers() {
    let p = kv_behind_proxy(BreakerConfig::default()).await;
    let faults = p.proxy.handle();
    faults.stall(Direction::Both);
    let deadline = Duration::from_millis(300);
    let (r, took) = timed(p.kv.get(Request::new(get("k")).with_timeout(deadline))).await;
    let err = r.unwrap_err();
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err}");
    assert!(took >= deadline && took < deadline + SLACK, "{took:?}");
    faults.clear();
    let (r, after) = timed(p.kv.get(Request::new(get("k")).with_timeout(deadline))).await;
    assert_eq!(&r.unwrap().into_inner().value[..], b"v");
    println!("stall: deadline_exceeded after {took:?}; cleared: succeeded in {after:?}");
}

#[tokio::test]
async fn a_blackholed_connection_fails_at_the_deadline_then_recovers() {
    let p = kv_behind_proxy(BreakerConfig::default()).await;
    let faults = p.proxy.handle();
    // New connections are accepted and never answered; the open one is reset, so the next
    // call must connect again (and its HTTP/2 handshake never completes).
    faults
        .set_new_connections(NewConnections::Blackhole)
        .await
        .unwrap();
    faults.reset_existing().await;
    let deadline = Duration::from_millis(300);
    let (r, took) = timed(p.kv.get(Request::new(get("k")).with_timeout(deadline))).await;
    let err = r.unwrap_err();
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err}");
    assert!(took >= deadline && took < deadline + SLACK, "{took:?}");
    faults
        .set_new_connections(NewConnections::Forward)
        .await
        .unwrap();
    faults.reset_existing().await;
    let (r, after) = timed(p.kv.get(Request::new(get("k")).with_timeout(deadline))).await;
    assert_eq!(&r.unwrap().into_inner().value[..], b"v");
    println!("blackhole: deadline_exceeded after {took:?}; forwarding again: {after:?}");
}

#[tokio::test]
async fn a_reset_connection_is_retried_transparently_for_an_idempotent_call() {
    let p = kv_behind_proxy(BreakerConfig::default()).await;
    let faults = p.proxy.handle();
    let before = faults.stats();
    assert_eq!(before.accepted, 1, "one connection so far");
    // The answer is held at the proxy; the connection is reset under the call.
    faults.stall(Direction::Downstream);
    let kv = p.kv.clone();
    let call = tokio::spawn(async move { kv.get(get("k").into()).await });
    within(
        "the request reaches the plugin",
        faults.wait_until(|s| s.upstream.forwarded > before.upstream.forwarded),
    )
    .await;
    let reset = faults.reset_existing().await;
    faults.clear();
    let (r, took) = timed(call).await;
    let value = r
        .unwrap()
        .expect("retried on a new connection")
        .into_inner();
    assert_eq!(&value.value[..], b"v");
    let after = faults.stats();
    println!(
        "reset: {reset} connection(s) reset mid-call; Get succeeded after {took:?}; \
         connections accepted {} → {}, resets {}",
        before.accepted, after.accepted, after.resets
    );
    assert_eq!(reset, 1);
    assert_eq!(
        after.accepted,
        before.accepted + 1,
        "the retry went out on exactly one new connection"
    );
    assert!(after.resets >= 1);
}

#[tokio::test]
async fn a_bandwidth_cap_slows_a_large_put_and_a_short_deadline_fails_it() {
    let p = kv_behind_proxy(BreakerConfig::default()).await;
    let faults = p.proxy.handle();
    const SIZE: usize = 256 * 1024;
    const RATE: u64 = 512 * 1024;
    let big = pb::PutRequest {
        key: "big".into(),
        value: vec![7u8; SIZE].into(),
    };
    faults.set_bandwidth(Direction::Upstream, Some(RATE));
    let (r, slow) =
        timed(p.kv.put(Request::new(big.clone()).with_timeout(Duration::from_secs(10)))).await;
    r.unwrap();
    let floor = Duration::from_secs_f64(SIZE as f64 / RATE as f64);
    assert!(slow >= floor, "{SIZE} bytes at {RATE} B/s in {slow:?}");

    let deadline = Duration::from_millis(200);
    let (r, took) = timed(p.kv.put(Request::new(big).with_timeout(deadline))).await;
    let err = r.unwrap_err();
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err}");
    assert!(took >= deadline && took < deadline + SLACK, "{took:?}");
    faults.clear();
    let (r, _) = timed(p.kv.get(get("big").into())).await;
    assert_eq!(r.unwrap().into_inner().value.len(), SIZE);
    println!(
        "bandwidth {RATE} B/s: {SIZE}-byte Put took {slow:?} (floor {floor:?}); with a \
         {deadline:?} deadline: deadline_exceeded after {took:?}"
    );
}

#[tokio::test]
async fn refused_connections_fail_fast_unprocessed_and_open_the_breaker() {
    let cool_down = Duration::from_millis(300);
    let p = kv_behind_proxy(breaker_config(3, cool_down)).await;
    let breaker = p.host.circuit_breaker().unwrap().clone();
    let mut events = breaker.subscribe();
    let faults = p.proxy.handle();
    faults
        .set_new_connections(NewConnections::Refuse)
        .await
        .unwrap();
    faults.reset_existing().await;
    let deadline = Duration::from_secs(5);
    let mut fails = Vec::new();
    for _ in 0..3 {
        let (r, took) = timed(p.kv.get(Request::new(get("k")).with_timeout(deadline))).await;
        let err = r.unwrap_err();
        assert_eq!(err.code(), Code::Unavailable, "{err}");
        assert!(err.is_unprocessed(), "a refused connection: {err}");
        assert!(took < Duration::from_secs(1), "not fast: {took:?}");
        fails.push(took);
    }
    // Three failures in a row: open.
    assert_eq!(breaker.state(), BreakerState::Open);
    let (r, fast) = timed(p.kv.get(Request::new(get("k")).with_timeout(deadline))).await;
    let err = r.unwrap_err();
    assert!(err.message().contains("circuit breaker"), "{err}");
    assert!(fast < Duration::from_millis(100), "{fast:?}");

    faults
        .set_new_connections(NewConnections::Forward)
        .await
        .unwrap();
    let mut calls = 0;
    loop {
        calls += 1;
        match within("a call", p.kv.get(get("k").into())).await {
            Ok(_) => break,
            Err(e) => assert!(e.message().contains("circuit breaker"), "{e}"),
        }
        assert!(calls < 500, "no recovery");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    breaker_reaches(&breaker, BreakerState::Closed).await;
    let changes = drain(&mut events);
    println!(
        "refuse: failures took {fails:?} (unavailable, unprocessed); open breaker failed in \
         {fast:?}; recovered after {calls} calls; changes {changes:?}"
    );
    assert_recovered(&changes);
}

// ---------------------------------------------------------------------------------------
// 4. Retries never repeat a non-idempotent call that reached its handler.
// ---------------------------------------------------------------------------------------

const BUMP: MethodDescriptor = MethodDescriptor::new(
    "/faults.v1.Counter/Bump",
    StreamType::Unary,
    Idempotency::Unknown,
);
const WARM: MethodDescriptor = MethodDescriptor::new(
    "/faults.v1.Counter/Warm",
    StreamType::Unary,
    Idempotency::NoSideEffects,
);
const PEEK: MethodDescriptor = MethodDescriptor::new(
    "/faults.v1.Counter/Peek",
    StreamType::Unary,
    Idempotency::Idempotent,
);

fn counting(count: watch::Sender<u64>) -> Arc<dyn rpc::Handler> {
    rpc::unary(move |req: Request<EchoRequest>| {
        count.send_modify(|n| *n += 1);
        async move {
            Ok(Response::new(EchoResponse {
                message: req.into_inner().message,
                ..Default::default()
            }))
        }
    })
}

async fn wait_count(count: &watch::Sender<u64>, at_least: u64) {
    within(
        "the handler runs",
        count.subscribe().wait_for(|n| *n >= at_least),
    )
    .await
    .unwrap();
}

fn msg(m: &str) -> Request<EchoRequest> {
    Request::new(EchoRequest {
        message: m.into(),
        ..Default::default()
    })
    .with_timeout(Duration::from_secs(10))
}

#[tokio::test]
async fn a_lost_answer_never_repeats_a_non_idempotent_call() {
    let bumps = watch::Sender::new(0u64);
    let peeks = watch::Sender::new(0u64);
    let router = Router::new()
        .route(BUMP, counting(bumps.clone()))
        .route(PEEK, counting(peeks.clone()))
        .route(WARM, counting(watch::Sender::new(0)));
    let (_server, addr) = serve(router).await;
    let proxy = FaultProxy::start(addr).await.unwrap();
    let faults = proxy.handle().clone();
    let policy = RetryPolicy::default()
        .with_max_attempts(5)
        .with_backoff(Duration::from_millis(20), 2.0, Duration::from_millis(200))
        .with_jitter(0.0);
    let client = ClientChain::new().retry(policy).apply(&Client::new(
        Channel::builder(&proxy.url()).unwrap().build(),
    ));
    client
        .unary::<_, EchoResponse>(&PEEK, msg("warm"))
        .await
        .unwrap();
    assert_eq!(*peeks.borrow(), 1);

    // The handler runs, its answer never comes back: the connection is reset under it.
    let lose_the_answer = |method: &'static MethodDescriptor, count: watch::Sender<u64>| {
        let (client, faults) = (client.clone(), faults.clone());
        async move {
            // An open connection first, so that every new one is a retry's.
            within(
                "a warm-up call",
                client.unary::<_, EchoResponse>(&WARM, msg("warm")),
            )
            .await
            .unwrap();
            let before = *count.borrow();
            let accepted = faults.stats().accepted;
            faults.stall(Direction::Downstream);
            let call = tokio::spawn({
                let client = client.clone();
                async move { client.unary::<_, EchoResponse>(method, msg("once")).await }
            });
            wait_count(&count, before + 1).await;
            assert_eq!(faults.reset_existing().await, 1);
            faults.clear();
            let result = within("the call", call).await.unwrap();
            let after_count = *count.borrow();
            (
                result,
                after_count - before,
                faults.stats().accepted - accepted,
            )
        }
    };

    let (bump, bump_runs, bump_conns) = lose_the_answer(&BUMP, bumps.clone()).await;
    let err = bump.expect_err("the answer was lost");
    assert_eq!(err.code(), Code::Unavailable, "{err}");
    assert!(!err.is_unprocessed(), "it reached the handler: {err}");
    // The call has returned, so any retry would have run already.
    assert_eq!(bump_runs, 1, "a non-idempotent call was repeated");
    assert_eq!(bump_conns, 0, "no retry connected again");

    let (peek, peek_runs, peek_conns) = lose_the_answer(&PEEK, peeks.clone()).await;
    assert_eq!(peek.expect("retried").get_ref().message, "once");
    assert_eq!(peek_runs, 2, "the idempotent call is retried once");
    assert_eq!(peek_conns, 1, "the retry connected once");

    // A failure that provably never reached the handler is retried for any method: the
    // proxy resets new connections, then forwards again during the backoff.
    let policy = RetryPolicy::default()
        .with_max_attempts(5)
        .with_backoff(Duration::from_millis(200), 1.0, Duration::from_millis(200))
        .with_jitter(0.0);
    let before = *bumps.borrow();
    let accepted = faults.stats().accepted;
    faults
        .set_new_connections(NewConnections::Reset)
        .await
        .unwrap();
    assert_eq!(faults.reset_existing().await, 1);
    let call = tokio::spawn({
        let client = client.clone();
        async move {
            let mut req = msg("unprocessed");
            req.extensions_mut().insert(policy);
            client.unary::<_, EchoResponse>(&BUMP, req).await
        }
    });
    within(
        "a connection is reset before the request",
        faults.wait_until(|s| s.accepted > accepted),
    )
    .await;
    faults
        .set_new_connections(NewConnections::Forward)
        .await
        .unwrap();
    let r = within("the call", call).await.unwrap();
    let after = faults.stats();
    println!(
        "lost answers: Bump ran {bump_runs}x ({err}); Peek ran {peek_runs}x over \
         {peek_conns} new connection(s); unprocessed Bump: {} connection(s) reset, then {:?}",
        after.accepted - accepted - 1,
        r.as_ref().map(|r| r.get_ref().message.clone())
    );
    assert_eq!(r.expect("retried").get_ref().message, "unprocessed");
    assert_eq!(*bumps.borrow() - before, 1, "the handler ran exactly once");

    // Refused connections: nothing to count at the proxy, but the retries' backoffs show
    // (two fixed 100 ms waits between three attempts; a refused connect is instant).
    let backoff = Duration::from_millis(100);
    let policy = RetryPolicy::default()
        .with_max_attempts(3)
        .with_backoff(backoff, 1.0, backoff)
        .with_jitter(0.0);
    let before = *bumps.borrow();
    faults
        .set_new_connections(NewConnections::Refuse)
        .await
        .unwrap();
    faults.reset_existing().await;
    // A client with no connection yet: one kept from before could still look open when the
    // call starts, and a request written to it before the reset arrives is not provably
    // unprocessed (seen once under load).
    let fresh = Client::new(Channel::builder(&proxy.url()).unwrap().build());
    let mut req = msg("refused");
    req.extensions_mut().insert(policy);
    let (r, took) = timed(
        ClientChain::new()
            .retry(policy)
            .apply(&fresh)
            .unary::<_, EchoResponse>(&BUMP, req),
    )
    .await;
    let err = r.unwrap_err();
    println!("refused Bump: {err} after {took:?} (3 attempts, 2 backoffs of {backoff:?})");
    assert_eq!(err.code(), Code::Unavailable, "{err}");
    assert!(err.is_unprocessed(), "{err}");
    assert!(took >= 2 * backoff, "retried twice: {took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(*bumps.borrow(), before, "never reached the handler");
    proxy.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// 5. A full partition between network namespaces.
// ---------------------------------------------------------------------------------------

#[test]
fn a_partition_fails_calls_at_their_deadline_and_healing_recovers() {
    if !netns::available() {
        println!(
            "SKIPPED a_partition_fails_calls_at_their_deadline_and_healing_recovers: network \
             namespaces unavailable ({})",
            netns::unavailable_reason().unwrap_or("?")
        );
        return;
    }
    let pair = NetnsPair::new().expect("a namespace pair");
    let listen = format!("{}:0", netns::ADDR_B);
    let plugin = Standalone::start(pair.b().command(PLUGIN), &listen);
    assert_eq!(plugin.addr.ip(), netns::ADDR_B);
    let url = format!("http://{}", plugin.addr);
    let pair = &pair;
    pair.a()
        .enter(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(partition_in_namespace_a(pair, url));
        })
        .expect("entered namespace a");
    drop(plugin);
}

async fn partition_in_namespace_a(pair: &NetnsPair, url: String) {
    let cool_down = Duration::from_millis(300);
    let deadline = Duration::from_millis(500);
    let host = PluginClient::builder(kv::cookie())
        .endpoint(url.clone())
        .chain(plugin_chain(breaker_config(3, cool_down)))
        .client_config(with_timeout(deadline))
        .start()
        .await
        .expect("handshake across the link");
    let kv = host.dispense::<KvServicePlugin>().unwrap();
    let breaker = host.circuit_breaker().unwrap().clone();
    let mut events = breaker.subscribe();
    for i in 0..5 {
        kv.put(put(&format!("p{i}"), "v").into()).await.unwrap();
    }

    pair.partition().unwrap();
    let outcomes = Outcomes::default();
    let mut calls = 0;
    while breaker.state() != BreakerState::Open {
        calls += 1;
        assert!(calls <= 20, "the breaker did not open");
        let started = Instant::now();
        let r = tokio::time::timeout(deadline + Duration::from_secs(4), kv.get(get("p0").into()))
            .await
            .ok()
            .map(|r| r.map(drop));
        outcomes.record(r, started.elapsed(), deadline);
    }
    let counts = outcomes.summary();
    // A new connection cannot even be set up (its SYN is lost): the deadline still holds.
    let fresh = pb::KvServiceClient::new(Client::new(Channel::builder(&url).unwrap().build()));
    let (r, fresh_took) = timed(fresh.get(Request::new(get("p0")).with_timeout(deadline))).await;
    let err = r.unwrap_err();
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err}");
    assert!(
        fresh_took >= deadline && fresh_took < deadline + SLACK,
        "{fresh_took:?}"
    );
    assert_eq!(counts["ok"] + counts["not_found"], 0, "{counts:?}");
    assert_eq!(
        counts["other"] + counts["hangs"] + counts["late"],
        0,
        "{counts:?}"
    );
    assert_eq!(
        counts["unavailable"] + counts["deadline_exceeded"],
        3,
        "three failures open the breaker: {counts:?}"
    );

    pair.heal().unwrap();
    let healed = Instant::now();
    let mut after = 0;
    loop {
        after += 1;
        match within("a call", kv.get(get("p0").into())).await {
            Ok(r) => {
                assert_eq!(&r.get_ref().value[..], b"v");
                break;
            }
            Err(e) => assert!(
                matches!(e.code(), Code::Unavailable | Code::DeadlineExceeded),
                "{e}"
            ),
        }
        assert!(healed.elapsed() < GUARD, "no recovery after healing");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let recovered = healed.elapsed();
    breaker_reaches(&breaker, BreakerState::Closed).await;
    let changes = drain(&mut events);
    println!(
        "partition: {counts:?} before the breaker opened; a new connection: \
         deadline_exceeded after {fresh_took:?}; after healing, success in {recovered:?} \
         ({after} calls); changes {changes:?}"
    );
    assert_recovered(&changes);
}
