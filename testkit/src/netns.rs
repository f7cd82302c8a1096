//! Network namespaces that a test creates for itself: a pair of fresh namespaces joined by
//! a veth link, to put a host and a plugin on two "machines" and cut the network between
//! them.
//!
//! Each [`NetnsPair`] gets namespaces of its own (named after the process id and a counter),
//! so concurrent tests never share one. The link carries a private `/30`
//! ([`ADDR_A`] ↔ [`ADDR_B`]) that exists only inside the two namespaces; the machine's own
//! network is never touched. Everything is deleted on drop, panics included, and
//! namespaces left behind by a killed test process are deleted by the next one.
//!
//! Needs root and iproute2's `ip` (Debian/Ubuntu package `iproute2`); [`available`] checks
//! both and that a pair can really be created, so tests can skip elsewhere:
//!
//! ```no_run
//! use connect_plugin_testkit::netns::{self, NetnsPair};
//!
//! if !netns::available() {
//!     return; // `available` printed why
//! }
//! let pair = NetnsPair::new().unwrap();
//! let listener = pair
//!     .b()
//!     .enter(|| std::net::TcpListener::bind((netns::ADDR_B, 0)))
//!     .unwrap()
//!     .unwrap();
//! let mut server = pair.b().spawn("some-server", ["--listen", "10.200.0.2:7000"]).unwrap();
//! pair.partition().unwrap(); // packets between a and b are silently dropped
//! pair.heal().unwrap();
//! ```

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::net::Ipv4Addr;
use std::ops::{Deref, DerefMut};
use std::os::fd::AsRawFd;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The address of namespace `a`'s end of the link.
pub const ADDR_A: Ipv4Addr = Ipv4Addr::new(10, 200, 0, 1);
/// The address of namespace `b`'s end of the link.
pub const ADDR_B: Ipv4Addr = Ipv4Addr::new(10, 200, 0, 2);
/// The prefix length of the link's subnet.
const PREFIX: u8 = 30;
/// The prefix of every namespace this module creates.
const NAME_PREFIX: &str = "cptk-";
/// A MAC address no interface has: a neighbour entry pointing at it blackholes a peer.
const NOWHERE_MAC: &str = "02:00:00:00:00:01";

/// Errors of namespace set-up and use.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command could not be started.
    #[error("starting `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A command exited unsuccessfully.
    #[error("`{command}` failed ({status}): {stderr}")]
    Failed {
        /// The command line.
        command: String,
        /// How it exited.
        status: ExitStatus,
        /// What it printed on stderr.
        stderr: String,
    },
    /// A thread could not switch to a namespace.
    #[error("entering network namespace {name}: {source}")]
    Enter {
        /// The namespace.
        name: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// Whether network namespaces can be used here: running as root, `ip` is installed and a
/// pair with a veth link can really be created. Checked once per process. When they cannot,
/// prints why (on every call, so each skipping test says so) and returns false.
pub fn available() -> bool {
    match unavailable_reason() {
        None => true,
        Some(why) => {
            eprintln!("netns: network namespaces are unavailable here ({why}); skipping");
            false
        }
    }
}

/// Why network namespaces cannot be used here, or `None` when they can.
pub fn unavailable_reason() -> Option<&'static str> {
    static REASON: OnceLock<Option<String>> = OnceLock::new();
    REASON.get_or_init(probe).as_deref()
}

fn probe() -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not running as root".into());
    }
    match Command::new("ip").arg("-V").output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => return Some(format!("`ip -V` exited with {}", out.status)),
        Err(e) => {
            return Some(format!(
                "iproute2's `ip` not found ({e}); install the `iproute2` package"
            ));
        }
    }
    match NetnsPair::new() {
        Ok(pair) => {
            drop(pair);
            None
        }
        Err(e) => Some(format!("creating a namespace pair failed: {e}")),
    }
}

fn render(program: &OsStr, args: &[&OsStr]) -> String {
    let mut line = program.to_string_lossy().into_owned();
    for a in args {
        line.push(' ');
        line.push_str(&a.to_string_lossy());
    }
    line
}

/// Runs `ip ARGS…`, returning its stdout.
fn ip<S: AsRef<OsStr>>(args: &[S]) -> Result<String, Error> {
    let args: Vec<&OsStr> = args.iter().map(AsRef::as_ref).collect();
    let command = render(OsStr::new("ip"), &args);
    let out = Command::new("ip")
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| Error::Spawn {
            command: command.clone(),
            source,
        })?;
    if !out.status.success() {
        return Err(Error::Failed {
            command,
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    tracing::trace!(%command, "ran");
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Deletes namespaces of this module whose creating process is gone (a test killed before
/// its drops ran). Once per process, before the first pair.
fn sweep_stale() {
    static SWEPT: OnceLock<()> = OnceLock::new();
    SWEPT.get_or_init(|| {
        let Ok(list) = ip(&["netns", "list"]) else {
            return;
        };
        for line in list.lines() {
            let Some(name) = line.split_whitespace().next() else {
                continue;
            };
            let Some(pid) = name
                .strip_prefix(NAME_PREFIX)
                .and_then(|rest| rest.split('-').next())
                .and_then(|pid| pid.parse::<u32>().ok())
            else {
                continue;
            };
            if pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
            {
                tracing::debug!(name, "deleting a stale network namespace");
                Namespace::destroy(name);
            }
        }
    });
}

/// A network namespace created by this module; deleted (with every process still in it)
/// when dropped.
#[derive(Debug)]
pub struct Namespace {
    name: String,
    ifname: &'static str,
    addr: Ipv4Addr,
}

impl Namespace {
    fn create(name: String, ifname: &'static str, addr: Ipv4Addr) -> Result<Self, Error> {
        ip(&["netns", "add", &name])?;
        // From here on, dropping deletes it.
        let ns = Namespace { name, ifname, addr };
        ip(&["-n", &ns.name, "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// The namespace's name (as `ip netns` knows it).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The address of this namespace's end of the link.
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    /// The name of this namespace's end of the link.
    pub fn ifname(&self) -> &str {
        self.ifname
    }

    /// A command that runs `program` inside the namespace (`ip netns exec NAME program`);
    /// add arguments and run it as any [`Command`]. (`ip netns exec` replaces itself with
    /// `program`, so the child's pid is the program's.)
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }

    /// Runs `program ARGS…` inside the namespace to completion and returns its stdout;
    /// fails if it exits unsuccessfully.
    pub fn run<I, S>(&self, program: impl AsRef<OsStr>, args: I) -> Result<String, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<S> = args.into_iter().collect();
        let mut line: Vec<&OsStr> = vec![program.as_ref()];
        line.extend(args.iter().map(AsRef::as_ref));
        let command = render(OsStr::new("ip netns exec"), &line);
        let out = self
            .command(program.as_ref())
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .map_err(|source| Error::Spawn {
                command: command.clone(),
                source,
            })?;
        if !out.status.success() {
            return Err(Error::Failed {
                command,
                status: out.status,
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Starts `program ARGS…` inside the namespace with stdout piped (stdin null, stderr
    /// inherited); the process is killed when the returned guard is dropped.
    pub fn spawn<I, S>(&self, program: impl AsRef<OsStr>, args: I) -> Result<NsChild, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command(program.as_ref());
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        self.spawn_command(cmd)
    }

    /// Starts a command made by [`Namespace::command`] (stdio as configured there); the
    /// process is killed when the returned guard is dropped.
    pub fn spawn_command(&self, mut cmd: Command) -> Result<NsChild, Error> {
        let line = format!("{cmd:?}");
        let child = cmd.spawn().map_err(|source| Error::Spawn {
            command: line,
            source,
        })?;
        tracing::debug!(namespace = %self.name, pid = child.id(), "spawned");
        Ok(NsChild(Some(child)))
    }

    /// Runs `f` on a new thread that has entered the namespace, and returns its result.
    /// Sockets `f` creates belong to the namespace for their whole life, so a test can bind
    /// or connect there and then use the socket from anywhere (for example through
    /// `tokio::net::TcpListener::from_std`, after `set_nonblocking(true)`). A panic in `f`
    /// is propagated.
    pub fn enter<F, R>(&self, f: F) -> Result<R, Error>
    where
        F: FnOnce() -> R + Send,
        R: Send,
    {
        let enter_err = |source| Error::Enter {
            name: self.name.clone(),
            source,
        };
        let file = File::open(format!("/run/netns/{}", self.name)).map_err(enter_err)?;
        std::thread::scope(|scope| {
            let thread = scope.spawn(|| {
                // SAFETY: `file` is an open namespace file for the whole call; setns only
                // changes this (fresh, short-lived) thread's network namespace.
                if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(f())
            });
            match thread.join() {
                Ok(result) => result.map_err(enter_err),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }

    /// Kills every process in namespace `name` and deletes it; failures are logged.
    fn destroy(name: &str) {
        if let Ok(pids) = ip(&["netns", "pids", name]) {
            for pid in pids
                .split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok())
            {
                // SAFETY: kill has no memory-safety preconditions; these pids are processes
                // inside a namespace only this module's tests use.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        if let Err(e) = ip(&["netns", "del", name]) {
            tracing::warn!(name, error = %e, "deleting a network namespace failed");
        }
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        tracing::debug!(name = %self.name, "deleting network namespace");
        Namespace::destroy(&self.name);
    }
}

/// A process running inside a namespace, killed (and reaped) on drop. Dereferences to the
/// [`Child`].
#[derive(Debug)]
pub struct NsChild(Option<Child>);

impl NsChild {
    /// Kills the process and waits for it.
    pub fn kill(mut self) -> io::Result<ExitStatus> {
        let mut child = self.0.take().expect("present until dropped");
        let _ = child.kill();
        child.wait()
    }
}

impl Deref for NsChild {
    type Target = Child;
    fn deref(&self) -> &Child {
        self.0.as_ref().expect("present until dropped")
    }
}

impl DerefMut for NsChild {
    fn deref_mut(&mut self) -> &mut Child {
        self.0.as_mut().expect("present until dropped")
    }
}

impl Drop for NsChild {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Two fresh network namespaces, `a` ([`ADDR_A`]) and `b` ([`ADDR_B`]), joined by a veth
/// link; loopback is up in both. Dropping it deletes both (and the link).
#[derive(Debug)]
pub struct NetnsPair {
    // Deleting either namespace removes the link.
    a: Namespace,
    b: Namespace,
    partitioned: AtomicBool,
}

impl NetnsPair {
    /// Creates the namespaces and the link.
    pub fn new() -> Result<Self, Error> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        sweep_stale();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let base = format!("{NAME_PREFIX}{}-{n}", std::process::id());
        let a = Namespace::create(format!("{base}-a"), "veth-a", ADDR_A)?;
        let b = Namespace::create(format!("{base}-b"), "veth-b", ADDR_B)?;
        // Created directly inside the namespaces: the names never exist outside them.
        ip(&[
            "link", "add", a.ifname, "netns", &a.name, "type", "veth", "peer", "name", b.ifname,
            "netns", &b.name,
        ])?;
        for ns in [&a, &b] {
            let cidr = format!("{}/{PREFIX}", ns.addr);
            ip(&["-n", &ns.name, "addr", "add", &cidr, "dev", ns.ifname])?;
        }
        let pair = NetnsPair {
            a,
            b,
            partitioned: AtomicBool::new(false),
        };
        pair.link_up()?;
        tracing::debug!(a = %pair.a.name, b = %pair.b.name, "created network namespace pair");
        Ok(pair)
    }

    /// Namespace `a`.
    pub fn a(&self) -> &Namespace {
        &self.a
    }

    /// Namespace `b`.
    pub fn b(&self) -> &Namespace {
        &self.b
    }

    fn set_link(&self, state: &str) -> Result<(), Error> {
        for ns in [&self.a, &self.b] {
            ip(&["-n", &ns.name, "link", "set", "dev", ns.ifname, state])?;
        }
        Ok(())
    }

    /// Takes both ends of the link down: the namespaces lose their route to each other, so
    /// a new connection fails at once (`ENETUNREACH`), and established connections get no
    /// packet through (they retransmit) until [`NetnsPair::link_up`]. For a partition that
    /// silently drops packets instead, see [`NetnsPair::partition`].
    pub fn link_down(&self) -> Result<(), Error> {
        tracing::debug!(a = %self.a.name, "link down");
        self.set_link("down")
    }

    /// Brings both ends of the link (back) up; connections that were waiting go on.
    pub fn link_up(&self) -> Result<(), Error> {
        tracing::debug!(a = %self.a.name, "link up");
        self.set_link("up")
    }

    /// Partitions the namespaces without touching the link: each side's neighbour entry for
    /// the other points at a MAC address no interface has, so every packet leaves and is
    /// dropped on arrival. Connects time out and established connections stall, in both
    /// directions, as behind a dead router, until [`NetnsPair::heal`].
    pub fn partition(&self) -> Result<(), Error> {
        tracing::debug!(a = %self.a.name, "partition");
        for (ns, peer) in [(&self.a, &self.b), (&self.b, &self.a)] {
            ip(&[
                "-n",
                &ns.name,
                "neigh",
                "replace",
                &peer.addr.to_string(),
                "lladdr",
                NOWHERE_MAC,
                "dev",
                ns.ifname,
                "nud",
                "permanent",
            ])?;
        }
        self.partitioned.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Ends a [`NetnsPair::partition`] (a no-op if there is none): the neighbour entries
    /// are removed and resolved afresh.
    pub fn heal(&self) -> Result<(), Error> {
        if !self.partitioned.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
        tracing::debug!(a = %self.a.name, "heal");
        for (ns, peer) in [(&self.a, &self.b), (&self.b, &self.a)] {
            ip(&[
                "-n",
                &ns.name,
                "neigh",
                "del",
                &peer.addr.to_string(),
                "dev",
                ns.ifname,
            ])?;
        }
        Ok(())
    }
}
