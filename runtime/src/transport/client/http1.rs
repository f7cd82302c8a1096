//! HTTP/1.1: a pool of connections (hyper-util's), each dialed as the channel's target.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};

use super::dial::Target;
use crate::protocol::Status;
use crate::transport::body::Body;
use crate::transport::io::Io;

/// The HTTP/1.1 pool of a channel.
pub(super) type Pool = hyper_util::client::legacy::Client<Connector, Body>;

/// A pool of HTTP/1.1 connections to `target`, closed after 90 s idle.
pub(super) fn pool(target: Target, timeout: Duration) -> Pool {
    hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_timer(TokioTimer::new())
        .build(Connector { target, timeout })
}

/// The connector of the HTTP/1.1 pool.
#[derive(Clone)]
pub(super) struct Connector {
    target: Target,
    timeout: Duration,
}

impl tower_service::Service<Uri> for Connector {
    type Response = TokioIo<Io>;
    type Error = Status;
    type Future = Pin<Box<dyn Future<Output = Result<TokioIo<Io>, Status>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let target = self.target.clone();
        let timeout = self.timeout;
        Box::pin(async move { target.connect(timeout).await.map(TokioIo::new) })
    }
}

/// The status of a failed HTTP/1.1 request.
pub(super) fn h1_error(e: hyper_util::client::legacy::Error) -> Status {
    let st = Status::unavailable(format!("HTTP/1.1 request failed: {e}"));
    tracing::debug!(error = ?e, "request failed");
    // The pool gives a request back unsent only on connect errors.
    if e.is_connect() {
        st.into_unprocessed()
    } else {
        st
    }
}
