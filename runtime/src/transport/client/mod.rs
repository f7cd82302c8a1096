//! The HTTP client side: a [`Channel`] to one endpoint (TCP, TLS, Unix socket or in-memory),
//! speaking HTTP/2 with prior knowledge over one multiplexed connection (re-established on
//! failure), or HTTP/1.1 over a pool of connections.
//!
//! Inside: `dial.rs` parses the endpoint and opens connections ([`ChannelBuilder`]),
//! `http1.rs` is the HTTP/1.1 pool, `http2.rs` the HTTP/2 connection, and `send.rs` moves
//! requests: it starts one, waits for its response, pumps a streamed body and resends a
//! request that provably never left. This file holds the [`Channel`] and its call URIs.
//!
//! # Why HTTP/2 goes through `h2` and not hyper's client
//!
//! hyper 1.12's HTTP/2 client (`hyper::client::conn::http2`) writes a unary request in two
//! writes: the HEADERS, then the DATA from a task that pipes the body once the first flush
//! is done (h2 grants a new stream send capacity only then). It also spawns a task per
//! request for the response and passes every request through its dispatch channel. Talking
//! to `h2` directly, a complete request body (every unary call) is queued with its headers
//! before the connection's task runs, so one write carries the whole request and no task
//! is spawned per call; only a streamed request body gets a task of its own.
//!
//! Measured before the switch (`BENCHMARKS.md`, "Profile: why the aims are missed"):
//! unary calls to a launched plugin over a Unix socket, the same run, from the runtime's
//! client (then on hyper's) and from a 60-line Connect client on the `h2` crate:
//!
//! | host runtime: multi-thread / current-thread | p50 µs | calls/s |
//! |---|---:|---:|
//! | on hyper's client | 88.7 / 58.9 | 10,423 / 15,449 |
//! | on `h2` directly | 73.5 / 48.0 | 12,971 / 19,825 |
//!
//! From spawned tasks on a multi-thread runtime the gap was widest: p50 83.9–84.7 µs on
//! hyper's client against 46.7–47.3 µs on `h2`, whose host spent 35.4k instructions per
//! call against 64.2k. After the switch this client's Connect calls over h2c ran at 0.75x
//! the seq p50 of the raw-hyper floor, whose client is hyper's (86.0 µs against 114.4 µs).

mod dial;
mod http1;
mod http2;
mod send;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Uri;

use crate::protocol::Status;

pub use dial::{ChannelBuilder, InvalidEndpoint};

/// The HTTP version a channel speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpVersion {
    /// HTTP/2; over plaintext with prior knowledge (h2c). Needed for bidi streaming.
    Http2,
    /// HTTP/1.1 with a connection pool.
    Http1,
}

/// A client connection to one endpoint, cheap to clone and share. Made from a URL with
/// [`Channel::builder`] (or [`Channel::memory`] for an in-memory link); it connects on the
/// first call. A [`Client`](crate::rpc::Client) makes typed calls over it.
///
/// ```
/// use connect_plugin::rpc::{self, Idempotency, MethodDescriptor};
/// use connect_plugin::{Channel, Client, Request, Response, Router, Server, StreamType};
///
/// const ECHO: MethodDescriptor =
///     MethodDescriptor::new("/echo.v1.Echo/Echo", StreamType::Unary, Idempotency::Unknown);
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let echo = rpc::unary(|req: Request<String>| async move {
///     Ok(Response::new(req.into_inner()))
/// });
/// let server = Server::new(Router::new().route(ECHO, echo)).bind("127.0.0.1:0").await?;
///
/// let channel = Channel::builder(&format!("http://{}", server.local_addr()))?.build();
/// let client = Client::new(channel);
/// let reply: Response<String> = client.unary(&ECHO, Request::new("hi".to_owned())).await?;
/// assert_eq!(reply.into_inner(), "hi");
/// # server.shutdown(std::time::Duration::ZERO).await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Channel {
    inner: Arc<ChannelInner>,
}

/// What the clones of a channel share.
struct ChannelInner {
    target: dial::Target,
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
    prefix: String,
    version: HttpVersion,
    connect_timeout: Duration,
    h2: Mutex<Option<Arc<http2::H2Conn>>>,
    connecting: tokio::sync::Mutex<()>,
    h1: Option<http1::Pool>,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("target", &self.inner.target)
            .field("version", &self.inner.version)
            .finish()
    }
}

impl Channel {
    /// The URI for a call path (`/pkg.Service/Method`).
    pub fn uri_for(&self, path: &str, query: Option<&str>) -> Result<Uri, Status> {
        let bad = |e: &dyn std::fmt::Display| {
            Status::internal(format!("cannot build a request URI for {path}: {e}"))
        };
        let pq = match query {
            Some(q) => format!("{}{path}?{q}", self.inner.prefix),
            None => format!("{}{path}", self.inner.prefix),
        };
        let pq = http::uri::PathAndQuery::try_from(pq).map_err(|e| bad(&e))?;
        self.uri_from(pq).map_err(|e| bad(&e))
    }

    /// The URI for a static call path without a query: no parsing or copying of the path
    /// when the channel has no path prefix (the hot path of every call).
    pub fn uri_for_static(&self, path: &'static str) -> Result<Uri, Status> {
        if !self.inner.prefix.is_empty() {
            return self.uri_for(path, None);
        }
        let bad = |e: &dyn std::fmt::Display| {
            Status::internal(format!("cannot build a request URI for {path}: {e}"))
        };
        let pq = static_path(path).map_err(|e| bad(&e))?;
        self.uri_from(pq).map_err(|e| bad(&e))
    }

    fn uri_from(&self, pq: http::uri::PathAndQuery) -> Result<Uri, http::uri::InvalidUriParts> {
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.inner.scheme.clone());
        parts.authority = Some(self.inner.authority.clone());
        parts.path_and_query = Some(pq);
        Uri::from_parts(parts)
    }

    /// The HTTP version of this channel.
    pub fn http_version(&self) -> HttpVersion {
        self.inner.version
    }
}

/// Entries of the per-thread cache of parsed call paths.
const PATH_CACHE: usize = 16;

type PathSlot = Option<(&'static str, http::uri::PathAndQuery)>;

thread_local! {
    /// Parsed `PathAndQuery`s of static call paths, by the path's address: a client calls a
    /// handful of methods over and over, and parsing a path costs more than this look-up.
    /// (Cloning a `PathAndQuery` made from a static string copies no bytes.)
    static PATHS: std::cell::RefCell<[PathSlot; PATH_CACHE]> =
        const { std::cell::RefCell::new([const { None }; PATH_CACHE]) };
}

/// The `PathAndQuery` of a static call path (not `PathAndQuery::from_static`, which panics on
/// a bad path), parsed once per thread.
fn static_path(path: &'static str) -> Result<http::uri::PathAndQuery, http::uri::InvalidUri> {
    let slot = (path.as_ptr() as usize >> 3) % PATH_CACHE;
    let cached = PATHS.with(|cache| {
        cache.try_borrow().ok().and_then(|c| match &c[slot] {
            Some((p, pq)) if std::ptr::eq(*p, path) => Some(pq.clone()),
            _ => None,
        })
    });
    if let Some(pq) = cached {
        return Ok(pq);
    }
    let pq =
        http::uri::PathAndQuery::from_maybe_shared(bytes::Bytes::from_static(path.as_bytes()))?;
    PATHS.with(|cache| {
        if let Ok(mut c) = cache.try_borrow_mut() {
            c[slot] = Some((path, pq.clone()));
        }
    });
    Ok(pq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_uris_keep_the_channel_prefix() {
        let plain = Channel::builder("http://127.0.0.1:9/").unwrap().build();
        assert_eq!(
            plain.uri_for_static("/a.B/C").unwrap(),
            "http://127.0.0.1:9/a.B/C"
        );
        let nested = Channel::builder("http://127.0.0.1:9/services/kv/p1/")
            .unwrap()
            .build();
        assert_eq!(
            nested.uri_for_static("/kv.v1.KV/Get").unwrap(),
            "http://127.0.0.1:9/services/kv/p1/kv.v1.KV/Get"
        );
        assert_eq!(
            nested.uri_for("/kv.v1.KV/Get", Some("x=1")).unwrap(),
            "http://127.0.0.1:9/services/kv/p1/kv.v1.KV/Get?x=1"
        );
        let unix = Channel::builder("unix:/tmp/x.sock").unwrap().build();
        assert_eq!(
            unix.uri_for_static("/a.B/C").unwrap(),
            "http://localhost/a.B/C"
        );
        assert!(Channel::builder("ftp://x").is_err());
        // A path that is not a valid URI path is an error, not a panic.
        assert!(plain.uri_for_static("/a b\u{7f}").is_err());
        assert!(Channel::builder("unix:").is_err());
    }
}
