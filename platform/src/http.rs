//! [`PlatformHttp`]: everything a host answers over HTTP — the plain-HTTP probes
//! `/healthz` and `/readyz`, then the platform's RPC router for every other path.

use std::sync::Arc;

use connect_plugin::Router;
use connect_plugin::transport::{Body, Connection, HttpHandler};
use futures_util::future::BoxFuture;

use crate::health::HostHealth;

/// The host's HTTP surface: `GET`/`HEAD` `/healthz` and `/readyz` answered as plain HTTP
/// (for load balancers and orchestrators' probes), everything else by the platform's
/// router. Serve it with the runtime's `Server`; get one from
/// [`Platform::http`](crate::Platform::http).
///
/// ```
/// use connect_plugin_platform::Platform;
/// use connect_plugin_platform::control::PlatformConfig;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let platform = Platform::new(PlatformConfig::default());
/// let server = connect_plugin::Server::new(platform.http()).bind("127.0.0.1:0").await?;
/// // GET http://{server.local_addr()}/healthz answers 200 "ok".
/// # drop(server);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PlatformHttp {
    router: Router,
    health: HostHealth,
    /// Answers `GET /metrics`, when set.
    metrics: Option<crate::Platform>,
}

impl PlatformHttp {
    /// Probes answered from `health`, the rest by `router`.
    pub fn new(router: Router, health: HostHealth) -> Self {
        PlatformHttp {
            router,
            health,
            metrics: None,
        }
    }

    /// Also answers `GET /metrics` with `platform`'s metrics.
    pub fn with_metrics(mut self, platform: crate::Platform) -> Self {
        self.metrics = Some(platform);
        self
    }

    fn probe(&self, req: &http::Request<Body>) -> Option<http::Response<Body>> {
        if req.method() != http::Method::GET && req.method() != http::Method::HEAD {
            return None;
        }
        if req.uri().path() == "/metrics" {
            let platform = self.metrics.as_ref()?;
            let mut resp = http::Response::new(Body::full(bytes::Bytes::from(platform.metrics())));
            resp.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            );
            return Some(resp);
        }
        self.health.probe(req.uri().path())
    }
}

impl HttpHandler for PlatformHttp {
    fn call(&self, req: http::Request<Body>) -> BoxFuture<'static, http::Response<Body>> {
        match self.probe(&req) {
            Some(resp) => Box::pin(std::future::ready(resp)),
            None => HttpHandler::call(&self.router, req),
        }
    }

    // The router gets the connection, so that what it learns about one (a verified
    // identity) is kept for the connection's later calls.
    fn call_from(
        &self,
        req: http::Request<Body>,
        conn: &Arc<Connection>,
    ) -> BoxFuture<'static, http::Response<Body>> {
        match self.probe(&req) {
            Some(resp) => Box::pin(std::future::ready(resp)),
            None => HttpHandler::call_from(&self.router, req, conn),
        }
    }
}
