//! HTTP/2: the channel's one multiplexed connection on the `h2` crate, dialed when first
//! needed and again when found dead, and counting its writes so that a failed request can
//! tell whether it ever left.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
                    if retried {
                        return Err(Status::unavailable(format!(
                            "HTTP/2 connection to {:?} unusable: {e}",
                            self.inner.target
                        ))
                        .into_unprocessed());
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
        let io = CountWrites {
            io,
            writes: writes.clone(),
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
        });
        *self.inner.h2.lock().unwrap_or_else(|p| p.into_inner()) = Some(conn.clone());
        Ok(conn)
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
}

/// A client connection's byte stream, counting the writes that succeed: a request queued
/// while the count stood at `n` has provably not left if the count is still `n` when the
/// request fails (h2 does not tell).
struct CountWrites {
    io: Io,
    writes: Arc<AtomicU64>,
}

impl CountWrites {
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
        Pin::new(&mut self.io).poll_read(cx, buf)
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
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.count(&r);
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
