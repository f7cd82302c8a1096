//! What the machine is doing: CPU accounting from `/proc` (machine-wide busy and steal time,
//! and this benchmark's own CPU time including its reaped children), waiting for a quiet
//! machine, peak RSS of a process, and the machine description for the report.

use std::time::{Duration, Instant};

/// Clock ticks per second of `/proc/stat` and `/proc/PID/stat` (USER_HZ: 100 on Linux).
const TICKS: f64 = 100.0;

/// Logical CPUs.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// (busy, steal) ticks summed over all CPUs: busy = user+nice+system+irq+softirq.
fn machine_ticks() -> (u64, u64) {
    let s = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<u64> = s
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let g = |i: usize| v.get(i).copied().unwrap_or(0);
    (g(0) + g(1) + g(2) + g(5) + g(6), g(7))
}

/// This process's CPU ticks plus those of its children it has waited for
/// (utime+stime+cutime+cstime of `/proc/self/stat`).
fn own_ticks() -> u64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = s.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime, stime, cutime, cstime are fields 14..=17, i.e. 11..=14 after the name.
    (11..=14).map(|i| f.get(i).copied().unwrap_or(0)).sum()
}

/// A window over which to account CPU use.
pub struct CpuWindow {
    at: Instant,
    busy: u64,
    steal: u64,
    own: u64,
}

/// CPU use over a window, in % of all the machine's CPUs.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuUse {
    /// Busy time of processes other than this benchmark (and its reaped children).
    pub other_pct: f64,
    /// Time the hypervisor took from this VM.
    pub steal_pct: f64,
}

impl CpuWindow {
    /// Starts accounting now.
    pub fn start() -> CpuWindow {
        let (busy, steal) = machine_ticks();
        CpuWindow {
            at: Instant::now(),
            busy,
            steal,
            own: own_ticks(),
        }
    }

    /// CPU use since [`CpuWindow::start`]. Children must have been reaped to count as ours.
    pub fn usage(&self) -> CpuUse {
        let wall = self.at.elapsed().as_secs_f64().max(1e-3) * cores() as f64;
        let (busy, steal) = machine_ticks();
        let busy = busy.saturating_sub(self.busy) as f64 / TICKS;
        let steal = steal.saturating_sub(self.steal) as f64 / TICKS;
        let own = own_ticks().saturating_sub(self.own) as f64 / TICKS;
        CpuUse {
            other_pct: ((busy - own) / wall * 100.0).max(0.0),
            steal_pct: (steal / wall * 100.0).max(0.0),
        }
    }
}

/// Waits until other processes have used at most `threshold_pct` of the CPUs for one whole
/// second, or `max_wait` has passed. Returns the seconds waited and the last reading.
pub fn wait_quiet(threshold_pct: f64, max_wait: Duration) -> (f64, f64) {
    let began = Instant::now();
    let mut said = false;
    loop {
        let w = CpuWindow::start();
        std::thread::sleep(Duration::from_secs(1));
        let pct = w.usage().other_pct;
        let waited = began.elapsed().as_secs_f64() - 1.0;
        if pct <= threshold_pct {
            return (waited.max(0.0), pct);
        }
        if began.elapsed() >= max_wait {
            eprintln!(
                "  (still {pct:.0}% busy with other processes after {:.0} s; going on)",
                began.elapsed().as_secs_f64()
            );
            return (waited, pct);
        }
        if !said {
            eprintln!("  (waiting for a quiet machine: other processes use {pct:.0}% of the CPUs)");
            said = true;
        }
    }
}

/// A `kB` field of `/proc/PID/status` (e.g. `VmHWM`), in KiB.
pub fn proc_status_kib(pid: u32, key: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find_map(|l| {
        l.strip_prefix(key)?
            .strip_prefix(':')?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    })
}

/// UTC date and time, `YYYY-MM-DD HH:MM UTC` (civil-from-days, no dependencies).
pub fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        tod / 3_600,
        tod % 3_600 / 60
    )
}

/// `N cores (CPU model), M GiB RAM, Linux KERNEL`.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    format!(
        "nproc {} ({cpu}), {mem_gib:.0} GiB RAM, Linux {kernel}",
        cores()
    )
}

/// Versions of the crates that matter, from this project's `Cargo.lock`.
pub fn crate_versions() -> String {
    const LOCK: &str = include_str!("../Cargo.lock");
    const WANT: &[&str] = &[
        "tokio",
        "hyper",
        "hyper-util",
        "h2",
        "http-body-util",
        "bytes",
        "tonic",
        "tonic-prost",
        "prost",
        "pbjson",
        "protoc-bin-vendored",
    ];
    let mut out = Vec::new();
    let mut name: Option<&str> = None;
    for l in LOCK.lines() {
        if let Some(n) = l.strip_prefix("name = \"") {
            name = n.strip_suffix('"');
        } else if let (Some(n), Some(v)) = (name, l.strip_prefix("version = \"")) {
            if WANT.contains(&n) {
                out.push(format!("{n} {}", v.trim_end_matches('"')));
            }
            name = None;
        }
    }
    out.join(", ")
}
