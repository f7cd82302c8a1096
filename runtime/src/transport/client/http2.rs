//! HTTP/2: the channel's one multiplexed connection on the `h2` crate, dialed when first
//! needed and again when found dead, and counting its writes so that a failed request can
//! tell whether it ever left.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use bytes::Bytes;

use super::Channel;
use crate::protocol::Status;
use crate::transport::io::Io;

impl Channel {
    /// Drops the cached connection if it is `dead`.
    pub(super) fn forget(&self, dead: &Arc<H2Conn>) {
        let mut slot = self.inner.h2.lock().unwrap_or_else(|p| p.into_inner());
        if slot.as_ref().is_some_and(|c| Arc::ptr_eq(c, dead)) {
            *slot = None;
        }
    }

    /// A sender on a connection that was usable when checked, connecting when needed and once
    /// more if that connection is found unusable. Nothing was sent when this fails.
    pub(super) async fn ready_sender(&self) -> Result<(Arc<H2Conn>, H2Sender), Status> {
        let mut retried = false;
        loop {
            let conn = self.h2_conn().await?;
            match conn.sender.clone().ready().await {
                Ok(sender) => return Ok((conn, sender)),
                Err(e) => {
                    self.forget(&conn);
                    if let Some(st) = self.speaks_http1(&conn, true) {
                        return Err(st);
                    }
                    if retried {
                        let st = Status::unavailable(format!(
                            "HTTP/2 connection to {:?} unusable: {e}",
                            self.inner.target
                        ));
                        return Err(self.explain(&conn, st).into_unprocessed());
                    }
                    retried = true;
                }
            }
        }
    }

    async fn h2_conn(&self) -> Result<Arc<H2Conn>, Status> {
        if let Some(c) = self.cached() {
            return Ok(c);
        }
        let _guard = self.inner.connecting.lock().await;
        if let Some(c) = self.cached() {
            return Ok(c);
        }
        let io = self
            .inner
            .target
            .connect(self.inner.connect_timeout)
            .await?;
        let writes = Arc::new(AtomicU64::new(0));
        let http1_answer = Arc::new(OnceLock::new());
        let received = Arc::new(AtomicBool::new(false));
        let io = CountWrites {
            io,
            writes: writes.clone(),
            received: received.clone(),
            http1_answer: http1_answer.clone(),
        };
        // hyper's client settings where h2's defaults differ (the limits on what the server
        // may send, and the send buffer), and the runtime's windows.
        let (sender, conn) = h2::client::Builder::new()
            .enable_push(false)
            .initial_window_size(1 << 20)
            .initial_connection_window_size(2 << 20)
            .max_frame_size(16 << 10)
            .max_header_list_size(16 << 10)
            .max_send_buffer_size(1 << 20)
            .initial_max_send_streams(100)
            .max_local_error_reset_streams(Some(1024))
            .handshake::<_, Bytes>(io)
            .await
            .map_err(|e| {
                Status::unavailable(format!(
                    "HTTP/2 handshake with {:?}: {e}",
                    self.inner.target
                ))
                .into_unprocessed()
            })?;
        let closed = Arc::new(AtomicBool::new(false));
        let ended = closed.clone();
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "HTTP/2 connection ended");
            }
            ended.store(true, Ordering::Release);
        });
        let conn = Arc::new(H2Conn {
            sender,
            closed,
            writes,
            received,
            http1_answer,
        });
        *self.inner.h2.lock().unwrap_or_else(|p| p.into_inner()) = Some(conn.clone());
        Ok(conn)
    }

    /// The error of a call on `conn` when the server answered HTTP/2 in HTTP/1.1 (it
    /// speaks only HTTP/1.1 on this port, and took our connection preface for a bad
    /// request): it says so, and how to call such a server. With `only_certain` false, also
    /// when the server closed the connection without sending a byte, where an HTTP/2 server
    /// starts with its SETTINGS (hyper's HTTP/1.1 server closes so on our preface): then it
    /// says the server may speak only HTTP/1.1.
    ///
    /// The call never reached a handler, but sending it again the same way fails the same
    /// way, so it is not marked unprocessed; nor does the channel switch to HTTP/1.1 by
    /// itself, which would give up full-duplex streams behind the caller's back.
    pub(super) fn speaks_http1(&self, conn: &H2Conn, only_certain: bool) -> Option<Status> {
        const ASK: &str = "to call it over HTTP/1.1, build the channel with \
                           `.http_version(HttpVersion::Http1)`";
        let target = &self.inner.target;
        if let Some(answer) = conn.http1_answer.get() {
            return Some(Status::unavailable(format!(
                "the server at {target:?} answered HTTP/2 with HTTP/1.1 ({answer:?}): it does \
                 not speak HTTP/2 on this connection (h2c, prior knowledge); {ASK}"
            )));
        }
        if only_certain || conn.received.load(Ordering::Acquire) {
            return None;
        }
        Some(Status::unavailable(format!(
            "the server at {target:?} closed the connection without a word of HTTP/2 (an \
             HTTP/2 server starts with its settings): it may speak only HTTP/1.1; {ASK}"
        )))
    }

    /// `st`, or the error saying the server speaks HTTP/1.1 (see
    /// [`Channel::speaks_http1`]) when it seems to, keeping whether it was processed.
    pub(super) fn explain(&self, conn: &H2Conn, st: Status) -> Status {
        match self.speaks_http1(conn, false) {
            Some(http1) if st.is_unprocessed() => http1.into_unprocessed(),
            Some(http1) => http1,
            None => st,
        }
    }

    pub(super) fn cached(&self) -> Option<Arc<H2Conn>> {
        let slot = self.inner.h2.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref()
            .filter(|c| !c.closed.load(Ordering::Acquire))
            .cloned()
    }
}

/// The client half of an HTTP/2 connection, as one sends requests on it.
pub(super) type H2Sender = h2::client::SendRequest<Bytes>;

/// The cached HTTP/2 connection of a channel.
pub(super) struct H2Conn {
    pub(super) sender: H2Sender,
    /// Set when the connection's task ended.
    closed: Arc<AtomicBool>,
    /// How many writes to the connection succeeded (see [`CountWrites`]).
    pub(super) writes: Arc<AtomicU64>,
    /// Whether the server sent any byte.
    received: Arc<AtomicBool>,
    /// The status line, when the server's first bytes were an HTTP/1.x response.
    http1_answer: Arc<OnceLock<String>>,
}

/// A client connection's byte stream, counting the writes that succeed: a request queued
/// while the count stood at `n` has provably not left if the count is still `n` when the
/// request fails (h2 does not tell).
///
/// It also looks at the first bytes the server sends: an HTTP/1.x status line there means
/// the server speaks only HTTP/1.1 (HTTP/2 would start with a SETTINGS frame).
struct CountWrites {
    io: Io,
    writes: Arc<AtomicU64>,
    /// Whether the server sent any byte (its first bytes have then been looked at).
    received: Arc<AtomicBool>,
    /// Set to the status line if they were an HTTP/1.x response.
    http1_answer: Arc<OnceLock<String>>,
}

impl CountWrites {
    /// Looks at the first bytes the server sent.
    fn sniff(&mut self, first: &[u8]) {
        self.received.store(true, Ordering::Release);
        if first.starts_with(b"HTTP/1.") {
            let line = first
                .split(|&b| b == b'\r' || b == b'\n')
                .next()
                .unwrap_or_default();
            let line = &line[..line.len().min(80)];
            let _ = self
                .http1_answer
                .set(String::from_utf8_lossy(line).into_owned());
        }
    }

    /// After a failed write to a server that has sent nothing we read yet: what it did send,
    /// if anything (an HTTP/1.1 server answers our preface and closes, and our next write
    /// fails before the answer is read). The connection is lost anyway.
    fn sniff_after_failure(&mut self, cx: &mut Context<'_>, written: &Poll<io::Result<usize>>) {
        if self.received.load(Ordering::Relaxed) || !matches!(written, Poll::Ready(Err(_))) {
            return;
        }
        let mut first = [0u8; 128];
        let mut buf = tokio::io::ReadBuf::new(&mut first);
        if let Poll::Ready(Ok(())) =
            tokio::io::AsyncRead::poll_read(Pin::new(&mut self.io), cx, &mut buf)
        {
            let n = buf.filled().len();
            if n > 0 {
                self.sniff(&first[..n]);
            }
        }
    }

    fn count(&self, written: &Poll<io::Result<usize>>) {
        if let Poll::Ready(Ok(n)) = written {
            if *n > 0 {
                // The connection's task is the only writer.
                let now = self.writes.load(Ordering::Relaxed);
                self.writes.store(now.wrapping_add(1), Ordering::Relaxed);
            }
        }
    }
}

impl tokio::io::AsyncRead for CountWrites {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before && !self.received.load(Ordering::Relaxed) {
            self.sniff(&buf.filled()[before..]);
        }
        r
    }
}

impl tokio::io::AsyncWrite for CountWrites {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        self.count(&r);
        self.sniff_after_failure(cx, &r);
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.count(&r);
        self.sniff_after_failure(cx, &r);
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Headers HTTP/2 forbids (RFC 9113 section 8.2.2), dropped as hyper does rather than
/// failing the call. One pass over the names finds none in the usual case: cheaper than
/// looking each up (which hashes it).
pub(super) fn strip_connection_headers(headers: &mut http::HeaderMap) {
    use http::header::{CONNECTION, TE, TRANSFER_ENCODING, UPGRADE};
    let forbidden = |name: &http::HeaderName| {
        name == CONNECTION
            || name == TRANSFER_ENCODING
            || name == UPGRADE
            || name == TE
            || name == "keep-alive"
            || name == "proxy-connection"
    };
    if !headers.keys().any(forbidden) {
        return;
    }
    if let Some(c) = headers.remove(CONNECTION) {
        if let Ok(names) = c.to_str() {
            for name in names.split(',') {
                headers.remove(name.trim());
            }
        }
    }
    for name in [TRANSFER_ENCODING, UPGRADE] {
        headers.remove(name);
    }
    for name in ["keep-alive", "proxy-connection"] {
        headers.remove(name);
    }
    if headers.get(TE).is_some_and(|te| te != "trailers") {
        headers.remove(TE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_specific_headers_are_dropped() {
        let mut h = http::HeaderMap::new();
        h.insert("content-type", "application/proto".parse().unwrap());
        h.insert("te", "trailers".parse().unwrap());
        let before = h.clone();
        strip_connection_headers(&mut h);
        assert_eq!(h, before, "nothing to drop");
        h.insert("connection", "x-hop, keep-alive".parse().unwrap());
        h.insert("x-hop", "1".parse().unwrap());
        h.insert("keep-alive", "5".parse().unwrap());
        h.insert("transfer-encoding", "chunked".parse().unwrap());
        h.insert("te", "gzip".parse().unwrap());
        strip_connection_headers(&mut h);
        let left: Vec<_> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(left, ["content-type"]);
    }
}
