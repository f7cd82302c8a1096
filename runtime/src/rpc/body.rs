//! The enveloped body: frames a stream of messages (batched into few DATA frames) and ends
//! it the way the negotiated protocol wants.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};
use http::HeaderMap;
use http_body::Frame;

pub use crate::transport::body::{Body, BoxError};
use tokio::time::Sleep;

use super::trailers::StreamTrailers;
use crate::protocol::envelope::{FLAG_COMPRESSED, PREFIX_LEN};
use crate::protocol::framing::End;
use crate::protocol::{Encoding, Framing, Status};

/// A source of messages that encodes each one straight into the outgoing buffer. This is
/// how streams of typed messages reach the wire without an allocation per message, and
/// what interceptors wrap to watch a stream.
pub trait EncodeStream: Send + 'static {
    /// Appends the next message's encoding to `dst`; `Ready(None)` at the end of the
    /// stream, `Ready(Some(Err(_)))` when the stream fails.
    fn poll_encode(
        &mut self,
        cx: &mut Context<'_>,
        dst: &mut BytesMut,
    ) -> Poll<Option<Result<(), Status>>>;
}

/// The typed [`EncodeStream`] over a `Stream` of messages.
pub(crate) struct TypedEncodeStream<S> {
    pub(crate) stream: S,
    pub(crate) codec: crate::protocol::Codec,
}

impl<S, T, E> EncodeStream for TypedEncodeStream<S>
where
    S: futures_core::Stream<Item = Result<T, E>> + Send + Unpin + 'static,
    T: crate::protocol::Message,
    E: Into<Status>,
{
    fn poll_encode(
        &mut self,
        cx: &mut Context<'_>,
        dst: &mut BytesMut,
    ) -> Poll<Option<Result<(), Status>>> {
        match ready!(Pin::new(&mut self.stream).poll_next(cx)) {
            None => Poll::Ready(None),
            Some(Err(e)) => Poll::Ready(Some(Err(e.into()))),
            Some(Ok(m)) => Poll::Ready(Some(self.codec.encode(&m, dst))),
        }
    }
}

/// Frames flush once a batch reaches this size.
const MAX_BATCH: usize = 32 * 1024;
/// What a batch reserves: a full batch and the message that crosses `MAX_BATCH` (if small),
/// so a batch of small messages is never copied into a larger buffer.
const BATCH_CAPACITY: usize = MAX_BATCH + MAX_BATCH / 4;
/// Later batches reserve what the previous one used, at least this much, so a stream that
/// sends one small message at a time does not hold a full batch buffer per message.
const MIN_BATCH_CAPACITY: usize = 1024;

/// How an enveloped body ends.
pub(crate) enum Ending {
    /// A client's request stream: the body simply ends.
    Plain,
    /// A server's response stream: end-stream message or trailers, with these trailers and
    /// then those the stream wrote while it ran.
    Server(Framing, HeaderMap, Option<StreamTrailers>),
}

/// A body of enveloped messages.
pub(crate) struct EnvelopeBody {
    source: Option<Box<dyn EncodeStream>>,
    encoding: Encoding,
    compress_min: usize,
    max_message_size: usize,
    ending: Ending,
    deadline: Option<Pin<Box<Sleep>>>,
    queued: Option<Frame<Bytes>>,
    failed: Option<Status>,
    done: bool,
    /// Capacity to reserve for the next batch.
    batch_capacity: usize,
}

impl EnvelopeBody {
    pub(crate) fn new(
        source: Box<dyn EncodeStream>,
        encoding: Encoding,
        compress_min: usize,
        max_message_size: usize,
        ending: Ending,
        deadline: Option<Instant>,
    ) -> Self {
        EnvelopeBody {
            source: Some(source),
            encoding,
            compress_min,
            max_message_size,
            ending,
            deadline: deadline.map(|d| Box::pin(tokio::time::sleep_until(d.into()))),
            queued: None,
            failed: None,
            done: false,
            batch_capacity: BATCH_CAPACITY,
        }
    }

    /// Ends the stream: returns the bytes to append to the current batch, if the ending is a
    /// frame, and queues HTTP trailers otherwise.
    fn finish(&mut self, error: Option<Status>) -> Option<Bytes> {
        self.source = None;
        self.deadline = None;
        self.done = true;
        match &mut self.ending {
            Ending::Plain => {
                if let Some(e) = error {
                    // Aborting the body resets the HTTP/2 stream: the server sees the call
                    // cancelled instead of a request stream that ended normally.
                    tracing::debug!(error = %e, "request stream failed; aborting the call");
                    self.failed = Some(e);
                }
                None
            }
            // The body ends once, so the trailers can be moved out rather than copied.
            Ending::Server(framing, trailers, late) => {
                let mut trailers = std::mem::take(trailers);
                if let Some(late) = late.take() {
                    late.drain_into(&mut trailers);
                }
                match framing.encode_end_owned(error.as_ref(), trailers) {
                    End::Frame(b) => Some(b),
                    End::Trailers(t) => {
                        self.queued = Some(Frame::trailers(t));
                        None
                    }
                }
            }
        }
    }

    /// Fixes up the envelope that starts at `start` (compressing it if worthwhile).
    fn seal(&self, buf: &mut BytesMut, start: usize) -> Result<(), Status> {
        let len = buf.len() - start - PREFIX_LEN;
        if len > self.max_message_size {
            return Err(crate::protocol::compression::too_large_to_send(
                len,
                self.max_message_size,
            ));
        }
        let mut flags = 0u8;
        let mut len32 = len as u32;
        if self.encoding != Encoding::Identity && len >= self.compress_min {
            let raw = buf.split_off(start + PREFIX_LEN);
            let z = self.encoding.compress(&raw)?;
            buf.put_slice(&z);
            flags = FLAG_COMPRESSED;
            len32 = z.len() as u32;
        }
        buf[start] = flags;
        buf[start + 1..start + PREFIX_LEN].copy_from_slice(&len32.to_be_bytes());
        Ok(())
    }
}

impl http_body::Body for EnvelopeBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if let Some(f) = this.queued.take() {
            return Poll::Ready(Some(Ok(f)));
        }
        if this.done {
            return Poll::Ready(None);
        }
        if let Some(d) = &mut this.deadline {
            if d.as_mut().poll(cx).is_ready() {
                let end = this.finish(Some(Status::deadline_exceeded(
                    "the call's deadline passed while streaming",
                )));
                return Poll::Ready(
                    end.map(|b| Ok(Frame::data(b)))
                        .or_else(|| this.queued.take().map(Ok)),
                );
            }
        }
        // Allocated on the first message, so a source that is not ready costs nothing.
        let mut buf = BytesMut::new();
        let mut end: Option<Option<Status>> = None;
        while let Some(source) = &mut this.source {
            if buf.capacity() == 0 {
                buf.reserve(this.batch_capacity);
            }
            let start = buf.len();
            // Room for the prefix, which `seal` fills in.
            buf.put_bytes(0, PREFIX_LEN);
            let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                source.poll_encode(cx, &mut buf)
            }))
            .unwrap_or_else(|_| {
                tracing::error!("a response stream panicked");
                Poll::Ready(Some(Err(Status::internal("the handler's stream panicked"))))
            });
            match polled {
                Poll::Ready(Some(Ok(()))) => {
                    if let Err(e) = this.seal(&mut buf, start) {
                        buf.truncate(start);
                        end = Some(Some(e));
                        break;
                    }
                    if buf.len() >= MAX_BATCH {
                        break;
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    buf.truncate(start);
                    end = Some(Some(e));
                    break;
                }
                Poll::Ready(None) => {
                    buf.truncate(start);
                    end = Some(None);
                    break;
                }
                Poll::Pending => {
                    buf.truncate(start);
                    break;
                }
            }
        }
        if let Some(error) = end {
            if let Some(tail) = this.finish(error) {
                buf.put_slice(&tail);
            }
        }
        if let Some(e) = this.failed.take() {
            return Poll::Ready(Some(Err(Box::new(e))));
        }
        if !buf.is_empty() {
            this.batch_capacity = if buf.len() >= MAX_BATCH {
                BATCH_CAPACITY
            } else {
                buf.len().max(MIN_BATCH_CAPACITY)
            };
            return Poll::Ready(Some(Ok(Frame::data(buf.freeze()))));
        }
        if let Some(f) = this.queued.take() {
            return Poll::Ready(Some(Ok(f)));
        }
        if this.done {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done && self.queued.is_none()
    }
}
