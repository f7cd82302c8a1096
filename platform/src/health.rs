//! The host's own health: `grpc.health.v1.Health` for the host itself (the empty service
//! name) and the services it serves, and the answers to the plain-HTTP probes `/healthz`
//! and `/readyz`. The host is SERVING while it runs and NOT_SERVING from the moment it
//! begins to shut down.

use std::collections::BTreeSet;
use std::sync::Arc;

use connect_plugin::pb::grpc::health::v1 as hv1;
use connect_plugin::{Request, Response, Status, Streaming};
use hv1::health_check_response::ServingStatus;
use tokio::sync::watch;

/// Where the host is in its life, as its health reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostState {
    /// Running: SERVING, `/readyz` answers 200.
    Serving,
    /// Shutting down: NOT_SERVING, `/readyz` answers 503 (until the platform is served
    /// again).
    ShuttingDown,
}

/// The host's health, shared by its health service, its probes and whoever shuts it down.
/// Clones share one state.
///
/// ```
/// use connect_plugin_platform::health::{HostHealth, HostState};
///
/// let health = HostHealth::new();
/// assert_eq!(health.state(), HostState::Serving);
/// health.begin_shutdown();
/// assert_eq!(health.state(), HostState::ShuttingDown);
/// ```
#[derive(Debug, Clone)]
pub struct HostHealth {
    state: Arc<watch::Sender<HostState>>,
}

impl Default for HostHealth {
    fn default() -> Self {
        HostHealth::new()
    }
}

impl HostHealth {
    /// Serving.
    pub fn new() -> Self {
        HostHealth {
            state: Arc::new(watch::Sender::new(HostState::Serving)),
        }
    }

    /// The current state.
    pub fn state(&self) -> HostState {
        *self.state.borrow()
    }

    /// Reports SERVING (a platform served again after a shutdown).
    pub(crate) fn serving(&self) {
        self.state.send_replace(HostState::Serving);
    }

    /// Reports NOT_SERVING from now on: `/readyz` answers 503, `Health.Check` NOT_SERVING,
    /// and every `Health.Watch` stream sends NOT_SERVING and ends (so that no watcher holds
    /// the server's shutdown for its whole grace period).
    pub fn begin_shutdown(&self) {
        self.state.send_replace(HostState::ShuttingDown);
    }

    fn serving_status(state: HostState) -> ServingStatus {
        match state {
            HostState::Serving => ServingStatus::Serving,
            HostState::ShuttingDown => ServingStatus::NotServing,
        }
    }

    /// The answer to a plain-HTTP probe at `path`: `/healthz` (liveness: 200 while the
    /// process answers at all) and `/readyz` (readiness: 200 while serving, 503 once
    /// shutting down); `None` for any other path.
    pub fn probe(&self, path: &str) -> Option<http::Response<connect_plugin::transport::Body>> {
        let (status, text) = match (path, self.state()) {
            ("/healthz", _) => (http::StatusCode::OK, "ok\n"),
            ("/readyz", HostState::Serving) => (http::StatusCode::OK, "ready\n"),
            ("/readyz", HostState::ShuttingDown) => {
                (http::StatusCode::SERVICE_UNAVAILABLE, "shutting down\n")
            }
            _ => return None,
        };
        let mut response = http::Response::new(connect_plugin::transport::Body::full(text));
        *response.status_mut() = status;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        Some(response)
    }
}

/// `grpc.health.v1.Health` for the host: the empty service name stands for the host, and
/// the services the host serves itself (`connectplugin.v1.HandshakeService`, …) share its
/// status; any other name is unknown.
#[derive(Debug, Clone)]
pub struct HealthService {
    health: HostHealth,
    services: Arc<BTreeSet<String>>,
}

impl HealthService {
    /// The health service for a host in `health` serving `services` (fully-qualified
    /// names).
    pub fn new(health: HostHealth, services: impl IntoIterator<Item = String>) -> Self {
        HealthService {
            health,
            services: Arc::new(services.into_iter().collect()),
        }
    }

    fn known(&self, service: &str) -> bool {
        service.is_empty() || self.services.contains(service)
    }
}

fn reply(status: ServingStatus) -> hv1::HealthCheckResponse {
    hv1::HealthCheckResponse {
        status: status as i32,
    }
}

#[connect_plugin::async_trait]
impl hv1::Health for HealthService {
    async fn check(
        &self,
        request: Request<hv1::HealthCheckRequest>,
    ) -> Result<Response<hv1::HealthCheckResponse>, Status> {
        let service = &request.get_ref().service;
        if !self.known(service) {
            return Err(Status::not_found(format!(
                "this host serves no service {service:?}"
            )));
        }
        Ok(Response::new(reply(HostHealth::serving_status(
            self.health.state(),
        ))))
    }

    async fn watch(
        &self,
        request: Request<hv1::HealthCheckRequest>,
    ) -> Result<Response<Streaming<hv1::HealthCheckResponse>>, Status> {
        if !self.known(&request.get_ref().service) {
            return Ok(Response::new(Streaming::from_messages(
                futures_util::stream::iter([reply(ServingStatus::ServiceUnknown)]),
            )));
        }
        // The current status, then each change; the stream ends after NOT_SERVING for a
        // shutdown (or when the host's state is dropped).
        let rx = self.health.state.subscribe();
        let updates = futures_util::stream::unfold(Some((rx, true)), |next| async move {
            let (mut rx, first) = next?;
            if !first && rx.changed().await.is_err() {
                return None;
            }
            let state = *rx.borrow_and_update();
            let more = (state == HostState::Serving).then_some((rx, false));
            Some((Ok(reply(HostHealth::serving_status(state))), more))
        });
        Ok(Response::new(Streaming::from_stream(updates)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt as _;
    use hv1::Health as _;

    fn service() -> (HostHealth, HealthService) {
        let health = HostHealth::new();
        let service = HealthService::new(
            health.clone(),
            ["connectplugin.v1.HandshakeService".to_owned()],
        );
        (health, service)
    }

    fn check_request(service: &str) -> Request<hv1::HealthCheckRequest> {
        Request::new(hv1::HealthCheckRequest {
            service: service.to_owned(),
        })
    }

    #[tokio::test]
    async fn check_follows_the_state_and_refuses_unknown_services() {
        let (health, service) = service();
        for name in ["", "connectplugin.v1.HandshakeService"] {
            let r = service.check(check_request(name)).await.unwrap();
            assert_eq!(
                r.get_ref().status,
                ServingStatus::Serving as i32,
                "{name:?}"
            );
        }
        let unknown = service.check(check_request("kv.v1.Kv")).await.unwrap_err();
        assert_eq!(unknown.code(), connect_plugin::Code::NotFound);
        health.begin_shutdown();
        let r = service.check(check_request("")).await.unwrap();
        assert_eq!(r.get_ref().status, ServingStatus::NotServing as i32);
    }

    #[tokio::test]
    async fn watch_sends_serving_then_not_serving_and_ends() {
        let (health, service) = service();
        let mut stream = service.watch(check_request("")).await.unwrap().into_inner();
        let first = stream.next().await.unwrap().unwrap();
        assert_eq!(first.status, ServingStatus::Serving as i32);
        health.begin_shutdown();
        let second = stream.next().await.unwrap().unwrap();
        assert_eq!(second.status, ServingStatus::NotServing as i32);
        assert!(stream.next().await.is_none(), "the stream ends on shutdown");
    }

    #[tokio::test]
    async fn watch_of_an_unknown_service_says_so_once() {
        let (_health, service) = service();
        let mut stream = service
            .watch(check_request("nope.v1.Nope"))
            .await
            .unwrap()
            .into_inner();
        let only = stream.next().await.unwrap().unwrap();
        assert_eq!(only.status, ServingStatus::ServiceUnknown as i32);
        assert!(stream.next().await.is_none());
    }

    #[test]
    fn probes_answer_liveness_and_readiness() {
        let health = HostHealth::new();
        assert_eq!(health.probe("/healthz").unwrap().status(), 200);
        assert_eq!(health.probe("/readyz").unwrap().status(), 200);
        assert!(health.probe("/services/kv/-/kv.v1.Kv/Get").is_none());
        health.begin_shutdown();
        assert_eq!(health.probe("/healthz").unwrap().status(), 200);
        assert_eq!(health.probe("/readyz").unwrap().status(), 503);
    }
}
