//! The KV plugin: serves an in-memory `KVService`. Started by `kv-host` (or any host with
//! the KV cookie); `kv-plugin --listen 127.0.0.1:8080` serves standalone.

use std::sync::Arc;

use connect_plugin::plugin::{PluginSet, ServeConfig, serve_main};
use kv::KvStore;
use kv::pb::KvServicePlugin;

#[tokio::main]
async fn main() {
    // Logs go to stderr as JSON lines, which the host turns into structured records.
    tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let plugins = PluginSet::new().with::<KvServicePlugin>(Arc::new(KvStore::default()));
    serve_main(ServeConfig::new(kv::cookie(), plugins)).await;
}
