//! The host's own look at its plugins' health: it asks every plugin it can reach
//! (`PluginControl.GetHealth`, else `grpc.health.v1.Health/Check`), and a plugin that stops
//! answering is unhealthy until it answers again — whatever it last reported. Every
//! change is a `tracing` event and, through the registry, a watch event.

use std::sync::Arc;
use std::time::Duration;

use connect_plugin::pb::connectplugin::v1 as cp;
use connect_plugin::pb::grpc::health::v1 as hv1;
use connect_plugin::{Client, ClientConfig, Code, Request};

use super::ControlPlane;
use super::members::Member;

/// How long one poll may take.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether the plugin answered a health poll (any answer counts; `unimplemented` for
/// both services too: it is there).
async fn answers(member: &Member, tls: Option<&Arc<rustls::ClientConfig>>) -> bool {
    if member.address.is_none() {
        return true;
    }
    let Some(channel) = member.channel(tls, POLL_TIMEOUT) else {
        return false;
    };
    let client = Client::with_config(
        channel,
        ClientConfig {
            timeout: Some(POLL_TIMEOUT),
            ..ClientConfig::default()
        },
    );
    let control = cp::PluginControlClient::new(client.clone());
    match cp::PluginControl::get_health(&control, Request::new(cp::GetHealthRequest {})).await {
        Ok(_) => return true,
        Err(e) if e.code() != Code::Unimplemented && e.code() != Code::NotFound => return false,
        Err(_) => {}
    }
    let health = hv1::HealthClient::new(client);
    match hv1::Health::check(&health, Request::new(hv1::HealthCheckRequest::default())).await {
        Ok(_) => true,
        Err(e) => matches!(e.code(), Code::Unimplemented | Code::NotFound),
    }
}

impl ControlPlane {
    /// Polls every verified plugin once, concurrently; updates routing for those whose
    /// reachability changed. Returns how many changed.
    pub async fn poll_health(self: &Arc<Self>) -> usize {
        let members: Vec<Arc<Member>> = self
            .members
            .all()
            .into_iter()
            .filter(|m| m.verified())
            .collect();
        let tls = self.config.provider_tls.as_ref();
        let polls = members
            .iter()
            .map(|m| async move { (m, answers(m, tls).await) });
        let mut changed = 0;
        for (member, reachable) in futures_util::future::join_all(polls).await {
            let before = member.effective_health();
            if member.set_reachable(reachable) {
                changed += 1;
                let after = member.effective_health();
                self.registry.set_health(member.runtime_id.as_str(), after);
                self.health_changed(&member.runtime_id, before, after);
                if reachable {
                    tracing::info!(runtime_id = %member.runtime_id, from = ?before, to = ?after, "plugin answers health polls again");
                } else {
                    tracing::warn!(runtime_id = %member.runtime_id, from = ?before, to = ?after, "plugin stopped answering health polls");
                }
            }
        }
        changed
    }
}
