//! A plugin in another language: `interop/node/kv-plugin.mjs`, the KV plugin written in
//! JavaScript on connect-es, launched and used by the Rust host exactly as the Rust
//! `kv-plugin` is (see `tests/plugin.rs`): handshake line, handshake, dispense, every
//! `KVService` method, health, `Shutdown`, and the refusals (no cookie, no common version,
//! unknown plugins).
//!
//! Needs `node` (>= 20) and `interop/setup.sh` (connect-es from npm and the code
//! `interop/node/buf.gen.plugin.yaml` generates); `CONNECT_PLUGIN_SKIP_INTEROP=1` skips.
//!
//! Nothing here sleeps: every wait is on an event (a message, a line, an exit) with a
//! deadline.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use connect_plugin::pb::connectplugin::v1::HealthState;
use connect_plugin::pb::grpc::health::v1::{self as hv1, Health as _};
use connect_plugin::plugin::{MagicCookie, Network, PluginClient, PluginError};
use connect_plugin::{Client, ClientConfig, Code, Codec, Protocol, Request, Streaming};
use futures::StreamExt;
use kv::pb::{self, KvService, KvServicePlugin};
use kv::{get, put};

/// The environment variable that turns the interop tests into skips (as in
/// `examples/echo/tests/common`).
const SKIP_ENV: &str = "CONNECT_PLUGIN_SKIP_INTEROP";
/// How long one message, answer or exit may take.
const WAIT: Duration = Duration::from_secs(10);

fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

fn plugin_script() -> PathBuf {
    repo_root().join("interop/node/kv-plugin.mjs")
}

/// Whether to run: `false` (after saying so) with `CONNECT_PLUGIN_SKIP_INTEROP=1`; panics
/// with the fix when node or what `interop/setup.sh` installs is missing.
fn ready() -> bool {
    if std::env::var(SKIP_ENV).is_ok_and(|v| v == "1") {
        eprintln!("SKIP: the JavaScript KV plugin test skipped because {SKIP_ENV}=1");
        return false;
    }
    let node = Command::new("node").arg("--version").output();
    let version = match &node {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        _ => panic!(
            "`node` is not on PATH ({node:?}): the JavaScript KV plugin needs Node.js >= 20.\n\
             Install it, run `interop/setup.sh` from the repository root, or set {SKIP_ENV}=1 \
             to skip the interop tests."
        ),
    };
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    assert!(
        major >= 20,
        "node {version} is too old: the JavaScript KV plugin needs >= 20"
    );
    let node_dir = repo_root().join("interop/node");
    let missing: Vec<String> = [
        node_dir.join("node_modules/@connectrpc/connect-node/package.json"),
        node_dir.join("gen/plugin/kv/v1/kv_pb.js"),
        node_dir.join("gen/plugin/connectplugin/v1/handshake_pb.js"),
        node_dir.join("gen/plugin/grpc/health/v1/health_pb.js"),
        plugin_script(),
    ]
    .into_iter()
    .filter(|p| !p.exists())
    .map(|p| p.display().to_string())
    .collect();
    assert!(
        missing.is_empty(),
        "the JavaScript KV plugin is not set up (missing {}).\n\
         Run `interop/setup.sh` from the repository root (needs node, npm, python3 and the \
         npm and PyPI registries), or set {SKIP_ENV}=1 to skip the interop tests.",
        missing.join(", ")
    );
    true
}

fn builder(cookie: MagicCookie) -> connect_plugin::plugin::PluginClientBuilder {
    PluginClient::builder(cookie)
        .command("node")
        .arg(plugin_script())
}

async fn launch(network: Network) -> PluginClient {
    builder(kv::cookie())
        .network(network)
        .start()
        .await
        .unwrap_or_else(|e| panic!("the JavaScript plugin starts over {network:?}: {e}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

async fn next<T, S>(s: &mut S, what: &str) -> T
where
    S: futures::Stream<Item = Result<T, connect_plugin::Status>> + Unpin,
{
    tokio::time::timeout(WAIT, s.next())
        .await
        .unwrap_or_else(|_| panic!("{what}: nothing within {WAIT:?}"))
        .unwrap_or_else(|| panic!("{what}: the stream ended"))
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

async fn watch_put_get_delete(kv: &dyn KvService, tag: &str) {
    // watch() returns once the plugin has answered: every later change must arrive.
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
            .is_none(),
        "{tag}"
    );
    kv.put(put("b/1", "ignored").into()).await.unwrap();
    let prev = kv
        .put(put("a/1", "y").into())
        .await
        .unwrap()
        .into_inner()
        .previous;
    assert_eq!(prev.as_deref(), Some(&b"x"[..]), "{tag}");
    assert_eq!(
        &kv.get(get("a/1").into()).await.unwrap().into_inner().value[..],
        b"y",
        "{tag}"
    );
    assert_eq!(
        &kv.get(get("b/1").into()).await.unwrap().into_inner().value[..],
        b"ignored",
        "{tag}"
    );
    assert!(
        kv.delete(pb::DeleteRequest { key: "a/1".into() }.into())
            .await
            .unwrap()
            .into_inner()
            .existed,
        "{tag}"
    );
    assert!(
        !kv.delete(pb::DeleteRequest { key: "a/1".into() }.into())
            .await
            .unwrap()
            .into_inner()
            .existed,
        "{tag}"
    );
    let missing = kv.get(get("a/1").into()).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound, "{tag}: {missing}");
    assert!(missing.message().contains("a/1"), "{tag}: {missing}");

    let mut seen = Vec::new();
    for i in 0..3 {
        let e = next(&mut watch, &format!("{tag}: watch event {i}")).await;
        seen.push((e.kind, e.key, text(&e.value)));
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
        ],
        "{tag}"
    );
    drop(watch);
}

/// A batch as a session: each operation is sent only after the previous one is answered.
async fn batch_session(kv: &dyn KvService, tag: &str) {
    use pb::batch_request::Op;
    use pb::batch_response::Result as R;
    let (tx, rx) = futures::channel::mpsc::unbounded::<pb::BatchRequest>();
    let mut answers = kv
        .batch(Request::new(Streaming::from_messages(rx)))
        .await
        .unwrap_or_else(|e| panic!("{tag}: batch: {e}"))
        .into_inner();
    let ops = [
        Op::Put(put("count", "1")),
        Op::Get(get("count")),
        Op::Put(put("count", "2")),
        Op::Delete(pb::DeleteRequest {
            key: "count".into(),
        }),
        Op::Get(get("count")),
    ];
    let mut got = Vec::new();
    for (i, op) in ops.into_iter().enumerate() {
        tx.unbounded_send(pb::BatchRequest { op: Some(op) })
            .unwrap();
        let a = next(&mut answers, &format!("{tag}: batch answer {i}")).await;
        got.push(match (a.result, a.error) {
            (Some(R::Put(p)), e) if e.is_empty() => {
                format!("put previous={:?}", p.previous.map(|v| text(&v)))
            }
            (Some(R::Get(g)), e) if e.is_empty() => format!("get {}", text(&g.value)),
            (Some(R::Delete(d)), e) if e.is_empty() => format!("delete existed={}", d.existed),
            (None, e) => format!("error {e}"),
            other => panic!("{tag}: answer {i}: {other:?}"),
        });
    }
    drop(tx);
    let end = tokio::time::timeout(WAIT, answers.next())
        .await
        .expect("the batch ends");
    assert!(
        end.is_none(),
        "{tag}: the batch ends cleanly when the requests do: {end:?}"
    );
    assert_eq!(
        got,
        [
            "put previous=None",
            "get 1",
            "put previous=Some(\"1\")",
            "delete existed=true",
            "error no value for \"count\"",
        ],
        "{tag}"
    );
}

#[tokio::test]
async fn the_javascript_plugin_over_unix_socket_and_tcp() {
    if !ready() {
        return;
    }
    // TCP twice: with the host's default mutual TLS, and plaintext with mTLS turned off.
    for (network, mtls) in [
        (Network::Unix, true),
        (Network::Tcp, true),
        (Network::Tcp, false),
    ] {
        let tag = format!("{network:?} mtls={mtls}");
        let plugin = builder(kv::cookie())
            .network(network)
            .mtls(mtls)
            .start()
            .await
            .unwrap_or_else(|e| panic!("{tag}: the JavaScript plugin starts: {e}"));
        let line = plugin.handshake_line().expect("launched").clone();
        assert_eq!(line.network, network, "{line}");
        assert_eq!(line.core_version, 1, "{line}");
        assert_eq!(line.app_version, 1, "{line}");
        assert_eq!(line.wire, Protocol::Connect, "{line}");
        match network {
            Network::Unix => assert!(line.address.ends_with(".sock"), "{line}"),
            Network::Tcp => assert!(line.address.starts_with("127.0.0.1:"), "{line}"),
        }
        let tls = network == Network::Tcp && mtls;
        assert_eq!(line.cert.is_some(), tls, "{tag}: {line}");
        assert_eq!(line.url().starts_with("https://"), tls, "{tag}: {line}");
        assert_eq!(plugin.app_version(), 1);
        let served: Vec<_> = plugin
            .plugins()
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.service_name.as_str(),
                    p.service_path.as_str(),
                    p.version.as_str(),
                )
            })
            .collect();
        assert_eq!(
            served,
            [("kv", "kv.v1.KVService", "/kv.v1.KVService/", "1.0.0")]
        );

        let kv: Arc<dyn KvService> = plugin.dispense::<KvServicePlugin>().unwrap();
        watch_put_get_delete(kv.as_ref(), &tag).await;
        batch_session(kv.as_ref(), &tag).await;

        let health = plugin.health().await.unwrap();
        assert_eq!(
            health.state,
            HealthState::Healthy as i32,
            "{tag}: {health:?}"
        );

        let socket = line.address.clone();
        let status = tokio::time::timeout(WAIT, plugin.kill())
            .await
            .expect("kill returns")
            .expect("a launched process");
        assert!(
            status.success(),
            "{tag}: the plugin exits cleanly on Shutdown: {status}"
        );
        if network == Network::Unix {
            let dir = Path::new(&socket).parent().unwrap();
            assert!(!dir.exists(), "the private socket directory is removed");
        }
    }
}

/// Over TCP the JavaScript plugin pins the host's certificate as the Rust plugin does:
/// plaintext, anonymous-TLS and wrong-certificate callers are refused.
#[tokio::test]
async fn the_javascript_plugin_refuses_callers_other_than_its_host() {
    use connect_plugin::Channel;
    use connect_plugin::plugin::mtls::{SelfSignedCert, client_config};
    if !ready() {
        return;
    }
    let plugin = launch(Network::Tcp).await;
    let line = plugin.handshake_line().unwrap().clone();
    let plugin_cert = line
        .cert
        .clone()
        .expect("the plugin hands back its certificate");
    let kv = plugin.dispense::<KvServicePlugin>().unwrap();
    kv.put(put("secret", "s").into()).await.unwrap();

    let plain = pb::KvServiceClient::new(Client::new(
        Channel::builder(&format!("http://{}", line.address))
            .unwrap()
            .build(),
    ));
    let err = plain.get(get("secret").into()).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "plaintext: {err}");

    let stranger = SelfSignedCert::generate("stranger").unwrap();
    let impostor = pb::KvServiceClient::new(Client::new(
        Channel::builder(&line.url())
            .unwrap()
            .tls(Arc::new(
                client_config(&stranger, plugin_cert.clone()).unwrap(),
            ))
            .build(),
    ));
    let err = impostor.get(get("secret").into()).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "another certificate: {err}");

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(plugin_cert))
        .unwrap();
    let mut no_cert = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    no_cert.alpn_protocols = vec![b"h2".to_vec()];
    let anonymous = pb::KvServiceClient::new(Client::new(
        Channel::builder(&line.url())
            .unwrap()
            .tls(Arc::new(no_cert))
            .build(),
    ));
    let err = anonymous.get(get("secret").into()).await.unwrap_err();
    assert_eq!(
        err.code(),
        Code::Unavailable,
        "no client certificate: {err}"
    );

    // The host still gets through.
    assert_eq!(
        &kv.get(get("secret").into())
            .await
            .unwrap()
            .into_inner()
            .value[..],
        b"s"
    );
    assert!(plugin.kill().await.expect("launched").success());
}

#[tokio::test]
async fn the_javascript_plugin_answers_health_checks() {
    if !ready() {
        return;
    }
    let plugin = launch(Network::Unix).await;
    let health = hv1::HealthClient::new(plugin.client().clone());
    for service in ["", "kv.v1.KVService"] {
        let r = health
            .check(
                hv1::HealthCheckRequest {
                    service: service.into(),
                }
                .into(),
            )
            .await
            .unwrap_or_else(|e| panic!("Check({service:?}): {e}"))
            .into_inner();
        assert_eq!(
            r.status,
            hv1::health_check_response::ServingStatus::Serving as i32,
            "{service:?}"
        );
    }
    let err = health
        .check(
            hv1::HealthCheckRequest {
                service: "nope.v1.Nope".into(),
            }
            .into(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err}");
    let mut watch = health
        .watch(
            hv1::HealthCheckRequest {
                service: String::new(),
            }
            .into(),
        )
        .await
        .unwrap()
        .into_inner();
    let first = next(&mut watch, "Health.Watch").await;
    assert_eq!(
        first.status,
        hv1::health_check_response::ServingStatus::Serving as i32
    );
    drop(watch);
    assert!(plugin.kill().await.expect("launched").success());
}

/// Shutdown does not wait out the grace period for watches, which never finish on their
/// own: they end with `unavailable`, and the plugin exits at once.
#[tokio::test]
async fn shutdown_ends_open_watches() {
    if !ready() {
        return;
    }
    let plugin = builder(kv::cookie())
        .grace(Duration::from_secs(30))
        .start()
        .await
        .unwrap();
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
    let started = std::time::Instant::now();
    let status = tokio::time::timeout(WAIT, plugin.kill())
        .await
        .expect("kill returns")
        .expect("launched");
    assert!(status.success(), "{status}");
    assert!(started.elapsed() < WAIT, "took {:?}", started.elapsed());
    let end = tokio::time::timeout(WAIT, watch.next())
        .await
        .expect("the watch ends");
    let err = end.expect("an error, not a clean end").unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err}");
}

/// The plugin serves every protocol and codec, not just the one its handshake line prefers.
#[tokio::test]
async fn the_javascript_plugin_speaks_grpc_grpc_web_and_json() {
    if !ready() {
        return;
    }
    let plugin = launch(Network::Tcp).await;
    for (protocol, codec) in [
        (Protocol::Grpc, Codec::Proto),
        (Protocol::GrpcWeb, Codec::Proto),
        (Protocol::Connect, Codec::Json),
        (Protocol::Grpc, Codec::Json),
    ] {
        let tag = format!("{protocol:?}/{codec:?}");
        let config = ClientConfig {
            protocol,
            codec,
            ..ClientConfig::default()
        };
        let kv = pb::KvServiceClient::new(Client::with_config(
            plugin
                .client()
                .channel()
                .expect("a client over HTTP")
                .clone(),
            config,
        ));
        let key = format!("wire/{tag}");
        let mut watch = kv
            .watch(
                pb::WatchRequest {
                    prefix: key.clone(),
                }
                .into(),
            )
            .await
            .unwrap_or_else(|e| panic!("{tag}: watch: {e}"))
            .into_inner();
        kv.put(put(&key, "v").into())
            .await
            .unwrap_or_else(|e| panic!("{tag}: put: {e}"));
        let got = kv
            .get(get(&key).into())
            .await
            .unwrap_or_else(|e| panic!("{tag}: get: {e}"));
        assert_eq!(&got.into_inner().value[..], b"v", "{tag}");
        let err = kv.get(get("wire/missing").into()).await.unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "{tag}: {err}");
        let e = next(&mut watch, &format!("{tag}: watch")).await;
        assert_eq!(
            (e.kind, e.key.as_str()),
            (pb::watch_event::Kind::Put as i32, key.as_str()),
            "{tag}"
        );
        drop(watch);
        let answers: Vec<_> = kv
            .batch(Request::new(Streaming::from(vec![
                pb::BatchRequest {
                    op: Some(pb::batch_request::Op::Get(get(&key))),
                },
                pb::BatchRequest {
                    op: Some(pb::batch_request::Op::Delete(pb::DeleteRequest {
                        key: key.clone(),
                    })),
                },
            ])))
            .await
            .unwrap_or_else(|e| panic!("{tag}: batch: {e}"))
            .into_inner()
            .collect()
            .await;
        assert_eq!(answers.len(), 2, "{tag}: {answers:?}");
        assert!(
            answers
                .iter()
                .all(|a| a.as_ref().is_ok_and(|a| a.error.is_empty())),
            "{tag}: {answers:?}"
        );
    }
    assert!(plugin.kill().await.expect("launched").success());
}

#[tokio::test]
async fn without_the_cookie_it_explains_and_exits() {
    if !ready() {
        return;
    }
    // A host of another application: KV_PLUGIN is not set at all.
    let err = builder(MagicCookie::new("OTHER_APP_PLUGIN", "x"))
        .start()
        .await
        .unwrap_err();
    let PluginError::Exited { stderr, status, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("this program is a plugin")),
        "{err}"
    );
    assert!(status.contains("exit status: 1"), "{err}");
    // The right key with a wrong value.
    let err = builder(MagicCookie::new("KV_PLUGIN", "someone-else"))
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
    if !ready() {
        return;
    }
    let err = builder(kv::cookie())
        .app_versions([2])
        .start()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, PluginError::Exited { .. }), "{text}");
    assert!(
        text.contains("the host supports [2], this plugin [1]"),
        "{text}"
    );

    // A host that supports 1 among others gets 1.
    let plugin = builder(kv::cookie())
        .app_versions([1, 2, 3])
        .start()
        .await
        .unwrap();
    assert_eq!(plugin.handshake_line().unwrap().app_version, 1);
    assert_eq!(plugin.app_version(), 1);
    assert!(plugin.kill().await.expect("launched").success());
}

#[tokio::test]
async fn unknown_and_unrequested_plugins_are_clear_errors() {
    if !ready() {
        return;
    }
    let plugin = builder(kv::cookie()).request("kv").start().await.unwrap();
    assert!(plugin.dispense::<KvServicePlugin>().is_ok());
    let Err(err) =
        plugin.dispense::<connect_plugin::pb::connectplugin::v1::CapabilityBrokerPlugin>()
    else {
        panic!("a plugin the process does not serve was dispensed");
    };
    assert!(err.to_string().contains("was not requested"), "{err}");
    assert!(plugin.kill().await.expect("launched").success());

    let err = builder(kv::cookie())
        .request("nope")
        .start()
        .await
        .unwrap_err();
    let PluginError::Handshake { status, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(status.code(), Code::NotFound, "{err}");
    assert!(status.message().contains("\"nope\""), "{err}");
}

/// The plugin started by hand with the environment a host gives it, to watch what the
/// host API hides: its stdout, its stderr, and how it stops on its own.
struct ByHand {
    pid: u32,
    dir: PathBuf,
    stdin: Option<ChildStdin>,
    /// The first stdout line.
    line: String,
    /// Later stdout lines (there must be none).
    stdout: mpsc::Receiver<String>,
    /// All of stderr, once it closes.
    stderr: mpsc::Receiver<String>,
    exited: mpsc::Receiver<std::io::Result<ExitStatus>>,
    reaped: bool,
}

impl ByHand {
    fn start(name: &str) -> ByHand {
        use std::os::unix::fs::DirBuilderExt as _;
        let dir = std::env::temp_dir().join(format!("kv-js-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::DirBuilder::new().mode(0o700).create(&dir).unwrap();
        let mut child = Command::new("node")
            .arg(plugin_script())
            .env("KV_PLUGIN", "7b1f0c2e-kv-example")
            .env("CONNECT_PLUGIN_CORE_VERSION", "1")
            .env("CONNECT_PLUGIN_APP_VERSIONS", "1")
            .env("CONNECT_PLUGIN_NETWORK", "unix")
            .env("CONNECT_PLUGIN_UNIX_DIR", &dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node starts");
        let pid = child.id();
        let stdin = child.stdin.take();
        let (out_tx, stdout) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = out_tx.send(line);
            }
        });
        let (err_tx, stderr) = mpsc::channel();
        let mut err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut all = String::new();
            let _ = err.read_to_string(&mut all);
            let _ = err_tx.send(all);
        });
        let (exit_tx, exited) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = exit_tx.send(child.wait());
        });
        let line = stdout.recv_timeout(WAIT).unwrap_or_else(|e| {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!(
                "no handshake line within {WAIT:?} ({e}); stderr: {:?}",
                stderr.recv_timeout(WAIT)
            )
        });
        ByHand {
            pid,
            dir,
            stdin,
            line,
            stdout,
            stderr,
            exited,
            reaped: false,
        }
    }

    /// Waits (bounded) for the exit; returns it and everything written on stderr.
    fn wait(&mut self) -> (ExitStatus, String) {
        let status = self
            .exited
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("the plugin did not exit within {WAIT:?}"))
            .expect("wait");
        self.reaped = true;
        let stderr = self.stderr.recv_timeout(WAIT).expect("stderr closes");
        (status, stderr)
    }

    fn check_quiet_stdout_and_json_logs(&self, stderr: &str) {
        let extra: Vec<String> = self.stdout.try_iter().collect();
        assert!(
            extra.is_empty(),
            "only the handshake line on stdout; also: {extra:?}"
        );
        assert!(!stderr.trim().is_empty(), "the plugin logs");
        for line in stderr.lines() {
            assert!(
                line.starts_with("{\"level\":\"")
                    && line.contains(",\"msg\":\"")
                    && line.ends_with('}'),
                "a JSON log line: {line}"
            );
        }
    }
}

impl Drop for ByHand {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = Command::new("kill")
                .args(["-9", &self.pid.to_string()])
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn by_hand_it_prints_one_line_logs_json_and_exits_when_stdin_closes() {
    if !ready() {
        return;
    }
    let mut p = ByHand::start("stdin");
    let socket = p.dir.join(format!("plugin-{}.sock", p.pid));
    assert_eq!(p.line, format!("1|1|unix|{}|connect|", socket.display()));
    assert!(socket.exists(), "it listens on {}", socket.display());
    {
        // Used (a watch dropped mid-stream among them), which must log no error.
        let client = Client::new(
            connect_plugin::Channel::builder(&format!("unix:{}", socket.display()))
                .unwrap()
                .build(),
        );
        let kv = pb::KvServiceClient::new(client);
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
        kv.put(put("k", "v").into()).await.unwrap();
        assert_eq!(next(&mut watch, "watch").await.key, "k");
        drop(watch);
        assert_eq!(
            &kv.get(get("k").into()).await.unwrap().into_inner().value[..],
            b"v"
        );
    }
    drop(p.stdin.take()); // the host is gone
    let (status, stderr) = p.wait();
    assert!(status.success(), "{status}; stderr:\n{stderr}");
    assert!(stderr.contains("the host went away"), "{stderr}");
    p.check_quiet_stdout_and_json_logs(&stderr);
    assert!(!stderr.contains("\"level\":\"error\""), "{stderr}");
    assert!(
        !stderr.contains("grace period is over"),
        "nothing was in flight: {stderr}"
    );
    assert!(!socket.exists(), "the socket is removed");
}

#[test]
fn by_hand_it_stops_on_sigterm() {
    if !ready() {
        return;
    }
    let mut p = ByHand::start("term");
    assert!(
        Command::new("kill")
            .args(["-TERM", &p.pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let (status, stderr) = p.wait();
    assert!(status.success(), "{status}; stderr:\n{stderr}");
    assert!(stderr.contains("SIGTERM"), "{stderr}");
    assert!(
        !stderr.contains("grace period is over"),
        "nothing was in flight: {stderr}"
    );
    p.check_quiet_stdout_and_json_logs(&stderr);
}

#[test]
fn by_hand_without_the_cookie_it_explains_and_exits_1() {
    if !ready() {
        return;
    }
    let out = Command::new("node")
        .arg(plugin_script())
        .env_remove("KV_PLUGIN")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{:?}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("this program is a plugin"), "{stderr}");
    assert!(stderr.contains("KV_PLUGIN"), "{stderr}");
}
