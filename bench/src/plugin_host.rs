//! `plugin-host`: the host side of the `plugin` benchmark, one measurement per process (as
//! go-plugin's benchmark host makes one launch per process). Prints one JSON line.
//!
//! * `--test launch`: from just before `PluginClient::builder(..).start()` (spawn, handshake
//!   line, `Handshake` call) through `dispense` to the return of the first `Echo` call; the
//!   scope of go-plugin's host, which times `plugin.NewClient` → `Client()` → `Dispense` →
//!   first `Echo`. Process start-up of the host itself is outside it on both sides.
//! * `--test seq`: launch, `--warmup` calls, then `--calls` sequential `Echo` calls, each
//!   timed (p50, p99), and calls/s over the measured loop. The `direct` and `baseline` links
//!   take tens of nanoseconds a call, which a per-call clock read would swamp: they are timed
//!   in batches of [`BATCH`] calls and each batch's mean is one sample.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use connect_plugin::interceptors::ClientChain;
use connect_plugin::plugin::{Network, PluginClient, ServeConfig};
use connect_plugin::rpc::Request;
use connect_plugin_bench::cp_pb::{EchoRequest, EchoService, EchoServicePlugin};
use connect_plugin_bench::echo_plugin::{self, AsyncEcho, PlainEcho};

use crate::{Args, PAYLOAD, Res};

/// Calls per timed batch on the in-process links.
pub const BATCH: usize = 100;

/// How the host reaches the plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// A launched plugin over TCP with automatic mutual TLS (the default for TCP).
    TcpMtls,
    /// A launched plugin over TCP, plaintext (`mtls(false)`).
    Tcp,
    /// A launched plugin over a Unix socket (the default network).
    Unix,
    /// The same plugin and socket, called by a minimal Connect client written on the `h2`
    /// crate (not the runtime's client): it queues a request's HEADERS and DATA together, so
    /// they leave in one write. Evidence for the client, not a mode of the runtime.
    UnixRawH2,
    /// The plugin served in the host process over an in-memory link (`in_memory`).
    Memory,
    /// The implementation itself (`direct`): no protocol at all.
    Direct,
    /// Not a plugin: a plain `Arc<dyn PlainEcho>` call to a local struct.
    Baseline,
    /// Not a plugin: an `Arc<dyn AsyncEcho>` (`#[async_trait]`) call to a local struct.
    AsyncBaseline,
}

impl Link {
    /// Every link, in the order runs go through them.
    pub const ALL: [Link; 8] = [
        Link::TcpMtls,
        Link::Tcp,
        Link::Unix,
        Link::UnixRawH2,
        Link::Memory,
        Link::Direct,
        Link::Baseline,
        Link::AsyncBaseline,
    ];

    /// The link's name on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Link::TcpMtls => "tcp-mtls",
            Link::Tcp => "tcp",
            Link::Unix => "unix",
            Link::UnixRawH2 => "unix-raw-h2",
            Link::Memory => "in-memory",
            Link::Direct => "direct",
            Link::Baseline => "dyn-baseline",
            Link::AsyncBaseline => "dyn-async-baseline",
        }
    }

    /// Parses a link name.
    pub fn parse(s: &str) -> Res<Link> {
        Link::ALL
            .into_iter()
            .find(|l| l.name() == s)
            .ok_or_else(|| {
                format!("unknown link {s:?} (tcp-mtls|tcp|unix|unix-raw-h2|in-memory|direct|dyn-baseline|dyn-async-baseline)")
                    .into()
            })
    }

    /// Whether the plugin is a separate process.
    pub fn is_process(self) -> bool {
        matches!(
            self,
            Link::TcpMtls | Link::Tcp | Link::Unix | Link::UnixRawH2
        )
    }

    /// Whether launching the plugin is measured (a launch through the runtime).
    pub fn launches(self) -> bool {
        matches!(self, Link::TcpMtls | Link::Tcp | Link::Unix)
    }

    /// Whether calls stay in the process without any protocol (timed in batches).
    pub fn in_process(self) -> bool {
        matches!(self, Link::Direct | Link::Baseline | Link::AsyncBaseline)
    }
}

/// The tokio runtimes of the host and plugin processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Both on `new_multi_thread()`, one worker per core (`#[tokio::main]`).
    Multi,
    /// Both on `new_current_thread()` (`#[tokio::main(flavor = "current_thread")]`).
    Current,
    /// The host on the multi-thread runtime, the plugin on `current_thread`: what a plugin
    /// author can choose when the host application keeps tokio's default.
    PluginCurrent,
    /// The host on `current_thread`, the plugin on the multi-thread runtime (not in the
    /// default set; for telling which side's runtime matters).
    HostCurrent,
}

impl Flavor {
    /// Every combination.
    pub const ALL: [Flavor; 4] = [
        Flavor::Multi,
        Flavor::Current,
        Flavor::PluginCurrent,
        Flavor::HostCurrent,
    ];

    /// The combinations `plugin` runs unless `--flavors` says otherwise.
    pub const DEFAULT: [Flavor; 3] = [Flavor::Multi, Flavor::Current, Flavor::PluginCurrent];

    /// `multi`, `current`, `plugin-current` or `host-current`.
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Multi => "multi",
            Flavor::Current => "current",
            Flavor::PluginCurrent => "plugin-current",
            Flavor::HostCurrent => "host-current",
        }
    }

    /// Parses a flavour name.
    pub fn parse(s: &str) -> Res<Flavor> {
        Flavor::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!("unknown flavor {s:?} (multi|current|plugin-current|host-current)").into()
            })
    }

    /// Whether the flavour is a combination of its own on `link` (the in-process links have
    /// no plugin process, so there only `multi` and `current` differ).
    pub fn applies_to(self, link: Link) -> bool {
        matches!(self, Flavor::Multi | Flavor::Current) || link.is_process()
    }

    fn host_runtime(self) -> Res<tokio::runtime::Runtime> {
        match self {
            Flavor::Multi | Flavor::PluginCurrent => crate::runtime(),
            Flavor::Current | Flavor::HostCurrent => crate::current_thread_runtime(),
        }
    }

    fn plugin_current_thread(self) -> bool {
        matches!(self, Flavor::Current | Flavor::PluginCurrent)
    }
}

/// The plugin to launch, and how.
pub struct Plugin {
    /// The binary.
    pub path: PathBuf,
    /// Without the `PluginClient`'s default interceptors (retry, circuit breaker).
    pub no_interceptors: bool,
    /// The plugin names its callers from their client certificates (`--mtls-auth`).
    pub mtls_auth: bool,
}

/// The plugin binary: `bench-echo-plugin` beside this one, or `BENCH_ECHO_PLUGIN`.
pub fn plugin_binary() -> Res<PathBuf> {
    // `BENCH_ECHO_PLUGIN`: another binary (a script running the plugin under valgrind, say).
    if let Some(path) = std::env::var_os("BENCH_ECHO_PLUGIN") {
        return Ok(PathBuf::from(path));
    }
    let path = std::env::current_exe()?.with_file_name("bench-echo-plugin");
    if !path.exists() {
        return Err(format!(
            "{} is missing: build it with `cargo build --release` in bench/",
            path.display()
        )
        .into());
    }
    Ok(path)
}

/// Runs one `--test` over `--link` with the `--flavor` runtime in this process (and, for
/// launched plugins, in the plugin's).
pub fn main(args: &Args) -> Res<()> {
    let link = Link::parse(args.req("link")?)?;
    let flavor = Flavor::parse(args.get("flavor").unwrap_or("multi"))?;
    let test = args.req("test")?.to_string();
    let warmup: usize = args.num("warmup", 2_000)?;
    let calls: usize = args.num("calls", 20_000)?;
    let limit = Duration::from_secs(args.num("time-limit-secs", 300)?);
    // `--no-interceptors`: for profiling what the default retry and circuit breaker cost.
    let plugin = Plugin {
        path: plugin_binary()?,
        no_interceptors: args.flag("no-interceptors"),
        mtls_auth: false,
    };
    // `--plugin-auth` (with `--test seq-ab` over `tcp-mtls`): the intercepted plugin also
    // runs `MtlsAuth` on every call.
    let plugin_auth = args.flag("plugin-auth");
    if plugin_auth && link != Link::TcpMtls {
        return Err("--plugin-auth needs --link tcp-mtls (a client certificate)".into());
    }
    // `--in-task`: measure from a spawned task (on a worker thread under the multi-thread
    // runtime) instead of from `block_on` on the main thread, as `#[tokio::main]` code does.
    let in_task = args.flag("in-task");
    let t = test.clone();
    let work = async move {
        let work = async {
            match t.as_str() {
                "launch" => launch_test(link, flavor, &plugin).await,
                "seq" => seq_test(link, flavor, &plugin, warmup, calls).await,
                "seq-ab" => seq_ab_test(link, flavor, &plugin, plugin_auth, warmup, calls).await,
                other => Err(format!("unknown --test {other:?} (launch|seq|seq-ab)").into()),
            }
        };
        match tokio::time::timeout(limit, work).await {
            Ok(r) => r,
            Err(_) => Err(format!("the {t} test did not finish within {limit:?}").into()),
        }
    };
    let line = flavor.host_runtime()?.block_on(async move {
        if in_task {
            tokio::spawn(work).await?
        } else {
            work.await
        }
    })?;
    let mut line = line;
    line["link"] = link.name().into();
    line["flavor"] = flavor.name().into();
    line["test"] = test.into();
    println!("{line}");
    Ok(())
}

/// Starts the plugin over `link` (not for [`Link::Baseline`]).
async fn start(link: Link, flavor: Flavor, plugin: &Plugin) -> Res<PluginClient> {
    let builder = PluginClient::builder(echo_plugin::cookie());
    let builder = if plugin.no_interceptors {
        builder.chain(ClientChain::new())
    } else {
        builder
    };
    let builder = match link {
        Link::TcpMtls | Link::Tcp | Link::Unix | Link::UnixRawH2 => {
            let b = builder.command(&plugin.path).network(
                if link == Link::TcpMtls || link == Link::Tcp {
                    Network::Tcp
                } else {
                    Network::Unix
                },
            );
            let b = if link == Link::Tcp { b.mtls(false) } else { b };
            let b = if plugin.mtls_auth {
                b.arg("--mtls-auth")
            } else {
                b
            };
            if flavor.plugin_current_thread() {
                b.arg("--current-thread")
            } else {
                b
            }
        }
        Link::Memory => builder.in_memory(ServeConfig::new(
            echo_plugin::cookie(),
            echo_plugin::plugins(),
        )),
        Link::Direct => builder.direct(echo_plugin::plugins()),
        Link::Baseline | Link::AsyncBaseline => {
            return Err("the baselines have no plugin to start".into());
        }
    };
    Ok(builder.start().await?)
}

/// One `Echo` call through the plugin's service trait; checks the answer.
async fn call(echo: &dyn EchoService) -> Res<()> {
    let reply = echo
        .echo(Request::new(EchoRequest {
            message: PAYLOAD.to_owned(),
        }))
        .await?
        .into_inner();
    if reply.message != PAYLOAD {
        return Err(format!("echo answered {:?}", reply.message).into());
    }
    Ok(())
}

/// One call of the baseline; checks the answer.
fn plain_call(echo: &dyn PlainEcho) -> Res<()> {
    let reply = echo.echo(EchoRequest {
        message: PAYLOAD.to_owned(),
    });
    if reply.message != PAYLOAD {
        return Err(format!("echo answered {:?}", reply.message).into());
    }
    Ok(())
}

/// One call of the async baseline; checks the answer.
async fn async_call(echo: &dyn AsyncEcho) -> Res<()> {
    let reply = echo
        .echo(EchoRequest {
            message: PAYLOAD.to_owned(),
        })
        .await?;
    if reply.message != PAYLOAD {
        return Err(format!("echo answered {:?}", reply.message).into());
    }
    Ok(())
}

/// Stops a started plugin and waits for its process (so its CPU time is accounted as ours).
async fn stop(client: PluginClient) {
    let _ = client.kill().await;
}

async fn launch_test(link: Link, flavor: Flavor, plugin: &Plugin) -> Res<serde_json::Value> {
    if !link.launches() {
        return Err(format!("{} has no process to launch", link.name()).into());
    }
    let t0 = Instant::now();
    let client = start(link, flavor, plugin).await?;
    let started = t0.elapsed();
    let echo = client.dispense::<EchoServicePlugin>()?;
    call(&*echo).await?;
    let first = t0.elapsed();
    stop(client).await;
    Ok(serde_json::json!({
        "launch_us": first.as_secs_f64() * 1e6,
        "start_us": started.as_secs_f64() * 1e6,
    }))
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn seq_test(
    link: Link,
    flavor: Flavor,
    plugin: &Plugin,
    warmup: usize,
    calls: usize,
) -> Res<serde_json::Value> {
    let mut lat_us: Vec<f64> = Vec::with_capacity(calls);
    let (client, secs) = match link {
        Link::Baseline => {
            let echo: Arc<dyn PlainEcho> = black_box(Arc::new(echo_plugin::Echo));
            for _ in 0..warmup {
                plain_call(&*echo)?;
            }
            let start = Instant::now();
            for _ in 0..calls.div_ceil(BATCH) {
                let t0 = Instant::now();
                for _ in 0..BATCH {
                    plain_call(black_box(&*echo))?;
                }
                lat_us.push(t0.elapsed().as_secs_f64() * 1e6 / BATCH as f64);
            }
            (None, start.elapsed().as_secs_f64())
        }
        Link::AsyncBaseline => {
            let echo: Arc<dyn AsyncEcho> = black_box(Arc::new(echo_plugin::Echo));
            for _ in 0..warmup {
                async_call(&*echo).await?;
            }
            let start = Instant::now();
            for _ in 0..calls.div_ceil(BATCH) {
                let t0 = Instant::now();
                for _ in 0..BATCH {
                    async_call(black_box(&*echo)).await?;
                }
                lat_us.push(t0.elapsed().as_secs_f64() * 1e6 / BATCH as f64);
            }
            (None, start.elapsed().as_secs_f64())
        }
        Link::UnixRawH2 => {
            let client = start(link, flavor, plugin).await?;
            let path = client
                .handshake_line()
                .map(|l| l.address.clone())
                .ok_or("the plugin printed no handshake line")?;
            let mut raw = RawH2::connect(Path::new(&path)).await?;
            for _ in 0..warmup {
                raw.call().await?;
            }
            let start = Instant::now();
            for _ in 0..calls {
                let t0 = Instant::now();
                raw.call().await?;
                lat_us.push(t0.elapsed().as_secs_f64() * 1e6);
            }
            let secs = start.elapsed().as_secs_f64();
            drop(raw);
            (Some(client), secs)
        }
        _ => {
            let client = start(link, flavor, plugin).await?;
            let echo = black_box(client.dispense::<EchoServicePlugin>()?);
            for _ in 0..warmup {
                call(&*echo).await?;
            }
            let start = Instant::now();
            if link.in_process() {
                for _ in 0..calls.div_ceil(BATCH) {
                    let t0 = Instant::now();
                    for _ in 0..BATCH {
                        call(black_box(&*echo)).await?;
                    }
                    lat_us.push(t0.elapsed().as_secs_f64() * 1e6 / BATCH as f64);
                }
            } else {
                for _ in 0..calls {
                    let t0 = Instant::now();
                    call(&*echo).await?;
                    lat_us.push(t0.elapsed().as_secs_f64() * 1e6);
                }
            }
            (Some(client), start.elapsed().as_secs_f64())
        }
    };
    if let Some(c) = client {
        stop(c).await;
    }
    let count = if link.in_process() {
        lat_us.len() * BATCH
    } else {
        lat_us.len()
    };
    lat_us.sort_by(f64::total_cmp);
    Ok(serde_json::json!({
        "count": count,
        "secs": secs,
        "rate": count as f64 / secs,
        "mean_us": secs * 1e6 / count as f64,
        "p50_us": percentile(&lat_us, 50.0),
        "p99_us": percentile(&lat_us, 99.0),
    }))
}

/// `seq-ab`: two plugins of the same binary over `link`, one dispensed without
/// interceptors on either side, the other with the default chain (and, with `plugin_auth`,
/// `MtlsAuth` in the plugin); sequential calls alternate between them (see `ab`).
async fn seq_ab_test(
    link: Link,
    flavor: Flavor,
    plugin: &Plugin,
    plugin_auth: bool,
    warmup: usize,
    calls: usize,
) -> Res<serde_json::Value> {
    if !link.launches() {
        return Err(format!("seq-ab launches two plugins; {} has none", link.name()).into());
    }
    let bare = Plugin {
        path: plugin.path.clone(),
        no_interceptors: true,
        mtls_auth: false,
    };
    let full = Plugin {
        path: plugin.path.clone(),
        no_interceptors: false,
        mtls_auth: plugin_auth,
    };
    let plain_client = start(link, flavor, &bare).await?;
    let chain_client = start(link, flavor, &full).await?;
    let plain = plain_client.dispense::<EchoServicePlugin>()?;
    let chain = chain_client.dispense::<EchoServicePlugin>()?;
    let line = crate::ab::interleave(
        warmup,
        calls,
        || call(black_box(&*plain)),
        || call(black_box(&*chain)),
    )
    .await;
    stop(plain_client).await;
    stop(chain_client).await;
    line
}

/// A minimal Connect unary client on the `h2` crate over a Unix socket: `send_request` and
/// `send_data(.., end_of_stream)` queue HEADERS and DATA before the connection task runs, so
/// one write carries the request (hyper's client flushes HEADERS first and sends DATA from a
/// second task once h2 grants the new stream capacity: two writes, and two wake-ups of the
/// plugin, per call).
struct RawH2 {
    send: h2::client::SendRequest<bytes::Bytes>,
    body: bytes::Bytes,
    uri: http::Uri,
}

impl RawH2 {
    async fn connect(path: &Path) -> Res<RawH2> {
        use prost::Message as _;
        let io = tokio::net::UnixStream::connect(path).await?;
        let (send, conn) = h2::client::handshake(io).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let body = EchoRequest {
            message: PAYLOAD.to_owned(),
        }
        .encode_to_vec()
        .into();
        let uri = http::Uri::from_static("http://localhost/echo.v1.EchoService/Echo");
        Ok(RawH2 { send, body, uri })
    }

    async fn call(&mut self) -> Res<()> {
        use prost::Message as _;
        let mut send = self.send.clone().ready().await?;
        let request = http::Request::post(self.uri.clone())
            .header(http::header::CONTENT_TYPE, "application/proto")
            .header("connect-protocol-version", "1")
            .body(())?;
        let (response, mut stream) = send.send_request(request, false)?;
        stream.send_data(self.body.clone(), true)?;
        let response = response.await?;
        if response.status() != http::StatusCode::OK {
            return Err(format!("the plugin answered {}", response.status()).into());
        }
        let mut body = response.into_body();
        let mut buf = bytes::BytesMut::new();
        while let Some(chunk) = body.data().await {
            let chunk = chunk?;
            let _ = body.flow_control().release_capacity(chunk.len());
            buf.extend_from_slice(&chunk);
        }
        let reply = connect_plugin_bench::cp_pb::EchoResponse::decode(buf.freeze())?;
        if reply.message != PAYLOAD {
            return Err(format!("echo answered {:?}", reply.message).into());
        }
        Ok(())
    }
}
