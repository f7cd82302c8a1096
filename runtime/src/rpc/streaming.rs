//! Inbound message streams: [`RawStreaming`] takes enveloped payloads off a body (handling
//! compression, limits, end-stream messages and trailers), [`Streaming`] decodes them.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use futures_core::Stream;
use futures_util::future::BoxFuture;
use http::HeaderMap;
use http_body::Body as _;
use tokio::time::Sleep;

use super::body::Body;
use crate::protocol::envelope::{EnvelopeDecoder, FLAG_COMPRESSED};
use crate::protocol::{Codec, Encoding, Framing, Message, Status};

/// Which end of a call reads the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// A server reading requests: the body just ends.
    Server,
    /// A client reading responses: the stream ends with a status.
    Client,
}

/// Decides, given the error a response stream failed with before its first message,
/// whether to start the call again: the new call's response, or `None` to give up.
pub(crate) type Resume = Box<
    dyn FnMut(&Status) -> Option<BoxFuture<'static, Result<super::call::ClientOutput, Status>>>
        + Send,
>;

/// A stream of raw (decompressed, still encoded) messages.
pub struct RawStreaming {
    body: Body,
    decoder: EnvelopeDecoder,
    framing: Framing,
    encoding: Encoding,
    max_message_size: usize,
    side: Side,
    deadline: Option<Pin<Box<Sleep>>>,
    trailers: Option<HeaderMap>,
    ended: bool,
    /// Client side: the response headers, which a failure after them carries, and whose
    /// `grpc-status` (gRPC, gRPC-Web) ends a response without a body or trailers.
    response_headers: Option<HeaderMap>,
    /// Whether any of the body has arrived.
    received: bool,
    /// Client side: the response was trailers-only (its headers were its trailers).
    trailers_only: bool,
    /// Client side: how to start the call again if it fails before its first message.
    resume: Option<Resume>,
    resuming: Option<BoxFuture<'static, Result<super::call::ClientOutput, Status>>>,
}

impl std::fmt::Debug for RawStreaming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawStreaming")
            .field("framing", &self.framing)
            .finish()
    }
}

impl RawStreaming {
    pub(crate) fn new(
        body: Body,
        framing: Framing,
        encoding: Encoding,
        max_message_size: usize,
        side: Side,
        deadline: Option<Instant>,
    ) -> Self {
        RawStreaming {
            body,
            decoder: EnvelopeDecoder::new(max_message_size),
            framing,
            encoding,
            max_message_size,
            side,
            deadline: deadline.map(|d| Box::pin(tokio::time::sleep_until(d.into()))),
            trailers: None,
            ended: false,
            response_headers: None,
            received: false,
            trailers_only: false,
            resume: None,
            resuming: None,
        }
    }

    /// Lets the stream start its call again when it fails before its first message
    /// (what a retry interceptor does for server streams): `resume` sees the error and
    /// returns the new call's response, whose stream then continues this one (its
    /// headers are not seen). Once a message has arrived, `resume` is dropped.
    pub fn resume_with(mut self, resume: Resume) -> Self {
        self.resume = Some(resume);
        self
    }

    /// Client side: the response headers. An error after them carries them (unless the
    /// response turns out trailers-only), and a gRPC or gRPC-Web response with neither body
    /// nor trailers ends with the status they carry (trailers-only), which only this
    /// decides: a `grpc-status` header next to a body or trailers is ignored.
    pub(crate) fn with_response_headers(mut self, headers: HeaderMap) -> Self {
        self.response_headers = Some(headers);
        self
    }

    /// Takes the response headers back.
    pub(crate) fn take_response_headers(&mut self) -> Option<HeaderMap> {
        self.response_headers.take()
    }

    /// `error` with what the response carried by the time it failed: the headers (none
    /// for a trailers-only response: its metadata are trailers) and the trailers.
    pub(crate) fn annotate(&self, mut error: Status) -> Status {
        if !self.trailers_only && error.headers().is_empty() {
            if let Some(h) = &self.response_headers {
                *error.headers_mut() = h.clone();
            }
        }
        if error.trailers().is_empty() {
            if let Some(t) = &self.trailers {
                *error.trailers_mut() = t.clone();
            }
        }
        error
    }

    /// Bytes already read off the body, to be decoded before anything else.
    pub(crate) fn push_received(&mut self, chunk: Bytes) {
        self.received |= !chunk.is_empty();
        self.decoder.push(chunk);
    }

    /// The stream's trailers, once it has ended (client side).
    pub fn trailers(&self) -> Option<&HeaderMap> {
        self.trailers.as_ref()
    }

    /// Takes the trailers, once the stream has ended.
    pub(crate) fn take_trailers(&mut self) -> Option<HeaderMap> {
        self.trailers.take()
    }

    /// The codec of the messages.
    pub fn codec(&self) -> Codec {
        self.framing.codec
    }

    fn fail(&mut self, e: Status) -> Poll<Option<Result<Bytes, Status>>> {
        self.ended = true;
        self.deadline = None;
        Poll::Ready(Some(Err(e)))
    }

    fn body_error(&self, e: &(dyn std::error::Error + 'static)) -> Status {
        match self.side {
            Side::Server => Status::canceled(format!("reading the request failed: {e}")),
            // A server gives up on a call at its deadline by resetting the stream (gRPC
            // servers send RST_STREAM CANCEL), which can reach us just before our own timer
            // fires: past the deadline, that is the deadline.
            Side::Client if self.deadline_passed() => Status::deadline_exceeded(format!(
                "the call's deadline passed (the response failed: {e})"
            )),
            Side::Client => Status::unavailable(format!(
                "the connection failed while reading the response: {e}"
            )),
        }
    }

    fn deadline_passed(&self) -> bool {
        self.deadline
            .as_ref()
            .is_some_and(|d| d.deadline() <= tokio::time::Instant::now())
    }
}

impl Stream for RawStreaming {
    type Item = Result<Bytes, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.resume.is_none() && this.resuming.is_none() {
            return this.poll_wire(cx);
        }
        loop {
            if let Some(fut) = &mut this.resuming {
                let out = match fut.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(out) => out,
                };
                this.resuming = None;
                let failed = match out {
                    Ok(super::call::ClientOutput {
                        body: super::call::ClientOutputBody::Stream(mut next),
                        ..
                    }) => {
                        next.resume = this.resume.take();
                        *this = *next;
                        continue;
                    }
                    Ok(_) => Status::internal("expected a response stream, got one message"),
                    Err(e) => e,
                };
                if let Some(fut) = this.resume.as_mut().and_then(|r| r(&failed)) {
                    this.resuming = Some(fut);
                    continue;
                }
                this.resume = None;
                return this.fail(failed);
            }
            return match this.poll_wire(cx) {
                Poll::Ready(Some(Err(e))) => match this.resume.as_mut().and_then(|r| r(&e)) {
                    Some(fut) => {
                        this.resuming = Some(fut);
                        continue;
                    }
                    None => {
                        this.resume = None;
                        Poll::Ready(Some(Err(e)))
                    }
                },
                Poll::Ready(Some(Ok(m))) => {
                    // A message arrived: from now on a failure is the caller's to see.
                    this.resume = None;
                    Poll::Ready(Some(Ok(m)))
                }
                other => other,
            };
        }
    }
}

impl RawStreaming {
    fn poll_wire(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Status>>> {
        match self.poll_frames(cx) {
            Poll::Ready(Some(Err(e))) if self.side == Side::Client => {
                Poll::Ready(Some(Err(self.annotate(e))))
            }
            other => other,
        }
    }

    fn poll_frames(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Status>>> {
        let this = self;
        loop {
            if this.ended {
                return Poll::Ready(None);
            }
            if let Some(d) = &mut this.deadline {
                if d.as_mut().poll(cx).is_ready() {
                    return this.fail(Status::deadline_exceeded("the call's deadline passed"));
                }
            }
            match this.decoder.decode() {
                Err(e) => return this.fail(e),
                Ok(Some(env)) => {
                    let data = match decompressed(
                        env.flags,
                        env.data,
                        this.encoding,
                        this.max_message_size,
                    ) {
                        Ok(d) => d,
                        Err(e) => return this.fail(e),
                    };
                    if this.side == Side::Client && this.framing.is_end_frame(env.flags) {
                        this.ended = true;
                        this.deadline = None;
                        return match this.framing.decode_end_frame(&data) {
                            Err(e) => Poll::Ready(Some(Err(e))),
                            Ok((err, trailers)) => {
                                this.trailers = Some(trailers);
                                match err {
                                    Some(e) => Poll::Ready(Some(Err(e))),
                                    None => Poll::Ready(None),
                                }
                            }
                        };
                    }
                    if let Err(e) = check_message_flags(env.flags) {
                        return this.fail(e);
                    }
                    return Poll::Ready(Some(Ok(data)));
                }
                Ok(None) => {}
            }
            match Pin::new(&mut this.body).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => {
                    let st = this.body_error(e.as_ref());
                    return this.fail(st);
                }
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => {
                        this.received |= !data.is_empty();
                        this.decoder.push(data);
                    }
                    Err(frame) => {
                        if let Ok(t) = frame.into_trailers() {
                            this.trailers = Some(t);
                        }
                    }
                },
                Poll::Ready(None) => {
                    if let Err(e) = this.decoder.finish() {
                        return this.fail(e);
                    }
                    this.ended = true;
                    this.deadline = None;
                    if this.side == Side::Server {
                        return Poll::Ready(None);
                    }
                    if !this.received && this.trailers.is_none() {
                        if let Some(end) = this
                            .response_headers
                            .as_ref()
                            .and_then(|h| this.framing.trailers_only(h))
                        {
                            this.trailers_only = true;
                            return match end {
                                Err(e) => Poll::Ready(Some(Err(e))),
                                Ok((error, trailers)) => {
                                    this.trailers = Some(trailers);
                                    Poll::Ready(error.map(Err))
                                }
                            };
                        }
                    }
                    if this.framing.ends_with_http_trailers() {
                        let Some(t) = &this.trailers else {
                            return Poll::Ready(Some(Err(Status::internal(
                                "protocol error: the response ended without trailers",
                            ))));
                        };
                        let status = this.framing.trailers_status(t);
                        if let Some(t) = &mut this.trailers {
                            crate::protocol::grpc::strip_status(t);
                        }
                        return match status {
                            Ok(None) => Poll::Ready(None),
                            Ok(Some(e)) => Poll::Ready(Some(Err(e))),
                            Err(e) => Poll::Ready(Some(Err(e))),
                        };
                    }
                    return Poll::Ready(Some(Err(Status::internal(
                        "protocol error: the response stream ended without an end-of-stream message",
                    ))));
                }
            }
        }
    }
}

/// A frame's payload, decompressed when its flags say it is compressed.
pub(crate) fn decompressed(
    flags: u8,
    data: Bytes,
    encoding: Encoding,
    max_message_size: usize,
) -> Result<Bytes, Status> {
    if flags & FLAG_COMPRESSED == 0 {
        return Ok(data);
    }
    if encoding == Encoding::Identity {
        return Err(Status::internal(
            "protocol error: compressed message without a declared encoding",
        ));
    }
    encoding.decompress(data, max_message_size)
}

/// A message frame may carry no flag other than "compressed".
pub(crate) fn check_message_flags(flags: u8) -> Result<(), Status> {
    if flags & !FLAG_COMPRESSED != 0 {
        return Err(Status::invalid_argument(format!(
            "protocol error: unexpected frame flags {flags:#04x}"
        )));
    }
    Ok(())
}

/// A stream of typed messages: received from the peer (decoded as they arrive), or made
/// locally from any stream, iterator or `Vec`. The same type is what a streaming method
/// takes and returns on both sides, so one trait serves a local implementation and a
/// remote client alike.
pub struct Streaming<T> {
    inner: Source<T>,
}

// The wire variant is moved once per call; boxing it would cost an allocation per call.
#[allow(clippy::large_enum_variant)]
enum Source<T> {
    Wire(RawStreaming),
    Local(super::handler::BoxStream<T>),
}

impl<T> std::fmt::Debug for Streaming<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.inner {
            Source::Wire(_) => "Streaming(wire)",
            Source::Local(_) => "Streaming(local)",
        })
    }
}

impl<T: Message> Streaming<T> {
    /// Decodes the messages of a raw stream.
    pub fn new(raw: RawStreaming) -> Self {
        Streaming {
            inner: Source::Wire(raw),
        }
    }

    /// A stream of results made locally.
    pub fn from_stream<S>(stream: S) -> Self
    where
        S: Stream<Item = Result<T, Status>> + Send + 'static,
    {
        Streaming {
            inner: Source::Local(Box::pin(stream)),
        }
    }

    /// A stream of messages made locally (it cannot fail).
    pub fn from_messages<S>(stream: S) -> Self
    where
        S: Stream<Item = T> + Send + 'static,
    {
        use futures_util::StreamExt as _;
        Streaming::from_stream(stream.map(Ok))
    }

    /// The next message; `Ok(None)` at the end of the stream.
    pub async fn message(&mut self) -> Result<Option<T>, Status> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx))
            .await
            .transpose()
    }

    /// Trailers, available once a stream received from a peer has ended (client side).
    pub fn trailers(&self) -> Option<&HeaderMap> {
        match &self.inner {
            Source::Wire(raw) => raw.trailers(),
            Source::Local(_) => None,
        }
    }
}

impl<T: Message> From<Vec<T>> for Streaming<T> {
    fn from(messages: Vec<T>) -> Self {
        Streaming::from_messages(futures_util::stream::iter(messages))
    }
}

impl<T: Message> FromIterator<T> for Streaming<T> {
    fn from_iter<I: IntoIterator<Item = T>>(messages: I) -> Self {
        messages.into_iter().collect::<Vec<T>>().into()
    }
}

impl<T: Message> Stream for Streaming<T> {
    type Item = Result<T, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match &mut self.inner {
            Source::Local(s) => s.as_mut().poll_next(cx),
            Source::Wire(raw) => {
                let codec = raw.codec();
                match Pin::new(raw).poll_next(cx) {
                    Poll::Ready(Some(Ok(b))) => Poll::Ready(Some(codec.decode(b))),
                    Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
                    Poll::Ready(None) => Poll::Ready(None),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

/// A received stream sent on as it came: each message, still encoded (and decompressed),
/// is written out again unchanged, as a proxy passes a stream through without decoding it.
/// A failure of the stream ends the forwarded one with the same error.
impl super::body::EncodeStream for RawStreaming {
    fn poll_encode(
        &mut self,
        cx: &mut Context<'_>,
        dst: &mut bytes::BytesMut,
    ) -> Poll<Option<Result<(), Status>>> {
        match Pin::new(self).poll_next(cx) {
            Poll::Ready(Some(Ok(message))) => {
                dst.extend_from_slice(&message);
                Poll::Ready(Some(Ok(())))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Codec, Protocol, StreamType};

    fn client_stream(deadline: Option<Instant>) -> RawStreaming {
        let framing = Framing::for_client(
            Protocol::Grpc,
            StreamType::ServerStreaming,
            Codec::Proto,
            Encoding::Identity,
        );
        RawStreaming::new(
            Body::empty(),
            framing,
            Encoding::Identity,
            1024,
            Side::Client,
            deadline,
        )
    }

    /// A response that fails at or past the call's deadline failed for the deadline (the
    /// server reset the stream at its deadline, before our timer fired); before it, for
    /// the connection.
    #[tokio::test]
    async fn a_body_failure_past_the_deadline_is_the_deadline() {
        let failure = std::io::Error::other("stream no longer needed");
        let past = client_stream(Some(Instant::now()));
        assert_eq!(
            past.body_error(&failure).code(),
            crate::Code::DeadlineExceeded
        );
        let future = client_stream(Some(Instant::now() + std::time::Duration::from_secs(60)));
        assert_eq!(future.body_error(&failure).code(), crate::Code::Unavailable);
        let none = client_stream(None);
        assert_eq!(none.body_error(&failure).code(), crate::Code::Unavailable);
    }
}
