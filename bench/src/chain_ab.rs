//! `chain`: what the interceptor chain adds to a call, measured as paired differences.
//!
//! On this shared 2-core VM single runs of the same workload move by several microseconds,
//! more than the chain costs, so a difference of two medians taken minutes apart says
//! little. Here each pair runs the plain and the intercepted workload back to back (in
//! alternating order), and the report is the median of the pairs' differences, with
//! their spread.
//!
//! Variants:
//! - `dispensed`: the plugin system as a host uses it — `plugin-host --link unix --flavor
//!   current --test seq`, whose dispensed client has the default chain (circuit breaker,
//!   retry), against the same with `--no-interceptors`;
//! - `breaker,retry` and `auth,breaker,retry`: the `run` workload (`connect-plugin` over
//!   TCP, a multi-thread client calling from `block_on`) against `connect-plugin-chain`
//!   with those parts (`BENCH_CHAIN`); `auth` adds a bearer token on the client and its
//!   check on the server. A `@task` suffix makes the client call from a spawned task.

use std::path::Path;

use crate::client::Sizing;
use crate::plugin_host::{Flavor, Link};
use crate::plugin_run;
use crate::run::{self, median};
use crate::{Args, Peer, Res};

/// One measured run: p50 and mean latency, µs.
#[derive(Clone, Copy)]
struct Reading {
    p50: f64,
    mean: f64,
}

fn reading(v: &serde_json::Value) -> Res<Reading> {
    let get = |k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_f64)
            .ok_or_else(|| format!("no {k} in {v}"))
    };
    Ok(Reading {
        p50: get("p50_us")?,
        // The `run` client reports calls a second (seq: one at a time, so 1 / mean).
        mean: get("mean_us").or_else(|_| get("rate").map(|r| 1e6 / r))?,
    })
}

/// The plugin host's seq test, with or without its dispensed client's interceptors.
fn dispensed(exe: &Path, chain: bool, calls: usize, warmup: usize) -> Res<Reading> {
    let mut extra = vec![format!("--calls={calls}"), format!("--warmup={warmup}")];
    if !chain {
        extra.push("--no-interceptors".to_owned());
    }
    reading(&plugin_run::host(
        exe,
        Link::Unix,
        Flavor::Current,
        "seq",
        &extra,
    )?)
}

/// The `run` workload's seq test against `peer`, with `BENCH_CHAIN=parts` for both
/// processes.
fn peer_seq(
    exe: &Path,
    peer: Peer,
    parts: &str,
    in_task: bool,
    calls: usize,
    warmup: usize,
) -> Res<Reading> {
    let env = [("BENCH_CHAIN", parts)];
    let (_server, addr) = run::start_server(exe, peer, &env)?;
    let sz = Sizing {
        seq_warmup: warmup,
        seq_calls: calls,
        ..Sizing::quick()
    };
    let extra: &[&str] = if in_task { &["--in-task"] } else { &[] };
    reading(&run::run_client(exe, peer, &addr, "seq", &sz, extra, &env)?)
}

/// Runs `pairs` plain/chain pairs of `measure(chain)` in alternating order.
fn pairs(n: usize, label: &str, mut measure: impl FnMut(bool) -> Res<Reading>) -> Res<String> {
    let (mut plain, mut chain) = (Vec::new(), Vec::new());
    for i in 0..n {
        let order = if i % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for with in order {
            let r = measure(with)?;
            eprintln!(
                "{label} pair {i} {}: p50 {:.2} µs, mean {:.2} µs",
                if with { "chain" } else { "plain" },
                r.p50,
                r.mean
            );
            if with { chain.push(r) } else { plain.push(r) }
        }
    }
    let d50: Vec<f64> = plain
        .iter()
        .zip(&chain)
        .map(|(p, c)| c.p50 - p.p50)
        .collect();
    let dmean: Vec<f64> = plain
        .iter()
        .zip(&chain)
        .map(|(p, c)| c.mean - p.mean)
        .collect();
    let base50 = median(plain.iter().map(|r| r.p50).collect());
    let base_mean = median(plain.iter().map(|r| r.mean).collect());
    let (m50, mmean) = (median(d50.clone()), median(dmean.clone()));
    let range = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!("{lo:.2} … {hi:.2}")
    };
    Ok(format!(
        "| {label} | {base50:.1} | {m50:.2} µs ({:.1}%) | {} | {mmean:.2} µs ({:.1}%) | {} |\n",
        100.0 * m50 / base50,
        range(&d50),
        100.0 * mmean / base_mean,
        range(&dmean),
    ))
}

/// `connect-plugin-bench chain [--pairs 9] [--calls 10000] [--warmup 2000]
/// [--variants dispensed,breaker,retry,auth,breaker,retry]`: prints a markdown table.
pub fn main(args: &Args) -> Res<()> {
    let exe = std::env::current_exe()?;
    let n: usize = args.num("pairs", 9)?;
    let calls: usize = args.num("calls", 10_000)?;
    let warmup: usize = args.num("warmup", 2_000)?;
    let variants: Vec<String> = args
        .get("variants")
        .unwrap_or("dispensed;breaker,retry;auth,breaker,retry")
        .split(';')
        .map(str::to_owned)
        .collect();
    let mut md = format!(
        "{n} pairs of {calls} sequential calls (after {warmup}), plain and with the chain \
         back to back, alternating which goes first; medians of the pairs' differences, \
         and their range.\n\n\
         | chain | plain p50 µs | added p50 | range | added mean | range |\n\
         |---|---:|---:|---:|---:|---:|\n"
    );
    for v in &variants {
        let row = if v == "dispensed" {
            pairs(
                n,
                "dispensed (breaker, retry; Unix socket, current_thread host)",
                |c| dispensed(&exe, c, calls, warmup),
            )?
        } else {
            // `parts@task`: the client calls from a spawned task instead of `block_on`.
            let (parts, in_task) = match v.strip_suffix("@task") {
                Some(parts) => (parts, true),
                None => (v.as_str(), false),
            };
            let label = if in_task {
                format!("`{parts}` (TCP, multi-thread client, calls from a spawned task)")
            } else {
                format!("`{parts}` (TCP, multi-thread client, calls from `block_on`)")
            };
            pairs(n, &label, |c| {
                let peer = if c {
                    Peer::ConnectPluginChain
                } else {
                    Peer::ConnectPlugin
                };
                peer_seq(&exe, peer, parts, in_task, calls, warmup)
            })?
        };
        md.push_str(&row);
    }
    println!("{md}");
    Ok(())
}
