//! The KV plugin and a plugin that uses it, as two real processes, self-registering with a
//! host platform: `kv-plugin` joins and provides `kv`; `kv-caller` joins, finds `kv`
//! through the host's router and reads back what it wrote. (The host runs in this test's
//! process; `connect-plugin-host` is the same platform as a program.)

use std::process::Stdio;
use std::time::Duration;

use connect_plugin::Server;
use connect_plugin::transport::ListenAddr;
use connect_plugin_platform::Platform;
use connect_plugin_platform::address::AllowList;
use connect_plugin_platform::control::PlatformConfig;
use connect_plugin_platform::identity::{JoinTokens, SelfIdPattern};
use connect_plugin_platform::registry::WatchEvent;
use connect_plugin_platform::select::Health;
use connect_plugin_platform::version::VersionFilter;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;

const PLUGIN: &str = env!("CARGO_BIN_EXE_kv-plugin");
const CALLER: &str = env!("CARGO_BIN_EXE_kv-caller");

async fn within<F: std::future::Future>(what: &str, fut: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), fut)
        .await
        .unwrap_or_else(|_| panic!("{what} took more than 30 s"))
}

#[tokio::test]
async fn a_plugin_calls_the_kv_plugin_through_the_host() {
    let platform = Platform::new(PlatformConfig {
        join_tokens: JoinTokens::new()
            .with(SelfIdPattern::parse("kv").unwrap(), "kv-join-secret")
            .with(
                SelfIdPattern::parse("kv-caller").unwrap(),
                "caller-join-secret",
            ),
        allow: AllowList::new().with("http://127.0.0.1:*").unwrap(),
        ..PlatformConfig::default()
    });
    let server = Server::new(platform.router())
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let host = match server.local_addr() {
        ListenAddr::Tcp(a) => format!("http://{a}"),
        other => panic!("{other:?}"),
    };
    let mut providers = platform
        .control_plane()
        .registry
        .watch("kv", VersionFilter::ANY)
        .unwrap();

    let mut kv = Command::new(PLUGIN)
        .args(["--listen", "127.0.0.1:0"])
        .env("CONNECT_PLUGIN_HOST_URL", &host)
        .env("CONNECT_PLUGIN_JOIN_TOKEN", "kv-join-secret")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut kv_out = BufReader::new(kv.stdout.take().unwrap()).lines();
    let first = within("the kv plugin starting", kv_out.next_line())
        .await
        .unwrap()
        .unwrap();
    assert!(
        first.starts_with("listening on http://127.0.0.1:"),
        "{first}"
    );
    // Registered, then healthy once the host checked its address.
    within("the kv plugin becoming routable", async {
        loop {
            let events = providers.next().await.unwrap();
            if events.iter().any(|e| {
                !matches!(e, WatchEvent::Removed(_)) && e.provider().health == Health::Healthy
            }) {
                return;
            }
        }
    })
    .await;

    let mut caller = Command::new(CALLER)
        .env("CONNECT_PLUGIN_HOST_URL", &host)
        .env("CONNECT_PLUGIN_JOIN_TOKEN", "caller-join-secret")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(caller.stdout.take().unwrap()).lines();
    let mut lines = Vec::new();
    within("the caller's answer", async {
        while let Some(line) = out.next_line().await.unwrap() {
            let done = line.starts_with("kv through the host:");
            lines.push(line);
            if done {
                return;
            }
        }
        panic!("the caller ended without an answer: {lines:?}");
    })
    .await;
    assert!(lines[0].starts_with("listening on"), "{lines:?}");
    assert!(
        lines[1].starts_with("joined the host as kv-caller-"),
        "{lines:?}"
    );
    assert_eq!(
        lines[2],
        r#"kv through the host: greeting = "hello through the host""#
    );
    // Exactly the two plugins were admitted.
    assert_eq!(platform.control_plane().members.len(), 2);
}
