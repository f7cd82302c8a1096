//! Interleaved A/B: one process calls a plain client and an intercepted one alternately,
//! so both see the same machine at the same moment.
//!
//! On these shared 2-core VMs the latency of the same workload drifts by microseconds
//! between runs seconds apart, more than an interceptor chain costs. Alternating single
//! calls (and which of the two goes first) leaves that drift in both samples alike; the
//! difference of their medians is then what the chain adds.

use std::future::Future;
use std::time::Instant;

use crate::Res;

/// Runs `warmup` and then `calls` pairs of one `plain()` and one `chain()` call, the order
/// swapping every pair; returns the JSON line `chain_ab` reads: each side's p50 and mean,
/// and the median of the pairs' differences, in µs.
pub async fn interleave<P, FP, C, FC>(
    warmup: usize,
    calls: usize,
    mut plain: P,
    mut chain: C,
) -> Res<serde_json::Value>
where
    P: FnMut() -> FP,
    FP: Future<Output = Res<()>>,
    C: FnMut() -> FC,
    FC: Future<Output = Res<()>>,
{
    for _ in 0..warmup {
        plain().await?;
        chain().await?;
    }
    let (mut a, mut b) = (Vec::with_capacity(calls), Vec::with_capacity(calls));
    let mut diff = Vec::with_capacity(calls);
    for i in 0..calls {
        let (ta, tb) = if i % 2 == 0 {
            let ta = timed(plain()).await?;
            (ta, timed(chain()).await?)
        } else {
            let tb = timed(chain()).await?;
            (timed(plain()).await?, tb)
        };
        a.push(ta);
        b.push(tb);
        diff.push(tb as i64 - ta as i64);
    }
    let mean = |v: &[u64]| v.iter().sum::<u64>() as f64 / v.len().max(1) as f64 / 1e3;
    let (mean_a, mean_b) = (mean(&a), mean(&b));
    a.sort_unstable();
    b.sort_unstable();
    diff.sort_unstable();
    let p50 = |v: &[u64]| crate::client::percentile_us(v, 50.0);
    Ok(serde_json::json!({
        "count": calls,
        "plain_p50_us": p50(&a),
        "chain_p50_us": p50(&b),
        "plain_mean_us": mean_a,
        "chain_mean_us": mean_b,
        "diff_median_us": diff.get(calls / 2).map(|&n| n as f64 / 1e3),
    }))
}

/// How long `call` takes from its first poll, ns (the future is built before the clock
/// starts).
async fn timed(call: impl Future<Output = Res<()>>) -> Res<u64> {
    let t0 = Instant::now();
    call.await?;
    Ok(t0.elapsed().as_nanos() as u64)
}
