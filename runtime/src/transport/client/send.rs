//! Request pumping: starting a request (on the HTTP/1.1 pool, or queued on the HTTP/2
//! connection with its body), waiting for its response, pumping a streamed body, and
//! resending once a request that provably never left.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::FutureExt as _;

use super::Channel;
use super::http1::h1_error;
use super::http2::{H2Conn, H2Sender, strip_connection_headers};
use crate::protocol::Status;
use crate::transport::body::Body;

impl Channel {
    /// Sends one request.
    pub async fn send(&self, req: http::Request<Body>) -> Result<http::Response<Body>, Status> {
        self.wait(self.start(req)).await
    }

    /// [`Channel::send`], with the request started when the future is made: the future
    /// then holds only what the wait for the response needs (every call moves it, and
    /// behind interceptors allocates it).
    pub(crate) fn send_started(
        &self,
        req: http::Request<Body>,
    ) -> impl Future<Output = Result<http::Response<Body>, Status>> + Send + '_ {
        self.wait(self.start(req))
    }

    /// Waits for the response to a started request.
    async fn wait(&self, start: Start) -> Result<http::Response<Body>, Status> {
        match start {
            Start::Sent(sent) => self.answer(sent).await,
            Start::H1(response) => response
                .await
                .map(|r| r.map(Body::incoming))
                .map_err(h1_error),
            Start::Connect(unsent) => {
                let (head, body) = *unsent;
                Box::pin(self.send_fresh(head, body)).await
            }
            Start::Failed(status) => Err(status),
        }
    }

    /// The response to a request queued on an HTTP/2 connection. A request that provably
    /// never left (the connection wrote nothing since it was queued: it was found closed or
    /// reset first) is sent once more on a fresh connection if it kept a copy to send
    /// (complete and not resent already): nothing of it was read, so this is safe for every
    /// method. Otherwise (a streamed body may have been read from) that failure goes back
    /// as unprocessed and the caller decides.
    async fn answer(&self, sent: Sent) -> Result<http::Response<Body>, Status> {
        let Sent {
            conn,
            response,
            guard,
            written,
            copy,
        } = sent;
        match response.await {
            Ok(resp) => Ok(resp.map(|stream| Body::h2(stream, guard))),
            Err(e) => match self.speaks_http1(&conn, true) {
                Some(st) => {
                    self.forget(&conn);
                    Err(st)
                }
                // Out of line: the future every call awaits stays small.
                None => Box::pin(self.failed(conn, e, written, copy)).await,
            },
        }
    }

    /// A request on `conn` failed with `e`: sent once more if it never left and a copy was
    /// kept, else the failure.
    async fn failed(
        &self,
        conn: Arc<H2Conn>,
        e: h2::Error,
        written: u64,
        copy: Option<Box<(http::Request<()>, Outgoing)>>,
    ) -> Result<http::Response<Body>, Status> {
        match e {
            e if conn.writes.load(Ordering::Relaxed) == written => {
                self.forget(&conn);
                match copy {
                    Some(copy) => {
                        let (head, body) = *copy;
                        Box::pin(self.resend(head, body)).await
                    }
                    None => Err(self.explain(&conn, send_error_status(&e).into_unprocessed())),
                }
            }
            e => Err(self.explain(&conn, send_error_status(&e))),
        }
    }

    /// Starts sending `req` without waiting: on HTTP/1.1, hands it to the pool; on HTTP/2,
    /// queues it on the cached connection when that has room for another stream (the usual
    /// case), else gives it back for [`Channel::send_fresh`].
    fn start(&self, req: http::Request<Body>) -> Start {
        if let Some(client) = &self.inner.h1 {
            return Start::H1(client.request(req));
        }
        let (parts, body) = req.into_parts();
        let mut head = http::Request::from_parts(parts, ());
        strip_connection_headers(head.headers_mut());
        let body = match body.into_complete() {
            Ok((data, trailers)) => Outgoing::Complete(data, trailers),
            Err(body) => Outgoing::Stream(body),
        };
        let Some(conn) = self.cached() else {
            return Start::Connect(Box::new((head, body)));
        };
        let sender = match conn.sender.clone().ready().now_or_never() {
            Some(Ok(sender)) => sender,
            Some(Err(e)) => {
                tracing::debug!(error = %e, "HTTP/2 connection unusable, reconnecting");
                self.forget(&conn);
                return Start::Connect(Box::new((head, body)));
            }
            // At its limit of concurrent streams: wait for room, out of line.
            None => return Start::Connect(Box::new((head, body))),
        };
        match send_on(conn, sender, head, body, true) {
            Ok(sent) => Start::Sent(sent),
            Err(status) => Start::Failed(status),
        }
    }

    /// Sends a request on a connection made (or found ready) for it, once more on a fresh
    /// one if it never left.
    async fn send_fresh(
        &self,
        head: http::Request<()>,
        body: Outgoing,
    ) -> Result<http::Response<Body>, Status> {
        let (conn, sender) = self.ready_sender().await?;
        self.answer(send_on(conn, sender, head, body, true)?).await
    }

    /// Sends a request that never left on a fresh connection, once.
    async fn resend(
        &self,
        head: http::Request<()>,
        body: Outgoing,
    ) -> Result<http::Response<Body>, Status> {
        let (conn, sender) = self.ready_sender().await?;
        self.answer(send_on(conn, sender, head, body, false)?).await
    }
}

/// A copy of a request head for h2 (which reads the method, URI and headers only).
fn copy_head(head: &http::Request<()>) -> http::Request<()> {
    let mut copy = http::Request::new(());
    *copy.method_mut() = head.method().clone();
    *copy.uri_mut() = head.uri().clone();
    *copy.headers_mut() = head.headers().clone();
    copy
}

/// How [`Channel::start`] left a request.
enum Start {
    /// With the HTTP/1.1 pool.
    H1(hyper_util::client::legacy::ResponseFuture),
    /// Queued on an HTTP/2 connection.
    Sent(Sent),
    /// Not sent: it needs a new connection, or room on the cached one.
    Connect(Box<(http::Request<()>, Outgoing)>),
    /// Refused before it left.
    Failed(Status),
}

/// A request queued on an HTTP/2 connection.
struct Sent {
    conn: Arc<H2Conn>,
    response: h2::client::ResponseFuture,
    guard: Option<tokio::sync::oneshot::Sender<()>>,
    /// The connection's write count when the request was queued.
    written: u64,
    /// What it takes to send a complete request once more, should the connection turn out
    /// to have been dead before it left: cheap next to a call (the header values and body
    /// are shared, not copied), and boxed, so that the future waiting for the response
    /// stays small.
    copy: Option<Box<(http::Request<()>, Outgoing)>>,
}

/// Queues a request on a ready sender of `conn`, keeping a copy to send it again with if
/// `resendable` and the body is complete.
fn send_on(
    conn: Arc<H2Conn>,
    sender: H2Sender,
    head: http::Request<()>,
    body: Outgoing,
    resendable: bool,
) -> Result<Sent, Status> {
    let copy = match &body {
        Outgoing::Complete(data, trailers) if resendable => Some(Box::new((
            copy_head(&head),
            Outgoing::Complete(data.clone(), trailers.clone()),
        ))),
        _ => None,
    };
    let written = conn.writes.load(Ordering::Relaxed);
    let (response, guard) = start_request(sender, head, body)?;
    Ok(Sent {
        conn,
        response,
        guard,
        written,
        copy,
    })
}

/// A request body as the HTTP/2 client sends it.
enum Outgoing {
    /// Complete already (every unary call): data and trailers, if any.
    Complete(Option<Bytes>, Option<http::HeaderMap>),
    /// Streamed.
    Stream(Body),
}

/// Starts a request on a ready sender. A complete body goes out with its headers, in the
/// same write; a streamed one is sent by a task of its own, which stops, and cancels the
/// stream, when the returned guard is dropped (with the response body).
fn start_request(
    mut sender: H2Sender,
    mut head: http::Request<()>,
    body: Outgoing,
) -> Result<
    (
        h2::client::ResponseFuture,
        Option<tokio::sync::oneshot::Sender<()>>,
    ),
    Status,
> {
    let not_sent = |e: h2::Error| {
        // h2's own errors carry a reason or an I/O error; the rest are misuses (such as a
        // malformed header), which no retry mends.
        if e.reason().is_none() && !e.is_io() {
            Status::internal(format!("cannot send the request: {e}"))
        } else {
            // It never left: whoever retries unprocessed calls may send it again.
            Status::unavailable(format!("request failed: {e}")).into_unprocessed()
        }
    };
    match body {
        Outgoing::Complete(data, trailers) => {
            // The length, as hyper gives it: of a body without trailers, and for an empty one
            // only where the method defines a body.
            let len = data.as_ref().map_or(0, Bytes::len);
            let method = head.method();
            let payload = len > 0
                || !matches!(
                    *method,
                    http::Method::GET
                        | http::Method::HEAD
                        | http::Method::DELETE
                        | http::Method::CONNECT
                );
            if trailers.is_none()
                && payload
                && !head.headers().contains_key(http::header::CONTENT_LENGTH)
            {
                head.headers_mut()
                    .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(len));
            }
            let end = data.is_none() && trailers.is_none();
            let (response, mut stream) = sender.send_request(head, end).map_err(not_sent)?;
            // Errors past this point come out of `response`: the stream was reset or the
            // connection failed.
            if let Some(data) = data {
                let _ = stream.send_data(data, trailers.is_none());
            }
            if let Some(trailers) = trailers {
                let _ = stream.send_trailers(trailers);
            }
            Ok((response, None))
        }
        Outgoing::Stream(body) => {
            let end = http_body::Body::is_end_stream(&body);
            let (response, stream) = sender.send_request(head, end).map_err(not_sent)?;
            if end {
                return Ok((response, None));
            }
            let (guard, stop) = tokio::sync::oneshot::channel();
            tokio::spawn(pump(stream, body, stop));
            Ok((response, Some(guard)))
        }
    }
}

/// Why the pump of a request body stops early.
fn stopped(
    stream: &mut h2::SendStream<Bytes>,
    stop: &mut tokio::sync::oneshot::Receiver<()>,
    cx: &mut Context<'_>,
) -> bool {
    // The guard is never sent on, only dropped: ready means the response is gone.
    Pin::new(stop).poll(cx).is_ready() || stream.poll_reset(cx).is_ready()
}

/// Sends a streamed request body: its data as HTTP/2 flow control allows, then its end or
/// trailers. A failing body resets the stream with CANCEL (the server sees the call
/// cancelled); so does dropping the response (`stop`). A reset by the server ends it quietly.
async fn pump(
    mut stream: h2::SendStream<Bytes>,
    mut body: Body,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    use http_body::Body as _;
    loop {
        let frame = std::future::poll_fn(|cx| {
            if stopped(&mut stream, &mut stop, cx) {
                return Poll::Ready(None);
            }
            Pin::new(&mut body).poll_frame(cx).map(Some)
        })
        .await;
        let frame = match frame {
            None => break stream.send_reset(h2::Reason::CANCEL),
            Some(None) => {
                let _ = stream.send_data(Bytes::new(), true);
                return;
            }
            Some(Some(Err(e))) => {
                tracing::debug!(error = %e, "the request body failed; cancelling the call");
                break stream.send_reset(h2::Reason::CANCEL);
            }
            Some(Some(Ok(frame))) => frame,
        };
        let mut data = match frame.into_data() {
            Ok(data) => data,
            Err(frame) => {
                if let Ok(trailers) = frame.into_trailers() {
                    let _ = stream.send_trailers(trailers);
                    return;
                }
                continue;
            }
        };
        let end = body.is_end_stream();
        if data.is_empty() && !end {
            continue;
        }
        // Send it as the peer's window allows: h2 would buffer it all otherwise.
        loop {
            let want = data.len();
            if want == 0 {
                if end {
                    let _ = stream.send_data(data, true);
                    return;
                }
                break;
            }
            stream.reserve_capacity(want);
            let granted = std::future::poll_fn(|cx| {
                if stopped(&mut stream, &mut stop, cx) {
                    return Poll::Ready(None);
                }
                let now = stream.capacity();
                if now > 0 {
                    return Poll::Ready(Some(now));
                }
                match stream.poll_capacity(cx) {
                    Poll::Ready(Some(Ok(n))) => Poll::Ready(Some(n)),
                    Poll::Ready(Some(Err(_)) | None) => Poll::Ready(None),
                    Poll::Pending => Poll::Pending,
                }
            })
            .await;
            let Some(granted) = granted else {
                return stream.send_reset(h2::Reason::CANCEL);
            };
            if granted == 0 {
                continue;
            }
            let chunk = data.split_to(granted.min(want));
            let last = data.is_empty() && end;
            if stream.send_data(chunk, last).is_err() {
                return;
            }
            if last {
                return;
            }
        }
    }
}

/// The status of a request that failed after it was handed to the connection: unprocessed
/// when the server refused the stream (HTTP/2 `REFUSED_STREAM`: it never reached a handler).
fn send_error_status(e: &h2::Error) -> Status {
    let st = Status::unavailable(format!("request failed: {e}"));
    if e.reason() == Some(h2::Reason::REFUSED_STREAM) {
        st.into_unprocessed()
    } else {
        st
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A bare HTTP/2 server answering every request with the request's body. Its first
    /// connection serves one request, then closes without a GOAWAY (as a crashed peer's
    /// would) and notifies `closed`. Counts the connections.
    async fn flaky_server() -> (
        String,
        Arc<std::sync::atomic::AtomicUsize>,
        Arc<tokio::sync::Notify>,
    ) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let closed = Arc::new(tokio::sync::Notify::new());
        let (count, notify) = (accepted.clone(), closed.clone());
        tokio::spawn(async move {
            while let Ok((io, _)) = listener.accept().await {
                let first = count.fetch_add(1, Ordering::SeqCst) == 0;
                let notify = notify.clone();
                tokio::spawn(async move {
                    let mut conn = h2::server::handshake(io).await.unwrap();
                    while let Some(Ok((req, respond))) = conn.accept().await {
                        let echo = tokio::spawn(echo(req, respond));
                        if first {
                            // Flush the answer, then go.
                            let _ = echo.await;
                            let _ = tokio::time::timeout(Duration::from_millis(50), conn.accept())
                                .await;
                            drop(conn);
                            notify.notify_one();
                            return;
                        }
                    }
                });
            }
        });
        (url, accepted, closed)
    }

    async fn echo(
        req: http::Request<h2::RecvStream>,
        mut respond: h2::server::SendResponse<Bytes>,
    ) {
        let mut body = req.into_body();
        let mut all = Vec::new();
        while let Some(Ok(d)) = body.data().await {
            let _ = body.flow_control().release_capacity(d.len());
            all.extend_from_slice(&d);
        }
        let mut tx = respond
            .send_response(http::Response::new(()), false)
            .unwrap();
        let _ = tx.send_data(all.into(), true);
    }

    async fn read_all(resp: http::Response<Body>) -> Vec<u8> {
        use http_body_util::BodyExt as _;
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec()
    }

    #[tokio::test]
    async fn a_request_on_a_closed_connection_goes_out_again_on_a_fresh_one() {
        let (url, accepted, closed) = flaky_server().await;
        let channel = Channel::builder(&url).unwrap().build();
        let uri = channel.uri_for("/a.B/C", None).unwrap();
        let call = |text: &'static str| {
            let req = http::Request::post(uri.clone())
                .body(Body::full(text))
                .unwrap();
            let channel = channel.clone();
            async move { read_all(channel.send(req).await.unwrap()).await }
        };
        assert_eq!(call("one").await, b"one");
        closed.notified().await;
        // The cached connection is closed (whether the channel noticed yet or not): the call
        // goes out on a fresh one, with no retry policy in sight.
        assert_eq!(call("two").await, b"two");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);

        // A streamed body, large enough to wait for flow control, arrives whole.
        let chunks: Vec<Result<http_body::Frame<Bytes>, BoxErr>> = (0..64u8)
            .map(|i| Ok(http_body::Frame::data(Bytes::from(vec![i; 64 * 1024]))))
            .collect();
        let body = http_body_util::StreamBody::new(futures_util::stream::iter(chunks));
        let req = http::Request::post(uri.clone())
            .body(Body::new(body))
            .unwrap();
        let got = read_all(channel.send(req).await.unwrap()).await;
        assert_eq!(got.len(), 64 * 64 * 1024);
        assert!(
            got.chunks(64 * 1024)
                .enumerate()
                .all(|(i, c)| c.iter().all(|&b| b == i as u8))
        );
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            2,
            "one connection serves both"
        );
    }

    type BoxErr = crate::transport::body::BoxError;

    #[tokio::test]
    async fn dropping_the_response_cancels_a_streamed_request() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let (io, _) = listener.accept().await.unwrap();
            let mut conn = h2::server::handshake(io).await.unwrap();
            let Some(Ok((req, mut respond))) = conn.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let _tx = respond
                    .send_response(http::Response::new(()), false)
                    .unwrap();
                let mut body = req.into_body();
                // What the server reads: the first message, then how the stream ends.
                while let Some(d) = body.data().await {
                    let failed = d.is_err();
                    let _ = seen_tx.send(d.map(|d| d.len()).map_err(|e| e.reason()));
                    if failed {
                        break;
                    }
                }
            });
            while conn.accept().await.is_some() {}
        });
        let channel = Channel::builder(&url).unwrap().build();
        // A request stream that sends one message and then never ends.
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
        let frames = futures_util::stream::unfold(rx, |mut rx| async move {
            let d = rx.recv().await?;
            Some((Ok::<_, BoxErr>(http_body::Frame::data(d)), rx))
        });
        tx.send(Bytes::from_static(b"hello")).unwrap();
        let req = http::Request::post(channel.uri_for("/a.B/C", None).unwrap())
            .body(Body::new(http_body_util::StreamBody::new(frames)))
            .unwrap();
        let resp = channel.send(req).await.unwrap();
        assert_eq!(seen.recv().await, Some(Ok(5)));
        drop(resp);
        let end = tokio::time::timeout(Duration::from_secs(5), seen.recv())
            .await
            .expect("the server sees the stream end");
        assert_eq!(end, Some(Err(Some(h2::Reason::CANCEL))));
        drop(tx);
    }
}
