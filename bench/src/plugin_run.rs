//! `plugin`: connect-plugin's plugin system against hashicorp/go-plugin, in one invocation.
//!
//! Each round runs, every unit behind a wait for a quiet machine and with the CPU of other
//! processes accounted (a disturbed unit is repeated, as in `run`):
//!
//! 1. **seq**, for every link × tokio flavour: one `plugin-host --test seq` process
//!    (launch, warm-up, sequential `Echo` calls); then go-plugin's own `run.sh` with the same
//!    number of calls, whose two lines (netrpc, grpc) are parsed.
//! 2. **launch**, for every launching link × flavour: `--launches` fresh `plugin-host --test
//!    launch` processes, one launch each; then as many runs of go-plugin's benchmark host
//!    (`bin/host -n 1`, the binary `run.sh` built) per mode. The unit's figure is the median.
//!
//! The tables give medians over the rounds, the ratios and the aims, and every unit.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::plugin_host::{Flavor, Link};
use crate::run::{fmt, median};
use crate::sys::{self, CpuWindow};
use crate::{Args, Res};

/// go-plugin's transport in its benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GoMode {
    NetRpc,
    Grpc,
}

impl GoMode {
    const ALL: [GoMode; 2] = [GoMode::NetRpc, GoMode::Grpc];

    fn name(self) -> &'static str {
        match self {
            GoMode::NetRpc => "netrpc",
            GoMode::Grpc => "grpc",
        }
    }
}

/// What a row measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subject {
    Ours(Link, Flavor),
    Go(GoMode),
}

impl Subject {
    fn name(self) -> String {
        match self {
            Subject::Ours(l, f) => format!("connect-plugin {} ({})", l.name(), f.name()),
            Subject::Go(m) => format!("go-plugin {}", m.name()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Launch,
    Seq,
}

/// One unit's figures (NaN where not measured).
#[derive(Debug, Clone)]
struct Row {
    round: usize,
    subject: Subject,
    kind: Kind,
    /// Median of the unit's launches, ms.
    launch_ms: f64,
    /// Fastest and slowest launch of the unit, ms.
    launch_min_ms: f64,
    launch_max_ms: f64,
    p50_us: f64,
    p99_us: f64,
    rate: f64,
    mean_us: f64,
    other_pct: f64,
    steal_pct: f64,
    waited_s: f64,
    attempts: usize,
    error: Option<String>,
}

impl Row {
    fn new(round: usize, subject: Subject, kind: Kind) -> Row {
        Row {
            round,
            subject,
            kind,
            launch_ms: f64::NAN,
            launch_min_ms: f64::NAN,
            launch_max_ms: f64::NAN,
            p50_us: f64::NAN,
            p99_us: f64::NAN,
            rate: f64::NAN,
            mean_us: f64::NAN,
            other_pct: 0.0,
            steal_pct: 0.0,
            waited_s: 0.0,
            attempts: 1,
            error: None,
        }
    }

    fn with_launches(mut self, ms: Vec<f64>) -> Row {
        self.launch_min_ms = ms.iter().copied().fold(f64::INFINITY, f64::min);
        self.launch_max_ms = ms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        self.launch_ms = median(ms);
        self
    }
}

/// go-plugin's benchmark: its `run.sh` and the work directory it builds in.
#[derive(Debug, Clone)]
struct GoPlugin {
    script: PathBuf,
    work: PathBuf,
}

struct Settings {
    rounds: usize,
    quick: bool,
    launches: usize,
    calls: usize,
    warmup: usize,
    direct_calls: usize,
    flavors: Vec<Flavor>,
    links: Vec<Link>,
    go: Option<GoPlugin>,
    quiet_pct: f64,
    max_wait: Duration,
    max_other_pct: f64,
    retries: usize,
    wait_budget: f64,
}

/// Waits for a quiet machine, measures, accounts other processes' CPU, repeats when
/// disturbed; shared by every unit of a run.
struct Guard<'a> {
    st: &'a Settings,
    waited_total: f64,
    budget_note: bool,
}

impl Guard<'_> {
    /// Runs `measure` (which returns one or more rows) under the quiet-machine discipline.
    fn run(&mut self, label: &str, mut measure: impl FnMut() -> Vec<Row>) -> Vec<Row> {
        let mut attempt = 0;
        let mut waited_here = 0.0;
        loop {
            attempt += 1;
            let left = (self.st.wait_budget - self.waited_total).max(0.0);
            if left == 0.0 && !self.budget_note {
                eprintln!(
                    "  (the wait budget of {:.0} s is spent: no more waiting or repeats)",
                    self.st.wait_budget
                );
                self.budget_note = true;
            }
            let (waited, _) = sys::wait_quiet(
                self.st.quiet_pct,
                self.st.max_wait.min(Duration::from_secs_f64(left)),
            );
            self.waited_total += waited + 1.0;
            waited_here += waited;
            let window = CpuWindow::start();
            let mut rows = measure();
            let cpu = window.usage();
            for r in &mut rows {
                r.other_pct = cpu.other_pct;
                r.steal_pct = cpu.steal_pct;
                r.waited_s = waited_here;
                r.attempts = attempt;
            }
            let ok = rows.iter().all(|r| r.error.is_none());
            let may_repeat = attempt <= self.st.retries && self.waited_total < self.st.wait_budget;
            if ok && cpu.other_pct > self.st.max_other_pct && may_repeat {
                eprintln!(
                    "  ({label}: other processes used {:.1}% of the CPUs; repeating)",
                    cpu.other_pct
                );
                continue;
            }
            for r in &rows {
                print_row(r);
            }
            return rows;
        }
    }
}

fn print_row(r: &Row) {
    match r.kind {
        Kind::Launch => eprintln!(
            "{:>5} launch {:<40} median {:>7.2} ms  (min {:.2}, max {:.2})  other {:.1}% steal {:.1}%",
            r.round,
            r.subject.name(),
            r.launch_ms,
            r.launch_min_ms,
            r.launch_max_ms,
            r.other_pct,
            r.steal_pct
        ),
        Kind::Seq => eprintln!(
            "{:>5} seq    {:<40} p50 {:>9.3} µs  p99 {:>9.3} µs  {:>10.0} calls/s  other {:.1}% steal {:.1}%",
            r.round,
            r.subject.name(),
            r.p50_us,
            r.p99_us,
            r.rate,
            r.other_pct,
            r.steal_pct
        ),
    }
    if let Some(e) = &r.error {
        eprintln!("      failed: {e}");
    }
}

/// `plugin`: everything, in one invocation.
pub fn main(args: &Args) -> Res<()> {
    let quick = args.flag("quick");
    let exe = std::env::current_exe()?;
    crate::plugin_host::plugin_binary()?;
    let go = if args.flag("no-goplugin") {
        None
    } else {
        let script = PathBuf::from(
            args.get("goplugin")
                .unwrap_or("/work/shared/peers/go-plugin/run.sh"),
        );
        if !script.exists() {
            return Err(format!(
                "{} not found (--goplugin PATH, or --no-goplugin)",
                script.display()
            )
            .into());
        }
        // bench/target/release/connect-plugin-bench -> bench/target/go-plugin
        let target = exe
            .parent()
            .and_then(Path::parent)
            .ok_or("cannot place go-plugin's work directory")?;
        Some(GoPlugin {
            script,
            work: target.join("go-plugin"),
        })
    };
    let flavors = match args.get("flavors") {
        Some(list) => list
            .split(',')
            .map(Flavor::parse)
            .collect::<Res<Vec<_>>>()?,
        None => Flavor::DEFAULT.to_vec(),
    };
    let links = match args.get("links") {
        Some(list) => list.split(',').map(Link::parse).collect::<Res<Vec<_>>>()?,
        None => Link::ALL.to_vec(),
    };
    let st = Settings {
        rounds: args.num("rounds", if quick { 1 } else { 3 })?,
        quick,
        launches: args.num("launches", if quick { 5 } else { 20 })?,
        calls: args.num("calls", if quick { 2_000 } else { 20_000 })?,
        warmup: args.num("warmup", if quick { 200 } else { 2_000 })?,
        direct_calls: args.num("direct-calls", if quick { 200_000 } else { 2_000_000 })?,
        flavors,
        links,
        go,
        quiet_pct: args.num("quiet-pct", 3.0)?,
        max_wait: Duration::from_secs_f64(
            args.num("max-wait-secs", if quick { 5.0 } else { 180.0 })?,
        ),
        max_other_pct: args.num("max-other-pct", 6.0)?,
        retries: args.num("retries", if quick { 0 } else { 2 })?,
        wait_budget: args.num("wait-budget-secs", if quick { 10.0 } else { 900.0 })?,
    };
    if let Some(go) = &st.go {
        std::fs::create_dir_all(&go.work)?;
    }

    let started = sys::now_utc();
    let whole = CpuWindow::start();
    let t0 = std::time::Instant::now();
    let mut guard = Guard {
        st: &st,
        waited_total: 0.0,
        budget_note: false,
    };
    let mut rows = Vec::new();
    for round in 1..=st.rounds {
        for &link in &st.links {
            for &flavor in st.flavors.iter().filter(|f| f.applies_to(link)) {
                let subject = Subject::Ours(link, flavor);
                rows.extend(guard.run(&subject.name(), || {
                    vec![ours_seq(&exe, &st, round, link, flavor)]
                }));
            }
        }
        if let Some(go) = &st.go {
            rows.extend(guard.run("go-plugin run.sh", || go_seq(go, &st, round)));
        }
        for &link in st.links.iter().filter(|l| l.launches()) {
            for &flavor in &st.flavors {
                let subject = Subject::Ours(link, flavor);
                rows.extend(guard.run(&subject.name(), || {
                    vec![ours_launch(&exe, &st, round, link, flavor)]
                }));
            }
        }
        if let Some(go) = &st.go {
            for mode in GoMode::ALL {
                rows.extend(guard.run(&Subject::Go(mode).name(), || {
                    vec![go_launch(go, &st, round, mode)]
                }));
            }
        }
    }
    let overall = whole.usage();
    let elapsed = t0.elapsed().as_secs_f64();
    let waited = guard.waited_total;

    let generated = report(&rows, &st, &started, overall, elapsed, waited);
    println!("{generated}");
    if let Some(path) = args.get("md") {
        write_md(Path::new(path), &generated)?;
        eprintln!("wrote {path}");
    }
    if let Some(path) = args.get("json") {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "round": r.round, "subject": r.subject.name(),
                    "test": if r.kind == Kind::Launch { "launch" } else { "seq" },
                    "launch_ms": r.launch_ms, "launch_min_ms": r.launch_min_ms,
                    "launch_max_ms": r.launch_max_ms,
                    "p50_us": r.p50_us, "p99_us": r.p99_us, "rate": r.rate,
                    "mean_us": r.mean_us, "other_cpu_pct": r.other_pct,
                    "steal_pct": r.steal_pct, "waited_s": r.waited_s,
                    "attempts": r.attempts, "error": r.error,
                })
            })
            .collect();
        std::fs::write(path, serde_json::to_string_pretty(&v)?)?;
    }
    if rows.iter().any(|r| r.error.is_some()) {
        return Err("some measurements failed (see the table)".into());
    }
    Ok(())
}

/// Runs `plugin-host` and parses its JSON line.
/// One `plugin-host` measurement (`extra` options added); its JSON line.
pub(crate) fn host(
    exe: &Path,
    link: Link,
    flavor: Flavor,
    test: &str,
    extra: &[String],
) -> Res<serde_json::Value> {
    let out = Command::new(exe)
        .args([
            "plugin-host",
            "--link",
            link.name(),
            "--flavor",
            flavor.name(),
        ])
        .args(["--test", test])
        .args(extra)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err(format!("plugin-host {} {test} failed ({})", link.name(), out.status).into());
    }
    Ok(serde_json::from_str(String::from_utf8(out.stdout)?.trim())?)
}

fn num(v: &serde_json::Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or(f64::NAN)
}

fn ours_seq(exe: &Path, st: &Settings, round: usize, link: Link, flavor: Flavor) -> Row {
    let mut row = Row::new(round, Subject::Ours(link, flavor), Kind::Seq);
    let calls = if link.in_process() {
        st.direct_calls
    } else {
        st.calls
    };
    let extra = [
        format!("--calls={calls}"),
        format!("--warmup={}", st.warmup),
    ];
    match host(exe, link, flavor, "seq", &extra) {
        Ok(v) => {
            row.p50_us = num(&v, "p50_us");
            row.p99_us = num(&v, "p99_us");
            row.rate = num(&v, "rate");
            row.mean_us = num(&v, "mean_us");
        }
        Err(e) => row.error = Some(e.to_string()),
    }
    row
}

fn ours_launch(exe: &Path, st: &Settings, round: usize, link: Link, flavor: Flavor) -> Row {
    let row = Row::new(round, Subject::Ours(link, flavor), Kind::Launch);
    let mut ms = Vec::with_capacity(st.launches);
    for _ in 0..st.launches {
        match host(exe, link, flavor, "launch", &[]) {
            Ok(v) => ms.push(num(&v, "launch_us") / 1e3),
            Err(e) => {
                let mut row = row;
                row.error = Some(e.to_string());
                return row;
            }
        }
    }
    row.with_launches(ms)
}

/// `key=value` fields of one line of go-plugin's benchmark host, e.g.
/// `mode=grpc launch_to_first_call=6.29ms calls=2000 elapsed=0.341s calls_per_sec=5858
/// us_per_call=170.7`. Units (`ms`, `s`) are stripped from the numbers.
fn go_fields(line: &str) -> Vec<(&str, &str)> {
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .collect()
}

fn go_num(fields: &[(&str, &str)], key: &str) -> f64 {
    fields
        .iter()
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.trim_end_matches("ms").trim_end_matches('s').parse().ok())
        .unwrap_or(f64::NAN)
}

/// go-plugin's `run.sh` with the same number of calls: one row per mode.
fn go_seq(go: &GoPlugin, st: &Settings, round: usize) -> Vec<Row> {
    let mut rows: Vec<Row> = GoMode::ALL
        .into_iter()
        .map(|m| Row::new(round, Subject::Go(m), Kind::Seq))
        .collect();
    let out = Command::new("bash")
        .arg(&go.script)
        .arg(st.calls.to_string())
        .env("GOPLUGIN_WORK", &go.work)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output();
    let text = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => {
            let e = format!("run.sh failed ({})", o.status);
            rows.iter_mut().for_each(|r| r.error = Some(e.clone()));
            return rows;
        }
        Err(e) => {
            rows.iter_mut().for_each(|r| r.error = Some(e.to_string()));
            return rows;
        }
    };
    for row in &mut rows {
        let Subject::Go(mode) = row.subject else {
            continue;
        };
        let line = text
            .lines()
            .find(|l| go_fields(l).contains(&("mode", mode.name())));
        match line {
            Some(l) => {
                let f = go_fields(l);
                row.rate = go_num(&f, "calls_per_sec");
                row.mean_us = go_num(&f, "us_per_call");
                // run.sh's own launch, one sample; the launch units take the median of many.
                row.launch_ms = go_num(&f, "launch_to_first_call");
            }
            None => row.error = Some(format!("run.sh printed no mode={} line", mode.name())),
        }
    }
    rows
}

/// `--launches` runs of go-plugin's benchmark host, one launch and one call each.
fn go_launch(go: &GoPlugin, st: &Settings, round: usize, mode: GoMode) -> Row {
    let row = Row::new(round, Subject::Go(mode), Kind::Launch);
    let bin = go.work.join("bin");
    let mut ms = Vec::with_capacity(st.launches);
    for _ in 0..st.launches {
        let out = Command::new(bin.join("host"))
            .args(["-mode", mode.name(), "-n", "1", "-plugin"])
            .arg(bin.join("echo-plugin"))
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output();
        let v = match out {
            Ok(o) if o.status.success() => Ok(go_num(
                &go_fields(&String::from_utf8_lossy(&o.stdout)),
                "launch_to_first_call",
            )),
            Ok(o) => Err(o.status.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match v {
            Ok(v) if v.is_finite() => ms.push(v),
            other => {
                let mut row = row;
                row.error = Some(format!(
                    "go-plugin host -mode {} failed: {other:?}",
                    mode.name()
                ));
                return row;
            }
        }
    }
    row.with_launches(ms)
}

const BEGIN: &str =
    "<!-- BEGIN GENERATED by `connect-plugin-bench plugin`; a re-run replaces this block -->";
const END: &str = "<!-- END GENERATED plugin -->";

/// Replaces the plugin block of an existing report, or appends a new section holding it.
fn write_md(path: &Path, generated: &str) -> Res<()> {
    let block = format!("{BEGIN}\n\n{generated}\n{END}\n");
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let text = match old.split_once(BEGIN) {
        Some((head, rest)) => match rest.split_once(END) {
            Some((_, tail)) => format!("{head}{}{tail}", block.trim_end()),
            None => return Err(format!("{}: {BEGIN} without {END}", path.display()).into()),
        },
        None => format!(
            "{}\n\n## The plugin system against hashicorp/go-plugin\n\n\
             `connect-plugin-bench plugin` (see `bench/src/plugin_run.rs`).\n\n{block}",
            old.trim_end()
        ),
    };
    let tmp = PathBuf::from(format!("{}.tmp", path.display()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn ratio(a: f64, b: f64) -> String {
    if !(a.is_finite() && b.is_finite()) || b == 0.0 {
        return "–".into();
    }
    format!("{:.2}x", a / b)
}

/// Medians over the rounds, per subject and kind.
struct Medians<'a> {
    rows: &'a [Row],
}

impl Medians<'_> {
    fn get(&self, s: Subject, kind: Kind, f: fn(&Row) -> f64) -> f64 {
        median(
            self.rows
                .iter()
                .filter(|r| r.subject == s && r.kind == kind)
                .map(f)
                .collect(),
        )
    }

    /// The fastest or slowest launch of all rounds.
    fn extreme(&self, s: Subject, f: fn(&Row) -> f64, pick: fn(f64, f64) -> f64) -> f64 {
        self.rows
            .iter()
            .filter(|r| r.subject == s && r.kind == Kind::Launch)
            .map(f)
            .filter(|v| v.is_finite())
            .reduce(pick)
            .unwrap_or(f64::NAN)
    }

    fn launch(&self, s: Subject) -> f64 {
        self.get(s, Kind::Launch, |r| r.launch_ms)
    }

    fn rate(&self, s: Subject) -> f64 {
        self.get(s, Kind::Seq, |r| r.rate)
    }

    fn mean_us(&self, s: Subject) -> f64 {
        self.get(s, Kind::Seq, |r| r.mean_us)
    }

    fn p50_us(&self, s: Subject) -> f64 {
        self.get(s, Kind::Seq, |r| r.p50_us)
    }
}

fn go_version() -> String {
    let go = Command::new("go")
        .arg("version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().trim_start_matches("go version ").to_string())
        .unwrap_or_else(|| "unknown".into());
    let pkg = |name: &str| {
        Command::new("dpkg-query")
            .args(["-W", "-f=${Version}", name])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .unwrap_or_else(|| "?".into())
    };
    format!(
        "go {go}, go-plugin {} and grpc-go {} (Debian packages)",
        pkg("golang-github-hashicorp-go-plugin-dev"),
        pkg("golang-google-grpc-dev")
    )
}

fn report(
    rows: &[Row],
    st: &Settings,
    started: &str,
    overall: sys::CpuUse,
    elapsed: f64,
    waited: f64,
) -> String {
    let m = Medians { rows };
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
        "Runtime: connect-plugin at git {} (when this binary was built). Peer: {}.\n\n",
        env!("BENCH_RUNTIME_REV"),
        if st.go.is_some() {
            go_version()
        } else {
            "none (--no-goplugin)".into()
        }
    ));
    md.push_str(&format!(
        "Workload: launch = {} fresh host processes per unit, one launch each, the unit's median; \
         seq = {} warm-up then {} sequential `Echo` calls of a 16-byte string ({} on the \
         in-process links, timed in batches of {}); go-plugin: `run.sh {}` (no warm-up, mean only). \
         Machine load during the whole invocation: other processes {:.1}% of all CPUs, steal {:.1}%; \
         {:.0} s went to waiting for a quiet machine (budget {:.0} s).\n\n",
        st.launches,
        st.warmup,
        st.calls,
        st.direct_calls,
        crate::plugin_host::BATCH,
        st.calls,
        overall.other_pct,
        overall.steal_pct,
        waited,
        st.wait_budget
    ));

    let (go_n, go_g) = (GO_NETRPC, GO_GRPC);
    let mut subjects: Vec<Subject> = Vec::new();
    for &link in &st.links {
        for &f in st.flavors.iter().filter(|f| f.applies_to(link)) {
            subjects.push(Subject::Ours(link, f));
        }
    }
    if st.go.is_some() {
        subjects.extend([go_n, go_g]);
    }

    md.push_str(
        "### Launch to first call\n\nMedian over the rounds of each unit's median; fastest and \
         slowest of all launches; ratio = ours / \
         go-plugin's (below 1x is faster).\n\n\
         | subject | median ms | fastest ms | slowest ms | / go-plugin netrpc | / go-plugin grpc |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    for &s in subjects
        .iter()
        .filter(|s| !matches!(s, Subject::Ours(l, _) if !l.launches()))
    {
        let v = m.launch(s);
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            s.name(),
            fmt(v, 2),
            fmt(m.extreme(s, |r| r.launch_min_ms, f64::min), 2),
            fmt(m.extreme(s, |r| r.launch_max_ms, f64::max), 2),
            ratio(v, m.launch(go_n)),
            ratio(v, m.launch(go_g)),
        ));
    }

    md.push_str(
        "\n### Sequential `Echo` calls\n\nMedians over the rounds. \"speed\" = ours calls/s / \
         go-plugin's calls/s (above 1x is faster). The in-process rows (direct and the two \
         trait-object baselines) compare their p50 with the baselines' of the same flavour; \
         their p50 is the median of batch means, which a preempted batch does not move.\n\n\
         | subject | p50 µs | p99 µs | calls/s | mean µs | speed / netrpc | speed / grpc | p50 / dyn-baseline | p50 / dyn-async-baseline |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for &s in &subjects {
        let rate = m.rate(s);
        let mean = m.mean_us(s);
        let (p50, p99, decimals) = match s {
            Subject::Ours(l, _) => (
                m.get(s, Kind::Seq, |r| r.p50_us),
                m.get(s, Kind::Seq, |r| r.p99_us),
                if l.in_process() { 4 } else { 1 },
            ),
            Subject::Go(_) => (f64::NAN, f64::NAN, 1),
        };
        let in_process = matches!(s, Subject::Ours(l, _) if l.in_process());
        let vs = |base: Link| match s {
            Subject::Ours(l, f) if l.in_process() => ratio(p50, m.p50_us(Subject::Ours(base, f))),
            _ => String::new(),
        };
        let speed = |go: Subject| {
            if in_process {
                String::new()
            } else {
                ratio(rate, m.rate(go))
            }
        };
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            s.name(),
            fmt(p50, decimals),
            fmt(p99, decimals),
            fmt(rate, 0),
            fmt(mean, decimals),
            speed(go_n),
            speed(go_g),
            vs(Link::Baseline),
            vs(Link::AsyncBaseline),
        ));
    }

    md.push_str(&aims(rows, st, &m));

    md.push_str(
        "\n### All units, in execution order\n\n\
         | round | test | subject | launch median ms | launch min..max ms | p50 µs | p99 µs | calls/s | mean µs | other CPU % | steal % | waited s | tries |\n\
         |---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let d = match r.subject {
            Subject::Ours(l, _) if l.in_process() => 4,
            _ => 1,
        };
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {:.0} | {} |\n",
            r.round,
            if r.kind == Kind::Launch {
                "launch"
            } else {
                "seq"
            },
            r.subject.name(),
            fmt(r.launch_ms, 2),
            if r.launch_min_ms.is_finite() {
                format!("{:.2}..{:.2}", r.launch_min_ms, r.launch_max_ms)
            } else {
                "–".into()
            },
            fmt(r.p50_us, d),
            fmt(r.p99_us, d),
            fmt(r.rate, 0),
            fmt(r.mean_us, d),
            r.other_pct,
            r.steal_pct,
            r.waited_s,
            r.attempts
        ));
    }
    md.push_str(
        "\ngo-plugin's seq rows come from `run.sh`; their \"launch median\" is the one launch \
         `run.sh` made before its calls.\n",
    );
    for r in rows.iter().filter(|r| r.error.is_some()) {
        md.push_str(&format!(
            "\nRound {} / {} failed: {}\n",
            r.round,
            r.subject.name(),
            r.error.as_deref().unwrap_or("")
        ));
    }
    md
}

/// One aim, checked on a set of medians.
type Check = fn(&Medians<'_>, Flavor) -> Option<(bool, String)>;

/// The aims, per flavour, on the medians and round by round.
fn aims(rows: &[Row], st: &Settings, m: &Medians<'_>) -> String {
    let checks: [(&str, Check); 5] = [
        (
            "launch to first call (Unix socket, the default) ≤ go-plugin's (both modes)",
            |m, f| {
                let ours = fin(m.launch(Subject::Ours(Link::Unix, f)))?;
                let (n, g) = (fin(m.launch(GO_NETRPC))?, fin(m.launch(GO_GRPC))?);
                Some((
                    ours <= n.min(g),
                    format!(
                        "{ours:.2} ms: {:.2}x netrpc, {:.2}x grpc",
                        ours / n,
                        ours / g
                    ),
                ))
            },
        ),
        ("TCP (automatic mTLS) calls/s > go-plugin netrpc", |m, f| {
            let ours = fin(m.rate(Subject::Ours(Link::TcpMtls, f)))?;
            let n = fin(m.rate(GO_NETRPC))?;
            Some((ours > n, format!("{:.2}x netrpc", ours / n)))
        }),
        ("TCP (plaintext) calls/s > go-plugin netrpc", |m, f| {
            let ours = fin(m.rate(Subject::Ours(Link::Tcp, f)))?;
            let n = fin(m.rate(GO_NETRPC))?;
            Some((ours > n, format!("{:.2}x netrpc", ours / n)))
        }),
        ("Unix socket calls/s ≥ 2x go-plugin grpc", |m, f| {
            let ours = fin(m.rate(Subject::Ours(Link::Unix, f)))?;
            let g = fin(m.rate(GO_GRPC))?;
            Some((ours >= 2.0 * g, format!("{:.2}x grpc", ours / g)))
        }),
        (
            "direct p50 ≤ 2x a plain `Arc<dyn Trait>` call's",
            |m, f| {
                let d = fin(m.p50_us(Subject::Ours(Link::Direct, f)))?;
                let b = fin(m.p50_us(Subject::Ours(Link::Baseline, f)))?;
                Some((
                    d <= 2.0 * b,
                    format!("{:.1} ns vs {:.1} ns: {:.2}x", d * 1e3, b * 1e3, d / b),
                ))
            },
        ),
    ];
    let mut md = String::from(
        "\n### The aims\n\nOn the medians; \"rounds\" counts the rounds in which the aim held \
         between that round's own units.\n\n| aim |",
    );
    for f in &st.flavors {
        md.push_str(&format!(" {} (medians) | rounds |", f.name()));
    }
    md.push_str("\n|---|");
    for _ in &st.flavors {
        md.push_str("---|---:|");
    }
    md.push('\n');
    for (name, check) in &checks {
        md.push_str(&format!("| {name} |"));
        for &f in &st.flavors {
            let cell = match check(m, f) {
                Some((ok, how)) => format!("{} {how}", if ok { "met:" } else { "**missed**:" }),
                None => "–".into(),
            };
            let (mut met, mut total) = (0, 0);
            for round in 1..=st.rounds {
                let these: Vec<Row> = rows.iter().filter(|r| r.round == round).cloned().collect();
                if let Some((ok, _)) = check(&Medians { rows: &these }, f) {
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

fn fin(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// go-plugin over net/rpc.
const GO_NETRPC: Subject = Subject::Go(GoMode::NetRpc);
/// go-plugin over gRPC.
const GO_GRPC: Subject = Subject::Go(GoMode::Grpc);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_plugin_lines() {
        let f = go_fields(
            "mode=grpc launch_to_first_call=6.29ms calls=2000 elapsed=0.341s calls_per_sec=5858 us_per_call=170.7",
        );
        assert!(f.contains(&("mode", "grpc")));
        assert_eq!(go_num(&f, "launch_to_first_call"), 6.29);
        assert_eq!(go_num(&f, "calls_per_sec"), 5858.0);
        assert_eq!(go_num(&f, "us_per_call"), 170.7);
        assert!(go_num(&f, "missing").is_nan());
    }
}
