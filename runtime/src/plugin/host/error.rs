//! [`PluginError`]: why a plugin could not be started, reached or dispensed.

use std::time::Duration;

use crate::protocol::Status;

/// Why a plugin could not be started, reached or dispensed.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The plugin's program could not be started.
    #[error("cannot start plugin {program:?}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// The plugin printed something other than a handshake line first.
    #[error(
        "plugin {name} printed {line:?} before its handshake line ({why}); its stderr ended with: {stderr:?}"
    )]
    BeforeHandshake {
        /// The plugin.
        name: String,
        /// What it printed.
        line: String,
        /// Why that is not a handshake line.
        why: String,
        /// The last lines it wrote on stderr.
        stderr: Vec<String>,
    },
    /// The plugin exited before its handshake line.
    #[error(
        "plugin {name} exited ({status}) before its handshake line; its stderr ended with: {stderr:?}"
    )]
    Exited {
        /// The plugin.
        name: String,
        /// How it exited.
        status: String,
        /// The last lines it wrote on stderr.
        stderr: Vec<String>,
    },
    /// No handshake within the start timeout.
    #[error(
        "plugin {name} did not complete its handshake within {after:?}; its stderr ended with: {stderr:?}"
    )]
    StartTimeout {
        /// The plugin.
        name: String,
        /// The timeout.
        after: Duration,
        /// The last lines it wrote on stderr.
        stderr: Vec<String>,
    },
    /// The handshake line or call failed on versions.
    #[error("plugin {name}: {why}")]
    Incompatible {
        /// The plugin.
        name: String,
        /// What does not match.
        why: String,
    },
    /// The handshake call failed.
    #[error("plugin {name}: handshake failed: {status}")]
    Handshake {
        /// The plugin.
        name: String,
        /// The error.
        status: Status,
    },
    /// The plugin is not among those the handshake returned.
    #[error("plugin {wanted:?} is not served by {name} ({why}); served: {served:?}")]
    NotServed {
        /// The plugin process.
        name: String,
        /// The plugin asked for.
        wanted: String,
        /// Why.
        why: &'static str,
        /// What is served.
        served: Vec<String>,
    },
    /// The endpoint is malformed.
    #[error("invalid plugin endpoint: {0}")]
    Endpoint(String),
    /// Something went wrong talking to the plugin.
    #[error("plugin {name}: {source}")]
    Io {
        /// The plugin.
        name: String,
        /// Why.
        source: std::io::Error,
    },
}
