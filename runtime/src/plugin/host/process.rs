//! Launched plugin processes: spawning one with the handshake environment, reading its
//! handshake line, forwarding its output to the host's logs, stopping it (SIGTERM, grace,
//! SIGKILL), and the private directory of its Unix socket.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, ChildStdin};

use super::PluginError;
use super::logs::log_line;
use crate::plugin::handshake::{
    CORE_PROTOCOL_VERSION, ENV_APP_VERSIONS, ENV_CORE_VERSION, ENV_NETWORK, ENV_OUTLIVE_HOST,
    ENV_UNIX_DIR, HandshakeLine, InvalidHandshakeLine, MagicCookie, Network,
};

/// A launched plugin process: killed when dropped, its private directory removed.
pub(super) struct Process {
    pub(super) child: Child,
    /// Left running when dropped ([`PluginClientBuilder::outlive_host`]).
    ///
    /// [`PluginClientBuilder::outlive_host`]: super::PluginClientBuilder::outlive_host
    outlive: bool,
    _stdin: Option<ChildStdin>,
    dir: Option<PathBuf>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    stderr_reader: Option<tokio::task::JoinHandle<()>>,
}

impl Process {
    pub(super) fn stderr_tail(&self) -> Vec<String> {
        self.stderr
            .lock()
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Waits up to `wait` for the process to exit (first sending `SIGTERM` unless it was
    /// asked to shut down), then kills it.
    pub(super) async fn stop(mut self, asked: bool, wait: Duration) -> ExitStatus {
        if !asked {
            if let Some(pid) = self.child.id().and_then(|p| i32::try_from(p).ok()) {
                if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                    let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
                }
            }
        }
        if let Ok(Ok(status)) = tokio::time::timeout(wait, self.child.wait()).await {
            return status;
        }
        tracing::warn!("the plugin did not stop within its grace period; killing it");
        let _ = self.child.start_kill();
        match self.child.wait().await {
            Ok(s) => s,
            Err(_) => std::os::unix::process::ExitStatusExt::from_raw(9),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.outlive && self.child.try_wait().ok().flatten().is_none() {
            // The plugin removes its private directory when it stops.
            tracing::info!(
                pid = self.child.id(),
                "leaving the plugin running (it outlives this host)"
            );
            return;
        }
        let _ = self.child.start_kill();
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

const STDERR_TAIL: usize = 20;

fn private_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt as _;
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "cp-{}-{}-{nanos:x}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    Ok(dir)
}

/// What launching a plugin takes.
pub(super) struct Launch<'a> {
    /// The plugin's name, for logs and errors.
    pub(super) name: &'a str,
    pub(super) program: &'a OsString,
    pub(super) args: &'a [OsString],
    pub(super) envs: &'a [(OsString, OsString)],
    pub(super) cookie: &'a MagicCookie,
    pub(super) app_versions: &'a [u32],
    pub(super) network: Network,
    /// Whether it outlives this host ([`PluginClientBuilder::outlive_host`]).
    ///
    /// [`PluginClientBuilder::outlive_host`]: super::PluginClientBuilder::outlive_host
    pub(super) outlive: bool,
    /// When its handshake line must have come.
    pub(super) deadline: Instant,
    /// The start timeout, for the error when the deadline passes.
    pub(super) start_timeout: Duration,
}

/// Spawns the plugin and reads its handshake line; its later output goes to the logs.
pub(super) async fn launch(spec: Launch<'_>) -> Result<(Process, HandshakeLine), PluginError> {
    let Launch {
        name,
        program,
        args,
        envs,
        cookie,
        app_versions,
        network,
        outlive,
        deadline,
        start_timeout,
    } = spec;
    let io = |source| PluginError::Io {
        name: name.to_owned(),
        source,
    };
    let dir = match network {
        Network::Unix => Some(private_dir().map_err(io)?),
        Network::Tcp => None,
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .env(&cookie.key, &cookie.value)
        .env(ENV_CORE_VERSION, CORE_PROTOCOL_VERSION.to_string())
        .env(
            ENV_APP_VERSIONS,
            app_versions
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(","),
        )
        .env(ENV_NETWORK, network.as_str())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if outlive {
        // No stdin to watch for the host's death; its own process group, so signals meant
        // for the host's (a Ctrl-C at the terminal) do not stop it.
        cmd.env(ENV_OUTLIVE_HOST, "1")
            .stdin(Stdio::null())
            .process_group(0);
    } else {
        // Its stdin closing tells the plugin the host is gone.
        cmd.stdin(Stdio::piped()).kill_on_drop(true);
    }
    if let Some(d) = &dir {
        cmd.env(ENV_UNIX_DIR, d);
    }
    let mut child = cmd.spawn().map_err(|source| {
        if let Some(d) = &dir {
            let _ = std::fs::remove_dir_all(d);
        }
        PluginError::Spawn {
            program: program.to_string_lossy().into_owned(),
            source,
        }
    })?;
    let stderr_tail = Arc::new(Mutex::new(VecDeque::with_capacity(STDERR_TAIL)));
    let mut stderr_reader = None;
    if let Some(err) = child.stderr.take() {
        let tail = stderr_tail.clone();
        let name = name.to_owned();
        stderr_reader = Some(tokio::spawn(async move {
            let mut lines = BufReader::new(err).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                log_line(&name, "stderr", &line);
                if let Ok(mut t) = tail.lock() {
                    if t.len() == STDERR_TAIL {
                        t.pop_front();
                    }
                    t.push_back(line);
                }
            }
        }));
    }
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let mut process = Process {
        child,
        outlive,
        _stdin: stdin,
        dir,
        stderr: stderr_tail,
        stderr_reader,
    };
    let Some(stdout) = stdout else {
        return Err(io(std::io::Error::other("no stdout pipe")));
    };
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout_at(deadline.into(), lines.next_line()).await;
    let line = match first {
        Err(_) => {
            return Err(PluginError::StartTimeout {
                name: name.to_owned(),
                after: start_timeout,
                stderr: process.stderr_tail(),
            });
        }
        Ok(Err(e)) => return Err(io(e)),
        Ok(Ok(None)) => {
            let status = tokio::time::timeout(Duration::from_secs(2), process.child.wait())
                .await
                .ok()
                .and_then(Result::ok)
                .map(|s| s.to_string())
                .unwrap_or_else(|| "closed its stdout".into());
            // The plugin has exited: its stderr reader ends at end of file, having kept
            // everything the plugin wrote.
            if let Some(reader) = process.stderr_reader.take() {
                let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
            }
            return Err(PluginError::Exited {
                name: name.to_owned(),
                status,
                stderr: process.stderr_tail(),
            });
        }
        Ok(Ok(Some(line))) => line,
    };
    let parsed: HandshakeLine =
        line.parse()
            .map_err(|e: InvalidHandshakeLine| PluginError::BeforeHandshake {
                name: name.to_owned(),
                line: e.line.clone(),
                why: e.why.clone(),
                stderr: process.stderr_tail(),
            })?;
    let name = name.to_owned();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            log_line(&name, "stdout", &line);
        }
    });
    Ok((process, parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `script`, which prints a line once its traps are set, and waits for that line.
    async fn process(script: &str) -> Process {
        let mut child = tokio::process::Command::new("sh")
            .args(["-c", script])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("sh runs");
        let mut ready = BufReader::new(child.stdout.take().expect("piped")).lines();
        assert!(
            ready.next_line().await.expect("reads").is_some(),
            "the script starts"
        );
        Process {
            child,
            outlive: false,
            _stdin: None,
            dir: None,
            stderr: Arc::new(Mutex::new(VecDeque::new())),
            stderr_reader: None,
        }
    }

    #[tokio::test]
    async fn a_plugin_that_could_not_be_asked_gets_sigterm_before_sigkill() {
        use std::os::unix::process::ExitStatusExt as _;
        // Exits 7 on SIGTERM; only SIGTERM (not the later SIGKILL) can produce that.
        let p = process("trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done").await;
        let started = Instant::now();
        let status = p.stop(false, Duration::from_secs(10)).await;
        assert_eq!(status.code(), Some(7), "{status:?}");
        assert!(started.elapsed() < Duration::from_secs(5));

        // One that ignores SIGTERM is killed once the wait is over.
        let p = process("trap '' TERM; echo ready; while :; do sleep 0.05; done").await;
        let status = p.stop(false, Duration::from_millis(300)).await;
        assert_eq!(status.signal(), Some(9), "{status:?}");

        // Asked already (Shutdown went through): no SIGTERM, just the wait, then SIGKILL.
        let p = process("trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done").await;
        let status = p.stop(true, Duration::from_millis(300)).await;
        assert_eq!(status.signal(), Some(9), "{status:?}");
    }
}
