//! The echo plugin that `connect-plugin-bench plugin` launches: `echo.v1.EchoService` served
//! with connect-plugin's `serve_main`, on tokio's multi-thread runtime or, with
//! `--current-thread`, on its `current_thread` runtime (what `#[tokio::main]` and
//! `#[tokio::main(flavor = "current_thread")]` build). With `--mtls-auth` it also names
//! each call's caller from its client certificate (`MtlsAuth`), as a plugin that wants to
//! know who calls does.

use connect_plugin::interceptors::auth::MtlsAuth;
use connect_plugin::plugin::{ServeConfig, serve_main};
use connect_plugin_bench::echo_plugin;

fn main() {
    let current = std::env::args().any(|a| a == "--current-thread");
    let mtls_auth = std::env::args().any(|a| a == "--mtls-auth");
    let mut builder = if current {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench-echo-plugin: cannot start tokio: {e}");
            std::process::exit(1);
        }
    };
    let mut config = ServeConfig::new(echo_plugin::cookie(), echo_plugin::plugins());
    if mtls_auth {
        config = config.interceptor(MtlsAuth::default());
    }
    runtime.block_on(serve_main(config));
}
