//! Self-registering plugins (Model B) with the runtime's plugin side: a provider and a
//! consumer served with `serve` and a `Membership` join the host by themselves (join
//! token, address check, registration of their methods); the consumer calls the provider
//! through the host with `discover`; a host that restarts and forgets them gets them back
//! by themselves; a provider that shuts down leaves.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use connect_plugin::pb::connectplugin::v1 as cp;
use connect_plugin::plugin::{JoinConfig, MagicCookie, MemberState, Membership, ServeConfig};
use connect_plugin::transport::{ListenAddr, RunningServer};
use connect_plugin::{Code, PluginSet, Request, Response, Server, Status};
use connect_plugin_platform::Platform;
use connect_plugin_platform::address::AllowList;
use connect_plugin_platform::control::{AddressCheck, PlatformConfig};
use connect_plugin_platform::identity::{JoinTokens, SelfIdPattern};

const JOIN: &str = "join-secret-for-model-b";

fn cookie() -> MagicCookie {
    MagicCookie::new("MODEL_B_TEST", "yes")
}

/// The provider's service: answers with its name and the caller the host named.
struct Broker {
    name: &'static str,
    callers: Arc<Mutex<Vec<String>>>,
}

#[connect_plugin::async_trait]
impl cp::CapabilityBroker for Broker {
    async fn request_capability(
        &self,
        request: Request<cp::RequestCapabilityRequest>,
    ) -> Result<Response<cp::RequestCapabilityResponse>, Status> {
        let caller = request
            .headers()
            .get("connect-plugin-caller")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        self.callers.lock().unwrap().push(caller);
        Ok(Response::new(cp::RequestCapabilityResponse {
            capability_type: self.name.to_owned(),
            ..Default::default()
        }))
    }
}

/// The consumer serves something too (a plugin server serves at least one plugin).
struct Quiet;

#[connect_plugin::async_trait]
impl cp::PluginLifecycle for Quiet {
    async fn report_health(
        &self,
        _: Request<cp::ReportHealthRequest>,
    ) -> Result<Response<cp::ReportHealthResponse>, Status> {
        Err(Status::unimplemented("quiet"))
    }
    async fn refresh_token(
        &self,
        _: Request<cp::RefreshTokenRequest>,
    ) -> Result<Response<cp::RefreshTokenResponse>, Status> {
        Err(Status::unimplemented("quiet"))
    }
    async fn confirm_address(
        &self,
        _: Request<cp::ConfirmAddressRequest>,
    ) -> Result<Response<cp::ConfirmAddressResponse>, Status> {
        Err(Status::unimplemented("quiet"))
    }
    async fn leave(
        &self,
        _: Request<cp::LeaveRequest>,
    ) -> Result<Response<cp::LeaveResponse>, Status> {
        Err(Status::unimplemented("quiet"))
    }
}

fn platform() -> Platform {
    Platform::new(PlatformConfig {
        cookie: Some(cookie()),
        join_tokens: JoinTokens::new()
            .with(SelfIdPattern::parse("broker-*").unwrap(), JOIN)
            .with(SelfIdPattern::parse("app").unwrap(), JOIN),
        allow: AllowList::new().with("http://127.0.0.1:*").unwrap(),
        ..PlatformConfig::default()
    })
}

async fn serve_host(platform: &Platform, addr: &str) -> (RunningServer, String) {
    let server = Server::new(platform.router()).bind(addr).await.unwrap();
    let url = match server.local_addr() {
        ListenAddr::Tcp(a) => format!("http://{a}"),
        other => panic!("{other:?}"),
    };
    (server, url)
}

fn join(host: &str, self_id: &str) -> JoinConfig {
    JoinConfig::new(host, JOIN)
        .self_id(self_id)
        .heartbeat(Duration::from_millis(50))
}

async fn within<F: std::future::Future>(what: &str, fut: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), fut)
        .await
        .unwrap_or_else(|_| panic!("{what} took more than 20 s"))
}

/// Serves `plugins` as a self-registering plugin; returns its membership once joined.
async fn start_plugin(plugins: PluginSet, join: JoinConfig) -> Membership {
    let member = Membership::new(join).unwrap();
    let mut config = ServeConfig::new(cookie(), plugins);
    config.listen = Some("127.0.0.1:0".into());
    config.join = Some(member.clone());
    tokio::spawn(async move {
        if let Err(e) = connect_plugin::plugin::serve(config).await {
            panic!("the plugin stopped serving: {e}");
        }
    });
    within("joining", member.joined()).await;
    member
}

async fn verified(platform: &Platform, runtime_id: &str) {
    let member = platform
        .control_plane()
        .members
        .find(runtime_id)
        .expect("admitted");
    assert_eq!(
        within("the address check", member.address_checked()).await,
        AddressCheck::Verified
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_registering_plugins_call_each_other_through_the_host_and_come_back_after_a_restart() {
    let platform = platform();
    let (host_server, host) = serve_host(&platform, "127.0.0.1:0").await;
    let callers = Arc::new(Mutex::new(Vec::new()));
    let provider = start_plugin(
        PluginSet::new().with::<cp::CapabilityBrokerPlugin>(Arc::new(Broker {
            name: "broker-a",
            callers: callers.clone(),
        })),
        join(&host, "broker-a"),
    )
    .await;
    let provider_id = provider.runtime_id().unwrap();
    assert!(provider_id.starts_with("broker-a-"));
    verified(&platform, &provider_id).await;
    let consumer = start_plugin(
        PluginSet::new().with::<cp::PluginLifecyclePlugin>(Arc::new(Quiet)),
        join(&host, "app").requires("capability_broker"),
    )
    .await;
    let consumer_id = consumer.runtime_id().unwrap();

    let broker = consumer.discover::<cp::CapabilityBrokerPlugin>();
    let answer = broker
        .request_capability(Request::new(cp::RequestCapabilityRequest::default()))
        .await
        .unwrap();
    assert_eq!(answer.into_inner().capability_type, "broker-a");
    assert_eq!(
        callers.lock().unwrap().as_slice(),
        std::slice::from_ref(&consumer_id)
    );

    // The host restarts (same address, empty state): both plugins notice their tokens are
    // refused and join again, with new runtime ids, by themselves.
    let addr = host.trim_start_matches("http://").to_owned();
    host_server.shutdown(Duration::from_millis(100)).await;
    let platform = platform_again();
    let (_host_server, _) = serve_host(&platform, &addr).await;
    let new_provider = within("the provider joining again", async {
        let mut rx = provider.subscribe();
        loop {
            if let MemberState::Joined(id) = &*rx.borrow_and_update() {
                if *id != provider_id {
                    return id.clone();
                }
            }
            rx.changed().await.unwrap();
        }
    })
    .await;
    verified(&platform, &new_provider).await;
    within("the consumer joining again", async {
        let mut rx = consumer.subscribe();
        loop {
            if let MemberState::Joined(id) = &*rx.borrow_and_update() {
                if *id != consumer_id {
                    return;
                }
            }
            rx.changed().await.unwrap();
        }
    })
    .await;
    // The same discovered client keeps working: it calls by type, through the host.
    let answer = broker
        .request_capability(Request::new(cp::RequestCapabilityRequest::default()))
        .await
        .unwrap();
    assert_eq!(answer.into_inner().capability_type, "broker-a");

    // The provider shuts down gracefully: it leaves, and the type has no provider.
    let control = cp::PluginControlClient::new(connect_plugin::Client::new(
        connect_plugin::Channel::builder(
            &platform
                .control_plane()
                .members
                .find(&new_provider)
                .unwrap()
                .address
                .clone()
                .unwrap()
                .to_string(),
        )
        .unwrap()
        .build(),
    ));
    cp::PluginControl::shutdown(&control, Request::new(cp::ShutdownRequest::default()))
        .await
        .unwrap();
    within("the provider leaving", async {
        while platform
            .control_plane()
            .members
            .find(&new_provider)
            .is_some()
        {
            tokio::task::yield_now().await;
        }
    })
    .await;
    let gone = broker
        .request_capability(Request::new(cp::RequestCapabilityRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
}

fn platform_again() -> Platform {
    platform()
}

#[tokio::test]
async fn a_plugin_without_the_right_join_token_never_joins() {
    let platform = platform();
    let (_server, host) = serve_host(&platform, "127.0.0.1:0").await;
    let member = Membership::new(JoinConfig::new(&host, "wrong").self_id("broker-x")).unwrap();
    let mut config = ServeConfig::new(
        cookie(),
        PluginSet::new().with::<cp::CapabilityBrokerPlugin>(Arc::new(Broker {
            name: "broker-x",
            callers: Arc::default(),
        })),
    );
    config.listen = Some("127.0.0.1:0".into());
    config.join = Some(member.clone());
    tokio::spawn(connect_plugin::plugin::serve(config));
    // It keeps trying (with backoff) and is never admitted.
    let joined = tokio::time::timeout(Duration::from_millis(500), member.joined()).await;
    assert!(joined.is_err(), "admitted with a wrong join token");
    assert!(platform.control_plane().members.is_empty());
}
