//! connect-plugin-bench: connect-plugin side by side with tonic and the raw hyper HTTP/2 floor,
//! over loopback, every measurement in fresh processes.
//!
//! ```text
//! connect-plugin-bench run    [--rounds 3] [--quick] [--md ../BENCHMARKS.md] [--json FILE]
//!                             [--peers hyper,tonic,connect-plugin,connect-plugin-chain,connect-plugin-grpc,reqwest-connect]
//!                             [--quiet-pct 3] [--max-wait-secs 180] [--max-other-pct 6]
//!                             [--retries 2]
//! connect-plugin-bench server --peer P                 prints `listening on ADDR`, serves until
//!                                                      killed (or stdin closes, with
//!                                                      --exit-on-eof)
//! connect-plugin-bench client --peer P --addr ADDR --test seq|conc64|stream|seq-ab [--addr-b ADDR]
//!                                                      one measurement, one JSON line on stdout
//! connect-plugin-bench plugin [--rounds 3] [--quick] [--md ../BENCHMARKS.md] [--json FILE]
//!                             [--launches 20] [--calls 20000] [--warmup 2000]
//!                             [--flavors multi,current,plugin-current] [--links a,b]
//!                             [--goplugin RUN.SH | --no-goplugin]
//!                                                      the plugin system against
//!                                                      hashicorp/go-plugin
//! connect-plugin-bench plugin-host --link L --flavor F --test launch|seq|seq-ab
//!                                                      one plugin measurement, one JSON line
//! connect-plugin-bench chain  [--rounds 7] [--calls 10000] [--warmup 2000]
//!                             [--variants dispensed;dispensed-mtls;auth,breaker,retry@task]
//!                                                      what the interceptor chain adds:
//!                                                      plain and intercepted calls
//!                                                      interleaved in one process
//! ```
//!
//! Peers: `hyper` (raw hyper 1 h2c echo: the floor), `tonic` (tonic 0.14 gRPC), `connect-plugin`
//! (this repository's runtime, Connect protocol, binary proto, h2c), `connect-plugin-grpc`
//! (the same server; the client speaks gRPC) and `reqwest-connect` (the same server; a minimal
//! Connect client on reqwest 0.12, to compare reqwest with the runtime's hyper-based client).

mod ab;
mod chain_ab;
mod client;
mod platform_run;
mod plugin_host;
mod plugin_run;
mod run;
mod server;
mod sys;

use std::collections::HashMap;

/// Boxed error for everything in this harness.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;
/// Result with [`BoxError`].
pub type Res<T> = Result<T, BoxError>;

/// The message every peer carries: 16 bytes.
pub const PAYLOAD: &str = "0123456789abcdef";
/// Messages per server stream (fixed by the servers).
pub const STREAM_N: usize = 1000;

/// Bindings for tonic (prost messages + tonic service code).
pub mod tonic_pb {
    #![allow(clippy::all, missing_docs)]
    include!(concat!(env!("OUT_DIR"), "/tonic/echo.v1.rs"));
}

/// Bindings for connect-plugin (prost messages + pbjson serde + the generated service code).
pub use connect_plugin_bench::cp_pb;

/// A system under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// Raw hyper 1 HTTP/2 (h2c) echo: the floor.
    Hyper,
    /// tonic 0.14, gRPC over h2c.
    Tonic,
    /// connect-plugin, Connect protocol, binary proto, h2c.
    ConnectPlugin,
    /// connect-plugin's server; its client speaks gRPC.
    ConnectPluginGrpc,
    /// connect-plugin with the dispensed clients' default chain (circuit breaker, retry) and a
    /// bearer token: the client adds the token, the server verifies it.
    ConnectPluginChain,
    /// connect-plugin's server; the client is a minimal Connect client on reqwest 0.12.
    ReqwestConnect,
}

impl Peer {
    /// Every peer, in the order runs alternate through them.
    pub const ALL: [Peer; 6] = [
        Peer::Hyper,
        Peer::Tonic,
        Peer::ConnectPlugin,
        Peer::ConnectPluginChain,
        Peer::ConnectPluginGrpc,
        Peer::ReqwestConnect,
    ];

    /// Parses a peer name.
    pub fn parse(s: &str) -> Res<Peer> {
        Peer::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown peer {s:?} (hyper|tonic|connect-plugin|connect-plugin-chain|connect-plugin-grpc|reqwest-connect)"
                )
                    .into()
            })
    }

    /// The peer's name.
    pub fn name(self) -> &'static str {
        match self {
            Peer::Hyper => "hyper",
            Peer::Tonic => "tonic",
            Peer::ConnectPlugin => "connect-plugin",
            Peer::ConnectPluginGrpc => "connect-plugin-grpc",
            Peer::ConnectPluginChain => "connect-plugin-chain",
            Peer::ReqwestConnect => "reqwest-connect",
        }
    }

    /// Whether this peer is connect-plugin's own client (the issue's targets are about these).
    pub fn is_ours(self) -> bool {
        matches!(
            self,
            Peer::ConnectPlugin | Peer::ConnectPluginGrpc | Peer::ConnectPluginChain
        )
    }

    /// The server implementation this peer's client talks to.
    pub fn server(self) -> Peer {
        match self {
            Peer::ConnectPluginGrpc | Peer::ReqwestConnect => Peer::ConnectPlugin,
            p => p,
        }
    }
}

/// `--key value`, `--key=value` and bare `--flag` options.
#[derive(Debug, Default)]
pub struct Args {
    opts: HashMap<String, String>,
}

impl Args {
    fn parse(raw: &[String]) -> Res<Args> {
        let mut opts = HashMap::new();
        let mut i = 0;
        while i < raw.len() {
            let Some(key) = raw[i].strip_prefix("--") else {
                return Err(format!("unexpected argument {:?}", raw[i]).into());
            };
            if let Some((k, v)) = key.split_once('=') {
                opts.insert(k.to_string(), v.to_string());
            } else if i + 1 < raw.len() && !raw[i + 1].starts_with("--") {
                opts.insert(key.to_string(), raw[i + 1].clone());
                i += 1;
            } else {
                opts.insert(key.to_string(), String::new());
            }
            i += 1;
        }
        Ok(Args { opts })
    }

    /// A string option.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.opts.get(key).map(String::as_str)
    }

    /// A required string option.
    pub fn req(&self, key: &str) -> Res<&str> {
        self.get(key)
            .ok_or_else(|| format!("--{key} is required").into())
    }

    /// Whether a flag is present.
    pub fn flag(&self, key: &str) -> bool {
        self.opts.contains_key(key)
    }

    /// A numeric option with a default.
    pub fn num<T: std::str::FromStr>(&self, key: &str, default: T) -> Res<T> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{key}: cannot parse {v:?}").into()),
        }
    }
}

/// tokio's default multi-thread runtime (one worker per core), as every process uses.
pub fn runtime() -> Res<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// tokio's `current_thread` runtime (everything on the calling thread).
pub fn current_thread_runtime() -> Res<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn usage() -> ! {
    eprintln!(
        "usage:\n  connect-plugin-bench run [--rounds N] [--quick] [--md FILE] [--json FILE] [--peers a,b]\n  \
         connect-plugin-bench server --peer P\n  \
         connect-plugin-bench client --peer P --addr ADDR --test seq|conc64|stream|seq-ab [--addr-b ADDR]\n  \
         connect-plugin-bench plugin [--rounds N] [--quick] [--md FILE] [--json FILE] [--no-goplugin]\n  \
         connect-plugin-bench platform [--calls N] [--secs S] [--md FILE]\n  \
         connect-plugin-bench plugin-host --link L --flavor F --test launch|seq|seq-ab\n  \
         connect-plugin-bench chain [--rounds 7] [--calls 10000] [--variants dispensed;dispensed-mtls;auth,breaker,retry@task]\n\
         peers: hyper, tonic, connect-plugin, connect-plugin-chain, connect-plugin-grpc, reqwest-connect"
    );
    std::process::exit(2)
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = argv.split_first() else {
        usage()
    };
    // A full run takes minutes: asking for help must not start one.
    if rest
        .iter()
        .chain([cmd])
        .any(|a| a == "--help" || a == "-h" || a == "help")
    {
        usage()
    }
    let result = Args::parse(rest).and_then(|args| match cmd.as_str() {
        "run" => run::main(&args),
        "server" => server::main(&args),
        "client" => client::main(&args),
        "plugin" => plugin_run::main(&args),
        "plugin-host" => plugin_host::main(&args),
        "platform" => platform_run::main(&args),
        "platform-host" => platform_run::host_main(&args),
        "chain" => chain_ab::main(&args),
        _ => usage(),
    });
    if let Err(e) = result {
        eprintln!("connect-plugin-bench {cmd}: {e}");
        std::process::exit(1);
    }
}
