//! The router: mounts handlers by path and serves them over Connect, gRPC and gRPC-Web. It
//! is a `tower::Service`, so it can be served by this crate's transport or sit inside an
//! axum (or any tower-based) application.
//!
//! This file holds the route table and the [`Router`] built on it; `router/handle.rs`
//! serves one call (negotiation, reading the request, running the chain, writing the
//! response).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;

use super::body::{Body, BoxError};
use super::call::MethodDescriptor;
use super::interceptor::{Handler, Interceptor, shared};
use crate::transport::Connection;

/// Default limit on the size of one received message, compressed or not: 4 MiB (as tonic's
/// `max_decoding_message_size` and gRPC's receive limit).
pub const DEFAULT_MAX_RECEIVE_MESSAGE_SIZE: usize = 4 * 1024 * 1024;
/// Default limit on the size of one sent message: none (as tonic's
/// `max_encoding_message_size`). A peer protects itself with its own receive limit.
pub const DEFAULT_MAX_SEND_MESSAGE_SIZE: usize = usize::MAX;
/// Default size below which messages are sent uncompressed: 1 KiB.
pub const DEFAULT_COMPRESS_MIN_BYTES: usize = 1024;

mod handle;

pub(crate) use handle::collect_limited;

#[derive(Clone)]
struct Route {
    method: MethodDescriptor,
    handler: Arc<dyn Handler>,
}

/// Hashes route paths a word at a time (FxHash's mixing). The route table is fixed before
/// serving, so callers cannot flood it with colliding keys, and SipHash's protection is not
/// needed on this per-request lookup.
#[derive(Default, Clone, Copy)]
struct PathHasher(u64);

impl std::hash::Hasher for PathHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mix = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = mix(self.0, u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.0 = mix(self.0, u64::from_le_bytes(w));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Routes = HashMap<Box<str>, Route, std::hash::BuildHasherDefault<PathHasher>>;

#[derive(Clone)]
struct Inner {
    routes: Routes,
    /// Asked for paths no route is mounted at.
    fallback: Option<Arc<dyn super::resolve::Resolve>>,
    interceptors: Vec<Arc<dyn Interceptor>>,
    max_receive_message_size: usize,
    max_send_message_size: usize,
    compress_min_bytes: usize,
}

/// Routes calls to handlers by path: one handler a path, so mounting a second one is
/// refused ([`Router::route`] and [`Router::merge`] panic, [`Router::try_merge`] returns a
/// [`RouteConflict`]), never a silent replacement.
#[derive(Clone)]
pub struct Router {
    inner: Arc<Inner>,
}

impl Default for Router {
    fn default() -> Self {
        Router::new()
    }
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut paths: Vec<_> = self.inner.routes.keys().collect();
        paths.sort();
        f.debug_struct("Router").field("routes", &paths).finish()
    }
}

/// Two handlers for one path: [`Router::try_merge`] returns it; [`Router::route`] and
/// [`Router::merge`] panic with its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("route conflict: a handler is already mounted at {}", .paths.join(", "))]
pub struct RouteConflict {
    paths: Vec<String>,
}

impl RouteConflict {
    fn at(paths: Vec<String>) -> Self {
        RouteConflict { paths }
    }

    /// The paths served twice, sorted.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }
}

impl Router {
    /// An empty router with default limits.
    pub fn new() -> Self {
        Router {
            inner: Arc::new(Inner {
                routes: Routes::default(),
                fallback: None,
                interceptors: Vec::new(),
                max_receive_message_size: DEFAULT_MAX_RECEIVE_MESSAGE_SIZE,
                max_send_message_size: DEFAULT_MAX_SEND_MESSAGE_SIZE,
                compress_min_bytes: DEFAULT_COMPRESS_MIN_BYTES,
            }),
        }
    }

    fn inner_mut(&mut self) -> &mut Inner {
        Arc::make_mut(&mut self.inner)
    }

    /// Mounts `handler` for `method`.
    ///
    /// # Panics
    ///
    /// If a handler is already mounted at the method's path: a route is never replaced
    /// silently. The panic names the path and points at the caller. For routes assembled
    /// at run time, build a router per part and join them with [`Router::try_merge`].
    ///
    /// ```
    /// use connect_plugin::rpc::{self, Idempotency, MethodDescriptor};
    /// use connect_plugin::{Request, Response, Router, StreamType};
    ///
    /// const GREET: MethodDescriptor = MethodDescriptor::new(
    ///     "/greet.v1.Greeter/Greet",
    ///     StreamType::Unary,
    ///     Idempotency::Unknown,
    /// );
    ///
    /// let router = Router::new().route(
    ///     GREET,
    ///     rpc::unary(|req: Request<String>| async move {
    ///         Ok(Response::new(format!("hello, {}", req.into_inner())))
    ///     }),
    /// );
    /// assert_eq!(router.paths().collect::<Vec<_>>(), ["/greet.v1.Greeter/Greet"]);
    /// ```
    #[track_caller]
    pub fn route(mut self, method: MethodDescriptor, handler: Arc<dyn Handler>) -> Self {
        match self.inner_mut().routes.entry(method.path.into()) {
            Entry::Occupied(taken) => panic!(
                "{} (Router::route mounts each path once)",
                RouteConflict::at(vec![taken.key().to_string()])
            ),
            Entry::Vacant(free) => {
                free.insert(Route { method, handler });
            }
        }
        self
    }

    /// Adds every route of `other` (its routes only: `other`'s interceptors and limits are
    /// not taken; this router's apply to every call).
    ///
    /// # Panics
    ///
    /// If both routers serve a path, naming the paths and pointing at the caller. A router
    /// assembled at run time (plugins chosen by configuration) uses [`Router::try_merge`],
    /// which returns the conflict as an error instead.
    ///
    /// ```
    /// use connect_plugin::rpc::{self, Idempotency, MethodDescriptor};
    /// use connect_plugin::{Request, Response, Router, StreamType};
    ///
    /// const PING: MethodDescriptor =
    ///     MethodDescriptor::new("/ping.v1.Ping/Ping", StreamType::Unary, Idempotency::Unknown);
    /// const ECHO: MethodDescriptor =
    ///     MethodDescriptor::new("/echo.v1.Echo/Echo", StreamType::Unary, Idempotency::Unknown);
    ///
    /// let pong = rpc::unary(|_: Request<()>| async { Ok(Response::new(())) });
    /// let echo = rpc::unary(|req: Request<String>| async move {
    ///     Ok(Response::new(req.into_inner()))
    /// });
    /// let both = Router::new()
    ///     .route(PING, pong)
    ///     .merge(Router::new().route(ECHO, echo));
    /// assert_eq!(both.paths().count(), 2);
    /// ```
    #[track_caller]
    pub fn merge(mut self, other: Router) -> Self {
        if let Err(conflict) = self.try_merge(other) {
            panic!(
                "{conflict} (Router::merge replaces no route; Router::try_merge returns the \
                 conflict as an error)"
            );
        }
        self
    }

    /// Adds every route of `other`, as [`Router::merge`] does, or refuses them all if a path
    /// of `other` is served here already: the error names every such path, and this router
    /// is left as it was, so a host assembling routes at run time can refuse one part and
    /// keep the rest.
    ///
    /// ```
    /// use connect_plugin::rpc::{self, Idempotency, MethodDescriptor};
    /// use connect_plugin::{Request, Response, Router, StreamType};
    ///
    /// const PING: MethodDescriptor =
    ///     MethodDescriptor::new("/ping.v1.Ping/Ping", StreamType::Unary, Idempotency::Unknown);
    /// let ping = || {
    ///     let pong = rpc::unary(|_: Request<()>| async { Ok(Response::new(())) });
    ///     Router::new().route(PING, pong)
    /// };
    ///
    /// let mut router = ping();
    /// let conflict = router.try_merge(ping()).unwrap_err();
    /// assert_eq!(conflict.paths(), ["/ping.v1.Ping/Ping"]);
    /// assert_eq!(
    ///     conflict.to_string(),
    ///     "route conflict: a handler is already mounted at /ping.v1.Ping/Ping"
    /// );
    /// assert_eq!(router.paths().count(), 1);
    /// ```
    pub fn try_merge(&mut self, other: Router) -> Result<(), RouteConflict> {
        let mut taken: Vec<String> = other
            .inner
            .routes
            .keys()
            .filter(|path| self.inner.routes.contains_key(*path))
            .map(|path| path.to_string())
            .collect();
        if !taken.is_empty() {
            taken.sort_unstable();
            return Err(RouteConflict::at(taken));
        }
        let routes = other.inner.routes.clone();
        self.inner_mut().routes.extend(routes);
        Ok(())
    }

    /// Serves the paths no route is mounted at through `resolver`, which finds their method
    /// and handler at call time (a proxy's routes); the router's interceptors and limits
    /// apply to them as to any route. Replaces an earlier fallback; [`Router::merge`] takes
    /// no fallback from the other router.
    ///
    /// See [`Resolve`](super::Resolve) for an example.
    pub fn fallback(mut self, resolver: impl super::resolve::Resolve) -> Self {
        self.inner_mut().fallback = Some(Arc::new(resolver));
        self
    }

    /// Adds an interceptor around every call; the first added runs outermost. A shared one
    /// (an `Arc<RateLimit>` kept to read later, an `Arc<dyn Interceptor>` from a list) is
    /// passed the same way, and an `Arc<dyn Interceptor>` is kept as it is, not wrapped
    /// again.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use connect_plugin::codegen::BoxFuture;
    /// use connect_plugin::rpc::{ServerOutput, Interceptor, ServerCall, ServerNext};
    /// use connect_plugin::{Router, Status};
    ///
    /// /// Logs the path of every call.
    /// struct Log;
    ///
    /// impl Interceptor for Log {
    ///     fn intercept_server<'a>(
    ///         &'a self,
    ///         call: ServerCall,
    ///         next: ServerNext<'a>,
    ///     ) -> BoxFuture<'a, Result<ServerOutput, Status>> {
    ///         println!("call to {}", call.method.path);
    ///         next.run(call)
    ///     }
    /// }
    ///
    /// let shared: Arc<dyn Interceptor> = Arc::new(Log);
    /// let router = Router::new().interceptor(Log).interceptor(shared.clone());
    /// # let _ = router;
    /// ```
    pub fn interceptor(mut self, interceptor: impl Interceptor) -> Self {
        self.inner_mut().interceptors.push(shared(interceptor));
        self
    }

    /// Sets the limit on one request message, before and after decompression (default
    /// [`DEFAULT_MAX_RECEIVE_MESSAGE_SIZE`], 4 MiB). A larger message is refused with
    /// `resource_exhausted` without being buffered whole.
    ///
    /// It limits only what the router receives: responses are held to
    /// [`Router::max_send_message_size`], so a handler may answer a request at the limit
    /// with a bigger message (an echo that adds a field, say).
    ///
    /// ```
    /// use connect_plugin::Router;
    ///
    /// // Requests up to 200 KiB, responses up to 1 MiB.
    /// let router = Router::new()
    ///     .max_receive_message_size(200 * 1024)
    ///     .max_send_message_size(1024 * 1024);
    /// # let _ = router;
    /// ```
    pub fn max_receive_message_size(mut self, bytes: usize) -> Self {
        self.inner_mut().max_receive_message_size = bytes;
        self
    }

    /// Sets the limit on one response message, measured before compression (default
    /// [`DEFAULT_MAX_SEND_MESSAGE_SIZE`]: none). A handler's larger message is not sent:
    /// a unary call fails with `resource_exhausted`, a stream ends with it.
    ///
    /// ```
    /// use connect_plugin::Router;
    ///
    /// let router = Router::new().max_send_message_size(4 * 1024 * 1024);
    /// # let _ = router;
    /// ```
    pub fn max_send_message_size(mut self, bytes: usize) -> Self {
        self.inner_mut().max_send_message_size = bytes;
        self
    }

    /// Sets the size below which responses are not compressed (default 1 KiB).
    pub fn compress_min_bytes(mut self, bytes: usize) -> Self {
        self.inner_mut().compress_min_bytes = bytes;
        self
    }

    /// The mounted paths.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.inner.routes.keys().map(|k| &**k)
    }

    /// The methods mounted (not those a [fallback](Router::fallback) resolves): what a
    /// plugin registers with its host, for instance.
    ///
    /// ```
    /// use connect_plugin::pb::grpc::health::v1::{HEALTH_CHECK, health_router};
    /// # use connect_plugin::pb::grpc::health::v1 as hv1;
    /// # struct Up;
    /// # #[connect_plugin::async_trait]
    /// # impl hv1::Health for Up {
    /// #     async fn check(&self, _: connect_plugin::Request<hv1::HealthCheckRequest>) -> Result<connect_plugin::Response<hv1::HealthCheckResponse>, connect_plugin::Status> { unimplemented!() }
    /// #     async fn watch(&self, _: connect_plugin::Request<hv1::HealthCheckRequest>) -> Result<connect_plugin::Response<connect_plugin::Streaming<hv1::HealthCheckResponse>>, connect_plugin::Status> { unimplemented!() }
    /// # }
    /// let router = health_router(std::sync::Arc::new(Up));
    /// assert!(router.methods().any(|m| *m == HEALTH_CHECK));
    /// ```
    pub fn methods(&self) -> impl Iterator<Item = &MethodDescriptor> {
        self.inner.routes.values().map(|r| &r.method)
    }

    /// Serves one HTTP request.
    pub async fn handle<B>(&self, req: http::Request<B>) -> http::Response<Body>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.inner.clone().handle(req, None).await
    }
}

impl crate::transport::HttpHandler for Router {
    fn call(
        &self,
        req: http::Request<Body>,
    ) -> futures_util::future::BoxFuture<'static, http::Response<Body>> {
        let inner = self.inner.clone();
        Box::pin(inner.handle(req, None))
    }

    fn call_from(
        &self,
        req: http::Request<Body>,
        conn: &Arc<Connection>,
    ) -> futures_util::future::BoxFuture<'static, http::Response<Body>> {
        let inner = self.inner.clone();
        Box::pin(inner.handle(req, Some(conn.clone())))
    }
}

impl<B> tower_service::Service<http::Request<B>> for Router
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<http::Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let inner = self.inner.clone();
        Box::pin(async move { Ok(inner.handle(req, None).await) })
    }
}

#[cfg(test)]
mod tests {
    use std::panic::AssertUnwindSafe;
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;
    use crate::protocol::{Status, StreamType};
    use crate::rpc::{
        self, Client, Idempotency, PeerAddr, Request, Response, ServerNext, ServerOutput,
    };
    use crate::transport::{Channel, Listener, Server, memory_link};

    const PEER: MethodDescriptor =
        MethodDescriptor::new("/t.Test/Peer", StreamType::Unary, Idempotency::Unknown);

    type Seen = Arc<Mutex<Vec<(&'static str, Option<PeerAddr>)>>>;

    struct Watch(Seen);

    impl Interceptor for Watch {
        fn intercept_server<'a>(
            &'a self,
            call: crate::rpc::ServerCall,
            next: ServerNext<'a>,
        ) -> futures_util::future::BoxFuture<'a, Result<ServerOutput, Status>> {
            let peer = call.peer().cloned();
            self.0.lock().unwrap().push(("interceptor", peer));
            next.run(call)
        }
    }

    fn router(seen: &Seen) -> Router {
        let seen = seen.clone();
        Router::new().route(
            PEER,
            rpc::unary(move |req: Request<()>| {
                let mut seen = seen.lock().unwrap();
                seen.push(("peer_addr", req.peer_addr().cloned()));
                seen.push(("extensions", req.extensions().get::<PeerAddr>().cloned()));
                let (_, extensions, ()) = req.into_parts();
                seen.push(("into_parts", extensions.get::<PeerAddr>().cloned()));
                async { Ok(Response::new(())) }
            }),
        )
    }

    const OTHER: MethodDescriptor =
        MethodDescriptor::new("/t.Test/Other", StreamType::Unary, Idempotency::Unknown);

    fn ok() -> Arc<dyn Handler> {
        rpc::unary(|_: Request<()>| async { Ok(Response::new(())) })
    }

    #[test]
    #[should_panic(
        expected = "route conflict: a handler is already mounted at /t.Test/Peer (Router::route"
    )]
    fn a_path_routed_twice_is_refused_by_name() {
        let _ = Router::new().route(PEER, ok()).route(PEER, ok());
    }

    #[test]
    #[should_panic(
        expected = "route conflict: a handler is already mounted at /t.Test/Peer (Router::merge"
    )]
    fn merging_routers_that_share_a_path_is_refused_by_name() {
        let _ = Router::new()
            .route(PEER, ok())
            .merge(Router::new().route(OTHER, ok()).route(PEER, ok()));
    }

    /// `route` and `merge` report a conflict at the line that asked for it, as a
    /// `#[track_caller]` panic.
    #[test]
    fn a_conflict_is_reported_where_it_was_written() {
        const HERE: MethodDescriptor =
            MethodDescriptor::new("/t.Located/Here", StreamType::Unary, Idempotency::Unknown);
        let seen = Arc::new(Mutex::new(Vec::<(String, u32)>::new()));
        let record = seen.clone();
        let previous = std::panic::take_hook();
        // Other tests may panic meanwhile: theirs go on to the previous hook.
        std::panic::set_hook(Box::new(move |info| {
            let ours = info
                .payload()
                .downcast_ref::<String>()
                .is_some_and(|m| m.contains("/t.Located/Here"));
            match info.location() {
                Some(at) if ours => record
                    .lock()
                    .unwrap()
                    .push((at.file().to_owned(), at.line())),
                _ => previous(info),
            }
        }));
        let mut lines = Vec::new();
        let routed = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let once = Router::new().route(HERE, ok());
            lines.push(line!() + 1);
            once.route(HERE, ok())
        }));
        let merged = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let one = Router::new().route(HERE, ok());
            lines.push(line!() + 1);
            one.merge(Router::new().route(HERE, ok()))
        }));
        assert!(routed.is_err() && merged.is_err());
        let seen = seen.lock().unwrap();
        let here = |line| (file!().to_owned(), line);
        assert_eq!(*seen, [here(lines[0]), here(lines[1])]);
    }

    #[test]
    fn try_merge_names_every_shared_path_and_keeps_the_router() {
        let mut router = Router::new().route(PEER, ok()).route(OTHER, ok());
        let conflict = router
            .try_merge(Router::new().route(OTHER, ok()).route(PEER, ok()))
            .unwrap_err();
        assert_eq!(conflict.paths(), ["/t.Test/Other", "/t.Test/Peer"]);
        assert_eq!(
            conflict.to_string(),
            "route conflict: a handler is already mounted at /t.Test/Other, /t.Test/Peer"
        );
        assert_eq!(router.paths().count(), 2);

        // Refused whole: a router sharing one path adds none of its others.
        const THIRD: MethodDescriptor =
            MethodDescriptor::new("/t.Test/Third", StreamType::Unary, Idempotency::Unknown);
        let partly = Router::new().route(THIRD, ok()).route(PEER, ok());
        assert!(router.try_merge(partly).is_err());
        assert!(router.paths().all(|p| p != "/t.Test/Third"));

        router.try_merge(Router::new().route(THIRD, ok())).unwrap();
        assert_eq!(router.paths().count(), 3);
    }

    #[test]
    fn a_shared_interceptor_is_kept_as_it_is() {
        let shared: Arc<dyn Interceptor> = Arc::new(Watch(Seen::default()));
        let router = Router::new()
            .interceptor(shared.clone())
            .interceptor(Watch(Seen::default()));
        assert!(Arc::ptr_eq(&router.inner.interceptors[0], &shared));
        assert_eq!(router.inner.interceptors.len(), 2);
    }

    /// The peer's address reaches interceptors (`ServerCall::peer`) and handlers (through
    /// the extensions, however they look for it), whether or not an interceptor runs first.
    #[tokio::test]
    async fn handlers_and_interceptors_see_the_peer() {
        for intercepted in [false, true] {
            let seen = Seen::default();
            let mut r = router(&seen);
            if intercepted {
                r = r.interceptor(Watch(seen.clone()));
            }

            let (connector, listener) = memory_link();
            let server = Server::new(r.clone())
                .serve(Listener::Memory(listener))
                .unwrap();
            let client = Client::new(Channel::memory(connector).build());
            let _: Response<()> = client.unary(&PEER, Request::new(())).await.unwrap();
            server.shutdown(Duration::ZERO).await;

            let server = Server::new(r).bind("127.0.0.1:0").await.unwrap();
            let addr = server.local_addr().to_string();
            let client = Client::new(Channel::builder(&format!("http://{addr}")).unwrap().build());
            let _: Response<()> = client.unary(&PEER, Request::new(())).await.unwrap();
            server.shutdown(Duration::ZERO).await;

            let seen = seen.lock().unwrap();
            let per_call = if intercepted { 4 } else { 3 };
            assert_eq!(seen.len(), 2 * per_call, "{seen:?}");
            for (i, (what, peer)) in seen.iter().enumerate() {
                match (i / per_call, peer) {
                    (0, Some(PeerAddr::Memory)) | (1, Some(PeerAddr::Tcp(_))) => {}
                    _ => panic!("{what}: {peer:?} (call {})", i / per_call),
                }
            }
        }
    }
}
