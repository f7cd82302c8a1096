//! The KV host: launches the `kv-plugin` binary, handshakes, dispenses the typed
//! `KvService`, uses it (put, get, delete, watch, a batch), shows the plugin's health, and
//! shuts it down.
//!
//! `kv-host [--plugin PATH] [--tcp]`. Without `--plugin` it runs the `kv-plugin` built next
//! to it (building it first when started by `cargo run`).
//!
//! Surviving a host restart: `kv-host --outlive FILE` launches a plugin that outlives the
//! host, stores a key in it, saves what is needed to reattach in `FILE` and exits, leaving
//! the plugin running; `kv-host --reattach FILE` then reattaches to it, finds the key, runs
//! the demo and stops it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use connect_plugin::Streaming;
use connect_plugin::plugin::{Network, PluginClient, ReattachConfig};
use connect_plugin::rpc::Request;
use futures::StreamExt;
use kv::pb::{self, KvService, KvServicePlugin};
use kv::put;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The plugin binary: `--plugin PATH`, or `kv-plugin` beside this binary (built on demand
/// under `cargo run`, which only builds the binary it runs).
fn plugin_path(explicit: Option<PathBuf>) -> Result<PathBuf, Error> {
    if let Some(p) = explicit {
        return Ok(p);
    }
    let here = std::env::current_exe()?;
    let beside = here.with_file_name("kv-plugin");
    if beside.exists() {
        return Ok(beside);
    }
    if let Ok(cargo) = std::env::var("CARGO") {
        println!("building kv-plugin ...");
        let release = here
            .parent()
            .and_then(|d| d.file_name())
            .is_some_and(|n| n == "release");
        let mut cmd = std::process::Command::new(cargo);
        cmd.args(["build", "--quiet", "-p", "kv", "--bin", "kv-plugin"]);
        if release {
            cmd.arg("--release");
        }
        if cmd.status()?.success() && beside.exists() {
            return Ok(beside);
        }
    }
    Err(format!(
        "cannot find {}: build it with `cargo build -p kv`",
        beside.display()
    )
    .into())
}

// A host that makes sequential calls to a local plugin is fastest on one thread: each call
// then wakes no other thread (BENCHMARKS.md, "The plugin system against hashicorp/go-plugin").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let mut args = std::env::args().skip(1);
    let mut explicit = None;
    let mut network = Network::Unix;
    let mut hold = false;
    let mut outlive = None;
    let mut reattach = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--plugin" => explicit = args.next().map(PathBuf::from),
            "--tcp" => network = Network::Tcp,
            // Launch the plugin, print its pid, and wait forever (used by the tests that
            // kill the host and check the plugin goes too).
            "--hold" => hold = true,
            "--outlive" => outlive = Some(args.next().ok_or("--outlive needs a file")?),
            "--reattach" => reattach = Some(args.next().ok_or("--reattach needs a file")?),
            other => {
                return Err(format!(
                    "unknown argument {other}; usage: kv-host [--plugin PATH] [--tcp] [--hold] \
                     [--outlive FILE | --reattach FILE]"
                )
                .into());
            }
        }
    }

    let plugin = if let Some(file) = &reattach {
        let config = ReattachConfig::load(file)?;
        println!(
            "reattaching to the plugin saved in {file} (pid {:?})",
            config.pid
        );
        PluginClient::builder(kv::cookie())
            .reattach(config)
            .start()
            .await?
    } else {
        let program = plugin_path(explicit)?;
        println!("launching {}", program.display());
        PluginClient::builder(kv::cookie())
            .command(program)
            .network(network)
            .outlive_host(outlive.is_some())
            .start()
            .await?
    };
    let line = plugin
        .handshake_line()
        .map(|l| l.to_string())
        .unwrap_or_default();
    println!("handshake line: {line}");
    println!(
        "plugins served: {:?} (protocol version {})",
        plugin
            .plugins()
            .iter()
            .map(|p| format!("{} {} {}", p.name, p.service_name, p.version))
            .collect::<Vec<_>>(),
        plugin.app_version()
    );
    let kv: Arc<dyn KvService> = plugin.dispense::<KvServicePlugin>()?;
    if let Some(file) = &outlive {
        kv.put(put("session/host-pid", &std::process::id().to_string()).into())
            .await?;
        let config = plugin
            .reattach_config()
            .ok_or("a launched plugin has a line")?;
        config.save(file)?;
        println!(
            "saved the reattach configuration to {file}; leaving plugin pid {} running",
            config.pid.unwrap_or(0)
        );
        if hold {
            std::future::pending::<()>().await;
        }
        return Ok(());
    }
    if reattach.is_some() {
        let left = kv
            .get(
                pb::GetRequest {
                    key: "session/host-pid".into(),
                }
                .into(),
            )
            .await?;
        println!(
            "the plugin kept session/host-pid = {} from the previous host",
            String::from_utf8_lossy(&left.into_inner().value)
        );
    }
    if hold {
        println!("plugin pid {}", plugin.pid().unwrap_or(0));
        std::future::pending::<()>().await;
    }

    let mut watch = kv
        .watch(
            pb::WatchRequest {
                prefix: "greeting/".into(),
            }
            .into(),
        )
        .await?
        .into_inner();
    println!("watching keys under greeting/");

    kv.put(put("greeting/en", "hello").into()).await?;
    kv.put(put("greeting/fr", "bonjour").into()).await?;
    let previous = kv
        .put(put("greeting/en", "hi").into())
        .await?
        .into_inner()
        .previous;
    println!(
        "put greeting/en, greeting/fr, greeting/en again (previous: {:?})",
        previous.map(|p| String::from_utf8_lossy(&p).into_owned())
    );

    let got = kv
        .get(
            pb::GetRequest {
                key: "greeting/en".into(),
            }
            .into(),
        )
        .await?
        .into_inner();
    println!(
        "get greeting/en = {:?}",
        String::from_utf8_lossy(&got.value)
    );

    let deleted = kv
        .delete(
            pb::DeleteRequest {
                key: "greeting/fr".into(),
            }
            .into(),
        )
        .await?
        .into_inner();
    println!("delete greeting/fr: existed={}", deleted.existed);
    match kv
        .get(
            pb::GetRequest {
                key: "greeting/fr".into(),
            }
            .into(),
        )
        .await
    {
        Err(e) => println!("get greeting/fr: {}: {}", e.code(), e.message()),
        Ok(r) => println!(
            "get greeting/fr unexpectedly found {:?}",
            r.into_inner().value
        ),
    }

    for _ in 0..4 {
        match tokio::time::timeout(Duration::from_secs(5), watch.next()).await {
            Ok(Some(Ok(e))) => println!(
                "watch: {:?} {} {}",
                pb::watch_event::Kind::try_from(e.kind).unwrap_or_default(),
                e.key,
                String::from_utf8_lossy(&e.value)
            ),
            other => return Err(format!("watch ended early: {other:?}").into()),
        }
    }
    drop(watch);

    use pb::batch_request::Op;
    let ops = vec![
        pb::BatchRequest {
            op: Some(Op::Put(put("count", "1"))),
        },
        pb::BatchRequest {
            op: Some(Op::Get(pb::GetRequest {
                key: "count".into(),
            })),
        },
        pb::BatchRequest {
            op: Some(Op::Delete(pb::DeleteRequest {
                key: "count".into(),
            })),
        },
        pb::BatchRequest {
            op: Some(Op::Get(pb::GetRequest {
                key: "count".into(),
            })),
        },
    ];
    let mut answers = kv
        .batch(Request::new(Streaming::from_iter(ops)))
        .await?
        .into_inner();
    while let Some(a) = answers.message().await? {
        println!(
            "batch: {:?}{}",
            a.result,
            if a.error.is_empty() {
                String::new()
            } else {
                format!(" error: {}", a.error)
            }
        );
    }

    let health = plugin.health().await?;
    println!(
        "plugin health: {:?}",
        connect_plugin::pb::connectplugin::v1::HealthState::try_from(health.state)
            .unwrap_or_default()
    );
    let status = plugin.kill().await;
    println!(
        "plugin stopped: {}",
        status
            .map(|s| s.to_string())
            .unwrap_or_else(|| "not ours".into())
    );
    Ok(())
}
