//! Shared helpers for the interop tests: locating the third-party peers that
//! `interop/setup.sh` installs, starting servers that announce themselves with
//! `listening on URL` lines, and running client processes with a time limit.
//!
//! Nothing here can hang a test: every wait has a deadline, and every child is
//! killed when its handle drops (servers also get a stdin pipe, and the peer
//! servers exit when it closes, so they die with the test process).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long a server may take to print its `listening on` line(s).
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one client process (a whole peer suite) may run.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// The environment variable that turns the interop tests into skips.
pub const SKIP_ENV: &str = "CONNECT_PLUGIN_SKIP_INTEROP";

pub const ECHO_SERVER: &str = env!("CARGO_BIN_EXE_echo-server");
pub const ECHO_CLIENT: &str = env!("CARGO_BIN_EXE_echo-client");

/// The repository root (`examples/echo/../..`).
pub fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

pub fn interop_dir() -> PathBuf {
    repo_root().join("interop")
}

/// The interop contract as `buf` is given it: relative to the repository root
/// (run the command with `current_dir(repo_root())`).
pub const SHARED_PROTO: &str = "../shared/interop/proto";

/// The third-party peers.
#[derive(Clone, Copy, Debug)]
pub enum Peer {
    /// connect-es on Node: `interop/node/{server,client}.mjs`.
    Node,
    /// connectrpc on Python: `interop/python/{server,client}.py`.
    Python,
    /// `buf curl`, from the npm package `@bufbuild/buf`.
    Buf,
}

impl Peer {
    /// Files whose presence means `interop/setup.sh` has run for this peer.
    fn installed_markers(self) -> Vec<PathBuf> {
        let dir = interop_dir();
        match self {
            Peer::Node => vec![
                dir.join("node/node_modules"),
                dir.join("node/gen/echo/v1/echo_pb.js"),
            ],
            Peer::Python => vec![
                dir.join("python/.venv/bin/python"),
                dir.join("python/gen/echo/v1/echo_connect.py"),
            ],
            Peer::Buf => vec![dir.join("node/node_modules/.bin/buf")],
        }
    }
}

/// Whether the interop test should run. Returns `false` (after printing why)
/// when `CONNECT_PLUGIN_SKIP_INTEROP=1`; panics with the fix when the peer is
/// not installed.
pub fn peer_ready(peer: Peer) -> bool {
    if std::env::var(SKIP_ENV).is_ok_and(|v| v == "1") {
        eprintln!("SKIP: {peer:?} interop test skipped because {SKIP_ENV}=1");
        return false;
    }
    let missing: Vec<_> = peer
        .installed_markers()
        .into_iter()
        .filter(|p| !p.exists())
        .collect();
    assert!(
        missing.is_empty(),
        "the {peer:?} interop peer is not installed (missing {}).\n\
         Run `interop/setup.sh` from the repository root (needs node, npm, python3 \
         and the npm and PyPI registries), or set {SKIP_ENV}=1 to skip the interop tests.",
        missing
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    true
}

/// `node` from PATH.
pub fn node() -> Command {
    let mut cmd = Command::new("node");
    cmd.current_dir(interop_dir().join("node"));
    cmd
}

/// The venv's Python.
pub fn python() -> Command {
    let dir = interop_dir().join("python");
    let mut cmd = Command::new(dir.join(".venv/bin/python"));
    cmd.current_dir(dir);
    cmd
}

/// `buf`, run from the repository root so that [`SHARED_PROTO`] resolves. The
/// native binary of `@bufbuild/buf-linux-x64` when present (no Node start-up),
/// else the package's `bin/buf` wrapper.
pub fn buf() -> Command {
    let node_modules = interop_dir().join("node/node_modules");
    let native = node_modules.join("@bufbuild/buf-linux-x64/bin/buf");
    let program = if native.exists() {
        native
    } else {
        node_modules.join(".bin/buf")
    };
    let mut cmd = Command::new(program);
    cmd.current_dir(repo_root());
    cmd
}

/// The text of the lines a child wrote, collected by a reader thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<String>>);

impl Captured {
    fn push_line(&self, line: &str) {
        let mut text = self.0.lock().unwrap_or_else(|e| e.into_inner());
        text.push_str(line);
        text.push('\n');
    }
    fn text(&self) -> String {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Drains `reader` line by line into `captured` on a thread, also sending each
/// line on `lines` while anyone listens.
fn drain<R: Read + Send + 'static>(
    reader: R,
    captured: Captured,
    lines: Option<mpsc::Sender<String>>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut reader = BufReader::new(reader);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    let line = line.trim_end_matches(['\n', '\r']);
                    captured.push_line(line);
                    if let Some(tx) = &lines {
                        let _ = tx.send(line.to_string());
                    }
                }
            }
        }
    })
}

/// A running server process; killed (and reaped) on drop.
pub struct Server {
    name: String,
    child: Child,
    /// Held open so the peer servers (`--exit-on-stdin-close`) exit with us.
    _stdin: Option<ChildStdin>,
    /// The URLs of the `listening on URL [(label)]` lines, in order.
    pub urls: Vec<String>,
    stdout: Captured,
    stderr: Captured,
}

impl Server {
    /// Spawns `cmd` and waits (at most [`STARTUP_TIMEOUT`]) for `lines`
    /// `listening on URL` lines on its stdout.
    pub fn start(name: &str, mut cmd: Command, lines: usize) -> Server {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        let stdin = child.stdin.take();
        let stdout = Captured::default();
        let stderr = Captured::default();
        let (tx, rx) = mpsc::channel();
        drain(
            child.stdout.take().expect("piped"),
            stdout.clone(),
            Some(tx),
        );
        drain(child.stderr.take().expect("piped"), stderr.clone(), None);
        let mut server = Server {
            name: name.to_string(),
            child,
            _stdin: stdin,
            urls: Vec::new(),
            stdout,
            stderr,
        };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while server.urls.len() < lines {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("listening on ") {
                        let url = rest.split_whitespace().next().unwrap_or_default();
                        server.urls.push(url.to_string());
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                    "{name} printed no `listening on` line within {STARTUP_TIMEOUT:?}\n{}",
                    server.output()
                ),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let _ = server.child.kill();
                    let status = server.child.wait();
                    panic!(
                        "{name} exited ({status:?}) before printing {lines} `listening on` line(s)\n{}",
                        server.output()
                    );
                }
            }
        }
        server
    }

    /// The one URL of a single-port server.
    pub fn url(&self) -> &str {
        &self.urls[0]
    }

    /// The URL of the line labelled `(label)`, for servers with several ports.
    pub fn url_labelled(&self, label: &str) -> String {
        let wanted = format!("({label})");
        self.stdout
            .text()
            .lines()
            .filter_map(|l| l.strip_prefix("listening on "))
            .find(|rest| rest.split_whitespace().nth(1) == Some(wanted.as_str()))
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_string)
            .unwrap_or_else(|| {
                panic!(
                    "{} announced no {wanted} port\n{}",
                    self.name,
                    self.output()
                )
            })
    }

    /// What the server wrote so far, for failure messages.
    pub fn output(&self) -> String {
        format!(
            "--- {} stdout ---\n{}--- {} stderr ---\n{}",
            self.name,
            self.stdout.text(),
            self.name,
            self.stderr.text()
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if thread::panicking() {
            eprintln!("{}", self.output());
        }
    }
}

/// A finished client process.
#[derive(Debug)]
pub struct Run {
    pub what: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }
    pub fn stdout_lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }
    /// Everything about the run, for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "$ {}\nexit: {:?} after {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.what,
            self.status.code(),
            self.elapsed,
            self.stdout,
            self.stderr
        )
    }
}

/// Runs `cmd` to completion, killing it after `timeout`.
pub fn run(mut cmd: Command, timeout: Duration) -> Run {
    let what = format!("{cmd:?}");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let stdout = Captured::default();
    let stderr = Captured::default();
    let out_thread = drain(child.stdout.take().expect("piped"), stdout.clone(), None);
    let err_thread = drain(child.stderr.take().expect("piped"), stderr.clone(), None);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "timed out after {timeout:?}: {what}\n--- stdout ---\n{}--- stderr ---\n{}",
                    stdout.text(),
                    stderr.text()
                );
            }
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("waiting for {what}: {e}"),
        }
    };
    let elapsed = start.elapsed();
    let _ = out_thread.join();
    let _ = err_thread.join();
    Run {
        what,
        status,
        stdout: stdout.text(),
        stderr: stderr.text(),
        elapsed,
    }
}

/// Starts `echo-server --listen 127.0.0.1:0`.
pub fn start_echo_server() -> Server {
    let mut cmd = Command::new(ECHO_SERVER);
    cmd.args(["--listen", "127.0.0.1:0"]);
    Server::start("echo-server", cmd, 1)
}

/// Asserts that a peer's client suite (the `PASS`/`FAIL`/`SKIP` lines of
/// `interop/*/client.*`) passed, and prints its lines.
pub fn assert_suite_passed(label: &str, run: &Run, server: &Server) {
    println!("== {label}\n{}", run.stdout);
    let failed: Vec<_> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("FAIL "))
        .collect();
    let summary = run.stdout.lines().any(|l| l.starts_with("summary: "));
    assert!(
        run.status.success() && failed.is_empty() && summary,
        "{label}: the peer suite failed ({} failing case(s))\n{}\n{}",
        failed.len(),
        run.describe(),
        server.output()
    );
}

/// Collects the failures of many small checks, so that one test reports all
/// of them at once.
#[derive(Default)]
pub struct Failures(Vec<String>);

impl Failures {
    pub fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }
    pub fn finish(self, context: &str) {
        assert!(
            self.0.is_empty(),
            "{} check(s) failed:\n\n{}\n\n{context}",
            self.0.len(),
            self.0.join("\n\n")
        );
    }
}

/// Where a peer server takes HTTP/2 (h2c, prior knowledge) and HTTP/1.1
/// requests; one URL for servers that serve both on one port.
pub struct PeerUrls {
    pub h2c: String,
    pub http1: String,
}

/// One `echo-client` invocation and what it must do.
struct ClientCase {
    label: String,
    url: String,
    args: Vec<String>,
    /// Exact stdout lines.
    stdout: Vec<String>,
    /// `None`: exit 0 with empty stderr. `Some(lines)`: exit 1 and stderr
    /// holds these lines (in order, `prefix*` matching a line by prefix).
    error: Option<Vec<String>>,
    /// The call must finish within this (deadline cases).
    max_elapsed: Option<Duration>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// `echo-client` (our client) against a peer's echo server: every method over
/// Connect, gRPC and gRPC-Web with proto and JSON on h2c, errors with details,
/// a server stream ending in an error, deadlines, gzip, HTTP/1.1 and Connect
/// GET. All checks run; the failures are reported together.
pub fn check_echo_client(peer: &str, urls: &PeerUrls, server: &Server) {
    let mut cases = Vec::new();
    let case = |label: String, url: &str, args: Vec<String>, stdout: Vec<String>| ClientCase {
        label,
        url: url.to_string(),
        args,
        stdout,
        error: None,
        max_elapsed: None,
    };
    for protocol in ["connect", "grpc", "grpcweb"] {
        for codec in ["proto", "json"] {
            let base = strings(&["--protocol", protocol, "--codec", codec]);
            let with = |rest: &[&str]| {
                let mut args = base.clone();
                args.extend(strings(rest));
                args
            };
            let tag = format!("{protocol}/{codec}/h2c");
            cases.push(case(
                format!("unary {tag}"),
                &urls.h2c,
                with(&["unary", "--message", "hello"]),
                strings(&["hello"]),
            ));
            cases.push(case(
                format!("server-stream {tag}"),
                &urls.h2c,
                with(&["server-stream", "--message", "s", "--count", "3"]),
                strings(&["s", "s", "s"]),
            ));
            cases.push(case(
                format!("client-stream {tag}"),
                &urls.h2c,
                with(&["client-stream", "--message", "c", "--count", "3"]),
                strings(&["c,c,c"]),
            ));
            cases.push(case(
                format!("bidi {tag}"),
                &urls.h2c,
                with(&["bidi", "--message", "b", "--count", "3"]),
                strings(&["b", "b", "b"]),
            ));
            let mut c = case(
                format!("error with detail {tag}"),
                &urls.h2c,
                with(&[
                    "--fail-code",
                    "not_found",
                    "--fail-message",
                    "x",
                    "--fail-detail",
                    "unary",
                    "--message",
                    "m",
                ]),
                vec![],
            );
            c.error = Some(strings(&["not_found: x", "detail: echo.v1.EchoResponse x"]));
            cases.push(c);
        }
        let tag = format!("{protocol}/proto/h2c");
        let mut c = case(
            format!("deadline {tag}"),
            &urls.h2c,
            strings(&[
                "--protocol",
                protocol,
                "--timeout-ms",
                "100",
                "--delay-ms",
                "2000",
                "unary",
                "--message",
                "slow",
            ]),
            vec![],
        );
        c.error = Some(strings(&["deadline_exceeded*"]));
        c.max_elapsed = Some(Duration::from_millis(1500));
        cases.push(c);
        cases.push(case(
            format!("gzip {tag}"),
            &urls.h2c,
            strings(&[
                "--protocol",
                protocol,
                "--gzip",
                "--payload-size",
                "65536",
                "unary",
                "--message",
                "z",
            ]),
            strings(&["z", "payload 65536 bytes"]),
        ));
        let mut c = case(
            format!("server-stream ending in an error {tag}"),
            &urls.h2c,
            strings(&[
                "--protocol",
                protocol,
                "--fail-code",
                "unavailable",
                "--fail-message",
                "late",
                "--fail-detail",
                "server-stream",
                "--message",
                "s",
                "--count",
                "2",
            ]),
            strings(&["s", "s"]),
        );
        c.error = Some(strings(&[
            "unavailable: late",
            "detail: echo.v1.EchoResponse late",
        ]));
        cases.push(c);
    }
    for (protocol, codec) in [
        ("connect", "proto"),
        ("connect", "json"),
        ("grpcweb", "proto"),
    ] {
        let tag = format!("{protocol}/{codec}/http1");
        let with = |rest: &[&str]| {
            let mut args = strings(&["--http1", "--protocol", protocol, "--codec", codec]);
            args.extend(strings(rest));
            args
        };
        cases.push(case(
            format!("unary {tag}"),
            &urls.http1,
            with(&["unary", "--message", "hello"]),
            strings(&["hello"]),
        ));
        cases.push(case(
            format!("server-stream {tag}"),
            &urls.http1,
            with(&["server-stream", "--message", "s", "--count", "3"]),
            strings(&["s", "s", "s"]),
        ));
        cases.push(case(
            format!("client-stream {tag}"),
            &urls.http1,
            with(&["client-stream", "--message", "c", "--count", "3"]),
            strings(&["c,c,c"]),
        ));
        cases.push(case(
            format!("gzip {tag}"),
            &urls.http1,
            with(&[
                "--gzip",
                "--payload-size",
                "65536",
                "unary",
                "--message",
                "z",
            ]),
            strings(&["z", "payload 65536 bytes"]),
        ));
        let mut c = case(
            format!("error with detail {tag}"),
            &urls.http1,
            with(&[
                "--fail-code",
                "permission_denied",
                "--fail-message",
                "no",
                "--fail-detail",
                "unary",
                "--message",
                "m",
            ]),
            vec![],
        );
        c.error = Some(strings(&[
            "permission_denied: no",
            "detail: echo.v1.EchoResponse no",
        ]));
        cases.push(c);
    }

    for (url, tag) in [(&urls.h2c, "h2c"), (&urls.http1, "http1")] {
        let mut args = strings(&["--get", "unary", "--message", "via get"]);
        if tag == "http1" {
            args.insert(0, "--http1".to_string());
        }
        cases.push(case(
            format!("unary over HTTP GET connect/proto/{tag}"),
            url,
            args,
            strings(&["via get"]),
        ));
    }

    let mut failures = Failures::default();
    let mut report = String::new();
    for c in &cases {
        let mut cmd = Command::new(ECHO_CLIENT);
        cmd.arg("--url").arg(&c.url).args(&c.args);
        let run = run(cmd, Duration::from_secs(30));
        let stdout = run.stdout_lines();
        let stderr = run.stderr_lines();
        let ok_stdout = stdout == c.stdout;
        let (ok_exit, ok_stderr) = match &c.error {
            None => (run.code() == Some(0), true),
            Some(want) => (run.code() == Some(1), stderr_matches(&stderr, want)),
        };
        let ok_time = c.max_elapsed.is_none_or(|max| run.elapsed < max);
        let ok = ok_stdout && ok_exit && ok_stderr && ok_time;
        report.push_str(&format!(
            "{} echo-client → {peer}: {} ({:?})\n",
            if ok { "PASS" } else { "FAIL" },
            c.label,
            run.elapsed
        ));
        failures.check(ok, || {
            let mut why = Vec::new();
            if !ok_stdout {
                why.push(format!("stdout lines {stdout:?}, want {:?}", c.stdout));
            }
            if !ok_exit {
                let want = if c.error.is_some() { 1 } else { 0 };
                why.push(format!("exit code {:?}, want {want}", run.code()));
            }
            if !ok_stderr {
                why.push(format!("stderr lines {stderr:?}, want {:?}", c.error));
            }
            if !ok_time {
                why.push(format!(
                    "took {:?}, want under {:?}",
                    run.elapsed, c.max_elapsed
                ));
            }
            format!("{}: {}\n{}", c.label, why.join("; "), run.describe())
        });
    }
    println!("{report}");
    failures.finish(&server.output());
}

/// Whether `got` contains the `want` lines in order (`prefix*` matches a line
/// starting with `prefix`).
fn stderr_matches(got: &[&str], want: &[String]) -> bool {
    let mut it = got.iter();
    want.iter().all(|w| {
        it.any(|line| match w.strip_suffix('*') {
            Some(prefix) => line.starts_with(prefix),
            None => *line == w,
        })
    })
}

/// Runs a peer's client suite (`client.mjs` / `client.py`) against a fresh
/// `echo-server` and asserts that it passed.
pub fn run_suite_against_echo_server(peer: Peer, protocol: &str, codec: &str, http: &str) {
    if !peer_ready(peer) {
        return;
    }
    let server = start_echo_server();
    let (mut cmd, name) = match peer {
        Peer::Node => (node(), "connect-es"),
        Peer::Python => (python(), "connectrpc-python"),
        Peer::Buf => unreachable!("buf has no suite"),
    };
    cmd.arg(match peer {
        Peer::Node => "client.mjs",
        _ => "client.py",
    });
    cmd.args([
        "--url",
        server.url(),
        "--protocol",
        protocol,
        "--codec",
        codec,
        "--http",
        http,
        // Our server drains a refused upload, so an over-limit HTTP/1.1 upload must end
        // in resource_exhausted, never a broken pipe.
        "--strict-upload",
    ]);
    let run = run(cmd, RUN_TIMEOUT);
    assert_suite_passed(
        &format!("{name} client → echo-server ({protocol}, {codec}, HTTP/{http})"),
        &run,
        &server,
    );
}

/// Calls a peer's echo server through the runtime's library API directly (not the CLI):
/// every protocol and codec, the four method kinds where the HTTP version allows, an error
/// with a detail, a deadline and gzip.
pub fn check_library_client(peer: &str, urls: &PeerUrls) {
    use connect_plugin::protocol::{Code, Codec, Encoding, Protocol};
    use connect_plugin::rpc::Request;
    use connect_plugin::transport::HttpVersion;
    use connect_plugin::{Channel, Client, ClientConfig};
    use echo::collect;
    use echo::pb::{EchoRequest, EchoResponse, Failure};
    use echo::pb::{EchoService as _, EchoServiceClient};

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let req = |m: &str| EchoRequest {
            message: m.into(),
            ..Default::default()
        };
        for (url, version) in [
            (&urls.h2c, HttpVersion::Http2),
            (&urls.http1, HttpVersion::Http1),
        ] {
            for protocol in [Protocol::Connect, Protocol::Grpc, Protocol::GrpcWeb] {
                if protocol == Protocol::Grpc && version == HttpVersion::Http1 {
                    continue;
                }
                for codec in [Codec::Proto, Codec::Json] {
                    let case = format!("{peer}: {protocol:?}/{codec:?}/{version:?}");
                    let config = ClientConfig {
                        protocol,
                        codec,
                        send_compression: Encoding::Gzip,
                        ..ClientConfig::default()
                    };
                    let channel = Channel::builder(url)
                        .expect("url")
                        .http_version(version)
                        .build();
                    let c = EchoServiceClient::new(Client::with_config(channel, config));
                    let mut big = req("big");
                    big.payload = vec![3u8; 200_000].into();
                    let r = c
                        .echo(big.clone().into())
                        .await
                        .unwrap_or_else(|e| panic!("{case}: {e}"));
                    assert_eq!(r.get_ref().message, "big", "{case}");
                    assert_eq!(r.get_ref().payload, big.payload, "{case}");

                    let mut ss = req("s");
                    ss.count = 3;
                    let (msgs, err) = collect(
                        c.echo_server_stream(ss.into())
                            .await
                            .unwrap_or_else(|e| panic!("{case}: {e}"))
                            .into_inner(),
                    )
                    .await;
                    assert!(err.is_none(), "{case}: {err:?}");
                    assert_eq!(
                        msgs.iter().map(|m| m.index).collect::<Vec<_>>(),
                        [0, 1, 2],
                        "{case}"
                    );

                    let joined = c
                        .echo_client_stream(Request::new(connect_plugin::Streaming::from_iter(
                            vec![req("a"), req("b")],
                        )))
                        .await
                        .unwrap_or_else(|e| panic!("{case}: {e}"));
                    assert_eq!(joined.get_ref().message, "a,b", "{case}");

                    if version == HttpVersion::Http2 {
                        let (msgs, err) = collect(
                            c.echo_bidi(Request::new(connect_plugin::Streaming::from_iter(vec![
                                req("x"),
                                req("y"),
                            ])))
                            .await
                            .unwrap_or_else(|e| panic!("{case}: {e}"))
                            .into_inner(),
                        )
                        .await;
                        assert!(err.is_none(), "{case}: {err:?}");
                        assert_eq!(
                            msgs.iter().map(|m| m.message.as_str()).collect::<Vec<_>>(),
                            ["x", "y"],
                            "{case}"
                        );
                    }

                    let mut failing = req("f");
                    failing.fail = Some(Failure {
                        code: "permission_denied".into(),
                        message: "nope".into(),
                        with_detail: true,
                    });
                    let e = c.echo(failing.into()).await.expect_err("fails");
                    assert_eq!(e.code(), Code::PermissionDenied, "{case}");
                    assert_eq!(e.message(), "nope", "{case}");
                    assert_eq!(
                        e.find_detail::<EchoResponse>()
                            .map(|d| d.message)
                            .as_deref(),
                        Some("nope"),
                        "{case}"
                    );

                    let mut slow = req("slow");
                    slow.delay_ms = 3_000;
                    let t = std::time::Instant::now();
                    let e = c
                        .echo(
                            Request::new(slow).with_timeout(std::time::Duration::from_millis(150)),
                        )
                        .await
                        .expect_err("deadline");
                    assert_eq!(e.code(), Code::DeadlineExceeded, "{case}");
                    assert!(t.elapsed() < std::time::Duration::from_secs(2), "{case}");
                }
            }
        }
    });
}
