//! Process plumbing for plugins that outlive their host: the plugin side stops writing to
//! pipes nobody reads any more, and a host that reattached (and so is not the parent) can
//! still wait for the plugin to exit and kill it.

use std::os::fd::{AsFd as _, OwnedFd};
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, poll};
use rustix::fs::FileType;
use rustix::process::{Pid, PidfdFlags, Signal, pidfd_open, pidfd_send_signal};

/// Watches stdout and stderr on a thread: once the host that read them is gone (the pipe's
/// read end closed), points them at `/dev/null`, so later writes neither fail (`println!`
/// would panic on a broken pipe) nor block. Pipes only; files and terminals are left alone.
pub(crate) fn quiet_when_orphaned() {
    let spawned = std::thread::Builder::new()
        .name("plugin-orphan-watch".into())
        .spawn(|| {
            let mut watched = [is_pipe(Stream::Stdout), is_pipe(Stream::Stderr)];
            while watched.iter().any(|w| *w) {
                let stdout = std::io::stdout();
                let stderr = std::io::stderr();
                let streams = [stdout.as_fd(), stderr.as_fd()];
                let mut fds: Vec<PollFd<'_>> = streams
                    .iter()
                    .zip(watched)
                    .filter(|(_, w)| *w)
                    .map(|(fd, _)| PollFd::new(fd, PollFlags::empty()))
                    .collect();
                // With no events asked for, poll reports only errors and hang-ups: for the
                // write end of a pipe, POLLERR once its reader has closed it.
                if poll(&mut fds, None).is_err() {
                    continue;
                }
                let closed: Vec<bool> = fds
                    .iter()
                    .map(|fd| {
                        fd.revents()
                            .intersects(PollFlags::ERR | PollFlags::HUP | PollFlags::NVAL)
                    })
                    .collect();
                drop(fds);
                let mut at = closed.into_iter();
                for (i, w) in watched.iter_mut().enumerate() {
                    if *w && at.next() == Some(true) {
                        *w = false;
                        let stream = if i == 0 {
                            Stream::Stdout
                        } else {
                            Stream::Stderr
                        };
                        // On failure there is nothing to report it on: the reader is gone.
                        let _ = to_dev_null(stream);
                    }
                }
            }
        });
    if spawned.is_err() {
        tracing::debug!(
            "could not start the orphan watcher; output may fail once the host is gone"
        );
    }
}

#[derive(Clone, Copy)]
enum Stream {
    Stdout,
    Stderr,
}

fn is_pipe(stream: Stream) -> bool {
    let stat = match stream {
        Stream::Stdout => rustix::fs::fstat(std::io::stdout()),
        Stream::Stderr => rustix::fs::fstat(std::io::stderr()),
    };
    stat.is_ok_and(|s| FileType::from_raw_mode(s.st_mode) == FileType::Fifo)
}

fn to_dev_null(stream: Stream) -> std::io::Result<()> {
    let null = std::fs::OpenOptions::new().write(true).open("/dev/null")?;
    let null = OwnedFd::from(null);
    match stream {
        Stream::Stdout => rustix::stdio::dup2_stdout(&null)?,
        Stream::Stderr => rustix::stdio::dup2_stderr(&null)?,
    }
    Ok(())
}

/// A process this host may not be the parent of (a reattached plugin), held by a pidfd so a
/// recycled pid can never be signalled by mistake.
#[derive(Debug)]
pub(crate) struct ProcessHandle {
    pid: u32,
    pidfd: OwnedFd,
}

impl ProcessHandle {
    /// Opens the running process `pid`.
    pub(crate) fn open(pid: u32) -> std::io::Result<ProcessHandle> {
        let raw = i32::try_from(pid)
            .ok()
            .and_then(Pid::from_raw)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "bad pid"))?;
        Ok(ProcessHandle {
            pid,
            pidfd: pidfd_open(raw, PidfdFlags::empty())?,
        })
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Waits up to `timeout` for the process to exit; true if it did.
    pub(crate) async fn wait_exit(&self, timeout: Duration) -> bool {
        let Ok(fd) = self.pidfd.try_clone() else {
            return false;
        };
        // A pidfd becomes readable when its process exits. One bounded wait on the blocking
        // pool keeps this free of `unsafe` fd registration.
        tokio::task::spawn_blocking(move || {
            let timeout = rustix::event::Timespec {
                tv_sec: timeout.as_secs().try_into().unwrap_or(i64::MAX),
                tv_nsec: timeout.subsec_nanos().into(),
            };
            let mut fds = [PollFd::new(&fd, PollFlags::IN)];
            loop {
                match poll(&mut fds, Some(&timeout)) {
                    Ok(n) => return n > 0,
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(_) => return false,
                }
            }
        })
        .await
        .unwrap_or(false)
    }

    /// The same stop sequence as for a launched child: waits up to `wait` for the process
    /// to exit (first sending `SIGTERM` unless it was asked to shut down), then kills it.
    pub(crate) async fn stop(&self, asked: bool, wait: Duration) {
        if !asked {
            let _ = pidfd_send_signal(&self.pidfd, Signal::TERM);
        }
        if !self.wait_exit(wait).await {
            tracing::warn!(
                pid = self.pid,
                "the plugin did not stop within its grace period; killing it"
            );
            let _ = pidfd_send_signal(&self.pidfd, Signal::KILL);
            self.wait_exit(Duration::from_secs(5)).await;
        }
    }
}
