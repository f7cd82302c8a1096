//! The host's `ServiceRegistry`: plugins register what they declared they provide, withdraw
//! only their own registrations, and discover and watch only what they declared they
//! require. Every call is authenticated by the caller's runtime token.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use connect_plugin::pb::connectplugin::v1 as cp;
use connect_plugin::{Request, Response, Status, Streaming};

use super::ControlPlane;
use super::members::Member;
use crate::registry::{NewRegistration, Provider, WatchEvent};
use crate::select::{Candidate, Health, choose};
use crate::version::VersionFilter;

/// The host's `ServiceRegistry`.
#[derive(Debug, Clone)]
pub struct RegistryService(pub(crate) Arc<ControlPlane>);

/// The router prefix a provider is reached at.
pub(crate) fn endpoint_url(service_type: &str, provider_id: &str) -> String {
    format!("/services/{service_type}/{provider_id}/")
}

pub(crate) fn endpoint(p: &Provider) -> cp::ServiceEndpoint {
    cp::ServiceEndpoint {
        provider_id: p.provider_id.clone(),
        service_type: p.service_type.clone(),
        version: p.version.to_string(),
        endpoint_url: endpoint_url(&p.service_type, &p.provider_id),
        state: match p.health {
            Health::Healthy => cp::ServiceState::Available,
            Health::Degraded => cp::ServiceState::Degraded,
            Health::Unhealthy => cp::ServiceState::Unavailable,
        } as i32,
        metadata: p.metadata.clone().into_iter().collect(),
        weight: p.weight,
    }
}

impl ControlPlane {
    /// Refuses `member` a type it did not declare it requires.
    pub(crate) fn check_requires(&self, member: &Member, service_type: &str) -> Result<(), Status> {
        if member.declares_requires(service_type).is_some()
            && self
                .config
                .policy
                .may_require(&member.self_id, service_type)
        {
            return Ok(());
        }
        Err(Status::permission_denied(format!(
            "{} did not declare {service_type:?} as a dependency at admission",
            member.runtime_id
        )))
    }
}

/// Decrements a plugin's and the host's open watch counts when a watch ends.
struct WatchGuard {
    member: Arc<Member>,
    plane: Arc<ControlPlane>,
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        self.member.watches.fetch_sub(1, Ordering::AcqRel);
        self.plane.watches.fetch_sub(1, Ordering::AcqRel);
    }
}

fn event(e: WatchEvent) -> cp::WatchServiceEvent {
    use cp::watch_service_event::Kind;
    let (kind, p) = match e {
        WatchEvent::Existing(p) => (Kind::Existing, p),
        WatchEvent::Added(p) => (Kind::Added, p),
        WatchEvent::Removed(p) => (Kind::Removed, p),
        WatchEvent::Updated(p) => (Kind::Updated, p),
    };
    cp::WatchServiceEvent {
        kind: kind as i32,
        endpoint: Some(endpoint(&p)),
    }
}

#[connect_plugin::async_trait]
impl cp::ServiceRegistry for RegistryService {
    async fn register_service(
        &self,
        request: Request<cp::RegisterServiceRequest>,
    ) -> Result<Response<cp::RegisterServiceResponse>, Status> {
        let plane = &self.0;
        let member = plane.caller(&request)?;
        let req = request.into_inner();
        let Some(declared) = member.declares_provides(&req.service_type) else {
            return Err(Status::permission_denied(format!(
                "{} did not declare it provides {:?} at admission",
                member.runtime_id, req.service_type
            )));
        };
        if !plane
            .config
            .policy
            .may_provide(&member.self_id, &req.service_type)
        {
            return Err(Status::permission_denied(format!(
                "{} may not provide {:?} on this host",
                member.self_id, req.service_type
            )));
        }
        if member.address.is_none() {
            return Err(Status::failed_precondition(
                "a plugin declares the address it serves at when it is admitted, before it registers services",
            ));
        }
        let pick = |given: String, declared: &str| {
            if given.is_empty() {
                declared.to_owned()
            } else {
                given
            }
        };
        let service_name = pick(req.service_name, &declared.service_name);
        crate::registry::names::check_service_name(&service_name)?;
        let methods = crate::methods::descriptors(&service_name, &req.methods)?;
        let registration = NewRegistration {
            service_type: req.service_type,
            version: pick(req.version, &declared.version),
            service_name,
            metadata: req.metadata.into_iter().collect(),
            weight: req.weight.max(1),
            methods,
        };
        let service_type = registration.service_type.clone();
        let id = plane.registry.register(
            member.runtime_id.as_str(),
            member.effective_health(),
            registration,
        )?;
        plane.events.emit(crate::events::PlatformEvent::Registered {
            runtime_id: member.runtime_id.to_string(),
            service_type,
            registration_id: id.clone(),
        });
        Ok(Response::new(cp::RegisterServiceResponse {
            registration_id: id,
        }))
    }

    async fn unregister_service(
        &self,
        request: Request<cp::UnregisterServiceRequest>,
    ) -> Result<Response<cp::UnregisterServiceResponse>, Status> {
        let member = self.0.caller(&request)?;
        let registration_id = request.get_ref().registration_id.clone();
        self.0
            .registry
            .unregister(member.runtime_id.as_str(), &registration_id)?;
        self.0
            .events
            .emit(crate::events::PlatformEvent::Unregistered {
                runtime_id: member.runtime_id.to_string(),
                registration_id,
            });
        Ok(Response::new(cp::UnregisterServiceResponse {}))
    }

    async fn discover_service(
        &self,
        request: Request<cp::DiscoverServiceRequest>,
    ) -> Result<Response<cp::DiscoverServiceResponse>, Status> {
        let plane = &self.0;
        let member = plane.caller(&request)?;
        let req = request.get_ref();
        plane.check_requires(&member, &req.service_type)?;
        let filter =
            VersionFilter::parse(&req.min_version).map_err(crate::registry::RegistryError::from)?;
        let providers = plane.registry.providers(&req.service_type, &filter);
        if providers.is_empty() {
            return Err(Status::not_found(format!(
                "no provider of {:?} is registered",
                req.service_type
            )));
        }
        let candidates: Vec<Candidate<'_>> = providers
            .iter()
            .map(|p| Candidate {
                provider_id: &p.provider_id,
                weight: p.weight,
                in_flight: 0,
                health: p.health,
            })
            .collect();
        let Some(chosen) = choose(&*plane.config.select, &candidates) else {
            return Err(Status::unavailable(format!(
                "no provider of {:?} can take calls now",
                req.service_type
            )));
        };
        Ok(Response::new(cp::DiscoverServiceResponse {
            endpoint: Some(endpoint(&providers[chosen])),
            all: providers.iter().map(|p| endpoint(p)).collect(),
        }))
    }

    async fn watch_service(
        &self,
        request: Request<cp::WatchServiceRequest>,
    ) -> Result<Response<Streaming<cp::WatchServiceEvent>>, Status> {
        let plane = self.0.clone();
        let member = plane.caller(&request)?;
        let req = request.into_inner();
        plane.check_requires(&member, &req.service_type)?;
        let filter =
            VersionFilter::parse(&req.min_version).map_err(crate::registry::RegistryError::from)?;
        let max = plane.members.limits().max_watches;
        if member.watches.fetch_add(1, Ordering::AcqRel) >= max {
            member.watches.fetch_sub(1, Ordering::AcqRel);
            return Err(Status::resource_exhausted(format!(
                "a plugin may hold at most {max} watches open"
            )));
        }
        let max_total = plane.config.max_watches;
        if plane.watches.fetch_add(1, Ordering::AcqRel) >= max_total {
            plane.watches.fetch_sub(1, Ordering::AcqRel);
            member.watches.fetch_sub(1, Ordering::AcqRel);
            return Err(Status::resource_exhausted(format!(
                "the host holds its limit of {max_total} watches"
            )));
        }
        let guard = WatchGuard {
            member,
            plane: plane.clone(),
        };
        let watcher = plane.registry.watch(&req.service_type, filter)?;
        let events = futures_util::stream::unfold(
            (watcher, std::collections::VecDeque::new(), guard),
            |(mut watcher, mut queue, guard)| async move {
                loop {
                    if let Some(e) = queue.pop_front() {
                        return Some((Ok(event(e)), (watcher, queue, guard)));
                    }
                    let batch = watcher.next().await?;
                    queue.extend(batch);
                    // The first batch may be empty (nobody provides the type yet): send an
                    // event only for what exists.
                }
            },
        );
        Ok(Response::new(Streaming::from_stream(events)))
    }
}
