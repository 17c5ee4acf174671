//! The sync agent side: the directory hook, the durable encrypted queue, the audit log, the
//! cloud push loop and a Graph-compatible cloud double. It links only the runtime. With the
//! `queue` feature alone: what any directory hook needs (queue, audit, files, signing), for
//! Unix and Windows.

pub mod audit;
#[cfg(feature = "agent")]
pub mod config;
pub mod crypto;
#[cfg(feature = "agent")]
pub mod directory;
#[cfg(feature = "agent")]
pub mod doctor;
#[cfg(feature = "agent")]
pub mod double;
pub use crate::files;
#[cfg(feature = "agent")]
pub mod gpg;
#[cfg(feature = "agent")]
pub mod graph;
#[cfg(feature = "agent")]
pub mod helpdesk;
#[cfg(feature = "agent")]
pub mod hook;
#[cfg(feature = "agent")]
pub mod hook_health;
#[cfg(feature = "agent")]
pub mod lock;
#[cfg(feature = "agent")]
pub mod mapping;
#[cfg(feature = "agent")]
pub mod marks;
#[cfg(feature = "agent")]
pub mod metrics;
pub mod outcome;
pub mod policy_file;
pub mod queue;
#[cfg(feature = "agent")]
pub mod reconcile;
#[cfg(feature = "agent")]
pub mod replication;
pub mod sequence;
pub mod signing;
#[cfg(feature = "agent")]
pub mod state;
#[cfg(feature = "agent")]
pub mod status;
#[cfg(feature = "agent")]
pub mod sync;
#[cfg(feature = "agent")]
pub mod webhook;
