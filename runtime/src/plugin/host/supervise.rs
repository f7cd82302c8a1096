//! Supervision: a launched plugin that exits on its own is started again (with backoff, up
//! to the policy's limit), and its clients follow the new process — they call through a
//! [`TransportSwitch`] whose transport is swapped for the new process's, so calls in flight
//! finish on the old one and dispensed services keep working.

use std::process::ExitStatus;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, RwLock};

use tokio::sync::{mpsc, oneshot};

use super::builder::PluginClientBuilder;
use super::{Backend, PluginClient, PluginError, RestartPolicy};
use crate::plugin::reattach::ReattachConfig;
use crate::rpc::{Client, TransportSwitch};

type StopRequest = oneshot::Sender<Option<ExitStatus>>;

/// The handle of a supervised plugin; dropping it stops the supervisor (and the plugin,
/// unless it outlives its host).
pub(super) struct Supervisor {
    stop: mpsc::Sender<StopRequest>,
    state: Arc<Supervised>,
}

impl Supervisor {
    /// The current process's reattach configuration (line, pid, host certificate).
    pub(super) fn reattach_config(&self) -> Option<ReattachConfig> {
        self.state.reattach.read().ok()?.clone()
    }

    /// How many times the plugin was restarted.
    pub(super) fn restarts(&self) -> u32 {
        self.state.restarts.load(Ordering::SeqCst)
    }

    /// Stops the plugin and the supervisor; how the current process exited.
    pub(super) async fn stop(self) -> Option<ExitStatus> {
        let (reply, answer) = oneshot::channel();
        self.stop.send(reply).await.ok()?;
        answer.await.ok().flatten()
    }
}

/// What a supervised plugin's handle and its supervisor share about the current process.
struct Supervised {
    restarts: AtomicU32,
    /// The current process's line and pid (and the host certificate).
    reattach: RwLock<Option<ReattachConfig>>,
}

/// Starts a launched plugin under `policy`: the returned client calls whichever process is
/// current.
pub(super) async fn start_supervised(
    builder: PluginClientBuilder,
    policy: RestartPolicy,
) -> Result<PluginClient, PluginError> {
    let first = builder.clone().start_once().await?;
    let switch = Arc::new(TransportSwitch::new(Arc::new(first.client.clone())));
    let state = Arc::new(Supervised {
        restarts: AtomicU32::new(0),
        reattach: RwLock::new(first.reattach_config()),
    });
    let (stop_tx, stop_rx) = mpsc::channel(1);
    let outer = PluginClient::new(
        first.served.clone(),
        Client::from_transport(switch.clone(), first.client.config().clone()),
        Backend::Supervised(Supervisor {
            stop: stop_tx,
            state: state.clone(),
        }),
    );
    tokio::spawn(supervise(first, builder, policy, switch, state, stop_rx));
    Ok(outer)
}

/// Owns the plugin process: restarts it when it exits on its own, stops it when asked.
async fn supervise(
    mut inner: PluginClient,
    builder: PluginClientBuilder,
    policy: RestartPolicy,
    switch: Arc<TransportSwitch>,
    state: Arc<Supervised>,
    mut stop: mpsc::Receiver<StopRequest>,
) {
    let mut backoff = policy.initial_backoff;
    loop {
        let exited = async {
            match &mut inner.backend {
                Backend::Launched { process, .. } => process.child.wait().await.ok(),
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            reply = stop.recv() => {
                if reply.is_none() && builder.outlives_host() {
                    // The client was dropped, and the plugin outlives it.
                    return;
                }
                let status = inner.kill().await;
                if let Some(reply) = reply {
                    let _ = reply.send(status);
                }
                return;
            }
            status = exited => {
                let done = state.restarts.load(Ordering::SeqCst);
                tracing::warn!(plugin = %inner.served.name, ?status, restarts = done, "the plugin exited on its own");
                if done >= policy.max_restarts {
                    tracing::error!(plugin = %inner.served.name, "restart limit reached; the plugin stays down");
                    inner.backend = Backend::Connected;
                    continue;
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    reply = stop.recv() => {
                        if let Some(reply) = reply {
                            let _ = reply.send(None);
                        }
                        return;
                    }
                }
                backoff = (backoff * 2).min(policy.max_backoff);
                state.restarts.fetch_add(1, Ordering::SeqCst);
                match builder.clone().start_once().await {
                    Ok(next) => {
                        switch.swap(Arc::new(next.client.clone()));
                        if let Ok(mut l) = state.reattach.write() {
                            *l = next.reattach_config();
                        }
                        tracing::info!(plugin = %next.served.name, pid = next.pid(), "plugin restarted");
                        inner = next;
                    }
                    Err(e) => {
                        tracing::error!(plugin = %inner.served.name, error = %e, "restarting the plugin failed");
                    }
                }
            }
        }
    }
}
