//! The host's links to providers: a channel to each provider's verified address (made on
//! the first call, shared by every call after it), the count of calls in flight to it, and
//! its circuit breaker — one lookup a call. Only admitted plugins have links; those of
//! plugins gone are dropped.

use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, OnceLock};

use connect_plugin::interceptors::CircuitBreaker;
use connect_plugin::rpc::HttpTransport;
use connect_plugin::{Channel, ClientConfig};

use crate::control::ControlPlane;

/// How long the router waits for a connection to a provider.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// What the host keeps for one provider.
pub(crate) struct Link {
    channel: OnceLock<Option<Channel>>,
    /// Calls in flight to it.
    pub(crate) in_flight: AtomicUsize,
    /// Ejects it while it keeps failing, and probes it back.
    pub(crate) breaker: CircuitBreaker,
    /// The metric series of its calls by (service type, outcome), kept here so that a
    /// call counts without building labels; they go with it.
    series: Mutex<Vec<Series>>,
}

/// One provider's metric series for one service type and outcome.
struct Series {
    service_type: String,
    code: &'static str,
    calls: prometheus_client::metrics::counter::Counter,
    latency: prometheus_client::metrics::histogram::Histogram,
}

impl Link {
    /// Counts a call of `service_type` to this provider that ended with `code` after
    /// `took`.
    pub(crate) fn record(
        &self,
        metrics: &crate::metrics::Metrics,
        provider: &str,
        service_type: &str,
        code: &'static str,
        took: std::time::Duration,
    ) {
        let mut series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let found = series
            .iter()
            .position(|s| s.code == code && s.service_type == service_type);
        let at = match found {
            Some(at) => at,
            None => {
                let (calls, latency) = metrics.series(provider, service_type, code);
                series.push(Series {
                    service_type: service_type.to_owned(),
                    code,
                    calls,
                    latency,
                });
                series.len() - 1
            }
        };
        series[at].calls.inc();
        series[at].latency.observe(took.as_secs_f64());
    }

    /// The (service type, outcome) pairs of its series.
    pub(crate) fn series(&self) -> Vec<(String, String)> {
        self.series
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|s| (s.service_type.clone(), s.code.to_owned()))
            .collect()
    }

    /// A transport to the provider's verified address; `None` when it has none (any more).
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
        let channel = self
            .channel
            .get_or_init(|| member.channel(plane.config().provider_tls.as_ref(), CONNECT_TIMEOUT));
        channel.clone().map(|c| HttpTransport::new(c, config))
    }
}

/// The links, by provider runtime id.
#[derive(Clone, Default)]
pub(crate) struct Links(Arc<Mutex<HashMap<String, Arc<Link>>>>);

impl std::fmt::Debug for Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Links").finish_non_exhaustive()
    }
}

impl Links {
    /// Removes and returns the links of plugins no longer admitted.
    pub(crate) fn drain_gone(&self, plane: &ControlPlane) -> Vec<(String, Arc<Link>)> {
        let mut links = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let gone: Vec<String> = links
            .keys()
            .filter(|id| plane.members.find(id).is_none())
            .cloned()
            .collect();
        gone.into_iter()
            .filter_map(|id| links.remove(&id).map(|l| (id, l)))
            .collect()
    }

    /// Every link there is.
    pub(crate) fn live(&self) -> Vec<(String, Arc<Link>)> {
        let links = self.0.lock().unwrap_or_else(|e| e.into_inner());
        links
            .iter()
            .map(|(id, l)| (id.clone(), l.clone()))
            .collect()
    }

    /// The link to `provider_id`, made on first use.
    pub(crate) fn link(&self, plane: &ControlPlane, provider_id: &str) -> Arc<Link> {
        let mut links = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(link) = links.get(provider_id) {
            return link.clone();
        }
        // Links of plugins gone are dropped at the next scrape (with their metric series);
        // without scrapes, here, so that the table stays bounded by the admitted plugins.
        if links.len() >= 2 * plane.members.len() + 64 {
            links.retain(|id, _| plane.members.find(id).is_some());
        }
        let link = Arc::new(Link {
            channel: OnceLock::new(),
            in_flight: AtomicUsize::new(0),
            breaker: CircuitBreaker::new(format!("provider {provider_id}"), plane.config().breaker),
            series: Mutex::new(Vec::new()),
        });
        links.insert(provider_id.to_owned(), link.clone());
        link
    }
}
