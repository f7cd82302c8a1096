//! Draining what is left of an HTTP/1.1 request body nobody reads any more.
//!
//! An HTTP/1.1 client writes its whole request before it reads the answer. A server that
//! answers early (an unknown path, a refused content type, a message over the limit, a
//! handler that returns before reading all of a client stream) and drops the request body
//! makes hyper stop reading and close the connection once the answer is written: a client
//! still writing then gets a broken pipe (or a reset that discards the answer), and a client
//! that had finished writing may reuse the connection hyper is about to close and read an
//! unexpected EOF. So a dropped request body that has not ended is read to its end in the
//! background and thrown away, bounded in bytes and time: the connection stays usable, and
//! a body beyond the bounds only costs the connection, as before.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as _, Frame, SizeHint};

use super::body::BoxError;

/// How much of an unread request body is still read and thrown away.
pub(crate) const DRAIN_LIMIT: u64 = 16 * 1024 * 1024;
/// For how long, at most, an unread request body is still read.
pub(crate) const DRAIN_TIME: Duration = Duration::from_secs(5);

/// A request body that, dropped before its end, is read to the end in the background
/// (within [`DRAIN_LIMIT`] and [`DRAIN_TIME`]).
pub(crate) struct DrainOnDrop<B: Drainable> {
    inner: Option<B>,
    /// The body returned its end (or failed): nothing is left to drain.
    ended: bool,
}

/// What a [`DrainOnDrop`] can hold: hyper's incoming body (held without a box) or any
/// [`Body`].
pub(crate) trait Drainable:
    http_body::Body<Data = Bytes, Error: Into<BoxError>> + Send + Unpin + 'static
{
}

impl<B> Drainable for B where
    B: http_body::Body<Data = Bytes, Error: Into<BoxError>> + Send + Unpin + 'static
{
}

impl<B: Drainable> DrainOnDrop<B> {
    pub(crate) fn new(inner: B) -> Self {
        DrainOnDrop {
            inner: Some(inner),
            ended: false,
        }
    }
}

impl<B: Drainable> http_body::Body for DrainOnDrop<B> {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(cx).map_err(Into::into);
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            self.ended = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), |b| b.size_hint())
    }
}

impl<B: Drainable> Drop for DrainOnDrop<B> {
    fn drop(&mut self) {
        if self.is_end_stream() {
            return;
        }
        let Some(body) = self.inner.take() else {
            return;
        };
        // Outside a runtime (a body dropped by a test, say) there is nothing to drain with.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(drain(body));
    }
}

/// Reads `body` to its end and throws it away, giving up (and dropping it, which closes an
/// HTTP/1.1 connection) beyond [`DRAIN_LIMIT`] bytes or after [`DRAIN_TIME`].
async fn drain<B: Drainable>(mut body: B) {
    let read = async {
        let mut seen = 0u64;
        while seen <= DRAIN_LIMIT {
            match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
                Some(Ok(frame)) => seen += frame.data_ref().map_or(0, |d| d.len() as u64),
                Some(Err(_)) | None => return true,
            }
        }
        false
    };
    match tokio::time::timeout(DRAIN_TIME, read).await {
        Ok(true) => {}
        Ok(false) => tracing::debug!(
            limit = DRAIN_LIMIT,
            "an unread request body is larger than the drain limit; closing the connection"
        ),
        Err(_) => tracing::debug!(
            time = ?DRAIN_TIME,
            "an unread request body did not end in time; closing the connection"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::Body;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A body of `chunks` chunks that counts how many were read, and says when it is
    /// dropped.
    struct Counted {
        left: usize,
        read: Arc<AtomicUsize>,
        dropped: Option<tokio::sync::oneshot::Sender<()>>,
    }

    impl http_body::Body for Counted {
        type Data = Bytes;
        type Error = BoxError;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
            if self.left == 0 {
                return Poll::Ready(None);
            }
            self.left -= 1;
            self.read.fetch_add(1, Ordering::SeqCst);
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"chunk")))))
        }
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            if let Some(tx) = self.dropped.take() {
                let _ = tx.send(());
            }
        }
    }

    fn counted(chunks: usize) -> (Body, Arc<AtomicUsize>, tokio::sync::oneshot::Receiver<()>) {
        let read = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let body = Body::new(Counted {
            left: chunks,
            read: read.clone(),
            dropped: Some(tx),
        });
        (body, read, rx)
    }

    #[tokio::test]
    async fn a_body_dropped_midway_is_read_to_its_end() {
        let (body, read, dropped) = counted(10);
        let mut body = DrainOnDrop::new(body);
        let first = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        assert!(first.is_some_and(|f| f.is_ok()));
        drop(body);
        dropped.await.expect("the drain drops the body at its end");
        assert_eq!(read.load(Ordering::SeqCst), 10);
    }

    #[tokio::test]
    async fn a_body_read_to_its_end_is_dropped_at_once() {
        let (body, read, mut dropped) = counted(2);
        let mut body = DrainOnDrop::new(body);
        while std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx))
            .await
            .is_some()
        {}
        assert!(body.is_end_stream());
        drop(body);
        // Dropped on the spot, with no task spawned to drain it.
        assert!(dropped.try_recv().is_ok());
        assert_eq!(read.load(Ordering::SeqCst), 2);
    }
}
