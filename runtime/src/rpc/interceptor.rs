//! Interceptors: code that wraps calls on either side, for unary and streaming calls alike.
//! Each sees the call with its metadata and encoded messages, and decides whether and how
//! to pass it on through [`ServerNext`] / [`ClientNext`].
//!
//! Order: interceptors run in the order they were added, the first added outermost.

use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::call::{CallOutput, ClientCall, ClientOutput, ServerCall};
use super::message::PeerAddr;
use crate::protocol::Status;

/// Wraps calls. Both methods pass the call on unchanged unless overridden.
pub trait Interceptor: Send + Sync + 'static {
    /// Wraps a call received by a server.
    fn intercept_server<'a>(
        &'a self,
        call: ServerCall,
        next: ServerNext<'a>,
    ) -> BoxFuture<'a, Result<CallOutput, Status>> {
        next.run(call)
    }

    /// Wraps a call made by a client.
    fn intercept_client<'a>(
        &'a self,
        call: ClientCall,
        next: ClientNext<'a>,
    ) -> BoxFuture<'a, Result<ClientOutput, Status>> {
        next.run(call)
    }
}

/// The end of a server chain: the method's handler.
pub trait Handler: Send + Sync + 'static {
    /// Runs the call.
    fn call(&self, call: ServerCall) -> BoxFuture<'static, Result<CallOutput, Status>>;

    /// Runs a call that came from `peer` and reaches the handler directly (no interceptors).
    /// The default puts the peer into the call's extensions and runs [`Handler::call`]; the
    /// runtime's typed handlers instead give it to the request, which adds it to its
    /// extensions only when they are looked at (saving allocations on every call).
    fn call_from(
        &self,
        mut call: ServerCall,
        peer: PeerAddr,
    ) -> BoxFuture<'static, Result<CallOutput, Status>> {
        call.extensions.insert(peer);
        self.call(call)
    }
}

/// The end of a client chain: the transport.
pub trait ClientTransport: Send + Sync + 'static {
    /// Sends the call and returns the response.
    fn send(&self, call: ClientCall) -> BoxFuture<'_, Result<ClientOutput, Status>>;
}

/// The rest of a server chain.
pub struct ServerNext<'a> {
    rest: &'a [Arc<dyn Interceptor>],
    handler: &'a dyn Handler,
}

impl<'a> ServerNext<'a> {
    pub(crate) fn new(rest: &'a [Arc<dyn Interceptor>], handler: &'a dyn Handler) -> Self {
        ServerNext { rest, handler }
    }

    /// Passes the call on.
    pub fn run(self, call: ServerCall) -> BoxFuture<'a, Result<CallOutput, Status>> {
        match self.rest.split_first() {
            Some((first, rest)) => {
                first.intercept_server(call, ServerNext::new(rest, self.handler))
            }
            None => self.handler.call(call),
        }
    }
}

/// The rest of a client chain. `Copy`: an interceptor may pass a call on more than once
/// (a retry).
#[derive(Clone, Copy)]
pub struct ClientNext<'a> {
    rest: &'a [Arc<dyn Interceptor>],
    transport: &'a dyn ClientTransport,
}

impl<'a> ClientNext<'a> {
    pub(crate) fn new(
        rest: &'a [Arc<dyn Interceptor>],
        transport: &'a dyn ClientTransport,
    ) -> Self {
        ClientNext { rest, transport }
    }

    /// Passes the call on.
    pub fn run(self, call: ClientCall) -> BoxFuture<'a, Result<ClientOutput, Status>> {
        match self.rest.split_first() {
            Some((first, rest)) => {
                first.intercept_client(call, ClientNext::new(rest, self.transport))
            }
            None => self.transport.send(call),
        }
    }
}
