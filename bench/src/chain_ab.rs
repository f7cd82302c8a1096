//! `chain`: what the interceptor chain adds to a call, from calls interleaved in one process.
//!
//! On this shared 2-core VM single runs of the same workload move by several microseconds,
//! more than the chain costs, so two runs taken one after the other say little. Here one
//! process alternates single calls between a plain client and one with the chain (swapping
//! which goes first every pair; see `ab`), so both see the machine alike; a round reports
//! each side's p50 and mean, and the report is the median over fresh-process rounds of the
//! difference, with its range.
//!
//! Variants:
//! - `dispensed`: the plugin system as a host uses it — two launched echo plugins over Unix
//!   sockets (`plugin-host --test seq-ab`, `current_thread` host and plugins), one dispensed
//!   without interceptors, the other with the default chain (circuit breaker, retry);
//! - `dispensed-tls`: the same over TCP with the launcher's automatic mutual TLS;
//! - `dispensed-mtls`: the same over TCP with the launcher's automatic mutual TLS, the
//!   intercepted plugin also naming its caller from the client certificate (`MtlsAuth`):
//!   auth, breaker and retry as a plugin host gets them;
//! - `parts` such as `auth,breaker,retry`: the `run` workload (TCP, a multi-thread client
//!   calling from `block_on`) against a `connect-plugin` server and a `connect-plugin-chain`
//!   server with those parts (`BENCH_CHAIN`): `auth` is a bearer token, `apikey` an indexed
//!   API key (both checked by the server), `noop` an interceptor that passes calls on. A
//!   `@task` suffix makes the client call from a spawned task.

use std::path::Path;

use crate::client::Sizing;
use crate::plugin_host::{Flavor, Link};
use crate::plugin_run;
use crate::run::{self, median};
use crate::{Args, Peer, Res};

/// One round: each side's p50 and mean, and the median of the paired differences, µs.
#[derive(Clone, Copy)]
struct Round {
    plain_p50: f64,
    chain_p50: f64,
    plain_mean: f64,
    chain_mean: f64,
    diff_median: f64,
}

fn round(v: &serde_json::Value) -> Res<Round> {
    let get = |k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_f64)
            .ok_or_else(|| format!("no {k} in {v}"))
    };
    Ok(Round {
        plain_p50: get("plain_p50_us")?,
        chain_p50: get("chain_p50_us")?,
        plain_mean: get("plain_mean_us")?,
        chain_mean: get("chain_mean_us")?,
        diff_median: get("diff_median_us")?,
    })
}

/// Two launched plugins over `link`, one dispensed plain and one with the default chain
/// (and `MtlsAuth` in the plugin with `plugin_auth`).
fn dispensed(exe: &Path, link: Link, plugin_auth: bool, calls: usize, warmup: usize) -> Res<Round> {
    let mut extra = vec![format!("--calls={calls}"), format!("--warmup={warmup}")];
    if plugin_auth {
        extra.push("--plugin-auth".to_owned());
    }
    round(&plugin_run::host(
        exe,
        link,
        Flavor::Current,
        "seq-ab",
        &extra,
    )?)
}

/// The `run` workload against a `connect-plugin` server and a `connect-plugin-chain` one
/// with `BENCH_CHAIN=parts`, calls alternating between the two.
fn peers(exe: &Path, parts: &str, in_task: bool, calls: usize, warmup: usize) -> Res<Round> {
    let env = [("BENCH_CHAIN", parts)];
    let (_plain, plain) = run::start_server(exe, Peer::ConnectPlugin, &env)?;
    let (_chain, chain) = run::start_server(exe, Peer::ConnectPluginChain, &env)?;
    let sz = Sizing {
        seq_warmup: warmup,
        seq_calls: calls,
        ..Sizing::quick()
    };
    let mut extra = vec!["--addr-b", chain.as_str()];
    if in_task {
        extra.push("--in-task");
    }
    round(&run::run_client(
        exe,
        Peer::ConnectPluginChain,
        &plain,
        "seq-ab",
        &sz,
        &extra,
        &env,
    )?)
}

/// Runs `n` rounds of `measure()`; the variant's table row.
fn rounds(n: usize, label: &str, mut measure: impl FnMut() -> Res<Round>) -> Res<String> {
    let mut all = Vec::with_capacity(n);
    for i in 0..n {
        let r = measure()?;
        eprintln!(
            "{label} round {i}: p50 {:.2} → {:.2} µs, mean {:.2} → {:.2} µs, paired {:+.2} µs",
            r.plain_p50, r.chain_p50, r.plain_mean, r.chain_mean, r.diff_median
        );
        all.push(r);
    }
    let of = |f: fn(&Round) -> f64| all.iter().map(f).collect::<Vec<f64>>();
    let d50 = of(|r| r.chain_p50 - r.plain_p50);
    let dmean = of(|r| r.chain_mean - r.plain_mean);
    let base50 = median(of(|r| r.plain_p50));
    let base_mean = median(of(|r| r.plain_mean));
    let (m50, mmean) = (median(d50.clone()), median(dmean.clone()));
    let paired = median(of(|r| r.diff_median));
    let range = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!("{lo:.2} … {hi:.2}")
    };
    Ok(format!(
        "| {label} | {base50:.1} | {m50:.2} µs ({:.1}%) | {} | {mmean:.2} µs ({:.1}%) | {} | {paired:.2} µs |\n",
        100.0 * m50 / base50,
        range(&d50),
        100.0 * mmean / base_mean,
        range(&dmean),
    ))
}

/// `connect-plugin-bench chain [--rounds 7] [--calls 10000] [--warmup 2000]
/// [--variants "dispensed;dispensed-mtls;auth,breaker,retry@task;…"]`: prints a markdown
/// table.
pub fn main(args: &Args) -> Res<()> {
    let exe = std::env::current_exe()?;
    let n: usize = args.num("rounds", 7)?;
    let calls: usize = args.num("calls", 10_000)?;
    let warmup: usize = args.num("warmup", 2_000)?;
    let variants: Vec<String> = args
        .get("variants")
        .unwrap_or(DEFAULT_VARIANTS)
        .split(';')
        .map(str::to_owned)
        .collect();
    let mut md = format!(
        "{n} rounds, each in fresh processes: {calls} pairs of sequential calls (after \
         {warmup}), one plain and one with the chain, alternating which goes first. Medians \
         over the rounds of the added p50 and mean, their range, and of each round's median \
         paired difference.\n\n\
         | chain | plain p50 µs | added p50 | range | added mean | range | paired |\n\
         |---|---:|---:|---:|---:|---:|---:|\n"
    );
    for v in &variants {
        let row = match v.as_str() {
            "dispensed" => rounds(n, "dispensed: breaker, retry (Unix socket)", || {
                dispensed(&exe, Link::Unix, false, calls, warmup)
            })?,
            "dispensed-tls" => rounds(n, "dispensed: breaker, retry (TCP + mTLS)", || {
                dispensed(&exe, Link::TcpMtls, false, calls, warmup)
            })?,
            "dispensed-mtls" => rounds(
                n,
                "dispensed: mTLS identity (`MtlsAuth`), breaker, retry (TCP + mTLS)",
                || dispensed(&exe, Link::TcpMtls, true, calls, warmup),
            )?,
            _ => {
                // `parts@task`: the client calls from a spawned task instead of `block_on`.
                let (parts, in_task) = match v.strip_suffix("@task") {
                    Some(parts) => (parts, true),
                    None => (v.as_str(), false),
                };
                let from = if in_task {
                    "a spawned task"
                } else {
                    "`block_on`"
                };
                let label = format!("`{parts}` (TCP, multi-thread client, calls from {from})");
                rounds(n, &label, || peers(&exe, parts, in_task, calls, warmup))?
            }
        };
        md.push_str(&row);
    }
    println!("{md}");
    Ok(())
}

/// What `chain` measures without `--variants`.
const DEFAULT_VARIANTS: &str = "dispensed;dispensed-tls;dispensed-mtls;breaker,retry@task;\
    auth,breaker,retry@task;apikey,breaker,retry@task;auth,breaker,retry";
