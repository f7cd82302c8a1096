//! `platform`: a call routed through the host platform against a direct call to the same
//! provider, in one invocation, with ratios.
//!
//! Three processes: the host (`connect-plugin-bench platform-host`, the platform with join
//! tokens for the provider and the benchmark), the provider (`bench-echo-plugin`, which
//! self-registers with the host from its environment) and this one, the caller. For each
//! link from host to provider (TCP, Unix socket) it measures, interleaved so that drift hits
//! both alike:
//!
//! - **seq**: sequential `Echo` calls, direct and routed, p50 and p99;
//! - **conc64**: 64 calls in flight for a few seconds, direct and routed, calls/s, and the
//!   CPU time per call of the host and of the provider (from `/proc/PID/stat`).

use std::io::{BufRead, BufReader, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use connect_plugin::interceptors::auth::BearerToken;
use connect_plugin::pb::connectplugin::v1 as cp;
use connect_plugin::{Channel, Client, Request};
use connect_plugin_platform::Platform;
use connect_plugin_platform::address::AllowList;
use connect_plugin_platform::control::PlatformConfig;
use connect_plugin_platform::identity::{JoinTokens, SelfIdPattern};

use crate::cp_pb::{EchoRequest, EchoService as _, EchoServiceClient};
use crate::{Args, PAYLOAD, Res, runtime};

const PROVIDER_SECRET: &str = "bench-provider-join-secret";
const CALLER_SECRET: &str = "bench-caller-join-secret";

/// `connect-plugin-bench platform-host --unix-dir DIR`: the host, until stdin closes.
pub fn host_main(args: &Args) -> Res<()> {
    let dir = args.req("unix-dir")?.to_owned();
    let rt = if args.flag("current-thread") {
        crate::current_thread_runtime()?
    } else {
        runtime()?
    };
    rt.block_on(async move {
        let mut rate = connect_plugin_platform::control::default_admission_rate();
        rate = rate.burst(std::num::NonZeroU32::new(1000).unwrap_or(std::num::NonZeroU32::MIN));
        let platform = Platform::new(PlatformConfig {
            join_tokens: JoinTokens::new()
                .with(SelfIdPattern::parse("echo")?, PROVIDER_SECRET)
                .with(SelfIdPattern::parse("bench")?, CALLER_SECRET),
            allow: AllowList::new()
                .with("http://127.0.0.1:*")?
                .with(&format!("unix:{dir}/*"))?,
            admission_rate: rate,
            // The watch fan-out opens 10,000 watches from one member.
            members: connect_plugin_platform::control::MemberLimits {
                max_watches: 20_000,
                ..Default::default()
            },
            max_watches: 20_000,
            ..PlatformConfig::default()
        });
        let server = connect_plugin::Server::new(platform.router())
            .bind("127.0.0.1:0")
            .await?;
        let addr = match server.local_addr() {
            connect_plugin::transport::ListenAddr::Tcp(a) => a.to_string(),
            other => return Err(format!("host listening on {other:?}").into()),
        };
        println!("listening on http://{addr}");
        std::io::stdout().flush()?;
        // Until the benchmark goes away.
        let mut sink = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut sink).await?;
        Ok::<(), crate::BoxError>(())
    })
}

/// A child process and the first line it printed (`listening on URL`).
fn spawn_listening(mut cmd: Command) -> Res<(Child, String)> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("unexpected first line {line:?}"))?
        .to_owned();
    Ok((child, url))
}

/// User + system CPU time of a process so far.
fn cpu_time(pid: u32) -> Res<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // After the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')').ok_or("bad stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    // USER_HZ: 100 ticks a second on every Linux architecture this runs on.
    Ok(Duration::from_millis(ticks * 10))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

/// One link's figures.
struct Row {
    link: &'static str,
    direct_p50: Duration,
    direct_p90: Duration,
    routed_p50: Duration,
    routed_p90: Duration,
    routed_p99: Duration,
    direct_rate: f64,
    routed_rate: f64,
    provider_cpu_direct: Duration,
    host_cpu_routed: Duration,
    provider_cpu_routed: Duration,
}

/// Admits the benchmark as a plugin that requires `echo`; its runtime token.
async fn admit_bench(host: &str) -> Res<String> {
    let hello = cp::HandshakeServiceClient::new(
        Client::new(Channel::builder(host)?.build())
            .with_interceptor(BearerToken::new(CALLER_SECRET)?),
    );
    Ok(cp::HandshakeService::handshake(
        &hello,
        Request::new(cp::HandshakeRequest {
            core_protocol_version: 1,
            app_protocol_versions: vec![1],
            self_id: "bench".into(),
            requires: vec![cp::ServiceDependency {
                r#type: "echo".into(),
                ..Default::default()
            }],
            ..Default::default()
        }),
    )
    .await?
    .into_inner()
    .runtime_token)
}

async fn call(c: &EchoServiceClient) -> Res<()> {
    c.echo(Request::new(EchoRequest {
        message: PAYLOAD.to_owned(),
    }))
    .await?;
    Ok(())
}

/// Calls/s with 64 calls in flight for `secs`, and the calls made.
async fn conc64(c: &EchoServiceClient, secs: u64) -> Res<(f64, u64)> {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (c, stop, count) = (c.clone(), stop.clone(), count.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if call(&c).await.is_ok() {
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await?;
    }
    let n = count.load(Ordering::Relaxed);
    Ok((n as f64 / start.elapsed().as_secs_f64(), n))
}

async fn measure(
    link: &'static str,
    host: &str,
    direct_url: &str,
    host_pid: u32,
    provider_pid: u32,
    calls: usize,
    secs: u64,
) -> Res<Row> {
    let admitted_token = admit_bench(host).await?;
    let routed = EchoServiceClient::new(
        Client::new(Channel::builder(&format!("{host}/services/echo/-"))?.build())
            .with_interceptor(BearerToken::new(&admitted_token)?),
    );
    let direct = EchoServiceClient::new(Client::new(Channel::builder(direct_url)?.build()));
    // Routable once the host checked the provider's address.
    let ready = Instant::now();
    while call(&routed).await.is_err() {
        if ready.elapsed() > Duration::from_secs(20) {
            return Err("the provider never became routable".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for _ in 0..500 {
        call(&direct).await?;
        call(&routed).await?;
    }
    let mut d = Vec::with_capacity(calls);
    let mut r = Vec::with_capacity(calls);
    let block = (calls / 10).max(1);
    while d.len() < calls {
        for _ in 0..block {
            let t = Instant::now();
            call(&direct).await?;
            d.push(t.elapsed());
        }
        for _ in 0..block {
            let t = Instant::now();
            call(&routed).await?;
            r.push(t.elapsed());
        }
    }
    d.sort();
    r.sort();
    let p0 = cpu_time(provider_pid)?;
    let (direct_rate, direct_n) = conc64(&direct, secs).await?;
    let provider_cpu_direct = (cpu_time(provider_pid)? - p0) / direct_n.max(1) as u32;
    let (h0, p0) = (cpu_time(host_pid)?, cpu_time(provider_pid)?);
    let (routed_rate, routed_n) = conc64(&routed, secs).await?;
    let host_cpu_routed = (cpu_time(host_pid)? - h0) / routed_n.max(1) as u32;
    let provider_cpu_routed = (cpu_time(provider_pid)? - p0) / routed_n.max(1) as u32;
    Ok(Row {
        link,
        direct_p50: percentile(&d, 0.5),
        direct_p90: percentile(&d, 0.9),
        routed_p50: percentile(&r, 0.5),
        routed_p90: percentile(&r, 0.9),
        routed_p99: percentile(&r, 0.99),
        direct_rate,
        routed_rate,
        provider_cpu_direct,
        host_cpu_routed,
        provider_cpu_routed,
    })
}

/// What the watch fan-out measured.
struct Fanout {
    watchers: usize,
    connections: usize,
    /// From stopping a provider to the last watcher seeing it removed.
    reach: Duration,
    /// The host's resident memory added by the open watches, per watch.
    bytes_per_watch: f64,
}

fn rss_kib(pid: u32) -> Res<u64> {
    crate::sys::proc_status_kib(pid, "VmRSS").ok_or_else(|| "no VmRSS".into())
}

/// `connections` × `per_connection` watches of `echo`; then a second provider, registered
/// before the watches opened, is stopped (SIGTERM: it leaves the host), and the time until
/// every watcher has seen it removed is measured.
async fn fanout(
    host: &str,
    host_pid: u32,
    plugin: &std::path::Path,
    connections: usize,
    per_connection: usize,
) -> Res<Fanout> {
    let admitted_token = admit_bench(host).await?;
    // A second provider, registered before the watches open.
    let mut cmd = Command::new(plugin);
    cmd.args(["--listen", "127.0.0.1:0"])
        .env("CONNECT_PLUGIN_HOST_URL", host)
        .env("CONNECT_PLUGIN_JOIN_TOKEN", PROVIDER_SECRET);
    let (mut second, _) = spawn_listening(cmd)?;
    let discover = cp::ServiceRegistryClient::new(
        Client::new(Channel::builder(host)?.build())
            .with_interceptor(BearerToken::new(&admitted_token)?),
    );
    let ready = Instant::now();
    loop {
        let all = cp::ServiceRegistry::discover_service(
            &discover,
            Request::new(cp::DiscoverServiceRequest {
                service_type: "echo".into(),
                min_version: String::new(),
            }),
        )
        .await
        .map(|r| r.into_inner().all.len())
        .unwrap_or(0);
        if all >= 2 {
            break;
        }
        if ready.elapsed() > Duration::from_secs(20) {
            return Err("the second provider never registered".into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before = rss_kib(host_pid)?;
    let total = connections * per_connection;
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let (opened_tx, mut opened_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut tasks = Vec::with_capacity(total);
    for _ in 0..connections {
        let registry = cp::ServiceRegistryClient::new(
            Client::new(Channel::builder(host)?.build())
                .with_interceptor(BearerToken::new(&admitted_token)?),
        );
        for _ in 0..per_connection {
            let (registry, seen, opened) = (registry.clone(), seen_tx.clone(), opened_tx.clone());
            tasks.push(tokio::spawn(async move {
                let Ok(stream) = cp::ServiceRegistry::watch_service(
                    &registry,
                    Request::new(cp::WatchServiceRequest {
                        service_type: "echo".into(),
                        min_version: String::new(),
                    }),
                )
                .await
                else {
                    return;
                };
                let _ = opened.send(());
                let mut stream = stream.into_inner();
                while let Ok(Some(e)) = stream.message().await {
                    if e.kind == cp::watch_service_event::Kind::Removed as i32 {
                        let _ = seen.send(());
                        return;
                    }
                }
            }));
        }
    }
    drop(opened_tx);
    let mut opened = 0;
    while opened < total && opened_rx.recv().await.is_some() {
        opened += 1;
    }
    if opened < total {
        return Err(format!("only {opened} of {total} watches opened").into());
    }
    let after = rss_kib(host_pid)?;
    let start = Instant::now();
    let stopped = Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status()?;
    if !stopped.success() {
        return Err("could not signal the second provider".into());
    }
    let mut seen = 0;
    while seen < total {
        match tokio::time::timeout(Duration::from_secs(30), seen_rx.recv()).await {
            Ok(Some(())) => seen += 1,
            _ => break,
        }
    }
    let reach = start.elapsed();
    let _ = second.kill();
    let _ = second.wait();
    for t in tasks {
        t.abort();
    }
    if seen < total {
        return Err(format!("only {seen} of {total} watchers saw the change").into());
    }
    Ok(Fanout {
        watchers: total,
        connections,
        reach,
        bytes_per_watch: (after.saturating_sub(before) as f64 * 1024.0) / total as f64,
    })
}

/// The control plane's own costs: a discover RPC against an `Echo` call to the host's
/// neighbour, and, in this process, a token check and a provider selection.
struct Costs {
    discover_p50: Duration,
    echo_p50: Duration,
    token_check: Duration,
    selection: Duration,
}

async fn costs(host: &str, direct_url: &str, calls: usize) -> Res<Costs> {
    let admitted_token = admit_bench(host).await?;
    let registry = cp::ServiceRegistryClient::new(
        Client::new(Channel::builder(host)?.build())
            .with_interceptor(BearerToken::new(&admitted_token)?),
    );
    let direct = EchoServiceClient::new(Client::new(Channel::builder(direct_url)?.build()));
    let discover = || async {
        cp::ServiceRegistry::discover_service(
            &registry,
            Request::new(cp::DiscoverServiceRequest {
                service_type: "echo".into(),
                min_version: String::new(),
            }),
        )
        .await
    };
    for _ in 0..200 {
        discover().await?;
        call(&direct).await?;
    }
    let (mut d, mut e) = (Vec::with_capacity(calls), Vec::with_capacity(calls));
    for _ in 0..calls {
        let t = Instant::now();
        discover().await?;
        d.push(t.elapsed());
        let t = Instant::now();
        call(&direct).await?;
        e.push(t.elapsed());
    }
    d.sort();
    e.sort();
    // In process: a token check, a selection among 16 providers.
    let store = connect_plugin_platform::identity::TokenStore::default();
    let id = connect_plugin_platform::identity::RuntimeId::generate("bench")?;
    let token = store.issue(&id)?.token;
    const N: u32 = 200_000;
    let t = Instant::now();
    for _ in 0..N {
        std::hint::black_box(store.verify(std::hint::black_box(&token))?);
    }
    let token_check = t.elapsed() / N;
    use connect_plugin_platform::select::{Builtin, Candidate, Health, Strategy, choose};
    let ids: Vec<String> = (0..16).map(|i| format!("p{i}")).collect();
    let candidates: Vec<Candidate<'_>> = ids
        .iter()
        .map(|id| Candidate {
            provider_id: id,
            weight: 1,
            in_flight: 0,
            health: Health::Healthy,
        })
        .collect();
    let select = Builtin::new(Strategy::RoundRobin);
    let t = Instant::now();
    for _ in 0..N {
        std::hint::black_box(choose(&select, std::hint::black_box(&candidates)));
    }
    let selection = t.elapsed() / N;
    Ok(Costs {
        discover_p50: percentile(&d, 0.5),
        echo_p50: percentile(&e, 0.5),
        token_check,
        selection,
    })
}

fn us(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

/// `connect-plugin-bench platform [--calls N] [--secs S] [--md FILE] [--host-current-thread]`
/// (the last runs the host on tokio's `current_thread` runtime instead of the default
/// multi-thread one).
pub fn main(args: &Args) -> Res<()> {
    let calls: usize = args.num("calls", 5000)?;
    let secs: u64 = args.num("secs", 3)?;
    let exe = std::env::current_exe()?;
    let plugin = exe.with_file_name("bench-echo-plugin");
    let dir = std::env::temp_dir().join(format!("cp-bench-platform-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut host_cmd = Command::new(&exe);
    host_cmd.args(["platform-host", "--unix-dir", &dir.display().to_string()]);
    if args.flag("host-current-thread") {
        host_cmd.arg("--current-thread");
    }
    let (mut host, host_url) = spawn_listening(host_cmd)?;
    let rt = runtime()?;
    let mut rows = Vec::new();
    let mut costs_row = None;
    for (link, listen) in [
        ("TCP", "127.0.0.1:0".to_owned()),
        ("Unix socket", format!("unix:{}/echo.sock", dir.display())),
    ] {
        let mut cmd = Command::new(&plugin);
        cmd.args(["--listen", &listen])
            .env("CONNECT_PLUGIN_HOST_URL", &host_url)
            .env("CONNECT_PLUGIN_JOIN_TOKEN", PROVIDER_SECRET);
        let (mut provider, direct_url) = spawn_listening(cmd)?;
        let row = rt.block_on(measure(
            link,
            &host_url,
            &direct_url,
            host.id(),
            provider.id(),
            calls,
            secs,
        ));
        if costs_row.is_none() {
            costs_row = Some(rt.block_on(costs(&host_url, &direct_url, calls)));
        }
        let _ = provider.kill();
        let _ = provider.wait();
        rows.push(row?);
    }
    let fan = rt.block_on(fanout(&host_url, host.id(), &plugin, 100, 100));
    let _ = host.kill();
    let _ = host.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let fan = fan?;

    let mut md = String::new();
    md.push_str(&format!(
        "Routed (through the host) against direct calls to the same provider; `Echo`, {calls} sequential calls each (interleaved blocks), then 64 in flight for {secs} s each. Machine: {}.\n\n",
        crate::sys::machine()
    ));
    md.push_str("| provider link | direct p50 µs | routed p50 µs | p50 ratio (aim ≤ 1.8×) | added p90 µs (aim < 70) | routed p99 µs | direct calls/s (64) | routed calls/s (64) | ratio | provider CPU µs/call (direct) | host CPU µs/call (routed) | provider CPU µs/call (routed) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in &rows {
        md.push_str(&format!(
            "| {} | {} | {} | {:.2}× | {} | {} | {:.0} | {:.0} | {:.2}× | {} | {} | {} |\n",
            r.link,
            us(r.direct_p50),
            us(r.routed_p50),
            r.routed_p50.as_secs_f64() / r.direct_p50.as_secs_f64().max(1e-9),
            us(r.routed_p90.saturating_sub(r.direct_p90)),
            us(r.routed_p99),
            r.direct_rate,
            r.routed_rate,
            r.routed_rate / r.direct_rate.max(1e-9),
            us(r.provider_cpu_direct),
            us(r.host_cpu_routed),
            us(r.provider_cpu_routed),
        ));
    }
    md.push_str(&format!(
        "\nWatch fan-out: {} watches of `echo` over {} connections; one of the two providers stopped (SIGTERM: it leaves the host), and every watcher saw it removed {:.1} ms later (aim < 100 ms; this includes the `kill` command, the provider's shutdown and its leave call). The open watches cost the host {:.0} bytes of resident memory each.\n",
        fan.watchers,
        fan.connections,
        fan.reach.as_secs_f64() * 1e3,
        fan.bytes_per_watch
    ));
    if let Some(c) = costs_row {
        let c = c?;
        md.push_str(&format!(
            "\nControl-plane costs: a `DiscoverService` call to the host p50 {} µs, against an `Echo` call to a plugin p50 {} µs ({:.2}×); in process, a runtime-token check {:.0} ns and a round-robin selection among 16 providers {:.0} ns.\n",
            us(c.discover_p50),
            us(c.echo_p50),
            c.discover_p50.as_secs_f64() / c.echo_p50.as_secs_f64().max(1e-9),
            c.token_check.as_secs_f64() * 1e9,
            c.selection.as_secs_f64() * 1e9,
        ));
    }
    print!("{md}");
    if let Some(file) = args.get("md") {
        std::fs::write(file, &md)?;
    }
    Ok(())
}
