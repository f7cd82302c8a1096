//! A plugin's side of the host platform (Model B, self-registering): the plugin joins its
//! host with a join token, declares the address it serves at, proves it during the host's
//! address check, registers what it serves, keeps its runtime token fresh, reports health,
//! and discovers the services of other plugins through the host's router. If the host
//! restarts and forgets it, it joins again by itself, with backoff.

use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use http::HeaderValue;
use tokio::sync::watch;

use super::handshake::CORE_PROTOCOL_VERSION;
use super::{Plugin, PluginSet};
use crate::StreamType;
use crate::pb::connectplugin::v1 as cp;
use crate::protocol::{Code, Status};
use crate::rpc::Idempotency;
use crate::rpc::{
    Client, ClientCall, ClientNext, ClientOutput, Interceptor, MethodDescriptor, Request, Streaming,
};
use crate::transport::Channel;

/// Environment variable: the host's URL (`http://10.0.0.1:7000`).
pub const ENV_HOST_URL: &str = "CONNECT_PLUGIN_HOST_URL";
/// Environment variable: the join token the host admits this plugin with.
pub const ENV_JOIN_TOKEN: &str = "CONNECT_PLUGIN_JOIN_TOKEN";
/// Environment variable: the id the plugin calls itself (default: its first plugin's name).
pub const ENV_SELF_ID: &str = "CONNECT_PLUGIN_SELF_ID";
/// Environment variable: the address the host reaches the plugin at (default: where it
/// listens).
pub const ENV_ADVERTISE: &str = "CONNECT_PLUGIN_ADVERTISE";

/// How long between heartbeats by default (a health report, which also tells the plugin
/// whether the host still knows it).
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(10);
/// The longest wait between attempts to join.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How a self-registering plugin finds and joins its host.
#[derive(Clone)]
pub struct JoinConfig {
    /// The host's URL.
    pub host_url: String,
    /// The join token (secret; never logged).
    pub join_token: String,
    /// The id the plugin calls itself; empty takes its first plugin's name.
    pub self_id: String,
    /// Its version.
    pub self_version: String,
    /// The address the host reaches it at; empty takes where it listens (`http://IP:PORT`
    /// or `unix:/path`).
    pub advertise: String,
    /// The services it needs from other plugins.
    pub requires: Vec<cp::ServiceDependency>,
    /// How often it reports its health, which is also how soon it notices that a restarted
    /// host forgot it (default [`DEFAULT_HEARTBEAT`]).
    pub heartbeat: Duration,
}

impl std::fmt::Debug for JoinConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinConfig")
            .field("host_url", &self.host_url)
            .field("self_id", &self.self_id)
            .field("advertise", &self.advertise)
            .field("requires", &self.requires)
            .finish_non_exhaustive()
    }
}

impl JoinConfig {
    /// A plugin joining the host at `host_url` with `join_token`.
    ///
    /// ```
    /// use connect_plugin::plugin::JoinConfig;
    ///
    /// let join = JoinConfig::new("http://127.0.0.1:7000", "join-secret")
    ///     .self_id("cache")
    ///     .requires("logger");
    /// # let _ = join;
    /// ```
    pub fn new(host_url: impl Into<String>, join_token: impl Into<String>) -> Self {
        JoinConfig {
            host_url: host_url.into(),
            join_token: join_token.into(),
            self_id: String::new(),
            self_version: "0.0.0".into(),
            advertise: String::new(),
            requires: Vec::new(),
            heartbeat: DEFAULT_HEARTBEAT,
        }
    }

    /// From the environment: `CONNECT_PLUGIN_HOST_URL` and `CONNECT_PLUGIN_JOIN_TOKEN`
    /// (both needed; `None` without the URL), `CONNECT_PLUGIN_SELF_ID`,
    /// `CONNECT_PLUGIN_ADVERTISE`.
    pub fn from_env() -> Option<Self> {
        let host_url = std::env::var(ENV_HOST_URL).ok()?;
        let mut join = JoinConfig::new(host_url, std::env::var(ENV_JOIN_TOKEN).unwrap_or_default());
        if let Ok(id) = std::env::var(ENV_SELF_ID) {
            join.self_id = id;
        }
        if let Ok(a) = std::env::var(ENV_ADVERTISE) {
            join.advertise = a;
        }
        Some(join)
    }

    /// Sets the self id.
    pub fn self_id(mut self, id: impl Into<String>) -> Self {
        self.self_id = id.into();
        self
    }

    /// Sets the version.
    pub fn self_version(mut self, version: impl Into<String>) -> Self {
        self.self_version = version.into();
        self
    }

    /// Sets the address the host reaches the plugin at.
    pub fn advertise(mut self, address: impl Into<String>) -> Self {
        self.advertise = address.into();
        self
    }

    /// Sets the heartbeat period.
    pub fn heartbeat(mut self, period: Duration) -> Self {
        self.heartbeat = period;
        self
    }

    /// Declares a service type the plugin needs (any version).
    pub fn requires(mut self, service_type: impl Into<String>) -> Self {
        self.requires.push(cp::ServiceDependency {
            r#type: service_type.into(),
            ..Default::default()
        });
        self
    }
}

/// Where the plugin's membership stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberState {
    /// Not admitted (yet, or any more).
    Joining,
    /// Admitted with this runtime id; its services registered.
    Joined(String),
}

struct Inner {
    config: JoinConfig,
    host: Channel,
    token: RwLock<Option<String>>,
    /// The runtime id of the admission in progress or done (the host's address check may
    /// arrive before the plugin has read the handshake's answer: it waits for this).
    pending_id: watch::Sender<Option<String>>,
    state: watch::Sender<MemberState>,
    /// Counts the host's refusals of the token: the membership task joins again.
    refused: watch::Sender<u64>,
    health: RwLock<(cp::HealthState, String)>,
}

/// A plugin's membership of its host platform: cheap to clone; what a plugin's own code
/// uses to reach other plugins' services and to report its health.
///
/// ```no_run
/// use connect_plugin::plugin::{JoinConfig, Membership, MagicCookie, ServeConfig};
/// use connect_plugin::pb::connectplugin::v1::CapabilityBrokerPlugin;
/// use connect_plugin::PluginSet;
///
/// # async fn run(plugins: PluginSet) -> Result<(), Box<dyn std::error::Error>> {
/// let member = Membership::new(JoinConfig::new("http://127.0.0.1:7000", "join-secret").requires("capability_broker"))?;
/// let mut config = ServeConfig::new(MagicCookie::new("APP", "x"), plugins);
/// config.join = Some(member.clone());
/// config.listen = Some("127.0.0.1:0".into());
/// tokio::spawn(connect_plugin::plugin::serve(config));
/// member.joined().await;
/// // Another plugin's service, through the host (whichever provider it picks per call).
/// let broker = member.discover::<CapabilityBrokerPlugin>();
/// # let _ = broker;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Membership {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Membership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Membership")
            .field("config", &self.inner.config)
            .field("state", &*self.inner.state.borrow())
            .finish()
    }
}

/// Why a membership could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("invalid host URL: {0}")]
pub struct InvalidHost(#[from] crate::transport::InvalidEndpoint);

/// Sends the current runtime token with every call, and tells the membership when the
/// host refuses it.
struct CurrentToken(Arc<Inner>);

impl Interceptor for CurrentToken {
    fn intercept_client<'a>(
        &'a self,
        mut call: ClientCall,
        next: ClientNext<'a>,
    ) -> futures_util::future::BoxFuture<'a, Result<ClientOutput, Status>> {
        let token = self
            .0
            .token
            .read()
            .ok()
            .and_then(|t| t.clone())
            .unwrap_or_default();
        if let Ok(mut v) = HeaderValue::from_str(&format!("Bearer {token}")) {
            v.set_sensitive(true);
            call.headers.insert(http::header::AUTHORIZATION, v);
        }
        Box::pin(async move {
            let out = next.run(call).await;
            if let Err(e) = &out {
                if e.code() == Code::Unauthenticated {
                    self.0.refused.send_modify(|n| *n += 1);
                }
            }
            out
        })
    }
}

impl Membership {
    /// A membership (not joined until the plugin serves with it, see
    /// [`ServeConfig::join`](super::ServeConfig::join)).
    pub fn new(config: JoinConfig) -> Result<Self, InvalidHost> {
        let host = Channel::builder(&config.host_url)?.build();
        Ok(Membership {
            inner: Arc::new(Inner {
                config,
                host,
                token: RwLock::new(None),
                pending_id: watch::Sender::new(None),
                state: watch::Sender::new(MemberState::Joining),
                refused: watch::Sender::new(0),
                health: RwLock::new((cp::HealthState::Healthy, String::new())),
            }),
        })
    }

    /// Where the membership stands.
    pub fn state(&self) -> MemberState {
        self.inner.state.borrow().clone()
    }

    /// The runtime id the host assigned, once joined.
    pub fn runtime_id(&self) -> Option<String> {
        match &*self.inner.state.borrow() {
            MemberState::Joined(id) => Some(id.clone()),
            MemberState::Joining => None,
        }
    }

    /// Follows the membership's state (joined, then joining again after the host forgot
    /// the plugin, and so on).
    pub fn subscribe(&self) -> watch::Receiver<MemberState> {
        self.inner.state.subscribe()
    }

    /// Waits until the plugin is admitted and its services registered; returns its runtime
    /// id.
    pub async fn joined(&self) -> String {
        let mut rx = self.inner.state.subscribe();
        loop {
            if let MemberState::Joined(id) = &*rx.borrow_and_update() {
                return id.clone();
            }
            if rx.changed().await.is_err() {
                return String::new();
            }
        }
    }

    /// A client of the host's control plane, carrying the current runtime token.
    fn control(&self) -> Client {
        Client::new(self.inner.host.clone()).with_interceptor(CurrentToken(self.inner.clone()))
    }

    /// Another plugin's service `P`, through the host's router: the host picks a healthy
    /// provider per call, so providers coming and going are invisible here. The type asked
    /// for is `P`'s name; it must be declared with [`JoinConfig::requires`].
    pub fn discover<P: Plugin>(&self) -> Arc<P::Service> {
        self.discover_type::<P>(P::INFO.name)
    }

    /// [`Membership::discover`] for service type `service_type` served as `P`.
    pub fn discover_type<P: Plugin>(&self, service_type: &str) -> Arc<P::Service> {
        let base = format!(
            "{}/services/{service_type}/-",
            self.inner.config.host_url.trim_end_matches('/')
        );
        let channel = match Channel::builder(&base) {
            Ok(b) => b.build(),
            // The host URL parsed already; a type that breaks it is refused per call.
            Err(_) => self.inner.host.clone(),
        };
        P::client(Client::new(channel).with_interceptor(CurrentToken(self.inner.clone())))
    }

    /// Reports the plugin's health to the host, which routes by it at once (and repeats it
    /// with every heartbeat).
    pub async fn report_health(
        &self,
        state: cp::HealthState,
        reason: impl Into<String>,
    ) -> Result<(), Status> {
        let reason = reason.into();
        if let Ok(mut h) = self.inner.health.write() {
            *h = (state, reason.clone());
        }
        self.send_health().await
    }

    async fn send_health(&self) -> Result<(), Status> {
        let (state, reason) = self
            .inner
            .health
            .read()
            .map(|h| h.clone())
            .unwrap_or((cp::HealthState::Healthy, String::new()));
        cp::PluginLifecycle::report_health(
            &cp::PluginLifecycleClient::new(self.control()),
            Request::new(cp::ReportHealthRequest {
                state: state as i32,
                reason,
                unavailable_dependencies: Vec::new(),
            }),
        )
        .await
        .map(|_| ())
    }

    /// The providers of `service_type` (declared as a dependency), then every change.
    pub async fn watch(
        &self,
        service_type: &str,
    ) -> Result<Streaming<cp::WatchServiceEvent>, Status> {
        cp::ServiceRegistry::watch_service(
            &cp::ServiceRegistryClient::new(self.control()),
            Request::new(cp::WatchServiceRequest {
                service_type: service_type.to_owned(),
                min_version: String::new(),
            }),
        )
        .await
        .map(crate::rpc::Response::into_inner)
    }

    /// Confirms the host's address check (called by the plugin's own `VerifyAddress`). The
    /// check may arrive before the plugin has read the handshake's answer: it waits (a
    /// little) for that.
    pub(super) async fn confirm(&self, runtime_id: &str, nonce: String) -> Result<(), Status> {
        let mut pending = self.inner.pending_id.subscribe();
        let ours = matches!(
            tokio::time::timeout(
                Duration::from_secs(5),
                pending.wait_for(|id| id.as_deref() == Some(runtime_id)),
            )
            .await,
            Ok(Ok(_))
        );
        if !ours {
            return Err(Status::permission_denied(
                "this plugin was not admitted under that runtime id",
            ));
        }
        cp::PluginLifecycle::confirm_address(
            &cp::PluginLifecycleClient::new(self.control()),
            Request::new(cp::ConfirmAddressRequest { nonce }),
        )
        .await
        .map(|_| ())
    }
}

/// The method spec of a descriptor, as a provider registers it.
///
/// ```
/// use connect_plugin::pb::grpc::health::v1::HEALTH_CHECK;
/// use connect_plugin::plugin::method_spec;
///
/// let spec = method_spec(&HEALTH_CHECK);
/// assert_eq!(spec.name, "Check");
/// ```
pub fn method_spec(method: &MethodDescriptor) -> cp::MethodSpec {
    cp::MethodSpec {
        name: method.method().to_owned(),
        kind: match method.stream_type {
            StreamType::Unary => cp::MethodKind::Unary,
            StreamType::ClientStreaming => cp::MethodKind::ClientStreaming,
            StreamType::ServerStreaming => cp::MethodKind::ServerStreaming,
            StreamType::BidiStreaming => cp::MethodKind::BidiStreaming,
        } as i32,
        no_side_effects: method.idempotency == Idempotency::NoSideEffects,
        idempotent: method.idempotency == Idempotency::Idempotent,
    }
}

/// What the membership task needs to know of the plugin server.
pub(super) struct Served {
    pub(super) plugins: PluginSet,
    pub(super) app_versions: Vec<u32>,
    pub(super) cookie: super::MagicCookie,
    /// Where the server listens, as a URL (`http://IP:PORT`, `unix:/path`).
    pub(super) listening: String,
}

fn seconds_until(t: Option<&pbjson_types::Timestamp>) -> Duration {
    let Some(t) = t else {
        return Duration::from_secs(3600);
    };
    let at = SystemTime::UNIX_EPOCH
        + Duration::from_secs(u64::try_from(t.seconds).unwrap_or(0))
        + Duration::from_nanos(u64::try_from(t.nanos).unwrap_or(0));
    at.duration_since(SystemTime::now()).unwrap_or_default()
}

impl Membership {
    /// Joins the host and stays joined until the returned task is aborted.
    pub(super) fn start(&self, served: Served) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move { this.run(served).await })
    }

    async fn run(&self, served: Served) {
        let mut backoff = Duration::from_millis(100);
        loop {
            let mut refusals = self.inner.refused.subscribe();
            refusals.borrow_and_update();
            match self.join_once(&served).await {
                Ok(lifetime) => {
                    backoff = Duration::from_millis(100);
                    self.stay(lifetime, &mut refusals).await;
                    self.inner.state.send_replace(MemberState::Joining);
                    tracing::warn!("the host no longer knows this plugin; joining again");
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "joining the host failed");
                    let jitter =
                        Duration::from_millis(fastrand::u64(0..=backoff.as_millis() as u64 / 4));
                    tokio::time::sleep(backoff + jitter).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// One admission: handshake, then every plugin registered. Returns the token's
    /// lifetime.
    async fn join_once(&self, served: &Served) -> Result<Duration, Status> {
        let config = &self.inner.config;
        let self_id = if config.self_id.is_empty() {
            served
                .plugins
                .infos()
                .next()
                .map(|i| i.name.to_owned())
                .unwrap_or_default()
        } else {
            config.self_id.clone()
        };
        // A plugin that provides nothing only calls: the host never calls it back.
        let address = if served.plugins.is_empty() {
            String::new()
        } else if config.advertise.is_empty() {
            served.listening.clone()
        } else {
            config.advertise.clone()
        };
        let join = crate::interceptors::auth::BearerToken::new(&config.join_token)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let handshake = cp::HandshakeServiceClient::new(
            Client::new(self.inner.host.clone()).with_interceptor(join),
        );
        let admitted = cp::HandshakeService::handshake(
            &handshake,
            Request::new(cp::HandshakeRequest {
                core_protocol_version: CORE_PROTOCOL_VERSION,
                app_protocol_versions: served.app_versions.clone(),
                magic_cookie_key: served.cookie.key.clone(),
                magic_cookie_value: served.cookie.value.clone(),
                requested_plugins: Vec::new(),
                self_id,
                self_version: config.self_version.clone(),
                provides: served
                    .plugins
                    .infos()
                    .map(|i| cp::ServiceDeclaration {
                        r#type: i.name.to_owned(),
                        version: i.version.to_owned(),
                        service_name: i.service_name.to_owned(),
                    })
                    .collect(),
                requires: config.requires.clone(),
                capabilities: Vec::new(),
                address,
            }),
        )
        .await?
        .into_inner();
        if let Ok(mut t) = self.inner.token.write() {
            *t = Some(admitted.runtime_token.clone());
        }
        self.inner
            .pending_id
            .send_replace(Some(admitted.runtime_id.clone()));
        let registry = cp::ServiceRegistryClient::new(self.control());
        for (info, router) in served.plugins.served() {
            let methods = router
                .methods()
                .filter(|m| m.service() == info.service_name)
                .map(method_spec)
                .collect();
            cp::ServiceRegistry::register_service(
                &registry,
                Request::new(cp::RegisterServiceRequest {
                    service_type: info.name.to_owned(),
                    version: info.version.to_owned(),
                    service_name: info.service_name.to_owned(),
                    metadata: Default::default(),
                    weight: 1,
                    methods,
                }),
            )
            .await?;
        }
        tracing::info!(runtime_id = %admitted.runtime_id, "joined the host");
        self.inner
            .state
            .send_replace(MemberState::Joined(admitted.runtime_id));
        Ok(seconds_until(admitted.token_expires_at.as_ref()))
    }

    /// Keeps the membership alive: heartbeats, and a fresh token before the old one
    /// expires. Returns when the host refuses the token (it restarted and forgot the
    /// plugin, or removed it).
    async fn stay(&self, lifetime: Duration, refusals: &mut watch::Receiver<u64>) {
        let mut refresh_at = tokio::time::Instant::now() + lifetime * 2 / 3;
        loop {
            tokio::select! {
                _ = refusals.changed() => return,
                () = tokio::time::sleep(self.inner.config.heartbeat) => {
                    if let Err(e) = self.send_health().await {
                        if e.code() == Code::Unauthenticated {
                            return;
                        }
                        tracing::debug!(error = %e, "heartbeat failed");
                    }
                }
                () = tokio::time::sleep_until(refresh_at) => {
                    match cp::PluginLifecycle::refresh_token(
                        &cp::PluginLifecycleClient::new(self.control()),
                        Request::new(cp::RefreshTokenRequest {}),
                    )
                    .await
                    {
                        Ok(fresh) => {
                            let fresh = fresh.into_inner();
                            if let Ok(mut t) = self.inner.token.write() {
                                *t = Some(fresh.runtime_token);
                            }
                            let lifetime = seconds_until(fresh.token_expires_at.as_ref());
                            refresh_at = tokio::time::Instant::now() + lifetime * 2 / 3;
                        }
                        Err(e) if e.code() == Code::Unauthenticated => return,
                        Err(e) => {
                            tracing::warn!(error = %e, "refreshing the runtime token failed; retrying");
                            refresh_at = tokio::time::Instant::now() + Duration::from_secs(1);
                        }
                    }
                }
            }
        }
    }

    /// Leaves the host (on a graceful shutdown): registrations go, tokens are revoked.
    pub(super) async fn leave(&self, reason: &str) {
        if self.runtime_id().is_none() {
            return;
        }
        let left = cp::PluginLifecycle::leave(
            &cp::PluginLifecycleClient::new(self.control()),
            Request::new(cp::LeaveRequest {
                reason: reason.to_owned(),
            }),
        )
        .await;
        if let Err(e) = left {
            tracing::debug!(error = %e, "leaving the host failed");
        }
        self.inner.state.send_replace(MemberState::Joining);
    }
}
