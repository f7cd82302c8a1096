//! The orchestrator. For each round, each peer in turn (A B C D, A B C D, ...): wait for a
//! quiet machine, start a fresh server child process, run `seq` and `conc64` as separate
//! client processes, read the server's VmHWM, run `stream`, kill the server, and account the
//! CPU other processes used meanwhile (repeating a disturbed run a bounded number of times).
//! Then medians per peer, ratios, the targets, and every run, as markdown.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::client::Sizing;
use crate::sys::{self, CpuWindow};
use crate::{Args, Peer, Res};

/// One peer run.
#[derive(Debug, Clone)]
struct Run {
    round: usize,
    peer: Peer,
    seq_p50_us: f64,
    seq_p99_us: f64,
    seq_rate: f64,
    conc_rate: f64,
    conc_p99_us: f64,
    stream_rate: f64,
    hwm_mib: f64,
    other_pct: f64,
    steal_pct: f64,
    waited_s: f64,
    attempts: usize,
    error: Option<String>,
}

struct Metric {
    name: &'static str,
    get: fn(&Run) -> f64,
    decimals: usize,
}

const METRICS: &[Metric] = &[
    Metric {
        name: "seq p50 µs",
        get: |r| r.seq_p50_us,
        decimals: 1,
    },
    Metric {
        name: "seq p99 µs",
        get: |r| r.seq_p99_us,
        decimals: 1,
    },
    Metric {
        name: "seq calls/s",
        get: |r| r.seq_rate,
        decimals: 0,
    },
    Metric {
        name: "conc64 calls/s",
        get: |r| r.conc_rate,
        decimals: 0,
    },
    Metric {
        name: "conc64 p99 µs",
        get: |r| r.conc_p99_us,
        decimals: 0,
    },
    Metric {
        name: "stream msgs/s",
        get: |r| r.stream_rate,
        decimals: 0,
    },
    Metric {
        name: "server VmHWM MiB",
        get: |r| r.hwm_mib,
        decimals: 1,
    },
];

/// Kills and reaps the server child when dropped (its CPU time then counts as ours).
pub(crate) struct ServerChild(Child);

impl Drop for ServerChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `peer`'s server with `env` set; the guard kills it.
pub(crate) fn start_server(
    exe: &Path,
    peer: Peer,
    env: &[(&str, &str)],
) -> Res<(ServerChild, String)> {
    let mut child = Command::new(exe)
        .args(["server", "--peer", peer.server().name(), "--exit-on-eof"])
        .envs(env.iter().copied())
        .stdin(Stdio::piped()) // closes when we exit, and the server follows
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no server stdout")?;
    let guard = ServerChild(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("the {} server said {line:?}", peer.name()))?
        .to_string();
    Ok((guard, addr))
}

/// Runs one `test` of `peer`'s client against `addr`, with `extra` options and `env` set;
/// its JSON line.
pub(crate) fn run_client(
    exe: &Path,
    peer: Peer,
    addr: &str,
    test: &str,
    sz: &Sizing,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Res<serde_json::Value> {
    let out = Command::new(exe)
        .args([
            "client",
            "--peer",
            peer.name(),
            "--addr",
            addr,
            "--test",
            test,
        ])
        .args(sz.to_args())
        .args(extra)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err(format!("{} {test} client failed ({})", peer.name(), out.status).into());
    }
    let text = String::from_utf8(out.stdout)?;
    Ok(serde_json::from_str(text.trim())?)
}

fn num(v: &serde_json::Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or(f64::NAN)
}

/// One peer run, without the quiet-machine wait and retries.
fn measure(exe: &Path, peer: Peer, round: usize, sz: &Sizing) -> Res<Run> {
    let (server, addr) = start_server(exe, peer, &[])?;
    let pid = server.0.id();
    let seq = run_client(exe, peer, &addr, "seq", sz, &[], &[])?;
    let conc = run_client(exe, peer, &addr, "conc64", sz, &[], &[])?;
    let hwm_kib = sys::proc_status_kib(pid, "VmHWM").ok_or("no VmHWM")?;
    let stream = run_client(exe, peer, &addr, "stream", sz, &[], &[])?;
    drop(server);
    Ok(Run {
        round,
        peer,
        seq_p50_us: num(&seq, "p50_us"),
        seq_p99_us: num(&seq, "p99_us"),
        seq_rate: num(&seq, "rate"),
        conc_rate: num(&conc, "rate"),
        conc_p99_us: num(&conc, "p99_us"),
        stream_rate: num(&stream, "rate"),
        hwm_mib: hwm_kib as f64 / 1024.0,
        other_pct: 0.0,
        steal_pct: 0.0,
        waited_s: 0.0,
        attempts: 1,
        error: None,
    })
}

fn failed(peer: Peer, round: usize, e: String) -> Run {
    Run {
        round,
        peer,
        seq_p50_us: f64::NAN,
        seq_p99_us: f64::NAN,
        seq_rate: f64::NAN,
        conc_rate: f64::NAN,
        conc_p99_us: f64::NAN,
        stream_rate: f64::NAN,
        hwm_mib: f64::NAN,
        other_pct: 0.0,
        steal_pct: 0.0,
        waited_s: 0.0,
        attempts: 1,
        error: Some(e),
    }
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

struct Settings {
    rounds: usize,
    quick: bool,
    peers: Vec<Peer>,
    quiet_pct: f64,
    max_wait: Duration,
    max_other_pct: f64,
    retries: usize,
    /// Total seconds the whole invocation may spend waiting for quiet; once spent, runs go
    /// ahead without waiting or repeating (the per-run table still shows the load).
    wait_budget: f64,
}

/// `run`: everything, in one invocation.
pub fn main(args: &Args) -> Res<()> {
    let quick = args.flag("quick");
    let sz = Sizing::from_args(args, quick)?;
    let peers = match args.get("peers") {
        Some(list) => list.split(',').map(Peer::parse).collect::<Res<Vec<_>>>()?,
        None => Peer::ALL.to_vec(),
    };
    let st = Settings {
        rounds: args.num("rounds", if quick { 1 } else { 3 })?,
        quick,
        peers,
        quiet_pct: args.num("quiet-pct", 3.0)?,
        max_wait: Duration::from_secs_f64(
            args.num("max-wait-secs", if quick { 5.0 } else { 180.0 })?,
        ),
        max_other_pct: args.num("max-other-pct", 6.0)?,
        retries: args.num("retries", if quick { 0 } else { 2 })?,
        wait_budget: args.num("wait-budget-secs", if quick { 10.0 } else { 900.0 })?,
    };
    let exe = std::env::current_exe()?;
    let started = sys::now_utc();
    let whole = CpuWindow::start();
    let t0 = std::time::Instant::now();

    eprintln!(
        "round peer                  seq_p50  seq_p99  seq/s   conc64/s conc_p99   stream/s  HWM_MiB other% steal% waited_s"
    );
    let mut runs = Vec::new();
    let mut waited_total = 0.0;
    let mut budget_note = false;
    for round in 1..=st.rounds {
        for &peer in &st.peers {
            let mut attempt = 0;
            let mut waited_here = 0.0;
            let run = loop {
                attempt += 1;
                let left = (st.wait_budget - waited_total).max(0.0);
                if left == 0.0 && !budget_note {
                    eprintln!(
                        "  (the wait budget of {:.0} s is spent: no more waiting or repeats)",
                        st.wait_budget
                    );
                    budget_note = true;
                }
                let (waited, _) =
                    sys::wait_quiet(st.quiet_pct, st.max_wait.min(Duration::from_secs_f64(left)));
                waited_total += waited + 1.0;
                waited_here += waited;
                let window = CpuWindow::start();
                let mut r = match measure(&exe, peer, round, &sz) {
                    Ok(r) => r,
                    Err(e) => {
                        eprintln!("  {} round {round}: {e}", peer.name());
                        failed(peer, round, e.to_string())
                    }
                };
                let cpu = window.usage();
                r.other_pct = cpu.other_pct;
                r.steal_pct = cpu.steal_pct;
                r.waited_s = waited_here;
                r.attempts = attempt;
                let may_repeat = attempt <= st.retries && waited_total < st.wait_budget;
                if r.error.is_none() && cpu.other_pct > st.max_other_pct && may_repeat {
                    eprintln!(
                        "  ({} round {round}: other processes used {:.1}% of the CPUs; repeating)",
                        peer.name(),
                        cpu.other_pct
                    );
                    continue;
                }
                break r;
            };
            eprintln!(
                "{:>5} {:<20} {:>8.1} {:>8.1} {:>6.0} {:>10.0} {:>8.0} {:>10.0} {:>8.1} {:>6.1} {:>6.1} {:>8.0}",
                run.round,
                run.peer.name(),
                run.seq_p50_us,
                run.seq_p99_us,
                run.seq_rate,
                run.conc_rate,
                run.conc_p99_us,
                run.stream_rate,
                run.hwm_mib,
                run.other_pct,
                run.steal_pct,
                run.waited_s
            );
            runs.push(run);
        }
    }
    let overall = whole.usage();
    let elapsed = t0.elapsed().as_secs_f64();

    let generated = report(&runs, &st, &sz, &started, overall, elapsed, waited_total);
    println!("{generated}");
    if let Some(path) = args.get("md") {
        write_md(Path::new(path), &generated, &st)?;
        eprintln!("wrote {path}");
    }
    if let Some(path) = args.get("json") {
        let v: Vec<serde_json::Value> = runs
            .iter()
            .map(|r| {
                serde_json::json!({
                    "round": r.round, "peer": r.peer.name(),
                    "seq_p50_us": r.seq_p50_us, "seq_p99_us": r.seq_p99_us,
                    "seq_rate": r.seq_rate, "conc_rate": r.conc_rate,
                    "conc_p99_us": r.conc_p99_us, "stream_rate": r.stream_rate,
                    "hwm_mib": r.hwm_mib, "other_cpu_pct": r.other_pct,
                    "steal_pct": r.steal_pct, "waited_s": r.waited_s,
                    "attempts": r.attempts, "error": r.error,
                })
            })
            .collect();
        std::fs::write(path, serde_json::to_string_pretty(&v)?)?;
    }
    if runs.iter().any(|r| r.error.is_some()) {
        return Err("some runs failed (see the table)".into());
    }
    Ok(())
}

const BEGIN: &str =
    "<!-- BEGIN GENERATED by `connect-plugin-bench run`; a re-run replaces this block -->";
const END: &str = "<!-- END GENERATED -->";

/// Replaces the generated block of an existing report (keeping what was written by hand
/// around it), or writes a new report with the method and the block.
fn write_md(path: &Path, generated: &str, st: &Settings) -> Res<()> {
    let block = format!("{BEGIN}\n\n{generated}\n{END}\n");
    let text = match std::fs::read_to_string(path) {
        Ok(old) if old.contains(BEGIN) && old.contains(END) => {
            let (head, rest) = old.split_once(BEGIN).expect("checked");
            let (_, tail) = rest.split_once(END).expect("checked");
            format!("{head}{}{}", block.trim_end(), tail)
        }
        _ => format!(
            "# connect-plugin benchmarks\n\n{}\n{block}\n## Observations\n\n(none written yet)\n",
            method_text(st)
        ),
    };
    let tmp = PathBuf::from(format!("{}.tmp", path.display()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn method_text(st: &Settings) -> String {
    let _ = st;
    "## Method\n\nSee `bench/src/run.rs`: fresh server and client processes per measurement, \
     peers alternating within each round, a wait for a quiet machine before each peer run, and \
     medians over rounds.\n"
        .to_string()
}

pub(crate) fn fmt(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    format!("{v:.decimals$}")
}

fn ratio(a: f64, b: f64) -> String {
    if !(a.is_finite() && b.is_finite()) || b == 0.0 {
        return "–".into();
    }
    format!("{:.2}x", a / b)
}

fn header(md: &mut String, first: &str, extra: &[&str]) {
    md.push_str(&format!("| {first} |"));
    for m in METRICS {
        md.push_str(&format!(" {} |", m.name));
    }
    for e in extra {
        md.push_str(&format!(" {e} |"));
    }
    md.push_str("\n|---|");
    for _ in 0..METRICS.len() + extra.len() {
        md.push_str("---:|");
    }
    md.push('\n');
}

fn report(
    runs: &[Run],
    st: &Settings,
    sz: &Sizing,
    started: &str,
    overall: sys::CpuUse,
    elapsed: f64,
    waited: f64,
) -> String {
    let med: Vec<(Peer, Vec<f64>)> = st
        .peers
        .iter()
        .map(|&p| {
            let rs: Vec<&Run> = runs.iter().filter(|r| r.peer == p).collect();
            (
                p,
                METRICS
                    .iter()
                    .map(|m| median(rs.iter().map(|r| (m.get)(r)).collect()))
                    .collect(),
            )
        })
        .collect();
    let of = |p: Peer| med.iter().find(|(q, _)| *q == p).map(|(_, v)| v.clone());
    let mut md = String::new();

    md.push_str(&format!(
        "Run: {started}, {} round(s){}, {:.0} s wall. Machine: {}. {}. Release build.\n\n",
        st.rounds,
        if st.quick {
            " of the `--quick` smoke workload (numbers are rough)"
        } else {
            ""
        },
        elapsed,
        sys::machine(),
        env!("BENCH_RUSTC_VERSION"),
    ));
    md.push_str(&format!(
        "Runtime: connect-plugin at git {} (when this binary was built). Crates (bench/Cargo.lock): {}.\n\n",
        env!("BENCH_RUNTIME_REV"),
        sys::crate_versions()
    ));
    md.push_str(&format!(
        "Workload: seq = {} warm-up then {} sequential unary calls; conc64 = {} tasks on one \
         connection, {} s measured after {} s warm-up; stream = {} warm-up then {} server streams \
         of 1000 messages; VmHWM read after conc64. Payload: 16-byte string.\n\n",
        sz.seq_warmup,
        sz.seq_calls,
        sz.conc,
        sz.conc_secs,
        sz.conc_warmup_secs,
        sz.stream_warmup,
        sz.streams
    ));
    md.push_str(&format!(
        "Machine load during the whole invocation: other processes {:.1}% of all CPUs, steal {:.1}%; \
         {:.0} s of it went to waiting for a quiet machine (budget {:.0} s).\n\n",
        overall.other_pct, overall.steal_pct, waited, st.wait_budget
    ));

    md.push_str(&format!("### Medians of {} round(s)\n\n", st.rounds));
    header(&mut md, "peer", &[]);
    for (p, vals) in &med {
        md.push_str(&format!("| {} |", p.name()));
        for (m, v) in METRICS.iter().zip(vals) {
            md.push_str(&format!(" {} |", fmt(*v, m.decimals)));
        }
        md.push('\n');
    }

    if let Some(floor) = of(Peer::Hyper) {
        md.push_str(
            "\n### Ratio to the raw-hyper floor\n\nPeer median / hyper median. For µs and MiB \
             above 1x is worse; for calls/s and msgs/s below 1x is worse.\n\n",
        );
        header(&mut md, "peer", &[]);
        for (p, vals) in &med {
            md.push_str(&format!("| {} |", p.name()));
            for (v, f) in vals.iter().zip(&floor) {
                md.push_str(&format!(" {} |", ratio(*v, *f)));
            }
            md.push('\n');
        }
    }
    if let Some(tonic) = of(Peer::Tonic) {
        md.push_str(
            "\n### connect-plugin / tonic\n\nSame reading as above, divided by tonic's median.\n\n",
        );
        header(&mut md, "peer", &[]);
        for (p, vals) in med.iter().filter(|(p, _)| p.is_ours()) {
            md.push_str(&format!("| {} |", p.name()));
            for (v, t) in vals.iter().zip(&tonic) {
                md.push_str(&format!(" {} |", ratio(*v, *t)));
            }
            md.push('\n');
        }
    }
    if let (Some(ours), Some(rq)) = (of(Peer::ConnectPlugin), of(Peer::ReqwestConnect)) {
        md.push_str(
            "\n### reqwest-connect / connect-plugin\n\nThe same server; the client differs: a minimal \
             Connect client on reqwest 0.12 (h2c, prior knowledge) against the runtime's own \
             hyper-based `Client`. reqwest's median / connect-plugin's median, read as above.\n\n",
        );
        header(&mut md, "peer", &[]);
        md.push_str(&format!("| {} |", Peer::ReqwestConnect.name()));
        for (r, c) in rq.iter().zip(&ours) {
            md.push_str(&format!(" {} |", ratio(*r, *c)));
        }
        md.push('\n');
    }
    if let (Some(plain), Some(chain)) = (of(Peer::ConnectPlugin), of(Peer::ConnectPluginChain)) {
        // Per call, from the medians: p50 latency, and mean time per call (1 / calls/s).
        let p50 = chain[0] - plain[0];
        let mean = 1e6 / chain[2] - 1e6 / plain[2];
        let conc = 1e6 / chain[3] - 1e6 / plain[3];
        md.push_str(&format!(
            "\n### The interceptor chain with a bearer token\n\n`connect-plugin-chain` is \
             `connect-plugin` with the chain a plugin's dispensed clients get (circuit breaker, \
             retry), a bearer token in front of it, and a bearer-token authenticator on the \
             server (launched plugins authenticate with mTLS instead: `connect-plugin-bench \
             chain`). Added cost per call, chain − plain, calling from `block_on` (negative: \
             within noise):\n\n\
             | reading | added per call | of a plain call |\n|---|---:|---:|\n\
             | seq p50 | {p50:.2} µs | {:.1}% |\n\
             | seq mean (1 / calls/s) | {mean:.2} µs | {:.1}% |\n\
             | conc64 mean (1 / calls/s) | {conc:.3} µs | {:.1}% |\n",
            100.0 * p50 / plain[0],
            100.0 * mean / (1e6 / plain[2]),
            100.0 * conc / (1e6 / plain[3]),
        ));
    }
    md.push_str(&targets(runs, st, &med));

    md.push_str("\n### All runs, in execution order\n\n");
    header(
        &mut md,
        "round / peer",
        &["other CPU %", "steal %", "waited s", "tries"],
    );
    for r in runs {
        md.push_str(&format!("| {} / {} |", r.round, r.peer.name()));
        for m in METRICS {
            md.push_str(&format!(" {} |", fmt((m.get)(r), m.decimals)));
        }
        md.push_str(&format!(
            " {:.1} | {:.1} | {:.0} | {} |\n",
            r.other_pct, r.steal_pct, r.waited_s, r.attempts
        ));
    }
    for r in runs.iter().filter(|r| r.error.is_some()) {
        md.push_str(&format!(
            "\nRound {} / {} failed: {}\n",
            r.round,
            r.peer.name(),
            r.error.as_deref().unwrap_or("")
        ));
    }
    md
}

/// The targets for connect-plugin, on the medians and round by round (a round
/// compares runs made minutes apart, the medians pool all rounds).
fn targets(runs: &[Run], st: &Settings, med: &[(Peer, Vec<f64>)]) -> String {
    let idx = |name: &str| METRICS.iter().position(|m| m.name == name).expect("metric");
    let (p50, conc, stream, hwm) = (
        idx("seq p50 µs"),
        idx("conc64 calls/s"),
        idx("stream msgs/s"),
        idx("server VmHWM MiB"),
    );
    let get = |vals: &[(Peer, Vec<f64>)], p: Peer, i: usize| {
        vals.iter().find(|(q, _)| *q == p).map(|(_, v)| v[i])
    };
    type Check = (
        &'static str,
        fn(&dyn Fn(Peer, usize) -> Option<f64>, Peer, [usize; 4]) -> Option<(bool, String)>,
    );
    let checks: [Check; 4] = [
        ("unary p50 ≤ 1.1x floor and below tonic", |g, p, i| {
            let (c, h, t) = (g(p, i[0])?, g(Peer::Hyper, i[0])?, g(Peer::Tonic, i[0])?);
            Some((
                c <= 1.1 * h && c < t,
                format!("{:.2}x floor, {:.2}x tonic", c / h, c / t),
            ))
        }),
        ("conc64 calls/s ≥ 0.9x floor", |g, p, i| {
            let (c, h) = (g(p, i[1])?, g(Peer::Hyper, i[1])?);
            Some((c >= 0.9 * h, format!("{:.2}x floor", c / h)))
        }),
        ("stream msgs/s ≥ tonic", |g, p, i| {
            let (c, t) = (g(p, i[2])?, g(Peer::Tonic, i[2])?);
            Some((c >= t, format!("{:.2}x tonic", c / t)))
        }),
        ("server VmHWM ≤ tonic", |g, p, i| {
            let (c, t) = (g(p, i[3])?, g(Peer::Tonic, i[3])?);
            Some((c <= t, format!("{:.2}x tonic", c / t)))
        }),
    ];
    let cols = [p50, conc, stream, hwm];
    let subjects: Vec<Peer> = st.peers.iter().copied().filter(|p| p.is_ours()).collect();
    if subjects.is_empty() {
        return String::new();
    }
    let mut md = String::from(
        "\n### The issue's targets\n\nOn the medians; \"rounds\" counts the rounds in which the target held between that round's own runs.\n\n| target |",
    );
    for p in &subjects {
        md.push_str(&format!(" {} (medians) | rounds |", p.name()));
    }
    md.push_str("\n|---|");
    for _ in &subjects {
        md.push_str("---|---:|");
    }
    md.push('\n');
    for (name, check) in &checks {
        md.push_str(&format!("| {name} |"));
        for &p in &subjects {
            let g = |q: Peer, i: usize| get(med, q, i).filter(|v| v.is_finite());
            let cell = match check(&g, p, cols) {
                Some((ok, how)) => format!("{} {how}", if ok { "met:" } else { "**missed**:" }),
                None => "–".into(),
            };
            let mut met = 0;
            let mut total = 0;
            for round in 1..=st.rounds {
                let per: Vec<(Peer, Vec<f64>)> = runs
                    .iter()
                    .filter(|r| r.round == round)
                    .map(|r| (r.peer, METRICS.iter().map(|m| (m.get)(r)).collect()))
                    .collect();
                let g = |q: Peer, i: usize| get(&per, q, i).filter(|v| v.is_finite());
                if let Some((ok, _)) = check(&g, p, cols) {
                    total += 1;
                    met += usize::from(ok);
                }
            }
            md.push_str(&format!(" {cell} | {met}/{total} |"));
        }
        md.push('\n');
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_ignores_nan() {
        assert_eq!(median(vec![3.0, f64::NAN, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0]), 2.5);
        assert!(median(vec![f64::NAN]).is_nan());
    }
}
