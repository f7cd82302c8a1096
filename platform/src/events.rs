//! Everything that happens on the platform, as typed events on one subscription (and as
//! `tracing` events where it happens): plugins admitted and removed, address checks, health
//! changes, registrations. A subscriber that falls more than [`EVENT_BUFFER`] events behind
//! is told how many it missed (`Lagged`) instead of holding memory without bound.

use tokio::sync::broadcast;

use crate::select::Health;

/// How many events a slow subscriber may fall behind.
pub const EVENT_BUFFER: usize = 1024;

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlatformEvent {
    /// A plugin was admitted.
    Admitted {
        /// Its runtime id.
        runtime_id: String,
    },
    /// A plugin proved it serves at its address: calls may be routed to it.
    AddressVerified {
        /// Its runtime id.
        runtime_id: String,
    },
    /// A plugin's address check failed for good: nothing is routed to it.
    AddressFailed {
        /// Its runtime id.
        runtime_id: String,
    },
    /// The health routing goes by changed.
    HealthChanged {
        /// The plugin.
        runtime_id: String,
        /// Before.
        from: Health,
        /// Now.
        to: Health,
    },
    /// A plugin registered a service.
    Registered {
        /// The plugin.
        runtime_id: String,
        /// The type.
        service_type: String,
        /// The registration.
        registration_id: String,
    },
    /// A plugin withdrew a registration.
    Unregistered {
        /// The plugin.
        runtime_id: String,
        /// The registration.
        registration_id: String,
    },
    /// A plugin was removed (it left, its tokens expired, or the host removed it).
    Removed {
        /// Its runtime id.
        runtime_id: String,
        /// Why.
        reason: String,
    },
}

/// The platform's event stream.
#[derive(Debug, Clone)]
pub struct Events {
    tx: broadcast::Sender<PlatformEvent>,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            tx: broadcast::Sender::new(EVENT_BUFFER),
        }
    }
}

impl Events {
    /// Every event from now on.
    ///
    /// ```
    /// use connect_plugin_platform::Platform;
    /// use connect_plugin_platform::control::PlatformConfig;
    ///
    /// let platform = Platform::new(PlatformConfig::default());
    /// let mut events = platform.control_plane().events.subscribe();
    /// assert!(events.try_recv().is_err(), "nothing has happened yet");
    /// ```
    pub fn subscribe(&self) -> broadcast::Receiver<PlatformEvent> {
        self.tx.subscribe()
    }

    /// Publishes an event (dropped when nobody listens).
    pub(crate) fn emit(&self, event: PlatformEvent) {
        let _ = self.tx.send(event);
    }
}
