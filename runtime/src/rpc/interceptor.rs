//! Interceptors: code that wraps calls on either side, for unary and streaming calls alike.
//! Each sees the call with its metadata and encoded messages, and decides whether and how
//! to pass it on through [`ServerNext`] / [`ClientNext`].
//!
//! Order: interceptors run in the order they were added, the first added outermost.

use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::call::{ClientCall, ClientOutput, ServerCall, ServerOutput};
use crate::protocol::Status;

/// Wraps calls. Both methods pass the call on unchanged unless overridden.
///
/// An interceptor sees each call once, with its headers, extensions and encoded messages,
/// and decides whether and how to pass it on (`next.run(call)`); it may answer itself
/// instead. Add it to a [`Router`](crate::Router) (server side) or a
/// [`Client`](crate::Client) (client side); a shared one is passed as an `Arc`.
///
/// # Example
///
/// A client interceptor that stamps every call, and a server one that refuses calls
/// without the stamp:
///
/// ```
/// use connect_plugin::rpc::{
///     ClientCall, ClientNext, ClientOutput, Interceptor, ServerCall, ServerNext, ServerOutput,
/// };
/// use connect_plugin::{Router, Status};
/// use futures_util::future::BoxFuture;
///
/// struct Stamp;
///
/// impl Interceptor for Stamp {
///     fn intercept_client<'a>(
///         &'a self,
///         mut call: ClientCall,
///         next: ClientNext<'a>,
///     ) -> BoxFuture<'a, Result<ClientOutput, Status>> {
///         call.headers.insert("x-stamp", http::HeaderValue::from_static("1"));
///         next.run(call)
///     }
///
///     fn intercept_server<'a>(
///         &'a self,
///         call: ServerCall,
///         next: ServerNext<'a>,
///     ) -> BoxFuture<'a, Result<ServerOutput, Status>> {
///         if call.headers.contains_key("x-stamp") {
///             next.run(call)
///         } else {
///             Box::pin(async { Err(Status::permission_denied("unstamped")) })
///         }
///     }
/// }
///
/// let router = Router::new().interceptor(Stamp);
/// # let _ = router;
/// ```
pub trait Interceptor: Send + Sync + 'static {
    /// Wraps a call received by a server.
    fn intercept_server<'a>(
        &'a self,
        call: ServerCall,
        next: ServerNext<'a>,
    ) -> BoxFuture<'a, Result<ServerOutput, Status>> {
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

/// A shared interceptor is an interceptor: `router.interceptor(limiter.clone())` with an
/// `Arc<RateLimit>`, or an `Arc<dyn Interceptor>` kept elsewhere, adds the same instance.
impl<T: Interceptor + ?Sized> Interceptor for Arc<T> {
    fn intercept_server<'a>(
        &'a self,
        call: ServerCall,
        next: ServerNext<'a>,
    ) -> BoxFuture<'a, Result<ServerOutput, Status>> {
        (**self).intercept_server(call, next)
    }

    fn intercept_client<'a>(
        &'a self,
        call: ClientCall,
        next: ClientNext<'a>,
    ) -> BoxFuture<'a, Result<ClientOutput, Status>> {
        (**self).intercept_client(call, next)
    }
}

/// `interceptor` as a chain keeps it (a router's, a client's): an `Arc<dyn Interceptor>` as it is (so its calls
/// go through one dynamic call, not two), anything else in a new `Arc`.
pub(crate) fn shared(interceptor: impl Interceptor) -> Arc<dyn Interceptor> {
    let mut slot = Some(interceptor);
    let any: &mut dyn std::any::Any = &mut slot;
    if let Some(arc) = any
        .downcast_mut::<Option<Arc<dyn Interceptor>>>()
        .and_then(Option::take)
    {
        return arc;
    }
    match slot {
        Some(interceptor) => Arc::new(interceptor),
        // Only the downcast above takes it out, and then it returned.
        None => unreachable!("the interceptor was taken as an Arc<dyn Interceptor>"),
    }
}

/// The end of a server chain: the method's handler.
pub trait Handler: Send + Sync + 'static {
    /// Runs the call.
    fn call(&self, call: ServerCall) -> BoxFuture<'static, Result<ServerOutput, Status>>;
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
    pub fn run(self, call: ServerCall) -> BoxFuture<'a, Result<ServerOutput, Status>> {
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
    root: &'a Arc<super::client::Inner>,
    pos: usize,
}

impl<'a> ClientNext<'a> {
    pub(crate) fn new(root: &'a Arc<super::client::Inner>) -> Self {
        ClientNext { root, pos: 0 }
    }

    /// Passes the call on.
    pub fn run(self, call: ClientCall) -> BoxFuture<'a, Result<ClientOutput, Status>> {
        match self.root.interceptors.get(self.pos) {
            Some(first) => first.intercept_client(
                call,
                ClientNext {
                    root: self.root,
                    pos: self.pos + 1,
                },
            ),
            None => self.root.send(call),
        }
    }

    /// An owned handle on the rest of the chain, for work that outlives this interceptor's
    /// future (a response stream that starts the call again).
    pub fn to_owned_next(&self) -> OwnedClientNext {
        OwnedClientNext {
            root: self.root.clone(),
            pos: self.pos,
        }
    }
}

/// The rest of a client chain, owned ([`ClientNext::to_owned_next`]).
#[derive(Clone)]
pub struct OwnedClientNext {
    root: Arc<super::client::Inner>,
    pos: usize,
}

impl std::fmt::Debug for OwnedClientNext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedClientNext")
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

impl OwnedClientNext {
    /// Passes a call on.
    pub fn run(&self, call: ClientCall) -> BoxFuture<'static, Result<ClientOutput, Status>> {
        let root = self.root.clone();
        let pos = self.pos;
        Box::pin(async move { ClientNext { root: &root, pos }.run(call).await })
    }
}
