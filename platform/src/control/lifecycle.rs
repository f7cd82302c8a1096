//! The host's `PluginLifecycle`: a plugin reports its own health (which routes traffic at
//! once), refreshes its token, confirms the address check, and leaves. Authenticated by the
//! runtime token; a plugin acts only on itself.

use std::sync::Arc;

use connect_plugin::pb::connectplugin::v1 as cp;
use connect_plugin::{Request, Response, Status};

use super::ControlPlane;
use super::admission::to_timestamp;
use crate::select::Health;

/// Longest health reason kept.
const MAX_REASON_LEN: usize = 1024;
/// Most unavailable dependencies a report may name.
const MAX_UNAVAILABLE: usize = 64;

/// The host's `PluginLifecycle`.
#[derive(Debug, Clone)]
pub struct LifecycleService(pub(crate) Arc<ControlPlane>);

#[connect_plugin::async_trait]
impl cp::PluginLifecycle for LifecycleService {
    async fn report_health(
        &self,
        request: Request<cp::ReportHealthRequest>,
    ) -> Result<Response<cp::ReportHealthResponse>, Status> {
        let plane = &self.0;
        let member = plane.caller(&request)?;
        let req = request.into_inner();
        let health = match cp::HealthState::try_from(req.state) {
            Ok(cp::HealthState::Healthy) => Health::Healthy,
            Ok(cp::HealthState::Degraded) => Health::Degraded,
            Ok(cp::HealthState::Unhealthy) => Health::Unhealthy,
            _ => {
                return Err(Status::invalid_argument(
                    "a health report names a state: healthy, degraded or unhealthy",
                ));
            }
        };
        if req.reason.len() > MAX_REASON_LEN || req.unavailable_dependencies.len() > MAX_UNAVAILABLE
        {
            return Err(Status::invalid_argument(format!(
                "a health report's reason is at most {MAX_REASON_LEN} bytes and it names at most {MAX_UNAVAILABLE} dependencies"
            )));
        }
        let before = member.effective_health();
        member.report(health, req.reason.clone());
        let after = member.effective_health();
        plane.registry.set_health(member.runtime_id.as_str(), after);
        plane.health_changed(&member.runtime_id, before, after);
        if before != after {
            tracing::info!(
                runtime_id = %member.runtime_id,
                from = ?before,
                to = ?after,
                reason = %req.reason,
                unavailable = ?req.unavailable_dependencies,
                "plugin health changed"
            );
        }
        Ok(Response::new(cp::ReportHealthResponse {}))
    }

    async fn refresh_token(
        &self,
        request: Request<cp::RefreshTokenRequest>,
    ) -> Result<Response<cp::RefreshTokenResponse>, Status> {
        let member = self.0.caller(&request)?;
        let issued = self.0.tokens.issue(&member.runtime_id)?;
        Ok(Response::new(cp::RefreshTokenResponse {
            runtime_token: issued.token,
            token_expires_at: Some(to_timestamp(issued.expires_at)),
        }))
    }

    async fn confirm_address(
        &self,
        request: Request<cp::ConfirmAddressRequest>,
    ) -> Result<Response<cp::ConfirmAddressResponse>, Status> {
        let member = self.0.caller(&request)?;
        if self
            .0
            .pending
            .confirm(&member.runtime_id, &request.get_ref().nonce)
        {
            Ok(Response::new(cp::ConfirmAddressResponse {}))
        } else {
            Err(Status::permission_denied(
                "no address check with this nonce is pending for this plugin",
            ))
        }
    }

    async fn leave(
        &self,
        request: Request<cp::LeaveRequest>,
    ) -> Result<Response<cp::LeaveResponse>, Status> {
        let member = self.0.caller(&request)?;
        self.0.remove(&member.runtime_id, &request.get_ref().reason);
        Ok(Response::new(cp::LeaveResponse {}))
    }
}
