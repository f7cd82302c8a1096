//! The periodic sweep: a task that, at an interval, calls [`ControlPlane::sweep`] (expired
//! tokens and the plugins that stopped refreshing theirs go away without anyone asking)
//! and [`ControlPlane::poll_health`] (a plugin that stops answering is not routed to). Each
//! round is announced on a watch channel, so a caller (a test, a metrics exporter) waits on
//! the event rather than on the clock.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::control::ControlPlane;

/// The longest interval a host picks by itself.
pub const MAX_DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
/// The shortest interval a host picks by itself.
pub const MIN_DEFAULT_INTERVAL: Duration = Duration::from_millis(10);

/// The interval a host sweeps at unless told otherwise: a quarter of the token lifetime
/// (so a plugin that stopped refreshing is gone at most a quarter-lifetime after its last
/// token expired), at most 30 s and at least 10 ms.
///
/// ```
/// use std::time::Duration;
/// use connect_plugin_platform::sweep::default_interval;
///
/// assert_eq!(default_interval(Duration::from_secs(3600)), Duration::from_secs(30));
/// assert_eq!(default_interval(Duration::from_secs(20)), Duration::from_secs(5));
/// ```
pub fn default_interval(token_ttl: Duration) -> Duration {
    (token_ttl / 4).clamp(MIN_DEFAULT_INTERVAL, MAX_DEFAULT_INTERVAL)
}

/// What the sweeps have done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Rounds run.
    pub rounds: u64,
    /// Plugins removed in all, because their tokens expired.
    pub removed: u64,
    /// Times a plugin started or stopped answering the host's health polls.
    pub reachability_changes: u64,
}

/// A running sweep task. It stops on [`Sweeper::stop`], and is aborted when dropped: it
/// never outlives its owner.
///
/// ```
/// use std::time::Duration;
/// use connect_plugin_platform::Platform;
/// use connect_plugin_platform::control::PlatformConfig;
/// use connect_plugin_platform::sweep::Sweeper;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let platform = Platform::new(PlatformConfig::default());
/// let sweeper = Sweeper::spawn(platform.control_plane().clone(), Duration::from_millis(10));
/// let mut rounds = sweeper.events();
/// rounds.wait_for(|s| s.rounds >= 2).await.unwrap();
/// sweeper.stop().await;
/// # }
/// ```
#[derive(Debug)]
pub struct Sweeper {
    stop: watch::Sender<bool>,
    events: watch::Receiver<Swept>,
    task: JoinHandle<()>,
}

impl Sweeper {
    /// Sweeps `plane` every `interval` (the first round after one interval) on the current
    /// tokio runtime. An `interval` of zero is taken as 1 ms.
    pub fn spawn(plane: Arc<ControlPlane>, interval: Duration) -> Sweeper {
        let interval = interval.max(Duration::from_millis(1));
        let (stop, mut stopped) = watch::channel(false);
        let (events_tx, events) = watch::channel(Swept::default());
        let task = tokio::spawn(async move {
            let mut ticks =
                tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    _ = ticks.tick() => {
                        let removed = plane.sweep() as u64;
                        if removed > 0 {
                            tracing::debug!(removed, "sweep removed plugins whose tokens expired");
                        }
                        let changed = plane.poll_health().await as u64;
                        events_tx.send_modify(|s| {
                            s.rounds += 1;
                            s.removed += removed;
                            s.reachability_changes += changed;
                        });
                    }
                }
            }
        });
        Sweeper { stop, events, task }
    }

    /// A receiver of the sweeps' running totals, updated after every round.
    pub fn events(&self) -> watch::Receiver<Swept> {
        self.events.clone()
    }

    /// Stops sweeping and waits for the task to end (a round in progress finishes).
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        let _ = (&mut self.task).await;
    }
}

impl Drop for Sweeper {
    fn drop(&mut self) {
        self.task.abort();
    }
}
