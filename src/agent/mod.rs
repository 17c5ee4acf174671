//! The sync agent side: the directory hook, the durable encrypted queue, the audit log, the
//! cloud push loop and a Graph-compatible cloud double. It links only the runtime.

pub mod audit;
pub mod config;
pub mod crypto;
pub mod directory;
pub mod double;
pub mod files;
pub mod graph;
pub mod hook;
pub mod lock;
pub mod mapping;
pub mod marks;
pub mod outcome;
pub mod queue;
pub mod sequence;
pub mod signing;
pub mod state;
pub mod status;
pub mod sync;
