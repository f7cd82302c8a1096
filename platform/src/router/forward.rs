//! Forwarding one routed call: the caller authenticated by its runtime token and allowed
//! only the types it declared; a provider chosen (healthy, address verified, serving the
//! method); the call sent on through the provider's client transport without decoding its
//! messages — streams both ways, headers, trailers, errors and deadlines passed through —
//! with the caller's identity in a header the host sets.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use connect_plugin::codegen::BoxFuture;
use connect_plugin::rpc::{
    ClientCall, ClientInput, ClientTransport as _, EncodeStream, Handler, ServerCall, ServerInput,
    ServerOutput, ServerOutputBody,
};
use connect_plugin::{ClientConfig, Status};
use http::{HeaderMap, HeaderName, HeaderValue};

use super::links::{Link, Links};
use super::path::{RoutedPath, Target, parse};
use crate::control::ControlPlane;
use crate::registry::Provider;
use crate::select::{Candidate, Health, choose};
use crate::version::VersionFilter;

/// The header carrying the verified runtime id of the plugin that made a routed call. The
/// host sets it; a copy sent by the caller is dropped.
pub const CALLER_HEADER: HeaderName = HeaderName::from_static("connect-plugin-caller");

/// How many providers a call that provably reached none is tried on.
const ATTEMPTS: usize = 3;

/// Request headers not sent on: the protocol's own (the provider's transport writes its
/// own), hop-by-hop headers, the caller's credentials and any claim of a caller identity.
fn forwardable(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(headers.len() + 1);
    for (k, v) in headers {
        let name = k.as_str();
        let dropped = name.starts_with("grpc-")
            || name.starts_with("connect-")
            || matches!(
                name,
                "content-type"
                    | "content-encoding"
                    | "content-length"
                    | "accept-encoding"
                    | "authorization"
                    | "connection"
                    | "keep-alive"
                    | "proxy-authenticate"
                    | "proxy-authorization"
                    | "proxy-connection"
                    | "te"
                    | "trailer"
                    | "transfer-encoding"
                    | "upgrade"
                    | "host"
            );
        if !dropped {
            out.append(k.clone(), v.clone());
        }
    }
    out
}

/// Counts a call in flight to a provider until dropped.
struct InFlight(Arc<Link>);

impl InFlight {
    fn start(link: &Arc<Link>) -> Self {
        link.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(link.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A forwarded response stream that counts its call in flight until it ends.
struct Counted {
    inner: Box<dyn EncodeStream>,
    _in_flight: InFlight,
}

impl EncodeStream for Counted {
    fn poll_encode(
        &mut self,
        cx: &mut std::task::Context<'_>,
        dst: &mut bytes::BytesMut,
    ) -> std::task::Poll<Option<Result<(), Status>>> {
        self.inner.poll_encode(cx, dst)
    }
}

/// The forwarding handler.
pub(crate) struct Forward {
    pub(crate) plane: Arc<ControlPlane>,
    pub(crate) links: Links,
    pub(crate) metrics: Arc<crate::metrics::Metrics>,
}

impl Handler for Forward {
    fn call(&self, call: ServerCall) -> BoxFuture<'static, Result<ServerOutput, Status>> {
        let plane = self.plane.clone();
        let links = self.links.clone();
        let metrics = self.metrics.clone();
        Box::pin(async move { forward(&plane, &links, &metrics, call).await })
    }
}

/// The providers of the call's type that may take it, in registration order.
fn providers_for(
    plane: &ControlPlane,
    routed: &RoutedPath<'_>,
) -> Result<Vec<Arc<Provider>>, Status> {
    let all = plane
        .registry
        .providers(routed.service_type, &VersionFilter::ANY);
    if all.is_empty() {
        return Err(Status::not_found(format!(
            "no provider of {:?} is registered",
            routed.service_type
        )));
    }
    let targeted: Vec<Arc<Provider>> = match routed.target {
        Target::Any => all,
        Target::Provider(id) => all.into_iter().filter(|p| p.provider_id == id).collect(),
    };
    if targeted.is_empty() {
        return Err(Status::not_found(format!(
            "{:?} is not a provider of {:?}",
            match routed.target {
                Target::Provider(id) => id,
                Target::Any => "-",
            },
            routed.service_type
        )));
    }
    let serving: Vec<Arc<Provider>> = targeted
        .into_iter()
        .filter(|p| p.methods.iter().any(|m| m.path == routed.method_path))
        .collect();
    if serving.is_empty() {
        return Err(Status::unimplemented(format!(
            "no provider of {:?} serves {}",
            routed.service_type, routed.method_path
        )));
    }
    Ok(serving)
}

async fn forward(
    plane: &ControlPlane,
    links: &Links,
    metrics: &crate::metrics::Metrics,
    call: ServerCall,
) -> Result<ServerOutput, Status> {
    let started = Instant::now();
    let path = call.uri.path().to_owned();
    let Some(routed) = parse(&path) else {
        return Err(Status::unimplemented(format!(
            "no method is served at {path}"
        )));
    };
    let caller = plane.caller_of(&call.headers)?;
    plane.check_requires(&caller, routed.service_type)?;
    let providers = providers_for(plane, &routed)?;
    let mut headers = forwardable(&call.headers);
    headers.insert(
        CALLER_HEADER,
        HeaderValue::from_str(caller.runtime_id.as_str())
            .map_err(|_| Status::internal("a runtime id that is not a header value"))?,
    );
    let timeout = call
        .deadline
        .map(|d| d.saturating_duration_since(Instant::now()));
    let config = ClientConfig {
        protocol: call.protocol,
        ..ClientConfig::default()
    };
    let mut tried: Vec<&str> = Vec::new();
    let mut input = Some(call.input);
    let mut last_error = None;
    // Providers whose breaker is open fail fast and are skipped; they do not use up an
    // attempt (once their cool-down is over, a call through them is the probe).
    let mut attempts = 0;
    while attempts < ATTEMPTS {
        let candidates: Vec<(usize, Arc<Link>)> = providers
            .iter()
            .enumerate()
            .filter(|(_, p)| !tried.contains(&p.provider_id.as_str()))
            .map(|(i, p)| (i, links.link(plane, &p.provider_id)))
            .collect();
        let view: Vec<Candidate<'_>> = candidates
            .iter()
            .map(|(i, link)| {
                let p = &providers[*i];
                Candidate {
                    provider_id: &p.provider_id,
                    weight: p.weight,
                    in_flight: link.in_flight.load(Ordering::Relaxed),
                    health: p.health,
                }
            })
            .collect();
        let Some(pick) = choose(&*plane.config().select, &view) else {
            break;
        };
        let (index, link) = &candidates[pick];
        let provider = &providers[*index];
        // Only verified addresses are routed to (an unverified provider is unhealthy).
        debug_assert!(provider.health != Health::Unhealthy);
        let Some(transport) = link.transport(plane, &provider.provider_id, config.clone()) else {
            tried.push(&provider.provider_id);
            continue;
        };
        let Some(this_input) = input.take() else {
            break;
        };
        // A unary request is kept for another provider; a stream is sent on as it comes.
        let keep = match &this_input {
            ServerInput::Unary(m) => Some(ServerInput::Unary(m.clone())),
            ServerInput::Stream(_) => None,
        };
        let this_input = ClientInput::from(this_input);
        let method = provider
            .methods
            .iter()
            .find(|m| m.path == routed.method_path)
            .copied()
            .unwrap_or(call.method);
        let permit = match link.breaker.admit() {
            Ok(permit) => permit,
            Err(open) => {
                // Failing fast: this provider is ejected for now; try another.
                tried.push(&provider.provider_id);
                input = Some(match this_input {
                    ClientInput::Unary(m) => ServerInput::Unary(m),
                    ClientInput::Stream(_) => {
                        return Err(open);
                    }
                });
                last_error = Some(open);
                continue;
            }
        };
        attempts += 1;
        let in_flight = InFlight::start(link);
        let sent = transport
            .send(ClientCall {
                method,
                headers: headers.clone(),
                extensions: http::Extensions::new(),
                timeout,
                codec: call.codec,
                input: this_input,
            })
            .await;
        permit.record_result(&sent);
        let code = match &sent {
            Ok(_) => "ok",
            Err(e) => e.code().as_str(),
        };
        link.record(
            metrics,
            &provider.provider_id,
            routed.service_type,
            code,
            started.elapsed(),
        );
        match sent {
            Ok(out) => return Ok(output(out, in_flight)),
            Err(e) if e.is_unprocessed() && keep.is_some() && routed.target == Target::Any => {
                tracing::debug!(provider = %provider.provider_id, error = %e, "routed call never reached its provider; trying another");
                tried.push(&provider.provider_id);
                input = keep;
                last_error = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        Status::unavailable(format!(
            "no provider of {:?} can take calls now",
            routed.service_type
        ))
    }))
}

fn output(out: connect_plugin::rpc::ClientOutput, in_flight: InFlight) -> ServerOutput {
    let mut output = ServerOutput::from(out);
    if let ServerOutputBody::Stream(inner) = output.body {
        output.body = ServerOutputBody::Stream(Box::new(Counted {
            inner,
            _in_flight: in_flight,
        }));
    }
    output
}
