//! Test infrastructure for connect-plugin's resilience tests: real faults between a host
//! and a plugin.
//!
//! - [`proxy`]: [`FaultProxy`], a TCP proxy to put between a host and a plugin, injecting
//!   latency, stalls, bandwidth caps and resets, changed at run time through a
//!   [`FaultHandle`].
//! - [`netns`]: pairs of network namespaces joined by a veth link that tests create for
//!   themselves, to cut the network (link down, or a silent partition) between two
//!   "machines".
//!
//! The crate is for tests only (`publish = false`) and does not depend on `connect-plugin`,
//! so the runtime's own tests can use it.
#![warn(missing_docs)]

pub mod netns;
pub mod proxy;

pub use proxy::{Direction, FaultHandle, FaultProxy, NewConnections, Stats, Target};
