//! The plugin lifecycle with real processes: the `kv-plugin` binary launched, used and
//! stopped; every way a launch can go wrong; plugins and hosts killed with SIGKILL.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use connect_plugin::Code;
use connect_plugin::plugin::{MagicCookie, Network, PluginClient, PluginError, ReattachConfig};
use futures::StreamExt;
use kv::pb::{self, KvService, KvServicePlugin};
use kv::{get, put};

const PLUGIN: &str = env!("CARGO_BIN_EXE_kv-plugin");
const HOST: &str = env!("CARGO_BIN_EXE_kv-host");

async fn launch(network: Network) -> PluginClient {
    PluginClient::builder(kv::cookie())
        .command(PLUGIN)
        .network(network)
        .start()
        .await
        .expect("plugin starts")
}

fn pid_alive(pid: u32) -> bool {
    // A zombie has exited; only a running (or sleeping) process counts.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .split(") ")
            .nth(1)
            .is_some_and(|rest| rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Waits (bounded) for a process to be gone; returns how long it took.
async fn wait_gone(pid: u32, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if !pid_alive(pid) {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

#[tokio::test]
async fn launch_use_and_stop_over_unix_socket_and_tcp() {
    for network in [Network::Unix, Network::Tcp] {
        let plugin = launch(network).await;
        let line = plugin.handshake_line().expect("launched").clone();
        assert_eq!(line.network, network);
        assert_eq!(line.app_version, 1);
        assert_eq!(plugin.plugins().len(), 1);
        assert_eq!(plugin.plugins()[0].name, "kv");
        assert_eq!(plugin.plugins()[0].service_path, "/kv.v1.KVService/");
        let kv: Arc<dyn KvService> = plugin.dispense::<KvServicePlugin>().unwrap();

        let mut watch = kv
            .watch(
                pb::WatchRequest {
                    prefix: "a/".into(),
                }
                .into(),
            )
            .await
            .unwrap()
            .into_inner();
        assert!(
            kv.put(put("a/1", "x").into())
                .await
                .unwrap()
                .into_inner()
                .previous
                .is_none()
        );
        kv.put(put("b/1", "ignored").into()).await.unwrap();
        let prev = kv
            .put(put("a/1", "y").into())
            .await
            .unwrap()
            .into_inner()
            .previous;
        assert_eq!(prev.as_deref(), Some(&b"x"[..]));
        assert_eq!(
            &kv.get(get("a/1").into()).await.unwrap().into_inner().value[..],
            b"y"
        );
        assert!(
            kv.delete(pb::DeleteRequest { key: "a/1".into() }.into())
                .await
                .unwrap()
                .into_inner()
                .existed
        );
        assert_eq!(
            kv.get(get("a/1").into()).await.unwrap_err().code(),
            Code::NotFound
        );
        let mut seen = Vec::new();
        for _ in 0..3 {
            let e = tokio::time::timeout(Duration::from_secs(5), watch.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            seen.push((
                e.kind,
                e.key,
                String::from_utf8_lossy(&e.value).into_owned(),
            ));
        }
        assert_eq!(
            seen,
            vec![
                (
                    pb::watch_event::Kind::Put as i32,
                    "a/1".to_owned(),
                    "x".to_owned()
                ),
                (
                    pb::watch_event::Kind::Put as i32,
                    "a/1".to_owned(),
                    "y".to_owned()
                ),
                (
                    pb::watch_event::Kind::Delete as i32,
                    "a/1".to_owned(),
                    String::new()
                ),
            ]
        );
        drop(watch);

        let health = plugin.health().await.unwrap();
        assert_eq!(
            health.state,
            connect_plugin::pb::connectplugin::v1::HealthState::Healthy as i32
        );

        let socket = line.address.clone();
        let status = plugin.kill().await.expect("a launched process");
        assert!(
            status.success(),
            "{network:?}: the plugin exits cleanly on Shutdown: {status}"
        );
        if network == Network::Unix {
            let dir = std::path::Path::new(&socket)
                .parent()
                .unwrap()
                .to_path_buf();
            assert!(!dir.exists(), "the private socket directory is removed");
        }
    }
}

#[tokio::test]
async fn the_socket_directory_is_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let plugin = launch(Network::Unix).await;
    let line = plugin.handshake_line().unwrap();
    let dir = std::path::Path::new(&line.address).parent().unwrap();
    let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    plugin.kill().await;
}

#[test]
fn started_by_hand_it_explains_and_exits() {
    let out = Command::new(PLUGIN)
        .env_remove("KV_PLUGIN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("this program is a plugin"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn a_wrong_cookie_is_refused() {
    let err = PluginClient::builder(MagicCookie::new("KV_PLUGIN", "someone-else"))
        .command(PLUGIN)
        .start()
        .await
        .unwrap_err();
    let PluginError::Exited { stderr, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("this program is a plugin")),
        "{err}"
    );
}

#[tokio::test]
async fn no_common_version_names_both_sides() {
    let err = PluginClient::builder(kv::cookie())
        .command(PLUGIN)
        .app_versions([2, 3])
        .start()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, PluginError::Exited { .. }), "{text}");
    assert!(
        text.contains("the host supports [2, 3], this plugin [1]"),
        "{text}"
    );
}

#[tokio::test]
async fn garbage_before_the_handshake_line_is_reported() {
    let err = PluginClient::builder(kv::cookie())
        .command("sh")
        .arg("-c")
        .arg("echo 'Starting up, please wait'; exec \"$0\"")
        .arg(PLUGIN)
        .start()
        .await
        .unwrap_err();
    match err {
        PluginError::BeforeHandshake { line, .. } => assert_eq!(line, "Starting up, please wait"),
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn a_plugin_that_never_answers_times_out() {
    let started = Instant::now();
    let err = PluginClient::builder(kv::cookie())
        .command("sleep")
        .arg("30")
        .start_timeout(Duration::from_millis(300))
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, PluginError::StartTimeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn unknown_and_unrequested_plugins_are_clear_errors() {
    let plugin = launch(Network::Unix).await;
    let Err(err) =
        plugin.dispense::<connect_plugin::pb::connectplugin::v1::CapabilityBrokerPlugin>()
    else {
        panic!("a plugin the process does not serve was dispensed");
    };
    assert!(err.to_string().contains("does not serve it"), "{err}");
    plugin.kill().await;

    let plugin = PluginClient::builder(kv::cookie())
        .command(PLUGIN)
        .request("kv")
        .start()
        .await
        .unwrap();
    assert!(plugin.dispense::<KvServicePlugin>().is_ok());
    plugin.kill().await;

    let err = PluginClient::builder(kv::cookie())
        .command(PLUGIN)
        .request("nope")
        .start()
        .await
        .unwrap_err();
    let PluginError::Handshake { status, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(status.code(), Code::NotFound);
}

#[tokio::test]
async fn a_plugin_killed_mid_stream_ends_the_stream_with_unavailable() {
    let plugin = launch(Network::Unix).await;
    let kv = plugin.dispense::<KvServicePlugin>().unwrap();
    let mut watch = kv
        .watch(
            pb::WatchRequest {
                prefix: String::new(),
            }
            .into(),
        )
        .await
        .unwrap()
        .into_inner();
    let pid = plugin.pid().unwrap();
    assert!(
        Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let started = Instant::now();
    let end = tokio::time::timeout(Duration::from_secs(5), watch.next())
        .await
        .expect("the stream ends promptly");
    let err = end.expect("an error, not a clean end").unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    // New calls fail fast too.
    let err = tokio::time::timeout(Duration::from_secs(5), kv.get(get("x").into()))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
}

#[tokio::test]
async fn when_the_host_is_killed_the_plugin_exits() {
    let mut host = Command::new(HOST)
        .arg("--plugin")
        .arg(PLUGIN)
        .arg("--hold")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = host.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(pid) = line.strip_prefix("plugin pid ") {
                let _ = tx.send(pid.parse::<u32>().unwrap_or(0));
                return;
            }
        }
    });
    let pid = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the host reports its plugin");
    assert!(pid_alive(pid));
    host.kill().unwrap(); // SIGKILL: no chance to clean up.
    host.wait().unwrap();
    let gone = wait_gone(pid, Duration::from_secs(5)).await;
    let took = gone.unwrap_or_else(|| {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        panic!("the plugin outlived its host");
    });
    assert!(took < Duration::from_millis(1500), "took {took:?}");
}

/// Where `/proc/PID/fd/N` points, if the process exists.
fn fd_target(pid: u32, fd: u32) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/fd/{fd}"))
        .ok()
        .map(|p| p.display().to_string())
}

/// Starts `kv-host --outlive FILE ARGS..`, waits until it has saved the reattach
/// configuration, and returns the host process.
fn host_leaving_its_plugin(file: &std::path::Path, args: &[&str]) -> std::process::Child {
    let mut host = Command::new(HOST)
        .arg("--plugin")
        .arg(PLUGIN)
        .arg("--outlive")
        .arg(file)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = host.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("saved the reattach configuration") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the host saves its reattach configuration");
    host
}

/// Waits (bounded) until the orphaned plugin has pointed its stderr at /dev/null.
async fn wait_quiet(pid: u32) {
    let start = Instant::now();
    while fd_target(pid, 2).as_deref() != Some("/dev/null") {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "stderr still {:?} after the host went",
            fd_target(pid, 2)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_plugin_outlives_its_host_and_the_restarted_host_reattaches() {
    let dir = std::env::temp_dir().join(format!("kv-outlive-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("unix.json");
    // The first host launches the plugin, stores a key, saves the configuration and exits.
    let mut host = host_leaving_its_plugin(&file, &[]);
    let host_pid = host.id();
    assert!(host.wait().unwrap().success());
    let config = ReattachConfig::load(&file).unwrap();
    let pid = config.pid.expect("the launching host records the pid");
    assert!(pid_alive(pid), "the plugin outlived its host");
    assert_eq!(config.line.network, Network::Unix);
    assert!(config.host_key.is_none(), "no key for a Unix socket");
    // Its stdout and stderr pipes have no reader now: it points them at /dev/null instead
    // of failing (or panicking, for println!) on every write.
    wait_quiet(pid).await;
    assert_eq!(fd_target(pid, 1).as_deref(), Some("/dev/null"));

    // The restarted host reattaches; the plugin is the same process, with its data.
    let plugin = PluginClient::builder(kv::cookie())
        .reattach(config.clone())
        .grace(Duration::from_secs(5))
        .start()
        .await
        .unwrap();
    assert_eq!(plugin.pid(), Some(pid));
    let kv = plugin.dispense::<KvServicePlugin>().unwrap();
    let kept = kv.get(get("session/host-pid").into()).await.unwrap();
    assert_eq!(kept.into_inner().value, host_pid.to_string().into_bytes());
    kv.put(put("k", "v").into()).await.unwrap();

    // Stopping it from the new host: Shutdown, and kill() waits until the process is gone
    // (well inside the grace period: it was the Shutdown, not a SIGKILL).
    let started = Instant::now();
    assert!(plugin.kill().await.is_none(), "not this host's child");
    let took = started.elapsed();
    assert!(wait_gone(pid, Duration::from_secs(2)).await.is_some());
    assert!(took < Duration::from_secs(4), "stopping took {took:?}");
    let socket_dir = std::path::Path::new(&config.line.address).parent().unwrap();
    assert!(
        !socket_dir.exists(),
        "the plugin removed its private directory"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn an_mtls_plugin_survives_its_host_being_killed() {
    let dir = std::env::temp_dir().join(format!("kv-outlive-tcp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tcp.json");
    let mut host = host_leaving_its_plugin(&file, &["--tcp", "--hold"]);
    host.kill().unwrap(); // SIGKILL: the host gets no chance to clean up.
    host.wait().unwrap();
    let config = ReattachConfig::load(&file).unwrap();
    let pid = config.pid.unwrap();
    assert!(pid_alive(pid), "the plugin outlived its killed host");
    assert!(config.line.cert.is_some() && config.host_key.is_some());
    wait_quiet(pid).await;

    // Without the saved host certificate the plugin cannot be reached: it trusts only the
    // first host's certificate.
    let err = PluginClient::builder(kv::cookie())
        .reattach(config.line.clone())
        .start()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PluginError::Incompatible { why, .. } if why.contains("certificate")),
        "{err}"
    );
    // With it, the new host is the old one as far as the plugin can tell.
    let plugin = PluginClient::builder(kv::cookie())
        .reattach(config)
        .start()
        .await
        .unwrap();
    let kv = plugin.dispense::<KvServicePlugin>().unwrap();
    assert!(kv.get(get("session/host-pid").into()).await.is_ok());
    plugin.kill().await;
    assert!(wait_gone(pid, Duration::from_secs(2)).await.is_some());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn reattach_from_the_handshake_line() {
    let first = launch(Network::Unix).await;
    let kv = first.dispense::<KvServicePlugin>().unwrap();
    kv.put(put("k", "v").into()).await.unwrap();
    let line: connect_plugin::plugin::HandshakeLine =
        first.handshake_line().unwrap().to_string().parse().unwrap();
    let second = PluginClient::builder(kv::cookie())
        .reattach(line)
        .start()
        .await
        .unwrap();
    let again = second.dispense::<KvServicePlugin>().unwrap();
    assert_eq!(
        &again.get(get("k").into()).await.unwrap().into_inner().value[..],
        b"v"
    );
    assert!(
        second.pid().is_none(),
        "a reattached client does not own the process"
    );
    drop(second);
    assert_eq!(
        &kv.get(get("k").into()).await.unwrap().into_inner().value[..],
        b"v"
    );
    first.kill().await;
}

#[tokio::test]
async fn standalone_plugin_reached_by_endpoint() {
    let mut child = Command::new(PLUGIN)
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("KV_PLUGIN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("address line")
        .to_owned();
    let plugin = PluginClient::builder(kv::cookie())
        .endpoint(url)
        .start()
        .await
        .unwrap();
    let kv = plugin.dispense::<KvServicePlugin>().unwrap();
    kv.put(put("s", "1").into()).await.unwrap();
    assert_eq!(
        &kv.get(get("s").into()).await.unwrap().into_inner().value[..],
        b"1"
    );
    assert!(plugin.kill().await.is_none(), "not our process to wait for");
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(
        status.success(),
        "Shutdown stops a standalone plugin too: {status}"
    );
}

#[tokio::test]
async fn plugin_side_auth_and_host_side_chain_work_together() {
    use connect_plugin::interceptors::auth::{
        Authenticator, BearerAuth, BearerToken, Credentials, Identity,
    };
    use connect_plugin::plugin::{PluginSet, ServeConfig};
    let set = PluginSet::new().with::<KvServicePlugin>(Arc::new(kv::KvStore::default()));
    // The plugin demands a bearer token for its services; the plugin protocol itself
    // (handshake, health, control) stays open to the host.
    let auth = Authenticator::new()
        .provider(BearerAuth::new(
            Credentials::new().with("s3cret", Identity::new("host")),
        ))
        .public("connectplugin.v1.HandshakeService")
        .public("connectplugin.v1.PluginControl")
        .public("grpc.health.v1.Health");
    let config = ServeConfig::new(kv::cookie(), set).interceptor(auth);
    let with_token = PluginClient::builder(kv::cookie())
        .in_memory(config.clone())
        .chain(
            connect_plugin::interceptors::ClientChain::resilient("kv")
                .interceptor(BearerToken::new("s3cret").unwrap()),
        )
        .start()
        .await
        .unwrap();
    assert!(
        with_token.circuit_breaker().is_some(),
        "dispensed clients get a breaker"
    );
    assert!(with_token.chain().retry_policy().is_some(), "and retry");
    let kv = with_token.dispense::<KvServicePlugin>().unwrap();
    kv.put(put("a", "1").into()).await.unwrap();

    let without = PluginClient::builder(kv::cookie())
        .in_memory(config)
        .start()
        .await
        .unwrap();
    let err = without
        .dispense::<KvServicePlugin>()
        .unwrap()
        .get(get("a").into())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err}");
    assert!(!err.message().contains("s3cret"));
    // A refusal is an answer, not a sick plugin: the breaker stays closed.
    assert_eq!(
        without.circuit_breaker().unwrap().state(),
        connect_plugin::interceptors::BreakerState::Closed
    );
    assert!(without.health().await.is_ok(), "health stays public");
}

#[tokio::test]
async fn in_memory_mode_speaks_the_full_protocol() {
    use connect_plugin::plugin::{PluginSet, ServeConfig};
    let set = PluginSet::new().with::<KvServicePlugin>(Arc::new(kv::KvStore::default()));
    let plugin = PluginClient::builder(kv::cookie())
        .in_memory(ServeConfig::new(kv::cookie(), set.clone()))
        .start()
        .await
        .unwrap();
    assert!(plugin.pid().is_none() && plugin.handshake_line().is_none());
    assert_eq!(plugin.plugins()[0].name, "kv");
    let kv = plugin.dispense::<KvServicePlugin>().unwrap();
    let mut watch = kv
        .watch(
            pb::WatchRequest {
                prefix: String::new(),
            }
            .into(),
        )
        .await
        .unwrap()
        .into_inner();
    kv.put(put("m", "1").into()).await.unwrap();
    assert_eq!(watch.next().await.unwrap().unwrap().key, "m");
    assert_eq!(
        kv.get(get("nope").into()).await.unwrap_err().code(),
        Code::NotFound
    );
    drop(watch);
    assert!(plugin.kill().await.is_none());
    // Shutdown stopped the in-process server: calls now fail fast.
    let err = tokio::time::timeout(Duration::from_secs(5), kv.get(get("m").into()))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);

    // The handshake still checks the cookie.
    let err = PluginClient::builder(MagicCookie::new("KV_PLUGIN", "other"))
        .in_memory(ServeConfig::new(kv::cookie(), set))
        .start()
        .await
        .unwrap_err();
    let PluginError::Handshake { status, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(status.code(), Code::InvalidArgument);
}

/// How many calls a connection has carried, kept in the connection's own state.
#[derive(Default, Clone)]
struct CallsOnConnection(u32);

/// Records, for each call, the count of calls its connection has carried (`None`: the call
/// came without its connection).
struct CountPerConnection(Arc<std::sync::Mutex<Vec<Option<u32>>>>);

impl connect_plugin::rpc::Interceptor for CountPerConnection {
    fn intercept_server<'a>(
        &'a self,
        call: connect_plugin::rpc::ServerCall,
        next: connect_plugin::rpc::ServerNext<'a>,
    ) -> futures::future::BoxFuture<
        'a,
        Result<connect_plugin::rpc::ServerOutput, connect_plugin::Status>,
    > {
        let n = call.connection.as_ref().map(|conn| {
            conn.with_state(|state| {
                let calls = state.get_or_insert_default::<CallsOnConnection>();
                calls.0 += 1;
                calls.0
            })
        });
        self.0.lock().unwrap().push(n);
        next.run(call)
    }
}

#[tokio::test]
async fn a_plugins_interceptors_see_the_connection_each_call_came_over() {
    // What interceptors learn about a connection (a verified token, the identity of an
    // mTLS peer) lasts for its later calls only if every call carries its connection.
    use connect_plugin::plugin::{PluginSet, ServeConfig};
    let set = PluginSet::new().with::<KvServicePlugin>(Arc::new(kv::KvStore::default()));
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let plugin = PluginClient::builder(kv::cookie())
        .in_memory(
            ServeConfig::new(kv::cookie(), set).interceptor(CountPerConnection(seen.clone())),
        )
        .start()
        .await
        .unwrap();
    let kv = plugin.dispense::<KvServicePlugin>().unwrap();
    let before = seen.lock().unwrap().len();
    for _ in 0..3 {
        kv.put(put("k", "v").into()).await.unwrap();
    }
    let seen = seen.lock().unwrap()[before..].to_vec();
    let Some(&Some(first)) = seen.first() else {
        panic!("a call came without its connection: {seen:?}")
    };
    assert_eq!(
        seen,
        [Some(first), Some(first + 1), Some(first + 2)],
        "three calls on one connection share its state"
    );
    plugin.kill().await;
}

#[tokio::test]
async fn direct_mode_dispenses_the_implementation_itself() {
    use connect_plugin::plugin::PluginSet;
    let store = Arc::new(kv::KvStore::default());
    let plugin = PluginClient::builder(kv::cookie())
        .direct(PluginSet::new().with::<KvServicePlugin>(store.clone()))
        .start()
        .await
        .unwrap();
    let kv: Arc<dyn KvService> = plugin.dispense::<KvServicePlugin>().unwrap();
    let original: Arc<dyn KvService> = store;
    assert!(
        std::ptr::addr_eq(Arc::as_ptr(&kv), Arc::as_ptr(&original)),
        "the very same object"
    );
    kv.put(put("d", "1").into()).await.unwrap();
    assert_eq!(
        &original
            .get(get("d").into())
            .await
            .unwrap()
            .into_inner()
            .value[..],
        b"1"
    );
    let Err(err) =
        plugin.dispense::<connect_plugin::pb::connectplugin::v1::CapabilityBrokerPlugin>()
    else {
        panic!("dispensed a plugin the set does not hold");
    };
    assert!(err.to_string().contains("does not hold it"), "{err}");
}

#[tokio::test]
async fn tcp_plugins_use_mutual_tls_and_refuse_other_callers() {
    use connect_plugin::plugin::mtls::{SelfSignedCert, client_config};
    use connect_plugin::{Channel, Client};
    let plugin = launch(Network::Tcp).await;
    let line = plugin.handshake_line().unwrap().clone();
    let plugin_cert = line
        .cert
        .clone()
        .expect("the plugin hands back its certificate");
    assert!(line.url().starts_with("https://"));
    let kv = plugin.dispense::<KvServicePlugin>().unwrap();
    kv.put(put("secret", "s").into()).await.unwrap();

    // A plaintext caller, a TLS caller without a client certificate, and one with another
    // certificate are all refused.
    let plain = KvServicePlugin::client_for(Client::new(
        Channel::builder(&format!("http://{}", line.address))
            .unwrap()
            .build(),
    ));
    assert_eq!(
        plain.get(get("secret").into()).await.unwrap_err().code(),
        Code::Unavailable
    );
    let stranger = SelfSignedCert::generate("stranger").unwrap();
    let tls = client_config(&stranger, plugin_cert.clone()).unwrap();
    let impostor = KvServicePlugin::client_for(Client::new(
        Channel::builder(&line.url())
            .unwrap()
            .tls(Arc::new(tls))
            .build(),
    ));
    assert_eq!(
        impostor.get(get("secret").into()).await.unwrap_err().code(),
        Code::Unavailable
    );
    let mut no_cert = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates({
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(rustls::pki_types::CertificateDer::from(plugin_cert))
            .unwrap();
        roots
    })
    .with_no_client_auth();
    no_cert.alpn_protocols = vec![b"h2".to_vec()];
    let anonymous = KvServicePlugin::client_for(Client::new(
        Channel::builder(&line.url())
            .unwrap()
            .tls(Arc::new(no_cert))
            .build(),
    ));
    assert_eq!(
        anonymous
            .get(get("secret").into())
            .await
            .unwrap_err()
            .code(),
        Code::Unavailable
    );

    // The host itself still gets through.
    assert_eq!(
        &kv.get(get("secret").into())
            .await
            .unwrap()
            .into_inner()
            .value[..],
        b"s"
    );
    assert!(plugin.kill().await.unwrap().success());

    // Turning mTLS off is explicit, and gives plaintext TCP.
    let plain = PluginClient::builder(kv::cookie())
        .command(PLUGIN)
        .network(Network::Tcp)
        .mtls(false)
        .start()
        .await
        .unwrap();
    assert!(plain.handshake_line().unwrap().cert.is_none());
    plain
        .dispense::<KvServicePlugin>()
        .unwrap()
        .put(put("p", "1").into())
        .await
        .unwrap();
    plain.kill().await;
}

trait ClientFor {
    fn client_for(client: connect_plugin::Client) -> Arc<dyn KvService>;
}

impl ClientFor for KvServicePlugin {
    fn client_for(client: connect_plugin::Client) -> Arc<dyn KvService> {
        <KvServicePlugin as connect_plugin::Plugin>::client(client)
    }
}

#[tokio::test]
async fn the_restart_policy_brings_a_killed_plugin_back() {
    use connect_plugin::plugin::RestartPolicy;
    let plugin = PluginClient::builder(kv::cookie())
        .command(PLUGIN)
        .restart(RestartPolicy {
            max_restarts: 3,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(1),
        })
        .start()
        .await
        .unwrap();
    let kv = plugin.dispense::<KvServicePlugin>().unwrap();
    kv.put(put("before", "1").into()).await.unwrap();
    let first = plugin.pid().unwrap();
    assert!(
        Command::new("kill")
            .args(["-9", &first.to_string()])
            .status()
            .unwrap()
            .success()
    );

    // The service dispensed before the crash works again once the plugin is back (a new
    // process: the in-memory data is gone). Bounded wait for the restart.
    let started = Instant::now();
    loop {
        match kv.put(put("after", "2").into()).await {
            Ok(_) => break,
            Err(e) => assert_eq!(e.code(), Code::Unavailable, "{e}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no restart within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(plugin.restarts(), 1);
    let second = plugin.pid().unwrap();
    assert_ne!(first, second);
    assert_eq!(
        kv.get(get("before").into()).await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(
        &kv.get(get("after").into())
            .await
            .unwrap()
            .into_inner()
            .value[..],
        b"2"
    );
    assert!(plugin.health().await.is_ok());
    let status = plugin.kill().await.expect("the current process");
    assert!(status.success(), "{status}");
    assert!(wait_gone(second, Duration::from_secs(5)).await.is_some());
}

#[tokio::test]
async fn dropping_the_client_leaves_no_orphan() {
    let plugin = launch(Network::Unix).await;
    let pid = plugin.pid().unwrap();
    drop(plugin);
    assert!(
        wait_gone(pid, Duration::from_secs(5)).await.is_some(),
        "plugin {pid} outlived its client"
    );
}

#[tokio::test]
async fn a_plugin_killed_mid_call_fails_the_call_with_unavailable() {
    let plugin = launch(Network::Unix).await;
    let kv = plugin.dispense::<KvServicePlugin>().unwrap();
    kv.put(put("k", "v").into()).await.unwrap();
    let pid = plugin.pid().unwrap().to_string();
    // Frozen, the plugin cannot answer: the call is surely in flight when it is killed.
    assert!(
        Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .unwrap()
            .success()
    );
    // `kill` returns once the signal is queued; wait until every thread has stopped.
    let frozen = |pid: &str| {
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .map(|tasks| {
                tasks.flatten().all(|t| {
                    std::fs::read_to_string(t.path().join("stat"))
                        .map(|s| s.split(") ").nth(1).is_some_and(|r| r.starts_with('T')))
                        .unwrap_or(false)
                })
            })
            .unwrap_or(false)
    };
    let waited = Instant::now();
    while !frozen(&pid) {
        assert!(
            waited.elapsed() < Duration::from_secs(5),
            "the plugin did not stop"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut call = Box::pin(kv.get(get("k").into()));
    if let Ok(early) = tokio::time::timeout(Duration::from_millis(200), &mut call).await {
        panic!("a frozen plugin answered: {early:?}");
    }
    assert!(
        Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success()
    );
    let started = Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .expect("the call ends promptly, it does not hang")
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
}
