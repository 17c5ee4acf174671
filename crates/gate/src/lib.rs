//! What every enforcement point needs around the validator — the Samba hook, the Windows LSA
//! filter, the sync agent, and later the C library, OpenLDAP and PAM: the one [`gate`] (the
//! policy in force with verified reload, the fail-mode decision, audit before yes) and, for a
//! point inside another program's process, all of it behind one call ([`point`]), the deployed
//! policy with its trust checks ([`policy_file`], [`signing`]), the durable sealed queue of accepted changes
//! ([`queue`], [`crypto`], [`sequence`]), the audit log ([`audit`]) and the outcomes it records
//! ([`outcome`]). Builds for Unix and Windows; links only the runtime.

pub mod audit;
pub mod crypto;
pub mod gate;
pub use policyc_runtime::files;
pub mod outcome;
pub mod point;
pub mod policy_file;
pub mod queue;
pub mod sequence;
pub mod signing;
