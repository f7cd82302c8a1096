//! What the server knows about one connection while serving it: whether the peer has
//! introduced itself yet (an HTTP/2 preface or a first request), how many requests are in
//! flight and since when none has been. The server's per-connection timeouts
//! ([`ServerLimits`](super::ServerLimits)) are decided from this.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::body::{Body, BoxError};

/// The HTTP/2 client connection preface's magic string (RFC 9113, section 3.4).
const H2_MAGIC: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// The length of an HTTP/2 frame header.
const FRAME_HEADER: usize = 9;

/// Shared by a connection's task, its I/O and its requests.
#[derive(Debug)]
pub(crate) struct ConnTrack {
    start: Instant,
    /// Set once the peer sent a complete HTTP/2 preface or a first request head.
    greeted: AtomicBool,
    /// Requests whose response has not finished (or been dropped).
    active: AtomicUsize,
    /// When a request last finished, in nanoseconds since `start` (0: none yet).
    last_finish: AtomicU64,
    /// Signalled when the last request in flight finishes.
    became_idle: Notify,
}

impl ConnTrack {
    pub(crate) fn new() -> Arc<ConnTrack> {
        Arc::new(ConnTrack {
            start: Instant::now(),
            greeted: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            last_finish: AtomicU64::new(0),
            became_idle: Notify::new(),
        })
    }

    /// When the connection was accepted.
    pub(crate) fn start(&self) -> Instant {
        self.start
    }

    pub(crate) fn greet(&self) {
        self.greeted.store(true, Ordering::Relaxed);
    }

    pub(crate) fn is_greeted(&self) -> bool {
        self.greeted.load(Ordering::Relaxed)
    }

    /// Since when no request has been in flight, or `None` while one is.
    pub(crate) fn idle_since(&self) -> Option<Instant> {
        if self.active.load(Ordering::Acquire) > 0 {
            return None;
        }
        let since = Duration::from_nanos(self.last_finish.load(Ordering::Acquire));
        Some(self.start + since)
    }

    /// Resolves when the last request in flight has finished since the previous call (at
    /// once if that happened while nobody was waiting).
    pub(crate) async fn became_idle(&self) {
        self.became_idle.notified().await;
    }

    fn nanos_since_start(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// Counts one request as in flight for as long as it lives: created when the request
/// arrives, it moves into the response body and is dropped with it.
pub(crate) struct InFlight(Arc<ConnTrack>);

impl InFlight {
    pub(crate) fn new(track: &Arc<ConnTrack>) -> InFlight {
        track.active.fetch_add(1, Ordering::AcqRel);
        InFlight(track.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // The finish time is written before the count drops, so that whoever sees the
        // count at zero sees a finish time at least this recent.
        self.0
            .last_finish
            .store(self.0.nanos_since_start(), Ordering::Release);
        if self.0.active.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.became_idle.notify_one();
        }
    }
}

/// A response body that keeps its request counted as in flight until it is finished.
pub(crate) struct TrackedBody {
    inner: Body,
    _in_flight: Option<InFlight>,
}

impl TrackedBody {
    pub(crate) fn new(inner: Body, in_flight: Option<InFlight>) -> Self {
        TrackedBody {
            inner,
            _in_flight: in_flight,
        }
    }
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = BoxError;

    #[inline]
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    #[inline]
    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    #[inline]
    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Where the reader is in the client's first bytes.
#[derive(Debug, Clone, Copy)]
enum Preface {
    /// Matching the HTTP/2 magic; this many bytes matched so far.
    Magic(usize),
    /// Reading the first frame's header; this many bytes read so far.
    FrameHeader { read: usize, len: u32 },
    /// Reading the first frame's payload; this many bytes left.
    Payload(u32),
    /// Nothing more to watch: the preface is complete, or this is not HTTP/2.
    Done,
}

/// The connection's byte stream, watched until the peer has sent a complete HTTP/2
/// connection preface (magic and first frame), which marks the connection greeted. For an
/// HTTP/1.1 peer the first byte that differs from the magic ends the watch (the first
/// request marks it greeted instead). After that it only forwards.
pub(crate) struct Watched<T> {
    inner: T,
    preface: Preface,
    track: Arc<ConnTrack>,
}

impl<T> Watched<T> {
    pub(crate) fn new(inner: T, track: Arc<ConnTrack>) -> Self {
        Watched {
            inner,
            preface: Preface::Magic(0),
            track,
        }
    }

    /// Advances the preface state over bytes the peer just sent.
    fn observe(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match self.preface {
                Preface::Magic(n) => {
                    let take = bytes.len().min(H2_MAGIC.len() - n);
                    if bytes[..take] != H2_MAGIC[n..n + take] {
                        self.preface = Preface::Done;
                        return;
                    }
                    bytes = &bytes[take..];
                    self.preface = if n + take == H2_MAGIC.len() {
                        Preface::FrameHeader { read: 0, len: 0 }
                    } else {
                        Preface::Magic(n + take)
                    };
                }
                Preface::FrameHeader { read, len } => {
                    let take = bytes.len().min(FRAME_HEADER - read);
                    let mut len = len;
                    // The first three bytes of a frame header are the payload length.
                    for (i, b) in bytes[..take].iter().enumerate() {
                        if read + i < 3 {
                            len = (len << 8) | u32::from(*b);
                        }
                    }
                    bytes = &bytes[take..];
                    self.preface = if read + take == FRAME_HEADER {
                        Preface::Payload(len)
                    } else {
                        Preface::FrameHeader {
                            read: read + take,
                            len,
                        }
                    };
                }
                Preface::Payload(left) => {
                    let take = u32::try_from(bytes.len()).unwrap_or(u32::MAX).min(left);
                    bytes = &bytes[take as usize..];
                    self.preface = Preface::Payload(left - take);
                }
                Preface::Done => return,
            }
            if let Preface::Payload(0) = self.preface {
                self.track.greet();
                self.preface = Preface::Done;
                return;
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Preface::Done = this.preface {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        let before = buf.filled().len();
        let res = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = res {
            if let Some(new) = buf.filled().get(before..) {
                this.observe(new);
            }
        }
        res
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    #[inline]
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    #[inline]
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    #[inline]
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    #[inline]
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    #[inline]
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watched() -> Watched<tokio::io::Empty> {
        Watched::new(tokio::io::empty(), ConnTrack::new())
    }

    /// The magic, then a SETTINGS frame with one setting (6 bytes of payload).
    fn preface() -> Vec<u8> {
        let mut v = H2_MAGIC.to_vec();
        v.extend_from_slice(&[0, 0, 6, 0x4, 0, 0, 0, 0, 0]);
        v.extend_from_slice(&[0, 3, 0, 0, 0, 100]);
        v
    }

    #[test]
    fn a_complete_preface_greets_in_one_read_or_byte_by_byte() {
        let mut w = watched();
        w.observe(&preface());
        assert!(w.track.is_greeted());

        let mut w = watched();
        let p = preface();
        for (i, b) in p.iter().enumerate() {
            assert!(!w.track.is_greeted(), "greeted after {i} bytes");
            w.observe(&[*b]);
        }
        assert!(w.track.is_greeted());
    }

    #[test]
    fn an_incomplete_preface_does_not_greet() {
        let p = preface();
        for cut in [1, 10, 24, 30, 33, p.len() - 1] {
            let mut w = watched();
            w.observe(&p[..cut]);
            assert!(!w.track.is_greeted(), "greeted after {cut} bytes");
        }
    }

    #[test]
    fn an_empty_settings_frame_completes_the_preface() {
        let mut w = watched();
        let mut p = H2_MAGIC.to_vec();
        p.extend_from_slice(&[0, 0, 0, 0x4, 0, 0, 0, 0, 0]);
        w.observe(&p);
        assert!(w.track.is_greeted());
    }

    #[test]
    fn http1_stops_watching_without_greeting() {
        let mut w = watched();
        w.observe(b"POST / HTTP/1.1\r\n");
        assert!(matches!(w.preface, Preface::Done));
        assert!(!w.track.is_greeted());
    }

    #[test]
    fn in_flight_requests_hold_off_idleness() {
        let track = ConnTrack::new();
        assert_eq!(track.idle_since(), Some(track.start()));
        let a = InFlight::new(&track);
        let b = InFlight::new(&track);
        assert_eq!(track.idle_since(), None);
        drop(a);
        assert_eq!(track.idle_since(), None);
        drop(b);
        let since = track.idle_since().expect("idle again");
        assert!(since >= track.start());
        assert!(since <= Instant::now());
    }
}
