//! Server hardening over real sockets on 127.0.0.1: slow, silent, greedy and dead peers are
//! cut off by the server's [`ServerLimits`] while well-behaved clients on other connections
//! keep being served.
//!
//! Misbehaving peers are written by hand (raw bytes, and a small HTTP/2 frame reader and
//! writer), so each test controls exactly what the server sees; well-behaved clients use
//! hyper's HTTP/2 client. Timeouts are configured short (hundreds of milliseconds) and
//! every close is waited for as an event — end of stream on the peer's socket, a GOAWAY
//! frame, the client connection's task finishing — bounded by [`WAIT`], which only limits
//! how long a failing test hangs. The one place that needs a time window is the connection
//! cap, where "not served yet" can only be observed for a while ([`NOT_YET`]).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use connect_plugin::protocol::StreamType;
use connect_plugin::rpc::{self, Idempotency, MethodDescriptor, Request, Response};
use connect_plugin::transport::{ListenAddr, RunningServer, ServerLimits};
use connect_plugin::{Router, Server};
use http_body_util::BodyExt as _;
use http_body_util::combinators::BoxBody;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Bounds every wait for something that should happen: reached only when it does not.
const WAIT: Duration = Duration::from_secs(10);
/// How long a well-behaved client's call may take while the server is being abused.
const PROMPT: Duration = Duration::from_secs(1);
/// How long a connection beyond the cap is watched for (not) being served.
const NOT_YET: Duration = Duration::from_millis(300);
/// Slack for timers and scheduling when checking that something did not happen too early.
const EARLY: Duration = Duration::from_millis(50);

// ---------------------------------------------------------------------------------------
// The service under test.
// ---------------------------------------------------------------------------------------

mod common;
use common::Msg;

fn msg(text: &str) -> Msg {
    Msg {
        text: text.to_owned(),
    }
}

fn pb(text: &str) -> Vec<u8> {
    prost::Message::encode_to_vec(&msg(text))
}

/// One gRPC length-prefixed message.
fn grpc_frame(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0];
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

const ECHO: MethodDescriptor = MethodDescriptor::new(
    "/hard.v1.Svc/Echo",
    StreamType::Unary,
    Idempotency::NoSideEffects,
);
/// Answers only once the test releases it.
const HOLD: MethodDescriptor =
    MethodDescriptor::new("/hard.v1.Svc/Hold", StreamType::Unary, Idempotency::Unknown);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    /// A `Hold` handler started.
    HoldEntered,
    /// A `Hold` handler's future was dropped (finished or cancelled).
    HoldDropped,
}

struct DropGuard(mpsc::UnboundedSender<Event>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        let _ = self.0.send(Event::HoldDropped);
    }
}

fn router(events: mpsc::UnboundedSender<Event>, release: watch::Receiver<bool>) -> Router {
    Router::new()
        .route(
            ECHO,
            rpc::unary(|req: Request<Msg>| async move {
                Ok(Response::new(msg(&format!("echo:{}", req.get_ref().text))))
            }),
        )
        .route(
            HOLD,
            rpc::unary(move |req: Request<Msg>| {
                let events = events.clone();
                let mut release = release.clone();
                async move {
                    let _guard = DropGuard(events.clone());
                    let _ = events.send(Event::HoldEntered);
                    let _ = release.wait_for(|r| *r).await;
                    Ok(Response::new(msg(&format!(
                        "released:{}",
                        req.get_ref().text
                    ))))
                }
            }),
        )
}

struct TestServer {
    addr: SocketAddr,
    events: mpsc::UnboundedReceiver<Event>,
    release: watch::Sender<bool>,
    _server: RunningServer,
}

/// Limits for tests: the defaults with every timer that a test does not set turned off or
/// made long, so only the mechanism under test can close a connection.
fn quiet_limits() -> ServerLimits {
    ServerLimits::default()
        .header_read_timeout(Duration::from_secs(60))
        .http2_keepalive_interval(None)
        .idle_timeout(None)
        .max_connection_age(None)
}

async fn start(limits: ServerLimits) -> TestServer {
    let (tx, events) = mpsc::unbounded_channel();
    let (release, release_rx) = watch::channel(false);
    let server = Server::new(router(tx, release_rx))
        .limits(limits)
        .bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let ListenAddr::Tcp(addr) = server.local_addr().clone() else {
        panic!("a TCP bind gave {:?}", server.local_addr());
    };
    TestServer {
        addr,
        events,
        release,
        _server: server,
    }
}

impl TestServer {
    async fn next_event(&mut self) -> Event {
        within("a handler event", self.events.recv())
            .await
            .expect("the event channel is open while the router lives")
    }

    fn release_holds(&self) {
        self.release.send_replace(true);
    }
}

async fn within<F: std::future::Future>(what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(WAIT, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {WAIT:?} waiting for {what}"),
    }
}

// ---------------------------------------------------------------------------------------
// A well-behaved client: hyper's HTTP/2 client.
// ---------------------------------------------------------------------------------------

type ReqBody = BoxBody<Bytes, Infallible>;

/// A hyper HTTP/2 client connection and the task driving it, which finishes when the
/// connection is closed.
struct Client {
    sender: SendRequest<ReqBody>,
    task: JoinHandle<()>,
}

async fn client(addr: SocketAddr) -> Client {
    let stream = within("connect", TcpStream::connect(addr))
        .await
        .expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (sender, conn) = within(
        "h2 handshake",
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)),
    )
    .await
    .expect("h2 handshake");
    let task = tokio::spawn(async move {
        let _ = conn.await;
    });
    Client { sender, task }
}

fn grpc_request(path: &str, text: &str) -> http::Request<ReqBody> {
    http::Request::post(format!("http://127.0.0.1{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(BoxBody::new(http_body_util::Full::new(Bytes::from(
            grpc_frame(&pb(text)),
        ))))
        .expect("request")
}

/// One gRPC unary call; the answer's message text, or what went wrong.
async fn call(sender: &mut SendRequest<ReqBody>, path: &str, text: &str) -> Result<String, String> {
    sender
        .ready()
        .await
        .map_err(|e| format!("not ready: {e}"))?;
    let resp = sender
        .send_request(grpc_request(path, text))
        .await
        .map_err(|e| format!("request failed: {e} ({:?})", std::error::Error::source(&e)))?;
    let status = resp.status();
    let collected = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("body failed: {e}"))?;
    let grpc_status = collected
        .trailers()
        .and_then(|t| t.get("grpc-status"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = collected.to_bytes();
    if status != 200 || grpc_status.as_deref() != Some("0") || body.len() < 5 {
        return Err(format!(
            "HTTP {status}, grpc-status {grpc_status:?}, body {body:?}"
        ));
    }
    let m: Msg = prost::Message::decode(&body[5..]).map_err(|e| e.to_string())?;
    Ok(m.text)
}

/// An echo call that must succeed within [`PROMPT`].
async fn prompt_echo(sender: &mut SendRequest<ReqBody>, text: &str) {
    let started = Instant::now();
    let answer = tokio::time::timeout(PROMPT, call(sender, ECHO.path, text))
        .await
        .unwrap_or_else(|_| panic!("echo {text:?} took longer than {PROMPT:?}"));
    assert_eq!(
        answer,
        Ok(format!("echo:{text}")),
        "after {:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------------------
// A hand-driven HTTP/2 peer.
// ---------------------------------------------------------------------------------------

const MAGIC: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;

const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;

const NO_ERROR: u32 = 0x0;
const REFUSED_STREAM: u32 = 0x7;
const SETTINGS_MAX_CONCURRENT_STREAMS: u16 = 0x3;

#[derive(Debug, Clone)]
struct H2Frame {
    kind: u8,
    flags: u8,
    stream: u32,
    payload: Vec<u8>,
}

impl H2Frame {
    fn encode(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = payload.len() as u32;
        let mut out = len.to_be_bytes()[1..].to_vec();
        out.push(kind);
        out.push(flags);
        out.extend_from_slice(&stream.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    fn u32_at(&self, at: usize) -> u32 {
        let b = &self.payload[at..at + 4];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// A GOAWAY's (last stream id, error code).
    fn goaway(&self) -> (u32, u32) {
        assert_eq!(self.kind, GOAWAY, "{self:?}");
        (self.u32_at(0) & 0x7fff_ffff, self.u32_at(4))
    }

    /// A SETTINGS frame's value for one identifier.
    fn setting(&self, id: u16) -> Option<u32> {
        assert_eq!(self.kind, SETTINGS, "{self:?}");
        self.payload.chunks_exact(6).find_map(|s| {
            (u16::from_be_bytes([s[0], s[1]]) == id)
                .then(|| u32::from_be_bytes([s[2], s[3], s[4], s[5]]))
        })
    }
}

/// A raw HTTP/2 client: writes exactly the frames it is told to, reads frame by frame, and
/// answers SETTINGS and PING like any client — unless it is `silent`.
struct RawH2 {
    stream: TcpStream,
    buf: Vec<u8>,
    silent: bool,
    /// When the connection was opened.
    opened: Instant,
}

/// HPACK: one header as a literal without indexing, new name, no Huffman coding.
fn hpack_literal(out: &mut Vec<u8>, name: &str, value: &str) {
    assert!(name.len() < 127 && value.len() < 127);
    out.push(0x00);
    out.push(name.len() as u8);
    out.extend_from_slice(name.as_bytes());
    out.push(value.len() as u8);
    out.extend_from_slice(value.as_bytes());
}

impl RawH2 {
    async fn connect(addr: SocketAddr) -> RawH2 {
        let stream = within("connect", TcpStream::connect(addr))
            .await
            .expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        RawH2 {
            stream,
            buf: Vec::new(),
            silent: false,
            opened: Instant::now(),
        }
    }

    /// Connects and sends the client preface (magic and an empty SETTINGS frame).
    async fn handshake(addr: SocketAddr) -> RawH2 {
        let mut c = RawH2::connect(addr).await;
        let mut preface = MAGIC.to_vec();
        preface.extend(H2Frame::encode(SETTINGS, 0, 0, &[]));
        c.write(&preface).await;
        c
    }

    async fn write(&mut self, bytes: &[u8]) {
        within("write", self.stream.write_all(bytes))
            .await
            .expect("write to the server");
    }

    /// Opens stream `id` with a gRPC unary request to `path` carrying `text`.
    async fn grpc_call(&mut self, id: u32, path: &str, text: &str) {
        let mut block = Vec::new();
        hpack_literal(&mut block, ":method", "POST");
        hpack_literal(&mut block, ":scheme", "http");
        hpack_literal(&mut block, ":path", path);
        hpack_literal(&mut block, ":authority", "127.0.0.1");
        hpack_literal(&mut block, "content-type", "application/grpc");
        hpack_literal(&mut block, "te", "trailers");
        let mut frames = H2Frame::encode(HEADERS, END_HEADERS, id, &block);
        frames.extend(H2Frame::encode(
            DATA,
            END_STREAM,
            id,
            &grpc_frame(&pb(text)),
        ));
        self.write(&frames).await;
    }

    /// The next frame, or `None` once the server closed the connection (end of stream or
    /// reset). SETTINGS and PING are answered on the way unless the peer is silent.
    async fn next_frame(&mut self) -> Option<H2Frame> {
        loop {
            if self.buf.len() >= 9 {
                let len = u32::from_be_bytes([0, self.buf[0], self.buf[1], self.buf[2]]) as usize;
                if self.buf.len() >= 9 + len {
                    let frame = H2Frame {
                        kind: self.buf[3],
                        flags: self.buf[4],
                        stream: u32::from_be_bytes([
                            self.buf[5],
                            self.buf[6],
                            self.buf[7],
                            self.buf[8],
                        ]) & 0x7fff_ffff,
                        payload: self.buf[9..9 + len].to_vec(),
                    };
                    self.buf.drain(..9 + len);
                    if !self.silent && frame.flags & ACK == 0 {
                        match frame.kind {
                            SETTINGS => self.write(&H2Frame::encode(SETTINGS, ACK, 0, &[])).await,
                            PING => {
                                self.write(&H2Frame::encode(PING, ACK, 0, &frame.payload))
                                    .await
                            }
                            _ => {}
                        }
                    }
                    return Some(frame);
                }
            }
            let mut tmp = [0u8; 16 * 1024];
            match within("a frame from the server", self.stream.read(&mut tmp)).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&tmp[..n]),
            }
        }
    }

    /// Frames until one of `kind`; panics if the connection closes first.
    async fn frame_of(&mut self, kind: u8) -> H2Frame {
        loop {
            match self.next_frame().await {
                Some(f) if f.kind == kind => return f,
                Some(_) => {}
                None => panic!("connection closed before a frame of type {kind}"),
            }
        }
    }

    /// Reads the server's SETTINGS (the first frame it sends).
    async fn server_settings(&mut self) -> H2Frame {
        let f = self.next_frame().await.expect("the server's SETTINGS");
        assert_eq!((f.kind, f.flags & ACK), (SETTINGS, 0), "{f:?}");
        f
    }

    /// Reads until the server closes the connection; the frames seen on the way.
    async fn until_closed(&mut self) -> Vec<H2Frame> {
        let mut seen = Vec::new();
        while let Some(f) = self.next_frame().await {
            seen.push(f);
        }
        seen
    }
}

/// What one stream received: its DATA bytes, whether it ended, and a reset code if reset.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct StreamResult {
    data: Vec<u8>,
    ended: bool,
    reset: Option<u32>,
}

impl StreamResult {
    /// Takes `f` into account if it belongs to this stream.
    fn record(&mut self, f: &H2Frame) {
        match f.kind {
            DATA => self.data.extend_from_slice(&f.payload),
            RST_STREAM => {
                self.reset = Some(f.u32_at(0));
                self.ended = true;
            }
            _ => {}
        }
        if matches!(f.kind, DATA | HEADERS) && f.flags & END_STREAM != 0 {
            self.ended = true;
        }
    }

    fn assert_answered(&self, text: &str) {
        assert_eq!(self.reset, None, "{self:?}");
        assert!(self.ended, "{self:?}");
        assert_eq!(self.data, grpc_frame(&pb(text)), "{self:?}");
    }
}

/// Reads frames until every stream in `ids` has ended; returns their results in order.
async fn read_streams(conn: &mut RawH2, ids: &[u32]) -> Vec<StreamResult> {
    let mut results = vec![StreamResult::default(); ids.len()];
    while results.iter().any(|r| !r.ended) {
        let f = conn
            .next_frame()
            .await
            .unwrap_or_else(|| panic!("connection closed with streams open: {results:?}"));
        if let Some(i) = ids.iter().position(|id| *id == f.stream) {
            results[i].record(&f);
        }
    }
    results
}

/// Reads until the server closes the connection; how long after `since` that happened.
async fn closed_after(stream: &mut TcpStream, since: Instant) -> Duration {
    let mut tmp = [0u8; 4096];
    loop {
        match within("the server to close the connection", stream.read(&mut tmp)).await {
            Ok(0) | Err(_) => return since.elapsed(),
            Ok(_) => {}
        }
    }
}

fn assert_not_before(what: &str, elapsed: Duration, at_least: Duration) {
    assert!(
        elapsed + EARLY >= at_least,
        "{what} after {elapsed:?}, before {at_least:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Header read timeout.
// ---------------------------------------------------------------------------------------

/// A peer that writes `bytes` then nothing more; how long until the server closed on it.
async fn stalled_peer(addr: SocketAddr, bytes: &'static [u8]) -> Duration {
    let mut stream = within("connect", TcpStream::connect(addr))
        .await
        .expect("connect");
    let opened = Instant::now();
    stream.write_all(bytes).await.expect("write");
    closed_after(&mut stream, opened).await
}

/// A peer that sends an HTTP/1.1 request head a byte every 20 ms and never finishes it.
async fn trickling_peer(addr: SocketAddr) -> Duration {
    let stream = within("connect", TcpStream::connect(addr))
        .await
        .expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let opened = Instant::now();
    let (mut rd, mut wr) = stream.into_split();
    let writer = tokio::spawn(async move {
        let head = format!(
            "POST {} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/proto\r\nx-pad: ",
            ECHO.path
        );
        let bytes = head.bytes().chain(std::iter::repeat(b'a'));
        for b in bytes {
            if wr.write_all(&[b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let mut tmp = [0u8; 4096];
    let elapsed = loop {
        match within("the server to close the connection", rd.read(&mut tmp)).await {
            Ok(0) | Err(_) => break opened.elapsed(),
            Ok(_) => {}
        }
    };
    writer.abort();
    elapsed
}

#[tokio::test]
async fn slow_and_silent_peers_are_disconnected_while_others_are_served() {
    let timeout = Duration::from_millis(500);
    let srv = start(quiet_limits().header_read_timeout(timeout)).await;
    // A well-behaved client connected before the abuse starts: greeted, so the header
    // timeout never applies to it again.
    let mut good = client(srv.addr).await;
    prompt_echo(&mut good.sender, "before").await;

    // The third: an HTTP/2 preface cut off inside the magic (hyper's protocol detection has
    // no timeout of its own). The fourth: the magic and half a SETTINGS frame.
    let mut half_settings = MAGIC.to_vec();
    half_settings.extend_from_slice(&[0, 0, 6, SETTINGS, 0, 0, 0, 0, 0, 0, 3, 0]);
    let half_settings: &'static [u8] = half_settings.leak();
    let mut slow = tokio::task::JoinSet::new();
    let addr = srv.addr;
    slow.spawn(async move { ("trickling HTTP/1.1 head", trickling_peer(addr).await) });
    slow.spawn(async move { ("silent peer", stalled_peer(addr, b"").await) });
    slow.spawn(async move { ("partial preface", stalled_peer(addr, &MAGIC[..10]).await) });
    slow.spawn(async move { ("half SETTINGS", stalled_peer(addr, half_settings).await) });

    // While they stall, the good client (and new ones) are answered promptly.
    let mut calls = 0;
    let mut closed = Vec::new();
    while closed.len() < 4 {
        tokio::select! {
            done = slow.join_next() => {
                let (what, after) = done.expect("a slow peer").expect("slow peer task");
                closed.push((what, after));
            }
            () = async {
                prompt_echo(&mut good.sender, &format!("during {calls}")).await;
                let mut fresh = client(srv.addr).await;
                prompt_echo(&mut fresh.sender, "fresh").await;
            } => calls += 1,
        }
    }
    for (what, after) in &closed {
        assert_not_before(what, *after, timeout);
        assert!(*after < timeout + WAIT, "{what}: closed after {after:?}");
    }
    assert!(
        calls > 0,
        "no call completed while the slow peers were connected"
    );
    // The good connection outlived the header timeout and still works.
    assert!(!good.sender.is_closed());
    prompt_echo(&mut good.sender, "after").await;
}

#[tokio::test]
async fn a_slow_http1_client_gets_hypers_header_timeout_on_later_requests_too() {
    let timeout = Duration::from_millis(300);
    let srv = start(quiet_limits().header_read_timeout(timeout)).await;
    let mut stream = within("connect", TcpStream::connect(srv.addr))
        .await
        .expect("connect");
    // A first request answered on a keep-alive connection, then silence: waiting for the
    // next request head is bounded by the same timeout.
    let body = grpc_frame(&pb("one"));
    let mut req = format!(
        "POST {} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/grpc-web+proto\r\n\
         content-length: {}\r\n\r\n",
        ECHO.path,
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(&body);
    stream.write_all(&req).await.expect("write");
    let mut answer = Vec::new();
    let mut tmp = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = within("the answer", stream.read(&mut tmp))
            .await
            .expect("read");
        assert!(n > 0, "closed before answering: {answer:?}");
        answer.extend_from_slice(&tmp[..n]);
    }
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
    let answered = Instant::now();
    let after = closed_after(&mut stream, answered).await;
    assert_not_before("idle keep-alive connection closed", after, timeout);
}

// ---------------------------------------------------------------------------------------
// Streams per connection.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn streams_beyond_the_cap_are_refused_and_the_capped_ones_served() {
    let mut srv = start(quiet_limits().max_concurrent_streams(3)).await;
    let mut conn = RawH2::handshake(srv.addr).await;
    let settings = conn.server_settings().await;
    assert_eq!(settings.setting(SETTINGS_MAX_CONCURRENT_STREAMS), Some(3));

    // Three held calls fill the connection...
    for id in [1, 3, 5] {
        conn.grpc_call(id, HOLD.path, &format!("s{id}")).await;
    }
    for _ in 0..3 {
        assert_eq!(srv.next_event().await, Event::HoldEntered);
    }
    // ...so two more, ignoring the announced limit, are refused without being processed.
    conn.grpc_call(7, ECHO.path, "s7").await;
    conn.grpc_call(9, HOLD.path, "s9").await;
    let refused = read_streams(&mut conn, &[7, 9]).await;
    for r in &refused {
        assert_eq!(r.reset, Some(REFUSED_STREAM), "{r:?}");
        assert!(r.data.is_empty(), "{r:?}");
    }
    assert!(
        srv.events.try_recv().is_err(),
        "a refused stream reached a handler"
    );

    // The capped ones complete once released, and the connection takes new streams.
    srv.release_holds();
    let held = read_streams(&mut conn, &[1, 3, 5]).await;
    for (r, id) in held.iter().zip([1, 3, 5]) {
        r.assert_answered(&format!("released:s{id}"));
    }
    conn.grpc_call(11, ECHO.path, "again").await;
    read_streams(&mut conn, &[11]).await[0].assert_answered("echo:again");
}

#[tokio::test]
async fn a_conforming_client_queues_beyond_the_cap_and_everything_is_served() {
    let mut srv = start(quiet_limits().max_concurrent_streams(2)).await;
    let mut good = client(srv.addr).await;
    // A client may open streams before the server's SETTINGS reach it (hyper's does): one
    // call first, so the limit is known when the burst starts.
    prompt_echo(&mut good.sender, "settings").await;
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..5 {
        let mut sender = good.sender.clone();
        calls.spawn(async move { call(&mut sender, HOLD.path, &format!("q{i}")).await });
    }
    // Only two reach the server while held.
    for _ in 0..2 {
        assert_eq!(srv.next_event().await, Event::HoldEntered);
    }
    srv.release_holds();
    let mut answers = Vec::new();
    while let Some(done) = within("queued calls", calls.join_next()).await {
        answers.push(done.expect("call task").expect("queued call succeeds"));
    }
    answers.sort();
    let expected: Vec<String> = (0..5).map(|i| format!("released:q{i}")).collect();
    assert_eq!(answers, expected);
}

// ---------------------------------------------------------------------------------------
// Connections.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let srv = start(quiet_limits().max_connections(2)).await;
    let mut a = client(srv.addr).await;
    let mut b = client(srv.addr).await;
    prompt_echo(&mut a.sender, "a").await;
    prompt_echo(&mut b.sender, "b").await;

    // The third connection is made (the kernel's backlog completes the TCP handshake) and
    // sends its call, but the server does not take it up...
    let mut c = client(srv.addr).await;
    let mut c_call = tokio::spawn(async move {
        let answer = call(&mut c.sender, ECHO.path, "c").await;
        (answer, c)
    });
    let window = Instant::now();
    while window.elapsed() < NOT_YET {
        // ...while the two served connections keep working.
        prompt_echo(&mut a.sender, "a").await;
        prompt_echo(&mut b.sender, "b").await;
    }
    assert!(
        !c_call.is_finished(),
        "a connection beyond the cap was served"
    );

    // Closing one served connection lets the waiting one in.
    drop(a.sender);
    within("connection a to close", a.task)
        .await
        .expect("a's task");
    let (answer, _c) = within("the waiting connection's call", &mut c_call)
        .await
        .expect("c's task");
    assert_eq!(answer, Ok("echo:c".to_owned()));
    prompt_echo(&mut b.sender, "b").await;
}

// ---------------------------------------------------------------------------------------
// Idle timeout and maximum age.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn idle_connections_are_closed_gracefully_and_busy_ones_kept() {
    let idle = Duration::from_millis(300);
    let mut srv = start(quiet_limits().idle_timeout(Some(idle))).await;

    // A busy connection: one call held open throughout.
    let mut busy = RawH2::handshake(srv.addr).await;
    busy.server_settings().await;
    busy.grpc_call(1, HOLD.path, "busy").await;
    assert_eq!(srv.next_event().await, Event::HoldEntered);

    // An idle one: a call answered, then nothing.
    let mut quiet = RawH2::handshake(srv.addr).await;
    quiet.grpc_call(1, ECHO.path, "once").await;
    read_streams(&mut quiet, &[1]).await[0].assert_answered("echo:once");
    let answered = Instant::now();
    let frames = quiet.until_closed().await;
    assert_not_before("idle connection closed", answered.elapsed(), idle);
    // Gracefully: GOAWAY with no error, and the answered stream counted as processed.
    let goaways: Vec<(u32, u32)> = frames
        .iter()
        .filter(|f| f.kind == GOAWAY)
        .map(H2Frame::goaway)
        .collect();
    assert!(
        !goaways.is_empty(),
        "no GOAWAY before the close: {frames:?}"
    );
    assert!(
        goaways.iter().all(|(_, code)| *code == NO_ERROR),
        "{goaways:?}"
    );
    assert_eq!(goaways.last().map(|g| g.0), Some(1), "{goaways:?}");

    // The busy connection was open longer than the idle timeout with a call in flight, and
    // was left alone: its call completes before any GOAWAY.
    srv.release_holds();
    let mut result = StreamResult::default();
    while !result.ended {
        let f = busy.next_frame().await.expect("busy connection open");
        assert_ne!(
            f.kind, GOAWAY,
            "a connection with a call in flight was closed"
        );
        if f.stream == 1 {
            result.record(&f);
        }
    }
    result.assert_answered("released:busy");
    // Idle from now on, it is closed in turn.
    let done = Instant::now();
    let frames = busy.until_closed().await;
    assert_not_before("busy connection closed once idle", done.elapsed(), idle);
    assert!(frames.iter().any(|f| f.kind == GOAWAY), "{frames:?}");
}

#[tokio::test]
async fn max_age_sends_goaway_lets_calls_finish_then_closes() {
    let age = Duration::from_millis(400);
    let mut srv = start(
        quiet_limits()
            .max_connection_age(Some(age))
            .close_grace(WAIT),
    )
    .await;
    let mut conn = RawH2::handshake(srv.addr).await;
    conn.server_settings().await;
    conn.grpc_call(1, HOLD.path, "old").await;
    assert_eq!(srv.next_event().await, Event::HoldEntered);

    // At its age (less at most 10 % jitter) the connection is told to go away...
    let goaway = conn.frame_of(GOAWAY).await;
    assert_not_before("GOAWAY", conn.opened.elapsed(), age * 9 / 10);
    assert_eq!(goaway.goaway().1, NO_ERROR);
    // ...while the call in flight carries on and completes.
    srv.release_holds();
    let mut result = StreamResult::default();
    let mut rest = Vec::new();
    while let Some(f) = conn.next_frame().await {
        if f.stream == 1 {
            result.record(&f);
        }
        rest.push(f);
    }
    result.assert_answered("released:old");
    // The final GOAWAY names the call as processed.
    let last = rest
        .iter()
        .filter(|f| f.kind == GOAWAY)
        .map(H2Frame::goaway)
        .next_back()
        .unwrap_or(goaway.goaway());
    assert_eq!(last.1, NO_ERROR);
    assert_eq!(srv.next_event().await, Event::HoldDropped);
}

#[tokio::test]
async fn calls_outstaying_the_close_grace_are_cancelled() {
    let age = Duration::from_millis(300);
    let grace = Duration::from_millis(300);
    let mut srv = start(
        quiet_limits()
            .max_connection_age(Some(age))
            .close_grace(grace),
    )
    .await;
    let mut conn = RawH2::handshake(srv.addr).await;
    conn.server_settings().await;
    conn.grpc_call(1, HOLD.path, "forever").await;
    assert_eq!(srv.next_event().await, Event::HoldEntered);
    // Never released: the connection is dropped after age and grace, the handler with it.
    let frames = conn.until_closed().await;
    assert_not_before(
        "connection dropped",
        conn.opened.elapsed(),
        age * 9 / 10 + grace,
    );
    assert!(frames.iter().any(|f| f.kind == GOAWAY), "{frames:?}");
    assert_eq!(srv.next_event().await, Event::HoldDropped);
}

// ---------------------------------------------------------------------------------------
// Keep-alive.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn keepalive_closes_a_peer_that_stops_answering_pings() {
    let interval = Duration::from_millis(300);
    // Long enough that the live client's answers are never late on a loaded machine.
    let timeout = Duration::from_secs(1);
    let header_timeout = Duration::from_millis(100);
    let srv = start(
        quiet_limits()
            .header_read_timeout(header_timeout)
            .http2_keepalive_interval(Some(interval))
            .http2_keepalive_timeout(timeout),
    )
    .await;
    // A live client, idle throughout: hyper answers the pings by itself.
    let mut live = client(srv.addr).await;

    // A peer that completes the preface, then goes silent: no SETTINGS ACK, no PING ACK.
    let mut dead = RawH2::handshake(srv.addr).await;
    dead.silent = true;
    // The first PING comes one interval in — after the header timeout, which a completed
    // preface satisfies.
    let ping = dead.frame_of(PING).await;
    assert_eq!(ping.flags & ACK, 0);
    assert_not_before("first PING", dead.opened.elapsed(), interval);
    dead.until_closed().await;
    assert_not_before(
        "unanswered PING closed the connection",
        dead.opened.elapsed(),
        interval + timeout,
    );

    // The live connection, pinged too, is still open and serving.
    assert!(!live.sender.is_closed());
    assert!(!live.task.is_finished());
    prompt_echo(&mut live.sender, "still here").await;
}

// ---------------------------------------------------------------------------------------
// Configuration.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn unworkable_limits_are_refused_before_binding() {
    let (tx, _events) = mpsc::unbounded_channel();
    let (_release, release_rx) = watch::channel(false);
    let err = Server::new(router(tx, release_rx))
        .limits(ServerLimits::default().max_connections(0))
        .bind("127.0.0.1:0")
        .await
        .expect_err("zero connections cannot work");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("max_connections"), "{err}");
}
