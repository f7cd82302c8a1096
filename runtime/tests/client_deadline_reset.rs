//! A server that gives up on a call at its deadline resets the HTTP/2 stream (grpc-go sends
//! RST_STREAM CANCEL). When that reset reaches the client no sooner than its own deadline,
//! the call failed for its deadline (`deadline_exceeded`), not for the connection
//! (`unavailable: stream no longer needed`).
//!
//! To make "the reset and the deadline are there at once" certain rather than a race, the
//! client runs on this test's single thread, which the test blocks until the server (a
//! hand-written HTTP/2 peer on its own thread) has written the reset at the call's
//! deadline as the server counts it (from when the request arrived).

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::Msg;
use connect_plugin::rpc::{Idempotency, MethodDescriptor};
use connect_plugin::{Channel, Client, ClientConfig, Code, Protocol, Request, StreamType};

const UNARY: MethodDescriptor =
    MethodDescriptor::new("/t.v1.T/Unary", StreamType::Unary, Idempotency::Unknown);
const SERVER: MethodDescriptor = MethodDescriptor::new(
    "/t.v1.T/Server",
    StreamType::ServerStreaming,
    Idempotency::Unknown,
);

const TIMEOUT: Duration = Duration::from_millis(200);

const SETTINGS: u8 = 0x4;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const END_HEADERS: u8 = 0x4;
const CANCEL: u32 = 0x8;

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = u32::try_from(payload.len()).unwrap().to_be_bytes()[1..].to_vec();
    f.extend_from_slice(&[kind, flags]);
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Reads one frame: (type, flags, stream, payload); `None` at the end of the connection or
/// when `until` passes first.
fn read_frame(io: &mut TcpStream, until: Option<Instant>) -> Option<(u8, u8, u32, Vec<u8>)> {
    if let Some(until) = until {
        let left = until.checked_duration_since(Instant::now())?;
        io.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
    } else {
        io.set_read_timeout(None).unwrap();
    }
    let mut head = [0u8; 9];
    io.read_exact(&mut head).ok()?;
    let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
    let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
    let mut payload = vec![0; len];
    io.read_exact(&mut payload).ok()?;
    Some((head[3], head[4], stream, payload))
}

/// Acknowledges the peer's settings.
fn ack(io: &mut TcpStream, kind: u8, flags: u8) {
    if kind == SETTINGS && flags & 1 == 0 {
        io.write_all(&frame(SETTINGS, 1, 0, &[])).unwrap();
    }
}

/// An HTTP/2 server for one call: it answers with `response_headers` (an HPACK block, if
/// any), says on `arrived` that the request came, resets the stream with CANCEL at the
/// call's deadline counted from the request's arrival, says so on `reset`, and keeps the
/// connection open.
struct Resetting {
    url: String,
    arrived: tokio::sync::oneshot::Receiver<()>,
    reset: mpsc::Receiver<()>,
}

fn resetting_server(response_headers: Option<Vec<u8>>) -> Resetting {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (arrived_tx, arrived) = tokio::sync::oneshot::channel();
    let (reset_tx, reset) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut io, _) = listener.accept().unwrap();
        let mut preface = [0u8; 24];
        io.read_exact(&mut preface).unwrap();
        io.write_all(&frame(SETTINGS, 0, 0, &[])).unwrap();
        let stream = loop {
            let (kind, flags, stream, _) = read_frame(&mut io, None).expect("a request");
            ack(&mut io, kind, flags);
            if kind == HEADERS {
                break stream;
            }
        };
        let deadline = Instant::now() + TIMEOUT;
        if let Some(block) = response_headers {
            io.write_all(&frame(HEADERS, END_HEADERS, stream, &block))
                .unwrap();
        }
        let _ = arrived_tx.send(());
        // Serve the connection until the deadline.
        while let Some((kind, flags, _, _)) = read_frame(&mut io, Some(deadline)) {
            ack(&mut io, kind, flags);
        }
        io.write_all(&frame(RST_STREAM, 0, stream, &CANCEL.to_be_bytes()))
            .unwrap();
        io.flush().unwrap();
        let _ = reset_tx.send(());
        while read_frame(&mut io, None).is_some() {}
    });
    Resetting {
        url,
        arrived,
        reset,
    }
}

/// `:status: 200` and `content-type: <ct>`, HPACK-encoded (indexed, then a literal with an
/// indexed name).
fn hpack_ok(content_type: &str) -> Vec<u8> {
    let mut block = vec![0x88, 0x0f, 0x10, u8::try_from(content_type.len()).unwrap()];
    block.extend_from_slice(content_type.as_bytes());
    block
}

fn client(url: &str, protocol: Protocol) -> Client {
    Client::with_config(
        Channel::builder(url).unwrap().build(),
        ClientConfig {
            protocol,
            ..ClientConfig::default()
        },
    )
}

// Both tests run the client on the test's one thread (`current_thread`), which blocking
// on `reset` stops whole.

#[tokio::test]
async fn a_reset_at_the_deadline_before_any_answer_is_deadline_exceeded() {
    let server = resetting_server(None);
    let client = client(&server.url, Protocol::Grpc);
    let call = tokio::spawn(async move {
        client
            .unary::<Msg, Msg>(&UNARY, Request::new(Msg::default()).with_timeout(TIMEOUT))
            .await
    });
    server.arrived.await.unwrap();
    // The call waits for its answer, its deadline timer set. Stop the client until the
    // reset is on its way: then the reset and the passed deadline are both there when the
    // call is next polled, the reset seen first.
    server.reset.recv().unwrap();
    let err = call.await.unwrap().unwrap_err();
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err:?}");
}

/// The same on a response stream. Here the stream's own timer, checked before the body on
/// every read, usually sees the deadline first; the reset wins only when it arrives within
/// the timer's last millisecond, as it can from another process.
#[tokio::test]
async fn a_reset_at_the_deadline_while_streaming_is_deadline_exceeded() {
    let server = resetting_server(Some(hpack_ok("application/connect+proto")));
    let client = client(&server.url, Protocol::Connect);
    let (reading_tx, reading) = tokio::sync::oneshot::channel();
    let call = tokio::spawn(async move {
        let resp = client
            .server_streaming::<Msg, Msg>(
                &SERVER,
                Request::new(Msg::default()).with_timeout(TIMEOUT),
            )
            .await?;
        let mut stream = resp.into_inner();
        let _ = reading_tx.send(());
        stream.message().await
    });
    reading.await.unwrap();
    server.reset.recv().unwrap();
    let err = call.await.unwrap().unwrap_err();
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err:?}");
}
