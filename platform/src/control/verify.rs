//! The address check: before any call is routed to a self-registering plugin, the host
//! calls `PluginIdentityService.VerifyAddress` at the address the plugin declared, with a
//! fresh nonce; the plugin confirms the nonce with `PluginLifecycle.ConfirmAddress`,
//! authenticated by its runtime token, before it answers. Only a plugin that holds the
//! token *and* serves at the address can do both, so no plugin can claim another's address
//! and nobody can claim a plugin's identity by serving at its address.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use connect_plugin::pb::connectplugin::v1 as cp;
use connect_plugin::{Client, ClientConfig, Request, Status};
use subtle::ConstantTimeEq as _;
use tokio::sync::oneshot;

use super::ControlPlane;
use super::members::{AddressCheck, Member};
use crate::identity::RuntimeId;

/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts before the host gives up (the plugin can be admitted again).
const ATTEMPTS: u32 = 3;

/// The nonce sent to a plugin's address, and who waits for its confirmation.
type Sent = (String, Option<oneshot::Sender<()>>);

/// Nonces sent and not yet confirmed, one per plugin being checked.
#[derive(Default)]
pub(crate) struct Pending {
    nonces: Mutex<HashMap<RuntimeId, Sent>>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending").finish_non_exhaustive()
    }
}

impl Pending {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RuntimeId, Sent>> {
        self.nonces.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Confirms `nonce` for `runtime`; false when it is not the nonce sent.
    pub(crate) fn confirm(&self, runtime: &RuntimeId, nonce: &str) -> bool {
        let mut nonces = self.lock();
        let Some((expected, waiter)) = nonces.get_mut(runtime) else {
            return false;
        };
        if !bool::from(expected.as_bytes().ct_eq(nonce.as_bytes())) {
            return false;
        }
        if let Some(w) = waiter.take() {
            let _ = w.send(());
        }
        true
    }
}

fn nonce() -> Result<String, Status> {
    let mut raw = [0u8; 32];
    crate::identity::random(&mut raw)
        .map_err(|_| Status::internal("no system randomness for the address check"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

impl ControlPlane {
    /// Checks `member`'s address in the background; on success its registrations become
    /// routable.
    pub(crate) fn verify_address(self: &Arc<Self>, member: Arc<Member>) {
        let this = self.clone();
        tokio::spawn(async move {
            for attempt in 1..=ATTEMPTS {
                match this.verify_once(&member).await {
                    Ok(()) => {
                        let before = member.effective_health();
                        member.set_address_check(AddressCheck::Verified);
                        let after = member.effective_health();
                        this.registry.set_health(member.runtime_id.as_str(), after);
                        tracing::info!(runtime_id = %member.runtime_id, "plugin address verified");
                        this.events
                            .emit(crate::events::PlatformEvent::AddressVerified {
                                runtime_id: member.runtime_id.to_string(),
                            });
                        this.health_changed(&member.runtime_id, before, after);
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(runtime_id = %member.runtime_id, attempt, error = %e, "plugin address check failed");
                        if this.members.get(&member.runtime_id).is_none() {
                            return;
                        }
                        if attempt < ATTEMPTS {
                            tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt)))
                                .await;
                        }
                    }
                }
            }
            member.set_address_check(AddressCheck::Failed);
            tracing::warn!(runtime_id = %member.runtime_id, "plugin address not verified: nothing is routed to it");
            this.events
                .emit(crate::events::PlatformEvent::AddressFailed {
                    runtime_id: member.runtime_id.to_string(),
                });
        });
    }

    async fn verify_once(&self, member: &Member) -> Result<(), Status> {
        if member.address.is_none() {
            return Err(Status::failed_precondition("no address to check"));
        }
        let nonce = nonce()?;
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .insert(member.runtime_id.clone(), (nonce.clone(), Some(tx)));
        let channel = member
            .channel(self.config.provider_tls.as_ref(), ATTEMPT_TIMEOUT)
            .ok_or_else(|| Status::invalid_argument("the declared address cannot be called"))?;
        let client = cp::PluginIdentityServiceClient::new(Client::with_config(
            channel,
            ClientConfig {
                timeout: Some(ATTEMPT_TIMEOUT),
                ..ClientConfig::default()
            },
        ));
        let answer = cp::PluginIdentityService::verify_address(
            &client,
            Request::new(cp::VerifyAddressRequest {
                runtime_id: member.runtime_id.to_string(),
                nonce,
            }),
        )
        .await;
        self.pending.lock().remove(&member.runtime_id);
        answer?;
        // The plugin confirms before it answers.
        match rx.await {
            Ok(()) => Ok(()),
            Err(_) => Err(Status::permission_denied(
                "the server at the declared address answered without confirming the nonce",
            )),
        }
    }
}
