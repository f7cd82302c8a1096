//! The host's links to providers: a channel to each provider's verified address (made on
//! the first call, shared by every call after it), the count of calls in flight to it, and
//! its circuit breaker.
//! Only admitted plugins have links; those of plugins gone are dropped.

use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};

use connect_plugin::interceptors::CircuitBreaker;
use connect_plugin::rpc::HttpTransport;
use connect_plugin::{Channel, ClientConfig};

use crate::control::ControlPlane;

struct Link {
    channel: Option<Channel>,
    in_flight: Arc<AtomicUsize>,
    /// Ejects the provider while it keeps failing, and probes it back.
    breaker: Arc<CircuitBreaker>,
}

/// The links, by provider runtime id.
#[derive(Clone, Default)]
pub(crate) struct Links(Arc<Mutex<HashMap<String, Link>>>);

impl Links {
    fn with<R>(
        &self,
        plane: &ControlPlane,
        provider_id: &str,
        f: impl FnOnce(&mut Link) -> R,
    ) -> R {
        let mut links = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if !links.contains_key(provider_id) && links.len() >= plane.members.len() + 16 {
            links.retain(|id, _| plane.members.find(id).is_some());
        }
        let link = links.entry(provider_id.to_owned()).or_insert_with(|| Link {
            channel: None,
            in_flight: Arc::default(),
            breaker: Arc::new(CircuitBreaker::new(
                format!("provider {provider_id}"),
                plane.config().breaker,
            )),
        });
        f(link)
    }

    /// The breaker of `provider_id`.
    pub(crate) fn breaker_in(
        &self,
        plane: &ControlPlane,
        provider_id: &str,
    ) -> Arc<CircuitBreaker> {
        self.with(plane, provider_id, |l| l.breaker.clone())
    }

    /// The count of calls in flight to `provider_id`.
    pub(crate) fn counter_in(&self, plane: &ControlPlane, provider_id: &str) -> Arc<AtomicUsize> {
        self.with(plane, provider_id, |l| l.in_flight.clone())
    }

    /// A transport to `provider_id`'s verified address; `None` when it has none (any more).
    pub(crate) fn transport(
        &self,
        plane: &ControlPlane,
        provider_id: &str,
        config: ClientConfig,
    ) -> Option<HttpTransport> {
        let member = plane.members.find(provider_id)?;
        if !member.verified() {
            return None;
        }
        let address = member.address.clone()?;
        let channel = self.with(plane, provider_id, |l| {
            if l.channel.is_none() {
                l.channel = Channel::builder(address.as_str()).ok().map(|b| b.build());
            }
            l.channel.clone()
        })?;
        Some(HttpTransport::new(channel, config))
    }
}
