//! The connect-plugin host platform: plugins provide services to each other through a
//! host that admits them, keeps a registry of who provides what, and routes calls between
//! them (`../shared/DESIGN.md` §5, "The platform").
//!
//! Pure logic (version matching, provider selection) lives in I/O-free modules, tested
//! without processes; the services and the router build on them.

#![warn(missing_docs, unreachable_pub)]

mod platform;
pub use platform::Platform;

mod host;
pub use host::{HostServer, RunningHost};

pub mod address;
pub mod config;
pub mod control;
pub mod events;
pub mod graph;
pub mod health;
pub mod http;
pub mod identity;
pub mod methods;
pub mod metrics;
pub mod registry;
pub mod router;
pub mod select;
pub mod sweep;
pub mod version;
