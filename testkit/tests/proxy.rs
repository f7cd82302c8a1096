//! The fault proxy against a plain TCP echo server: forwarding, and each fault.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use connect_plugin_testkit::proxy::{Direction, FaultProxy, NewConnections, Target};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixListener};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::timeout;

/// Fails the test instead of hanging if `f` never completes.
async fn within<T>(f: impl Future<Output = T>) -> T {
    timeout(Duration::from_secs(60), f)
        .await
        .expect("timed out (a test guard, not a timing assertion)")
}

/// A TCP echo server that reports how each connection ended.
struct EchoServer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    ended: mpsc::UnboundedReceiver<io::Result<u64>>,
    task: JoinHandle<()>,
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn echo_conn<S: AsyncRead + AsyncWrite + Unpin>(s: S) -> io::Result<u64> {
    let (mut r, mut w) = tokio::io::split(s);
    let n = tokio::io::copy(&mut r, &mut w).await?;
    w.shutdown().await?;
    Ok(n)
}

async fn echo_server() -> EchoServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let (tx, ended) = mpsc::unbounded_channel();
    let count = Arc::clone(&accepted);
    let task = tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        loop {
            let (s, _) = listener.accept().await.unwrap();
            count.fetch_add(1, Ordering::SeqCst);
            let tx = tx.clone();
            conns.spawn(async move {
                let _ = tx.send(echo_conn(s).await);
            });
        }
    });
    EchoServer {
        addr,
        accepted,
        ended,
        task,
    }
}

fn pattern(len: usize) -> Vec<u8> {
    // A deterministic, non-repeating-looking byte pattern (xorshift).
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Sends `data` (from a separate task) and reads the same number of bytes back.
async fn round_trip(stream: TcpStream, data: Vec<u8>) -> (TcpStream, Vec<u8>) {
    let (mut r, mut w) = stream.into_split();
    let len = data.len();
    let writer = tokio::spawn(async move {
        w.write_all(&data).await.unwrap();
        w
    });
    let mut back = vec![0u8; len];
    r.read_exact(&mut back).await.unwrap();
    let w = writer.await.unwrap();
    (r.reunite(w).unwrap(), back)
}

async fn ping(stream: &mut TcpStream, msg: &[u8]) -> Vec<u8> {
    stream.write_all(msg).await.unwrap();
    let mut back = vec![0u8; msg.len()];
    stream.read_exact(&mut back).await.unwrap();
    back
}

/// Asserts that nothing arrives on `stream` for a while (used only where a fault guarantees
/// that nothing can arrive, so the wait cannot flake).
async fn assert_silent(stream: &mut TcpStream) {
    let mut byte = [0u8; 1];
    let r = timeout(Duration::from_millis(300), stream.read(&mut byte)).await;
    assert!(r.is_err(), "expected no data, got {r:?}");
}

#[tokio::test]
async fn forwards_bytes_exactly_and_half_close() {
    let server = echo_server().await;
    let proxy = FaultProxy::start(server.addr).await.unwrap();
    assert_eq!(proxy.target(), &Target::Tcp(server.addr));
    let data = pattern(3 << 20);
    let stream = TcpStream::connect(proxy.local_addr()).await.unwrap();
    let (mut stream, back) = within(round_trip(stream, data.clone())).await;
    assert!(back == data, "echoed bytes differ");

    // Half-close: our end of stream reaches the server, and its end comes back.
    stream.shutdown().await.unwrap();
    let mut rest = Vec::new();
    within(stream.read_to_end(&mut rest)).await.unwrap();
    assert!(rest.is_empty());
    drop(stream);

    let len = data.len() as u64;
    let stats = within(proxy.handle().wait_until(|s| s.active == 0)).await;
    assert_eq!(stats.accepted, 1);
    assert_eq!(stats.resets, 0);
    assert_eq!(stats.upstream.received, len);
    assert_eq!(stats.upstream.forwarded, len);
    assert_eq!(stats.downstream.received, len);
    assert_eq!(stats.downstream.forwarded, len);
    proxy.shutdown().await;
}

#[tokio::test]
async fn counters_count_connections_and_bytes() {
    let server = echo_server().await;
    let proxy = FaultProxy::start(server.addr).await.unwrap();
    let h = proxy.handle().clone();
    let mut streams = Vec::new();
    for i in 0..3u8 {
        let mut s = TcpStream::connect(proxy.local_addr()).await.unwrap();
        let msg = vec![i; 10 * (i as usize + 1)];
        assert_eq!(within(ping(&mut s, &msg)).await, msg);
        streams.push(s);
    }
    let stats = within(h.wait_until(|s| s.downstream.forwarded == 60)).await;
    assert_eq!(stats.accepted, 3);
    assert_eq!(stats.active, 3);
    assert_eq!(stats.upstream.forwarded, 60);
    assert_eq!(stats.downstream.received, 60);
    drop(streams);
    let stats = within(h.wait_until(|s| s.active == 0)).await;
    assert_eq!(stats.accepted, 3);
    assert_eq!(server.accepted.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn latency_adds_to_round_trips() {
    let server = echo_server().await;
    let proxy = FaultProxy::start(server.addr).await.unwrap();
    let h = proxy.handle();
    let mut s = TcpStream::connect(proxy.local_addr()).await.unwrap();
    assert_eq!(within(ping(&mut s, b"warm")).await, b"warm");

    // Set on an open connection; each direction adds its own delay.
    for (dir, latency, expected) in [
        (Direction::Upstream, 150, 150),
        (Direction::Downstream, 150, 150),
        (Direction::Both, 100, 200),
    ] {
        h.clear();
        h.set_latency(dir, Duration::from_millis(latency));
        let start = Instant::now();
        assert_eq!(within(ping(&mut s, b"hello")).await, b"hello");
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(expected),
            "{dir:?} {latency} ms: round trip took only {took:?}"
        );
    }
}

#[tokio::test]
async fn latency_is_a_delay_line_that_keeps_order() {
    let server = echo_server().await;
    let proxy = FaultProxy::start(server.addr).await.unwrap();
    let h = proxy.handle();
    let mut s = TcpStream::connect(proxy.local_addr()).await.unwrap();
    h.set_latency(Direction::Upstream, Duration::from_secs(3600));

    // The proxy keeps reading while bytes wait out their delay: three separate writes are
    // all received, none forwarded.
    for (i, part) in [&b"ab"[..], b"cd", b"ef"].into_iter().enumerate() {
        s.write_all(part).await.unwrap();
        let want = 2 * (i as u64 + 1);
        let stats = within(h.wait_until(|st| st.upstream.received == want)).await;
        assert_eq!(stats.upstream.forwarded, 0);
    }
    // Shortening the delay applies to the waiting bytes; later bytes never overtake them.
    h.set_latency(Direction::Upstream, Duration::ZERO);
    s.write_all(b"gh").await.unwrap();
    let mut back = [0u8; 8];
    within(s.read_exact(&mut back)).await.unwrap();
    assert_eq!(&back, b"abcdefgh");
}

#[tokio::test]
async fn stall_holds_bytes_until_resumed() {
    let server = echo_server().await;
    let proxy = FaultProxy::start(server.addr).await.unwrap();
    let h = proxy.handle();
    let mut s = TcpStream::connect(proxy.local_addr()).await.unwrap();
    assert_eq!(within(ping(&mut s, b"before")).await, b"before");

    // Upstream: the proxy takes the bytes but the server never sees them.
    h.stall(Direction::Upstream);
    s.write_all(b"held-up").await.unwrap();
    let stats = within(h.wait_until(|st| st.upstream.received == 13)).await;
    assert_eq!(stats.upstream.forwarded, 6);
    assert_silent(&mut s).await;
    h.resume(Direction::Upstream);
    let mut back = [0u8; 7];
    within(s.read_exact(&mut back)).await.unwrap();
    assert_eq!(&back, b"held-up");

    // Downstream: the server echoes, the reply waits in the proxy.
    h.stall(Direction::Downstream);
    s.write_all(b"held-down").await.unwrap();
    let stats = within(h.wait_until(|st| st.downstream.received == 22)).await;
    assert_eq!(stats.downstream.forwarded, 13);
    assert_silent(&mut s).await;
    h.resume(Direction::Downstream);
    let mut back = [0u8; 9];
    within(s.read_exact(&mut back)).await.unwrap();
    assert_eq!(&back, b"held-down");

    // A stall also holds an end of stream.
    h.stall(Direction::Both);
    s.shutdown().await.unwrap();
    assert_silent(&mut s).await;
    h.clear();
    let mut rest = Vec::new();
    within(s.read_to_end(&mut rest)).await.unwrap();
    assert!(rest.is_empty());
}

#[tokio::test]
async fn reset_existing_resets_both_peers() {
    let mut server = echo_server().await;
    let proxy = FaultProxy::start(server.addr).await.unwrap();
    let h = proxy.handle();
    let mut s = TcpStream::connect(proxy.local_addr()).await.unwrap();
    assert_eq!(within(ping(&mut s, b"x")).await, b"x");

    assert_eq!(within(h.reset_existing()).await, 1);
    let mut buf = [0u8; 1];
    let err = within(s.read(&mut buf)).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
    let server_side = within(server.ended.recv()).await.unwrap().unwrap_err();
    assert_eq!(server_side.kind(), io::ErrorKind::ConnectionReset);
    let stats = h.stats();
    assert_eq!((stats.resets, stats.active), (1, 0));

    // New connections are unaffected.
    let mut s = TcpStream::connect(proxy.local_addr()).await.unwrap();
    assert_eq!(within(ping(&mut s, b"y")).await, b"y");
}

#[tokio::test]
async fn reset_existing_reaches_stalled_connections() {
    let server = echo_server().await;
    let proxy = FaultProxy::start(server.addr).await.unwrap();
    let h = proxy.handle();
    h.stall(Direction::Both);
    let mut s = TcpStream::connect(proxy.local_addr()).await.unwrap();
    s.write_all(b"lost").await.unwrap();
    within(h.wait_until(|st| st.upstream.received == 4)).await;
    assert_eq!(within(h.reset_existing()).await, 1);
    let mut buf = [0u8; 1];
    let err = within(s.read(&mut buf)).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
}

#[tokio::test]
async fn reset_new_connections() {
    let server = echo_server().await;
    let proxy = FaultProxy::start(server.addr).await.unwrap();
    let h = proxy.handle();
    h.set_new_connections(NewConnections::Reset).await.unwrap();
    for _ in 0..2 {
        let mut s = TcpStream::connect(proxy.local_addr()).await.unwrap();
        let mut buf = [0u8; 1];
        let err = within(s.read(&mut buf)).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
    }
    let stats = h.stats();
    assert_eq!((stats.accepted, stats.resets, stats.active), (2, 2, 0));
    assert_eq!(server.accepted.load(Ordering::SeqCst), 0);

    h.set_new_connections(NewConnections::Forward)
        .await
        .unwrap();
    let mut s = TcpStream::connect(proxy.local_addr()).await.unwrap();
    assert_eq!(within(ping(&mut s, b"ok")).await, b"ok");
}

#[tokio::test]
async fn refuse_then_accept_again_on_the_same_port() {
    let server = echo_server().await;
    let proxy = FaultProxy::start(server.addr).await.unwrap();
    let h = proxy.handle();
    // An open connection survives refusing new ones.
    let mut open = TcpStream::connect(proxy.local_addr()).await.unwrap();
    assert_eq!(within(ping(&mut open, b"1")).await, b"1");

    h.set_new_connections(NewConnections::Refuse).await.unwrap();
    let err = TcpStream::connect(proxy.local_addr()).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    assert_eq!(within(ping(&mut open, b"2")).await, b"2");

    h.set_new_connections(NewConnections::Forward)
        .await
        .unwrap();
    let mut s = TcpStream::connect(proxy.local_addr()).await.unwrap();
    assert_eq!(within(ping(&mut s, b"3")).await, b"3");
}

#[tokio::test]
async fn blackhole_accepts_and_never_answers() {
    let server = echo_server().await;
    let proxy = FaultProxy::start(server.addr).await.unwrap();
    let h = proxy.handle();
    h.set_new_connections(NewConnections::Blackhole)
        .await
        .unwrap();
    let mut s = TcpStream::connect(proxy.local_addr()).await.unwrap();
    s.write_all(b"anyone?").await.unwrap();
    within(h.wait_until(|st| st.upstream.received == 7)).await;
    assert_silent(&mut s).await;
    assert_eq!(server.accepted.load(Ordering::SeqCst), 0);

    // Blackholed connections are open connections: a reset reaches them.
    assert_eq!(within(h.reset_existing()).await, 1);
    let mut buf = [0u8; 1];
    let err = within(s.read(&mut buf)).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
}

#[tokio::test]
async fn bandwidth_cap_paces_each_direction() {
    let server = echo_server().await;
    let proxy = FaultProxy::start(server.addr).await.unwrap();
    let h = proxy.handle();
    const RATE: u64 = 400_000;
    const N: usize = 200_000;
    for dir in [Direction::Upstream, Direction::Downstream] {
        h.clear();
        h.set_bandwidth(dir, Some(RATE));
        let s = TcpStream::connect(proxy.local_addr()).await.unwrap();
        let data = pattern(N);
        let start = Instant::now();
        let (_s, back) = within(round_trip(s, data.clone())).await;
        let took = start.elapsed();
        assert!(back == data, "{dir:?}: echoed bytes differ");
        let floor = Duration::from_secs_f64(N as f64 / RATE as f64);
        assert!(
            took >= floor,
            "{dir:?}: {N} bytes at {RATE} B/s took {took:?} < {floor:?}"
        );
    }
}

#[tokio::test]
async fn zero_bandwidth_forwards_nothing_until_lifted() {
    let server = echo_server().await;
    let proxy = FaultProxy::start(server.addr).await.unwrap();
    let h = proxy.handle();
    let mut s = TcpStream::connect(proxy.local_addr()).await.unwrap();
    h.set_bandwidth(Direction::Upstream, Some(0));
    s.write_all(b"slow").await.unwrap();
    within(h.wait_until(|st| st.upstream.received == 4)).await;
    assert_silent(&mut s).await;
    h.set_bandwidth(Direction::Upstream, None);
    let mut back = [0u8; 4];
    within(s.read_exact(&mut back)).await.unwrap();
    assert_eq!(&back, b"slow");
}

#[tokio::test]
async fn target_down_resets_the_client() {
    // A port with nothing listening: bind, note the address, close.
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let proxy = FaultProxy::start(addr).await.unwrap();
    let mut s = TcpStream::connect(proxy.local_addr()).await.unwrap();
    let mut buf = [0u8; 1];
    let err = within(s.read(&mut buf)).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
    assert_eq!(proxy.handle().stats().resets, 1);
}

#[tokio::test]
async fn unix_socket_target() {
    let dir = std::env::temp_dir().join(format!("testkit-unix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("echo.sock");
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    let server = tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        echo_conn(s).await
    });
    let proxy = FaultProxy::start(path.clone()).await.unwrap();
    let mut s = TcpStream::connect(proxy.local_addr()).await.unwrap();
    proxy
        .handle()
        .set_latency(Direction::Both, Duration::from_millis(20));
    assert_eq!(within(ping(&mut s, b"over unix")).await, b"over unix");
    s.shutdown().await.unwrap();
    let mut rest = Vec::new();
    within(s.read_to_end(&mut rest)).await.unwrap();
    assert_eq!(within(server).await.unwrap().unwrap(), 9);
    proxy.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn shutdown_closes_everything() {
    let server = echo_server().await;
    let proxy = FaultProxy::start(server.addr).await.unwrap();
    let addr = proxy.local_addr();
    let h = proxy.handle().clone();
    h.stall(Direction::Both);
    let mut s = TcpStream::connect(addr).await.unwrap();
    within(h.wait_until(|st| st.active == 1)).await;
    within(proxy.shutdown()).await;

    // The connection's task is gone (its registry entry with it), the socket closed.
    assert_eq!(h.stats().active, 0);
    let mut buf = [0u8; 1];
    let r = within(s.read(&mut buf)).await;
    assert!(matches!(r, Ok(0)) || r.is_err(), "{r:?}");
    let err = TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    assert!(matches!(
        h.set_new_connections(NewConnections::Forward).await,
        Err(connect_plugin_testkit::proxy::Error::Closed)
    ));
}
