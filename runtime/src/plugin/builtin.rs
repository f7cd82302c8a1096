//! The services a plugin server serves for itself, next to its plugins: the handshake
//! (`connectplugin.v1.HandshakeService`), health (`grpc.health.v1.Health`, `/healthz`,
//! `/readyz`), control (`connectplugin.v1.PluginControl`: health, shutdown) and identity
//! (`connectplugin.v1.PluginIdentityService`: what it is, and the host platform's address
//! check), with the state behind them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::{Notify, watch};

use super::handshake::{CORE_PROTOCOL_VERSION, MagicCookie, negotiate};
use super::serve::ServeConfig;
use crate::pb::connectplugin::v1 as cp;
use crate::pb::grpc::health::v1 as hv1;
use crate::protocol::Status;
use crate::rpc::{Request, Response, Router, Streaming};
use crate::transport::{Body, HttpHandler};

/// Health of the plugin as reported by [`PluginHealth`] and served on
/// `grpc.health.v1.Health`, `PluginControl.GetHealth`, `/healthz` and `/readyz`.
#[derive(Debug, Clone)]
pub struct PluginHealth {
    state: Arc<watch::Sender<(cp::HealthState, String)>>,
}

impl PluginHealth {
    pub(super) fn new() -> Self {
        let (tx, _) = watch::channel((cp::HealthState::Healthy, String::new()));
        PluginHealth {
            state: Arc::new(tx),
        }
    }

    /// A health handle to pass to [`serve_with`](super::serve_with) and keep for reporting.
    pub fn handle() -> Self {
        PluginHealth::new()
    }

    /// Reports a new state (and why).
    pub fn set(&self, state: cp::HealthState, reason: impl Into<String>) {
        self.state.send_replace((state, reason.into()));
    }

    /// The current state.
    pub fn get(&self) -> (cp::HealthState, String) {
        self.state.borrow().clone()
    }

    fn serving(state: cp::HealthState) -> hv1::health_check_response::ServingStatus {
        use hv1::health_check_response::ServingStatus;
        match state {
            cp::HealthState::Healthy | cp::HealthState::Degraded => ServingStatus::Serving,
            _ => ServingStatus::NotServing,
        }
    }
}

/// The state behind the handshake, health and control services.
pub(super) struct Services {
    cookie: MagicCookie,
    versions: BTreeMap<u32, Vec<cp::PluginDescriptor>>,
    health: PluginHealth,
    /// Notified by `PluginControl.Shutdown`.
    shutdown: Notify,
    grace: Duration,
    requested_grace: std::sync::Mutex<Option<Duration>>,
    /// The plugin's membership of a host platform (self-registering), if any.
    member: Option<super::Membership>,
}

impl Services {
    /// The services of a plugin server serving `config`, reporting `health`.
    pub(super) fn new(config: &ServeConfig, health: PluginHealth) -> Self {
        let versions = config
            .versions
            .iter()
            .map(|(v, set)| (*v, set.infos().map(cp::PluginDescriptor::from).collect()))
            .collect();
        Services {
            cookie: config.cookie.clone(),
            versions,
            health,
            shutdown: Notify::new(),
            grace: config.grace,
            requested_grace: std::sync::Mutex::new(None),
            member: config.join.clone(),
        }
    }

    /// The routes of the handshake, health and control services.
    pub(super) fn router(self: &Arc<Self>) -> Router {
        cp::handshake_service_router(Arc::new(self.clone()))
            .merge(hv1::health_router(Arc::new(self.clone())))
            .merge(cp::plugin_control_router(Arc::new(self.clone())))
            .merge(cp::plugin_identity_service_router(Arc::new(self.clone())))
    }

    /// Resolves when the host calls `PluginControl.Shutdown` (at once if it has already).
    pub(super) async fn shutdown_requested(&self) {
        self.shutdown.notified().await;
    }

    /// How long calls in flight may take to finish on shutdown: the grace period the host
    /// asked for in `PluginControl.Shutdown`, else the configured one.
    pub(super) fn grace(&self) -> Duration {
        self.requested_grace
            .lock()
            .ok()
            .and_then(|g| *g)
            .unwrap_or(self.grace)
    }

    fn known_service(&self, name: &str) -> bool {
        name.is_empty()
            || self
                .versions
                .values()
                .flatten()
                .any(|d| d.service_name == name)
    }
}

#[crate::async_trait]
impl cp::HandshakeService for Arc<Services> {
    async fn handshake(
        &self,
        request: Request<cp::HandshakeRequest>,
    ) -> Result<Response<cp::HandshakeResponse>, Status> {
        let r = request.into_inner();
        if r.core_protocol_version != CORE_PROTOCOL_VERSION {
            return Err(Status::invalid_argument(format!(
                "core protocol version {} is not supported: this plugin speaks {CORE_PROTOCOL_VERSION}",
                r.core_protocol_version
            )));
        }
        if r.magic_cookie_key != self.cookie.key || r.magic_cookie_value != self.cookie.value {
            return Err(Status::invalid_argument(
                "wrong magic cookie: this plugin belongs to another application",
            ));
        }
        let ours: Vec<u32> = self.versions.keys().copied().collect();
        let Some(v) = negotiate(&ours, &r.app_protocol_versions) else {
            return Err(Status::failed_precondition(format!(
                "no protocol version in common: the host supports {:?}, this plugin {ours:?}",
                r.app_protocol_versions
            )));
        };
        let all = self.versions.get(&v).cloned().unwrap_or_default();
        for name in &r.requested_plugins {
            if !all.iter().any(|d| &d.name == name) {
                return Err(Status::not_found(format!(
                    "plugin {name:?} is not served at version {v}; served: {:?}",
                    all.iter().map(|d| d.name.as_str()).collect::<Vec<_>>()
                )));
            }
        }
        let plugins = all
            .into_iter()
            .filter(|d| r.requested_plugins.is_empty() || r.requested_plugins.contains(&d.name))
            .collect();
        Ok(Response::new(cp::HandshakeResponse {
            core_protocol_version: CORE_PROTOCOL_VERSION,
            app_protocol_version: v,
            plugins,
            ..Default::default()
        }))
    }
}

#[crate::async_trait]
impl hv1::Health for Arc<Services> {
    async fn check(
        &self,
        request: Request<hv1::HealthCheckRequest>,
    ) -> Result<Response<hv1::HealthCheckResponse>, Status> {
        let service = request.into_inner().service;
        if !self.known_service(&service) {
            return Err(Status::not_found(format!("unknown service {service:?}")));
        }
        let status = PluginHealth::serving(self.health.get().0);
        Ok(Response::new(hv1::HealthCheckResponse {
            status: status as i32,
        }))
    }

    async fn watch(
        &self,
        request: Request<hv1::HealthCheckRequest>,
    ) -> Result<Response<Streaming<hv1::HealthCheckResponse>>, Status> {
        use hv1::health_check_response::ServingStatus;
        let service = request.into_inner().service;
        if !self.known_service(&service) {
            let unknown = hv1::HealthCheckResponse {
                status: ServingStatus::ServiceUnknown as i32,
            };
            return Ok(Response::new(Streaming::from_messages(
                futures_util::stream::iter([unknown]),
            )));
        }
        let rx = self.health.state.subscribe();
        let updates =
            futures_util::stream::unfold((rx, None::<i32>), |(mut rx, last)| async move {
                loop {
                    let status = PluginHealth::serving(rx.borrow_and_update().0) as i32;
                    if last != Some(status) {
                        return Some((Ok(hv1::HealthCheckResponse { status }), (rx, Some(status))));
                    }
                    if rx.changed().await.is_err() {
                        return None;
                    }
                }
            });
        Ok(Response::new(Streaming::from_stream(updates)))
    }
}

#[crate::async_trait]
impl cp::PluginControl for Arc<Services> {
    async fn get_health(
        &self,
        _request: Request<cp::GetHealthRequest>,
    ) -> Result<Response<cp::GetHealthResponse>, Status> {
        let (state, reason) = self.health.get();
        Ok(Response::new(cp::GetHealthResponse {
            state: state as i32,
            reason,
            unavailable_dependencies: Vec::new(),
        }))
    }

    async fn shutdown(
        &self,
        request: Request<cp::ShutdownRequest>,
    ) -> Result<Response<cp::ShutdownResponse>, Status> {
        let r = request.into_inner();
        let grace = r.grace_period.map(prost_duration).unwrap_or(self.grace);
        if let Ok(mut g) = self.requested_grace.lock() {
            *g = Some(grace);
        }
        tracing::info!(reason = %r.reason, ?grace, "shutdown requested by the host");
        self.shutdown.notify_one();
        Ok(Response::new(cp::ShutdownResponse { accepted: true }))
    }
}

#[crate::async_trait]
impl cp::PluginIdentityService for Arc<Services> {
    async fn get_plugin_info(
        &self,
        _request: Request<cp::GetPluginInfoRequest>,
    ) -> Result<Response<cp::GetPluginInfoResponse>, Status> {
        let provides = self
            .versions
            .values()
            .next_back()
            .into_iter()
            .flatten()
            .map(|d| cp::ServiceDeclaration {
                r#type: d.name.clone(),
                version: d.version.clone(),
                service_name: d.service_name.clone(),
            })
            .collect();
        Ok(Response::new(cp::GetPluginInfoResponse {
            provides,
            ..Default::default()
        }))
    }

    async fn set_runtime_identity(
        &self,
        _request: Request<cp::SetRuntimeIdentityRequest>,
    ) -> Result<Response<cp::SetRuntimeIdentityResponse>, Status> {
        Err(Status::unimplemented(
            "platform-managed identity (Model A) is not served by this plugin server yet",
        ))
    }

    async fn verify_address(
        &self,
        request: Request<cp::VerifyAddressRequest>,
    ) -> Result<Response<cp::VerifyAddressResponse>, Status> {
        let Some(member) = &self.member else {
            return Err(Status::failed_precondition(
                "this plugin is not a member of a host platform",
            ));
        };
        let r = request.into_inner();
        member.confirm(&r.runtime_id, r.nonce).await?;
        Ok(Response::new(cp::VerifyAddressResponse {}))
    }
}

fn prost_duration(d: pbjson_types::Duration) -> std::time::Duration {
    if d.seconds < 0 || d.nanos < 0 {
        return Duration::ZERO;
    }
    Duration::new(d.seconds as u64, d.nanos as u32)
}

/// The plugin's HTTP surface: `/healthz`, `/readyz`, then the RPC router.
pub(super) struct PluginHttp {
    pub(super) router: Router,
    pub(super) health: PluginHealth,
}

impl PluginHttp {
    /// The answer to `/healthz` and `/readyz`, which the plugin gives itself; `None` for
    /// everything else (the router's).
    fn probe(&self, path: &str) -> Option<http::Response<Body>> {
        let plain = |status: u16, text: &'static str| {
            let mut resp = http::Response::new(Body::full(text));
            *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
            resp.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain"),
            );
            resp
        };
        match path {
            "/healthz" => Some(plain(200, "ok\n")),
            "/readyz" => {
                let ready = PluginHealth::serving(self.health.get().0)
                    == hv1::health_check_response::ServingStatus::Serving;
                Some(if ready {
                    plain(200, "ready\n")
                } else {
                    plain(503, "not ready\n")
                })
            }
            _ => None,
        }
    }
}

impl HttpHandler for PluginHttp {
    fn call(&self, req: http::Request<Body>) -> BoxFuture<'static, http::Response<Body>> {
        match self.probe(req.uri().path()) {
            Some(resp) => Box::pin(std::future::ready(resp)),
            None => HttpHandler::call(&self.router, req),
        }
    }

    // The router gets the connection itself, so that what interceptors learn about a
    // connection (a verified token, an mTLS identity) is kept for its later calls.
    fn call_from(
        &self,
        req: http::Request<Body>,
        conn: &Arc<crate::transport::Connection>,
    ) -> BoxFuture<'static, http::Response<Body>> {
        match self.probe(req.uri().path()) {
            Some(resp) => Box::pin(std::future::ready(resp)),
            None => HttpHandler::call_from(&self.router, req, conn),
        }
    }
}
