//! Trailers of a response stream, decided while it runs: a handle the producer of the
//! stream writes into until the stream ends, when the server reads it (as a gRPC server
//! can send trailers computed from the whole stream: a count, a checksum, a cursor).

use std::sync::{Arc, Mutex, PoisonError};

use http::header::IntoHeaderName;
use http::{HeaderMap, HeaderValue};

/// Trailers that a response stream's producer may still write until the stream ends.
/// Cheap to clone: every clone writes the same trailers.
///
/// Attach one to a streaming [`Response`](super::Response) with
/// [`Response::with_stream_trailers`](super::Response::with_stream_trailers), and move a
/// clone into the stream. The server reads it when the stream ends (successfully or with
/// an error) and sends what it holds after the response's own
/// [`trailers`](super::Response::trailers_mut). What is written later is not sent.
///
/// ```
/// use connect_plugin::rpc::{self, Idempotency, MethodDescriptor, StreamTrailers};
/// use connect_plugin::{Request, Response, Router, Status, StreamType};
/// use futures_util::StreamExt as _;
/// use http::HeaderValue;
///
/// const COUNT: MethodDescriptor = MethodDescriptor::new(
///     "/count.v1.Counter/Count",
///     StreamType::ServerStreaming,
///     Idempotency::Unknown,
/// );
///
/// let router = Router::new().route(
///     COUNT,
///     rpc::server_streaming(|req: Request<u32>| async move {
///         let n = req.into_inner();
///         let trailers = StreamTrailers::new();
///         let at_end = trailers.clone();
///         let numbers = futures_util::stream::iter(0..n).map(Ok::<_, Status>);
///         // Once the last number is out, say how many were sent.
///         let done = futures_util::stream::once(async move {
///             at_end.insert("x-sent", HeaderValue::from(n));
///             None
///         });
///         let stream = numbers.map(Some).chain(done).filter_map(std::future::ready);
///         Ok(Response::new(stream).with_stream_trailers(trailers))
///     }),
/// );
/// # let _ = router;
/// ```
#[derive(Clone, Default)]
pub struct StreamTrailers(Arc<Mutex<HeaderMap>>);

impl std::fmt::Debug for StreamTrailers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.with(|t| f.debug_tuple("StreamTrailers").field(t).finish())
    }
}

impl StreamTrailers {
    /// Empty trailers.
    pub fn new() -> Self {
        StreamTrailers::default()
    }

    /// Sets a trailer, replacing any value it had.
    pub fn insert(&self, name: impl IntoHeaderName, value: HeaderValue) {
        self.with(|t| {
            t.insert(name, value);
        });
    }

    /// Adds a value to a trailer, keeping those it had.
    pub fn append(&self, name: impl IntoHeaderName, value: HeaderValue) {
        self.with(|t| {
            t.append(name, value);
        });
    }

    /// Runs `f` on the trailers (to read them, or to change several at once).
    pub fn with<R>(&self, f: impl FnOnce(&mut HeaderMap) -> R) -> R {
        // A writer that panicked leaves the map whole (each change is one call), so the
        // trailers are still good to use.
        let mut guard = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }

    /// Appends what the trailers hold to `dst`, emptying them: the server, when the stream
    /// ends.
    pub(crate) fn drain_into(&self, dst: &mut HeaderMap) {
        let taken = self.with(std::mem::take);
        let mut name = None;
        for (k, v) in taken {
            if k.is_some() {
                name = k;
            }
            if let Some(n) = &name {
                dst.append(n.clone(), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_clone_writes_the_same_trailers_and_the_server_takes_them_once() {
        let trailers = StreamTrailers::new();
        let writer = trailers.clone();
        writer.insert("x-a", HeaderValue::from_static("1"));
        writer.append("x-b", HeaderValue::from_static("2"));
        writer.append("x-b", HeaderValue::from_static("3"));
        let mut dst = HeaderMap::new();
        dst.append("x-b", HeaderValue::from_static("0"));
        trailers.drain_into(&mut dst);
        assert_eq!(dst.get("x-a").unwrap(), "1");
        let b: Vec<_> = dst.get_all("x-b").iter().collect();
        assert_eq!(b, ["0", "2", "3"]);
        assert!(writer.with(|t| t.is_empty()));
    }
}
