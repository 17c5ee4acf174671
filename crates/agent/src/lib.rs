//! The sync agent side: the Samba hook, the directory (Samba over ldapi), the Graph client and
//! the delivery loop, reconciliation, status, the help desk's view, metrics and the doctor, and
//! a Graph-compatible cloud double. Built on `policyc-gate` (queue, audit, trusted policy); it
//! links only the runtime, never the compiler.

pub mod config;
pub mod directory;
pub mod doctor;
pub mod double;
pub mod error;
pub mod gpg;
pub mod graph;
pub mod helpdesk;
pub mod hook;
pub mod hook_health;
pub mod lock;
pub mod mapping;
pub mod marks;
pub mod metrics;
pub mod reconcile;
pub mod replication;
pub mod state;
pub mod status;
pub mod sync;
pub mod webhook;

pub use error::AgentError;
