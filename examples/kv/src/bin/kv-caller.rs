//! A plugin that provides nothing and uses the KV plugin through a host platform
//! (self-registering, Model B): it joins the host named in its environment, finds the
//! `kv` service through the host's router, writes and reads a key, prints what it got, and
//! stays a member until stopped.
//!
//! ```sh
//! CONNECT_PLUGIN_HOST_URL=http://127.0.0.1:7000 CONNECT_PLUGIN_JOIN_TOKEN=… kv-caller
//! ```

use std::process::ExitCode;

use connect_plugin::Request;
use connect_plugin::plugin::{JoinConfig, Membership, PluginSet, ServeConfig, serve};
use kv::pb::{GetRequest, KvServicePlugin, PutRequest};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let Some(mut join) = JoinConfig::from_env() else {
        eprintln!(
            "kv-caller joins a host platform: set CONNECT_PLUGIN_HOST_URL and CONNECT_PLUGIN_JOIN_TOKEN"
        );
        return ExitCode::from(2);
    };
    if join.self_id.is_empty() {
        join.self_id = "kv-caller".into();
    }
    let member = match Membership::new(join.requires("kv")) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("kv-caller: {e}");
            return ExitCode::from(2);
        }
    };
    let mut config = ServeConfig::new(kv::cookie(), PluginSet::new());
    config.join = Some(member.clone());
    if config.listen.is_none()
        && std::env::var(connect_plugin::plugin::handshake::ENV_LISTEN).is_err()
    {
        config.listen = Some("127.0.0.1:0".into());
    }
    let serving = tokio::spawn(serve(config));
    let id = member.joined().await;
    println!("joined the host as {id}");
    let kv = member.discover::<KvServicePlugin>();
    let put = kv
        .put(Request::new(PutRequest {
            key: "greeting".into(),
            value: "hello through the host".into(),
        }))
        .await;
    let got = match put {
        Ok(_) => {
            kv.get(Request::new(GetRequest {
                key: "greeting".into(),
            }))
            .await
        }
        Err(e) => Err(e),
    };
    match got {
        Ok(r) => println!(
            "kv through the host: greeting = {:?}",
            String::from_utf8_lossy(&r.into_inner().value)
        ),
        Err(e) => {
            eprintln!("kv-caller: calling kv through the host failed: {e}");
            return ExitCode::FAILURE;
        }
    }
    match serving.await {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("kv-caller: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("kv-caller: {e}");
            ExitCode::FAILURE
        }
    }
}
