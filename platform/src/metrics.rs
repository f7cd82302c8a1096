//! The host's metrics, in the Prometheus text format (`GET /metrics`): routed calls and
//! their latency per service type, provider and outcome, calls in flight per provider, and,
//! read at each scrape, the admitted plugins, registrations and providers by health. Label
//! values come from the registry (bounded), never from what a caller sends.

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::control::ControlPlane;
use crate::select::Health;

/// A routed call's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RouteLabels {
    pub(crate) service_type: String,
    pub(crate) provider: String,
    /// `ok`, or the Connect code of the failure.
    pub(crate) code: String,
}

/// A provider's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ProviderLabels {
    pub(crate) service_type: String,
    pub(crate) provider: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderOnly {
    provider: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HealthLabels {
    state: &'static str,
}

type Buckets = fn() -> Histogram;

/// The host's metrics.
pub struct Metrics {
    registry: Registry,
    pub(crate) routed: Family<RouteLabels, Counter>,
    pub(crate) latency: Family<ProviderLabels, Histogram, Buckets>,
    in_flight: Family<ProviderOnly, Gauge>,
    plugins: Gauge,
    registrations: Gauge,
    providers: Family<HealthLabels, Gauge>,
    /// Encoding is done under this lock (scrapes are rare; calls never take it).
    scrape: Mutex<()>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn latency_buckets() -> Histogram {
    // 50 µs to ~13 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 18))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("connect_plugin_host");
        let routed = Family::<RouteLabels, Counter>::default();
        let latency = Family::<ProviderLabels, Histogram, Buckets>::new_with_constructor(
            latency_buckets as Buckets,
        );
        let in_flight = Family::<ProviderOnly, Gauge>::default();
        let plugins = Gauge::default();
        let registrations = Gauge::default();
        let providers = Family::<HealthLabels, Gauge>::default();
        registry.register(
            "routed_calls",
            "Calls routed to a provider, by outcome",
            routed.clone(),
        );
        registry.register(
            "routed_call_seconds",
            "Time from a routed call's arrival to its provider's first answer",
            latency.clone(),
        );
        registry.register(
            "routed_calls_in_flight",
            "Routed calls in flight per provider",
            in_flight.clone(),
        );
        registry.register("plugins", "Admitted plugins", plugins.clone());
        registry.register(
            "registrations",
            "Registered services",
            registrations.clone(),
        );
        registry.register(
            "providers",
            "Registrations by the health routing goes by",
            providers.clone(),
        );
        Metrics {
            registry,
            routed,
            latency,
            in_flight,
            plugins,
            registrations,
            providers,
            scrape: Mutex::new(()),
        }
    }
}

impl Metrics {
    /// The series a provider's calls of `service_type` ending with `code` count in (kept by
    /// the router's link to the provider, so that a call builds no labels).
    pub(crate) fn series(
        &self,
        provider: &str,
        service_type: &str,
        code: &str,
    ) -> (Counter, Histogram) {
        let calls = self.routed.get_or_create_owned(&RouteLabels {
            service_type: service_type.to_owned(),
            provider: provider.to_owned(),
            code: code.to_owned(),
        });
        let latency = self.latency.get_or_create_owned(&ProviderLabels {
            service_type: service_type.to_owned(),
            provider: provider.to_owned(),
        });
        (calls, latency)
    }

    /// The text exposition of every metric, the gauges read from `plane` and the router's
    /// links now; the series of providers that went are forgotten first.
    pub(crate) fn encode(&self, plane: &ControlPlane, links: &crate::router::Links) -> String {
        let _scrape = self.scrape.lock().unwrap_or_else(|e| e.into_inner());
        for (provider, link) in links.drain_gone(plane) {
            self.forget(&provider, &link.series());
        }
        self.in_flight.clear();
        for (provider, link) in links.live() {
            self.in_flight
                .get_or_create(&ProviderOnly { provider })
                .set(link.in_flight.load(std::sync::atomic::Ordering::Relaxed) as i64);
        }
        self.plugins.set(plane.members.len() as i64);
        let (mut total, mut healthy, mut degraded, mut unhealthy) = (0i64, 0i64, 0i64, 0i64);
        plane.registry.for_each_provider(|p| {
            total += 1;
            match p.health {
                Health::Healthy => healthy += 1,
                Health::Degraded => degraded += 1,
                Health::Unhealthy => unhealthy += 1,
            }
        });
        self.registrations.set(total);
        for (state, n) in [
            ("healthy", healthy),
            ("degraded", degraded),
            ("unhealthy", unhealthy),
        ] {
            self.providers.get_or_create(&HealthLabels { state }).set(n);
        }
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::warn!("encoding the metrics failed");
        }
        out
    }

    /// Forgets the series of a provider that went: what it answered with, its latency.
    pub(crate) fn forget(&self, provider: &str, series: &[(String, String)]) {
        for (service_type, code) in series {
            self.routed.remove(&RouteLabels {
                service_type: service_type.clone(),
                provider: provider.to_owned(),
                code: code.clone(),
            });
            self.latency.remove(&ProviderLabels {
                service_type: service_type.clone(),
                provider: provider.to_owned(),
            });
        }
    }
}
